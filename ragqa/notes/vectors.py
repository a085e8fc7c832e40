"""One vector per note, kept beside the index and brought up to date incrementally.

    index_dir/note_vectors.npz   paths, titles, per-note signatures, vectors,
                                 and the generation + model they were computed at

A note's vector is the normalised mean of its chunks' vectors (`similarity.note_vector`), read from SQLite
(the source of truth). The file is a derived cache, like the FAISS file: it is
written to a temp name and renamed, and it is never trusted blindly. When the
index's generation has moved on, only notes whose signature (content hash,
chunk count, newest chunk id) changed are read and averaged again; chunk ids are
never reused, so a re-embedded note always has a new signature. A change of
model or chunking (the index's identity) recomputes everything.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ragqa.notes.similarity import centred
from ragqa.index.store import connect, read_manifest, require_index

CACHE_NAME = "note_vectors.npz"
MIN_NOTES_TO_CENTRE = 10  # below this the mean is mostly the notes themselves (2 notes would score -1)
_NOT_IDENTITY = {"generation", "last_ingest"}
_SQL_BATCH = 500  # paths per IN (...) query


@dataclass
class NoteVectors:
    """Every indexed note (sorted by path) with its vector; row i of `vectors` is `paths[i]`."""

    paths: list[str]
    titles: list[str]
    vectors: np.ndarray  # (n, dim) float32, rows normalised
    generation: int
    notes_dir: str | None = None  # the folder the index was last ingested from
    recomputed: list[str] = field(default_factory=list)  # notes averaged again by this load
    signatures: list[str] = field(default_factory=list, repr=False)  # "sha256:chunks:newest chunk id"

    def __post_init__(self):
        self._row = {p: i for i, p in enumerate(self.paths)}
        self._comparable = None

    def __len__(self) -> int:
        return len(self.paths)

    def row(self, path: str) -> int | None:
        return self._row.get(path)

    def comparable(self) -> np.ndarray:
        """The vectors notes are ranked and grouped by: centred on the collection's mean (see
        `similarity.centred`) once there are enough notes for a mean to mean something."""
        if self._comparable is None:
            self._comparable = centred(self.vectors) if len(self) >= MIN_NOTES_TO_CENTRE else self.vectors
        return self._comparable


def index_generation(index_dir: Path) -> int:
    """The index's committed generation (one small query), e.g. as a cache key for maps and topics."""
    require_index(Path(index_dir))
    conn = connect(Path(index_dir))
    try:
        row = conn.execute("SELECT value FROM manifest WHERE key = 'generation'").fetchone()
    finally:
        conn.close()
    return int(json.loads(row[0])) if row else 0


def load_note_vectors(index_dir: Path) -> NoteVectors:
    """The note vectors of the index's current generation, recomputing only what changed."""
    index_dir = Path(index_dir)
    require_index(index_dir)
    conn = connect(index_dir)
    try:
        conn.execute("BEGIN")  # one snapshot: an ingest committing meanwhile is not half seen
        manifest = read_manifest(conn)
        generation = int(manifest.get("generation", 0))
        identity = {k: v for k, v in manifest.items() if k not in _NOT_IDENTITY}
        notes_dir = (manifest.get("last_ingest") or {}).get("notes_dir")
        cached = _read_cache(index_dir, identity)
        if cached is not None and cached.generation == generation:
            cached.notes_dir = notes_dir
            return cached
        fresh = _update(conn, cached, generation, notes_dir, int(manifest.get("dim") or 0))
        conn.execute("COMMIT")
    finally:
        conn.close()
    _write_cache(index_dir, fresh, identity)
    return fresh


def refresh_note_vectors(index_dir: Path) -> list[str]:
    """After an ingest: bring the note vectors up to date now (only changed notes), so the next
    `related`/`topics`/map is instant. Never raises: the vectors are derived data, and any reader
    recomputes them lazily. Returns the notes averaged again."""
    try:
        return load_note_vectors(index_dir).recomputed
    except Exception as err:  # noqa: BLE001 - must never fail the ingest that calls it
        logging.getLogger(__name__).warning("note vectors not refreshed (they will be on next use): %s", err)
        return []


def _signatures(conn) -> dict[str, tuple[str, str]]:
    """path -> (signature, title) for every note that has chunks."""
    sql = ("SELECT f.path, f.title, f.sha256, c.n, c.newest FROM files f JOIN "
           "(SELECT path, count(*) AS n, max(id) AS newest FROM chunks GROUP BY path) c ON c.path = f.path "
           "WHERE f.status = 'indexed'")
    return {path: (f"{sha}:{n}:{newest}", title or Path(path).stem)
            for path, title, sha, n, newest in conn.execute(sql)}


def _update(conn, cached: NoteVectors | None, generation: int, notes_dir, dim: int) -> NoteVectors:
    current = _signatures(conn)
    old_rows = {} if cached is None else {p: i for i, p in enumerate(cached.paths)}
    old_sigs = {} if cached is None else dict(zip(cached.paths, cached.signatures))
    changed = sorted(p for p, (sig, _) in current.items() if old_sigs.get(p) != sig)
    new_vectors = _mean_vectors(conn, changed)
    paths = sorted(current)
    if paths:
        rows = [new_vectors[p] if p in new_vectors else cached.vectors[old_rows[p]] for p in paths]
        matrix = np.vstack(rows).astype(np.float32)
    else:
        matrix = np.zeros((0, dim), dtype=np.float32)
    return NoteVectors(paths, [current[p][1] for p in paths], matrix, generation, notes_dir,
                       recomputed=changed, signatures=[current[p][0] for p in paths])


def _mean_vectors(conn, paths: list[str]) -> dict[str, np.ndarray]:
    """{path: normalised mean of its chunk vectors}, a batch of notes at a time, summed in one numpy call."""
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(paths), _SQL_BATCH):
        batch = paths[start:start + _SQL_BATCH]
        sql = f"SELECT path, vector FROM chunks WHERE path IN ({','.join('?' * len(batch))}) ORDER BY path, id"
        rows = conn.execute(sql, batch).fetchall()
        if not rows:
            continue
        matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float32).reshape(len(rows), -1)
        firsts = [i for i in range(len(rows)) if i == 0 or rows[i][0] != rows[i - 1][0]]
        sums = np.add.reduceat(matrix, firsts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        out.update(zip((rows[i][0] for i in firsts), sums / np.where(norms > 0, norms, 1)))
    return out


def _read_cache(index_dir: Path, identity: dict) -> NoteVectors | None:
    path = index_dir / CACHE_NAME
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("identity") != identity:
                return None
            return NoteVectors([str(p) for p in data["paths"]], [str(t) for t in data["titles"]],
                               data["vectors"].astype(np.float32), int(header["generation"]),
                               signatures=[str(s) for s in data["signatures"]])
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile):  # absent, partial or foreign
        return None


def _write_cache(index_dir: Path, notes: NoteVectors, identity: dict) -> None:
    final = index_dir / CACHE_NAME
    # the app writes from its ingest thread and from page sessions: one temp name per thread
    temp = index_dir / f".{CACHE_NAME}.{os.getpid()}.{threading.get_ident()}.tmp"
    header = json.dumps({"identity": identity, "generation": notes.generation})
    try:
        with open(temp, "wb") as handle:
            np.savez(handle, header=np.array(header), paths=np.array(notes.paths, dtype=str),
                     titles=np.array(notes.titles, dtype=str), signatures=np.array(notes.signatures, dtype=str),
                     vectors=notes.vectors)
        os.replace(temp, final)
    except OSError:  # a read-only index still answers; it just recomputes next time
        temp.unlink(missing_ok=True)
