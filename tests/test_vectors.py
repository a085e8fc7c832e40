"""The FAISS store changes index type with its size and keeps answering the same. Real FAISS.

A small `flat_limit` makes the switch to IVF happen at test sizes; the production
limit and parameters are measured in bench/query.py (docs/PERFORMANCE.md).
"""
from pathlib import Path

import numpy as np
import pytest

from ragqa.index.faiss_vectors import FaissVectors

DIM = 48
LIMIT = 1_000


def unit_vectors(n: int, seed: int, clusters: int = 40) -> np.ndarray:
    """Normalised vectors around random topics, like embeddings of notes on a few subjects."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_top(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> set[int]:
    return set(ids[np.argsort(-(vectors @ query))[:k]].tolist())


def filled(folder: Path, n: int, limit: int = LIMIT, batch: int = 500, seed: int = 1):
    """A store holding n vectors (ids 100, 101, ...) added in batches, as ingest does."""
    store = FaissVectors(folder, DIM, flat_limit=limit)
    vectors, ids = unit_vectors(n, seed), np.arange(100, 100 + n, dtype=np.int64)
    for start in range(0, n, batch):
        store.add(ids[start:start + batch], vectors[start:start + batch])
    return store, ids, vectors


def test_small_store_is_exact_flat(tmp_path):
    store, ids, vectors = filled(tmp_path, 600)
    assert store.kind == "flat"
    query = vectors[7]
    found, scores = store.search(query, 10)
    assert set(found.tolist()) == exact_top(vectors, ids, query, 10)
    assert found[0] == ids[7] and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_crossing_the_limit_switches_to_ivf_and_keeps_results(tmp_path):
    store, ids, vectors = filled(tmp_path, 3_000)
    assert store.kind.startswith("ivf") and store.count() == 3_000
    queries = unit_vectors(50, seed=2)
    recall = np.mean([len(set(store.search(q, 10)[0].tolist()) & exact_top(vectors, ids, q, 10)) / 10
                      for q in queries])
    assert recall >= 0.95


def test_growing_ivf_is_retrained_with_more_lists(tmp_path):
    store, _, _ = filled(tmp_path, 1_200)
    before = store.kind
    store.add(np.arange(10_000, 13_000), unit_vectors(3_000, seed=3))
    assert before == "ivf128" and store.kind == "ivf256" and store.count() == 4_200


def test_shrinking_below_half_the_limit_goes_back_to_exact(tmp_path):
    store, ids, vectors = filled(tmp_path, 1_500)
    store.remove(ids[:1_100])
    assert store.kind == "flat" and sorted(store.ids().tolist()) == ids[1_100:].tolist()
    query = vectors[1_200]
    assert set(store.search(query, 5)[0].tolist()) == exact_top(vectors[1_100:], ids[1_100:], query, 5)


@pytest.mark.parametrize(("n", "kind"), [(600, "flat"), (2_500, "ivf")])
def test_add_remove_search_save_load_round_trip(tmp_path, n, kind):
    store, ids, vectors = filled(tmp_path, n)
    assert store.kind.startswith(kind)
    gone = ids[::10]
    store.remove(gone)
    assert store.count() == n - len(gone)
    assert not set(store.search(vectors[0], 20)[0].tolist()) & set(gone.tolist())
    store.save(generation=4)

    loaded = FaissVectors.load(tmp_path, DIM, generation=4, flat_limit=LIMIT)
    assert loaded is not None and loaded.kind == store.kind
    assert loaded.ids().tolist() == sorted(set(ids.tolist()) - set(gone.tolist()))
    query = vectors[5]
    assert loaded.search(query, 10)[0].tolist() == store.search(query, 10)[0].tolist()
    assert FaissVectors.load(tmp_path, DIM, generation=5) is None  # another generation is never taken


@pytest.mark.parametrize("n", [600, 2_500])
def test_filter_restricts_results_to_allowed_ids(tmp_path, n):
    store, ids, vectors = filled(tmp_path, n)
    allowed = ids[3::50]
    found, _ = store.search(vectors[0], 10, allowed_ids=allowed)
    assert set(found.tolist()) <= set(allowed.tolist())
    assert len(found) == 10  # a narrow filter still fills k: IVF probes more lists
    assert store.search(vectors[0], 10, allowed_ids=np.array([], dtype=np.int64))[0].size == 0
