"""Acceptance on a real Obsidian vault (1,186 notes): full ingest, no-op re-ingest, edit, delete, title search."""
import random
import time

import pytest

from ingest.pipeline import ingest_folder
from ragqa.index.store import IndexReader
from ragqa.retrieve.search import Searcher

pytestmark = pytest.mark.slow


@pytest.fixture
def vault(vault_index):
    return vault_index  # conftest: the vault copy, ingested once per session


def test_every_note_of_the_vault_is_indexed(vault):
    settings, report = vault
    notes = [p for p in report.added if p.endswith(".md")]
    assert len(notes) == 1186
    assert all(not s["path"].endswith(".md") for s in report.skipped)
    assert IndexReader(settings.index_path).stats()["files"] == 1186


def test_second_run_embeds_nothing_and_is_under_5_percent_of_the_first(vault, minilm):
    settings, first = vault
    report = ingest_folder(settings, minilm)
    assert report.chunks == 0 and len(report.unchanged) == 1186
    assert report.seconds < 0.05 * first.seconds


def test_searching_a_notes_title_finds_it_in_the_top_5(vault, minilm):
    settings, _ = vault
    reader = IndexReader(settings.index_path)
    titled = [f for f in reader.files() if f.status == "indexed" and f.title]
    sample = random.Random(7).sample(titled, 100)
    searcher = Searcher(settings, minilm)
    found = sum(f.path in [h.chunk.path for h in searcher.search(f.title, k=5)] for f in sample)
    assert found >= 95, f"only {found}/100 titles found their note in the top 5"


def test_editing_one_note_re_embeds_only_it_and_deleting_one_removes_its_chunks(vault, minilm):
    settings, _ = vault
    notes = settings.notes_path
    edited = notes / "Concepts" / "recall.md"
    edited.write_text(edited.read_text() + "\nRecall quokkas: a new sentence about marsupials.\n")
    gone = sorted((notes / "Writings").glob("*.md"))[0]
    gone_rel = gone.relative_to(notes).as_posix()
    gone.unlink()
    started = time.perf_counter()
    report = ingest_folder(settings, minilm)
    assert report.updated == ["Concepts/recall.md"] and report.removed == [gone_rel]
    assert report.chunks == 1
    assert time.perf_counter() - started < 10
    reader = IndexReader(settings.index_path)
    assert gone_rel not in {f.path for f in reader.files()}
    assert reader.ids_where("path = ?", [gone_rel]).size == 0
    hits = Searcher(settings, minilm).search("quokkas marsupials", k=1)
    assert hits[0].chunk.path == "Concepts/recall.md"
