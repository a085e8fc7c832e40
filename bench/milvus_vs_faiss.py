"""FAISS vs Milvus Lite on SciFact: ingest time, store build/reopen time, query latency, same answers?

    python bench/milvus_vs_faiss.py [--dataset ../shared/data/scifact] [--model all-MiniLM-L6-v2] [--append docs/PERFORMANCE.md]
    python bench/milvus_vs_faiss.py --encode      # encode rate (chunks/s) on 1 and 2 threads, for docs/SCALING.md

Two measurements, printed as Markdown tables:
1. End to end, as a user sees it: the corpus is written as notes (`write_corpus_as_notes`) and ingested
   by `ingest_folder` once per backend (each run embeds; the embedding dominates), then the test queries go
   through `Searcher` in dense mode (query embedding included), with nDCG@10 to show both rank alike.
2. Backend only: the vectors of that ingest are read back from SQLite ONCE and loaded into each backend
   (build = create + add + save; reopen = load), and the same query vectors are searched directly, so only
   the backend's cost is timed (k=10, k=300 as in `ragqa eval`, and k=10 filtered to 10% of the chunks).
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)  # not bench/: its ingest.py would shadow the ingest package

import numpy as np  # noqa: E402

SCIFACT = REPO.parent / "shared" / "data" / "scifact"
BACKENDS = {"faiss": {}, "milvus": {"uri": "milvus.db", "collection": "bench"}}


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    from ragqa.metrics import percentile

    return percentile(values, q)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def end_to_end(corpus, queries, qrels, work: Path, model: str) -> dict:
    from ingest.pipeline import ingest_folder
    from ragqa.cli.eval_command import run_queries, write_corpus_as_notes
    from ragqa.config import Settings
    from ragqa.embedder import load_embedder
    from ragqa.metrics import evaluate
    from ragqa.search import Searcher

    note_to_doc = write_corpus_as_notes(corpus, work / "notes")
    out = {}
    for backend in BACKENDS:
        settings = Settings.model_validate({
            "notes_dir": str(work / "notes"), "index_dir": str(work / backend), "embedding": {"model": model},
            "store": {"backend": backend}, "search": {"candidates": 300}, "llm": {"provider": "none"}})
        embedder = load_embedder(settings.embedding)
        embedder.embed_passages(["warm up"] * 4)
        report = ingest_folder(settings, embedder)
        searcher = Searcher(settings, embedder)
        results, latencies = run_queries(searcher, queries, note_to_doc, "dense")
        out[backend] = {"chunks": report.chunks, "ingest_s": report.seconds, "load": load_avg(),
                        "ndcg": evaluate(qrels, results)["ndcg@10"], "p50": pct(latencies, 50), "p95": pct(latencies, 95),
                        "index": work / backend, "embedder": embedder}
    return out


def backend_only(index: Path, query_vectors: np.ndarray, work: Path) -> dict:
    from ragqa.vector_store import backend_class

    conn = sqlite3.connect(index / "index.sqlite")
    rows = conn.execute("SELECT id, vector FROM chunks ORDER BY id").fetchall()
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    vectors = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
    allowed = np.sort(np.asarray(random.Random(0).sample(ids.tolist(), len(ids) // 10), dtype=np.int64))
    out = {}
    for backend, options in BACKENDS.items():
        cls, folder = backend_class(backend), work / f"only-{backend}"
        folder.mkdir()
        started = time.perf_counter()
        store = cls(folder, vectors.shape[1], **options)
        store.add(ids, vectors)
        store.save(1)
        build = time.perf_counter() - started
        started = time.perf_counter()
        store = cls.load(folder, vectors.shape[1], 1, **options)
        reopen = time.perf_counter() - started
        row = {"build_s": build, "reopen_s": reopen, "bytes": folder_bytes(folder), "load": load_avg(), "top10": []}
        for name, k, only in (("k10", 10, None), ("k300", 300, None), ("filtered", 10, allowed)):
            times = []
            for q in query_vectors:
                started = time.perf_counter()
                found, _ = store.search(q, k, only)
                times.append((time.perf_counter() - started) * 1000)
                if name == "k10":
                    row["top10"].append(found.tolist())
            row[name] = (pct(times, 50), pct(times, 95))
        out[backend] = row
    same = sum(a == b for a, b in zip(out["faiss"]["top10"], out["milvus"]["top10"]))
    out["same_top10"] = same / len(query_vectors)
    return out


def encode_rates(texts: list[str]) -> list[tuple[str, int, float]]:
    import torch

    from ragqa.config import EmbeddingSettings
    from ragqa.embedder import load_embedder

    rows = []
    for model in ("all-MiniLM-L6-v2", "intfloat/multilingual-e5-small"):
        embedder = load_embedder(EmbeddingSettings(model=model, bf16=True))
        for threads in (1, 2):
            torch.set_num_threads(threads)
            embedder.embed_passages(texts[:32])
            started = time.perf_counter()
            embedder.embed_passages(texts)
            rows.append((model, threads, len(texts) / (time.perf_counter() - started), load_avg()))
    return rows


def versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{p} {version(p)}" for p in ("faiss-cpu", "pymilvus", "milvus-lite"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=str(SCIFACT))
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--append", help="append the tables to this Markdown file under '## FAISS vs Milvus Lite'")
    parser.add_argument("--encode", action="store_true", help="only measure encode rates on 1 and 2 threads")
    parser.add_argument("--encode-texts", type=int, default=512)
    args = parser.parse_args()
    from ragqa.cli.eval_command import load_beir

    corpus, queries, qrels = load_beir(Path(args.dataset))
    work = Path(tempfile.mkdtemp(prefix="ragqa-milvus-bench-"))
    head = f"{Path(args.dataset).name}, {args.model} (bf16), {os.cpu_count()} cores, {platform.python_version()}, " \
           f"{versions()}, {time.strftime('%Y-%m-%d')}"
    if args.encode:
        texts = [f"{d['title']}\n{d['text']}" for d in list(corpus.values())[: args.encode_texts]]
        print(f"\nencode rate, {len(texts)} SciFact passages, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}\n")
        print("| model (bf16) | torch threads | chunks/s | load avg 1/5/15 min |\n|---|---|---|---|")
        for model, threads, rate, load in encode_rates(texts):
            print(f"| {model} | {threads} | {rate:.1f} | {load} |")
        return
    e2e = end_to_end(corpus, queries, qrels, work, args.model)
    embedder = e2e["faiss"]["embedder"]
    query_vectors = np.vstack([embedder.embed_query(t) for t in queries.values()])
    only = backend_only(e2e["faiss"]["index"], query_vectors, work)
    lines = [f"{head}; {len(queries)} test queries.", "",
             "End to end (`ingest_folder` per backend, embedding included; `Searcher` dense, k=300, query embedding included):", "",
             "| backend | chunks | ingest s | chunks/s | nDCG@10 | query p50 ms | query p95 ms | load avg |",
             "|---|---|---|---|---|---|---|---|"]
    for backend, r in e2e.items():
        lines.append(f"| {backend} | {r['chunks']} | {r['ingest_s']:.1f} | {r['chunks'] / r['ingest_s']:.0f} | "
                     f"{r['ndcg']:.4f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['load']} |")
    lines += ["", "Backend only (the same vectors, embedded once, loaded into each; search with precomputed query vectors):", "",
              "| backend | build s | reopen s | on disk MB | k=10 p50/p95 ms | k=300 p50/p95 ms | k=10, 10% filter p50/p95 ms | load avg |",
              "|---|---|---|---|---|---|---|---|"]
    for backend in BACKENDS:
        r = only[backend]
        cells = " | ".join(f"{r[n][0]:.2f} / {r[n][1]:.2f}" for n in ("k10", "k300", "filtered"))
        lines.append(f"| {backend} | {r['build_s']:.2f} | {r['reopen_s']:.2f} | {r['bytes'] / 1e6:.1f} | {cells} | {r['load']} |")
    lines += ["", f"Same top-10 ids in the same order for {only['same_top10']:.1%} of queries."]
    table = "\n".join(lines)
    print("\n" + table)
    if args.append:
        with open(args.append, "a", encoding="utf-8") as handle:
            handle.write(f"\n## FAISS vs Milvus Lite\n\n`python bench/milvus_vs_faiss.py --append {args.append}`\n\n{table}\n")


if __name__ == "__main__":
    main()
