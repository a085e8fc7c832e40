"""The FAISS vector store: an index whose type follows its size, and its file on disk.

SQLite holds every vector as the source of truth; the FAISS file is a derived
copy stamped with the generation it was built from, written to a temp name and
renamed, so a reader either finds the file for the current generation or
rebuilds it from SQLite. It never sees a half-written one.

Index type by size (chosen by measurement, docs/PERFORMANCE.md):

- below `flat_limit` vectors: exact search (a flat inner-product index);
- from `flat_limit` on: IVF (inverted lists; removal is native, so deleting a
  file stays cheap) with vectors stored as float16 (half the memory, same
  ranking) and `nlist` near 4*sqrt(n); a query searches a quarter of the
  lists, enough for recall@10 >= 0.95 against exact search up to 1M vectors.

Crossing the limit converts the index in place: train on the vectors it holds,
re-add them. It is trained again, with twice the lists, each time it has grown
~4x (up to 2048 lists), and goes back to flat when it shrinks below half the limit.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import cast

import faiss
import numpy as np

from ragqa.atomic import replacing

FILE_PATTERN = "vectors.{generation}.faiss"
FLAT_LIMIT = 50_000  # exact search costs ~5 ms CPU per query here; 11 ms at 100k, 86 ms at 1M
MIN_NLIST, MAX_NLIST = 64, 2048  # 2048 lists train in ~30 s CPU (once, when the index passes ~130k)
TRAIN_PER_LIST = 64  # k-means sample per list (FAISS warns under 39)
PROBE_FRACTION = 1 / 4  # share of the lists searched: recall@10 >= 0.95 up to 1M (bench/query.py)
_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def new_index(dim: int) -> faiss.Index:
    """Exact inner-product search over normalised vectors (= cosine), with stable ids."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def nlist_for(count: int) -> int:
    """The power of two nearest 4*sqrt(count), within [64, 2048]: 50k -> 1024, 200k -> 2048, 1M -> 2048.

    At the same share of lists searched, more (smaller) lists gave both higher recall and faster search.
    """
    return min(MAX_NLIST, max(MIN_NLIST, 2 ** round(math.log2(4 * math.sqrt(max(count, 1))))))


def nprobe_for(nlist: int) -> int:
    return max(1, round(nlist * PROBE_FRACTION))


def ivf_index(dim: int, nlist: int, vectors: np.ndarray) -> faiss.Index:
    """An IVF index with float16 storage, trained on (a sample of) `vectors`."""
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                          faiss.METRIC_INNER_PRODUCT, False)
    sample = vectors
    if len(vectors) > nlist * TRAIN_PER_LIST:  # evenly spaced, so training is deterministic
        sample = vectors[np.linspace(0, len(vectors) - 1, nlist * TRAIN_PER_LIST).astype(np.int64)]
    index.train(np.ascontiguousarray(sample))
    return index


