"""The read path's first step: find the passages that best match a question.

Modes: "dense" (embeddings + FAISS), "bm25" (SQLite FTS5) and "hybrid"
(both, fused by reciprocal rank). Filters restrict by folder, tag or file type.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ragqa.fusion import reciprocal_rank_fusion
from ragqa.records import Hit
from ragqa.store import IndexReader, index_identity

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
        self.reader = IndexReader(self.index_dir, index_identity(settings, embedder))

    def refresh(self) -> None:
        if self.reader.is_stale():
            fresh = IndexReader(self.index_dir, index_identity(self.settings, self.embedder))
            self.reader.close()
            self.reader = fresh

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        self.refresh()
        k = k or self.settings.search.top_k
        mode = mode or self.settings.search.mode
        allowed = None
        if filters and not filters.is_empty():
            allowed = self.reader.ids_where(*filters.sql())
        depth = max(k, self.settings.search.candidates)
        if mode == "dense":
            ranked = self.reader.dense(self.embedder.embed_query(query), k, allowed)
        elif mode == "bm25":
            ranked = self.reader.bm25(query, k, allowed)
        else:
            dense = self.reader.dense(self.embedder.embed_query(query), depth, allowed)
            lexical = self.reader.bm25(query, depth, allowed)
            ranked = reciprocal_rank_fusion([dense, lexical], k=self.settings.search.rrf_k)[:k]
        return self.reader.hits(ranked)
