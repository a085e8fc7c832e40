"""One contract for every vector backend (txtai-style battery): real FAISS, real Milvus Lite.

Each test runs once per backend; the Milvus runs skip, saying why, when pymilvus or
milvus_lite is not installed.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ragqa.config import load_settings
from ragqa.errors import IndexBusyError
from ragqa.index.lock import write_lock
from ragqa.index.store import IndexReader, IndexWriter, index_identity
from ragqa.index.vectors import backend_class
from ragqa.ingest.pipeline import ingest_folder
from ragqa.retrieve.search import Filters, Searcher

from helpers.data import REPO
from helpers.settings import HASH

_MISSING = [m for m in ("pymilvus", "milvus_lite") if importlib.util.find_spec(m) is None]
_needs_milvus = pytest.mark.skipif(
    bool(_MISSING), reason=f"{' and '.join(_MISSING)} not installed: pip install -e '.[milvus]'")
BACKENDS = ["faiss", pytest.param("milvus", marks=_needs_milvus)]
OPTIONS = {"faiss": {}, "milvus": {"uri": "milvus.db", "collection": "contract"}}
DIM = 4


def unit(*xs) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def new_store(backend, folder, dim=DIM):
    return backend_class(backend)(folder, dim, **OPTIONS[backend])


def load_store(backend, folder, generation, dim=DIM):
    return backend_class(backend).load(folder, dim, generation, **OPTIONS[backend])


def filled(backend, folder):
    """Ids 10..13 on the four axes."""
    store = new_store(backend, folder)
    axes = [unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 1, 0), unit(0, 0, 0, 1)]
    store.add(np.array([10, 11, 12, 13]), np.stack(axes))
    return store


@pytest.mark.parametrize("backend", BACKENDS)
def test_added_vectors_are_counted_listed_and_ranked_by_inner_product(backend, tmp_path):
    store = filled(backend, tmp_path)
    assert store.count() == 4
    assert sorted(store.ids().tolist()) == [10, 11, 12, 13]
    ids, scores = store.search(unit(3, 2, 1, 0), 3)
    assert ids.tolist() == [10, 11, 12]
    assert np.allclose(scores, unit(3, 2, 1, 0)[:3], atol=1e-5)
    assert ids.dtype == np.int64 and scores.dtype == np.float32


@pytest.mark.parametrize("backend", BACKENDS)
def test_k_beyond_the_count_returns_everything_and_k_zero_nothing(backend, tmp_path):
    store = filled(backend, tmp_path)
    assert len(store.search(unit(1, 1, 1, 1), 50)[0]) == 4
    assert len(store.search(unit(1, 1, 1, 1), 0)[0]) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_removed_ids_leave_count_ids_and_search(backend, tmp_path):
    store = filled(backend, tmp_path)
    store.remove(np.array([10, 12]))
    assert store.count() == 2
    assert sorted(store.ids().tolist()) == [11, 13]
    assert set(store.search(unit(1, 0, 1, 0), 4)[0].tolist()) == {11, 13}


@pytest.mark.parametrize("backend", BACKENDS)
def test_allowed_ids_restrict_the_search(backend, tmp_path, monkeypatch):
    if backend == "milvus":  # split the allow-list into several `id in [...]` parts, merged
        monkeypatch.setattr("ragqa.index.milvus_vectors.FILTER_IDS", 2)
    store = filled(backend, tmp_path)
    ids, _ = store.search(unit(4, 3, 2, 1), 2, allowed_ids=np.array([11, 12, 13]))
    assert ids.tolist() == [11, 12]
    assert store.search(unit(4, 3, 2, 1), 5, allowed_ids=np.array([13]))[0].tolist() == [13]
    assert len(store.search(unit(1, 0, 0, 0), 5, allowed_ids=np.array([], dtype=np.int64))[0]) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_saved_store_reopens_for_its_generation_only(backend, tmp_path):
    store = filled(backend, tmp_path)
    assert load_store(backend, tmp_path, 3) is None  # nothing saved yet
    store.save(3)
    assert store.is_saved(3) and not store.is_saved(4)
    again = load_store(backend, tmp_path, 3)
    assert again is not None and again.count() == 4
    assert again.search(unit(0, 0, 1, 0), 1)[0].tolist() == [12]
    assert load_store(backend, tmp_path, 4) is None  # stale: the caller rebuilds from SQLite
    assert load_store(backend, tmp_path, 3, dim=8) is None  # another model's dimension


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_store_replaces_a_stale_one(backend, tmp_path):
    filled(backend, tmp_path).save(1)
    fresh = new_store(backend, tmp_path, dim=8)
    assert fresh.count() == 0
    fresh.add(np.array([1]), np.ones((1, 8), dtype=np.float32) / np.sqrt(8))
    assert fresh.search(np.ones(8, dtype=np.float32), 3)[0].tolist() == [1]


# --- through the index folder: store.py, the pipeline and the Searcher -----------------------------

QUERIES = ["how much sun do tomato plants need", "who owns a value in Rust", "wild yeast bread",
           "garden pests", "borrowing without ownership"]
FILTERS = [None, Filters(folders=["garden"]), Filters(tags=["food"]), Filters(kinds=["text"])]


def settings_for(backend, tmp_path, notes, model="all-MiniLM-L6-v2"):
    """Settings read from a config.yaml, as a user has them: the two backends differ only in `store`."""
    folder = tmp_path / backend
    folder.mkdir()
    config = folder / "config.yaml"
    config.write_text(f"""\
