"""FAISS vs Milvus Lite on SciFact: ingest time, store build/reopen time, query latency, same answers?

    python bench/milvus_vs_faiss.py [--dataset ../shared/data/scifact] [--model all-MiniLM-L6-v2] [--append docs/PERFORMANCE.md]
    python bench/milvus_vs_faiss.py --encode      # encode rate (chunks/s) on 1 and 2 threads, for docs/SCALING.md

The corpus is embedded ONCE (the first, FAISS, ingest with the real model); later ingests get the same
vectors from a memo, so they time ragqa's pipeline and the store, not the model:
1. End to end: `write_corpus_as_notes` + `ingest_folder` per backend with memoised vectors, then the test
   queries through `Searcher` in dense mode (query embedding included), with nDCG@10 to show both rank alike.
2. Backend only: the vectors are read back from SQLite and loaded into each backend (build = create + add +
   save; cold reopen = a new process that imports the backend, loads it and searches once), then the same query
   vectors are searched directly (k=10, k=300 as in `ragqa eval`, and k=10 filtered to 10% of the chunks).
   FAISS is also timed with one OpenMP thread: with torch in the process, FAISS's default threads are slow.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import subprocess
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


class MemoEmbedder:
    """The real embedder, remembering each passage's vector so a second ingest skips the model."""

    def __init__(self, embedder):
        self.embedder, self.memo, self.seconds = embedder, {}, 0.0

    def __getattr__(self, name):
        return getattr(self.embedder, name)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            started = time.perf_counter()
            self.memo.update(zip(todo, self.embedder.embed_passages(todo)))
            self.seconds += time.perf_counter() - started
        return np.vstack([self.memo[t] for t in texts]) if texts else self.embedder.embed_passages([])


def end_to_end(corpus, queries, qrels, work: Path, model: str) -> dict:
    from ingest.pipeline import ingest_folder
    from ragqa.cli.eval_command import run_queries, write_corpus_as_notes
    from ragqa.config import Settings
    from ragqa.embedder import load_embedder
    from ragqa.metrics import evaluate
    from ragqa.search import Searcher

    note_to_doc = write_corpus_as_notes(corpus, work / "notes")
    embedder = None
    out = {}
    for backend in ("faiss", *BACKENDS):  # the first run embeds; the next two reuse its vectors
        settings = Settings.model_validate({
            "notes_dir": str(work / "notes"), "index_dir": str(work / f"{backend}-{len(out)}"),
            "embedding": {"model": model}, "store": {"backend": backend}, "search": {"candidates": 300},
            "llm": {"provider": "none"}})
        if embedder is None:
            embedder = MemoEmbedder(load_embedder(settings.embedding))
            embedder.embed_query("warm up")
        report = ingest_folder(settings, embedder)
        if len(out) == 0:
            out["embed"] = {"chunks": report.chunks, "ingest_s": report.seconds, "model_s": embedder.seconds,
                            "load": load_avg(), "index": settings.index_path, "embedder": embedder}
            continue
        searcher = Searcher(settings, embedder)
        results, latencies = run_queries(searcher, queries, note_to_doc, "dense")
        out[backend] = {"chunks": report.chunks, "ingest_s": report.seconds, "load": load_avg(),
                        "ndcg": evaluate(qrels, results)["ndcg@10"], "p50": pct(latencies, 50), "p95": pct(latencies, 95)}
    return out


