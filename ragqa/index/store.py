"""The index folder: the one module that owns its format, for writers and readers.

    index_dir/
      index.sqlite        manifest, files, chunks (with their vectors), chunks_fts (BM25)
      vectors.<gen>.faiss FAISS copy of the vectors at generation <gen>
      write.lock          held by the one ingest that may write

Every change is one SQLite transaction: a file's old chunks go, its new chunks
and vectors come, its hash is recorded, and the generation is bumped, all or
nothing. A kill at any moment leaves the previous committed state.
"""
from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ragqa.index.vectors import open_vectors
from ragqa.errors import IndexMismatchError, IndexMissingError
from ragqa.records import Chunk, Hit

FORMAT_VERSION = 1
DB_NAME = "index.sqlite"

_SCHEMA = """
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
"""


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


def connect(folder: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(folder / DB_NAME, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def read_manifest(conn: sqlite3.Connection) -> dict:
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM manifest")}


def index_identity(settings, embedder, index_dir: Path | None = None) -> dict:
    """Everything that makes stored vectors comparable; ingest rebuilds when it changes,
    and search refuses to run against an index built differently. `index_dir`: the index folder
    really used (`--index`), when it is not the configured one."""
    return {**embedder.identity(), "chunk_tokens": settings.chunking.chunk_tokens,
            "overlap_tokens": settings.chunking.overlap_tokens, "chunker": 1,
            "backend": backend_of(settings, index_dir)}


def backend_of(settings, index_dir: Path | None = None) -> dict:
    """The vector backend as recorded in the manifest (never a secret: tokens stay in env vars).
    A Milvus Lite file is relative to the index folder it belongs to, so two index folders never share one."""
    store = settings.store
    if store.backend == "faiss":
        return {"name": "faiss"}
    uri = store.milvus_uri
    if "://" not in uri:
        uri = str((Path(index_dir or settings.index_path) / uri).resolve())
    return {"name": "milvus", "uri": uri, "collection": store.milvus_collection, "token_env": store.milvus_token_env}


def mismatch(manifest: dict, identity: dict) -> str | None:
    """Describe how an index differs from what the config asks for, or None."""
    for key, wanted in identity.items():
        have = manifest.get(key)
        if have != wanted:
            return f"{key} is {have!r} in the index but {wanted!r} in the config"
    return None


def vector_rows(conn: sqlite3.Connection, batch: int = 50_000):
    """A function yielding (ids, vectors) batches from SQLite, to rebuild a vector store."""
    def rows():
        cursor = conn.execute("SELECT id, vector FROM chunks ORDER BY id")
        while chunk := cursor.fetchmany(batch):
            ids = np.fromiter((r[0] for r in chunk), dtype=np.int64, count=len(chunk))
            yield ids, np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in chunk])
    return rows


def open_store_vectors(folder: Path, conn: sqlite3.Connection, manifest: dict, backend: dict | None,
                       writing: bool = True):
    """The vector backend named in the manifest, in step with SQLite's generation."""
    backend = dict(backend or manifest.get("backend") or {"name": "faiss"})
    name = backend.pop("name")
    return open_vectors(name, folder, int(manifest.get("dim") or 1), int(manifest.get("generation", 0)),
                        vector_rows(conn), writing=writing, **backend)


def _row_to_chunk(row) -> Chunk:
    path, ordinal, title, heading, page, text, tags = row
    return Chunk(path=path, title=title, heading=heading, text=text, page=page, ordinal=ordinal, tags=json.loads(tags))


def require_index(folder: Path) -> None:
    """Fail fast, before any model is loaded, when there is no index to read."""
    if not (Path(folder) / DB_NAME).exists():
        raise IndexMissingError(f"no index at {folder} yet: run `ragqa ingest` first")