notes_dir: {json.dumps(str(notes))}
index_dir: index
embedding: {{model: {model}, cache_dir: {json.dumps(str(tmp_path / "cache"))}}}
llm: {{provider: none}}
store: {{backend: {backend}, milvus_collection: e2e}}
""", encoding="utf-8")
    return load_settings(config, environ={})


def paths(searcher, query, mode="dense"):
    return [h.chunk.path for h in searcher.search(query, k=5, mode=mode)]


class QueryMemo:
    """The real embedder, embedding each query once: 120 searches per comparison then test the stores."""

    def __init__(self, embedder):
        self.embedder, self.memo = embedder, {}

    def __getattr__(self, name):
        return getattr(self.embedder, name)

    def embed_query(self, text):
        if text not in self.memo:
            self.memo[text] = self.embedder.embed_query(text)
        return self.memo[text]


def results(settings, embedder) -> tuple[list[list[tuple]], list[float]]:
    """Every query in every mode and filter: the chunks found (path, heading, text), and all their scores."""
    searcher = Searcher(settings, embedder)
    found = [searcher.search(q, k=5, mode=mode, filters=only)
             for q in QUERIES for mode in ("dense", "hybrid", "bm25") for only in FILTERS]
    return [[(h.chunk.path, h.chunk.heading, h.chunk.text) for h in hits] for hits in found], \
        [h.score for hits in found for h in hits]


def assert_same_results(runs, embedder) -> list[list[tuple]]:
    (faiss_hits, faiss_scores), (milvus_hits, milvus_scores) = (results(runs[b], embedder) for b in ("faiss", "milvus"))
    assert milvus_hits == faiss_hits
    assert np.allclose(milvus_scores, faiss_scores, atol=1e-5)
    return milvus_hits


def assert_store_mirrors_sqlite(settings):
    reader = IndexReader(settings.index_path)
    assert sorted(reader.vectors.ids().tolist()) == sorted(reader.ids_where("1", []).tolist())
    assert reader.vectors.is_saved(reader.generation)


@_needs_milvus
@pytest.mark.slow
def test_switching_config_to_milvus_ranks_like_faiss_and_follows_edits(tmp_path, notes, minilm):
    runs = {b: settings_for(b, tmp_path, notes) for b in ("faiss", "milvus")}
    assert runs["milvus"].store.backend == "milvus"  # read from config.yaml
    minilm = QueryMemo(minilm)

    for settings in runs.values():
        ingest_folder(settings, minilm)
    first = assert_same_results(runs, minilm)
    assert first[0][0][0] == "garden/tomatoes.md"
    assert (runs["milvus"].index_path / "milvus.db").is_dir()
    assert_store_mirrors_sqlite(runs["milvus"])

    (notes / "rust.md").write_text("# Rust lifetimes\n\nLifetimes tell the compiler how long references live.\n")
    (notes / "bread.txt").unlink()
    for settings in runs.values():
        report = ingest_folder(settings, minilm)
        assert report.updated == ["rust.md"] and report.removed == ["bread.txt"]
    second = assert_same_results(runs, minilm)
    found = {hit[0] for ranking in second for hit in ranking}
    assert "bread.txt" not in found and "rust.md" in found
    assert not any("ownership" in hit[2] for ranking in second for hit in ranking)  # the old rust.md
    assert_store_mirrors_sqlite(runs["milvus"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reader_after_a_crash_rebuilds_from_sqlite(backend, tmp_path, notes, hashed):
    settings = settings_for(backend, tmp_path, notes, HASH)
    ingest_folder(settings, hashed)
    # A commit whose vector store was never published, as after a kill between the two.
    writer = IndexWriter(settings.index_path, index_identity(settings, hashed))
    writer.apply([], removed=["bread.txt"])
    writer.close()
    reader = IndexReader(settings.index_path)
    assert sorted(reader.vectors.ids().tolist()) == sorted(reader.ids_where("1", []).tolist())
    if backend == "milvus":  # the rebuilt shared collection is stamped, so the next reader reuses it
        assert reader.vectors.is_saved(reader.generation)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reader_during_an_ingest_keeps_every_committed_vector(backend, tmp_path, notes, hashed):
    settings = settings_for(backend, tmp_path, notes, HASH)
    ingest_folder(settings, hashed)
    with write_lock(settings.index_path):  # an ingest is running: committed, mirrored, not yet published
        writer = IndexWriter(settings.index_path, index_identity(settings, hashed))
        writer.apply([], removed=["bread.txt"])
        reader = IndexReader(settings.index_path)
        assert sorted(reader.vectors.ids().tolist()) == sorted(reader.ids_where("1", []).tolist())
        assert paths(Searcher(settings, hashed), "tomato sun")[0] == "garden/tomatoes.md"
        writer.publish()
        writer.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_closing_a_reader_lets_go_of_its_store_and_the_others_keep_searching(backend, tmp_path, notes, hashed):
    settings = settings_for(backend, tmp_path, notes, HASH)
    ingest_folder(settings, hashed)
    closed, open_ = IndexReader(settings.index_path), IndexReader(settings.index_path)
    closed.close()
    if backend == "milvus":  # its client is closed, not the process's connection nor the Lite server
        with pytest.raises(Exception, match="connection"):
            closed.vectors.count()
    assert sorted(open_.vectors.ids().tolist()) == sorted(open_.ids_where("1", []).tolist())
    assert paths(Searcher(settings, hashed), "tomato sun")[0] == "garden/tomatoes.md"
    open_.close()


@_needs_milvus
@pytest.mark.slow
def test_milvus_lite_file_held_by_another_process_is_a_clear_busy_error(tmp_path):
    filled("milvus", tmp_path).save(1)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {str(REPO)!r})
            from ragqa.index.milvus_vectors import connect
            connect({str(tmp_path / "other.db")!r})
            print("holding", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(IndexBusyError, match=r"open in another process.*Milvus server"):
            backend_class("milvus").load(tmp_path, DIM, 1, uri="other.db", collection="contract")
    finally:
        holder.kill()
        holder.wait()
