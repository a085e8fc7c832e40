"""The all-Milvus store (`store.milvus_holds: everything`) against today's SQLite + FAISS, on the same notes.

Real MiniLM, real SQLite and FAISS, real Milvus Lite (in-process, a folder in the index folder). One battery:
each behaviour is checked on both stores, or the Milvus one against the SQLite one. The several-processes and
kill -9 tests, on a Milvus Lite server, are in test_milvus_processes.py.
"""
from __future__ import annotations

import shutil

import pytest

from ragqa.config import load_settings
from ragqa.errors import ConfigError, RagqaError
from ragqa.fusion import reciprocal_rank_fusion
from ragqa.index.milvus_layout import chunk_id
from ragqa.index.milvus_state import MilvusIndex
from ragqa.index.queries import read_snapshot
from ragqa.index.store import open_reader
from ragqa.index.stores import open_store
from ragqa.ingest.pipeline import ingest_folder
from ragqa.retrieve.lexical import topic_terms
from ragqa.retrieve.search import Filters, Searcher

from helpers.garden_notes import write_garden_notes
from helpers.settings import make_settings

MILVUS = {"backend": "milvus", "milvus_holds": "everything"}
QUESTIONS = ["How much sun do tomatoes need?", "what eats tomato plants", "wild yeast starter",
             "who owns a value in Rust", "keep mice out of the kitchen", "turning compost"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory, minilm):
    """The garden notes ingested into both stores: {"sqlite": Searcher, "milvus": Searcher}."""
    tmp = tmp_path_factory.mktemp("two-stores")
    notes = write_garden_notes(tmp / "notes")
    (notes / "garden" / "tomatoes.md").write_text(
        "---\ntitle: Growing tomatoes\ntags: [garden/veg, food]\ncreated: 2024-03-01\n---\n# Growing tomatoes\n\n"
        "Tomatoes need six hours of direct sun and deep watering twice a week.\n\n"
        "## Pests\n\nAphids and hornworms attack tomato plants; pick hornworms off by hand. See [[compost]].\n",
        encoding="utf-8")
    found = {}
    for name, store in (("sqlite", {}), ("milvus", MILVUS)):
        settings = make_settings(tmp / name, notes, store=store)
        ingest_folder(settings, minilm)
        found[name] = Searcher(settings, minilm)
    return found


def paths(hits) -> list[str]:
    return [h.chunk.path for h in hits]


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_both_stores_return_the_same_passages_in_the_same_order(pair, mode):
    for question in QUESTIONS:
        sqlite, milvus = (pair[s].search(question, k=5, mode=mode) for s in ("sqlite", "milvus"))
        assert paths(milvus) == paths(sqlite), question
        assert [h.chunk.heading for h in milvus] == [h.chunk.heading for h in sqlite]
        assert [round(h.score, 4) for h in milvus] == [round(h.score, 4) for h in sqlite]


def test_bm25_stems_as_sqlite_does_so_a_plural_finds_the_singular(pair):
    for store in ("sqlite", "milvus"):
        assert paths(pair[store].search("hornworm", k=1, mode="bm25")) == ["garden/tomatoes.md"]
        assert paths(pair[store].search("cockroach seals", k=1, mode="bm25")) == ["home/pests.md"]


def test_hybrid_is_milvus_own_rrf_at_the_configured_k(pair):
    searcher = pair["milvus"]
    reader, k = searcher.reader, searcher.settings.search.rrf_k
    for question in QUESTIONS:
        vector = searcher.embedder.embed_query(question)
        terms = topic_terms(question)
        inside = reader.hybrid(terms, vector, 5, 300, k)
        outside = reciprocal_rank_fusion([reader.dense(vector, 300), reader.bm25(terms, 300)], k=k)[:5]
        assert [round(s, 6) for _, s in inside] == [round(s, 6) for _, s in outside]
        assert {i for i, _ in inside} <= {i for i, _ in outside[:8]}  # equal scores may swap places


@pytest.mark.parametrize("filters", [
    Filters(folders=["garden"]), Filters(tags=["garden"]), Filters(tags=["#GARDEN/veg"]), Filters(kinds=["text"]),
    Filters(created=("2024-01-01", "2024-12-31")), Filters(paths=["rust.md", "bread.txt"]), Filters(paths=[]),
    Filters(folders=["garden"], kinds=["markdown"], tags=["food"]),
], ids=["folder", "tag", "nested-tag", "type", "dates", "paths", "no-paths", "all-three"])
def test_filters_select_the_same_notes_on_both_stores(pair, filters):
    found = {s: sorted(set(paths(pair[s].search("tomatoes sun water pests", k=20, filters=filters))))
             for s in pair}
    assert found["milvus"] == found["sqlite"]