class IndexReader:
    """A consistent, read-only view of the index, for search."""

    def __init__(self, folder: Path, identity: dict | None = None):
        self.folder = Path(folder)
        require_index(self.folder)
        self.conn = connect(self.folder)
        self.manifest = read_manifest(self.conn)
        problem = mismatch(self.manifest, identity) if identity else None
        if problem:
            raise IndexMismatchError(
                f"the index at {self.folder} does not match the config ({problem}); "
                f"re-ingest with `ragqa ingest --rebuild`"
            )
        self.generation = int(self.manifest.get("generation", 0))
        self.vectors = open_store_vectors(self.folder, self.conn, self.manifest, None, writing=False)

    def is_stale(self) -> bool:
        """True when an ingest has committed since this view was opened."""
        row = self.conn.execute("SELECT value FROM manifest WHERE key='generation'").fetchone()
        return row is not None and int(json.loads(row[0])) != self.generation

    def chunks(self, ids) -> dict[int, Chunk]:
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = f"SELECT id, path, ordinal, title, heading, page, text, tags FROM chunks WHERE id IN ({marks})"
        return {row[0]: _row_to_chunk(row[1:]) for row in self.conn.execute(sql, ids)}

    def dense(self, query_vector: np.ndarray, k: int, allowed_ids=None) -> list[tuple[int, float]]:
        ids, scores = self.vectors.search(query_vector, k, allowed_ids)
        return list(zip(ids.tolist(), scores.tolist()))

    def bm25(self, query: str, k: int, allowed_ids=None) -> list[tuple[int, float]]:
        """Full-text BM25 (SQLite FTS5, Porter stemming) over the query's topic words; higher is better."""
        from ragqa.retrieve.lexical import match_expression

        match = match_expression(query)
        if match is None:
            return []
        sql = "SELECT rowid, -bm25(chunks_fts) AS s FROM chunks_fts WHERE chunks_fts MATCH ?"
        params: list = [match]
        if allowed_ids is not None:
            sql += f" AND rowid IN ({','.join(str(int(i)) for i in allowed_ids) or 'NULL'})"
        sql += " ORDER BY s DESC LIMIT ?"
        return [(int(r), float(s)) for r, s in self.conn.execute(sql, [*params, k])]

    def hits(self, scored: list[tuple[int, float]]) -> list[Hit]:
        """Attach chunk rows; ids deleted by a concurrent ingest are dropped."""
        rows = self.chunks(i for i, _ in scored)
        return [Hit(i, s, rows[i]) for i, s in scored if i in rows]

    def ids_where(self, sql_condition: str, params: list) -> np.ndarray:
        sql = f"SELECT id FROM chunks WHERE {sql_condition}"
        return np.asarray([r[0] for r in self.conn.execute(sql, params)], dtype=np.int64)

    def files(self) -> list[FileRecord]:
        sql = "SELECT path, size, mtime_ns, sha256, kind, status, title, reason, chunks, meta FROM files ORDER BY path"
        return [FileRecord(*row[:9], meta=json.loads(row[9] or "{}")) for row in self.conn.execute(sql)]

    def stats(self) -> dict:
        files = self.conn.execute("SELECT count(*) FROM files WHERE status='indexed'").fetchone()[0]
        chunks = self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        size = sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())
        last = self.manifest.get("last_ingest") or {}
        when = datetime.fromtimestamp(last["at"], timezone.utc).isoformat(timespec="seconds") if "at" in last else None
        return {
            "files": files, "chunks": chunks, "model": self.manifest.get("model"),
            "dim": self.manifest.get("dim"), "bytes": size, "last_ingest": when,
            "notes_dir": last.get("notes_dir"),
        }

    def close(self) -> None:
        self.conn.close()


