"""Note metadata in the index (dates, nested tags, links, aliases) and the answers computed from it.

A small vault written here, ingested for real (MiniLM, SQLite, FAISS), and again into an all-Milvus index (Milvus
Lite): every test over it runs on both stores and must get the same answers. Questions answered through
ragqa.answer.loop with no model (a list, count or links answer never needs one).
"""
from __future__ import annotations

import json
import logging
import sqlite3

import pytest

from ragqa.answer.loop import answer_question
from ragqa.index.catalog import NoNoteMetadataError, read_catalog
from ragqa.ingest.pipeline import ingest_folder
from ragqa.models.chat import NoChatModel
from ragqa.retrieve.search import Filters, Searcher

from helpers.settings import make_settings

NOTES = {
    "Concepts/matrix.md": "---\ncreated: 2024-03-14\nmodified: 2024-05-01\ntags: [math/LinearAlgebra]\n"
                          "aliases: [matrices]\n---\nA matrix is a grid of numbers. See [[vector|vectors]].\n",
    "Concepts/vector.md": "---\ndate: March 3, 2024\nupdated: 14.04.2024\ntags:\n  - math/LinearAlgebra/basics\n"
                          "parent: \"[[matrix]]\"\n---\nA vector has a size and a direction.\n",
    "Concepts/norm.md": "---\ncreated: 2023-11-02\n---\nThe norm of a [vector](vector.md) is its length. "
                        "#math/LinearAlgebra\n```\n#not-a-tag\n```\n",
    "journal/2024-03-15.md": "Slept badly; tried [[Matrices|the matrix note]] again. #health/sleep\n",
    "journal/notes 2024-03-16.md": "Read about sleep hygiene and sleep cycles. #Health/Sleep\n",
    "recipes/bread.md": "Sourdough needs a starter fed daily with flour and water.\n",
}


STORES = {"sqlite": {}, "milvus": {"backend": "milvus", "milvus_holds": "everything"}}


@pytest.fixture(scope="module", params=list(STORES))
def vault(tmp_path_factory, minilm, request):
    tmp = tmp_path_factory.mktemp("small-vault")
    for rel, text in NOTES.items():
        path = tmp / "notes" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    settings = make_settings(tmp, tmp / "notes", store=STORES[request.param])
    ingest_folder(settings, minilm)
    return settings, Searcher(settings, minilm)


def ask(vault, question: str) -> dict:
    settings, searcher = vault
    answer = answer_question(question, searcher=searcher, chat_model=NoChatModel(), settings=settings)
    return answer.as_json()


def cited(answer: dict) -> list[str]:
    return sorted(c["path"] for c in answer["citations"])


def test_dates_come_from_the_front_matter_in_any_format_else_a_daily_notes_name_else_the_file(vault):
    settings, _ = vault
    with read_catalog(settings.index_path) as catalog:
        rows = {r.path: r for r in catalog.notes()}
    assert (rows["Concepts/matrix.md"].created.day, rows["Concepts/matrix.md"].created.source) == (
        "2024-03-14", "front matter created")
    assert (rows["Concepts/vector.md"].created.day, rows["Concepts/vector.md"].modified.day) == (
        "2024-03-03", "2024-04-14")
    assert rows["journal/2024-03-15.md"].created.source == "file name"
    assert rows["journal/notes 2024-03-16.md"].created.day == "2024-03-16"
    assert rows["recipes/bread.md"].created.source == "file time"


def test_a_tag_finds_its_nested_tags_in_any_case_and_inline_tags_count_but_not_in_code(vault):
    settings, _ = vault
    with read_catalog(settings.index_path) as catalog:
        math = [r.path for r in catalog.notes(tags=["MATH"])]
        sleep = [r.path for r in catalog.notes(tags=["#health/sleep"])]
        assert catalog.notes(tags=["not-a-tag"]) == []
    assert sorted(math) == ["Concepts/matrix.md", "Concepts/norm.md", "Concepts/vector.md"]
    assert sorted(sleep) == ["journal/2024-03-15.md", "journal/notes 2024-03-16.md"]