def cold_reopen(backend: str, folder: Path, query: np.ndarray) -> float:
    """Seconds for a new process to import the backend, load the saved store and search once."""
    np.save(folder.parent / "query.npy", query)
    code = f"""
import json, sys, time
sys.path[0] = {str(REPO)!r}
import numpy as np
query = np.load({str(folder.parent / "query.npy")!r})
started = time.perf_counter()
from ragqa.vector_store import backend_class
store = backend_class({backend!r}).load({str(folder)!r}, {len(query)}, 1, **{BACKENDS[backend]!r})
store.search(query, 10)
print(json.dumps(time.perf_counter() - started))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"cold reopen of {backend} failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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
        if hasattr(store, "close"):
            store.close()  # Milvus Lite: one process at a time, so hand the file to the reopening process
        reopen = cold_reopen(backend, folder, query_vectors[0])
        store = cls.load(folder, vectors.shape[1], 1, **options)
        runs = [(backend, None)] + ([("faiss, 1 OpenMP thread", 1)] if backend == "faiss" else [])
        for label, threads in runs:
            if threads:
                import faiss

                faiss.omp_set_num_threads(threads)
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
            out[label] = row
    same = sum(a == b for a, b in zip(out["faiss"]["top10"], out["milvus"]["top10"]))
    out["same_top10"] = same / len(query_vectors)
    return out


def encode_rates(texts: list[str]) -> list[tuple]:
    """(model, threads, chunks per wall second, chunks per CPU second, load) with chunk-sized inputs.

    CPU seconds (all threads of this process) are what a shared, busy machine still measures fairly:
    chunks per CPU second is the rate per core that a worker fleet would get.
    """
    import torch

    from ragqa.config import EmbeddingSettings
    from ragqa.embedder import load_embedder

    rows = []
    for model in ("all-MiniLM-L6-v2", "intfloat/multilingual-e5-small"):
        embedder = load_embedder(EmbeddingSettings(model=model, bf16=True))
        embedder.model.max_seq_length = 256  # ragqa's chunks are <= 256 tokens (chunking.chunk_tokens)
        for threads in (1, 2):
            torch.set_num_threads(threads)
            embedder.embed_passages(texts[:8])
            wall, cpu = time.perf_counter(), time.process_time()
            embedder.embed_passages(texts)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rows.append((model, threads, len(texts) / wall, len(texts) / cpu, load_avg()))
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
        print("| model (bf16), 256-token inputs | torch threads | chunks/s (wall) | chunks per CPU second | "
              "load avg 1/5/15 min |\n|---|---|---|---|---|")
        for model, threads, wall, cpu, load in encode_rates(texts):
            print(f"| {model} | {threads} | {wall:.1f} | {cpu:.1f} | {load} |")
        return
    e2e = end_to_end(corpus, queries, qrels, work, args.model)
    embedder, first = e2e["embed"]["embedder"], e2e["embed"]
    query_vectors = np.vstack([embedder.embed_query(t) for t in queries.values()])
    only = backend_only(first["index"], query_vectors, work)
    lines = [f"{head}; {len(queries)} test queries.", "",
             f"One embedding pass (the first ingest, FAISS): {first['chunks']} chunks in {first['ingest_s']:.0f} s, "
             f"{first['model_s']:.0f} s of it in the model ({first['chunks'] / first['model_s']:.1f} chunks/s; "
             f"load avg {first['load']}).", "",
             "End to end with the same vectors memoised (`ingest_folder` per backend, so pipeline + store only; "
             "`Searcher` dense, k=300, query embedding included):", "",
             "| backend | chunks | ingest s (no model) | chunks/s | nDCG@10 | query p50 ms | query p95 ms | load avg |",
             "|---|---|---|---|---|---|---|---|"]
    for backend in BACKENDS:
        r = e2e[backend]
        lines.append(f"| {backend} | {r['chunks']} | {r['ingest_s']:.1f} | {r['chunks'] / r['ingest_s']:.0f} | "
                     f"{r['ndcg']:.4f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['load']} |")
    lines += ["", "Backend only (the same vectors loaded into each; search with precomputed query vectors):", "",
              "| backend | build s | cold reopen s | on disk MB | k=10 p50/p95 ms | k=300 p50/p95 ms | k=10, 10% filter p50/p95 ms | load avg |",
              "|---|---|---|---|---|---|---|---|"]
    for label, r in only.items():
        if label == "same_top10":
            continue
        cells = " | ".join(f"{r[n][0]:.2f} / {r[n][1]:.2f}" for n in ("k10", "k300", "filtered"))
        lines.append(f"| {label} | {r['build_s']:.2f} | {r['reopen_s']:.2f} | {r['bytes'] / 1e6:.1f} | {cells} | {r['load']} |")
    lines += ["", f"Same top-10 ids in the same order for {only['same_top10']:.1%} of queries."]
    table = "\n".join(lines)
    print("\n" + table)
    if args.append:
        with open(args.append, "a", encoding="utf-8") as handle:
            handle.write(f"\n## FAISS vs Milvus Lite\n\n`python bench/milvus_vs_faiss.py --append {args.append}`\n\n{table}\n")


if __name__ == "__main__":
    main()
