"""`ragqa watch` and per-file index status, on real files: saves reach the index with no command run. The
notes are embedded with the seeded-hash embedder (the model is not the point here); how many seconds a save
takes to be searchable is measured by bench/incremental.py, not asserted."""
import os
import signal
import time
from pathlib import Path

import pytest

from ragqa.index.store import connect
from ragqa.ingest.file_status import file_statuses, status_counts
from ragqa.ingest.pipeline import ingest_folder
from ragqa.ingest.watch import FolderWatcher
from ragqa.models.embedder import load_embedder
from ragqa.retrieve.search import Searcher

from helpers import forked_cli
from helpers.settings import HASH, make_settings

# How long a test waits for the watcher before it fails: a hang guard, not a speed target (a save is searchable
# after the 0.5 s quiet period and one incremental ingest: ~0.7 s idle, 1.4-3 s at load average 20).
SAVE_DEADLINE = 60.0


def poll(condition, seconds: float) -> float | None:
    """Seconds until `condition()` held, or None if it never did within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def indexed_paths(settings) -> set[str]:
    conn = connect(settings.index_path)
    try:
        return {p for (p,) in conn.execute("SELECT path FROM files WHERE status = 'indexed'")}
    finally:
        conn.close()


@pytest.fixture
def watched(tmp_path, notes):
    settings = make_settings(tmp_path, notes, model=HASH)
    embedder = load_embedder(settings.embedding)
    ingest_folder(settings, embedder)
    watcher = FolderWatcher(settings, embedder).start()
    assert poll(lambda: watcher.runs >= 1, 30) is not None  # the catch-up run (nothing to do) is over
    yield settings, watcher
    watcher.stop()


def test_a_saved_edit_becomes_searchable(watched):
    settings, _ = watched
    searcher = Searcher(settings, load_embedder(settings.embedding))
    (settings.notes_path / "rust.md").write_text("# Rust\n\nThe quokka is a small marsupial from Rottnest Island.\n")

    def found():
        hits = searcher.search("quokka marsupial island", k=1)
        return bool(hits) and hits[0].chunk.path == "rust.md"

    took = poll(found, SAVE_DEADLINE)
    assert took is not None, f"the edit was not searchable within {SAVE_DEADLINE} s"


def test_a_deleted_and_an_added_note_reach_the_index(watched):
    settings, _ = watched
    (settings.notes_path / "bread.txt").unlink()
    (settings.notes_path / "garden" / "beans.md").write_text("# Beans\n\nRunner beans climb poles.\n")
    expected = {"garden/tomatoes.md", "rust.md", "garden/beans.md"}
    assert poll(lambda: indexed_paths(settings) == expected, SAVE_DEADLINE) is not None, indexed_paths(settings)


def test_a_burst_of_saves_is_ingested_once_after_the_folder_is_quiet(watched):
    settings, watcher = watched
    before = watcher.runs
    for n in range(5):  # an editor saving repeatedly, 0.05 s apart
        (settings.notes_path / "rust.md").write_text(f"# Rust\n\nDraft {n} of the note.\n")
        time.sleep(0.05)
    assert poll(lambda: watcher.runs > before, SAVE_DEADLINE + 1) is not None
    time.sleep(watcher.quiet_seconds + 0.3)
    assert watcher.runs == before + 1


def test_hidden_and_unsupported_files_do_not_trigger_an_ingest(watched):
    settings, watcher = watched
    before = watcher.runs
    (settings.notes_path / ".obsidian").mkdir()
    (settings.notes_path / ".obsidian" / "workspace.md").write_text("layout")
    (settings.notes_path / "song.mp3").write_bytes(b"ID3")
    assert poll(lambda: watcher.runs > before, 1.5) is None


def test_file_status_shows_indexed_pending_and_skipped_with_reasons(tmp_path, notes):
    settings = make_settings(tmp_path, notes, model=HASH)
    embedder = load_embedder(settings.embedding)
    assert {r["status"] for r in file_statuses(settings)} == {"pending"}  # no index yet
    ingest_folder(settings, embedder)
    assert status_counts(file_statuses(settings)) == {"indexed": 3, "pending": 0, "skipped": 0}
    (notes / "rust.md").write_text("# Rust\n\nChanged.\n")
    (notes / "new.md").write_text("# New\n\nNot ingested yet.\n")
    (notes / "empty.md").write_text("")
    (notes / "bread.txt").unlink()
    rows = {r["path"]: (r["status"], r["reason"]) for r in file_statuses(settings)}
    assert rows == {
        "garden/tomatoes.md": ("indexed", None),
        "rust.md": ("pending", "changed since it was indexed"),
        "new.md": ("pending", "not indexed yet"),
        "empty.md": ("skipped", "empty file"),
        "bread.txt": ("pending", "deleted from the folder; leaves the index at the next ingest"),
    }
    ingest_folder(settings, embedder)
    assert status_counts(file_statuses(settings)) == {"indexed": 3, "pending": 0, "skipped": 1}


def test_cli_watch_prints_each_change_and_stops_on_ctrl_c(tmp_path, notes):
    env = {**os.environ, "RAGQA_EMBEDDING__MODEL": HASH, "RAGQA_INDEX_DIR": str(tmp_path / "ix"),
           "RAGQA_EMBEDDING__CACHE_DIR": str(tmp_path / "cache"), "RAGQA_LLM__PROVIDER": "none"}
    log = tmp_path / "watch.log"
    proc = forked_cli.start(["watch", str(notes)], Path.cwd(), env, log)  # stdout and stderr in `log`

    def lines() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    try:
        assert poll(lambda: any("added bread.txt" in line for line in lines()), 120), lines()  # the catch-up run
        (notes / "rust.md").unlink()
        (notes / "empty.md").write_text("")
        assert poll(lambda: any("removed rust.md" in line for line in lines()), 30), lines()
        assert poll(lambda: any("skipped empty.md: empty file" in line for line in lines()), 30), lines()
    finally:
        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=60) == 0
    assert lines()[0].startswith("watching ") and "Traceback" not in log.read_text()
