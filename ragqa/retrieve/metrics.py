"""Retrieval metrics over plain data, as in BEIR.

    qrels   = {query_id: {doc_id: grade}}      grade > 0 means relevant
    results = {query_id: [doc_id, ...]}         best first
"""
from __future__ import annotations

import math
from collections.abc import Sequence


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain, gain / log2(rank + 1).

    >>> round(dcg([3, 2, 0, 1]), 4)
    4.6925
    """
    return sum(g / math.log2(rank + 2) for rank, g in enumerate(gains))


def ndcg_at(relevant: dict[str, int], ranked: list[str], k: int) -> float:
    """nDCG@k with graded relevance.

    >>> ndcg_at({"a": 1}, ["b", "a"], 10)
    0.6309297535714575
    """
    ideal = dcg(sorted((g for g in relevant.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([relevant.get(doc, 0) for doc in ranked[:k]]) / ideal


def recall_at(relevant: dict[str, int], ranked: list[str], k: int) -> float:
    """Share of the relevant documents found in the top k.

    >>> recall_at({"a": 1, "b": 1}, ["a", "c"], 2)
    0.5
    """
    wanted = {d for d, g in relevant.items() if g > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at(relevant: dict[str, int], ranked: list[str], k: int) -> float:
    """Reciprocal rank of the first relevant document in the top k.

    >>> mrr_at({"a": 1}, ["x", "y", "a"], 10)
    0.3333333333333333
    """
    for rank, doc in enumerate(ranked[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile.

    >>> percentile([1, 2, 3, 4], 50)
    2
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def evaluate(qrels: dict[str, dict[str, int]], results: dict[str, list[str]]) -> dict[str, float]:
    """Mean metrics over the queries that have judgments (a query with no result scores 0)."""
    queries = [q for q in qrels if any(g > 0 for g in qrels[q].values())]
    out = {"ndcg@10": 0.0, "recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    for q in queries:
        ranked = results.get(q, [])
        out["ndcg@10"] += ndcg_at(qrels[q], ranked, 10)
        for k in (1, 5, 10, 100):
            out[f"recall@{k}"] += recall_at(qrels[q], ranked, k)
        out["mrr@10"] += mrr_at(qrels[q], ranked, 10)
    return {name: value / len(queries) if queries else 0.0 for name, value in out.items()}


def best_chunk_per_doc(ranked_chunks: list[tuple[str, float]]) -> list[str]:
    """A document split into chunks scores as its best chunk: keep first occurrences.

    >>> best_chunk_per_doc([("d1", .9), ("d2", .8), ("d1", .7)])
    ['d1', 'd2']
    """
    seen: dict[str, None] = {}
    for doc, _ in ranked_chunks:
        seen.setdefault(doc, None)
    return list(seen)