def test_status_files_and_the_snapshot_agree(pair):
    sqlite, milvus = pair["sqlite"], pair["milvus"]
    a, b = sqlite.reader.stats(), milvus.reader.stats()
    assert {k: a[k] for k in ("files", "types", "chunks", "model", "dim")} == \
        {k: b[k] for k in ("files", "types", "chunks", "model", "dim")}
    assert [(r.path, r.sha256, r.chunks) for r in sqlite.reader.files()] == \
        [(r.path, r.sha256, r.chunks) for r in milvus.reader.files()]
    with read_snapshot(sqlite.index_dir) as one, read_snapshot(milvus.index_dir) as other:
        assert list(one.chunk_texts()) == list(other.chunk_texts())
        assert one.note_chunks("garden/tomatoes.md") == other.note_chunks("garden/tomatoes.md")
        assert sorted(n.path for n in one.indexed_notes()) == sorted(n.path for n in other.indexed_notes())


def test_the_index_folder_keeps_no_index_file_of_its_own(pair):
    folder = pair["milvus"].index_dir
    assert (folder / "milvus.db").is_dir()  # Milvus Lite's own folder (a Milvus server keeps nothing here)
    assert not [p.name for p in folder.iterdir() if p.suffix in (".sqlite", ".faiss")]


@pytest.mark.slow
def test_an_edit_and_a_removal_are_seen_and_ids_name_the_content(tmp_path, minilm):
    notes = write_garden_notes(tmp_path / "notes")
    settings = make_settings(tmp_path, notes, store=MILVUS)
    ingest_folder(settings, minilm)
    searcher = Searcher(settings, minilm)
    first = searcher.search("wild yeast starter", k=1)[0]
    (notes / "bread.txt").write_text("Rye bread needs a sour levain and a long, cold proof.\n", encoding="utf-8")
    (notes / "rust.md").unlink()
    report = ingest_folder(settings, minilm)
    assert (report.updated, report.removed) == (["bread.txt"], ["rust.md"])
    assert searcher.search("cold proof levain", k=1)[0].chunk.text.startswith("Rye bread")
    assert "rust.md" not in paths(searcher.search("Rust ownership owner scope", k=10))
    record = {r.path: r for r in searcher.reader.files()}["bread.txt"]
    assert searcher.search("cold proof levain", k=1)[0].chunk_id == chunk_id("bread.txt", record.sha256, 0)
    assert first.chunk_id not in searcher.reader.chunks([first.chunk_id])  # the old version's row is gone
    index = MilvusIndex(settings.index_path, _location(settings))
    try:
        rows = index.query(index.names["chunks"], "", ["id"])
        assert len(rows) == searcher.reader.stats()["chunks"]  # no orphan, nothing twice
    finally:
        index.close()


def _location(settings):
    from ragqa.store_locations import milvus_location

    return milvus_location(settings.index_path)


@pytest.mark.slow
def test_a_writer_that_dies_between_its_chunks_and_its_commit_shows_nothing_new_and_the_next_ingest_finishes(
        tmp_path, minilm, monkeypatch):
    notes = write_garden_notes(tmp_path / "notes")
    settings = make_settings(tmp_path, notes, store=MILVUS)
    ingest_folder(settings, minilm)
    searcher = Searcher(settings, minilm)
    (notes / "garden" / "compost.md").write_text("# Compost\n\nWorms turn kitchen scraps into castings.\n" * 3,
                                                 encoding="utf-8")
    from ragqa.index import milvus_writer

    real_upsert = milvus_writer.MilvusIndex.set_manifest
    calls = []

    class Killed(BaseException):
        pass

    def upsert_then_die(self, values):  # the kill lands after the chunks were written, before the file rows
        real_upsert(self, values)
        calls.append(values)
        if any(k.startswith("pending.") for k in values):
            original = self.client.upsert

            def chunks_only(name, rows, **kw):
                if name.endswith("_files"):
                    raise Killed()
                return original(name, rows, **kw)
            self.client.upsert = chunks_only
    monkeypatch.setattr(milvus_writer.MilvusIndex, "set_manifest", upsert_then_die)
    with pytest.raises(Killed):
        ingest_folder(settings, minilm)
    monkeypatch.undo()
    hits = searcher.search("worms castings kitchen scraps", k=10)
    assert "Worms" not in " ".join(h.chunk.text for h in hits)  # the new chunks exist but are not shown
    assert "greens and browns" in " ".join(h.chunk.text for h in hits if h.chunk.path == "garden/compost.md")
    report = ingest_folder(settings, minilm)
    assert report.updated == ["garden/compost.md"]
    assert searcher.search("worms castings kitchen scraps", k=1)[0].chunk.path == "garden/compost.md"
    index = MilvusIndex(settings.index_path, _location(settings))
    try:
        rows = index.query(index.names["chunks"], "", ["id"])
        assert len(rows) == searcher.reader.stats()["chunks"]
        assert not [k for k in index.manifest() if k.startswith("pending.")]
    finally:
        index.close()


