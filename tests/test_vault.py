"""Acceptance on a real Obsidian vault (1,186 notes): full ingest, no-op re-ingest, edit, delete, title search.
The vault is ingested once per session with MiniLM (the vault_index fixture); the tests that write work on a
copy. (How fast these are is measured by bench/incremental.py, not asserted here.)"""
import random

import pytest

import ragqa.ingest.pipeline as pipeline
from ragqa.index.store import IndexReader
from ragqa.ingest.pipeline import ingest_folder
from ragqa.retrieve.search import Searcher

from helpers.settings import copy_index

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("vault")]


@pytest.fixture
def vault(vault_index):
    return vault_index  # conftest: the vault copy, ingested once per session


class Counting:
    """The real embedder, with the passages it was asked to embed counted (observation, not a mock)."""

    def __init__(self, inner):
        self.inner, self.embedded = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_passages(self, texts):
        self.embedded += len(texts)
        return self.inner.embed_passages(texts)


@pytest.fixture
def loads(monkeypatch) -> list[str]:
    """The files the ingest reads (parses) from now on: the real loader, each call recorded."""
    seen: list[str] = []

    def recording(item, *args, **kwargs):
        seen.append(item.rel)
        return real(item, *args, **kwargs)

    real = pipeline.load_file
    monkeypatch.setattr(pipeline, "load_file", recording)
    return seen


def test_every_note_of_the_vault_is_indexed(vault):
    settings, report = vault
    notes = [p for p in report.added if p.endswith(".md")]
    assert len(notes) == 1186
    assert all(not s["path"].endswith(".md") for s in report.skipped)
    assert IndexReader(settings.index_path).stats()["files"] == 1186


def test_second_run_reads_and_embeds_nothing(vault, minilm, tmp_path, loads):
    settings = copy_index(vault[0], tmp_path)
    embedder = Counting(minilm)
    report = ingest_folder(settings, embedder)
    assert report.chunks == 0 and len(report.unchanged) == 1186
    assert loads == [] and embedder.embedded == 0  # no note parsed again, nothing embedded


def test_searching_a_notes_title_finds_it_in_the_top_5(vault, minilm):
    settings, _ = vault
    reader = IndexReader(settings.index_path)
    titled = [f for f in reader.files() if f.status == "indexed" and f.title]
    sample = random.Random(7).sample(titled, 100)
    searcher = Searcher(settings, minilm)
    found = sum(f.path in [h.chunk.path for h in searcher.search(f.title, k=5)] for f in sample)
    assert found >= 95, f"only {found}/100 titles found their note in the top 5"


def test_editing_one_note_re_embeds_only_it_and_deleting_one_removes_its_chunks(vault, minilm, tmp_path, loads):
    settings = copy_index(vault[0], tmp_path, notes=True)
    notes = settings.notes_path
    edited = notes / "Concepts" / "recall.md"
    edited.write_text(edited.read_text() + "\nRecall quokkas: a new sentence about marsupials.\n")
    gone = sorted((notes / "Writings").glob("*.md"))[0]
    gone_rel = gone.relative_to(notes).as_posix()
    gone.unlink()
    embedder = Counting(minilm)
    report = ingest_folder(settings, embedder)
    assert report.updated == ["Concepts/recall.md"] and report.removed == [gone_rel]
    assert report.chunks == 1 and embedder.embedded == 1 and loads == ["Concepts/recall.md"]  # only it is read
    reader = IndexReader(settings.index_path)
    assert gone_rel not in {f.path for f in reader.files()}
    assert reader.ids_where("path = ?", [gone_rel]).size == 0
    hits = Searcher(settings, minilm).search("quokkas marsupials", k=1)
    assert hits[0].chunk.path == "Concepts/recall.md"
