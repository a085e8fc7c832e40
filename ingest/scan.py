"""Find the files of a notes folder that can be indexed, and say why others are not.

Hidden folders (.obsidian, .git, .trash, the index itself) are not entered at
all. Excluded files are left out silently: that is what the user asked for.
Every other file that is not indexed comes back with a one-line reason.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ragqa.filetypes import DEFAULT_INCLUDE, kind_of  # noqa: F401  DEFAULT_INCLUDE: for callers of scan_folder
from ragqa.ingest.globs import matches_any


@dataclass(frozen=True)
class FoundFile:
    rel: str  # relative to the notes folder, POSIX separators
    path: Path  # absolute
    size: int
    mtime_ns: int
    kind: str  # "markdown" | "text" | "pdf"


def scan_folder(root: Path, include: list[str], exclude: list[str],
                max_file_bytes: int) -> tuple[list[FoundFile], list[tuple[str, str]]]:
    """Walk `root`; return (files to index, [(rel_path, reason), ...]), both sorted.

    Symlinked folders are followed, but each real folder is visited once, so
    a link loop cannot make the scan run forever.
    """
    root = Path(root).absolute()
    found: list[FoundFile] = []
    skipped: list[tuple[str, str]] = []
    seen_dirs: set[tuple[int, int]] = set()
    try:
        info = root.stat()
    except OSError as err:
        return [], [(".", f"notes folder cannot be read: {_os_reason(err)}")]
    seen_dirs.add((info.st_dev, info.st_ino))
    pending = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listing = list(entries)
        except OSError as err:
            skipped.append((prefix.rstrip("/") or ".", _os_reason(err)))
            continue
        for entry in listing:
            if entry.name.startswith("."):
                continue  # hidden: app settings, version control, trash
            rel = prefix + entry.name
            if matches_any(rel, exclude):
                continue
            outcome = _examine(entry, rel, include, max_file_bytes, seen_dirs)
            if isinstance(outcome, FoundFile):
                found.append(outcome)
            elif isinstance(outcome, str):
                skipped.append((rel, outcome))
            elif outcome is not None:
                pending.append((entry.path, rel + "/"))
    found.sort(key=lambda f: f.rel)
    skipped.sort()
    return found, skipped


ALREADY_SCANNED = "symlink to a folder that is already scanned (skipped to avoid a loop)"


def unlisted_prefixes(root: Path, skipped: list[tuple[str, str]]) -> tuple[str, ...]:
    """Path prefixes of the folders this scan could not list: the notes known under them are not gone,
    only out of sight this time. A folder skipped as an already-scanned link is not one of them.

    >>> unlisted_prefixes(Path("/"), [(".", "permission denied"), ("tmp", ALREADY_SCANNED)])
    ('',)
    """
    return tuple("" if rel == "." else rel + "/" for rel, reason in skipped
                 if reason != ALREADY_SCANNED and (Path(root) / rel).is_dir())


def _examine(entry: os.DirEntry, rel: str, include: list[str], max_file_bytes: int,
             seen_dirs: set[tuple[int, int]]):
    """A FoundFile, a skip reason (str), True to descend into a folder, or None."""
    try:
        info = entry.stat()  # follows symlinks
    except FileNotFoundError:
        return "broken symlink (its target does not exist)" if entry.is_symlink() else None
    except OSError as err:
        return _os_reason(err)
    if stat.S_ISDIR(info.st_mode):
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            return ALREADY_SCANNED
        seen_dirs.add(key)
        return True
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    suffix = os.path.splitext(entry.name)[1].lower()
    kind = kind_of(entry.name)
    if kind is None:
        return f"unsupported file type {suffix}" if suffix else "unsupported file type (no extension)"
    if not matches_any(rel, include):
        return None  # a supported type the user chose not to include
    if info.st_size == 0:
        return "empty file"
    if info.st_size > max_file_bytes:
        return (f"file too large: {human_size(info.st_size)} > limit "
                f"{human_size(max_file_bytes)} (max_file_mb in config.yaml)")
    if not os.access(entry.path, os.R_OK):
        return "permission denied"
    return FoundFile(rel=rel, path=Path(entry.path), size=info.st_size,
                     mtime_ns=info.st_mtime_ns, kind=kind)


def human_size(n: int) -> str:
    """Bytes for people, in binary units (1 MB = 1024 KB, as max_file_mb means).

    >>> human_size(12_900_000), human_size(10 << 20), human_size(2048), human_size(7)
    ('12.3 MB', '10 MB', '2 KB', '7 bytes')
    """
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def _os_reason(err: OSError) -> str:
    if isinstance(err, PermissionError):
        return "permission denied"
    if getattr(err, "errno", None) == 40:  # ELOOP
        return "symlink loop"
    return f"cannot be read: {err.strerror or type(err).__name__}"
