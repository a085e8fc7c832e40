"""The attack battery against the real app (README: Security): Streamlit's AppTest runs app.py in this process
over a real index; the real browser only where a browser's own request is the attack (DNS rebinding). Each
attack must be refused with one line, write nothing outside the notes folder, and show no note's HTML.

The case lists are module constants: the README's table counts them.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest
from test_app import ask, click, wait_for_ingest

from ragqa.index.store import IndexReader
from ragqa.ingest.pipeline import ingest_folder

from helpers.app import APP
from helpers.data import REPO
from helpers.net import free_port
from helpers.settings import make_settings

pytestmark = pytest.mark.slow  # the app loads torch and MiniLM once per process

PASSWORD_ENV = "RAGQA_TEST_APP_PASSWORD"
PASSWORD = "pw-4c1d-attack-battery"
OUTSIDE = "plutonium-velvet: words that live outside the notes folder"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.md"
HOSTILE_NOTE = ("# <script>alert('heading')</script> Oven\n\nThe oven bakes bread at 250 degrees. "
                "<script>alert('pwned')</script> <b>bold html</b> <iframe src=javascript:alert(2)></iframe>\n")
REFUSED = "Ingest not started: the app ingests only the notes folder config.yaml names"


@pytest.fixture(scope="module")
def site(tmp_path_factory, minilm):
    """tmp/notes (three notes, one with a hostile name, heading and text) ingested once with MiniLM; beside it
    tmp/outside (never to be read or written), a sibling tmp/notes-evil and links to both."""
    tmp = tmp_path_factory.mktemp("attacks-app")
    notes = tmp / "notes"
    notes.mkdir()
    (notes / "rust.md").write_text("# Rust ownership\n\nEach value in Rust has a single owner.\n", encoding="utf-8")
    (notes / "bread.txt").write_text("Sourdough bread rises with a wild yeast starter.\n", encoding="utf-8")
    (notes / HOSTILE_NAME).write_text(HOSTILE_NOTE, encoding="utf-8")
    ingest_folder(make_settings(tmp, notes), minilm)
    for folder in ("outside", "notes-evil"):
        (tmp / folder).mkdir()
        (tmp / folder / "secret.md").write_text(f"# Secret\n\n{OUTSIDE}\n", encoding="utf-8")
    (tmp / "link-to-outside").symlink_to(tmp / "outside", target_is_directory=True)
    (tmp / "link-to-notes").symlink_to(notes, target_is_directory=True)
    return tmp


def everything(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file() and not p.is_symlink()}


def changed_outside_the_notes(site: Path, before: dict[str, int]) -> list[str]:
    """Files made or changed anywhere in the test's folder but inside notes/ and the index."""
    return sorted(p for p, t in everything(site).items()
                  if before.get(p) != t and not p.startswith(("notes/", "index/", "cache/")))


@pytest.fixture
def app_on(site, monkeypatch):
    """The environment `ragqa app` hands app.py: the site's notes and index, MiniLM, no LLM."""
    config = site / "config.yaml"
    config.write_text("{}\n")
    for name, value in {"RAGQA_CONFIG": str(config), "RAGQA_NOTES_DIR": str(site / "notes"),
                        "RAGQA_INDEX_DIR": str(site / "index"), "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2",
                        "RAGQA_LLM__PROVIDER": "none"}.items():
        monkeypatch.setenv(name, value)
    return site


@pytest.fixture
def listening_on():
    """listening_on(address): the app believes Streamlit listens there (as `--server.address` makes it)."""
    from streamlit import config

    before = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", before)


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


def last_ingest(site: Path):
    reader = IndexReader(site / "index")
    try:
        return reader.stats()["last_ingest"]
    finally:
        reader.close()


def one_line(texts: list[str]) -> bool:
    return bool(texts) and all(t.strip() and "\n" not in t.strip() for t in texts)


# ---- the notes folder box: only a configured notes folder ---------------------------------------

FOLDER_TRICKS = [  # typed into "Notes folder", then Ingest; {t} is the test's folder, {n} the notes folder
    "{t}/outside", "{t}/link-to-outside", "{n}/dir-out", "{n}/..", "{n}/../outside", "{t}/notes-evil", "{n}-evil",
    "{n}/rust.md", "{t}/index", "{n}/ragqa-chats", "/etc", "~", "~/.ssh", "/", "..", "../outside", ".",
    "notes", "{n}\x00", "{n}/%2e%2e", "{n}\\..\\outside", "C:\\Windows", "file://{t}/outside", "",
]


