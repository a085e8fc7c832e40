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
from pathlib import Path

from ragqa.errors import ConfigError
from ragqa.metrics import best_chunk_per_doc, evaluate, percentile

DEPTH = 100  # ranked documents kept per query (recall@100)


def register(commands) -> None:
    p = commands.add_parser("eval", help="measure retrieval on a BEIR-layout dataset")
    p.add_argument("dataset", help="folder with corpus.jsonl, queries(.test).jsonl, qrels/test.tsv")
    p.add_argument("--mode", choices=["dense", "bm25", "hybrid"], default=None)
    p.add_argument("--model", default=None, help="embedding model (default: embedding.model)")
    p.add_argument("--index", default=None, help="keep the built index here and reuse it next time")
    p.add_argument("--limit", type=int, default=None, help="only the first N queries")
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
    if missing:
        raise ConfigError(f"{folder} is not in BEIR layout: missing {', '.join(missing)}")
    corpus = {str(d["_id"]): {"title": d.get("title", ""), "text": d.get("text", "")} for d in read_jsonl(folder / "corpus.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, doc, grade = line.split("\t")[:3]
        qrels.setdefault(qid, {})[doc] = int(grade)
    queries = {str(q["_id"]): q["text"] for q in read_jsonl(queries_file) if str(q["_id"]) in qrels}
    return corpus, queries, qrels


def note_name(doc_id: str) -> str:
    return re.sub(r"[^\w.-]", "_", doc_id) + ".md"


def write_corpus_as_notes(corpus: dict, folder: Path) -> dict[str, str]:
    """One Markdown note per document (title in front matter); returns {note path: doc id}."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for doc_id, doc in corpus.items():
        name = note_name(doc_id)
        paths[name] = doc_id
        content = f"---\ntitle: {json.dumps(doc['title'] or doc_id)}\n---\n{doc['text']}\n"
        target = folder / name
        if not target.exists() or target.read_text(encoding="utf-8") != content:
            target.write_text(content, encoding="utf-8")
    return paths


def run_queries(searcher, queries: dict, note_to_doc: dict, mode: str) -> tuple[dict, list[float]]:
    results, latencies = {}, []
    for qid, text in queries.items():
        started = time.perf_counter()
        hits = searcher.search(text, k=DEPTH * 3, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = [(note_to_doc.get(h.chunk.path, h.chunk.path), h.score) for h in hits]
        results[qid] = best_chunk_per_doc(ranked)[:DEPTH]
    return results, latencies


def run_eval(settings, args) -> int:
    from ingest.pipeline import ingest_folder
    from ragqa.embedder import load_embedder
    from ragqa.search import Searcher

    dataset = Path(args.dataset)
    corpus, queries, qrels = load_beir(dataset)
    if args.limit:
        queries = dict(list(queries.items())[: args.limit])
    if args.model:
        settings.embedding.model = args.model
    mode = args.mode or settings.search.mode
    settings.search.candidates = max(settings.search.candidates, DEPTH * 3)
    work = Path(args.index) if args.index else Path(tempfile.mkdtemp(prefix="ragqa-eval-"))
    notes, index = work / "notes", work / "index"
    note_to_doc = write_corpus_as_notes(corpus, notes)
    embedder = load_embedder(settings.embedding)
    report = ingest_folder(settings, embedder, notes_dir=notes, index_dir=index)
    searcher = Searcher(settings, embedder, index)
    results, latencies = run_queries(searcher, queries, note_to_doc, mode)
    scores = evaluate({q: qrels[q] for q in queries}, results)
    out = {**{k: round(v, 4) for k, v in scores.items()},
           "p50_ms": round(percentile(latencies, 50), 2), "p95_ms": round(percentile(latencies, 95), 2),
           "queries": len(queries)}
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{dataset.name}: {len(corpus)} documents, {report.chunks or 'no new'} chunks embedded, "
          f"mode {mode}, model {settings.embedding.model}")
    print("| metric | value |\n|---|---|")
    for key, value in out.items():
        print(f"| {key} | {value} |")
    return 0
