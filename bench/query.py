"""Retrieval latency against index size: query embedding (real model, real queries), vector search
(FAISS, the index type ragqa picks for that size) and metadata fetch (the chunk rows from SQLite),
with the reader's memory, build time and recall@10 against exact search.

    python bench/query.py [--sizes 10000 100000 1000000] [--queries 200] [--chart docs/.images/query_latency.png]

The index folder is real (ragqa's SQLite schema, one row per chunk with text and vector, the FAISS file
ragqa saves and loads); the vectors are synthetic (`synthetic_batches`), the texts are SciFact
abstracts reused. Each size is measured in a fresh child process (model + index, as the app holds them).
Goals: p50 < 25 ms at 100k chunks, < 100 ms at 1M. Prints Markdown tables.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Idle OpenMP threads sleep instead of spinning: on a shared, busy machine spinning costs ~15x CPU per
# query embedding (docs/PERFORMANCE.md). Run with OMP_WAIT_POLICY=ACTIVE to see torch's default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)  # not bench/: bench/ingest.py would shadow the ingest package
SCIFACT = REPO.parent / "shared" / "data" / "scifact"

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from bench.machine import load_average, machine_line, rss_mb  # noqa: E402
from ragqa.retrieve.metrics import percentile  # noqa: E402

DIM = 384
BATCH = 50_000
CHUNKS_PER_FILE = 8
IDENTITY = {"model": "synthetic", "dim": DIM, "backend": {"name": "faiss"}}


def synthetic_batches(n: int, seed: int = 0, batch: int = BATCH):
    """Normalised 384-d vectors shaped like text embeddings, in batches (so 1M never sits twice in memory).

    A point is a topic centre (one topic per 1000 points) plus a larger 32-dimensional continuous part,
    so neighbours are not just "same topic" and IVF has to search several lists. At 4.6k vectors and
    64 lists this is harder for IVF than 4.6k real E5 vectors with real queries (recall@10 at nprobe 8:
    0.946 here, 0.982 real; docs/PERFORMANCE.md), so parameters chosen on it are on the safe side.
    """
    space = _space(n, seed)
    for start in range(0, n, batch):
        yield _draw(np.random.default_rng([seed, 1, start]), min(batch, n - start), *space)


def synthetic_queries(n_index: int, count: int, seed: int = 0) -> np.ndarray:
    """Queries from the same distribution as `synthetic_batches(n_index, seed)`, not in the index."""
    return _draw(np.random.default_rng([seed, 2]), count, *_space(n_index, seed))


def _space(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 0])
    basis = rng.standard_normal((32, DIM)).astype(np.float32) / np.sqrt(32)
    centres = rng.standard_normal((max(8, n // 1000), DIM)).astype(np.float32) * 0.5
    return basis, centres


def _draw(rng, m: int, basis: np.ndarray, centres: np.ndarray) -> np.ndarray:
    x = centres[rng.integers(0, len(centres), m)] + rng.standard_normal((m, 32)).astype(np.float32) @ basis
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def real_texts(limit: int = 4000) -> list[str]:
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as handle:
        return [json.loads(line)["text"][:1200] for line, _ in zip(handle, range(limit), strict=False)]


def real_queries(count: int) -> list[str]:
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line, _ in zip(handle, range(count), strict=False)]


def build(folder: Path, n: int, queries: np.ndarray, fts: bool = False) -> dict:
    """A real index folder of n chunks; returns timings and writes exact top-10 for `queries`.

    `fts` also fills the BM25 table (search here does not read it; bench/incremental.py deletes from it)."""
    from ragqa.index.faiss_vectors import FaissVectors
    from ragqa.index.store import IndexWriter

    shutil.rmtree(folder, ignore_errors=True)
    IndexWriter(folder, IDENTITY).close()  # schema and manifest, exactly as ingest creates them
    texts = real_texts()
    conn = sqlite3.connect(folder / "index.sqlite", isolation_level=None)
    vectors = FaissVectors(folder, DIM)
    exact = faiss.IndexFlatIP(DIM)
    sql_s = faiss_s = 0.0
    for b, batch in enumerate(synthetic_batches(n)):
        start = b * BATCH
        rows = [(start + i + 1, f"notes/{(start + i) // CHUNKS_PER_FILE:07d}.md", (start + i) % CHUNKS_PER_FILE,
                 f"Note {(start + i) // CHUNKS_PER_FILE}", f"Note {(start + i) // CHUNKS_PER_FILE} > Part",
                 None, texts[(start + i) % len(texts)], "[]", batch[i].tobytes()) for i in range(len(batch))]
        t = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO chunks(id, path, ordinal, title, heading, page, text, tags, vector)"
                         " VALUES (?,?,?,?,?,?,?,?,?)", rows)
        if fts:
            conn.executemany("INSERT INTO chunks_fts(rowid, body) VALUES (?, ?)",
                             [(r[0], f"{r[4]}\n{r[6]}") for r in rows])
        conn.execute("COMMIT")
        sql_s += time.perf_counter() - t
        t = time.perf_counter()
        vectors.add(np.arange(start + 1, start + len(batch) + 1, dtype=np.int64), batch)
        faiss_s += time.perf_counter() - t
        exact.add(batch)
    generation = json.loads(conn.execute("SELECT value FROM manifest WHERE key='generation'").fetchone()[0])
    t = time.perf_counter()
    vectors.save(generation)
    save_s = time.perf_counter() - t
    _, top = exact.search(queries, 10)
    np.save(folder / "exact_top10.npy", top + 1)  # row i holds id i + 1
    conn.close()
    return {"sqlite_s": sql_s, "faiss_s": faiss_s, "save_s": save_s, "kind": vectors.kind,
            "file_mb": sum(p.stat().st_size for p in folder.glob("vectors.*.faiss")) / 1e6,
            "db_mb": (folder / "index.sqlite").stat().st_size / 1e6}


def measure(folder: Path, model: str, count: int, sweep: list[int]) -> dict:
    """Child process: load the model and the index as the app does, then time each query's three steps."""
    from ragqa.config import EmbeddingSettings
    from ragqa.index.store import IndexReader
    from ragqa.models.embedder import load_embedder

    embedder = load_embedder(EmbeddingSettings(model=model))
    texts = real_queries(count)
    for text in texts[:5]:
        embedder.embed_query(text)
    rss_model, _ = rss_mb()
    started = time.perf_counter()
    reader = IndexReader(folder)
    open_s = time.perf_counter() - started
    rss_index = rss_mb()[0] - rss_model
    n = reader.vectors.count()
    queries = synthetic_queries(n, count)
    exact = np.load(folder / "exact_top10.npy")
    steps = {"embed": [], "search": [], "fetch": [], "total": []}
    cpu = {key: [] for key in steps}  # CPU time: what the figures would be on an idle machine, roughly
    found = []
    for text, query in zip(texts, queries, strict=False):
        w0, c0 = time.perf_counter(), time.process_time()
        embedder.embed_query(text)
        w1, c1 = time.perf_counter(), time.process_time()
        ranked = reader.dense(query, 10)
        w2, c2 = time.perf_counter(), time.process_time()
        hits = reader.hits(ranked)
        w3, c3 = time.perf_counter(), time.process_time()
        assert len(hits) == len(ranked)
        found.append([i for i, _ in ranked])
        for key, wall, used in zip(steps, (w1 - w0, w2 - w1, w3 - w2, w3 - w0), (c1 - c0, c2 - c1, c3 - c2, c3 - c0),
                                   strict=True):
            steps[key].append(wall * 1000)
            cpu[key].append(used * 1000)
    result = {"n": n, "kind": reader.vectors.kind, "open_s": open_s, "rss_model_mb": rss_model,
              "rss_index_mb": rss_index, "rss_peak_mb": rss_mb()[1], "recall": recall(found, exact),
              **{f"{k}_p50": percentile(v, 50) for k, v in steps.items()},
              **{f"{k}_p95": percentile(v, 95) for k, v in steps.items()},
              **{f"{k}_cpu": percentile(v, 50) for k, v in cpu.items()}, "sweep": []}
    for nprobe in sweep if result["kind"] != "flat" else []:
        reader.vectors.nprobe = nprobe
        times, found = [], []
        for query in queries:
            t = time.perf_counter()
            found.append(reader.vectors.search(query, 10)[0].tolist())
            times.append((time.perf_counter() - t) * 1000)
        result["sweep"].append({"nprobe": nprobe, "recall": recall(found, exact), "p50": percentile(times, 50)})
    return result


