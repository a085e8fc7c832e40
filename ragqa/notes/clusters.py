"""Grouping note vectors into topics: scikit-learn's k-means, and its silhouette to choose k.

The vectors are normalised, so k-means on them groups by direction (cosine); seeded, so the same
notes always give the same topics. scikit-learn is imported on first use: it takes a second or two,
which only the topics pay. Against the spherical k-means it replaced (bench/topics_k.py, the vault with
MiniLM, 4 restarts each): links inside one topic 8.5x / 14.9x / 18.0x chance at k = 12 / 24 / 30
(spherical: 9.1x / 15.0x / 17.5x), cosine silhouette 0.091 / 0.103 / 0.093 (0.094 / 0.108 / 0.109).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

SILHOUETTE_SAMPLE = 1000  # points whose silhouette is averaged (all of them below this)


def kmeans(x: np.ndarray, k: int, seed: int = 0, restarts: int = 4, iterations: int = 300) -> np.ndarray:
    """Cluster the rows of `x` (normalised) into k groups; return one label per row.

    The best of `restarts` seeded k-means++ runs is kept. Labels are renumbered by first
    appearance, so they do not depend on the seed's arbitrary order.

    >>> x = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99]], dtype=np.float32)
    >>> kmeans(x, 2).tolist()
    [0, 0, 1, 1]
    """
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    model = KMeans(n_clusters=max(1, min(k, n)), n_init=max(1, restarts), max_iter=iterations, random_state=seed)
    # One thread: on a shared machine its OpenMP threads spin against other work (measured 3-10 s per k on
    # 2 busy cores, against 0.4-0.7 s on one); the data is small enough that one core is not the limit.
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # identical notes leave fewer groups than k: fine
        labels = model.fit_predict(x)
    used, first = np.unique(labels, return_index=True)
    remap = np.zeros(labels.max() + 1, dtype=np.int64)
    remap[used] = np.argsort(np.argsort(first))  # cluster id -> rank of its first member
    return remap[labels]


def silhouette(x: np.ndarray, labels: np.ndarray, sample: int = SILHOUETTE_SAMPLE, seed: int = 0) -> float:
    """Mean silhouette (cosine distance) over a seeded sample of points; in [-1, 1], higher is better.

    >>> x = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99]], dtype=np.float32)
    >>> round(silhouette(x, np.array([0, 0, 1, 1])), 2)
    0.99
    """
    from sklearn.metrics import silhouette_score

    n, k = len(x), len(np.unique(labels))
    if k < 2 or k >= n:
        return 0.0
    try:
        return float(silhouette_score(x, labels, metric="cosine", sample_size=sample if n > sample else None,
                                      random_state=seed))
    except ValueError:  # the sample drew a single group (or one point per group): no silhouette to speak of
        return 0.0


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
