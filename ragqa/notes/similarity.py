"""Similarity between notes, as pure functions over numpy arrays.

A note is represented by one vector: the normalised mean of its chunks' vectors
(which are normalised themselves), so the dot product of two note vectors is
their cosine similarity.
"""
from __future__ import annotations

import numpy as np

BLOCK_ROWS = 2048  # rows of the similarity matrix held at once (2048 x 10k floats = 80 MB)


def centred(matrix: np.ndarray) -> np.ndarray:
    """Rows minus their mean, normalised again.

    Sentence embeddings share one strong common direction (any two notes score ~0.8
    with E5); taking it out lets what sets notes apart decide. On the vault this
    raised recall@10 of wikilinks from 0.61 to 0.69 (docs/NOTES-GRAPH.md).

    >>> centred(np.array([[1, 0.2], [1, -0.2]], dtype=np.float32)).round(3).tolist()
    [[0.0, 1.0], [0.0, -1.0]]
    """
    x = np.asarray(matrix, dtype=np.float32)
    if len(x) == 0:
        return x
    x = x - x.mean(axis=0)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1)


def top_k(matrix: np.ndarray, row: int, k: int = 10) -> list[tuple[int, float]]:
    """The k rows most similar to `row` (itself excluded), best first, as (row, cosine).

    >>> m = np.array([[1, 0], [0.9, 0.436], [0, 1]], dtype=np.float32)
    >>> [(i, round(s, 2)) for i, s in top_k(m, 0, k=2)]
    [(1, 0.9), (2, 0.0)]
    """
    return top_k_for(matrix, matrix[row], k, exclude=row)


def top_k_for(matrix: np.ndarray, vector: np.ndarray, k: int = 10,
              exclude: int | None = None) -> list[tuple[int, float]]:
    """The k rows of `matrix` most similar to `vector`, best first; ties broken by row order."""
    scores = matrix @ np.asarray(vector, dtype=np.float32)
    if exclude is not None:
        scores[exclude] = -np.inf
    k = min(k, len(scores) - (exclude is not None))
    if k <= 0:
        return []
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.lexsort((best, -scores[best]))]
    return [(int(i), float(scores[i])) for i in best]


def all_top_k(matrix: np.ndarray, k: int = 10) -> np.ndarray:
    """For every row, the rows of its k nearest neighbours (itself excluded), best first: shape (n, k)."""
    n = len(matrix)
    k = min(k, n - 1)
    out = np.zeros((n, max(k, 0)), dtype=np.int64)
    if k <= 0:
        return out
    for start in range(0, n, BLOCK_ROWS):
        scores = matrix[start:start + BLOCK_ROWS] @ matrix.T
        rows = np.arange(len(scores))
        scores[rows, start + rows] = -np.inf
        best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1, kind="stable")
        out[start:start + len(scores)] = np.take_along_axis(best, order, axis=1)
    return out


def pairs_above(matrix: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """Every pair (i < j) whose cosine is at least `threshold`, most similar first.

    >>> m = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    >>> pairs_above(m, 0.95)
    [(0, 1, 1.0)]
    """
    found: list[tuple[int, int, float]] = []
    for start in range(0, len(matrix), BLOCK_ROWS):
        scores = matrix[start:start + BLOCK_ROWS] @ matrix.T
        rows, cols = np.nonzero(scores >= threshold)
        keep = cols > rows + start  # upper triangle: each pair once, never a note with itself
        for r, c in zip(rows[keep], cols[keep], strict=True):
            found.append((int(r + start), int(c), round(float(scores[r, c]), 6)))
    found.sort(key=lambda p: (-p[2], p[0], p[1]))
    return found


def axis_positions(matrix: np.ndarray, low: list[int], high: list[int]) -> np.ndarray:
    """Where each row lies on the axis from the mean of rows `low` (0) to the mean of rows `high` (1).

    Scoring by example: pick a few notes for each of two poles ("draft" and "finished",
    "theory" and "practice") and rank every note between them. A row's position is its
    projection on the line through the two means, so 0.5 is halfway and values
    outside 0..1 lie beyond a pole's average example.

    >>> m = np.array([[0, 0], [1, 0], [0.5, 3], [2, 1]], dtype=np.float32)
    >>> axis_positions(m, [0], [1]).tolist()
    [0.0, 1.0, 0.5, 2.0]
    """
    x = np.asarray(matrix, dtype=np.float32)
    if not len(low) or not len(high):
        raise ValueError("each pole needs at least one example row")
    start, end = x[list(low)].mean(axis=0), x[list(high)].mean(axis=0)
    axis = end - start
    length = float(axis @ axis)
    if length == 0:
        raise ValueError("the two poles have the same mean: pick different examples for each")
    return (x - start) @ axis / length