def test_backlinks_count_wikilinks_aliases_markdown_links_and_front_matter_links(vault):
    settings, _ = vault
    with read_catalog(settings.index_path) as catalog:
        assert catalog.links_to("Concepts/vector.md") == ["Concepts/matrix.md", "Concepts/norm.md"]
        assert catalog.links_to("Concepts/matrix.md") == ["Concepts/vector.md"]  # [[Matrices]] names no file
        assert catalog.links_from("Concepts/matrix.md") == ["Concepts/vector.md"]


def test_a_count_is_exact_and_lists_every_note_it_counts(vault):
    answer = ask(vault, "How many notes do I have tagged #math?")
    assert answer["answer"].startswith("You have 3 notes tagged #math:")
    assert cited(answer) == ["Concepts/matrix.md", "Concepts/norm.md", "Concepts/vector.md"]
    assert answer["plan"] == {"kind": "count", "filters": {"tags": ["math"]}, "topic": ""}
    assert answer["model"] == "notes index" and answer["generated"] is False


def test_a_list_by_month_gives_each_note_with_its_date(vault):
    answer = ask(vault, "What did I write in March 2024?")
    assert cited(answer) == ["Concepts/matrix.md", "Concepts/vector.md", "journal/2024-03-15.md",
                             "journal/notes 2024-03-16.md"]
    assert "(created 2024-03-14) [" in answer["answer"] and answer["answer"].startswith("4 notes created in March 2024")


def test_a_links_question_by_an_alias(vault):
    answer = ask(vault, "Which notes link to [[matrices]]?")
    assert answer["plan"]["filters"] == {"links_to": "Concepts/matrix.md"}
    assert cited(answer) == ["Concepts/vector.md"]


def test_a_topic_inside_a_filtered_list_keeps_only_the_notes_about_it(vault):
    answer = ask(vault, "Which notes about hygiene did I write in March 2024?")
    assert answer["plan"]["topic"] == "hygiene"
    assert cited(answer) == ["journal/notes 2024-03-16.md"]
    assert "sleep hygiene" in answer["sources"][0]["best_sentence"]


def test_a_topic_that_is_a_tag_is_read_as_the_tag_and_the_rest_stays_a_topic(vault):
    answer = ask(vault, "Which notes about sleep hygiene did I write in March 2024?")
    assert answer["plan"]["filters"]["tags"] == ["health/sleep"] and answer["plan"]["topic"] == "hygiene"
    assert cited(answer) == ["journal/notes 2024-03-16.md"]


def test_nothing_matches_says_so_and_suggests_a_close_tag(vault):
    answer = ask(vault, "How many notes are tagged #helth/sleep?")
    assert answer["citations"] == [] and "No note tagged #helth/sleep" in answer["answer"]
    assert "Did you mean #health/sleep (2 notes)?" in answer["answer"]


def test_a_lookup_with_a_filter_searches_only_the_matching_notes(vault):
    answer = ask(vault, "What did I note about numbers in my notes from 2023?")
    assert answer["plan"]["filters"] == {"created": {"from": "2023-01-01", "to": "2023-12-31"}}
    _settings, searcher = vault
    hits = searcher.search("numbers", k=5, filters=Filters(created=("2023-01-01", "2023-12-31")))
    assert [h.chunk.path for h in hits] == ["Concepts/norm.md"]


