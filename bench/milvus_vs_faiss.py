"""FAISS vs Milvus Lite on SciFact: ingest time, store build/reopen time, query latency, same answers?

    python bench/milvus_vs_faiss.py [--dataset ../shared/data/scifact] [--model all-MiniLM-L6-v2]
                                    [--docs N] [--queries N] [--append docs/PERFORMANCE.md]
    python bench/milvus_vs_faiss.py --encode      # encode rate (chunks/s) on 1 and 2 threads, for docs/SCALING.md

The model runs in the precision `embedding.bf16: auto` picks on this CPU (bf16 only where it is native),
and the first line of the output names it with the machine. `--docs` keeps every document some kept query
is judged on plus an even spread of the rest, so nDCG stays meaningful on a smaller corpus.

The corpus is embedded ONCE (the first, FAISS, ingest with the real model); later ingests get the same
vectors from a memo, so they time ragqa's pipeline and the store, not the model:
1. End to end: `write_corpus_as_notes` + `ingest_folder` per backend with memoised vectors, then the test
   queries through `Searcher` in dense mode (query embedding included), with nDCG@10 to show both rank alike.
2. Backend only: the vectors are read back from SQLite and loaded into each backend (build = create + add +
   save; cold reopen = a new process that imports the backend, loads it and searches once), then the same query
   vectors are searched directly (k=10, k=300 as in `ragqa eval`, and k=10 filtered to 10% of the chunks).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
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

from bench.machine import machine_line  # noqa: E402

SCIFACT = REPO.parent / "shared" / "data" / "scifact"
BACKENDS = {"faiss": {}, "milvus": {"uri": "milvus.db", "collection": "bench"}}


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    from ragqa.retrieve.metrics import percentile

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
            self.memo.update(zip(todo, self.embedder.embed_passages(todo), strict=True))
            self.seconds += time.perf_counter() - started
        return np.vstack([self.memo[t] for t in texts]) if texts else self.embedder.embed_passages([])


def end_to_end(corpus, queries, qrels, work: Path, model: str) -> dict:
    from ragqa.cli.eval_command import run_queries, write_corpus_as_notes
    from ragqa.config import Settings
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder
    from ragqa.retrieve.metrics import evaluate
    from ragqa.retrieve.search import Searcher

    note_to_doc = write_corpus_as_notes(corpus, work / "notes")
    embedder = None
    out, searchers = {}, {}
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
        out[backend] = {"chunks": report.chunks, "ingest_s": report.seconds, "load": load_avg()}
        searchers[backend] = Searcher(settings, embedder)
    # The backends take turns query by query (in alternating order): this machine's speed swings by
    # several times over minutes with other jobs' load, and both must see the same swings.
    results, wall, cpu = ({b: {} for b in BACKENDS}, {b: [] for b in BACKENDS}, {b: [] for b in BACKENDS})
    for i, (qid, text) in enumerate(queries.items()):
        for backend in list(BACKENDS)[:: 1 if i % 2 == 0 else -1]:
            started = time.process_time()  # every thread of this process, Milvus Lite's server included
            found, latency = run_queries(searchers[backend], {qid: text}, note_to_doc, "dense")
            cpu[backend].append((time.process_time() - started) * 1000)
            results[backend].update(found)
            wall[backend] += latency
    for backend in BACKENDS:
        out[backend].update(ndcg=evaluate(qrels, results[backend])["ndcg@10"], p50=pct(wall[backend], 50),
                            p95=pct(wall[backend], 95), cpu50=pct(cpu[backend], 50), query_load=load_avg())
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
from ragqa.index.vectors import backend_class
store = backend_class({backend!r}).load({str(folder)!r}, {len(query)}, 1, **{BACKENDS[backend]!r})
store.search(query, 10)
print(json.dumps(time.perf_counter() - started))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"cold reopen of {backend} failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def backend_only(index: Path, query_vectors: np.ndarray, work: Path) -> dict:
    from ragqa.index.vectors import backend_class

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
    same = sum(a == b for a, b in zip(out["faiss"]["top10"], out["milvus"]["top10"], strict=True))
    out["same_top10"] = same / len(query_vectors)
    return out


def precision() -> str:
    """What `embedding.bf16: auto` (the config default) gives on this CPU."""
    from ragqa.config import EmbeddingSettings
    from ragqa.models.embedder import use_bf16

    return "bf16" if use_bf16(EmbeddingSettings().bf16) else "float32"


def smaller(corpus: dict, queries: dict, qrels: dict, docs: int | None, n_queries: int | None):
    """(corpus, queries, qrels) cut to size: every judged document of a kept query, then an even spread."""
    from ragqa.cli.eval_command import spread_sample

    if n_queries:
        queries = spread_sample(queries, n_queries)
    qrels = {q: qrels[q] for q in queries}  # metrics.evaluate averages over every query in qrels
    if not docs or docs >= len(corpus):
        return corpus, queries, qrels
    judged = {d for q in queries for d in qrels.get(q, {}) if d in corpus}
    rest = [d for d in corpus if d not in judged]
    extra = max(0, docs - len(judged))
    keep = judged | {rest[i * len(rest) // extra] for i in range(extra)}  # extra < len(rest) as docs < len(corpus)
    return {d: v for d, v in corpus.items() if d in keep}, queries, qrels


def encode_rates(texts: list[str]) -> list[tuple]:
    """(model, threads, chunks per wall second, chunks per CPU second, load) with chunk-sized inputs.

    CPU seconds (all threads of this process) are what a shared, busy machine still measures fairly:
    chunks per CPU second is the rate per core that a worker fleet would get.
    """
    import torch

    from ragqa.config import EmbeddingSettings
    from ragqa.models.embedder import load_embedder

    rows = []
    for model in ("all-MiniLM-L6-v2", "intfloat/multilingual-e5-small"):
        embedder = load_embedder(EmbeddingSettings(model=model))  # the config default precision
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
    parser.add_argument("--docs", type=int, help="at most this many documents (default: the whole corpus)")
    parser.add_argument("--queries", type=int, help="this many test queries, spread over the set (default: all)")
    args = parser.parse_args()
    from ragqa.cli.eval_command import load_beir

    corpus, queries, qrels = load_beir(Path(args.dataset))
    if args.encode:
        texts = [f"{d['title']}\n{d['text']}" for d in list(corpus.values())[: args.encode_texts]]
        print(f"\nencode rate, {len(texts)} SciFact passages, {machine_line()}\n")
        print(f"| model ({precision()}), 256-token inputs | torch threads | chunks/s (wall) | chunks per CPU second | "
              "load avg 1/5/15 min |\n|---|---|---|---|---|")
        for model, threads, wall, cpu, load in encode_rates(texts):
            print(f"| {model} | {threads} | {wall:.1f} | {cpu:.1f} | {load} |")
        return
    corpus, queries, qrels = smaller(corpus, queries, qrels, args.docs, args.queries)
    head = f"Machine: {machine_line()}. {Path(args.dataset).name}, {len(corpus)} documents, {args.model} " \
           f"({precision()}), Python {platform.python_version()}, {versions()}"
    work = Path(tempfile.mkdtemp(prefix="ragqa-milvus-bench-"))
    e2e = end_to_end(corpus, queries, qrels, work, args.model)
    embedder, first = e2e["embed"]["embedder"], e2e["embed"]
    query_vectors = np.vstack([embedder.embed_query(t) for t in queries.values()])
    only = backend_only(first["index"], query_vectors, work)
    lines = [f"{head}; {len(queries)} test queries.", "",
             f"One embedding pass (the first ingest, FAISS): {first['chunks']} chunks in {first['ingest_s']:.0f} s, "
             f"{first['model_s']:.0f} s of it in the model ({first['chunks'] / first['model_s']:.1f} chunks/s; "
             f"load avg {first['load']}).", "",
             "End to end with the same vectors memoised (`ingest_folder` per backend, so pipeline + store only; "
             "`Searcher` dense, k=300, query embedding included, the backends taking turns query by query; "
             "CPU = all threads of the process):", "",
             "| backend | chunks | ingest s (no model) | chunks/s | ingest load avg | nDCG@10 | query p50 ms | "
             "query p95 ms | query p50 CPU ms | query load avg |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for backend in BACKENDS:
        r = e2e[backend]
        lines.append(f"| {backend} | {r['chunks']} | {r['ingest_s']:.1f} | {r['chunks'] / r['ingest_s']:.0f} | "
                     f"{r['load']} | {r['ndcg']:.4f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['cpu50']:.1f} | "
                     f"{r['query_load']} |")
    lines += ["", "Backend only (the same vectors loaded into each; search with precomputed query vectors):", "",
              "| backend | build s | cold reopen s | on disk MB | k=10 p50/p95 ms | k=300 p50/p95 ms "
              "| k=10, 10% filter p50/p95 ms | load avg |",
              "|---|---|---|---|---|---|---|---|"]
    for label, r in only.items():
        if label == "same_top10":
            continue
        cells = " | ".join(f"{r[n][0]:.2f} / {r[n][1]:.2f}" for n in ("k10", "k300", "filtered"))
        lines.append(f"| {label} | {r['build_s']:.2f} | {r['reopen_s']:.2f} | {r['bytes'] / 1e6:.1f} | {cells} "
                     f"| {r['load']} |")
    lines += ["", f"Same top-10 ids in the same order for {only['same_top10']:.1%} of queries."]
    table = "\n".join(lines)
    print("\n" + table)
    shutil.rmtree(work, ignore_errors=True)
    if args.append:
        with open(args.append, "a", encoding="utf-8") as handle:
            command = " ".join(["python bench/milvus_vs_faiss.py", *sys.argv[1:]])
            handle.write(f"\n## FAISS vs Milvus Lite\n\n`{command}`\n\n{table}\n")


if __name__ == "__main__":
    main()
