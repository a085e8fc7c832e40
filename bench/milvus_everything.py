"""Retrieval quality and search latency: today's store (SQLite + FAISS) against the all-Milvus store
(`store.milvus_holds: everything`, Milvus Lite), on a BEIR folder (SciFact by default), the same chunks and vectors.

    python bench/milvus_everything.py [--model all-MiniLM-L6-v2] [--keep DIR] [--queries N]

The corpus is ingested once into SQLite (kept in --keep, incremental), then its chunks and vectors are copied into
Milvus without embedding them again, in three ways that differ only in what Milvus's BM25 counts:
  - porter:   SQLite FTS5's `porter unicode61` terms (what ragqa writes: ragqa.index.milvus_terms)
  - words:    the raw text, split and lower-cased by Milvus's standard analyzer (no stemming)
Prints nDCG@10 and recall@100 for bm25, dense and hybrid, and the hybrid search's p50/p95, with the machine.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import machine_line

from ragqa.cli.eval_command import load_beir, run_queries, spread_sample, write_corpus_as_notes
from ragqa.config import Settings
from ragqa.index import milvus_reader, milvus_writer
from ragqa.index.queries import read_snapshot
from ragqa.index.store import index_identity, open_writer
from ragqa.ingest.pipeline import ingest_folder
from ragqa.models.embedder import load_embedder
from ragqa.records import Chunk
from ragqa.retrieve.metrics import evaluate, percentile
from ragqa.retrieve.search import Searcher

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def settings_for(work: Path, notes: Path, model: str, store: dict) -> Settings:
    return Settings.model_validate({
        "notes_dir": str(notes), "index_dir": str(work), "llm": {"provider": "none"},
        "embedding": {"model": model}, "store": store, "search": {"candidates": 300}})


def words(texts: list[str]) -> list[str]:
    """What Milvus's standard analyzer makes of raw text: \\w+ runs, lower-cased, no stemming."""
    return [" ".join(re.findall(r"\w+", t.lower())) for t in texts]


def query_words(question: str) -> str | None:
    from ragqa.retrieve.lexical import query_terms
    from ragqa.text import STOPWORDS

    found = [w for w in query_terms(question) if w not in STOPWORDS] or query_terms(question)
    return " ".join(found) or None


def copy_into_milvus(source: Path, target: Settings, embedder) -> int:
    """The SQLite index's chunks and vectors written into an all-Milvus index (nothing embedded again)."""
    writer = open_writer(target.index_path, index_identity(target, embedder, target.index_path), rebuild=True)
    copied = 0
    try:
        with read_snapshot(source) as index:
            records = index.file_records()
            conn = index._conn
            batch = []
            for path, record in sorted(records.items()):
                rows = conn.execute("SELECT ordinal, title, heading, page, text, tags, vector FROM chunks "
                                    "WHERE path = ? ORDER BY ordinal", (path,)).fetchall()
                import json

                import numpy as np
                chunks = [Chunk(path, t, h, x, p, o, json.loads(g)) for o, t, h, p, x, g, _ in rows]
                vectors = np.vstack([np.frombuffer(r[6], np.float32) for r in rows]) if rows else np.zeros((0, 1))
                batch.append((record, chunks, vectors))
                copied += len(chunks)
                if sum(len(c) for _, c, _ in batch) >= 2000:
                    writer.apply(batch)
                    batch = []
            if batch:
                writer.apply(batch)
        writer.publish()  # sealed and indexed, as at the end of an ingest
    finally:
        writer.close()
    return copied


def measure(settings: Settings, embedder, queries, qrels, note_to_doc, mode: str) -> dict:
    searcher = Searcher(settings, embedder)
    results, latencies = run_queries(searcher, queries, note_to_doc, mode)
    scores = evaluate({q: qrels[q] for q in queries}, results)
    return {"ndcg@10": scores["ndcg@10"], "recall@100": scores["recall@100"],
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=str(DATA / "scifact"))
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    parser.add_argument("--keep", default="/tmp/ragqa-bench-milvus-everything", help="work folder, kept")
    parser.add_argument("--queries", type=int, default=None, help="a spread sample of the queries")
    args = parser.parse_args()
    corpus, queries, qrels = load_beir(Path(args.dataset))
    if args.queries:
        queries = spread_sample(queries, args.queries)
    work = Path(args.keep) / Path(args.model).name
    notes = Path(args.keep) / "notes"
    note_to_doc = write_corpus_as_notes(corpus, notes)
    base = settings_for(work / "sqlite", notes, args.model, {})
    embedder = load_embedder(base.embedding)
    started = time.perf_counter()
    report = ingest_folder(base, embedder)
    print(f"# {Path(args.dataset).name}: {len(corpus)} documents, {len(queries)} queries, {args.model}; "
          f"ingest {report.chunks} new chunks in {time.perf_counter() - started:.0f} s; {machine_line()}")
    stores = {"sqlite": base}
    for variant in ("porter", "words"):
        store = {"backend": "milvus", "milvus_holds": "everything", "milvus_collection": f"bench_{variant}"}
        stores[variant] = settings_for(work / f"milvus-{variant}", notes, args.model, store)
    real_terms, real_query = milvus_writer.terms, milvus_reader.query_text
    print("| store | BM25 terms | mode | nDCG@10 | recall@100 | p50 ms | p95 ms | load |")
    print("|---|---|---|---|---|---|---|---|")
    for name, settings in stores.items():
        if name == "words":
            milvus_writer.terms, milvus_reader.query_text = words, query_words
        if name != "sqlite":
            started = time.perf_counter()
            copied = copy_into_milvus(base.index_path, settings, embedder)
            print(f"<!-- copied {copied} chunks into Milvus Lite in {time.perf_counter() - started:.0f} s -->")
        for mode in ("bm25", "dense", "hybrid"):
            got = measure(settings, embedder, queries, qrels, note_to_doc, mode)
            label = {"sqlite": "SQLite + FAISS", "porter": "all-Milvus", "words": "all-Milvus"}[name]
            terms = {"sqlite": "FTS5 porter unicode61", "porter": "FTS5's terms (ragqa)",
                     "words": "raw words (Milvus standard analyzer)"}[name]
            print(f"| {label} | {terms} | {mode} | {got['ndcg@10']:.4f} | {got['recall@100']:.4f} | "
                  f"{got['p50']:.1f} | {got['p95']:.1f} | {machine_line().rsplit('load ', 1)[1]} |", flush=True)
        milvus_writer.terms, milvus_reader.query_text = real_terms, real_query


if __name__ == "__main__":
    main()
