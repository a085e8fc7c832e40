"""Awkward input never stops an ingest: each odd file is indexed or skipped with a one-line reason.

Real files in temp folders, the real pipeline, real MiniLM; the pathological PDF is a
real (crafted) PDF whose text layer pypdf would read for minutes.
"""
from __future__ import annotations

import codecs
import os
import shutil
import tempfile
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest

from ragqa.errors import ConfigError
from ragqa.index.store import IndexReader
from ragqa.ingest.pipeline import ingest_folder
from ragqa.retrieve.search import Searcher

from helpers import cli
from helpers.data import need_shared
from helpers.settings import make_settings

NOBODY = 65534


def pdf_with_page_content(content: bytes) -> bytes:
    """A valid one-page PDF whose page draws `content` (Flate-compressed), with a standard font."""
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def endless_pdf() -> bytes:
    """~60 KB on disk; a million text-showing operators, which pypdf reads for minutes."""
    return pdf_with_page_content(b"BT /F1 12 Tf 72 720 Td " + b"(hello world) Tj 0 -1 Td " * 1_000_000 + b"ET")


def pdf_readers() -> set[int]:
    """PDF reader processes started by this test process and still alive."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid() and b"ragqa.ingest.worker" in (proc / "cmdline").read_bytes():
                found.add(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def reasons(report) -> dict[str, str]:
    found = {s["path"]: s["reason"] for s in report.skipped}
    assert all(r and "\n" not in r and len(r) < 200 for r in found.values()), found
    return found


# ---- PDFs that take forever --------------------------------------------------------------------

@pytest.mark.timeout(300)
def test_a_pdf_that_reads_forever_is_skipped_at_the_time_limit_and_the_rest_is_indexed(tmp_path, minilm):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "endless.pdf").write_bytes(endless_pdf())
    shutil.copy(need_shared("pdfs") / "pypdf__crazyones.pdf", notes / "crazyones.pdf")
    (notes / "note.md").write_text("# Kept\n\nThe rest of the folder is still indexed.\n", encoding="utf-8")
    settings = make_settings(tmp_path, notes, pdf={"timeout_seconds": 1.5})

    report = ingest_folder(settings, minilm)  # (a limit that did not stop the PDF: a hang, failed by its time-out)

    assert reasons(report) == {"endless.pdf": "PDF extraction took longer than 1.5 s (pdf.timeout_seconds)"}
    assert sorted(report.added) == ["crazyones.pdf", "note.md"]
    assert pdf_readers() == set()  # the killed reader and its replacement are both gone

    again = ingest_folder(settings, minilm)  # remembered as skipped: not read (nor waited for) again
    assert reasons(again) == reasons(report) and again.chunks == 0


# ---- files that change under our feet ------------------------------------------------------------

def _when_a_pdf_reader_starts(action):
    """Run `action` once this process has started a PDF reader, i.e. the ingest is loading files."""
    def watch():
        deadline = time.monotonic() + 120
        while not pdf_readers() and time.monotonic() < deadline:
            time.sleep(0.02)
        action()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_notes_deleted_mid_ingest_are_skipped_then_removed_and_the_rest_is_indexed(tmp_path, minilm):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "b.md").write_text("# Bees\n\nBees dance to say where the flowers are.\n", encoding="utf-8")
    (notes / "z.md").write_text("# Zebras\n\nZebra stripes confuse biting flies.\n", encoding="utf-8")
    settings = make_settings(tmp_path, notes, pdf={"timeout_seconds": 2})
    assert sorted(ingest_folder(settings, minilm).added) == ["b.md", "z.md"]

    # Files load in name order: the slow a.pdf first (the window), then b.md, then z.md.
    (notes / "a.pdf").write_bytes(endless_pdf())
    (notes / "new.md").write_text("# Newts\n\nNewts regrow lost legs.\n", encoding="utf-8")
    (notes / "z.md").write_text("# Zebras\n\nZebra stripes confuse biting flies, and more.\n", encoding="utf-8")
    watcher = _when_a_pdf_reader_starts(lambda: [(notes / n).unlink() for n in ("new.md", "z.md")])
    report = ingest_folder(settings, minilm)
    watcher.join()

    skipped = reasons(report)
    assert skipped["new.md"] == skipped["z.md"] == "file disappeared during ingest"
    assert skipped["a.pdf"].startswith("PDF extraction took longer than 2 s")
    assert Searcher(settings, minilm).search("zebra stripes", k=5, mode="bm25") == []  # old chunks are gone

    after = ingest_folder(settings, minilm)
    assert after.removed == ["new.md", "z.md"]
    assert {f.path for f in IndexReader(settings.index_path).files()} == {"a.pdf", "b.md"}


# ---- odd files ------------------------------------------------------------------------------------

def test_odd_files_are_indexed_or_skipped_each_with_a_reason(tmp_path, minilm):
    notes = tmp_path / "notes"
    notes.mkdir()
    files = {
        "big.md": b"# Big\n\n" + b"word " * 4000,  # 20 KB, over the 10 KB limit set below
        "empty.md": b"",
        "blank.md": b"   \n\n\t\n",
        "photo.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300),
        "fake.pdf": b"just text pretending to be a PDF",
        "cp1252.md": "# Café\n\nCrème brûlée needs a blowtorch — and patience.".encode("cp1252"),
        "utf16.txt": codecs.BOM_UTF16_LE + "Notepad saved this as Unicode: naïve café.".encode("utf-16-le"),
        "cr-only.txt": b"old Mac line one\rline two\r",
        "control.md": b"# Ctrl\n\nbell\x07 and escape\x1b[0m codes in a note\n",
        "stub.md": b"---\ntitle: Only a title\ntags: [stub]\n---\n",
    }
    for name, data in files.items():
        (notes / name).write_bytes(data)
    report = ingest_folder(make_settings(tmp_path, notes, max_file_mb=0.01), minilm)

    assert reasons(report) == {
        "big.md": "file too large: 19.5 KB > limit 10.2 KB (max_file_mb in config.yaml)",
        "empty.md": "empty file",
        "blank.md": "no text to index (the file holds only front matter, embeds or whitespace)",
        "photo.md": "binary content in a text file",
        "fake.pdf": "not a PDF file (no %PDF header; renamed or damaged?)",
    }
    assert sorted(report.added) == ["control.md", "cp1252.md", "cr-only.txt", "stub.md", "utf16.txt"]
    warnings = {w["path"]: w["warning"] for w in report.warnings}
    assert warnings == {"cp1252.md": "not UTF-8: decoded as cp1252 (best guess)"}
    searcher = Searcher(make_settings(tmp_path, notes, max_file_mb=0.01), minilm)
    assert searcher.search("Notepad Unicode", k=1, mode="bm25")[0].chunk.text.startswith("Notepad saved")
    assert "Crème brûlée" in searcher.search("blowtorch", k=1, mode="bm25")[0].chunk.text


def test_symlink_loops_and_dangling_links_end_with_reasons(tmp_path, minilm):
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "sub" / "a.md").write_text("Alpha note about symlinks.", encoding="utf-8")
    (notes / "sub" / "back").symlink_to(notes, target_is_directory=True)  # a loop to the top
    (notes / "self.md").symlink_to(notes / "self.md")  # a link to itself
    (notes / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    report = ingest_folder(make_settings(tmp_path, notes), minilm)
    assert report.added == ["sub/a.md"]
    assert reasons(report) == {
        "dangling.md": "broken symlink (its target does not exist)",
        "self.md": "symlink loop",
        "sub/back": "symlink to a folder that is already scanned (skipped to avoid a loop)",
    }


# ---- permissions -------------------------------------------------------------------------------------

@contextmanager
def unprivileged():
    """Run the block as an ordinary user, so file permissions apply (they do not to root)."""
    if os.geteuid() != 0:
        yield
        return
    # Real and effective ids both (access() checks the real one); the saved id 0 lets us return.
    os.setresgid(NOBODY, NOBODY, 0)
    os.setresuid(NOBODY, NOBODY, 0)
    try:
        yield
    finally:
        os.setresuid(0, 0, 0)
        os.setresgid(0, 0, 0)


@pytest.fixture
def open_tmp():
    """A temp folder every user can enter (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="ragqa-perm-"))
    folder.chmod(0o777)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o777)
    shutil.rmtree(folder)


