"""The write path's pieces the browser uses, without a browser: upload names and checks (ragqa.ingest.uploads), one
ingest job per index (ragqa.ingest.background), the per-file result rows, and how `ragqa app` hands its folders
to app.py. The pages themselves are in test_app.py (Streamlit's AppTest)."""
from __future__ import annotations

import pytest

from ragqa.errors import ConfigError, IndexBusyError
from ragqa.index.lock import write_lock
from ragqa.ingest.background import IngestJobs, report_rows
from ragqa.ingest.pipeline import IngestReport
from ragqa.ingest.uploads import UploadRejected, safe_upload_name, save_upload

from helpers.data import REPO
from helpers.settings import HASH, make_settings

# ---- upload names (ragqa.ingest.uploads) ---------------------------------------------------------

@pytest.mark.parametrize(("name", "saved"), [
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
    wrong_type = r"^run.sh: .sh is not a type ragqa reads \(it reads .md, .markdown, .txt, .pdf, .docx"
    with pytest.raises(UploadRejected, match=wrong_type):
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


def test_only_one_ingest_per_index_runs_at_a_time(tmp_path, notes, hashed):
    jobs, settings = IngestJobs(), make_settings(tmp_path, notes, model=HASH)
    with write_lock(settings.index_path):  # e.g. `ragqa ingest` in a terminal: the job waits for it
        job = jobs.start(settings, hashed, notes)
        with pytest.raises(IndexBusyError, match=f"an ingest of {notes} is already running: wait for it to finish"):
            jobs.start(settings, hashed, notes)
    assert job.wait(120) and job.error is None and jobs.current(settings.index_path) is job
    assert sorted(job.report.added) == ["bread.txt", "garden/tomatoes.md", "rust.md"]
    with pytest.raises(ConfigError, match="notes folder not found"):
        jobs.start(settings, hashed, tmp_path / "missing")


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
