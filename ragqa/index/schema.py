"""The SQLite side of the index folder: its tables, its manifest, its format version.

    index.sqlite   manifest (key -> JSON value), files, chunks (with their vectors), chunks_fts (BM25),
                   and the notes' metadata: notes (dates), note_tags, note_links, note_names (format 2)

A vector is stored as its float32 bytes. The manifest holds the index's identity
(model, dim, chunking, backend), its generation (bumped by every commit) and
`format`: the version of this layout. Whoever opens an index checks the format
first (`check_format`), so an index written by a newer ragqa is never misread
nor overwritten by an older one. The manifest table itself (key, value) is the
one thing every format keeps, so that any version can read `format`.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ragqa.errors import IndexFormatError, IndexMissingError
from ragqa.index.vectors import open_vectors
from ragqa.records import Chunk, NoteMeta

# Bump when an older ragqa would misread the index. Older indexes (no `format`, or a lower one)
# are read as they are; IndexWriter upgrades them in place, where format is recorded.
# 2: the notes' metadata tables (dates, tags, links, names), filled by the next ingest without re-embedding.
FORMAT_VERSION = 2
DB_NAME = "index.sqlite"
TABLES = ("chunks", "chunks_fts", "files", "manifest", "notes", "note_tags", "note_links", "note_names")

SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT, kind TEXT,
    title TEXT, status TEXT NOT NULL, reason TEXT, chunks INTEGER DEFAULT 0,
    meta TEXT DEFAULT '{}', indexed_at REAL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, ordinal INTEGER NOT NULL,
    title TEXT, heading TEXT, page INTEGER, text TEXT NOT NULL, tags TEXT DEFAULT '[]',
    vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_path ON chunks(path);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(body, tokenize='porter unicode61');
CREATE TABLE IF NOT EXISTS notes (
    path TEXT PRIMARY KEY, created TEXT NOT NULL, created_from TEXT NOT NULL,
    modified TEXT NOT NULL, modified_from TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notes_by_created ON notes(created);
CREATE INDEX IF NOT EXISTS notes_by_modified ON notes(modified);
CREATE TABLE IF NOT EXISTS note_tags (path TEXT NOT NULL, tag TEXT NOT NULL, written TEXT NOT NULL, own INTEGER);
CREATE INDEX IF NOT EXISTS note_tags_by_tag ON note_tags(tag);
CREATE INDEX IF NOT EXISTS note_tags_by_path ON note_tags(path);
CREATE TABLE IF NOT EXISTS note_links (path TEXT NOT NULL, target TEXT NOT NULL, name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS note_links_by_name ON note_links(name);
CREATE INDEX IF NOT EXISTS note_links_by_path ON note_links(path);
CREATE TABLE IF NOT EXISTS note_names (path TEXT NOT NULL, name TEXT NOT NULL, written TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS note_names_by_name ON note_names(name);
CREATE INDEX IF NOT EXISTS note_names_by_path ON note_names(path);
"""
NOTE_TABLES = ("notes", "note_tags", "note_links", "note_names")


FILE_COLUMNS = "path, size, mtime_ns, sha256, kind, status, title, reason, chunks, meta"


@dataclass
class FileRecord:
    """What the index remembers about one file of the notes folder."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    kind: str
    status: str  # "indexed" | "skipped"
    title: str = ""
    reason: str | None = None
    chunks: int = 0
    meta: dict | None = None
    note: NoteMeta | None = None  # dates, tags, links, aliases: written to the note tables, not to `files`


CHUNK_COLUMNS = "path, ordinal, title, heading, page, text, tags"


def chunk_from_row(row) -> Chunk:
    """A Chunk from a row of CHUNK_COLUMNS."""
    path, ordinal, title, heading, page, text, tags = row
    return Chunk(path=path, title=title, heading=heading, text=text, page=page, ordinal=ordinal, tags=json.loads(tags))


def file_record(row) -> FileRecord:
    """A FileRecord from a row of FILE_COLUMNS."""
    path, size, mtime_ns, sha256, kind, status, title, reason, chunks, meta = row
    return FileRecord(path, size, mtime_ns, sha256, kind, status, title, reason, chunks, json.loads(meta or "{}"))


def vectors_from_blobs(blobs) -> np.ndarray:
    """Stored vectors as one writable (n, dim) float32 matrix, in the blobs' order (there must be some)."""
    blobs = list(blobs)
    return np.frombuffer(bytearray().join(blobs), dtype=np.float32).reshape(len(blobs), -1)


