"""The browser's "Your notes" view and the related notes under a cited source, driven by Streamlit's AppTest.

Real MiniLM, a real index built by the real ingest pipeline, the real core behind the view (as
tests/test_app.py). A small folder of three subjects with one planted near-copy.
"""
from __future__ import annotations

import json

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from ragqa.ingest.pipeline import ingest_folder
from ragqa.notes.graph import find_topics, note_texts
from ragqa.notes.vectors import load_note_vectors
from ragqa.web import markup

from helpers.app import open_app
from helpers.settings import make_settings

OWNERSHIP = ("# Rust ownership\n\nEach value in Rust has a single owner. When the owner goes out of scope, the value "
             "is dropped and its memory is freed. Moving a value transfers ownership; borrowing lends it out.\n")
COPY = "rust/ownership-copy.md"
NOTES = {
    "garden/tomatoes.md": "# Growing tomatoes\n\nTomato plants in the vegetable garden need six hours of sun, rich "
                          "soil and deep watering; stake the plants so they climb.\n",
    "garden/compost.md": "# Composting\n\nA compost heap in the garden turns fallen leaves and grass clippings into "
                         "rich soil that feeds the plants in the vegetable beds.\n",
    "garden/roses.md": "# Pruning roses\n\nPrune the rose bushes in the garden in late winter, cutting each stem "
                       "above an outward-facing bud so the plants grow open.\n",
    "rust/ownership.md": OWNERSHIP,
    COPY: OWNERSHIP.replace("its memory is freed", "its memory is released"),
    "rust/traits.md": "# Rust traits\n\nA trait in Rust defines shared behaviour; generic functions in Rust code take "
                      "trait bounds.\n",
    "baking/sourdough.md": "# Sourdough starter\n\nFeed the sourdough starter flour and water daily until it "
                           "bubbles; it leavens the bread dough.\n",
    "baking/baguette.md": "# Baguettes\n\nBaguette bread dough is flour, water, salt and yeast, shaped long and "
                          "baked in a hot oven.\n",
}


# ---- helpers (app_env and unused_port are in conftest, open_app in helpers.app) ------------

@pytest.fixture
def notes(tmp_path):
    """This module's notes folder (in place of conftest's): three subjects and one planted near-copy."""
    root = tmp_path / "notes"
    for path, text in NOTES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def indexed(app_env, notes, minilm):
    """The folder ingested with the real pipeline, as `ragqa ingest` would; its settings."""
    settings = make_settings(app_env, notes)
    ingest_folder(settings, minilm)
    return settings


def open_notes(at: AppTest, section: str = "Map") -> AppTest:
    """Click the "Your notes" tab, then one of its sections (tabs that track their state)."""
    at.session_state["view"] = "Your notes"
    at.session_state["notes_section"] = section
    at.run()
    assert not at.exception, at.exception
    return at


def the_map(at: AppTest) -> tuple[dict, list[dict]]:
    """The map chart's Vega-Lite spec and its data rows, as sent to the browser."""
    [chart] = at.get("vega_lite_chart")
    [dataset] = chart.proto.datasets
    return json.loads(chart.proto.spec), convert_arrow_bytes_to_pandas_df(dataset.data.data).to_dict("records")


def table(element) -> list[dict]:
    return element.value.to_dict("records")


def texts(elements) -> list[str]:
    return [e.value for e in elements]


# ---- the view ------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_map_has_one_point_per_note_coloured_by_named_topics(indexed):
    at = open_notes(open_app())
    spec, points = the_map(at)
    assert sorted(p["path"] for p in points) == sorted(NOTES)
    assert spec["encoding"]["color"]["field"] == "topic"
    assert {t["field"] for t in spec["encoding"]["tooltip"]} >= {"title"}  # hover shows the title
    assert {p["title"] for p in points if p["path"] == "rust/traits.md"} == {"Rust traits"}

    notes = load_note_vectors(indexed.index_path)
    topics, _ = find_topics(notes, note_texts(indexed.index_path), settings=indexed)
    legend = {p["topic"] for p in points}
    assert legend == {t["name"] for t in topics} and all(legend)  # the legend: the topics' names
    at.segmented_control(key="map_colour").set_value("folder").run()
    assert not at.exception, at.exception
    spec, points = the_map(at)
    assert spec["encoding"]["color"]["field"] == "folder"
    assert {p["folder"] for p in points} == {"garden", "rust", "baking"}
    open_notes(at, "Topics")
    assert f"{len(topics)} topics, largest first, named by their most distinctive words." in texts(at.main.caption)
    labels = [e.label for e in at.main.expander]
    assert labels == [f"{markup.plain(t['name'])} · {t['size']} notes" for t in topics]
    members = [r["path"] for e in at.main.expander for r in table(e.dataframe[0])]
    assert sorted(members) == sorted(NOTES)  # every note, in exactly one topic


