"""Saved conversations in the browser (app.py through Streamlit's AppTest, over the real core): a
conversation survives a page reload, opens to be read or continued, is renamed, downloaded, saved to the
notes (and found there as a source) and deleted. Each AppTest is one browser tab; a new one is a reload."""
from __future__ import annotations

import time

import pytest

from ragqa.index.history import History
from ragqa.ingest.pipeline import ingest_folder

from helpers.app import open_app
from helpers.settings import make_settings

pytestmark = pytest.mark.slow  # the first page load imports torch and loads MiniLM

QUESTION = "How many hours of sun do tomatoes need?"


@pytest.fixture
def indexed(app_env, notes, minilm):
    ingest_folder(make_settings(app_env, notes), minilm)
    return app_env


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def sidebar_button(at, label: str):
    [button] = [b for b in at.sidebar.button if b.label == label]
    return button


def main_button(at, label: str):
    [button] = [b for b in at.main.button if b.label == label]
    return button


def shown_questions(at) -> list[str]:
    return [m.markdown[0].value for m in at.main.chat_message if m.name == "user"]


def test_a_conversation_survives_a_reload_and_goes_on_where_it_stopped(indexed):
    at = ask(open_app(), QUESTION)
    ask(at, "and what attacks them?")

    again = open_app()  # the page reloaded: a new session, nothing in it yet
    assert not again.main.chat_message
    sidebar_button(again, QUESTION).click().run()
    assert shown_questions(again) == [QUESTION, "and what attacks them?"]
    answers = [m for m in again.main.chat_message if m.name == "assistant"]
    assert answers[0].expander[0].label == "[1] garden/tomatoes.md — Growing tomatoes"  # its sources, as they were
    assert f"searched for: {QUESTION} and what attacks them?" in answers[1].caption[-1].value  # as shown then

    ask(again, "and its pests?")  # a follow-up of the reopened conversation, rewritten from it
    assert "searched for: and what attacks them? and its pests?" in again.main.chat_message[-1].caption[-1].value
    [saved] = History(indexed / "index").conversations()
    assert (saved.title, saved.turns) == (QUESTION, 3)


def test_new_chat_starts_another_conversation_listed_first(indexed):
    at = ask(open_app(), QUESTION)
    sidebar_button(at, "New chat").click().run()
    assert not at.main.chat_message
    ask(at, "Who owns a value in Rust?")
    at.run()
    titles = [b.label for b in at.sidebar.button if b.key and b.key.startswith("conversation-")]
    assert titles == ["Who owns a value in Rust?", QUESTION]  # newest first
    assert [c.turns for c in History(indexed / "index").conversations()] == [1, 1]


def test_the_open_conversation_is_renamed_downloaded_and_deleted(indexed):
    at = ask(open_app(), QUESTION)
    at.run()  # the bar of the now saved conversation
    [title] = at.main.text_input
    title.set_value("Tomato sun")
    main_button(at, "Rename").click().run()
    assert "Tomato sun" in [b.label for b in at.sidebar.button]
    [download] = at.main.get("download_button")
    assert download.proto.label == "Download as Markdown"
    main_button(at, "Delete").click().run()
    assert not at.main.chat_message and History(indexed / "index").conversations() == []
    assert "Tomato sun" not in [b.label for b in at.sidebar.button]


def test_save_to_notes_writes_the_markdown_into_the_notes_and_it_is_found_as_a_source(indexed, notes):
    at = ask(open_app(), QUESTION)
    at.run()
    main_button(at, "Save to notes").click().run()
    assert not at.exception, at.exception
    [saved] = (notes / "ragqa-chats").glob("*.md")
    text = saved.read_text()
    assert f"## {QUESTION}" in text and "[[garden/tomatoes.md]]" in text
    assert any(s.value.startswith("Saved as ragqa-chats/") for s in at.main.success)
    deadline = time.monotonic() + 120
    while not any(s.value.startswith("Ingest done") for s in at.sidebar.success):
        assert time.monotonic() < deadline, "the ingest of the saved chat did not end"
        time.sleep(0.5)
        at.run()
    ask(at, "Which note holds the question about tomatoes and sun?")
    shown = [e.label for m in at.main.chat_message for e in m.expander]
    assert any("ragqa-chats/" in label for label in shown)


def test_with_history_off_nothing_is_saved_or_listed(indexed, monkeypatch):
    monkeypatch.setenv("RAGQA_HISTORY__ENABLED", "false")
    at = ask(open_app(), QUESTION)
    at.run()
    assert not (indexed / "index" / "history.sqlite").exists()
    assert not any(b.key and b.key.startswith("conversation-") for b in at.sidebar.button)
    assert not at.main.expander or not at.main.expander[0].label.startswith("Conversation:")
