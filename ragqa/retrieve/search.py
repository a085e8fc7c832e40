"""The read path's first step: find the passages that best match a question.

Modes: "dense" (embeddings + FAISS), "bm25" (SQLite FTS5) and "hybrid"
(both, fused by weighted reciprocal rank, or by scaled scores: `search.fusion`). Filters restrict by folder, tag or file
type. An optional second stage (ragqa.retrieve.rerank, `search.rerank`) reorders the best
passages. docs/QUALITY.md has the measurements behind the defaults.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ragqa.filetypes import KIND_SUFFIXES
from ragqa.fusion import reciprocal_rank_fusion, score_fusion
from ragqa.index.conditions import DayRange
from ragqa.index.store import index_identity, open_reader
from ragqa.models.chat import ChatModel
from ragqa.records import Hit
from ragqa.retrieve.across import tagged
from ragqa.retrieve.lexical import topic_terms
from ragqa.retrieve.rerank import make_reranker


@dataclass
class Filters:
    """Empty lists mean "no restriction". Folders are relative to the notes folder; a tag also finds its nested
    tags (`math` finds `math/LinearAlgebra`); dates are ISO days, both ends included, either end open (None)."""

    folders: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # "markdown" | "text" | "pdf"
    created: DayRange | None = None
    modified: DayRange | None = None
    paths: list[str] | None = None  # only these notes (the question planner's matching notes)

    def is_empty(self) -> bool:
        return not (self.folders or self.tags or self.kinds or self.created or self.modified) and self.paths is None

    def conditions(self) -> dict:
        """The filters as plain values for `IndexReader.ids_matching` (ANDed across kinds of filter).

        >>> Filters(folders=["/garden/"], tags=["#food"], kinds=["text"]).conditions()
        {'folders': ['garden'], 'tags': ['food'], 'suffixes': ['.txt'], 'created': None, 'modified': None, 'paths': None}
        """  # noqa: E501
        return {"folders": [f.strip("/") for f in self.folders], "tags": [t.lstrip("#") for t in self.tags],
                "suffixes": [s for k in self.kinds for s in KIND_SUFFIXES.get(k, ("." + k,))],
                "created": self.created, "modified": self.modified, "paths": self.paths}


class Searcher:
    """Search one index with one embedder; reopens itself when an ingest has committed.

    `chat_model` is only asked with `search.rerank: llm`, which needs it."""

    def __init__(self, settings, embedder, index_dir: Path | None = None, chat_model: ChatModel | None = None):
        self.settings = settings
        self.embedder = embedder
        self.index_dir = Path(index_dir or settings.index_path)
        self.reader = open_reader(self.index_dir, index_identity(settings, embedder, self.index_dir))
        self.reranker = make_reranker(settings, vectors_of=self.stored_vectors, chat_model=chat_model)

    def refresh(self) -> None:
        if self.reader.is_stale():
            fresh = open_reader(self.index_dir, index_identity(self.settings, self.embedder, self.index_dir))
            self.reader.close()
            self.reader = fresh

    def index_dirs(self) -> dict[str, Path]:
        """{collection: its index folder}: where the notes' catalog (ragqa.index.catalog) is read."""
        return {self.settings.collection_name: self.index_dir}

    @contextmanager
    def reading(self) -> Iterator[Searcher]:
        """This searcher, up to date, for reading its index directly (as ragqa.retrieve.shared's does)."""
        self.refresh()
        yield self

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        """The k best passages for the query, best first."""
        self.refresh()
        options = self.settings.search
        k = k or options.top_k
        allowed = None
        if filters and not filters.is_empty():
            allowed = self.reader.ids_matching(**filters.conditions())
        wanted = k if self.reranker.name == "none" else max(k, options.rerank_depth)
        ranked = self.first_stage(query, wanted, mode or options.mode, allowed)
        return tagged(self.reranker.rerank(query, self.reader.hits(ranked))[:k], self.settings.collection_name)

    def first_stage(self, query: str, k: int, mode: str, allowed=None) -> list[tuple[int, float]]:
        """(chunk id, score) best first, from one retriever or both fused."""
        options = self.settings.search
        if mode == "dense":
            return self.reader.dense(self.embedder.embed_query(query), k, allowed)
        if mode == "bm25":
            return self.reader.bm25(topic_terms(query), k, allowed)
        depth = max(k, options.candidates)
        if options.fusion == "rrf" and options.dense_weight == options.bm25_weight == 1.0:
            # the store fuses (all-Milvus: inside Milvus, by its hybrid_search)
            return self.reader.hybrid(topic_terms(query), self.embedder.embed_query(query), k, depth, options.rrf_k,
                                      allowed)
        dense = self.reader.dense(self.embedder.embed_query(query), depth, allowed)
        lexical = self.reader.bm25(topic_terms(query), depth, allowed)
        weights = [options.dense_weight, options.bm25_weight]
        if options.fusion == "scores":
            fused = score_fusion([dense, lexical], weights=weights)
        else:
            fused = reciprocal_rank_fusion([dense, lexical], k=options.rrf_k, weights=weights)
        return fused[:k]

    def stored_vectors(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of these chunks, in this order (for MMR)."""
        return self.reader.stored_vectors(ids)  # the current reader: refresh() may have swapped it