def recall(found: list[list[int]], exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e.tolist())) / 10 for f, e in zip(found, exact, strict=True)]))


def run_size(n: int, args) -> dict:
    folder = Path(args.work) / f"n{n}"
    load_before = load_average()
    started = time.perf_counter()
    built = build(folder, n, synthetic_queries(n, args.queries))
    built["build_s"] = time.perf_counter() - started
    child = subprocess.run([sys.executable, __file__, "--measure", str(folder), "--model", args.model,
                            "--queries", str(args.queries), "--sweep", *map(str, args.sweep)],
                           capture_output=True, text=True, check=True)
    result = {**built, **json.loads(child.stdout.strip().splitlines()[-1])}
    result["load"] = (load_before + load_average()) / 2
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"  {n}: {json.dumps({k: v for k, v in result.items() if k != 'sweep'})}", file=sys.stderr, flush=True)
    return result


def print_tables(results: list[dict], model: str) -> None:
    print(f"\n{machine_line()}; query model {model} (bf16); load = 1-min load average during the size\n")
    print("Wall-clock p50 / p95 in ms, then [CPU ms at p50] (less sensitive to the load)\n")
    print("| chunks | index | load | query embedding | vector search | metadata fetch | total | recall@10 | "
          "reader RSS MB (index) | index open s | build s (SQLite + FAISS + save) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        cells = [f"{r[k + '_p50']:.1f} / {r[k + '_p95']:.1f} [{r[k + '_cpu']:.1f}]"
                 for k in ("embed", "search", "fetch", "total")]
        print(f"| {r['n']:,} | {r['kind']} | {r['load']:.1f} | {' | '.join(cells)} | {r['recall']:.3f} | "
              f"{r['rss_model_mb'] + r['rss_index_mb']:.0f} ({r['rss_index_mb']:.0f}) | {r['open_s']:.1f} | "
              f"{r['build_s']:.0f} ({r['sqlite_s']:.0f} + {r['faiss_s']:.0f} + {r['save_s']:.1f}) |")
    sweeps = [r for r in results if r["sweep"]]
    if sweeps:
        print("\nIVF nprobe sweep (search only): recall@10 / p50 ms\n")
        print("| chunks | " + " | ".join(f"nprobe {s['nprobe']}" for s in sweeps[0]["sweep"]) + " |")
        print("|---|" + "---|" * len(sweeps[0]["sweep"]))
        for r in sweeps:
            print(f"| {r['n']:,} | " + " | ".join(f"{s['recall']:.3f} / {s['p50']:.2f}" for s in r["sweep"]) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    parser.add_argument("--sweep", type=int, nargs="*", default=[16, 32, 64, 128, 256])
    parser.add_argument("--work", default=None, help="where the index folders are built (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the index folders")
    parser.add_argument("--chart", default=None, help="write a PNG of latency against size here")
    parser.add_argument("--json", default=None, help="also write the raw results here")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.model, args.queries, args.sweep)))
        return
    args.work = args.work or tempfile.mkdtemp(prefix="ragqa-bench-query-")
    results = [run_size(n, args) for n in args.sizes]
    print_tables(results, args.model)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.chart:
        from bench.chart import latency_chart

        latency_chart(results, Path(args.chart))


if __name__ == "__main__":
    main()