def test_the_notes_folder_box_ingests_only_the_configured_folder(app_on, site):
    (site / "notes" / "dir-out").symlink_to(site / "outside", target_is_directory=True)  # made by the owner
    try:
        before, last = everything(site), last_ingest(site)
        at = run_app()
        outcomes = {}
        for trick in FOLDER_TRICKS:
            typed = trick.format(t=site, n=site / "notes")
            at.text_input(key="notes_folder").set_value(typed).run()
            click(at.sidebar.button, "Ingest")
            at.run()
            warnings = [w.value for w in at.sidebar.warning]
            outcomes[trick] = warnings
            assert not any("Ingesting" in p.value for p in at.sidebar.get("progress")), trick
        refused = {t: w for t, w in outcomes.items() if one_line(w) and w[0].startswith(REFUSED)}
        assert set(refused) == set(FOLDER_TRICKS), {t: w for t, w in outcomes.items() if t not in refused}
        assert last_ingest(site) == last and changed_outside_the_notes(site, before) == []
        # the configured folder itself, as typed or through a link, is ingested
        for same in (str(site / "link-to-notes"), f"{site / 'notes'}/"):
            at.text_input(key="notes_folder").set_value(same).run()
            click(at.sidebar.button, "Ingest")
            wait_for_ingest(at.run())
            assert not [w.value for w in at.sidebar.warning], same
        assert last_ingest(site) != last
    finally:
        (site / "notes" / "dir-out").unlink()


def test_a_shared_app_has_no_folder_box(app_on, site, monkeypatch, listening_on):
    monkeypatch.setenv("RAGQA_UI__PASSWORD_ENV", PASSWORD_ENV)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    for address in ("127.0.0.1", "0.0.0.0"):  # a password: shared, whatever the address
        listening_on(address)
        at = run_app()
        at.text_input[0].set_value(PASSWORD)
        click(at.button, "Open")
        at.run()
        assert at.sidebar.button and not [t for t in at.text_input if t.key == "notes_folder"], address


# ---- listening beyond this machine without a password ---------------------------------------------

def test_a_public_address_without_a_password_shows_only_the_refusal(app_on, monkeypatch, listening_on):
    for address, password_env, says in (
            ("0.0.0.0", None, "set ui.password_env in config.yaml to the NAME of an environment variable"),
            ("", None, "set ui.password_env in config.yaml"),  # unset: Streamlit listens on every address
            ("192.168.1.20", PASSWORD_ENV, f"set ${PASSWORD_ENV} to a password")):  # named, but empty
        if password_env:
            monkeypatch.setenv("RAGQA_UI__PASSWORD_ENV", password_env)
        listening_on(address)
        at = run_app()
        [refusal] = [e.value for e in at.error]
        assert refusal.startswith(f"ragqa: refusing to serve on {address or '0.0.0.0'} without a password: ")
        assert says in refusal and refusal.endswith("or serve on 127.0.0.1") and "\n" not in refusal
        assert not at.sidebar.children and not at.text_input and not at.chat_input and not at.button


@pytest.mark.parametrize("how", ["--host", "ui.host"])
def test_ragqa_app_refuses_a_public_host_without_a_password(tmp_path, how):
    config = {"llm": {"provider": "none"}, **({"ui": {"host": "0.0.0.0"}} if how == "ui.host" else {})}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "ragqa", "--config", str(tmp_path / "config.yaml"), "app", "--port",
               str(free_port()), *(["--host", "0.0.0.0"] if how == "--host" else [])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGQA_")}
    out = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == ("ragqa: refusing to serve on 0.0.0.0 without a password: set ui.password_env in "
                                  "config.yaml to the NAME of an environment variable holding a password, or serve "
                                  "on 127.0.0.1")


# ---- uploads ------------------------------------------------------------------------------------

UPLOADS = [  # (name, content): each lands as a plain file in notes/uploads/, or is refused with one line
    ("../x.md", b"# x"), ("../../x.md", b"# x"), ("..\\..\\x.md", b"# x"), ("/etc/cron.d/x.md", b"# x"),
    (".ragqa-index/index.sqlite.md", b"# x"), ("index/../../x.md", b"# x"), ("....//....//x.md", b"# x"),
    ("%2e%2e%2fx.md", b"# x"), (".hidden.md", b"# x"), (HOSTILE_NAME, b"# x"), ("C:\\Windows\\x.md", b"# x"),
    ("ragqa-chats/../../../x.md", b"# x"), ("empty.md", b""), ("\x01\x02.md", b"# x"),
]
STREAMLIT_REFUSES = [("x.md\x00.png", b"# x"), ("run.sh", b"echo"), ("uploads", b"# x"), ("x.md.exe", b"MZ")]


def test_uploads_land_in_the_notes_folder_whatever_their_name_or_the_box_says(app_on, site):
    before, outside = everything(site), site / "outside"
    at = run_app()
    at.text_input(key="notes_folder").set_value(str(outside)).run()  # typed, not ingested: uploads ignore it
    at.sidebar.file_uploader[0].set_value([(name, data, "text/markdown") for name, data in UPLOADS])
    click(at.sidebar.button, "Add to the notes folder and ingest")
    at.run()
    assert not at.exception, at.exception
    wait_for_ingest(at)
    saved = sorted(p.name for p in (site / "notes" / "uploads").iterdir())
    notes_said = [c.value for c in at.sidebar.caption if c.value.startswith("Saved ")] + \
                 [w.value for w in at.sidebar.warning]
    assert len(saved) == len(UPLOADS) - 1 and one_line(notes_said) and len(notes_said) == len(UPLOADS)
    assert any(w.startswith("empty.md: the file is empty") for w in notes_said)
    assert all(not name.startswith(".") and "/" not in name and "\\" not in name for name in saved)
    assert changed_outside_the_notes(site, before) == [] and sorted(p.name for p in outside.iterdir()) == ["secret.md"]
    assert not [p for p in (site / "index").rglob("*.md")]  # nothing uploaded into the index folder


