"""Kill -9 a real `ragqa ingest` at random moments: the index is always whole, and a re-run finishes it.

A copy of ~50 real vault notes and seven real documents (docx, pptx, html, rst, eml: read by the isolated
reader, so kills also land while its child process reads), real MiniLM, real SQLite and FAISS, the real CLI
(`ragqa.cli.main`) in child processes forked from a server that imported torch and sentence-transformers once
(tests/forked_cli.py: each child still loads the model, locks, embeds and commits on its own, but starts in
well under a second instead of ~8 s). Small chunks make a full ingest commit a batch every second or so, so
seeded random kills land before, between and inside commits, mid-embedding and mid-publish. While one ingest
runs, the next is already starting (loading the model) and waiting for the write lock, which
also checks that waiting path; the test itself takes the lock to inspect the index after each kill.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from ragqa.errors import IndexBusyError
from ragqa.index.lock import LOCK_NAME, write_lock
from ragqa.index.store import DB_NAME, IndexReader

from helpers import forked_cli
from helpers.data import need_shared

pytestmark = pytest.mark.slow

SEED = 20260707
# At least 20 kills (the promise in docs/RELIABILITY.md); RAGQA_CRASH_KILLS=100 runs a longer soak.
KILLS_WANTED = max(20, int(os.environ.get("RAGQA_CRASH_KILLS", "20")))
MAX_ROUNDS = KILLS_WANTED + KILLS_WANTED // 2 + 2
EVERY_NTH_NOTE = 24  # ~50 notes, ~50 KB of text, ~300 chunks of 48 tokens
# Documents beside the notes, read by the isolated reader: an edit of a .docx or .pptx swaps in the other one.
DOCUMENTS = ["fake.docx", "simple.docx", "fake-power-point.pptx", "sample-presentation.pptx", "fake-html.html",
             "README.rst", "eml_fake-email.eml"]
SWAPS = {"fake.docx": "simple.docx", "simple.docx": "fake.docx",
         "fake-power-point.pptx": "sample-presentation.pptx", "sample-presentation.pptx": "fake-power-point.pptx"}


def copy_notes(vault: Path, formats: Path, target: Path) -> dict[str, Path]:
    """~50 vault notes and the documents, copied into `target`: {path in the folder: where it came from}."""
    sources = {str(p.relative_to(vault)): p for p in sorted(vault.rglob("*.md"))[::EVERY_NTH_NOTE]}
    sources.update({f"documents/{name}": formats / name for name in DOCUMENTS})
    for rel, source in sources.items():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, dest)
    return sources


class Ingests:
    """`ragqa ingest` child processes on one folder and one index."""

    def __init__(self, tmp: Path, notes: Path, index: Path):
        self.tmp, self.notes, self.index = tmp, notes, index
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                    "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2", "RAGQA_LLM__PROVIDER": "none",
                    "RAGQA_EMBEDDING__CACHE_DIR": str(tmp / "cache"),
                    "RAGQA_CHUNKING__CHUNK_TOKENS": "48", "RAGQA_CHUNKING__OVERLAP_TOKENS": "8"}
        self.env.pop("RAGQA_CONFIG", None)
        self.procs: list[forked_cli.ForkedCli] = []

    @property
    def started(self) -> int:
        return len(self.procs)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(60)

    def start(self, rebuild: bool) -> forked_cli.ForkedCli:
        args = ["ingest", str(self.notes), "--index", str(self.index)] + (["--rebuild"] if rebuild else [])
        proc = forked_cli.start(args, self.tmp, self.env, self.tmp / f"ingest-{self.started + 1}.log")
        self.procs.append(proc)
        return proc

    def wait_until_writing(self, proc: forked_cli.ForkedCli, timeout: float = 300) -> float:
        """The moment `proc` holds the write lock (or has exited)."""
        lock, deadline = self.index / LOCK_NAME, time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if lock.read_text() == f"pid {proc.pid}":
                    return time.monotonic()
            except OSError:
                pass
            time.sleep(0.01)
        assert proc.poll() is not None, "the ingest never took the write lock"
        return time.monotonic()


def generation(index: Path) -> int:
    with sqlite3.connect(index / DB_NAME) as conn:
        row = conn.execute("SELECT value FROM manifest WHERE key='generation'").fetchone()
    return int(json.loads(row[0])) if row else 0


def check_index(index: Path, quiet: bool) -> dict:
    """Everything that must hold after any kill. `quiet`: no other writer is running.

    Returns {(path, ordinal): text} of the committed chunks.
    """
    reader = IndexReader(index)  # loads: SQLite opens, the vectors load or are rebuilt
    try:
        lexical = reader.bm25(["the"], 5)  # every note has "the": BM25 answers whenever there are chunks
        probe = np.random.default_rng(0).normal(size=int(reader.manifest["dim"])).astype(np.float32)
        reader.dense(probe / np.linalg.norm(probe), 5)
        conn = reader.conn
        conn.execute("BEGIN")  # one snapshot for every check below
        try:
            rows = conn.execute("SELECT id, path, ordinal, text FROM chunks").fetchall()
            assert not quiet or bool(lexical) == bool(rows), "BM25 and the chunks disagree"  # quiet: same state
            ids = {r[0] for r in rows}
            chunks = {(r[1], r[2]): r[3] for r in rows}
            assert len(chunks) == len(rows), "a (path, ordinal) is duplicated"
            assert {r[0] for r in conn.execute("SELECT rowid FROM chunks_fts")} == ids, "FTS rowids != chunk ids"
            counts = dict(conn.execute("SELECT path, chunks FROM files WHERE status='indexed'"))
            per_path: dict[str, list[int]] = {}
            for path, ordinal in chunks:
                per_path.setdefault(path, []).append(ordinal)
            assert set(per_path) <= set(counts), "chunks of a file the index does not list"
            for path, ordinals in per_path.items():
                assert sorted(ordinals) == list(range(counts[path])), f"{path}: chunks half-replaced"
        finally:
            conn.execute("COMMIT")
        if quiet:
            assert set(reader.vectors.ids().tolist()) == ids, "vectors and chunks differ (orphaned vectors)"
        return chunks
    finally:
        reader.close()


def mutate(rng: random.Random, notes: Path, sources: dict[str, Path]) -> None:
    """Edit some notes and documents, delete some, bring back others: work for the next incremental run."""
    for rel in rng.sample(sorted(sources), 14):
        path, source = notes / rel, sources[rel]
        if rng.random() < 0.3:
            path.unlink(missing_ok=True)
        elif source.name in SWAPS:
            shutil.copy(source.with_name(SWAPS[source.name]), path)
        else:
            text = source.read_text(encoding="utf-8")
            path.write_text(text + f"\n\nEdited in round {rng.randrange(10**6)}: the heron came back.\n",
                            encoding="utf-8")


def restore(notes: Path, sources: dict[str, Path]) -> None:
    for rel, source in sources.items():
        if not (notes / rel).exists() or (notes / rel).read_bytes() != source.read_bytes():
            shutil.copy(source, notes / rel)


@pytest.fixture
def ingests(tmp_path):
    vault, formats = need_shared("notes-lesleylai-digital-garden"), need_shared("formats")
    runner = Ingests(tmp_path, tmp_path / "notes", tmp_path / "index")
    runner.sources = copy_notes(vault, formats, runner.notes)  # type: ignore[attr-defined]
    yield runner
    runner.stop_all()


# 2.5 min at load 3; it paces its kills by how long an ingest takes here, so it stretches with the load
@pytest.mark.timeout(3600)
def test_random_kills_never_break_the_index_and_a_rerun_matches_a_clean_ingest(tmp_path, ingests):
    runner, rng, started = ingests, random.Random(SEED), time.monotonic()
    notes, index, sources = runner.notes, runner.index, runner.sources

    # A clean ingest of the folder, uninterrupted: the reference, and how long a full ingest takes.
    first = runner.start(rebuild=False)
    writing = runner.wait_until_writing(first)
    assert first.wait(timeout=600) == 0, (tmp_path / "ingest-1.log").read_text()
    full_seconds = time.monotonic() - writing
    clean = check_index(index, quiet=True)
    indexed = {p for p, _ in clean}
    assert len(clean) > 150 and indexed <= set(sources) and {f"documents/{n}" for n in DOCUMENTS} <= indexed
    upcoming = runner.start(rebuild=True)

    kills = after_a_commit = finished = quiet_checks = 0
    for _ in range(MAX_ROUNDS):
        if kills >= KILLS_WANTED:
            break
        current, before = upcoming, generation(index)
        runner.wait_until_writing(current)
        upcoming = runner.start(rebuild=rng.random() < 0.6)
        time.sleep(rng.uniform(0, 0.9 * full_seconds))
        if current.poll() is None:
            os.kill(current.pid, signal.SIGKILL)
            kills += 1
        else:
            finished += 1
            took = re.search(r"chunks in ([0-9.]+) s", current.log.read_text())
            if "--rebuild" in current.args and took:  # a whole ingest: the shared machine's pace now
                full_seconds = float(took.group(1))
        code = current.wait(timeout=600)
        assert code in (0, -signal.SIGKILL), (code, current.log.read_text())
        try:  # usually the test gets the lock before the waiting ingest does
            with write_lock(index):
                check_index(index, quiet=True)
                quiet_checks += 1
                after_a_commit += code != 0 and generation(index) > before  # it had committed something
                mutate(rng, notes, sources)
        except IndexBusyError:
            check_index(index, quiet=False)

    # The last ingest runs to the end on the original folder: it must finish the job.
    upcoming.kill()  # whatever it was doing (waiting, or already writing)
    upcoming.wait(60)
    with write_lock(index):
        check_index(index, quiet=True)
        restore(notes, sources)
    final = runner.start(rebuild=False)
    log = final.log
    assert final.wait(timeout=600) == 0, log.read_text()
    with write_lock(index):
        assert check_index(index, quiet=True) == clean
    assert not list(index.glob(".*.tmp")), "a temp file of a killed publish is left behind"
    assert sorted(p.name for p in index.glob("vectors.*.faiss")) == [f"vectors.{generation(index)}.faiss"]

    took = time.monotonic() - started
    print(f"\n{kills} kills ({after_a_commit} after the run's first commit), {finished} runs finished "
          f"before their kill time, {quiet_checks} quiet checks; full ingest {full_seconds:.1f} s; "
          f"{len(sources)} notes and documents, {len(clean)} chunks; {runner.started} ingests started; "
          f"total {took:.0f} s")
    assert kills >= KILLS_WANTED
