"""Searching collections together: does fusing two collections' results lose quality against one index?

    python bench/collections_fusion.py [--dataset scifact] [--model intfloat/multilingual-e5-small]

The dataset's corpus is split into two collections (documents by a hash of their id, so the split is the same
every run) and also kept whole; all three are ingested through the real pipeline (kept in
~/.cache/ragqa/collections-bench, so a second run only searches). Every query is run against the whole index
and against both halves searched together, by each rule below, and each is scored with nDCG@10 and
recall@10 (hybrid search, the shipped settings). ragqa ships the first rule (ragqa.retrieve.across).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench.machine import machine_line  # noqa: E402
from ragqa.cli.eval_command import CHUNKS_PER_DOC, DEPTH, load_beir, write_corpus_as_notes  # noqa: E402
from ragqa.config import Settings  # noqa: E402
from ragqa.ingest.pipeline import ingest_folder  # noqa: E402
from ragqa.models.embedder import load_embedder  # noqa: E402
from ragqa.records import Hit  # noqa: E402
from ragqa.retrieve.across import CollectionsSearcher, fuse_collections, tagged  # noqa: E402
from ragqa.retrieve.metrics import best_chunk_per_doc, evaluate  # noqa: E402
from ragqa.retrieve.search import Searcher  # noqa: E402

DATA = REPO.parent / "shared" / "data"
KEPT = Path("~/.cache/ragqa/collections-bench").expanduser()
WANTED = DEPTH * CHUNKS_PER_DOC


def half(doc_id: str) -> str:
    return "a" if hashlib.sha256(doc_id.encode()).digest()[0] % 2 == 0 else "b"


def by_score(lists: dict[str, list[Hit]], k: int) -> list[Hit]:
    """The lost alternative: each collection's own (hybrid) scores compared directly."""
    hits = [h for name, found in lists.items() for h in tagged(found, name)]
    return sorted(hits, key=lambda h: -h.score)[:k]


LOST = {  # each collection searched on its own (hybrid), then their results combined
    "each collection's results, rrf k = 5": lambda lists, k: fuse_collections(lists, k, rrf_k=5),
    "each collection's results, rrf k = 60": lambda lists, k: fuse_collections(lists, k, rrf_k=60),
    "each collection's results, own scores compared": by_score,
}
SHIPPED = "dense lists merged per model, BM25 lists merged, then rrf (shipped)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="scifact")
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    args = parser.parse_args()
    corpus, queries, qrels = load_beir(DATA / args.dataset)
    settings = Settings.model_validate({"embedding": {"model": args.model}, "llm": {"provider": "none"},
                                        "search": {"candidates": WANTED}})
    embedder = load_embedder(settings.embedding)
    parts = {"whole": corpus, "a": {}, "b": {}}
    for doc_id, doc in corpus.items():
        parts[half(doc_id)][doc_id] = doc
    work = KEPT / f"{args.dataset}-{Path(args.model).name}"
    searchers, note_to_doc = {}, {}
    for name, docs in parts.items():
        note_to_doc.update(write_corpus_as_notes(docs, work / name / "notes"))
        ingest_folder(settings, embedder, notes_dir=work / name / "notes", index_dir=work / name / "index")
        searchers[name] = Searcher(settings, embedder, work / name / "index")

    def ranked(hits: list[Hit]) -> list[tuple[str, float]]:
        return best_chunk_per_doc([(note_to_doc[h.chunk.path], h.score) for h in hits])[:DEPTH]

    together = CollectionsSearcher({"a": searchers["a"], "b": searchers["b"]}, top_k=5, rrf_k=5)
    runs: dict[str, dict] = {"one index (the reference)": {}, SHIPPED: {}, **{rule: {} for rule in LOST}}
    for qid, text in queries.items():
        runs["one index (the reference)"][qid] = ranked(searchers["whole"].search(text, k=WANTED))
        runs[SHIPPED][qid] = ranked(together.search(text, k=WANTED))
        lists = {name: searchers[name].search(text, k=WANTED) for name in ("a", "b")}
        for rule, fuse in LOST.items():
            runs[rule][qid] = ranked(fuse(lists, WANTED))
    print(f"\n### {args.dataset} split into two collections ({len(parts['a'])} + {len(parts['b'])} documents), "
          f"{len(queries)} queries, {Path(args.model).name}, hybrid\n\n{machine_line()}\n")
    print("| searched as | nDCG@10 | recall@10 | nDCG@10 against one index |\n|---|---|---|---|")
    reference = None
    for name, results in runs.items():
        scores = evaluate(qrels, results)
        reference = scores["ndcg@10"] if reference is None else reference
        print(f"| {name} | {scores['ndcg@10']:.4f} | {scores['recall@10']:.4f} | "
              f"{scores['ndcg@10'] - reference:+.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
