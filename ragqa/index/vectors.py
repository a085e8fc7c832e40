"""The one small interface every vector backend implements, and the factory that picks one.

SQLite is the source of truth for chunk ids and vectors; a backend is a search
structure kept in step with it. After a crash a backend may be behind: `load`
then returns None and the index is rebuilt from SQLite with `add`.

    count() -> int                      ids() -> np.ndarray
    add(ids, vectors)                   remove(ids)
    search(query, k, allowed_ids=None) -> (ids, scores)
    save(generation)                    is_saved(generation) -> bool
    detach()                            drop this store's connection (the index is closed)
    load(folder, dim, generation, **options)  (classmethod) -> store or None
    __init__(folder, dim, **options)          a new, empty store (replacing a stale one)

A backend with `shared = True` (Milvus: one collection that every process sees)
must not be rebuilt by a reader while an ingest writes to it: a reader rebuilds
it only under the index's write lock, and while an ingest holds that lock it
uses the collection as it is (`load(..., generation=None)`), which the ingest
keeps in step with each SQLite commit.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

import numpy as np

from ragqa.errors import IndexBusyError
from ragqa.index.lock import write_lock


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
    def detach(self) -> None: ...


def backend_class(name: str):
    if name == "faiss":
        from ragqa.index.faiss_vectors import FaissVectors

        return FaissVectors
    if name == "milvus":
        from ragqa.index.milvus_vectors import MilvusVectors

        return MilvusVectors
    raise ValueError(f"unknown store.backend {name!r}: choose faiss or milvus")


def open_vectors(backend: str, folder: Path, dim: int, generation: int,
                 rows: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]], writing: bool = True,
                 **options) -> VectorStore:
    """The saved store for this generation, or a new one rebuilt from SQLite's (ids, vectors) batches.

    `options` are the backend's own settings (e.g. Milvus `uri`); FAISS takes none.
    `writing` is False for readers, which do not hold the write lock.
    """
    cls = backend_class(backend)
    store = cls.load(folder, dim, generation, **options)
    if store is not None:
        return store
    if writing or not getattr(cls, "shared", False):
        return _rebuild(cls, folder, dim, rows, options)
    with ExitStack() as held:
        try:
            held.enter_context(write_lock(Path(folder)))
        except IndexBusyError:  # an ingest is running and mirrors each commit: use the collection as it is
            store = cls.load(folder, dim, None, **options)
            if store is None:
                raise IndexBusyError(f"an ingest is creating the vector store of {folder}: retry in a moment") from None
            return store
        store = _rebuild(cls, folder, dim, rows, options)
        store.save(generation)
        return store


def _rebuild(cls, folder: Path, dim: int, rows, options: dict) -> VectorStore:
    store = cls(folder, dim, **options)
    for ids, vectors in rows():
        store.add(ids, vectors)
    return store