def test_a_milvus_that_is_not_running_is_one_line_that_says_what_to_do(tmp_path, unused_port):
    settings = make_settings(tmp_path, tmp_path, store={**MILVUS, "milvus_uri": f"http://127.0.0.1:{unused_port}"})
    with pytest.raises(RagqaError) as err:
        open_store(settings.index_path).exists()
    assert "\n" not in str(err.value) and "milvus_uri" in str(err.value)
    with pytest.raises(RagqaError):
        open_reader(settings.index_path)


def test_holding_everything_needs_the_milvus_backend(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("store: {backend: faiss, milvus_holds: everything}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"milvus_holds: everything needs store\.backend: milvus"):
        load_settings(config)


@pytest.mark.slow
def test_a_rebuild_starts_a_new_milvus_index(tmp_path, minilm):
    notes = write_garden_notes(tmp_path / "notes")
    settings = make_settings(tmp_path, notes, store=MILVUS)
    ingest_folder(settings, minilm)
    before = open_store(settings.index_path).file_id()
    report = ingest_folder(settings, minilm, rebuild=True)
    assert report.rebuilt and open_store(settings.index_path).file_id() != before
    assert Searcher(settings, minilm).search("wild yeast starter", k=1)[0].chunk.path == "bread.txt"
    shutil.rmtree(notes / "garden")
    assert ingest_folder(settings, minilm).removed == ["garden/compost.md", "garden/tomato-seeds.md",
                                                       "garden/tomatoes.md"]


@pytest.mark.slow
def test_an_ingest_from_another_host_holds_the_store_and_a_dead_one_does_not(tmp_path, minilm):
    import os
    import socket
    import time

    from ragqa.errors import IndexBusyError

    notes = write_garden_notes(tmp_path / "notes")
    settings = make_settings(tmp_path, notes, store=MILVUS)
    ingest_folder(settings, minilm)
    index = MilvusIndex(settings.index_path, _location(settings))
    try:
        index.set_manifest({"writer": {"host": "other-host", "pid": 1, "token": "x", "until": time.time() + 60}})
        (notes / "rust.md").write_text("# Rust\n\nBorrowing lends a value without moving it.\n", encoding="utf-8")
        with pytest.raises(IndexBusyError, match="another ingest \\(on other-host, pid 1\\) is writing"):
            ingest_folder(settings, minilm)
        dead = 2**22 + 12345  # above any pid this machine hands out
        assert not os.path.exists(f"/proc/{dead}")
        index.set_manifest({"writer": {"host": socket.gethostname(), "pid": dead, "token": "y",
                                       "until": time.time() + 60}})
        assert ingest_folder(settings, minilm).updated == ["rust.md"]
        assert "writer" not in index.manifest()  # released at the end
    finally:
        index.close()


@pytest.mark.slow
def test_the_cli_in_fresh_processes_ingests_then_searches_and_counts_a_milvus_lite_index(tmp_path):
    """Milvus Lite opens a file with its collections released: each new process must load them."""
    import json
    import os
    import subprocess
    import sys

    notes = write_garden_notes(tmp_path / "notes")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAGQA_NOTES_DIR": str(notes), "RAGQA_INDEX_DIR": str(tmp_path / "i"),
           "RAGQA_STORE__BACKEND": "milvus", "RAGQA_STORE__MILVUS_HOLDS": "everything",
           "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2", "RAGQA_LLM__PROVIDER": "none",
           "RAGQA_EMBEDDING__CACHE_DIR": str(tmp_path / "cache")}
    env.pop("RAGQA_CONFIG", None)

    def ragqa(*argv: str):
        out = subprocess.run([sys.executable, "-m", "ragqa", *argv, "--json"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-1500:]
        return json.loads(out.stdout)

    assert ragqa("ingest")["added"] == 6
    assert ragqa("search", "wild yeast starter", "-k", "1")[0]["path"] == "bread.txt"
    assert ragqa("ask", "How many notes are tagged garden?")["answer"].startswith("You have 1 note tagged #garden")
    assert ragqa("status")["files"] == 6
