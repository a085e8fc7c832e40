"""Grouping note vectors into topics: spherical k-means and a silhouette to choose k.

Pure numpy over normalised vectors (cosine similarity = dot product); seeded,
so the same notes always give the same topics.
"""
from __future__ import annotations

import math

import numpy as np

SILHOUETTE_SAMPLE = 1000  # points whose silhouette is averaged (all of them below this)


def kmeans(x: np.ndarray, k: int, seed: int = 0, restarts: int = 4, iterations: int = 50) -> np.ndarray:
    """Cluster the rows of `x` (normalised) into k groups by cosine; return one label per row.

    The best of `restarts` seeded runs (highest total similarity of notes to their
    centroid) is kept. Labels are renumbered by first appearance, so they do not
    depend on the seed's arbitrary order.

    >>> x = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99]], dtype=np.float32)
    >>> kmeans(x, 2).tolist()
    [0, 0, 1, 1]
    """
    n = len(x)
    k = max(1, min(k, n))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    best, best_fit = None, -np.inf
    for run in range(max(1, restarts)):
        labels, centroids = _lloyd(x, k, np.random.default_rng(seed + run), iterations)
        fit = float(np.einsum("ij,ij->", x, centroids[labels]))
        if fit > best_fit + 1e-6:
            best, best_fit = labels, fit
    _, first = np.unique(best, return_index=True)
    remap = np.zeros(best.max() + 1, dtype=np.int64)
    remap[np.unique(best)] = np.argsort(np.argsort(first))  # cluster id -> rank of its first member
    return remap[best]


def _lloyd(x: np.ndarray, k: int, rng: np.random.Generator, iterations: int) -> tuple[np.ndarray, np.ndarray]:
    centroids = _plus_plus(x, k, rng)
    labels = np.full(len(x), -1, dtype=np.int64)
    for _ in range(iterations):
        new = np.argmax(x @ centroids.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        centroids = _centroids(x, labels, k, centroids)
    return labels, centroids


def _plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding with cosine distance: spread the first centroids apart."""
    chosen = [int(rng.integers(len(x)))]
    distance = np.clip(1.0 - x @ x[chosen[0]], 0, None)
    for _ in range(1, k):
        total = float(distance.sum())
        pick = int(rng.choice(len(x), p=distance / total)) if total > 0 else int(rng.integers(len(x)))
        chosen.append(pick)
        distance = np.minimum(distance, np.clip(1.0 - x @ x[pick], 0, None))
    return x[chosen].astype(np.float32)


def _centroids(x: np.ndarray, labels: np.ndarray, k: int, previous: np.ndarray) -> np.ndarray:
    onehot = np.zeros((len(x), k), dtype=np.float32)
    onehot[np.arange(len(x)), labels] = 1
    sums = onehot.T @ x  # one matmul; np.add.at is ~100x slower here
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    empty = norms[:, 0] == 0
    out = np.where(empty[:, None], previous, sums / np.where(norms == 0, 1, norms)).astype(np.float32)
    if empty.any():  # re-seed an empty cluster with the point worst served by its own centroid
        fit = np.einsum("ij,ij->i", x, out[labels])
        out[empty] = x[np.argsort(fit)[: int(empty.sum())]]
    return out


def silhouette(x: np.ndarray, labels: np.ndarray, sample: int = SILHOUETTE_SAMPLE, seed: int = 0) -> float:
    """Mean silhouette (cosine distance) over a seeded sample of points; in [-1, 1], higher is better.

    >>> x = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99]], dtype=np.float32)
    >>> round(silhouette(x, np.array([0, 0, 1, 1])), 2)
    0.99
    """
    n = len(x)
    k = int(labels.max()) + 1 if n else 0
    if k < 2 or k >= n:
        return 0.0
    rows = np.arange(n) if n <= sample else np.random.default_rng(seed).choice(n, sample, replace=False)
    distance = 1.0 - x[rows] @ x.T  # (s, n)
    onehot = np.zeros((n, k), dtype=np.float32)
    onehot[np.arange(n), labels] = 1
    sums = distance @ onehot  # (s, k): total distance from each sampled point to each cluster
    counts = onehot.sum(axis=0)
    own = labels[rows]
    own_count = counts[own] - 1
    a = np.divide(sums[np.arange(len(rows)), own], own_count, out=np.zeros(len(rows)), where=own_count > 0)
    means = sums / np.maximum(counts, 1)
    means[np.arange(len(rows)), own] = np.inf
    b = means.min(axis=1)
    scores = np.where(own_count > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(scores.mean())


def rule_of_thumb_k(n: int) -> int:
    """sqrt(n / 2), the classic starting point for k.

    >>> rule_of_thumb_k(1186), rule_of_thumb_k(10)
    (24, 2)
    """
    return max(1, min(n, round(math.sqrt(n / 2))))


def choose_k(x: np.ndarray, candidates: list[int], seed: int = 0) -> tuple[int, np.ndarray, dict[int, float]]:
    """The candidate k with the best silhouette: (k, labels, {k: silhouette})."""
    best: tuple[float, int, np.ndarray] | None = None
    scores: dict[int, float] = {}
    for k in sorted({c for c in candidates if 1 <= c <= len(x)}):
        labels = kmeans(x, k, seed=seed)
        scores[k] = silhouette(x, labels, seed=seed)
        if best is None or scores[k] > best[0]:
            best = (scores[k], k, labels)
    if best is None:
        return 1, np.zeros(len(x), dtype=np.int64), scores
    return best[1], best[2], scores
