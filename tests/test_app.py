"""The browser chat (app.py) driven by Streamlit's AppTest, over the real core.

Real MiniLM, real SQLite/FAISS index in a temp folder, real ingest thread; the app
reads its settings from RAGQA_* environment variables set before each run, as
`ragqa app` does. Upload names and the ingest jobs are checked directly in test_uploads.py.
"""
from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from ragqa.ingest.pipeline import ingest_folder

from helpers.app import open_app
from helpers.local_model import needs_local_model
from helpers.settings import make_settings

# ---- helpers (the app's environment app_env is in conftest, open_app in helpers.app) -------

@pytest.fixture
def indexed(app_env, notes, minilm):
    """The notes already ingested with the real pipeline, as `ragqa ingest` would."""
    ingest_folder(make_settings(app_env, notes), minilm)
    return app_env


def click(buttons, label: str) -> None:
    [button] = [b for b in buttons if b.label == label]
    button.click()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def wait_for_ingest(at: AppTest, timeout: float = 120) -> AppTest:
    """Rerun the page (as the browser's 1 s refresh does) until the ingest has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        ended = [s.value for s in at.sidebar.success] + [e.value for e in at.sidebar.error]
        if any(text.startswith(("Ingest done", "Ingest failed")) for text in ended):
            return at
        time.sleep(0.5)
    raise AssertionError("the ingest did not end in time")


def texts(elements) -> list[str]:
    return [e.value for e in elements]


# ---- the empty state and ingest ------------------------------------------------------------

@pytest.mark.slow  # the first page load imports torch and loads MiniLM
def test_without_an_index_the_page_asks_to_ingest_and_offers_a_button(app_env, notes):
    at = open_app()
    assert any("no index to answer from yet" in t and str(notes) in t for t in texts(at.main.info))
    assert "Ingest now" in [b.label for b in at.main.button]
    assert not at.chat_input  # nothing to ask yet
    assert "No index yet." in texts(at.sidebar.info)


@pytest.mark.slow
def test_an_index_without_a_passage_offers_no_question_box(app_env, tmp_path, minilm, monkeypatch):
    """As while a first ingest has not stored its first batch: a question now could only get a guess."""
    empty = tmp_path / "empty-notes"
    empty.mkdir()
    (empty / "blank.md").write_text("")
    ingest_folder(make_settings(app_env, empty), minilm)
    monkeypatch.setenv("RAGQA_NOTES_DIR", str(empty))
    at = open_app()
    assert not at.chat_input
    assert any("found no notes to index" in t and str(empty) in t for t in texts(at.main.info))
    assert "Ingest now" in [b.label for b in at.main.button]


@pytest.mark.slow
def test_ingest_from_the_sidebar_shows_per_file_results_then_the_chat(app_env, notes):
    (notes / "empty.md").write_text("")
    at = open_app()
    click(at.sidebar.button, "Ingest")
    at.run()
    at = wait_for_ingest(at)
    [done] = [t for t in texts(at.sidebar.success) if t.startswith("Ingest done")]
    assert "3 added" in done and "1 skipped" in done
    rows = at.sidebar.dataframe[0].value.to_dict("records")
    assert {r["file"]: r["result"] for r in rows} == {
        "bread.txt": "added", "garden/tomatoes.md": "added", "rust.md": "added", "empty.md": "skipped"}
    assert [r["reason"] for r in rows if r["file"] == "empty.md"] == ["empty file"]
    assert (app_env / "index" / "index.sqlite").exists()
    assert at.chat_input and not at.main.info  # the call to ingest is gone; questions can be asked
    assert any("**3** files" in t for t in texts(at.sidebar.markdown))


@pytest.mark.slow
def test_uploads_are_saved_inside_the_notes_folder_and_ingested(app_env, notes):
    import io

    import docx

    word = docx.Document()
    word.add_paragraph("Leeks are earthed up in September.")
    buffer = io.BytesIO()
    word.save(buffer)
    at = open_app()
    at.sidebar.file_uploader[0].set_value([
        ("../../escape.md", b"# Escape\n\nPotatoes grow in cool weather.\n", "text/markdown"),
        ("..\\..\\windows.txt", b"Garlic is planted in autumn.\n", "text/plain"),
        ("Leeks.docx", buffer.getvalue(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ])
    at.sidebar.form_submit_button[0].click()
    at.run()
    at = wait_for_ingest(at)
    assert (notes / "uploads" / "escape.md").is_file()
    assert not (app_env.parent / "escape.md").exists() and not (notes.parent / "escape.md").exists()
    assert ["Saved uploads/escape.md", "Saved uploads/windows.txt"] == texts(at.sidebar.caption)[:2]
    rows = at.sidebar.dataframe[0].value.to_dict("records")
    assert {"file": "uploads/escape.md", "result": "added", "reason": ""} in rows
    assert {"file": "uploads/windows.txt", "result": "added", "reason": ""} in rows
    assert {"file": "uploads/Leeks.docx", "result": "added", "reason": ""} in rows  # documents too


# ---- asking --------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_question_gets_an_answer_with_cited_sources_and_highlighted_snippets(indexed):
    at = open_app()
    ask(at, "How many hours of sun do tomatoes need?")
    answer = at.main.chat_message[1]
    assert answer.markdown[0].value.startswith("*Retrieval only")
    assert "six hours of direct sun" in answer.markdown[0].value
    first = answer.expander[0]
    assert first.label == "[1] garden/tomatoes.md — Growing tomatoes"
    assert "**Tomatoes** **need** six **hours** of direct **sun**" in first.markdown[0].value
    assert first.caption[0].value.startswith("score ")
    assert float(first.caption[0].value.split()[1]) > 0


@pytest.mark.slow
def test_the_conversation_grows_sees_new_ingests_and_new_chat_clears_it(indexed, notes, minilm):
    at = open_app()
    ask(at, "How do I feed a sourdough starter?")
    (notes / "potatoes.md").write_text("# Potatoes\n\nPotatoes are planted in early spring, in cool soil.\n")
    ingest_folder(make_settings(indexed, notes), minilm)  # e.g. `ragqa ingest` in a terminal meanwhile
    ask(at, "When are potatoes planted?")
    assert [m.name for m in at.main.chat_message] == ["user", "assistant", "user", "assistant"]
    assert at.main.chat_message[3].expander[0].label.startswith("[1] potatoes.md")
    assert any("**4** files" in t for t in texts(at.sidebar.markdown))
    click(at.sidebar.button, "New chat")
    at.run()
    assert not at.main.chat_message


@pytest.mark.slow
def test_folder_and_type_filters_limit_the_passages(indexed):
    at = open_app()
    assert at.sidebar.multiselect(key="filter_folders").options == ["garden"]
    assert at.sidebar.multiselect(key="filter_tags").options == ["food", "garden"]
    at.sidebar.multiselect(key="filter_folders").set_value(["garden"]).run()
    ask(at, "Who owns a value in Rust?")
    labels = [e.label for e in at.main.chat_message[1].expander]
    assert labels and all("garden/tomatoes.md" in label for label in labels)
    at.sidebar.multiselect(key="filter_folders").set_value([])
    at.sidebar.multiselect(key="filter_kinds").set_value(["text"]).run()
    ask(at, "Who owns a value in Rust?")
    labels = [e.label for e in at.main.chat_message[3].expander]
    assert labels and all("bread.txt" in label for label in labels)


@pytest.mark.slow
def test_unreachable_llm_says_how_to_fix_it_and_still_shows_the_passages(indexed, monkeypatch, unused_port):
    monkeypatch.setenv("RAGQA_LLM__PROVIDER", "openai")
    monkeypatch.setenv("RAGQA_LLM__BASE_URL", f"http://127.0.0.1:{unused_port}/v1")
    monkeypatch.setenv("RAGQA_LLM__MODEL", "x")
    monkeypatch.setenv("RAGQA_LLM__MAX_RETRIES", "0")
    at = open_app()
    down = f"the LLM at http://127.0.0.1:{unused_port}/v1 is down (connection refused): start it, or fix llm.base_url"
    assert any(down in t for t in texts(at.sidebar.error))
    ask(at, "How many hours of sun do tomatoes need?")
    answer = at.main.chat_message[1]
    [error] = texts(answer.error)
    assert error.startswith("The language model could not answer: " + down)
    assert answer.markdown[0].value.startswith("*Retrieval only")
    assert answer.expander[0].label == "[1] garden/tomatoes.md — Growing tomatoes"


def test_password_is_asked_before_anything_else(app_env, monkeypatch):
    monkeypatch.setenv("RAGQA_UI__PASSWORD_ENV", "NOTES_APP_PASSWORD")
    monkeypatch.setenv("NOTES_APP_PASSWORD", "open sesame")
    at = open_app()
    assert not at.sidebar.button and not at.main.info  # nothing of the app yet
    at.text_input[0].input("wrong")
    at.main.form_submit_button[0].click()
    at.run()
    assert any(t.startswith("Wrong password. It is the value of the environment variable NOTES_APP_PASSWORD")
               for t in texts(at.main.error))
    at.text_input[0].input("open sesame")
    at.main.form_submit_button[0].click()
    at.run()
    assert "Ingest now" in [b.label for b in at.main.button]


# ---- the real local LLM --------------------------------------------------------------------

@pytest.mark.llm
@pytest.mark.slow
@needs_local_model()
def test_local_model_answers_and_is_restarted_when_its_server_died(indexed, monkeypatch):
    from ragqa.config import load_settings
    from ragqa.models.local import stop_local_server

    cache = indexed / "cache"  # its own server state, apart from any other ragqa on this machine
    for name, value in {"RAGQA_LLM__PROVIDER": "local", "RAGQA_LLM__LOCAL_MODEL": "smollm2-135m",
                        "RAGQA_LLM__CONTEXT_WINDOW": "2048", "RAGQA_LLM__MAX_ANSWER_TOKENS": "40",
                        "RAGQA_LLM__TEMPERATURE": "0", "RAGQA_LLM__REWRITE_FOLLOWUPS": "false",
                        "RAGQA_EMBEDDING__CACHE_DIR": str(cache)}.items():
        monkeypatch.setenv(name, value)
    llm = load_settings().llm
    try:
        at = open_app()
        assert "smollm2-135m (local): reachable" in texts(at.sidebar.success)
        ask(at, "How many hours of sun do tomatoes need?")
        answer = at.main.chat_message[1]
        assert answer.markdown[0].value.strip() and not answer.markdown[0].value.startswith("*Retrieval only")
        assert not answer.error
        shown = [e.label for e in answer.expander] + [m.value for e in answer.expander for m in e.markdown]
        assert any("tomatoes.md" in text for text in shown)  # the passages, cited or folded away
        assert "smollm2-135m" in answer.caption[-1].value

        assert stop_local_server(llm, cache)  # the server dies between two questions
        ask(at, "What does sourdough bread rise with?")
        again = at.main.chat_message[3]
        assert not again.error and not again.markdown[0].value.startswith("*Retrieval only")
    finally:
        stop_local_server(llm, cache)
