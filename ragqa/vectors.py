"""The FAISS side of the index: an id-mapped vector index and its file on disk.

SQLite holds every vector as the source of truth; the FAISS file is a derived
copy stamped with the generation it was built from, written to a temp name and
renamed, so a reader either finds the file for the current generation or
rebuilds it from SQLite. It never sees a half-written one.
"""
from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

FILE_PATTERN = "vectors.{generation}.faiss"


def new_index(dim: int) -> faiss.Index:
    """Exact inner-product search over normalised vectors (= cosine), with stable ids."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def file_for(folder: Path, generation: int) -> Path:
    return folder / FILE_PATTERN.format(generation=generation)


def write_index(index: faiss.Index, folder: Path, generation: int) -> Path:
    """Write atomically (temp file, fsync, rename), then drop files of older generations."""
    final = file_for(folder, generation)
    temp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    faiss.write_index(index, str(temp))
    with open(temp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, final)
    _fsync_dir(folder)
    for old in folder.glob("vectors.*.faiss"):
        if old != final:
            old.unlink(missing_ok=True)
    return final


def read_index(folder: Path, generation: int) -> faiss.Index | None:
    path = file_for(folder, generation)
    if not path.exists():
        return None
    try:
        return faiss.read_index(str(path))
    except RuntimeError:  # truncated or foreign file: rebuild from SQLite instead
        return None


def search(index: faiss.Index, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):
    """Top-k (ids, scores); `allowed_ids` restricts the search (filters)."""
    if index.ntotal == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    params = None
    if allowed_ids is not None:
        if len(allowed_ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64)))
    scores, ids = index.search(query, min(k, index.ntotal), params=params)
    keep = ids[0] >= 0
    return ids[0][keep], scores[0][keep]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
