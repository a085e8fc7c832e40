"""How many topics? For k around sqrt(n/2): the silhouette (what `ragqa topics` maximises) against how
often a wikilink stays inside one topic (an outside signal), with the topic sizes and the time taken.

    python bench/topics_k.py --index INDEX_DIR [--k 6 12 24 ...]

Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# REPO first and bench/ out: bench/ingest.py would hide the `ingest` package (a namespace package).
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]


def links_within(labels: np.ndarray, pairs: list[tuple[int, int]]) -> tuple[float, float]:
    """(share of link pairs inside one topic, the share expected if topics were random of the same sizes).

    >>> links_within(np.array([0, 0, 1, 1]), [(0, 1), (1, 2)])
    (0.5, 0.5)
    """
    inside = sum(labels[a] == labels[b] for a, b in pairs) / max(len(pairs), 1)
    sizes = np.bincount(labels) / len(labels)
    return float(inside), float((sizes ** 2).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True)
    parser.add_argument("--k", type=int, nargs="*")
    args = parser.parse_args()
    from bench.related_links import link_targets, read_files
    from ragqa.notes.clusters import kmeans, rule_of_thumb_k, silhouette
    from ragqa.notes.graph import auto_k_candidates, cluster_notes
    from ragqa.notes.vectors import load_note_vectors

    index = Path(args.index)
    notes = load_note_vectors(index)
    x = notes.comparable()
    links = link_targets(read_files(index), notes.paths)
    pairs = [(notes.row(a), notes.row(b)) for a, targets in links.items() for b in targets]
    n = len(notes)
    ks = args.k or sorted(set(auto_k_candidates(n)) | {2, 4, 8, 64, 96})
    print(f"\n{n} notes, {len(pairs)} links; rule of thumb sqrt(n/2) = {rule_of_thumb_k(n)}; "
          f"auto candidates {auto_k_candidates(n)}; {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}\n")
    print("| k | silhouette | links inside one topic | expected at random | lift | largest topic | seconds |")
    print("|---|---|---|---|---|---|---|")
    for k in ks:
        started = time.perf_counter()
        labels = kmeans(x, k)
        seconds = time.perf_counter() - started
        inside, expected = links_within(labels, pairs)
        print(f"| {k} | {silhouette(x, labels):.4f} | {inside:.1%} | {expected:.1%} | {inside / expected:.1f}x | "
              f"{np.bincount(labels).max()} | {seconds:.2f} |")
    started = time.perf_counter()
    labels, scores = cluster_notes(notes)
    print(f"\nauto: k = {int(labels.max()) + 1} chosen in {time.perf_counter() - started:.1f} s "
          f"(silhouettes {', '.join(f'{k}: {s:.4f}' for k, s in scores.items())})")


if __name__ == "__main__":
    main()
