"""One vector per note, kept beside the index and brought up to date incrementally.

    index_dir/note_vectors.npz   paths, titles, per-note signatures, vectors,
                                 and the generation + model they were computed at

A note's vector is the normalised mean of its chunks' vectors (`_mean_vectors`), read from SQLite
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
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ragqa.atomic import replacing
from ragqa.index.queries import IndexSnapshot, read_snapshot
from ragqa.notes.similarity import centred

CACHE_NAME = "note_vectors.npz"
MIN_NOTES_TO_CENTRE = 10  # below this the mean is mostly the notes themselves (2 notes would score -1)
_NOT_IDENTITY = {"generation", "last_ingest"}


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


def load_note_vectors(index_dir: Path) -> NoteVectors:
    """The note vectors of the index's current generation, recomputing only what changed."""
    index_dir = Path(index_dir)
    with read_snapshot(index_dir) as index:  # one snapshot: an ingest committing meanwhile is not half seen
        manifest, generation = index.manifest, index.generation
        identity = {k: v for k, v in manifest.items() if k not in _NOT_IDENTITY}
        notes_dir = (manifest.get("last_ingest") or {}).get("notes_dir")
        cached = _read_cache(index_dir, identity)
        if cached is not None and cached.generation == generation:
            cached.notes_dir = notes_dir
            return cached
        fresh = _update(index, cached, generation, notes_dir, int(manifest.get("dim") or 0))
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


def _signatures(index: IndexSnapshot) -> dict[str, tuple[str, str]]:
    """path -> (signature, title) for every note that has chunks."""
    return {note.path: (f"{note.sha256}:{note.chunks}:{note.newest_chunk}", note.title or Path(note.path).stem)
            for note in index.indexed_notes()}


def _update(index: IndexSnapshot, cached: NoteVectors | None, generation: int, notes_dir, dim: int) -> NoteVectors:
    current = _signatures(index)
    old_rows = {} if cached is None else {p: i for i, p in enumerate(cached.paths)}
    old_sigs = {} if cached is None else dict(zip(cached.paths, cached.signatures, strict=True))
    changed = sorted(p for p, (sig, _) in current.items() if old_sigs.get(p) != sig)
    new_vectors = _mean_vectors(index, changed)
    paths = sorted(current)
    old_vectors = cached.vectors if cached is not None else np.zeros((0, dim), dtype=np.float32)  # none is old
    if paths:
        rows = [new_vectors[p] if p in new_vectors else old_vectors[old_rows[p]] for p in paths]
        matrix = np.vstack(rows).astype(np.float32)
    else:
        matrix = np.zeros((0, dim), dtype=np.float32)
    return NoteVectors(paths, [current[p][1] for p in paths], matrix, generation, notes_dir,
                       recomputed=changed, signatures=[current[p][0] for p in paths])


def _mean_vectors(index: IndexSnapshot, paths: list[str]) -> dict[str, np.ndarray]:
    """{path: normalised mean of its chunk vectors}, a batch of notes at a time, summed in one numpy call."""
    out: dict[str, np.ndarray] = {}
    for row_paths, matrix in index.chunk_vectors_by_note(paths):
        firsts = [i for i in range(len(row_paths)) if i == 0 or row_paths[i] != row_paths[i - 1]]
        sums = np.add.reduceat(matrix, firsts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        out.update(zip((row_paths[i] for i in firsts), sums / np.where(norms > 0, norms, 1), strict=True))
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
    header = json.dumps({"identity": identity, "generation": notes.generation})
    try:
        # the app writes from its ingest thread and from page sessions: the temp name is per thread
        with replacing(index_dir / CACHE_NAME) as temp, open(temp, "wb") as handle:
            np.savez(handle, header=np.array(header), paths=np.array(notes.paths, dtype=str),
                     titles=np.array(notes.titles, dtype=str), signatures=np.array(notes.signatures, dtype=str),
                     vectors=notes.vectors)
    except OSError:  # a read-only index still answers; it just recomputes next time
        pass