def test_unreadable_files_and_folders_are_reported_and_never_drop_indexed_notes(open_tmp, minilm):
    settings = make_settings(open_tmp, open_tmp / "notes")
    notes = settings.notes_path
    with unprivileged():
        (notes / "private").mkdir(parents=True)
        (notes / "private" / "diary.md").write_text("# Diary\n\nThe heron came back to the pond.\n")
        (notes / "open.md").write_text("# Open\n\nAnyone may read about kingfishers.\n")
        (notes / "secret.md").write_text("# Secret\n\nThe key is under the mat.\n")
        assert len(ingest_folder(settings, minilm).added) == 3

        (notes / "secret.md").chmod(0)
        (notes / "private").chmod(0)
        report = ingest_folder(settings, minilm)
        assert reasons(report) == {"private": "permission denied", "secret.md": "permission denied"}
        assert report.removed == ["secret.md"]  # it is reported as not indexed; its old text is not served
        # A folder that could not be listed is not a deleted folder: its notes stay searchable.
        assert Searcher(settings, minilm).search("heron pond", k=1, mode="bm25")[0].chunk.path == "private/diary.md"

        notes.chmod(0)
        with pytest.raises(ConfigError, match=r"notes folder .* cannot be read \(Permission denied\)"):
            ingest_folder(settings, minilm)
        notes.chmod(0o755)
        assert IndexReader(settings.index_path).stats()["files"] == 2  # nothing was dropped

        read_only = open_tmp / "read-only-index"
        read_only.mkdir(mode=0o555)
        with pytest.raises(ConfigError, match=r"cannot write the index folder .* \(Permission denied\): set index_dir"):
            ingest_folder(settings, minilm, index_dir=read_only)


