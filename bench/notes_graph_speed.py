"""How fast the notes graph is at 1k and 10k notes, on synthetic note vectors (clustered, with the common
direction real sentence embeddings have), and the incremental note-vector cache on a real index file.

    python bench/notes_graph_speed.py [--sizes 1000 10000] [--dim 384]

Prints a Markdown table (seconds, best of 3 where cheap).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# REPO first and bench/ out: bench/ingest.py would hide the `ingest` package (a namespace package).
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]


def synthetic(n: int, dim: int, topics: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=dim)
    centres = rng.normal(size=(topics, dim))
    x = 3 * common + 2 * centres[rng.integers(topics, size=n)] + rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def fake_index(folder: Path, vectors: np.ndarray, chunks_per_note: int = 3) -> None:
    """A real index folder (SQLite + vector file) holding `vectors` as notes of `chunks_per_note` chunks each."""
    from ragqa.index.store import FileRecord, IndexWriter
    from ragqa.records import Chunk

    dim = vectors.shape[1]
    identity = {"model": "synthetic", "dim": dim, "chunk_tokens": 256, "overlap_tokens": 32}
    writer = IndexWriter(folder, identity)
    rng = np.random.default_rng(1)
    batch = []
    for i, v in enumerate(vectors):
        path = f"folder{i % 20}/note{i}.md"
        noisy = v + 0.3 * rng.normal(size=(chunks_per_note, dim)).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        chunks = [Chunk(path=path, title=f"note {i}", heading=f"note {i}", text=f"text {i} {c}", ordinal=c)
                  for c in range(chunks_per_note)]
        batch.append((FileRecord(path, 1, 1, f"sha{i}", "markdown", "indexed", title=f"note {i}"), chunks, noisy))
        if len(batch) == 500:
            writer.apply(batch)
            batch = []
    writer.apply(batch)
    writer.publish()
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    from ragqa.notes.clusters import kmeans, rule_of_thumb_k, silhouette
    from ragqa.notes.graph import auto_k_candidates, cluster_notes, duplicate_notes, related_notes
    from ragqa.notes.note_map import map_points
    from ragqa.notes.similarity import all_top_k, centred
    from ragqa.notes.vectors import NoteVectors, load_note_vectors

    print(f"\nsynthetic {args.dim}-d note vectors; {os.cpu_count()} cores; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; {time.strftime('%Y-%m-%d')}\n")
    print("| notes | what | seconds |")
    print("|---|---|---|")
    for n in args.sizes:
        x = synthetic(n, args.dim)
        notes = NoteVectors([f"f{i % 20}/n{i}.md" for i in range(n)], [f"n{i}" for i in range(n)], x, 1)
        rows = {
            "map: PCA to 2-D + plot rows (`map_points`)": timed(lambda: map_points(notes.paths, notes.titles, x)),
            "centring (once per load)": timed(lambda: centred(x)),
            "related notes of one note (`related_notes`, k=10)": timed(lambda: related_notes(notes, notes.paths[0])),
            "top 10 of every note (`all_top_k`)": timed(lambda: all_top_k(x, 10), 1),
            "near-duplicate pairs, whole collection (`duplicate_notes`)": timed(lambda: duplicate_notes(notes), 1),
            f"k-means, one k = sqrt(n/2) = {rule_of_thumb_k(n)}": timed(lambda: kmeans(x, rule_of_thumb_k(n)), 1),
            "silhouette, one k (1,000-point sample)": timed(lambda: silhouette(x, kmeans(x, 10, restarts=1)), 1),
            f"topics: k chosen among {auto_k_candidates(n)} (`cluster_notes`)": timed(lambda: cluster_notes(notes), 1),
        }
        with tempfile.TemporaryDirectory() as tmp:
            fake_index(Path(tmp), x)
            rows["note vectors, first load (all notes averaged from SQLite)"] = timed(
                lambda: load_note_vectors(Path(tmp)), 1)
            rows["note vectors, nothing changed (cache)"] = timed(lambda: load_note_vectors(Path(tmp)))
            fake_one_change(Path(tmp), args.dim)
            rows["note vectors, one note changed"] = timed(lambda: load_note_vectors(Path(tmp)), 1)
        for what, seconds in rows.items():
            print(f"| {n:,} | {what} | {seconds:.3f} |")


def fake_one_change(folder: Path, dim: int) -> None:
    from ragqa.index.store import FileRecord, IndexWriter
    from ragqa.records import Chunk

    writer = IndexWriter(folder, {"model": "synthetic", "dim": dim, "chunk_tokens": 256, "overlap_tokens": 32})
    v = np.ones((1, dim), dtype=np.float32) / np.sqrt(dim)
    writer.apply([(FileRecord("folder0/note0.md", 2, 2, "changed", "markdown", "indexed", title="note 0"),
                   [Chunk(path="folder0/note0.md", title="note 0", heading="note 0", text="changed")], v)])
    writer.publish()
    writer.close()


if __name__ == "__main__":
    main()
