"""Applies ingest results to the index, one SQLite transaction per batch.

Every change is one transaction: a file's old chunks go, its new chunks and
vectors come, its hash is recorded, and the generation is bumped, all or
nothing. A kill at any moment leaves the previous committed state.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ragqa.index.identity import mismatch
from ragqa.index.note_rows import write_note_rows
from ragqa.index.schema import (
    FILE_COLUMNS,
    FORMAT_VERSION,
    NOTE_TABLES,
    SCHEMA,
    TABLES,
    FileRecord,
    check_format,
    connect,
    file_record,
    has_manifest,
    is_newer_format,
    open_store_vectors,
    read_manifest,
)
from ragqa.records import Chunk

log = logging.getLogger(__name__)


class IndexWriter:
    """Applies ingest results in transactions. Hold `ragqa.index.lock.write_lock` while using it.

    An index written by a newer ragqa is refused (IndexFormatError), unless `rebuild` replaces it.
    """

    def __init__(self, folder: Path, identity: dict, rebuild: bool = False):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.conn = connect(self.folder)
        try:
            manifest = self._prepare(rebuild)
        except BaseException:
            self.conn.close()
            raise
        self.rebuilt = bool(manifest.get("model")) and (rebuild or mismatch(manifest, identity) is not None)
        if self.rebuilt or not manifest.get("model"):
            # A new generation number, so no FAISS file of the old model is ever taken for this one.
            with self.transaction():
                for table in TABLES:
                    self.conn.execute(f"DELETE FROM {table}")
                generation = _as_int(manifest.get("generation")) + 1
                self._set({**identity, "format": FORMAT_VERSION, "generation": generation})
        elif manifest.get("format") != FORMAT_VERSION:
            with self.transaction():
                self._set({"format": FORMAT_VERSION})
            if _as_int(manifest.get("format")) < 2 and self.conn.execute("SELECT 1 FROM files LIMIT 1").fetchone():
                log.warning("index at %s: upgraded in place to format %s (note dates, tags and links); this ingest "
                            "reads them from the notes, nothing is embedded again", self.folder, FORMAT_VERSION)
            else:
                log.info("index at %s: now recorded as format %s (it had %s)", self.folder, FORMAT_VERSION,
                         manifest.get("format", "none"))
        self.manifest = read_manifest(self.conn)
        self.generation = int(self.manifest["generation"])
        self.vectors = open_store_vectors(self.folder, self.conn, self.manifest, None)
        self.dirty = False

    def _prepare(self, rebuild: bool) -> dict:
        """The manifest as found ({} for a new index), once the tables of this format are in place."""
        manifest = read_manifest(self.conn) if has_manifest(self.conn) else {}
        if is_newer_format(manifest):
            if not rebuild:
                check_format(manifest, self.folder)  # refuses: never overwrite what a newer ragqa wrote
            # --rebuild: the newer layout may differ in any table, so ours replace them (one transaction).
            log.info("index at %s: format %s replaced by format %s (--rebuild)",
                     self.folder, manifest["format"], FORMAT_VERSION)
            drops = "".join(f"DROP TABLE IF EXISTS {table};" for table in TABLES)
            self.conn.executescript(f"BEGIN IMMEDIATE;{drops}{SCHEMA}COMMIT;")
        else:
            self.conn.executescript(SCHEMA)
        return manifest

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
        return {row[0]: file_record(row) for row in self.conn.execute(f"SELECT {FILE_COLUMNS} FROM files")}

    def _delete_note(self, path: str) -> None:
        for table in NOTE_TABLES:
            self.conn.execute(f"DELETE FROM {table} WHERE path=?", (path,))

    def _write_note(self, record: FileRecord) -> None:
        self._delete_note(record.path)
        if record.status == "indexed" and record.note is not None:
            write_note_rows(self.conn, record.path, record.title, record.note)

    def paths_without_notes(self) -> set[str]:
        """Indexed files with no note metadata yet (an index from before format 2)."""
        return {r[0] for r in self.conn.execute(
            "SELECT path FROM files WHERE status='indexed' AND path NOT IN (SELECT path FROM notes)")}

    def set_notes(self, records: list[FileRecord]) -> None:
        """Record these files' note metadata alone (their passages stay as they are). One transaction."""
        with self.transaction():
            for record in records:
                self._write_note(record)
            self.generation += 1
            self._set({"generation": self.generation})

    def _delete_chunks(self, path: str) -> None:
        ids = [r[0] for r in self.conn.execute("SELECT id FROM chunks WHERE path=?", (path,))]
        if ids:
            self.conn.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(i,) for i in ids])
            self.conn.execute("DELETE FROM chunks WHERE path=?", (path,))
            self._pending_removals.extend(ids)

    def apply(self, files: list[tuple[FileRecord, list[Chunk], np.ndarray]], removed: Sequence[str] = ()) -> None:
        """Commit a batch: each file's chunks replaced, each removed path dropped. All or nothing."""
        self._pending_removals: list[int] = []
        added_ids, added_vectors = [], []
        with self.transaction():
            for path in removed:
                self._delete_chunks(path)
                self._delete_note(path)
                self.conn.execute("DELETE FROM files WHERE path=?", (path,))
            for record, chunks, vecs in files:
                self._delete_chunks(record.path)
                for chunk, vec in zip(chunks, vecs, strict=True):
                    cur = self.conn.execute(
                        "INSERT INTO chunks(path, ordinal, title, heading, page, text, tags, vector)"
                        " VALUES (?,?,?,?,?,?,?,?)",
                        (chunk.path, chunk.ordinal, chunk.title, chunk.heading, chunk.page, chunk.text,
                         json.dumps(chunk.tags), np.asarray(vec, dtype=np.float32).tobytes()),
                    )
                    self.conn.execute("INSERT INTO chunks_fts(rowid, body) VALUES (?, ?)",
                                      (cur.lastrowid, chunk.embed_text))
                    added_ids.append(cur.lastrowid)
                    added_vectors.append(vec)
                record.chunks = len(chunks)
                self.conn.execute(
                    "INSERT OR REPLACE INTO files(path, size, mtime_ns, sha256, kind, title, status, reason, chunks,"
                    " meta, indexed_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (record.path, record.size, record.mtime_ns, record.sha256, record.kind, record.title,
                     record.status, record.reason, record.chunks, json.dumps(record.meta or {}), time.time()),
                )
                self._write_note(record)
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
        self.vectors.detach()
        self.conn.close()


def _as_int(value) -> int:
    """A manifest number, or 0 when it is missing (or not a number, in a layout this ragqa does not know)."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
