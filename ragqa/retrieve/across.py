"""Searching several collections as one (ragqa.collections).

Each collection keeps its own index, and may have its own embedding model. A search across collections runs
each retriever in every index, then makes one ranked list per kind of score that can be compared: one dense
list per embedding model (cosine similarities of one model compare across indexes) and one BM25 list; those
lists are fused by rank, with the same reciprocal rank fusion as hybrid search. With one model this is what
one combined index would rank; with several, their rankings are fused, so collections with different models
are still searched together (equal ranks go to the hit that stands further above the rest of its own list).
A second stage (`search.rerank`) needs one index's vectors, so with a reranker each collection is searched
(and reranked) on its own and the results are fused by rank instead. Filters apply within each collection.
Every hit says which collection it came from (`hit.chunk.collection`). docs/QUALITY.md has the measurements
behind the choice (bench/collections_fusion.py).
"""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace

import numpy as np

from ragqa.fusion import reciprocal_rank_fusion, score_fusion
from ragqa.records import Hit
from ragqa.retrieve.lexical import topic_terms

Key = tuple[str, int]  # (collection, chunk id)


def tagged(hits: list[Hit], collection: str) -> list[Hit]:
    return [Hit(h.chunk_id, h.score, replace(h.chunk, collection=collection)) for h in hits]


def fuse_collections(lists: dict[str, list[Hit]], k: int, rrf_k: int) -> list[Hit]:
    """The best `k` of several collections' ranked hits, by reciprocal rank; ties go to the better own score.

    >>> from ragqa.records import Chunk
    >>> hit = lambda i, s: Hit(i, s, Chunk(f"{i}.md", "", "", ""))
    >>> fused = fuse_collections({"a": [hit(1, .9), hit(2, .8)], "b": [hit(1, .95)]}, k=3, rrf_k=5)
    >>> [(h.chunk.collection, h.chunk_id) for h in fused]
    [('b', 1), ('a', 1), ('a', 2)]
    """
    by_key: dict[Key, Hit] = {}
    rankings = []
    for name, hits in lists.items():
        hits = tagged(hits, name)
        by_key.update((h.key, h) for h in hits)
        rankings.append([(h.key, h.score) for h in hits])
    fused = reciprocal_rank_fusion(rankings, k=rrf_k)
    fused.sort(key=lambda pair: (-pair[1], -by_key[pair[0]].score))
    return [Hit(by_key[key].chunk_id, score, by_key[key].chunk) for key, score in fused[:k]]


def merged(lists: list[list[tuple[Key, float]]]) -> list[tuple[Key, float]]:
    """Lists whose scores compare, as one list, best first.

    >>> merged([[(("a", 1), 0.9), (("a", 2), 0.5)], [(("b", 7), 0.7)]])
    [(('a', 1), 0.9), (('b', 7), 0.7), (('a', 2), 0.5)]
    """
    return sorted((pair for found in lists for pair in found), key=lambda pair: -pair[1])


def standout(rankings: list[list[tuple[Key, float]]]) -> dict[Key, float]:
    """How far each item's score stands above the rest of its list, comparable across lists whose raw scores
    are not (the best over the lists it is in): standard deviations above the list's mean, less what the best
    of that many unrelated scores would reach (about sqrt(2 ln n)), so the top of a long list of misses does not
    outrank the clear best of a short one.

    >>> lift = standout([[("a", 0.9), ("b", 0.5), ("c", 0.4)], [("x", 0.9), ("y", 0.85), ("z", 0.8)]])
    >>> lift["a"] > lift["x"]
    True
    """
    lift: dict[Key, float] = {}
    for ranking in rankings:
        scores = np.asarray([s for _, s in ranking], dtype=np.float64)
        if len(scores) < 2 or scores.std() == 0:
            continue
        chance = float(np.sqrt(2 * np.log(len(scores))))
        for (key, _), z in zip(ranking, (scores - scores.mean()) / scores.std(), strict=True):
            lift[key] = max(lift.get(key, float("-inf")), float(z) - chance)
    return lift


