"""Reranking: a second look at the first stage's best passages, behind one small interface.

    reranker.rerank(query, hits) -> the same hits, reordered (best first, new scores)

`search.rerank` in config.yaml picks one through `make_reranker`:

    none           keep the first stage's order
    mmr            maximal marginal relevance: trade a little relevance for less repetition
    cross-encoder  score (question, passage) pairs with a sentence-transformers CrossEncoder
    llm            ask the chat model (handed in by the Searcher's maker) to order the passages

Only the top `search.rerank_depth` hits are reranked; the rest keep their order below them.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ragqa.errors import ConfigError
from ragqa.models.chat import ChatModel
from ragqa.records import Hit

VectorsOf = Callable[[list[int]], np.ndarray]  # chunk ids -> their stored (normalised) vectors


class Reranker(Protocol):
    name: str

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]: ...


class NoRerank:
    name = "none"

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        return hits


def relative(scores: np.ndarray) -> np.ndarray:
    """Scores as a share of the best one, so any retriever's scale becomes comparable to a cosine
    (min-max scaled instead if the best is not positive).

    >>> relative(np.array([2.0, 4.0, 3.0])).tolist()
    [0.5, 1.0, 0.75]
    >>> relative(np.array([-2.0, -1.0])).tolist()
    [0.0, 1.0]
    """
    if not len(scores):
        return scores
    if scores.max() > 0:
        return scores / scores.max()
    spread = float(scores.max() - scores.min())
    return (scores - scores.min()) / spread if spread > 0 else np.ones_like(scores)


def mmr_order(relevance: np.ndarray, vectors: np.ndarray, lam: float) -> list[tuple[int, float]]:
    """Greedy maximal marginal relevance: repeatedly take the candidate with the best
    lam * relevance - (1 - lam) * (its highest cosine to one already taken).

    Returns (index, mmr score) in the order taken. Two identical passages: the copy
    drops below a slightly less relevant but different one.

    >>> v = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> [i for i, _ in mmr_order(np.array([1.0, 0.9, 0.8]), v, lam=0.5)]
    [0, 2, 1]
    >>> [i for i, _ in mmr_order(np.array([1.0, 0.9, 0.8]), v, lam=1.0)]
    [0, 1, 2]
    """
    n = len(relevance)
    taken: list[tuple[int, float]] = []
    closest = np.full(n, -np.inf)  # highest similarity to anything taken so far
    free = np.ones(n, dtype=bool)
    sims = vectors @ vectors.T if n else np.zeros((0, 0))
    for _ in range(n):
        penalty = np.where(np.isfinite(closest), closest, 0.0)
        value = np.where(free, lam * relevance - (1 - lam) * penalty, -np.inf)
        best = int(np.argmax(value))
        taken.append((best, float(value[best])))
        free[best] = False
        closest = np.maximum(closest, sims[best])
    return taken


class MMRReranker:
    """Relevance is the first stage's own score (relative to the best), so MMR works over dense, BM25
    or hybrid alike; redundancy is the cosine between the passages' stored vectors."""

    name = "mmr"

    def __init__(self, vectors_of: VectorsOf, lam: float = 0.7, depth: int = 20):
        self.vectors_of, self.lam, self.depth = vectors_of, lam, depth

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        head, tail = hits[: self.depth], hits[self.depth:]
        if len(head) < 2:
            return hits
        vectors = self.vectors_of([h.chunk_id for h in head])
        order = mmr_order(relative(np.array([h.score for h in head], dtype=np.float64)), vectors, self.lam)
        return [Hit(head[i].chunk_id, score, head[i].chunk) for i, score in order] + tail


def _none(settings, vectors_of: VectorsOf | None, chat_model: ChatModel | None) -> Reranker:
    return NoRerank()


def _mmr(settings, vectors_of: VectorsOf | None, chat_model: ChatModel | None) -> Reranker:
    if vectors_of is None:
        raise ConfigError("search.rerank: mmr needs the index's vectors")
    return MMRReranker(vectors_of, lam=settings.search.mmr_lambda, depth=settings.search.rerank_depth)


def _cross_encoder(settings, vectors_of: VectorsOf | None, chat_model: ChatModel | None) -> Reranker:
    from ragqa.retrieve.rerank_models import CrossEncoderReranker  # sentence-transformers: only for this one

    return CrossEncoderReranker(settings.search.rerank_model, depth=settings.search.rerank_depth)


def _llm(settings, vectors_of: VectorsOf | None, chat_model: ChatModel | None) -> Reranker:
    if settings.llm.provider == "none":
        raise ConfigError("search.rerank: llm needs a language model, but llm.provider is none; "
                          "set llm.provider, or choose another search.rerank")
    if chat_model is None:
        raise TypeError("search.rerank: llm needs the chat model handed in: Searcher(..., chat_model=...)")
    from ragqa.retrieve.rerank_models import LLMReranker

    return LLMReranker(chat_model, depth=min(settings.search.rerank_depth, 20))


# search.rerank -> its builder: (settings, the index's stored vectors, the chat model) -> Reranker
RERANKERS: dict[str, Callable[[Any, VectorsOf | None, ChatModel | None], Reranker]] = {
    "none": _none,
    "mmr": _mmr,
    "cross-encoder": _cross_encoder,
    "llm": _llm,
}


def make_reranker(settings, vectors_of: VectorsOf | None = None, chat_model: ChatModel | None = None) -> Reranker:
    """The reranker that `settings.search.rerank` names. Models are loaded here, so a missing
    one is reported before the first question, in one line. `llm` asks `chat_model`: the faces
    make it once and hand it in, so one model (one local server) answers and reranks."""
    build = RERANKERS.get(settings.search.rerank)
    if build is None:
        raise ConfigError(f"unknown search.rerank {settings.search.rerank!r}: choose one of {', '.join(RERANKERS)}")
    return build(settings, vectors_of, chat_model)
