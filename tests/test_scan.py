"""Scanning the notes folder: what is found, what is skipped and why."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from ragqa.config import Settings
from ragqa.filetypes import KINDS, SUFFIX_KINDS
from ragqa.index.store import FileRecord
from ragqa.ingest.file_status import classify
from ragqa.ingest.globs import matches_any
from ragqa.ingest.scan import DEFAULT_INCLUDE, FoundFile, human_size, scan_folder, unlisted_prefixes
from ragqa.ingest.uploads import save_upload
from ragqa.ingest.watch import is_relevant
from ragqa.retrieve.search import Filters

from helpers.data import SHARED_DATA

VAULT = SHARED_DATA / "notes-lesleylai-digital-garden"
MB = 1 << 20


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def scan(root: Path, include=None, exclude=None, max_bytes=10 * MB):
    return scan_folder(root, include or DEFAULT_INCLUDE, exclude or [], max_bytes)


def test_finds_notes_and_pdfs_sorted_with_posix_paths_and_kinds(tmp_path):
    make(tmp_path, {"b.md": "b", "a/z.txt": "z", "a/y.markdown": "y", "a/doc.pdf": b"%PDF-1.4", "UP.MD": "u"})
    found, skipped = scan(tmp_path)
    assert [(f.rel, f.kind) for f in found] == [
        ("UP.MD", "markdown"), ("a/doc.pdf", "pdf"), ("a/y.markdown", "markdown"), ("a/z.txt", "text"),
        ("b.md", "markdown")]
    assert skipped == []
    first = found[1]
    assert isinstance(first, FoundFile) and first.path == tmp_path / "a" / "doc.pdf"
    assert first.size == 8 and first.mtime_ns == (tmp_path / "a" / "doc.pdf").stat().st_mtime_ns


def test_hidden_folders_are_not_entered_and_not_reported(tmp_path):
    make(tmp_path, {".obsidian/workspace.md": "x", ".git/HEAD.txt": "x", ".trash/old.md": "x",
                    "n/.hidden/deep.md": "x", ".DS_Store": "x", "note.md": "x"})
    found, skipped = scan(tmp_path)
    assert [f.rel for f in found] == ["note.md"] and skipped == []


def test_unsupported_types_empty_and_too_large_files_are_reported_with_reasons(tmp_path):
    make(tmp_path, {"assets/song.mp3": b"ID3", "Makefile": "all:", "empty.md": "",
                    "big.md": "x" * (2 * MB + 300 * 1024), "ok.md": "fine"})
    found, skipped = scan(tmp_path, max_bytes=2 * MB)
    assert [f.rel for f in found] == ["ok.md"]
    assert skipped == [
        ("Makefile", "unsupported file type (no extension)"),
        ("assets/song.mp3", "unsupported file type .mp3"),
        ("big.md", "file too large: 2.3 MB > limit 2 MB (max_file_mb in config.yaml)"),
        ("empty.md", "empty file"),
    ]


def test_excluded_files_and_folders_are_left_out_silently(tmp_path):
    make(tmp_path, {"drafts/a.md": "x", "drafts/sub/b.md": "x", "keep/c.md": "x", "keep/c.tmp.md": "x",
                    "templates/t.png": b"x"})
    found, skipped = scan(tmp_path, exclude=["drafts/**", "*.tmp.md", "templates"])
    assert [f.rel for f in found] == ["keep/c.md"] and skipped == []


def test_include_patterns_narrow_the_scan_with_double_star(tmp_path):
    make(tmp_path, {"journal/2024/jan.md": "x", "journal/feb.md": "x", "other/x.md": "x", "root.md": "x"})
    found, _ = scan(tmp_path, include=["journal/**/*.md"])
    assert [f.rel for f in found] == ["journal/2024/jan.md", "journal/feb.md"]


def test_glob_rules():
    assert matches_any("a/b/c.md", ["**/*.md"]) and matches_any("c.md", ["**/*.md"])
    assert matches_any("x/y/drafts/n.md", ["drafts/**"]) is False
    assert matches_any("drafts/n.md", ["drafts/**"]) and matches_any("x/drafts", ["drafts"])
    assert matches_any("a/x.md", ["a/**/x.md"]) and not matches_any("ax.md", ["a/**/x.md"])
    assert not matches_any("a/b/x.md", ["a/*.md"]) and matches_any("README.MD", ["*.md"])
    assert not matches_any("a.md", ["[z-a].md", ""])  # bad or empty patterns never crash


def test_broken_symlinks_are_reported(tmp_path):
    make(tmp_path, {"real.md": "x"})
    (tmp_path / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    found, skipped = scan(tmp_path)
    assert [f.rel for f in found] == ["real.md"]
    assert skipped == [("dangling.md", "broken symlink (its target does not exist)")]


def test_symlinked_folders_are_followed_once_and_loops_end(tmp_path):
    make(tmp_path, {"notes/a.md": "x", "elsewhere/b.md": "x"})
    (tmp_path / "notes" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "notes" / "loop").symlink_to(tmp_path / "notes", target_is_directory=True)
    (tmp_path / "elsewhere" / "back").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "notes" / "self.md").symlink_to(tmp_path / "notes" / "self.md")
    found, skipped = scan(tmp_path / "notes")
    assert [f.rel for f in found] == ["a.md", "linked/b.md"]
    reasons = dict(skipped)
    assert reasons["loop"].startswith("symlink to a folder that is already scanned")
    assert reasons["linked/back"].startswith("symlink to a folder that is already scanned")
    assert reasons["self.md"] == "symlink loop"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_files_and_folders_are_reported(tmp_path):
    make(tmp_path, {"secret.md": "x", "locked/inner.md": "x"})
    (tmp_path / "secret.md").chmod(0)
    (tmp_path / "locked").chmod(0)
    try:
        found, skipped = scan(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert found == [] and skipped == [("locked", "permission denied"), ("secret.md", "permission denied")]


def test_permission_problems_are_reported_even_when_running_as_root(tmp_path, monkeypatch):
    import ragqa.ingest.scan as scan_module

    make(tmp_path, {"secret.md": "x", "locked/inner.md": "x", "ok.md": "x"})
    real_scandir, real_access = os.scandir, os.access

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(scan_module.os, "scandir", scandir)
    monkeypatch.setattr(scan_module.os, "access", lambda p, mode: not str(p).endswith("secret.md")
                        and real_access(p, mode))
    found, skipped = scan(tmp_path)
    assert [f.rel for f in found] == ["ok.md"]
    assert skipped == [("locked", "permission denied"), ("secret.md", "permission denied")]


def test_only_folders_that_could_not_be_listed_keep_their_known_notes(tmp_path, monkeypatch):
    """A folder that cannot be listed keeps its indexed notes (they are not deleted); a folder skipped as an
    already-scanned link does not, or a deleted note under it would stay in the index for good."""
    import ragqa.ingest.scan as scan_module

    make(tmp_path, {"real/a.md": "x", "locked/b.md": "x"})
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    real_scandir = os.scandir
    monkeypatch.setattr(scan_module.os, "scandir", lambda p: (_ for _ in ()).throw(PermissionError(13, "no"))
                        if str(p).endswith("locked") else real_scandir(p))
    found, skipped = scan(tmp_path)
    assert unlisted_prefixes(tmp_path, skipped) == ("locked/",)
    known = {rel: FileRecord(rel, 1, 1, "sha", "markdown", "indexed")
             for rel in ("locked/b.md", "real/gone.md", "alias/gone.md")}
    rows = {r["path"]: r["status"] for r in classify(found, skipped, known, tmp_path)}
    assert rows["locked/b.md"] == "indexed"
    assert rows["real/gone.md"] == rows["alias/gone.md"] == "pending"  # deleted: leaves at the next ingest


def test_a_missing_notes_folder_is_one_reason_not_a_crash(tmp_path):
    found, skipped = scan(tmp_path / "missing")
    assert found == [] and len(skipped) == 1 and "cannot be read" in skipped[0][1]


def test_human_sizes():
    assert [human_size(n) for n in (12_900_000, 10 * MB, 2048, 7)] == ["12.3 MB", "10 MB", "2 KB", "7 bytes"]


@pytest.mark.shared_data("notes-lesleylai-digital-garden")
def test_real_vault_scan_finds_1186_notes_and_their_pictures_and_skips_other_assets():
    found, skipped = scan(VAULT)  # (how fast: bench/parse_speed.py)
    kinds = Counter(f.kind for f in found)
    assert kinds == {"markdown": 1186, "image": 95}, kinds  # .png and .jpg pictures are read by OCR
    assert skipped and all(rel.startswith("assets/") and reason.startswith("unsupported file type .")
                           for rel, reason in skipped)


@pytest.mark.parametrize(("suffix", "kind"), sorted(SUFFIX_KINDS.items()))
def test_every_note_type_is_scanned_uploaded_watched_and_filtered_alike(tmp_path, suffix, kind):
    """One table (ragqa.filetypes) says which files are notes, for every part that asks."""
    notes = make(tmp_path / "notes", {f"a{suffix}": "text", f"B{suffix.upper()}": "text"})
    found, _ = scan(notes)
    assert [(f.rel, f.kind) for f in found] == [(f"B{suffix.upper()}", kind), (f"a{suffix}", kind)]
    assert save_upload(notes, f"up{suffix}", b"text", max_bytes=100).name == f"up{suffix}"
    assert is_relevant(str(notes / f"c{suffix}"), notes, notes / ".ragqa-index", is_directory=False)
    assert suffix in Filters(kinds=[kind]).conditions()["suffixes"]
    assert f"**/*{suffix}" in Settings().include
    assert kind in KINDS