@pytest.mark.parametrize(("name", "data"), STREAMLIT_REFUSES, ids=["nul", "sh", "no-suffix", "exe"])
def test_uploads_streamlit_refuses_show_no_traceback_and_write_nothing(app_on, site, name, data):
    before = everything(site)
    at = run_app()
    at.sidebar.file_uploader[0].set_value((name, data, "text/plain"))
    click(at.sidebar.button, "Add to the notes folder and ingest")
    at.run()
    [error] = at.exception  # Streamlit refuses the name or type before the app sees the file
    assert not error.stack_trace and str(site) not in error.message and "Traceback" not in error.message
    # (SQLite's -wal and -shm beside the index change when the page opens it to read: not a write of the upload)
    assert [p for p, t in everything(site).items() if before.get(p) != t and not p.endswith(("-wal", "-shm"))] == []


# ---- notes are data, never code -----------------------------------------------------------------

def test_html_in_a_note_its_name_and_heading_never_renders_as_html(app_on):
    at = ask(run_app(), "How hot does the oven bake bread?")
    shown = list(at.markdown) + list(at.caption) + [m for e in at.expander for m in e.markdown]
    text = " ".join(m.value for m in shown)
    assert "onerror" in text and "alert('heading')" in text and "alert('pwned')" in text, "shown, as text"
    assert not [m.value for m in shown if m.proto.allow_html], "no element may render HTML"
    assert not at.get("html") and not at.get("iframe")


# ---- saving a chat into the notes -----------------------------------------------------------------

def test_save_to_notes_never_follows_a_link_out_of_the_notes(app_on, site):
    link = site / "notes" / "ragqa-chats"
    link.symlink_to(site / "outside", target_is_directory=True)
    try:
        at = ask(run_app(), "Who owns a value in Rust?")
        at.run()  # the saved conversation's bar is drawn above it
        click(at.main.button, "Save to notes")
        at.run()
        [warning] = [w.value for w in at.main.warning]
        assert warning.startswith("Not saved: ragqa-chats/") and "outside the notes folder" in warning
        assert sorted(p.name for p in (site / "outside").iterdir()) == ["secret.md"]
    finally:
        link.unlink()


# ---- secrets --------------------------------------------------------------------------------------

def test_the_password_is_never_shown_nor_saved(app_on, site, monkeypatch):
    monkeypatch.setenv("RAGQA_UI__PASSWORD_ENV", PASSWORD_ENV)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    at = run_app()
    at.text_input[0].set_value("wrong " + PASSWORD[:4])
    click(at.button, "Open")
    at.run()
    assert one_line([e.value for e in at.error]) and PASSWORD not in at.error[0].value
    at.text_input[0].set_value(PASSWORD)
    click(at.button, "Open")
    at.run()
    ask(at, f"Who owns a value in Rust? The password is {PASSWORD[:3]}…")
    page = " ".join(str(e.value) for e in [*at.main.markdown, *at.sidebar.markdown, *at.main.caption])
    assert "Rust" in page and PASSWORD not in page
    history = site / "index" / "history.sqlite"
    assert history.is_file() and PASSWORD.encode() not in history.read_bytes()


# ---- DNS rebinding, in a real browser -------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
REBOUND = "rebind.example"  # a web page's own name, pointed at 127.0.0.1 (the browser's resolver is told so)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (make browser)")
def test_a_page_that_rebinds_its_name_to_127_0_0_1_gets_only_the_refusal(site, start_app):
    from playwright.sync_api import expect, sync_playwright

    url = start_app({"notes_dir": str(site / "notes"), "index_dir": str(site / "index"), "llm": {"provider": "none"},
                     "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(site / "cache")}})
    port = url.rsplit(":", 1)[1]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1"])
        try:
            page = browser.new_page()
            page.set_default_timeout(180_000)
            expect.set_options(timeout=180_000)
            page.goto(f"http://{REBOUND}:{port}/")
            expect(page.get_by_text("This app has no password, so it answers only at")).to_be_visible()
            body = page.inner_text("body")
            assert "Rust" not in body and "Index" not in body and "Oven" not in body, body[:500]
            assert not page.get_by_test_id("stSidebar").count()
            page.goto(url)  # the same app, addressed as 127.0.0.1: the whole page
            expect(page.get_by_text("Ask your notes").or_(page.get_by_placeholder(
                "Ask a question about your notes"))).to_be_visible()
            expect(page.get_by_test_id("stSidebar").get_by_text("Index", exact=True)).to_be_visible()
        finally:
            browser.close()