def connect(folder: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(Path(folder) / DB_NAME, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def read_manifest(conn: sqlite3.Connection) -> dict:
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM manifest")}


def has_manifest(conn: sqlite3.Connection) -> bool:
    """False for a database no writer has set up yet."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='manifest'").fetchone() is not None


def has_note_tables(conn: sqlite3.Connection) -> bool:
    """False for an index made before format 2 that no ingest has upgraded yet."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='notes'").fetchone() is not None


def is_index(folder: Path) -> bool:
    """True when `folder`'s index exists (its database file; or its collections, when Milvus holds it)."""
    from ragqa.index.stores import open_store

    return open_store(Path(folder)).exists()


def require_index(folder: Path) -> None:
    """Fail fast, before any model is loaded, when there is no index to read."""
    if not is_index(folder):
        raise IndexMissingError(f"no index at {folder} yet: run `ragqa ingest` first")


def _require_file(folder: Path) -> None:
    if not (Path(folder) / DB_NAME).exists():
        raise IndexMissingError(f"no index at {folder} yet: run `ragqa ingest` first")


def is_newer_format(manifest: dict) -> bool:
    """True when the index was written in a format this ragqa does not know (a newer one).

    >>> is_newer_format({}), is_newer_format({"format": 1}), is_newer_format({"format": FORMAT_VERSION + 1})
    (False, False, True)
    """
    found = manifest.get("format")
    return found is not None and not (isinstance(found, int) and found <= FORMAT_VERSION)


def check_format(manifest: dict, folder: Path) -> None:
    """Refuse an index written by a newer ragqa, in one line that says what to do."""
    if is_newer_format(manifest):
        raise IndexFormatError(
            f"the index at {folder} is in format {manifest['format']!r}, written by a newer ragqa; this one reads "
            f"format {FORMAT_VERSION} and older: upgrade ragqa, or rebuild the index with `ragqa ingest --rebuild`"
        )


def open_for_reading(folder: Path, snapshot: bool = False) -> tuple[sqlite3.Connection, dict]:
    """A connection to an existing index and its manifest, once its format is known to be readable.
    `snapshot`: in a read transaction that starts with the manifest (the caller closes it)."""
    _require_file(folder)
    conn = connect(folder)
    try:
        if snapshot:
            conn.execute("BEGIN")
        manifest = read_manifest(conn)
        check_format(manifest, folder)
    except BaseException:
        conn.close()
        raise
    return conn, manifest


def vector_rows(conn: sqlite3.Connection, batch: int = 50_000):
    """A function yielding (ids, vectors) batches from SQLite, to rebuild a vector store."""
    def rows():
        cursor = conn.execute("SELECT id, vector FROM chunks ORDER BY id")
        while chunk := cursor.fetchmany(batch):
            ids = np.fromiter((r[0] for r in chunk), dtype=np.int64, count=len(chunk))
            yield ids, vectors_from_blobs(r[1] for r in chunk)
    return rows


def open_store_vectors(folder: Path, conn: sqlite3.Connection, manifest: dict, backend: dict | None,
                       writing: bool = True):
    """The vector backend named in the manifest, in step with SQLite's generation."""
    backend = dict(backend or manifest.get("backend") or {"name": "faiss"})
    name = backend.pop("name")
    return open_vectors(name, folder, int(manifest.get("dim") or 1), int(manifest.get("generation", 0)),
                        vector_rows(conn), writing=writing, **backend)
