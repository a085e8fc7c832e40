"""Where an index is kept, behind one small interface: SQLite in the index folder, or everything in Milvus.

    store = open_store(index_dir)        # which one: config's store.milvus_holds (ragqa.store_locations)
    store.exists(); store.file_id()
    reader = store.reader(identity)      # search: dense, bm25, hybrid, hits, ids_matching, files, stats
    writer = store.writer(identity)      # ingest: known_files, apply, touch, publish (hold write_lock)
    with store.snapshot() as index: ...  # notes, vectors, file records (ragqa.index.queries.IndexSnapshot)
    with store.catalog() as catalog: ... # tags, dates, links (ragqa.index.catalog.Catalog)

`read_snapshot`, `read_catalog`, `is_index`, `require_index` and `index_file_id` go through here, so the rest of
ragqa reads either store without knowing which. A new store is a new file with these five methods, and a case in
`open_store`.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from ragqa.records import Chunk, Hit
from ragqa.store_locations import milvus_location


class IndexReading(Protocol):
    """What search reads (ragqa.retrieve.search.Searcher, ragqa.retrieve.across)."""

    generation: int
    manifest: dict

    def is_stale(self) -> bool: ...
    def chunks(self, ids) -> dict[int, Chunk]: ...
    def stored_vectors(self, ids: list[int]) -> np.ndarray: ...
    def ids_matching(self, **conditions): ...  # an opaque selection that dense, bm25 and hybrid take
    def dense(self, query_vector: np.ndarray, k: int, allowed=None) -> list[tuple[int, float]]: ...
    def bm25(self, terms: list[str], k: int, allowed=None) -> list[tuple[int, float]]: ...
    def hybrid(self, terms: list[str], query_vector: np.ndarray, k: int, depth: int, rrf_k: int,
               allowed=None) -> list[tuple[int, float]]: ...
    def hits(self, scored: list[tuple[int, float]]) -> list[Hit]: ...
    def files(self) -> list: ...
    def stats(self) -> dict: ...
    def close(self) -> None: ...


class IndexWriting(Protocol):
    """What ingest writes through (ragqa.ingest.pipeline); the caller holds ragqa.index.lock.write_lock."""

    rebuilt: bool
    generation: int

    def known_files(self) -> dict: ...
    def paths_without_notes(self) -> set[str]: ...
    def set_notes(self, records: list) -> None: ...
    def apply(self, files: list, removed: Sequence[str] = ()) -> None: ...
    def touch(self, records: list) -> None: ...
    def publish(self, last_ingest: dict | None = None) -> None: ...
    def close(self) -> None: ...


class IndexStore(Protocol):
    folder: Path

    def exists(self) -> bool: ...
    def file_id(self) -> int: ...
    def reader(self, identity: dict | None = None) -> IndexReading: ...
    def writer(self, identity: dict, rebuild: bool = False) -> IndexWriting: ...
    def snapshot(self) -> AbstractContextManager: ...
    def catalog(self) -> AbstractContextManager: ...


def open_store(folder: Path) -> IndexStore:
    """The store that holds the index of `folder`, as config.yaml says (SQLite in the folder by default)."""
    where = milvus_location(Path(folder))
    if where is None:
        return SqliteStore(Path(folder))
    return MilvusStore(Path(folder), where)


class SqliteStore:
    """index.sqlite in the folder, with its vector backend (FAISS, or Milvus for the vectors alone)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def exists(self) -> bool:
        from ragqa.index.schema import DB_NAME

        return (self.folder / DB_NAME).is_file()

    def file_id(self) -> int:
        from ragqa.index.queries import sqlite_file_id

        return sqlite_file_id(self.folder)

    def reader(self, identity: dict | None = None):
        from ragqa.index.reader import IndexReader

        return IndexReader(self.folder, identity)

    def writer(self, identity: dict, rebuild: bool = False):
        from ragqa.index.writer import IndexWriter

        return IndexWriter(self.folder, identity, rebuild=rebuild)

    def snapshot(self):
        from ragqa.index.queries import sqlite_snapshot

        return sqlite_snapshot(self.folder)

    def catalog(self):
        from ragqa.index.catalog import sqlite_catalog

        return sqlite_catalog(self.folder)


class MilvusStore:
    """Everything in three Milvus collections (ragqa.index.milvus_layout); the folder keeps only the write lock
    and this machine's own files (saved chats, caches)."""

    def __init__(self, folder: Path, location):
        self.folder, self.location = folder, location

    def _index(self):
        from ragqa.index.milvus_state import MilvusIndex

        return MilvusIndex(self.folder, self.location)

    def exists(self) -> bool:
        index = self._index()
        try:
            return index.exists()
        finally:
            index.close()

    def file_id(self) -> int:
        """Which index this is: a number drawn when it was created, new when it is built again from nothing."""
        index = self._index()
        try:
            return int(index.require()["store_id"])
        finally:
            index.close()

    def reader(self, identity: dict | None = None):
        from ragqa.index.milvus_reader import MilvusReader

        return MilvusReader(self.folder, self.location, identity)

    def writer(self, identity: dict, rebuild: bool = False):
        from ragqa.index.milvus_writer import MilvusWriter

        self.folder.mkdir(parents=True, exist_ok=True)
        return MilvusWriter(self.folder, self.location, identity, rebuild=rebuild)

    @contextmanager
    def snapshot(self) -> Iterator:
        from ragqa.index.milvus_views import MilvusSnapshot

        index = self._index()
        try:
            view = MilvusSnapshot(index, index.require())
            try:
                yield view
            finally:
                view.close()
        finally:
            index.close()

    @contextmanager
    def catalog(self) -> Iterator:
        from ragqa.index.milvus_views import MilvusCatalog

        index = self._index()
        try:
            index.require()
            view = MilvusCatalog(index)
            try:
                yield view
            finally:
                view.close()
        finally:
            index.close()
