"""The FAISS vector store: an id-mapped index and its file on disk.

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
_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def new_index(dim: int) -> faiss.Index:
    """Exact inner-product search over normalised vectors (= cosine), with stable ids."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def file_for(folder: Path, generation: int) -> Path:
    return folder / FILE_PATTERN.format(generation=generation)


class FaissVectors:
    """VectorStore backed by a FAISS index in memory and a generation-stamped file."""

    name = "faiss"

    def __init__(self, folder: Path, dim: int, index: faiss.Index | None = None, **_options):
        self.folder = Path(folder)
        self.dim = dim
        self.index = index if index is not None else new_index(dim)

    @classmethod
    def load(cls, folder: Path, dim: int, generation: int, **_options) -> "FaissVectors | None":
        """The saved copy for exactly this generation, or None (missing, stale or unreadable)."""
        path = file_for(Path(folder), generation)
        if not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:  # truncated or foreign file: the caller rebuilds from SQLite
            return None
        return cls(folder, dim, index) if index.d == dim else None

    def count(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self.index.id_map).astype(np.int64) if self.count() else _EMPTY[0]

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):
        """Top-k (ids, scores); `allowed_ids` restricts the search (filters)."""
        if self.count() == 0 or k <= 0 or (allowed_ids is not None and len(allowed_ids) == 0):
            return _EMPTY
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed_ids is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64)))
        scores, ids = self.index.search(query, min(k, self.count()), params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, generation: int) -> None:
        """Write atomically (temp file, fsync, rename), then drop files of older generations."""
        final = file_for(self.folder, generation)
        temp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        faiss.write_index(self.index, str(temp))
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, final)
        _fsync_dir(self.folder)
        for old in self.folder.glob("vectors.*.faiss"):
            if old != final:
                old.unlink(missing_ok=True)

    def is_saved(self, generation: int) -> bool:
        return file_for(self.folder, generation).exists()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
