"""The index folder: the one place that owns its format, for writers and readers.

    index_dir/
      index.sqlite        manifest, files, chunks (with their vectors), chunks_fts (BM25)   schema.py
      vectors.<gen>.faiss FAISS copy of the vectors at generation <gen>                     faiss_vectors.py
      write.lock          held by the one ingest that may write                             lock.py

Nothing outside ragqa/index runs SQL on index.sqlite (tests/test_index_ownership.py
checks): search reads through IndexReader, ingest writes through IndexWriter, and
the notes, file status and the app's caches read through ragqa.index.queries.
This module gathers the names the rest of ragqa imports.
"""
from __future__ import annotations

from ragqa.index.identity import backend_of, index_identity, mismatch
from ragqa.index.reader import IndexReader
from ragqa.index.schema import (
    DB_NAME,
    FORMAT_VERSION,
    FileRecord,
    connect,
    is_index,
    open_store_vectors,
    read_manifest,
    require_index,
    vector_rows,
)
from ragqa.index.stores import open_store
from ragqa.index.writer import IndexWriter

__all__ = [
    "DB_NAME", "FORMAT_VERSION", "FileRecord", "IndexReader", "IndexWriter", "backend_of", "connect", "index_identity",
    "is_index", "mismatch", "open_reader", "open_store", "open_store_vectors", "open_writer", "read_manifest",
    "require_index", "vector_rows",
]


def open_reader(folder, identity: dict | None = None):
    """A read-only view of the index of `folder`, whichever store holds it (ragqa.index.stores)."""
    return open_store(folder).reader(identity)


def open_writer(folder, identity: dict, rebuild: bool = False):
    """The writer of the index of `folder`, whichever store holds it; hold ragqa.index.lock.write_lock."""
    return open_store(folder).writer(identity, rebuild=rebuild)