# ---- bad paths --------------------------------------------------------------------------------------

def test_notes_or_index_paths_that_are_files_are_refused_in_one_line(tmp_path, notes, minilm):
    a_file = notes / "bread.txt"
    settings = make_settings(tmp_path, notes)
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        ingest_folder(settings, minilm, notes_dir=a_file)
    with pytest.raises(ConfigError, match=r"\(it is a file, not a folder\): set index_dir"):
        ingest_folder(settings, minilm, index_dir=a_file)
    with pytest.raises(ConfigError, match=r"\(Not a directory\): set index_dir in config.yaml \(or pass --index\)"):
        ingest_folder(settings, minilm, index_dir=a_file / "index")


@pytest.mark.slow
def test_cli_refuses_a_missing_notes_folder_and_an_unwritable_index_in_one_line(tmp_path, notes):
    env = {**os.environ, "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2", "RAGQA_LLM__PROVIDER": "none",
           "RAGQA_EMBEDDING__CACHE_DIR": str(tmp_path / "cache")}
    a_file = notes / "bread.txt"
    cases = {
        "missing notes": (["ingest", str(tmp_path / "no-such-folder"), "--index", str(tmp_path / "ix")],
                          f"ragqa: notes folder not found: {tmp_path / 'no-such-folder'} (set notes_dir"),
        "unwritable index": (["ingest", str(notes), "--index", str(a_file / "index")],
                             f"ragqa: cannot write the index folder {a_file / 'index'} (Not a directory): "
                             "set index_dir"),
    }
    for name, (args, expected) in cases.items():
        run = cli.run(args, env=env)
        assert run.returncode == 1 and run.stdout == "", (name, run.stdout, run.stderr)
        assert run.stderr.startswith(expected) and run.stderr.count("\n") == 1, (name, run.stderr)
        assert "Traceback" not in run.stderr, (name, run.stderr)
