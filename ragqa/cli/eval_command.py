"""`ragqa eval DATASET_DIR`: retrieval quality on a BEIR-layout folder, through the real pipeline.

The corpus is written out as one note per document and ingested exactly like a
person's notes (same loader, chunker, embedder and store); a document split into
several chunks scores as its best chunk.
"""
from __future__ import annotations

import json
import re
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from ragqa.errors import ConfigError
from ragqa.retrieve.metrics import best_chunk_per_doc, evaluate, percentile

DEPTH = 100  # ranked documents kept per query (recall@100)
CHUNKS_PER_DOC = 3  # chunks fetched per document wanted: a long document fills several ranks


def register(commands) -> None:
    p = commands.add_parser("eval", help="measure retrieval on a BEIR-layout dataset")
    p.add_argument("dataset", help="folder with corpus.jsonl, queries(.test).jsonl, qrels/test.tsv")
    p.add_argument("--mode", choices=["dense", "bm25", "hybrid"], default=None)
    p.add_argument("--rerank", choices=["none", "mmr", "cross-encoder", "llm"], default=None,
                   help="second stage (default: search.rerank)")
    p.add_argument("--model", default=None, help="embedding model (default: embedding.model)")
    p.add_argument("--index", default=None, help="keep the built index here and reuse it next time")
    p.add_argument("--limit", type=int, default=None, help="only the first N queries")
    p.add_argument("--sample", type=int, default=None, help="N queries spread evenly over the set (same every run)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_eval)


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_beir(folder: Path):
    """(corpus {id: {title, text}}, queries {id: text}, qrels {qid: {doc: grade}})."""
    queries_file = next((folder / n for n in ("queries.test.jsonl", "queries.jsonl") if (folder / n).exists()), None)
    needed = [folder / "corpus.jsonl", folder / "qrels" / "test.tsv"]
    missing = [str(p) for p in needed if not p.exists()] + ([] if queries_file else ["queries(.test).jsonl"])
    if missing or queries_file is None:
        raise ConfigError(f"{folder} is not in BEIR layout: missing {', '.join(missing)}")
    corpus = {str(d["_id"]): {"title": d.get("title", ""), "text": d.get("text", "")}
              for d in read_jsonl(folder / "corpus.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) < 3 or not fields[2].strip().lstrip("-").isdigit():
            continue  # the "query-id corpus-id score" header, or a blank line
        qrels.setdefault(fields[0], {})[fields[1]] = int(fields[2])
    queries = {str(q["_id"]): q["text"] for q in read_jsonl(queries_file) if str(q["_id"]) in qrels}
    return corpus, queries, qrels


def spread_sample(queries: dict, n: int) -> dict:
    """n queries taken at even steps through the set, so every part of it is represented.

    >>> list(spread_sample({str(i): "" for i in range(10)}, 3))
    ['0', '3', '6']
    """
    items = list(queries.items())
    if n >= len(items):
        return queries
    return dict(items[i * len(items) // n] for i in range(n))


def note_name(doc_id: str) -> str:
    return re.sub(r"[^\w.-]", "_", doc_id) + ".md"


def write_corpus_as_notes(corpus: dict, folder: Path) -> dict[str, str]:
    """One Markdown note per document (title in front matter); returns {note path: doc id}.

    Unchanged notes are left alone and notes of documents no longer in the corpus are
    deleted, so a kept index (--index) is brought up to date by an incremental ingest.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for doc_id, doc in corpus.items():
        name = note_name(doc_id)
        if name in paths:
            raise ConfigError(f"documents {paths[name]!r} and {doc_id!r} would share the note {name}")
        paths[name] = doc_id
        content = f"---\ntitle: {json.dumps(doc['title'] or doc_id)}\n---\n{doc['text']}\n"
        target = folder / name
        if not target.exists() or target.read_text(encoding="utf-8") != content:
            target.write_text(content, encoding="utf-8")
    for stale in folder.glob("*.md"):
        if stale.name not in paths:
            stale.unlink()
    return paths


def run_queries(searcher, queries: dict, note_to_doc: dict, mode: str) -> tuple[dict, list[float]]:
    """Each query's ranked documents (a document ranks as its best chunk), and each query's time in ms."""
    results, latencies = {}, []
    for qid, text in queries.items():
        started = time.perf_counter()
        hits = searcher.search(text, k=DEPTH * CHUNKS_PER_DOC, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = [(note_to_doc.get(h.chunk.path, h.chunk.path), h.score) for h in hits]
        results[qid] = best_chunk_per_doc(ranked)[:DEPTH]
    return results, latencies


def run_eval(settings, args) -> int:
    dataset = Path(args.dataset)
    corpus, queries, qrels = load_beir(dataset)
    if args.sample:
        queries = spread_sample(queries, args.sample)
    if args.limit:
        queries = dict(list(queries.items())[: args.limit])
    if args.model:
        settings.embedding.model = args.model
    if args.rerank:
        settings.search.rerank = args.rerank
    mode = args.mode or settings.search.mode
    settings.search.candidates = max(settings.search.candidates, DEPTH * CHUNKS_PER_DOC)
    # Without --index the corpus and its index live in a temporary folder that is removed afterwards.
    with (nullcontext(args.index) if args.index else tempfile.TemporaryDirectory(prefix="ragqa-eval-")) as work:
        out, chunks = measure(settings, Path(work), corpus, queries, qrels, mode)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{dataset.name}: {len(corpus)} documents, {chunks or 'no new'} chunks embedded, mode {mode}, "
          f"rerank {settings.search.rerank}, model {settings.embedding.model}")
    print("| metric | value |\n|---|---|")
    for key, value in out.items():
        print(f"| {key} | {value} |")
    return 0


def measure(settings, work: Path, corpus: dict, queries: dict, qrels: dict, mode: str) -> tuple[dict, int]:
    """Ingest the corpus under `work` (incrementally), run the queries; (the --json dict, chunks embedded)."""
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.chat import reranking_model
    from ragqa.models.embedding import make_embedder
    from ragqa.retrieve.search import Searcher

    notes, index = work / "notes", work / "index"
    note_to_doc = write_corpus_as_notes(corpus, notes)
    embedder = make_embedder(settings)
    embedder.load()  # now, so the first query's latency is a query's
    report = ingest_folder(settings, embedder, notes_dir=notes, index_dir=index)
    searcher = Searcher(settings, embedder, index, chat_model=reranking_model(settings))
    try:
        results, latencies = run_queries(searcher, queries, note_to_doc, mode)
    finally:
        searcher.reader.close()
    scores = evaluate({q: qrels[q] for q in queries}, results)
    out = {**{k: round(v, 4) for k, v in scores.items()},
           "p50_ms": round(percentile(latencies, 50), 2), "p95_ms": round(percentile(latencies, 95), 2),
           "queries": len(queries)}
    return out, report.chunks
