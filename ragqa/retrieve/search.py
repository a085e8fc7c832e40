"""The read path's first step: find the passages that best match a question.

Modes: "dense" (embeddings + FAISS), "bm25" (SQLite FTS5) and "hybrid"
(both, fused by weighted reciprocal rank, or by scaled scores: `search.fusion`). Filters restrict by folder, tag or file
type. An optional second stage (ragqa.retrieve.rerank, `search.rerank`) reorders the best
passages. docs/QUALITY.md has the measurements behind the defaults.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ragqa.retrieve.fusion import reciprocal_rank_fusion, score_fusion
from ragqa.records import Hit
from ragqa.retrieve.rerank import make_reranker
from ragqa.index.store import IndexReader, index_identity

_KIND_SUFFIXES = {"markdown": (".md", ".markdown"), "text": (".txt",), "pdf": (".pdf",)}


@dataclass
class Filters:
    """Empty lists mean "no restriction". Folders are relative to the notes folder."""

    folders: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # "markdown" | "text" | "pdf"

    def is_empty(self) -> bool:
        return not (self.folders or self.tags or self.kinds)

    def sql(self) -> tuple[str, list]:
        """A WHERE condition over the chunks table, ANDed across kinds of filter."""
        parts, params = [], []
        if self.folders:
            parts.append("(" + " OR ".join("path LIKE ? ESCAPE '\\'" for _ in self.folders) + ")")
            params += [_like_prefix(f.strip("/") + "/") for f in self.folders]
        if self.tags:
            parts.append("(" + " OR ".join("EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?)" for _ in self.tags) + ")")
            params += [t.lstrip("#") for t in self.tags]
        if self.kinds:
            suffixes = [s for k in self.kinds for s in _KIND_SUFFIXES.get(k, ("." + k,))]
            parts.append("(" + " OR ".join("lower(path) LIKE ?" for _ in suffixes) + ")")
            params += ["%" + s for s in suffixes]
        return " AND ".join(parts) or "1", params


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Searcher:
    """Search one index with one embedder; reopens itself when an ingest has committed."""

    def __init__(self, settings, embedder, index_dir: Path | None = None):
        self.settings = settings
        self.embedder = embedder
        self.index_dir = Path(index_dir or settings.index_path)
        self.reader = IndexReader(self.index_dir, index_identity(settings, embedder, self.index_dir))
        self.reranker = make_reranker(settings, vectors_of=self.stored_vectors)

    def refresh(self) -> None:
        if self.reader.is_stale():
            fresh = IndexReader(self.index_dir, index_identity(self.settings, self.embedder, self.index_dir))
            self.reader.close()
            self.reader = fresh

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        """The k best passages for the query, best first."""
        self.refresh()
        options = self.settings.search
        k = k or options.top_k
        allowed = None
        if filters and not filters.is_empty():
            allowed = self.reader.ids_where(*filters.sql())
        wanted = k if self.reranker.name == "none" else max(k, options.rerank_depth)
        ranked = self.first_stage(query, wanted, mode or options.mode, allowed)
        return self.reranker.rerank(query, self.reader.hits(ranked))[:k]

    def first_stage(self, query: str, k: int, mode: str, allowed=None) -> list[tuple[int, float]]:
        """(chunk id, score) best first, from one retriever or both fused."""
        options = self.settings.search
        if mode == "dense":
            return self.reader.dense(self.embedder.embed_query(query), k, allowed)
        if mode == "bm25":
            return self.reader.bm25(query, k, allowed)
        depth = max(k, options.candidates)
        dense = self.reader.dense(self.embedder.embed_query(query), depth, allowed)
        lexical = self.reader.bm25(query, depth, allowed)
        weights = [options.dense_weight, options.bm25_weight]
        if options.fusion == "scores":
            fused = score_fusion([dense, lexical], weights=weights)
        else:
            fused = reciprocal_rank_fusion([dense, lexical], k=options.rrf_k, weights=weights)
        return fused[:k]

    def stored_vectors(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of these chunks, in this order (for MMR)."""
        # SQLite is the truth for vectors whatever the vector backend; IndexReader has no accessor yet.
        marks = ",".join("?" * len(ids))
        rows = dict(self.reader.conn.execute(f"SELECT id, vector FROM chunks WHERE id IN ({marks})", [int(i) for i in ids]))
        dim = int(self.reader.manifest.get("dim") or 1)
        return np.vstack([np.frombuffer(rows[i], dtype=np.float32) if i in rows else np.zeros(dim, np.float32)
                          for i in ids])
