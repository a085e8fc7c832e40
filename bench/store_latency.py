"""Search latency at N chunks (100,000 by default): SQLite + FAISS against all-Milvus (Milvus Lite in-process, and
optionally a Milvus Lite server), at the store, without the query's embedding.

    python bench/store_latency.py [--chunks 100000] [--queries 200] [--server]

The chunks are SciFact's abstracts cut into ~600-character passages and cycled (real term statistics for BM25);
their vectors are seeded random unit vectors (exact FLAT search costs the same whatever the values), and so are
the query vectors. Prints p50/p95 per mode and store, build times, and the machine beside them.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import machine_line

from ragqa.config import Settings
from ragqa.index.lock import write_lock
from ragqa.index.schema import FileRecord
from ragqa.index.store import open_reader, open_writer
from ragqa.records import Chunk, NoteDate, NoteMeta
from ragqa.retrieve.lexical import topic_terms
from ragqa.retrieve.metrics import percentile

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
DIM, PER_FILE = 384, 5
IDENTITY = {"model": "random", "dim": DIM, "query_prefix": "", "passage_prefix": "", "max_tokens": 512,
            "chunk_tokens": 256, "overlap_tokens": 32, "chunker": 1}


def passages(n: int) -> list[str]:
    found = []
    for line in open(DATA / "corpus.jsonl", encoding="utf-8"):
        text = json.loads(line)["text"]
        found += [text[i:i + 600] for i in range(0, len(text), 600) if len(text[i:i + 600]) > 100]
    return [f"{found[i % len(found)]} (copy {i // len(found)})" for i in range(n)]


def unit(rng, rows: int) -> np.ndarray:
    v = rng.standard_normal((rows, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(settings: Settings, texts: list[str], rng) -> float:
    started = time.perf_counter()
    identity = {**IDENTITY, "backend": _backend(settings)}
    note = NoteMeta(NoteDate("2024-01-01", "file time"), NoteDate("2024-01-01", "file time"))
    with write_lock(settings.index_path):
        writer = open_writer(settings.index_path, identity, rebuild=True)
        try:
            for start in range(0, len(texts), 2000):
                files = []
                for f in range(start, min(start + 2000, len(texts)), PER_FILE):
                    path = f"f{f // PER_FILE:06d}.md"
                    record = FileRecord(path, 1, 1, f"{f:064x}", "markdown", "indexed", path, note=note)
                    chunks = [Chunk(path, path, path, texts[i], None, i - f) for i in range(f, min(f + PER_FILE,
                                                                                                  len(texts)))]
                    files.append((record, chunks, unit(rng, len(chunks))))
                writer.apply(files)
            writer.publish()
        finally:
            writer.close()
    return time.perf_counter() - started


def _backend(settings: Settings) -> dict:
    from ragqa.index.identity import backend_of

    return backend_of(settings)


def timed(call, queries) -> tuple[float, float]:
    took = []
    for query in queries:
        started = time.perf_counter()
        call(query)
        took.append((time.perf_counter() - started) * 1000)
    return percentile(took, 50), percentile(took, 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--server", action="store_true", help="also a `python -m milvus_lite server` process")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    texts = passages(args.chunks)
    questions = [json.loads(line)["text"] for line in open(DATA / "queries.jsonl", encoding="utf-8")][:args.queries]
    vectors = unit(rng, len(questions))
    work = Path(tempfile.mkdtemp(prefix="ragqa-latency-"))
    stores = {"SQLite + FAISS": {}, "all-Milvus (Milvus Lite in-process)": {
        "backend": "milvus", "milvus_holds": "everything"}}
    server = None
    if args.server:
        port = 19700 + int(rng.integers(0, 200))
        server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(work / "server"),
                                   "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(5)
        stores["all-Milvus (Milvus Lite server)"] = {"backend": "milvus", "milvus_holds": "everything",
                                                      "milvus_uri": f"http://127.0.0.1:{port}"}
    print(f"# {args.chunks} chunks, {len(questions)} queries, k=10, hybrid 300 deep; {machine_line()}")
    print("| store | build s | dense p50/p95 ms | BM25 p50/p95 ms | hybrid p50/p95 ms | load |")
    print("|---|---|---|---|---|---|")
    try:
        for number, (name, store) in enumerate(stores.items()):
            settings = Settings.model_validate({"index_dir": str(work / f"store{number}"), "store": store})
            built = build(settings, texts, rng)
            reader = open_reader(settings.index_path)
            try:
                pairs = list(zip(questions, vectors, strict=True))
                dense = timed(lambda q: reader.dense(q[1], 10), pairs)
                lexical = timed(lambda q: reader.bm25(topic_terms(q[0]), 10), pairs)
                hybrid = timed(lambda q: reader.hybrid(topic_terms(q[0]), q[1], 10, 300, 5), pairs)
            finally:
                reader.close()
            cells = " | ".join(f"{a:.1f} / {b:.1f}" for a, b in (dense, lexical, hybrid))
            print(f"| {name} | {built:.0f} | {cells} | {machine_line().rsplit('load ', 1)[1]} |", flush=True)
    finally:
        if server:
            server.terminate()
            server.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
