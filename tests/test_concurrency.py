"""One writer at a time; readers keep searching during an ingest and never see a half-written index.

Real ingests (in this process and through the CLI), real MiniLM, real SQLite/FAISS.
"""
from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest

import ragqa.ingest.pipeline as pipeline
from ragqa.errors import IndexBusyError
from ragqa.index.store import IndexReader
from ragqa.ingest.pipeline import ingest_folder
from ragqa.retrieve.search import Searcher

from helpers import forked_cli
from helpers.settings import make_settings

_VERSIONED = re.compile(r"Note (\d+) version (\d+)")


def write_notes(folder, version: int, count: int = 40, paragraphs: int = 8) -> None:
    """Notes whose every paragraph says which note and which version it belongs to."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        body = "\n\n".join(f"Note {n} version {version} paragraph {p}: the heron fishes at the pond "
                           f"while the kingfisher watches from branch {p * 7 + n}." for p in range(paragraphs))
        (folder / f"note{n:02d}.md").write_text(f"# Note {n}\n\n{body}\n", encoding="utf-8")


def snapshot_is_whole(reader: IndexReader) -> int:
    """In one read transaction: every note's chunks are all of one version and all there. The generation."""
    conn = reader.conn
    conn.execute("BEGIN")
    try:
        generation = int(conn.execute("SELECT value FROM manifest WHERE key='generation'").fetchone()[0])
        versions: dict[str, set[str]] = {}
        counts: dict[str, int] = {}
        for path, text in conn.execute("SELECT path, text FROM chunks"):
            versions.setdefault(path, set()).update(v for _, v in _VERSIONED.findall(text))
            counts[path] = counts.get(path, 0) + 1
        listed = dict(conn.execute("SELECT path, chunks FROM files WHERE status='indexed'"))
    finally:
        conn.execute("COMMIT")
    assert all(len(v) == 1 for v in versions.values()), f"a note is half old, half new: {versions}"
    assert counts == listed, "the files table and the chunks disagree"
    return generation


def test_searches_during_an_ingest_never_fail_and_never_see_a_half_written_note(tmp_path, minilm, monkeypatch):
    notes = tmp_path / "notes"
    write_notes(notes, version=1)
    settings = make_settings(tmp_path, notes, chunking={"chunk_tokens": 32, "overlap_tokens": 0})
    ingest_folder(settings, minilm)
    write_notes(notes, version=2)
    monkeypatch.setattr(pipeline, "BATCH_CHUNKS", 24)  # many small commits: many chances to catch one half-done

    done, problems, generations, searches = threading.Event(), [], set(), [0]

    def read_in_a_loop(mode: str) -> None:
        searcher = Searcher(settings, minilm)
        try:
            while not done.is_set():
                hits = searcher.search("heron kingfisher pond paragraph", k=40, mode=mode)
                assert hits, "a search found nothing during the ingest"
                seen: dict[str, set[str]] = {}
                for hit in hits:
                    for note, version in _VERSIONED.findall(hit.chunk.text):
                        seen.setdefault(note, set()).add(version)
                assert all(len(v) == 1 for v in seen.values()), f"one search mixed two versions: {seen}"
                generations.add(snapshot_is_whole(searcher.reader))
                searches[0] += 1
        except Exception as err:  # noqa: BLE001 - reported by the main thread
            problems.append(f"{mode}: {type(err).__name__}: {err}")

    readers = [threading.Thread(target=read_in_a_loop, args=(mode,)) for mode in ("hybrid", "dense", "bm25")]
    for reader in readers:
        reader.start()
    try:
        report = ingest_folder(settings, minilm)
    finally:
        done.set()
        for reader in readers:
            reader.join(timeout=120)
    print(f"\n{searches[0]} searches by 3 readers during the ingest saw {len(generations)} generations")
    assert problems == []
    assert len(report.updated) == 40 and report.chunks >= 320
    assert len(generations) >= 3 and searches[0] >= 10, (generations, searches)  # they really ran meanwhile
    final = Searcher(settings, minilm).search("heron kingfisher pond paragraph", k=40)
    assert {v for h in final for _, v in _VERSIONED.findall(h.chunk.text)} == {"2"}


def test_a_second_ingest_in_this_process_is_refused_while_one_writes(tmp_path, notes, minilm):
    settings = make_settings(tmp_path, notes)
    inside = threading.Event()
    release = threading.Event()

    def pause(done, total, chunks):  # called between commits, with the write lock held
        inside.set()
        release.wait(60)

    writer = threading.Thread(target=ingest_folder, args=(settings, minilm), kwargs={"progress": pause})
    writer.start()
    try:
        assert inside.wait(120)
        with pytest.raises(IndexBusyError) as busy:
            ingest_folder(settings, minilm, lock_wait=0)
        assert str(busy.value) == (f"another ingest (pid {os.getpid()}) is writing to {settings.index_path}; "
                                   "wait for it to finish, then retry")
    finally:
        release.set()
        writer.join(120)
    assert len(IndexReader(settings.index_path).files()) == 3


@pytest.mark.slow
def test_cli_ingest_waits_for_a_running_ingest_or_refuses_with_wait_0(tmp_path, notes, minilm):
    settings = make_settings(tmp_path, notes)
    env = {**os.environ, "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2", "RAGQA_LLM__PROVIDER": "none",
           "RAGQA_EMBEDDING__CACHE_DIR": str(tmp_path / "cache")}
    command = ["ingest", str(notes), "--index", str(settings.index_path)]
    inside, release = threading.Event(), threading.Event()

    def pause(done, total, chunks):
        inside.set()
        release.wait(300)

    writer = threading.Thread(target=ingest_folder, args=(settings, minilm), kwargs={"progress": pause})
    writer.start()
    try:
        assert inside.wait(120)
        waiting_out, waiting_log = tmp_path / "waiting.out", tmp_path / "waiting.err"
        waiting = forked_cli.start(command, Path.cwd(), env, waiting_out, stderr=waiting_log)
        refused = forked_cli.run([*command, "--wait", "0"], env=env, timeout=300)
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr == (f"ragqa: another ingest (pid {os.getpid()}) is writing to {settings.index_path}; "
                                  "wait for it to finish, then retry\n")
        deadline = time.monotonic() + 300
        while not (waiting_log.exists() and "waiting" in waiting_log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert waiting.poll() is None  # still waiting, not failed
    finally:
        release.set()
        writer.join(120)
    assert waiting.wait(timeout=300) == 0, waiting_log.read_text()
    assert waiting_log.read_text() == f"another ingest (pid {os.getpid()}) is running; waiting for it…\n"
    assert waiting_out.read_text().startswith("added 0, updated 0, removed 0, unchanged 3")