class IndexWriter:
    """Applies ingest results in transactions. Hold `ragqa.index.lock.write_lock` while using it."""

    def __init__(self, folder: Path, identity: dict, rebuild: bool = False):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.conn = connect(self.folder)
        self.conn.executescript(_SCHEMA)
        manifest = read_manifest(self.conn)
        self.rebuilt = bool(manifest.get("model")) and (rebuild or mismatch(manifest, identity) is not None)
        if self.rebuilt or not manifest.get("model"):
            # A new generation number, so no FAISS file of the old model is ever taken for this one.
            with self.transaction():
                for table in ("chunks", "chunks_fts", "files", "manifest"):
                    self.conn.execute(f"DELETE FROM {table}")
                generation = int(manifest.get("generation", 0)) + 1
                self._set({**identity, "format": FORMAT_VERSION, "generation": generation})
        self.manifest = read_manifest(self.conn)
        self.generation = int(self.manifest["generation"])
        self.vectors = open_store_vectors(self.folder, self.conn, self.manifest, None)
        self.dirty = False

    @contextmanager
    def transaction(self):
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _set(self, values: dict) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO manifest(key, value) VALUES (?, ?)",
            [(k, json.dumps(v)) for k, v in values.items()],
        )

    def known_files(self) -> dict[str, FileRecord]:
        sql = "SELECT path, size, mtime_ns, sha256, kind, status, title, reason, chunks, meta FROM files"
        return {row[0]: FileRecord(*row[:9], meta=json.loads(row[9] or "{}")) for row in self.conn.execute(sql)}

    def _delete_chunks(self, path: str) -> None:
        ids = [r[0] for r in self.conn.execute("SELECT id FROM chunks WHERE path=?", (path,))]
        if ids:
            self.conn.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(i,) for i in ids])
            self.conn.execute("DELETE FROM chunks WHERE path=?", (path,))
            self._pending_removals.extend(ids)

    def apply(self, files: list[tuple[FileRecord, list[Chunk], np.ndarray]], removed: list[str] = ()) -> None:
        """Commit a batch: each file's chunks replaced, each removed path dropped. All or nothing."""
        self._pending_removals: list[int] = []
        added_ids, added_vectors = [], []
        with self.transaction():
            for path in removed:
                self._delete_chunks(path)
                self.conn.execute("DELETE FROM files WHERE path=?", (path,))
            for record, chunks, vecs in files:
                self._delete_chunks(record.path)
                for chunk, vec in zip(chunks, vecs):
                    cur = self.conn.execute(
                        "INSERT INTO chunks(path, ordinal, title, heading, page, text, tags, vector) VALUES (?,?,?,?,?,?,?,?)",
                        (chunk.path, chunk.ordinal, chunk.title, chunk.heading, chunk.page, chunk.text,
                         json.dumps(chunk.tags), np.asarray(vec, dtype=np.float32).tobytes()),
                    )
                    self.conn.execute("INSERT INTO chunks_fts(rowid, body) VALUES (?, ?)", (cur.lastrowid, chunk.embed_text))
                    added_ids.append(cur.lastrowid)
                    added_vectors.append(vec)
                record.chunks = len(chunks)
                self.conn.execute(
                    "INSERT OR REPLACE INTO files(path, size, mtime_ns, sha256, kind, title, status, reason, chunks, meta, indexed_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (record.path, record.size, record.mtime_ns, record.sha256, record.kind, record.title,
                     record.status, record.reason, record.chunks, json.dumps(record.meta or {}), time.time()),
                )
            self.generation += 1
            self._set({"generation": self.generation})
        # SQLite has committed: mirror the same change in the in-memory FAISS index.
        if self._pending_removals:
            self.vectors.remove(np.asarray(self._pending_removals, dtype=np.int64))
        if added_ids:
            self.vectors.add(np.asarray(added_ids, dtype=np.int64), np.vstack(added_vectors))
        self.dirty = True

    def touch(self, records: list[FileRecord]) -> None:
        """Record new size/mtime for files whose content hash did not change (no generation bump)."""
        with self.transaction():
            self.conn.executemany(
                "UPDATE files SET size=?, mtime_ns=? WHERE path=?", [(r.size, r.mtime_ns, r.path) for r in records]
            )

    def publish(self, last_ingest: dict | None = None) -> None:
        """Write the FAISS file for the committed generation, so readers load it directly."""
        if last_ingest is not None:
            with self.transaction():
                self._set({"last_ingest": last_ingest})
        if self.dirty or not self.vectors.is_saved(self.generation):
            self.vectors.save(self.generation)
            self.dirty = False

    def close(self) -> None:
        self.conn.close()