def test_an_edited_tag_moves_the_note_in_the_answers(tmp_path, minilm):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("---\ntags: [garden]\n---\nTomatoes.\n", encoding="utf-8")
    (notes / "b.md").write_text("---\ntags: [garden]\n---\nBeans.\n", encoding="utf-8")
    settings = make_settings(tmp_path, notes)
    ingest_folder(settings, minilm)
    searcher = Searcher(settings, minilm)
    before = answer_question("How many notes are tagged garden?", searcher=searcher, chat_model=NoChatModel(),
                             settings=settings)
    (notes / "b.md").write_text("---\ntags: [kitchen]\n---\nBeans.\n", encoding="utf-8")
    ingest_folder(settings, minilm)
    after = answer_question("How many notes are tagged garden?", searcher=searcher, chat_model=NoChatModel(),
                            settings=settings)
    kitchen = answer_question("Which notes are tagged #kitchen?", searcher=searcher, chat_model=NoChatModel(),
                              settings=settings)
    assert "You have 2 notes" in before.text and "You have 1 note tagged #garden" in after.text
    assert [h.chunk.path for h in kitchen.passages] == ["b.md"]


def test_an_index_from_before_note_metadata_is_upgraded_in_place_with_one_line_and_nothing_re_embedded(
        tmp_path, minilm, caplog):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("---\ncreated: 2024-01-05\ntags: [x/y]\n---\nHello [[b]].\n", encoding="utf-8")
    (notes / "b.md").write_text("Bee.\n", encoding="utf-8")
    settings = make_settings(tmp_path, notes)
    ingest_folder(settings, minilm)
    with sqlite3.connect(settings.index_path / "index.sqlite") as conn:  # as a format-1 index was
        for table in ("notes", "note_tags", "note_links", "note_names"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE manifest SET value = ? WHERE key = 'format'", (json.dumps(1),))
    with pytest.raises(NoNoteMetadataError, match="run `ragqa ingest` once"):
        with read_catalog(settings.index_path):
            pass
    with caplog.at_level(logging.WARNING):
        report = ingest_folder(settings, minilm)
    upgraded = [r.getMessage() for r in caplog.records if "upgraded in place" in r.getMessage()]
    assert len(upgraded) == 1 and "\n" not in upgraded[0]
    assert report.chunks == 0 and report.unchanged == ["a.md", "b.md"]
    with read_catalog(settings.index_path) as catalog:
        assert [r.path for r in catalog.notes(tags=["x"], created=("2024-01-01", "2024-01-31"))] == ["a.md"]
        assert catalog.links_to("b.md") == ["a.md"]


@pytest.fixture(scope="module")
def gpu_notes(tmp_path_factory, hashed):
    """Three notes: one with both tags, one with each (the seeded-hash embedder: no model is the point here)."""
    from helpers.settings import HASH

    tmp = tmp_path_factory.mktemp("gpu-notes")
    for name, tags in {"both.md": "[cuda, vulkan]", "cuda.md": "[cuda]", "vulkan.md": "[vulkan]"}.items():
        (tmp / "notes").mkdir(exist_ok=True)
        (tmp / "notes" / name).write_text(f"---\ntags: {tags}\n---\nShaders and kernels.\n", encoding="utf-8")
    settings = make_settings(tmp, tmp / "notes", model=HASH)
    ingest_folder(settings, hashed)
    return settings, Searcher(settings, hashed)


@pytest.mark.parametrize(("question", "notes"), [
    ("Which notes are tagged #cuda and #vulkan?", ["both.md"]),
    ("How many notes have both the cuda and vulkan tags?", ["both.md"]),
    ("Which notes are tagged #cuda or #vulkan?", ["both.md", "cuda.md", "vulkan.md"]),
    ("List my notes tagged #cuda, #vulkan", ["both.md", "cuda.md", "vulkan.md"]),
])
def test_tags_joined_by_and_select_the_notes_with_every_one(gpu_notes, question, notes):
    answer = ask(gpu_notes, question)
    assert cited(answer) == notes
    joined = " and " if len(notes) == 1 else " or "
    assert any(f"tagged {a}{joined}{b}" in answer["answer"].splitlines()[0]
               for a, b in (("#cuda", "#vulkan"), ("#vulkan", "#cuda")))
    assert answer["plan"]["filters"].get("every_tag", False) is (len(notes) == 1)
