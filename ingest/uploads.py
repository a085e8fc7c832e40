"""Files uploaded through the browser: safe names, size limits, written into the notes folder."""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from ragqa.filetypes import NOTE_SUFFIXES as ALLOWED_SUFFIXES

MAX_NAME_CHARS = 120


class UploadRejected(Exception):
    """The one-line reason an upload was refused."""


def safe_upload_name(name: str) -> str:
    """A plain file name: no folders, no `..`, no hidden files, no odd characters, a lower-case suffix.

    >>> safe_upload_name("../../etc/passwd.md"), safe_upload_name("C:\\\\x\\\\My Notes (1).MD")
    ('passwd.md', 'My Notes (1).md')
    """
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFC", base).replace("\x00", "")
    base = re.sub(r"[^\w .()\-]", "_", base).strip(" .")
    if not base:
        raise UploadRejected(f"upload name {name!r} has no usable characters: rename the file and upload it again")
    stem, suffix = os.path.splitext(base)
    stem = stem.strip(" .") or "upload"
    # Long names are shortened in the stem, so the suffix (and with it the file type) survives.
    return stem[: MAX_NAME_CHARS - len(suffix)] + suffix.lower()


def save_upload(notes_dir: Path, name: str, data: bytes, max_bytes: int, subfolder: str = "uploads") -> Path:
    """Write an upload under notes_dir/subfolder; never overwrite, never escape the folder.

    A name that is taken gets " (2)", " (3)"… The file appears whole or not at all.
    """
    clean = safe_upload_name(name)
    if not clean.endswith(ALLOWED_SUFFIXES):
        kind = os.path.splitext(clean)[1] or "a file without a suffix"
        raise UploadRejected(f"{clean}: {kind} is not a type ragqa reads (it reads {', '.join(ALLOWED_SUFFIXES)})")
    if len(data) > max_bytes:
        raise UploadRejected(f"{clean}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB upload limit "
                             "(raise ui.max_upload_mb in config.yaml to allow it)")
    if not data:
        raise UploadRejected(f"{clean}: the file is empty")
    notes = Path(notes_dir).expanduser()
    if not notes.is_dir():
        raise UploadRejected(f"notes folder not found: {notes} (fix the notes folder, then upload again)")
    target_dir = (notes / subfolder).resolve()
    if notes.resolve() not in target_dir.parents:
        raise UploadRejected(f"the upload folder {subfolder!r} must be inside the notes folder")
    target_dir.mkdir(parents=True, exist_ok=True)
    stem, suffix = os.path.splitext(clean)
    temp = target_dir / f".{clean}.{os.getpid()}.part"  # hidden: ingest never reads it
    temp.write_bytes(data)
    try:
        for counter in range(1, 1000):
            target = target_dir / (clean if counter == 1 else f"{stem} ({counter}){suffix}")
            try:
                _publish(temp, target, data)
                return target
            except FileExistsError:
                continue
        raise UploadRejected(f"{clean}: too many files with this name in {target_dir}")
    finally:
        temp.unlink(missing_ok=True)


def _publish(temp: Path, target: Path, data: bytes) -> None:
    """Make the finished file appear under `target`; FileExistsError if the name is taken."""
    try:
        os.link(temp, target)  # atomic, and fails if the name exists, even when two uploads race
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: create exclusively, then write
        with open(target, "xb") as out:
            out.write(data)
