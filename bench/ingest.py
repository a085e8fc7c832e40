"""Ingest throughput: ragqa's end-to-end ingest against the raw `model.encode` rate on the very same
chunk texts and settings (the goal is a ratio >= 0.9: the pipeline adds almost nothing around the model).

    python bench/ingest.py [--folder PATH] [--model NAME] [--llamaindex]

Prints a Markdown table. Model loading is excluded from both timings.
"""
from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
VAULT = REPO.parent / "shared" / "data" / "notes-lesleylai-digital-garden"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chunk_texts(index_dir: Path) -> list[str]:
    conn = sqlite3.connect(index_dir / "index.sqlite")
    rows = conn.execute("SELECT heading, text FROM chunks ORDER BY id").fetchall()
    return [f"{h}\n{t}" if h else t for h, t in rows]


def bench_ragqa(folder: Path, model: str) -> dict:
    from ingest.pipeline import ingest_folder
    from ragqa.config import Settings
    from ragqa.embedder import load_embedder

    work = Path(tempfile.mkdtemp(prefix="ragqa-bench-"))
    settings = Settings.model_validate({"notes_dir": str(folder), "index_dir": str(work / "index"),
                                        "embedding": {"model": model}})
    embedder = load_embedder(settings.embedding)
    embedder.embed_passages(["warm up"] * 4)
    report = ingest_folder(settings, embedder)
    texts = chunk_texts(work / "index")
    started = time.perf_counter()
    embedder.model.encode(texts, prompt=embedder.passage_prefix, batch_size=settings.embedding.batch_size,
                          convert_to_numpy=True, show_progress_bar=False)
    raw_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = ingest_folder(settings, embedder)
    return {"files": len(report.added), "chunks": len(texts), "ingest_s": report.seconds,
            "raw_s": raw_seconds, "noop_s": again.seconds, "rss_mb": peak_rss_mb(), "texts": texts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", default=str(VAULT))
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    parser.add_argument("--llamaindex", action="store_true", help="also run LlamaIndex on the same folder and model")
    args = parser.parse_args()
    folder = Path(args.folder)
    result = bench_ragqa(folder, args.model)
    ingest_rate = result["chunks"] / result["ingest_s"]
    raw_rate = result["chunks"] / result["raw_s"]
    print(f"\n{folder.name}, {args.model}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}\n")
    print("| what | files | chunks | seconds | chunks/s | ratio to raw encode |")
    print("|---|---|---|---|---|---|")
    print(f"| ragqa ingest (end to end) | {result['files']} | {result['chunks']} | {result['ingest_s']:.1f} | {ingest_rate:.1f} | {ingest_rate / raw_rate:.2f} |")
    print(f"| raw model.encode, same texts | | {result['chunks']} | {result['raw_s']:.1f} | {raw_rate:.1f} | 1.00 |")
    print(f"| no-change re-ingest | {result['files']} | 0 | {result['noop_s']:.2f} | | |")
    if args.llamaindex:
        from bench.llamaindex_ingest import run_llamaindex  # noqa: optional dependency

        li = run_llamaindex(folder, args.model)
        print(f"| LlamaIndex (same folder, model) | {li['files']} | {li['chunks']} | {li['seconds']:.1f} | "
              f"{li['chunks'] / li['seconds']:.1f} | ragqa is {li['seconds'] / result['ingest_s']:.2f}x faster |")
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
