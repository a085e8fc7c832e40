"""Combining ranked lists (reciprocal rank and score fusion). Pure functions over (id, score) lists, used by the
search (ragqa.retrieve) and by a store that fuses its own two rankings (ragqa.index)."""
from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

Item = TypeVar("Item", bound=Hashable)  # a chunk id, or a (collection, chunk id) key

def reciprocal_rank_fusion(rankings: list[list[tuple[Item, float]]], k: int = 60,
                           weights: list[float] | None = None) -> list[tuple[Item, float]]:
    """Fuse rankings by summing weight / (k + rank), rank starting at 1.

    >>> reciprocal_rank_fusion([[(1, .9), (2, .5)], [(2, 7.0), (3, 1.0)]], k=1)
    [(2, 0.8333333333333333), (1, 0.5), (3, 0.3333333333333333)]
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[Item, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, (item, _score) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def score_fusion(rankings: list[list[tuple[Item, float]]],
                 weights: list[float] | None = None) -> list[tuple[Item, float]]:
    """Fuse by weighted sum of scores min-max scaled to 0..1 within each ranking (an item a ranking
    did not return counts 0 there).

    >>> score_fusion([[(1, 0.9), (2, 0.5)], [(2, 7.0), (3, 1.0)]], weights=[0.6, 0.4])
    [(1, 0.6), (2, 0.4), (3, 0.0)]
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[Item, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        values = [score for _, score in ranking]
        low, spread = min(values), max(values) - min(values)
        for item, score in ranking:
            scaled = (score - low) / spread if spread > 0 else 1.0
            fused[item] = fused.get(item, 0.0) + weight * scaled
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