def contents(index: faiss.Index, with_vectors: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Every id an index holds and, if asked, its vector, in no particular order."""
    found = faiss.try_extract_index_ivf(index)
    if found is None:
        flat = cast(faiss.IndexIDMap2, index)  # new_index's
        ids = faiss.vector_to_array(flat.id_map).astype(np.int64)
        return ids, flat.index.reconstruct_n(0, index.ntotal) if with_vectors else None
    # the subclass ivf_index made, which has the scalar quantizer
    ivf = cast(faiss.IndexIVFScalarQuantizer, faiss.downcast_index(found))
    lists = ivf.invlists
    assert lists is not None  # noqa: S101 - typing: an IVF index owns its lists
    id_parts, vector_parts = [_EMPTY[0]], [np.zeros((0, index.d), dtype=np.float32)]
    for lst in range(ivf.nlist):
        if n := lists.list_size(lst):
            id_parts.append(faiss.rev_swig_ptr(lists.get_ids(lst), n).astype(np.int64))
            if with_vectors:
                codes = faiss.rev_swig_ptr(lists.get_codes(lst), n * ivf.code_size)
                vector_parts.append(ivf.sq.decode(codes.reshape(n, ivf.code_size)))
    return np.concatenate(id_parts), np.vstack(vector_parts) if with_vectors else None


def file_for(folder: Path, generation: int) -> Path:
    return folder / FILE_PATTERN.format(generation=generation)


class FaissVectors:
    """VectorStore backed by a FAISS index in memory and a generation-stamped file.

    `flat_limit` and `nprobe` are for tests and benchmarks; the defaults are the measured ones.
    """

    name = "faiss"

    def __init__(self, folder: Path, dim: int, index: faiss.Index | None = None, *,
                 flat_limit: int = FLAT_LIMIT, nprobe: int | None = None, **_options):
        self.folder = Path(folder)
        self.dim = dim
        self.flat_limit = flat_limit
        self.nprobe = nprobe
        self.index = index if index is not None else new_index(dim)

    @classmethod
    def load(cls, folder: Path, dim: int, generation: int, **options) -> FaissVectors | None:
        """The saved copy for exactly this generation, or None (missing, stale or unreadable)."""
        path = file_for(Path(folder), generation)
        if not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:  # truncated or foreign file: the caller rebuilds from SQLite
            return None
        return cls(folder, dim, index, **options) if index.d == dim else None

    @property
    def kind(self) -> str:
        """The index type, e.g. "flat" or "ivf1024", for status and benchmarks."""
        ivf = faiss.try_extract_index_ivf(self.index)
        return "flat" if ivf is None else f"ivf{ivf.nlist}"

    def count(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> np.ndarray:
        return np.sort(contents(self.index, with_vectors=False)[0]) if self.count() else _EMPTY[0]

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
            self._fit_to_size()

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            # faiss's wrapper takes an id array (its stub for Index: only an IDSelector)
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]
            self._fit_to_size()

    def _fit_to_size(self) -> None:
        """Convert between flat and IVF, or retrain IVF, when the count has moved far enough."""
        n = self.count()
        ivf = faiss.try_extract_index_ivf(self.index)
        if ivf is None:
            wanted = nlist_for(n) if n >= self.flat_limit else None
        elif n < self.flat_limit // 2:
            wanted = 0
        else:
            wanted = nlist_for(n) if nlist_for(n) >= 2 * ivf.nlist else None
        if wanted is None:
            return
        ids, vectors = contents(self.index)
        assert vectors is not None  # noqa: S101 - typing: with_vectors
        index = ivf_index(self.dim, wanted, vectors) if wanted else new_index(self.dim)
        index.add_with_ids(vectors, ids)
        self.index = index

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):
        """Top-k (ids, scores); `allowed_ids` restricts the search (filters)."""
        if self.count() == 0 or k <= 0 or (allowed_ids is not None and len(allowed_ids) == 0):
            return _EMPTY
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        sel = None if allowed_ids is None else faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64))
        ivf = faiss.try_extract_index_ivf(self.index)
        if ivf is None:
            # faiss's wrapper sets keyword arguments as fields (its stubs: no arguments)
            params = faiss.SearchParameters(sel=sel) if sel is not None else None  # type: ignore[call-arg]
        else:
            nprobe = self.nprobe or nprobe_for(ivf.nlist)
            if allowed_ids is not None:  # a filter keeps a share of each list: probe more lists to find k
                nprobe = math.ceil(nprobe * self.count() / max(len(allowed_ids), 1))
            params = faiss.SearchParametersIVF(nprobe=min(nprobe, ivf.nlist), sel=sel)  # type: ignore[call-arg]
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # one query: extra threads only wake up, ~100x slower on a busy machine
        try:
            scores, ids = self.index.search(query, min(k, self.count()), params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, generation: int) -> None:
        """Write atomically (temp file, fsync, rename), then drop files of older generations."""
        final = file_for(self.folder, generation)
        with replacing(final) as temp:
            faiss.write_index(self.index, str(temp))
        for old in self.folder.glob("vectors.*.faiss"):
            if old != final:
                old.unlink(missing_ok=True)
        # Saves happen under the write lock, so any other temp file is from a writer killed mid-save.
        for stale in self.folder.glob(".vectors.*.tmp"):
            stale.unlink(missing_ok=True)

    def is_saved(self, generation: int) -> bool:
        return file_for(self.folder, generation).exists()

    def detach(self) -> None:
        """Nothing to let go of: the index lives in this process's memory."""
