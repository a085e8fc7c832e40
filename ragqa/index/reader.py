"""A consistent, read-only view of the index, for search: chunks, BM25, dense vectors, filters."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ragqa.errors import IndexMismatchError
from ragqa.index.conditions import path_condition
from ragqa.index.history import HISTORY_DB
from ragqa.index.identity import mismatch
from ragqa.index.schema import (
    CHUNK_COLUMNS,
    FILE_COLUMNS,
    FileRecord,
    chunk_from_row,
    file_record,
    has_note_tables,
    open_for_reading,
    open_store_vectors,
)
from ragqa.records import Chunk, Hit


def match_expression(terms: list[str]) -> str | None:
    """An FTS5 MATCH expression for passages holding any of the terms, each quoted so that no word is read as
    FTS5 syntax (FTS5 applies the index's `porter unicode61` tokenizer to each: "Cells" matches "cell").

    >>> match_expression(["role", "tnf"]), match_expression([])
    ('"role" OR "tnf"', None)
    """
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms) or None


class IndexReader:
    """A consistent, read-only view of the index, for search."""

    def __init__(self, folder: Path, identity: dict | None = None):
        self.folder = Path(folder)
        self.conn, self.manifest = open_for_reading(self.folder)
        problem = mismatch(self.manifest, identity) if identity else None
        if problem:
            self.conn.close()
            raise IndexMismatchError(
                f"the index at {self.folder} does not match the config ({problem}); "
                f"re-ingest with `ragqa ingest --rebuild`"
            )
        self.generation = int(self.manifest.get("generation", 0))
        self.has_notes = has_note_tables(self.conn)
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
        sql = f"SELECT id, {CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})"
        return {row[0]: chunk_from_row(row[1:]) for row in self.conn.execute(sql, ids)}

    def stored_vectors(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of these chunks, in this order; zeros for an id deleted meanwhile (for MMR).
        SQLite is the truth for vectors whatever the vector backend."""
        ids = [int(i) for i in ids]
        rows = dict(self.conn.execute(f"SELECT id, vector FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids))
        dim = int(self.manifest.get("dim") or 1)
        return np.vstack([np.frombuffer(rows[i], dtype=np.float32) if i in rows else np.zeros(dim, np.float32)
                          for i in ids])

    def dense(self, query_vector: np.ndarray, k: int, allowed_ids=None) -> list[tuple[int, float]]:
        ids, scores = self.vectors.search(query_vector, k, allowed_ids)
        return list(zip(ids.tolist(), scores.tolist(), strict=True))

    def bm25(self, terms: list[str], k: int, allowed_ids=None) -> list[tuple[int, float]]:
        """Full-text BM25 (SQLite FTS5, Porter stemming) over passages holding any of the terms (the read path
        picks them: ragqa.retrieve.lexical.topic_terms); higher is better. No term matches nothing."""
        match = match_expression(terms)
        if match is None:
            return []
        sql = "SELECT rowid, -bm25(chunks_fts) AS s FROM chunks_fts WHERE chunks_fts MATCH ?"
        params: list = [match]
        if allowed_ids is not None:
            sql += f" AND rowid IN ({','.join(str(int(i)) for i in allowed_ids) or 'NULL'})"
        sql += " ORDER BY s DESC LIMIT ?"
        return [(int(r), float(s)) for r, s in self.conn.execute(sql, [*params, k])]

    def hybrid(self, terms: list[str], query_vector: np.ndarray, k: int, depth: int, rrf_k: int,
               allowed=None) -> list[tuple[int, float]]:
        """Dense and BM25, each `depth` deep, fused by reciprocal rank (ragqa.fusion); the best k."""
        from ragqa.fusion import reciprocal_rank_fusion

        rankings = [self.dense(query_vector, depth, allowed), self.bm25(terms, depth, allowed)]
        return reciprocal_rank_fusion(rankings, k=rrf_k)[:k]

    def hits(self, scored: list[tuple[int, float]]) -> list[Hit]:
        """Attach chunk rows; ids deleted by a concurrent ingest are dropped."""
        rows = self.chunks(i for i, _ in scored)
        return [Hit(i, s, rows[i]) for i, s in scored if i in rows]

    def ids_matching(self, **conditions) -> np.ndarray:
        """Ids of the chunks that pass the filters (ragqa.index.conditions.path_condition), for a filtered search."""
        return self.ids_where(*path_condition(note_tables=self.has_notes, **conditions))

    def ids_where(self, sql_condition: str, params: list) -> np.ndarray:
        sql = f"SELECT id FROM chunks WHERE {sql_condition}"
        return np.asarray([r[0] for r in self.conn.execute(sql, params)], dtype=np.int64)

    def files(self) -> list[FileRecord]:
        return [file_record(row) for row in self.conn.execute(f"SELECT {FILE_COLUMNS} FROM files ORDER BY path")]

    def stats(self) -> dict:
        files = self.conn.execute("SELECT count(*) FROM files WHERE status='indexed'").fetchone()[0]
        types = dict(self.conn.execute("SELECT kind, count(*) FROM files WHERE status='indexed' GROUP BY kind "
                                       "ORDER BY count(*) DESC, kind").fetchall())
        chunks = self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        size = sum(p.stat().st_size for p in self.folder.iterdir()  # the index's own files, not saved chats
                   if p.is_file() and not p.name.startswith(HISTORY_DB))
        last = self.manifest.get("last_ingest") or {}
        when = datetime.fromtimestamp(last["at"], UTC).isoformat(timespec="seconds") if "at" in last else None
        return {
            "files": files, "types": types, "chunks": chunks, "model": self.manifest.get("model"),
            "dim": self.manifest.get("dim"), "bytes": size, "last_ingest": when,
            "notes_dir": last.get("notes_dir"),
        }

    def close(self) -> None:
        """Let go of SQLite and of the vector backend's client (other views of the index keep theirs)."""
        self.vectors.detach()
        self.conn.close()
