"""The one small interface every vector backend implements, and the factory that picks one.

SQLite is the source of truth for chunk ids and vectors; a backend is a search
structure kept in step with it. After a crash a backend may be behind: `load`
then returns None and the index is rebuilt from SQLite with `add`.

    count() -> int                      ids() -> np.ndarray
    add(ids, vectors)                   remove(ids)
    search(query, k, allowed_ids=None) -> (ids, scores)
    save(generation)                    is_saved(generation) -> bool
    load(folder, dim, generation, **options)  (classmethod) -> store or None
    __init__(folder, dim, **options)          a new, empty store (replacing a stale one)
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Protocol

import numpy as np


class VectorStore(Protocol):
    name: str
    dim: int

    def count(self) -> int: ...
    def ids(self) -> np.ndarray: ...
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, ids: np.ndarray) -> None: ...
    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None): ...
    def save(self, generation: int) -> None: ...
    def is_saved(self, generation: int) -> bool: ...


def backend_class(name: str):
    if name == "faiss":
        from ragqa.vectors import FaissVectors

        return FaissVectors
    if name == "milvus":
        from ragqa.vectors_milvus import MilvusVectors

        return MilvusVectors
    raise ValueError(f"unknown store.backend {name!r}: choose faiss or milvus")


def open_vectors(backend: str, folder: Path, dim: int, generation: int,
                 rows: "callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]", **options) -> VectorStore:
    """The saved store for this generation, or a new one rebuilt from SQLite's (ids, vectors) batches.

    `options` are the backend's own settings (e.g. Milvus `uri`); FAISS takes none.
    """
    cls = backend_class(backend)
    store = cls.load(folder, dim, generation, **options)
    if store is not None:
        return store
    store = cls(folder, dim, **options)
    for ids, vectors in rows():
        store.add(ids, vectors)
    return store