@pytest.mark.slow
def test_clicking_a_point_shows_the_notes_path_title_and_related_notes(indexed):
    at = open_notes(open_app())
    assert any("click it for its related notes" in t for t in texts(at.main.caption))
    at.session_state["notes_map"] = {"selection": {"note": [{"path": "rust/ownership.md"}]}}  # what a click sends
    at.run()
    assert not at.exception, at.exception
    assert texts(at.main.subheader) == ["Rust ownership"]
    assert "rust/ownership.md" in texts(at.main.caption)
    [related] = [m for m in texts(at.main.markdown) if m.startswith("**Related notes**")]
    lines = related.splitlines()[2:]
    assert len(lines) == len(NOTES) - 1  # fewer than RELATED_K others: all of them
    assert lines[0].startswith(f"- Rust ownership · {markup.plain(COPY)} · ")  # its near-copy first
    assert float(lines[0].rsplit(" · ", 1)[1]) > 0.9


@pytest.mark.slow
def test_near_duplicates_list_the_planted_copy_with_its_score(indexed):
    at = open_notes(open_app(), "Near-duplicates")
    [pairs] = at.main.dataframe
    [pair] = table(pairs)
    assert (pair["note"], pair["near-copy"]) == (COPY, "rust/ownership.md") and pair["similarity"] > 0.9


@pytest.mark.slow
def test_file_status_shows_a_skipped_file_with_its_reason_and_a_pending_file_after_an_edit(app_env, notes, minilm):
    (notes / "empty.md").write_text("")
    ingest_folder(make_settings(app_env, notes), minilm)
    at = open_notes(open_app(), "Files")
    rows = {r["path"]: r for r in table(at.main.dataframe[0])}
    assert rows["empty.md"]["status"] == "skipped" and rows["empty.md"]["reason"] == "empty file"
    assert rows["garden/roses.md"]["status"] == "indexed"
    assert [m.value for m in at.main.metric] == ["8", "0", "1"]  # indexed, pending, skipped
    assert "Indexed by type: markdown 8" in texts(at.main.caption)

    with open(notes / "garden" / "roses.md", "a", encoding="utf-8") as note:
        note.write("\nFeed them in spring.\n")  # saved in an editor, not ingested yet
    at.run()
    rows = {r["path"]: r for r in table(at.main.dataframe[0])}
    assert rows["garden/roses.md"] == {"path": "garden/roses.md", "type": "markdown", "status": "pending",
                                       "reason": "changed since it was indexed"}
    assert list(rows)[:2] == ["empty.md", "garden/roses.md"]  # what needs attention first


@pytest.mark.slow
def test_a_cited_source_in_the_chat_lists_its_related_notes(indexed):
    at = open_app()
    at.chat_input[0].set_value("Who owns a value in Rust?").run()
    assert not at.exception, at.exception
    answer = at.main.chat_message[1]
    source = next(e for e in answer.expander if e.label.split()[1].startswith("rust/ownership"))
    cited = source.label.split()[1]
    other = COPY if cited == "rust/ownership.md" else "rust/ownership.md"
    [related] = [m.value for m in source.markdown if m.value.startswith("**Related notes**")]
    lines = related.splitlines()[2:]
    assert len(lines) == 5  # the top 5, best first
    assert lines[0].startswith(f"- Rust ownership · {markup.plain(other)} · ")
    scores = [float(line.rsplit(" · ", 1)[1]) for line in lines]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_score_by_example_ranks_notes_between_two_poles(indexed):
    at = open_notes(open_app(), "Score by example")
    at.multiselect(key="example_low").set_value(["garden/tomatoes.md", "garden/compost.md"])
    at.multiselect(key="example_high").set_value(["rust/traits.md"]).run()
    assert not at.exception, at.exception
    rows = table(at.main.dataframe[0])
    assert len(rows) == len(NOTES)
    assert [r["path"].split("/")[0] for r in rows[:3]] == ["rust"] * 3
    assert rows[-1]["path"].startswith("garden/")
    assert [r["position"] for r in rows] == sorted((r["position"] for r in rows), reverse=True)


# ---- empty and degraded states -------------------------------------------------------------

@pytest.mark.slow
def test_without_an_index_the_notes_view_asks_to_ingest_like_the_chat(app_env, notes):
    at = open_notes(open_app())
    assert any("no index to answer from yet" in t and str(notes) in t and "see how your notes connect" in t
               for t in texts(at.main.info))
    assert "Ingest now" in [b.label for b in at.main.button]
    assert not at.get("vega_lite_chart") and not at.chat_input


@pytest.mark.slow
def test_with_fewer_than_three_notes_the_map_is_explained_in_one_line(app_env, notes, minilm):
    for path in list(NOTES)[2:]:
        (notes / path).unlink()
    ingest_folder(make_settings(app_env, notes), minilm)
    at = open_notes(open_app())
    assert not at.get("vega_lite_chart")
    [why] = texts(at.main.info)
    assert why.startswith("The map needs at least 3 notes and the index has 2")


@pytest.mark.slow
def test_topics_are_named_by_their_words_when_the_llm_is_down(indexed, monkeypatch, unused_port):
    monkeypatch.setenv("RAGQA_LLM__PROVIDER", "openai")
    monkeypatch.setenv("RAGQA_LLM__BASE_URL", f"http://127.0.0.1:{unused_port}/v1")
    monkeypatch.setenv("RAGQA_LLM__MODEL", "x")
    monkeypatch.setenv("RAGQA_LLM__MAX_RETRIES", "0")
    at = open_notes(open_app(), "Topics")
    [caption] = [t for t in texts(at.main.caption) if " topics, largest first" in t]
    assert "named by their most distinctive words" in caption and "is down" in caption
    assert at.main.expander and all(e.label for e in at.main.expander)

