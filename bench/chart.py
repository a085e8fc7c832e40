"""Latency against index size, as a PNG, from bench/query.py's results.

    python bench/chart.py RESULTS.json docs/.images/query_latency.png

Needs matplotlib (a benchmark-only dependency).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

STEPS = [("embed", "query embedding"), ("search", "vector search"), ("fetch", "metadata fetch"), ("total", "total")]


def latency_chart(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["n"] for r in results]
    fig, (wall, cpu) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for key, label in STEPS:
        line, = wall.plot(sizes, [r[f"{key}_p50"] for r in results], marker="o", label=f"{label} p50")
        wall.plot(sizes, [r[f"{key}_p95"] for r in results], linestyle="--", color=line.get_color(), alpha=0.6)
        cpu.plot(sizes, [r[f"{key}_cpu"] for r in results], marker="o", color=line.get_color(), label=label)
    loads = ", ".join(f"{r['load']:.0f}" for r in results)
    wall.set_title(f"wall clock: p50 (solid), p95 (dashed)\nshared 2-core machine, load avg {loads}", fontsize=9)
    cpu.set_title("CPU time per query, p50 (closer to an idle machine)", fontsize=9)
    for ax in (wall, cpu):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("chunks in the index")
        ax.grid(True, which="both", alpha=0.3)
        for r in results:
            ax.annotate(r["kind"], (r["n"], r[f"search_{'p50' if ax is wall else 'cpu'}"]), fontsize=7,
                        textcoords="offset points", xytext=(4, -10))
    wall.axhline(25, color="grey", linewidth=0.8)
    wall.axhline(100, color="grey", linewidth=0.8)
    wall.set_ylabel("ms per query (goals: 25 ms at 100k, 100 ms at 1M)")
    wall.legend(fontsize=8, loc="upper left")
    fig.suptitle("ragqa retrieval latency against index size (E5-small query, FAISS, SQLite)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    latency_chart(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
