"""The browser chat (app.py) driven by Streamlit's AppTest, over the real core.

Real MiniLM, real SQLite/FAISS index in a temp folder, real ingest thread; the app
reads its settings from RAGQA_* environment variables set before each run, as
`ragqa app` does. Upload names are checked on `ingest.uploads.save_upload` directly.
"""
from __future__ import annotations

import importlib.util
import time

import pytest
from conftest import REPO, make_settings, open_app
from streamlit.testing.v1 import AppTest

from ingest.background import IngestJobs, report_rows
from ingest.pipeline import IngestReport, ingest_folder
from ingest.uploads import UploadRejected, safe_upload_name, save_upload
from ragqa.errors import ConfigError, IndexBusyError
from ragqa.index.lock import write_lock

# ---- helpers (the app's environment, app_env, and open_app are in conftest) -------------------

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
    at = open_app()
    at.sidebar.file_uploader[0].set_value([
        ("../../escape.md", b"# Escape\n\nPotatoes grow in cool weather.\n", "text/markdown"),
        ("..\\..\\windows.txt", b"Garlic is planted in autumn.\n", "text/plain"),
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

def _smollm2_missing() -> str | None:
    from ragqa.errors import LLMError
    from ragqa.models import local as local_llm

    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (pip install -c constraints.txt -e .)"
    try:
        local_llm.installed_parts(local_llm.LOCAL_MODELS["smollm2-135m"])
    except LLMError as err:
        return str(err)
    return None


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.skipif(bool(_smollm2_missing()), reason=f"needs the local model: {_smollm2_missing()}")
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


# ---- upload names (ingest.uploads) ---------------------------------------------------------

@pytest.mark.parametrize("name, saved", [
    ("../../etc/evil.md", "evil.md"),
    ("/etc/cron.d/evil.md", "evil.md"),
    ("C:\\Users\\me\\My Notes (1).MD", "My Notes (1).md"),
    ("..\\..\\evil.txt", "evil.txt"),
    (".hidden.md", "hidden.md"),
    ("semi;colon|pipe<>.md", "semi_colon_pipe__.md"),
])
def test_upload_names_cannot_leave_the_upload_folder(tmp_path, name, saved):
    notes = tmp_path / "notes"
    notes.mkdir()
    path = save_upload(notes, name, b"text", max_bytes=1000)
    assert path == (notes / "uploads" / saved).resolve()
    assert path.read_bytes() == b"text"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [saved]  # nothing else, no temp file


def test_oversize_and_wrong_type_uploads_are_refused_with_the_setting_to_change(tmp_path):
    (tmp_path / "notes").mkdir()
    too_big = r"^big.pdf: 2.1 MB is over the 2 MB upload limit \(raise ui.max_upload_mb"
    with pytest.raises(UploadRejected, match=too_big):
        save_upload(tmp_path / "notes", "big.pdf", b"x" * 2_100_000, max_bytes=2 * 1024 * 1024)
    with pytest.raises(UploadRejected, match=r"^run.sh: only .md, .markdown, .txt, .pdf files can be uploaded"):
        save_upload(tmp_path / "notes", "run.sh", b"echo", max_bytes=1000)
    with pytest.raises(UploadRejected, match="has no usable characters"):
        save_upload(tmp_path / "notes", "../..", b"x", max_bytes=1000)
    with pytest.raises(UploadRejected, match="notes folder not found"):
        save_upload(tmp_path / "missing", "a.md", b"x", max_bytes=1000)
    assert not list((tmp_path / "notes").rglob("*.*"))


def test_an_upload_never_overwrites_a_note(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    first = save_upload(notes, "plan.md", b"one", max_bytes=100)
    second = save_upload(notes, "plan.md", b"two", max_bytes=100)
    assert (first.name, second.name) == ("plan.md", "plan (2).md")
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")


def test_a_long_upload_name_keeps_its_type(tmp_path):
    (tmp_path / "notes").mkdir()
    name = safe_upload_name("n" * 300 + ".pdf")
    assert name.endswith(".pdf") and len(name) <= 120
    assert save_upload(tmp_path / "notes", "n" * 300 + ".pdf", b"%PDF", max_bytes=100).name == name


def test_an_upload_folder_that_links_outside_the_notes_is_refused(tmp_path):
    notes, outside = tmp_path / "notes", tmp_path / "outside"
    notes.mkdir()
    outside.mkdir()
    (notes / "uploads").symlink_to(outside)
    with pytest.raises(UploadRejected, match="must be inside the notes folder"):
        save_upload(notes, "a.md", b"x", max_bytes=100)
    assert not list(outside.iterdir())


def test_only_one_ingest_per_index_runs_at_a_time(tmp_path, notes, minilm):
    jobs, settings = IngestJobs(), make_settings(tmp_path, notes)
    with write_lock(settings.index_path):  # e.g. `ragqa ingest` in a terminal: the job waits for it
        job = jobs.start(settings, minilm, notes)
        with pytest.raises(IndexBusyError, match=f"an ingest of {notes} is already running: wait for it to finish"):
            jobs.start(settings, minilm, notes)
    assert job.wait(120) and job.error is None and jobs.current(settings.index_path) is job
    assert sorted(job.report.added) == ["bread.txt", "garden/tomatoes.md", "rust.md"]
    with pytest.raises(ConfigError, match="notes folder not found"):
        jobs.start(settings, minilm, tmp_path / "missing")


def test_ingest_result_rows_list_changes_and_skips_with_reasons():
    report = IngestReport(added=["a.md"], updated=["b.md"], removed=["c.md"], unchanged=["d.md"],
                          skipped=[{"path": "e.pdf", "reason": "encrypted: set pdf.passwords"}],
                          warnings=[{"path": "a.md", "warning": "page 2 has no text"}])
    assert report_rows(report) == [
        {"file": "a.md", "result": "added", "reason": "page 2 has no text"},
        {"file": "b.md", "result": "updated", "reason": ""},
        {"file": "c.md", "result": "removed", "reason": ""},
        {"file": "e.pdf", "result": "skipped", "reason": "encrypted: set pdf.passwords"},
    ]


def test_ragqa_app_hands_its_index_and_notes_folders_to_the_app(tmp_path, monkeypatch):
    from ragqa.cli import build_parser
    from ragqa.cli.app_command import app_launch
    from ragqa.config import load_settings

    monkeypatch.chdir(tmp_path)  # relative folders are taken from here, as in every other command
    args = build_parser().parse_args(["app", "--index", "ix", "--notes", "my notes", "--port", "8600"])
    command, env = app_launch(load_settings(REPO / "config.yaml", environ={}), args, environ={"HOME": "/home/me"})
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("app.py")
    assert command[command.index("--server.port") + 1] == "8600"
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert env == {"HOME": "/home/me", "RAGQA_INDEX_DIR": str(tmp_path / "ix"),
                   "RAGQA_NOTES_DIR": str(tmp_path / "my notes")}
    seen_by_the_app = load_settings(REPO / "config.yaml", environ=env)  # app.py's load_settings()
    assert (seen_by_the_app.index_path, seen_by_the_app.notes_path) == (tmp_path / "ix", tmp_path / "my notes")
