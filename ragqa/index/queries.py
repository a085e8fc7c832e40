"""Reading the index without its vector backend: for notes, file status and the app's caches.

    with read_snapshot(index_dir) as index:   # one consistent view, even while an ingest commits
        index.generation, index.indexed_notes(), index.chunk_texts()
    file_records(index_dir)                   # {path: FileRecord}, {} before the first ingest
    index_version(index_dir)                  # (str(index_dir), file id, generation): a cache key

Each of these checks the index's format first, like IndexReader and IndexWriter.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ragqa.errors import IndexMissingError
from ragqa.index.schema import (
    DB_NAME,
    FILE_COLUMNS,
    FileRecord,
    file_record,
    open_for_reading,
    require_index,
    vectors_from_blobs,
)

PATHS_PER_QUERY = 500  # paths per `IN (...)`: well below SQLite's limit on parameters


class IndexedNote(NamedTuple):
    """A note that has chunks in the index. Chunk ids are never reused, so `newest_chunk` changes
    whenever the note is embedded again."""

    path: str
    title: str | None
    sha256: str
    chunks: int
    newest_chunk: int


class IndexSnapshot:
    """One read transaction over the index's SQLite; see `read_snapshot`."""

    def __init__(self, conn: sqlite3.Connection, manifest: dict):
        self._conn = conn
        self.manifest = manifest

    @property
    def generation(self) -> int:
        return int(self.manifest.get("generation", 0))

    def indexed_notes(self) -> list[IndexedNote]:
        """Every indexed note that has chunks, in no particular order."""
        sql = ("SELECT f.path, f.title, f.sha256, c.n, c.newest FROM files f JOIN "
               "(SELECT path, count(*) AS n, max(id) AS newest FROM chunks GROUP BY path) c ON c.path = f.path "
               "WHERE f.status = 'indexed'")
        return [IndexedNote(*row) for row in self._conn.execute(sql)]

    def chunk_vectors_by_note(self, paths: list[str]) -> Iterator[tuple[list[str], np.ndarray]]:
        """The chunk vectors of these notes, a batch of notes at a time: (the path of each row, (rows, dim) matrix),
        rows by path then chunk id. Notes without chunks are left out."""
        for start in range(0, len(paths), PATHS_PER_QUERY):
            batch = paths[start:start + PATHS_PER_QUERY]
            sql = f"SELECT path, vector FROM chunks WHERE path IN ({','.join('?' * len(batch))}) ORDER BY path, id"
            rows = self._conn.execute(sql, batch).fetchall()
            if rows:
                yield [path for path, _ in rows], vectors_from_blobs(blob for _, blob in rows)

    def chunk_vectors(self) -> tuple[list[tuple[str, str | None]], np.ndarray | None]:
        """Every chunk's (path, heading) and its vector, by chunk id; ([], None) for an empty index."""
        rows = self._conn.execute("SELECT path, heading, vector FROM chunks ORDER BY id").fetchall()
        if not rows:
            return [], None
        return [(path, heading) for path, heading, _ in rows], vectors_from_blobs(blob for _, _, blob in rows)

    def chunk_texts(self) -> Iterator[tuple[str, str]]:
        """(path, text) of every chunk, by path then position in the note."""
        yield from self._conn.execute("SELECT path, text FROM chunks ORDER BY path, ordinal")

    def chunk_count(self) -> int:
        return self._conn.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def note_chunks(self, path: str) -> list[tuple[int | None, str, str]]:
        """(page, heading, text) of each chunk of one note, in the note's order; [] for a note not indexed."""
        sql = "SELECT page, heading, text FROM chunks WHERE path = ? ORDER BY ordinal"
        return [tuple(row) for row in self._conn.execute(sql, [path])]

    def file_records(self) -> dict[str, FileRecord]:
        return {row[0]: file_record(row) for row in self._conn.execute(f"SELECT {FILE_COLUMNS} FROM files")}


def read_snapshot(index_dir: Path):
    """The index as of now, without opening its vector backend: an ingest committing meanwhile is not half seen.
    IndexMissingError before the first ingest, IndexFormatError for an index written by a newer ragqa.
    (A context manager: `with read_snapshot(index_dir) as index`; whichever store holds the index.)"""
    from ragqa.index.stores import open_store

    return open_store(Path(index_dir)).snapshot()


@contextmanager
def sqlite_snapshot(index_dir: Path) -> Iterator[IndexSnapshot]:
    """read_snapshot of an index kept in index.sqlite."""
    conn, manifest = open_for_reading(Path(index_dir), snapshot=True)
    try:
        yield IndexSnapshot(conn, manifest)
    finally:
        conn.close()  # ends the read transaction


def generation(index_dir: Path) -> int:
    """The index's committed generation: it moves with every ingest that changed something."""
    with read_snapshot(index_dir) as index:
        return index.generation


def file_records(index_dir: Path) -> dict[str, FileRecord]:
    """The index's record of each file it knows, by path; {} when there is no index yet."""
    from ragqa.index.stores import open_store

    if not open_store(Path(index_dir)).exists():
        return {}
    with read_snapshot(index_dir) as index:
        return index.file_records()


def index_file_id(index_dir: Path) -> int:
    """Which index this is: it changes when the index is deleted and built again (IndexMissingError when there is
    none). Compare it with an earlier one; it means nothing across machines."""
    from ragqa.index.stores import open_store

    return open_store(Path(index_dir)).file_id()


def sqlite_file_id(index_dir: Path) -> int:
    """Which file the index is: it changes when the index folder is deleted and built again (IndexMissingError
    when there is none). Compare it with an earlier one; it means nothing across machines."""
    for _ in range(5):
        try:
            return (Path(index_dir) / DB_NAME).stat().st_ino
        except FileNotFoundError:
            require_index(Path(index_dir))  # the IndexMissingError that says what to do
            # else a first ingest created it in between: look again
    raise IndexMissingError(f"the index at {index_dir} keeps being replaced: try again in a moment")


def index_version(index_dir: Path) -> tuple[str, int, int]:
    """(folder, file id, generation): a new version when an ingest commits, or when the index is built
    again from nothing. A key for caches of anything computed from the index."""
    return str(index_dir), index_file_id(index_dir), generation(index_dir)