class CollectionsSearcher:
    """One or more collections' Searchers behind the Searcher's own `search`; with one, its hits and scores
    are that Searcher's, tagged with the collection's name."""

    def __init__(self, searchers: dict, top_k: int, rrf_k: int):
        if not searchers:
            raise ValueError("no collection to search")
        self.searchers, self.top_k, self.rrf_k = searchers, top_k, rrf_k

    @property
    def embedder(self):
        """The first collection's embedder (the answer step scores sentences with it)."""
        return next(iter(self.searchers.values())).embedder

    @property
    def names(self) -> list[str]:
        return list(self.searchers)

    def index_dirs(self) -> dict:
        """{collection: its index folder}, in config order."""
        return {name: folder for s in self.searchers.values() for name, folder in s.index_dirs().items()}

    def search(self, query: str, k: int | None = None, mode: str | None = None, filters=None) -> list[Hit]:
        k = k or self.top_k
        if len(self.searchers) == 1:
            [searcher] = self.searchers.values()
            return searcher.search(query, k=k, mode=mode, filters=filters)  # its hits carry their collection
        options = next(iter(self.searchers.values())).settings.search
        if options.rerank != "none":
            lists = {name: s.search(query, k=k, mode=mode, filters=filters) for name, s in self.searchers.items()}
            return fuse_collections(lists, k, self.rrf_k)
        with ExitStack() as held:  # each index held (a shared one locked) in config order, for this search
            current = {name: held.enter_context(s.reading()) for name, s in self.searchers.items()}
            return self._fused(current, query, k, mode or options.mode, filters)

    def _fused(self, current: dict, query: str, k: int, mode: str, filters) -> list[Hit]:
        options = next(iter(current.values())).settings.search
        # Deep lists even for dense alone: how far a list's best stands out is measured against many of its
        # passages, not a handful (over 3 scores, any best is about one standard deviation up).
        depth = max(k, options.candidates)
        dense: dict[str, list] = {}  # per embedding model: each collection's (key, cosine) list
        lexical, query_vectors = [], {}
        terms = topic_terms(query)
        for name, searcher in current.items():
            reader = searcher.reader
            allowed = reader.ids_matching(**filters.conditions()) if filters and not filters.is_empty() else None
            if mode in ("dense", "hybrid"):
                model = searcher.settings.embedding.model_dump_json()
                if model not in query_vectors:
                    query_vectors[model] = searcher.embedder.embed_query(query)
                found = reader.dense(query_vectors[model], depth, allowed)
                dense.setdefault(model, []).append([((name, i), s) for i, s in found])
            if mode in ("bm25", "hybrid"):
                lexical.append([((name, i), s) for i, s in reader.bm25(terms, depth, allowed)])
        rankings = [merged(lists)[:depth] for lists in dense.values()]
        weights = [options.dense_weight] * len(rankings)
        if lexical:
            rankings.append(merged(lexical)[:depth])
            weights.append(options.bm25_weight)
        if len(rankings) == 1:
            best = rankings[0][:k]
        elif options.fusion == "scores":
            best = score_fusion(rankings, weights=weights)[:k]
        else:
            fused = reciprocal_rank_fusion(rankings, k=options.rrf_k, weights=weights)
            lift = standout(rankings)  # equal ranks in lists of different models: the clearer match first
            best = sorted(fused, key=lambda pair: (-pair[1], -lift.get(pair[0], 0.0)))[:k]
        return self._hits(current, best)

    @staticmethod
    def _hits(current: dict, best: list[tuple[Key, float]]) -> list[Hit]:
        found: dict[Key, Hit] = {}
        for name, searcher in current.items():
            mine = [(i, s) for (owner, i), s in best if owner == name]
            found.update((h.key, h) for h in tagged(searcher.reader.hits(mine), name))
        return [found[key] for key, _ in best if key in found]
