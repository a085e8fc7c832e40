"""Retrieval quality of every search mode on SciFact and squad-dev, through the real pipeline.

    python bench/quality.py [--datasets scifact squad-dev] [--squad-sample 1000] [--sweep]

Each corpus is ingested once per embedding model into a kept folder (~/.cache/ragqa/quality/...), exactly
as `ragqa eval --index` does, so a re-run only runs the queries. Prints one Markdown table per dataset:
nDCG@10, recall@10 and p50 query latency of BM25, dense MiniLM, dense E5, hybrid and hybrid + MMR rerank.
`--sweep` also tries hybrid fusion parameters through the whole search path; bench/fusion.py compares
fusion rules faster, on the same kept indexes (that is how the defaults in config.yaml were chosen).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
# bench/ingest.py would shadow the `ingest` package, so bench/ leaves the path
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench.machine import machine_line  # noqa: E402
from ragqa.cli.eval_command import CHUNKS_PER_DOC, DEPTH, load_beir, measure, spread_sample  # noqa: E402
from ragqa.config import Settings  # noqa: E402

DATA = REPO.parent / "shared" / "data"
KEPT = Path("~/.cache/ragqa/quality").expanduser()
E5, MINILM = "intfloat/multilingual-e5-small", "all-MiniLM-L6-v2"

# (label, model, mode, search settings): the rows of the report
ROWS = [
    ("BM25 (SQLite FTS5)", E5, "bm25", {}),
    ("dense, all-MiniLM-L6-v2", MINILM, "dense", {}),
    ("dense, multilingual-e5-small (default model)", E5, "dense", {}),
    ("hybrid (default: E5 + BM25, RRF k=5)", E5, "hybrid", {}),
    ("hybrid + MMR rerank", E5, "hybrid", {"rerank": "mmr"}),
]
SWEEP = [(f"hybrid, dense x{d:g} bm25 x{b:g}, rrf_k {k}", E5, "hybrid",
          {"dense_weight": d, "bm25_weight": b, "rrf_k": k})
         for k in (5, 10, 30, 60) for d, b in ((1, 1), (1.5, 1), (2, 1), (1, 1.5))]
SWEEP += [("hybrid, score fusion, dense 0.6 bm25 0.4", E5, "hybrid",
           {"fusion": "scores", "dense_weight": 0.6, "bm25_weight": 0.4})]


def settings_for(model: str, search: dict) -> Settings:
    return Settings.model_validate({"embedding": {"model": model}, "llm": {"provider": "none"},
                                    "search": {**search, "candidates": DEPTH * CHUNKS_PER_DOC}})


def run(dataset: str, rows, sample: int | None) -> list[str]:
    corpus, queries, qrels = load_beir(DATA / dataset)
    if sample:
        queries = spread_sample(queries, sample)
    lines = [f"\n### {dataset}: {len(corpus)} documents, {len(queries)} queries\n",
             f"{machine_line()}\n",
             "| method | nDCG@10 | recall@10 | recall@100 | MRR@10 | p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for label, model, mode, search in rows:
        started = time.time()
        work = KEPT / f"{dataset}-{Path(model).name}"
        out, embedded = measure(settings_for(model, search), work, corpus, queries, qrels, mode)
        line = (f"| {label} | {out['ndcg@10']:.4f} | {out['recall@10']:.4f} | {out['recall@100']:.4f} | "
                f"{out['mrr@10']:.4f} | {out['p50_ms']:.0f} | {out['p95_ms']:.0f} |")
        print(line + (f"  <!-- {embedded} chunks embedded first, {time.time() - started:.0f} s -->"
                      if embedded else ""), flush=True)
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["scifact", "squad-dev"])
    parser.add_argument("--squad-sample", type=int, default=1000, help="squad-dev questions, spread evenly")
    parser.add_argument("--sweep", action="store_true", help="also try hybrid fusion parameters")
    parser.add_argument("--only", help="only the rows whose label contains this text, e.g. hybrid")
    args = parser.parse_args()
    rows = [r for r in ROWS + (SWEEP if args.sweep else []) if not args.only or args.only in r[0]]
    for dataset in args.datasets:
        sample = args.squad_sample if dataset == "squad-dev" else None
        run(dataset, rows, sample)


if __name__ == "__main__":
    main()
