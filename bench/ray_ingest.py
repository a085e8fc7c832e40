"""Ingest throughput: the local engine against the Ray engine with 1 and 2 embedding actors, on this machine.

    python bench/ray_ingest.py [--docs 300] [--model intfloat/multilingual-e5-small]

The first --docs SciFact abstracts as notes, each run a fresh index (FAISS + SQLite), the same model. The Ray runs
use a Ray started here beforehand (its ~5-10 s start-up is printed apart), so their time includes what every Ray
ingest pays: starting the actors, each loading the model, and the reading tasks' workers loading its tokenizer.
Prints chunks/s with the machine, date and load beside each row.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import machine_line

from ragqa.cli.eval_command import write_corpus_as_notes
from ragqa.config import Settings
from ragqa.ingest.pipeline import ingest_folder
from ragqa.models.embedder import load_embedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    args = parser.parse_args()
    corpus = {}
    for line in open(DATA / "corpus.jsonl", encoding="utf-8"):
        doc = json.loads(line)
        corpus[doc["_id"]] = doc
        if len(corpus) >= args.docs:
            break
    work = Path(tempfile.mkdtemp(prefix="ragqa-ray-bench-"))
    write_corpus_as_notes(corpus, work / "notes")
    runs = {"local": {"engine": "local"},
            "ray, 1 actor": {"engine": "ray", "ray_actors": 1, "ray_cpus_per_actor": 1},
            "ray, 2 actors": {"engine": "ray", "ray_actors": 2, "ray_cpus_per_actor": 0.5}}
    import ray

    started = time.perf_counter()
    os.environ.setdefault("RAY_worker_niceness", "0")  # as ragqa's own local Ray: workers at normal priority
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"# {args.docs} SciFact abstracts, {args.model}; ray.init took {time.perf_counter() - started:.1f} s; "
          f"{machine_line()}")
    print("| engine | chunks | seconds | chunks/s | chunks/s after the first batch | s to the first batch "
          "| chunks per CPU-second | load |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for number, (name, engine) in enumerate(runs.items()):
            settings = Settings.model_validate({
                "notes_dir": str(work / "notes"), "index_dir": str(work / f"index{number}"),
                "embedding": {"model": args.model}, "llm": {"provider": "none"}, "ingest": engine})
            embedder = load_embedder(settings.embedding)  # the local engine's model, loaded before the clock starts
            commits: list[tuple[float, int]] = []
            began, cpu = time.perf_counter(), time.process_time()
            report = ingest_folder(settings, embedder,
                                   progress=lambda done, total, chunks: commits.append((time.perf_counter(), chunks)))
            steady = "-"
            if len(commits) > 2:  # between the first and the last commit: start-up left out
                (t0, c0), (t1, c1) = commits[0], commits[-1]
                steady = f"{(c1 - c0) / (t1 - t0):.1f}"
            first = commits[0][0] - began if commits else 0.0
            per_cpu = f"{report.chunks / (time.process_time() - cpu):.1f}" if engine["engine"] == "local" else "-"
            print(f"| {name} | {report.chunks} | {report.seconds:.1f} | {report.chunks / report.seconds:.1f} | "
                  f"{steady} | {first:.0f} | {per_cpu} | {machine_line().rsplit('load ', 1)[1]} |", flush=True)
    finally:
        ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
