"""The notes' catalog and the index snapshot of an all-Milvus index: the SQLite ones, over a copy in memory.

The catalog (ragqa.index.catalog: which notes have a tag, a date, a link) and the snapshot (ragqa.index.queries:
notes, chunk vectors, chunk texts) are SQL over index.sqlite's tables. Here the file rows, with the note metadata
each carries, are written into those same tables in an in-memory SQLite, and the same classes answer: the same
questions get the same answers on both stores. The chunks are copied only for what reads all of them (the note
vectors, the graph); one note's chunks, and the first passages a list cites, are asked of Milvus directly.
"""
from __future__ import annotations

import json
import sqlite3

import numpy as np

from ragqa.index.catalog import Catalog
from ragqa.index.milvus_filters import literal
from ragqa.index.milvus_layout import CHUNK_FIELDS, chunk_from_row, chunk_id, record_from_row
from ragqa.index.milvus_state import IN_LIST, MilvusIndex, said
from ragqa.index.note_rows import write_note_rows
from ragqa.index.queries import IndexedNote, IndexSnapshot
from ragqa.index.schema import SCHEMA, FileRecord
from ragqa.records import Chunk


def _files_in_memory(index: MilvusIndex) -> tuple[sqlite3.Connection, dict[str, FileRecord], dict[str, int]]:
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.executescript(SCHEMA)
    records, gens = {}, {}
    conn.execute("BEGIN")
    for row in index.file_rows():
        record = record_from_row(row)
        records[record.path], gens[record.path] = record, row["gen"]
        conn.execute("INSERT INTO files(path, size, mtime_ns, sha256, kind, title, status, reason, chunks, meta, "
                     "indexed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     (record.path, record.size, record.mtime_ns, record.sha256, record.kind, record.title,
                      record.status, record.reason, record.chunks, json.dumps(record.meta or {}),
                      row["record"].get("indexed_at")))
        if record.status == "indexed" and record.note is not None:
            write_note_rows(conn, record.path, record.title, record.note)
    conn.execute("COMMIT")
    return conn, records, gens


def _first_passages(index: MilvusIndex, paths: list[str]) -> dict[str, tuple[int, Chunk]]:
    found: dict[str, tuple[int, Chunk]] = {}
    with said(index.location):
        for start in range(0, len(paths), IN_LIST):
            where = f"path in [{', '.join(literal(p) for p in paths[start:start + IN_LIST])}] and ordinal == 0"
            rows = index.client.query(index.names["chunks"], filter=where, output_fields=["id", *CHUNK_FIELDS])
            found.update((row["path"], (row["id"], chunk_from_row(row))) for row in index.visible(rows))
    return found


class MilvusCatalog(Catalog):
    """The catalog over the file rows in memory; each listed note's first passage comes from Milvus."""

    def __init__(self, index: MilvusIndex):
        self._index = index
        conn, _, _ = _files_in_memory(index)
        super().__init__(conn, index.folder)

    def first_passages(self, paths: list[str]) -> dict[str, tuple[int, Chunk]]:
        return _first_passages(self._index, paths)

    def close(self) -> None:
        self._conn.close()


class MilvusSnapshot(IndexSnapshot):
    """IndexSnapshot of an all-Milvus index. The manifest is read at once (`generation` costs nothing more); the
    file rows when first needed; all visible chunks are copied in only for what reads every one (the map, topics)."""

    def __init__(self, index: MilvusIndex, manifest: dict):
        self._index = index
        self._memory: tuple | None = None
        self._copied = False
        self.manifest = manifest  # no super().__init__: the connection is made at first need (_files)

    def _files(self) -> tuple[sqlite3.Connection, dict[str, FileRecord], dict[str, int]]:
        if self._memory is None:
            self._memory = _files_in_memory(self._index)
            self._conn = self._memory[0]
        return self._memory

    def _with_chunks(self) -> MilvusSnapshot:
        conn, _, gens = self._files()
        if not self._copied:
            rows = self._index.query(self._index.names["chunks"], "", ["id", "gen", "dense", *CHUNK_FIELDS])
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO chunks(id, path, ordinal, title, heading, page, text, tags, vector)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                [(r["id"], r["path"], r["ordinal"], r["title"], r["heading"], r["page"], r["text"],
                  json.dumps(list(r["tags"] or [])), np.asarray(r["dense"], np.float32).tobytes())
                 for r in rows if gens.get(r["path"]) == r["gen"]])
            conn.execute("COMMIT")
            self._copied = True
        return self

    def indexed_notes(self) -> list[IndexedNote]:
        """From the file rows alone: a note's newest chunk is the largest of its chunk ids, which name its content."""
        _, records, _ = self._files()
        return [IndexedNote(r.path, r.title, r.sha256, r.chunks,
                            max(chunk_id(r.path, r.sha256, i) for i in range(r.chunks)))
                for r in records.values() if r.status == "indexed" and r.chunks]

    def chunk_vectors_by_note(self, paths):
        """The visible chunk vectors of these notes, by path then ordinal, a batch of notes at a time."""
        for start in range(0, len(paths), IN_LIST):
            batch = paths[start:start + IN_LIST]
            with said(self._index.location):
                rows = self._index.query(self._index.names["chunks"],
                                         f"path in [{', '.join(literal(p) for p in batch)}]",
                                         ["path", "gen", "ordinal", "dense"])
            rows = sorted(self._index.visible(rows), key=lambda r: (r["path"], r["ordinal"]))
            if rows:
                yield [r["path"] for r in rows], np.asarray([r["dense"] for r in rows], np.float32)

    def chunk_vectors(self):
        return IndexSnapshot.chunk_vectors(self._with_chunks())

    def chunk_texts(self):
        return IndexSnapshot.chunk_texts(self._with_chunks())

    def chunk_count(self) -> int:
        _, records, _ = self._files()
        return sum(r.chunks for r in records.values() if r.status == "indexed")

    def note_chunks(self, path: str) -> list[tuple[int | None, str, str]]:
        with said(self._index.location):
            rows = self._index.client.query(self._index.names["chunks"], filter=f"path == {literal(path)}",
                                            output_fields=["path", "gen", "ordinal", "page", "heading", "text"])
        rows = sorted(self._index.visible(rows), key=lambda r: r["ordinal"])
        return [(r["page"], r["heading"], r["text"]) for r in rows]

    def file_records(self) -> dict[str, FileRecord]:
        return dict(self._files()[1])

    def close(self) -> None:
        if self._memory is not None:
            self._memory[0].close()
