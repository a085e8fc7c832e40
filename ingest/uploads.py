"""Files uploaded through the browser: safe names, size limits, written into the notes folder."""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

ALLOWED_SUFFIXES = (".md", ".markdown", ".txt", ".pdf")


class UploadRejected(Exception):
    """The one-line reason an upload was refused."""


def safe_upload_name(name: str) -> str:
    """A plain file name: no folders, no `..`, no hidden files, no odd characters.

    >>> safe_upload_name("../../etc/passwd.md"), safe_upload_name("C:\\\\x\\\\My Notes (1).md")
    ('passwd.md', 'My Notes (1).md')
    """
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFC", base).replace("\x00", "")
    base = re.sub(r"[^\w .()\-]", "_", base).strip(" .")
    if not base:
        raise UploadRejected(f"upload name {name!r} has no usable characters")
    return base[:120]


def save_upload(notes_dir: Path, name: str, data: bytes, max_bytes: int, subfolder: str = "uploads") -> Path:
    """Write an upload atomically under notes_dir/subfolder; never overwrite, never escape the folder."""
    clean = safe_upload_name(name)
    if not clean.lower().endswith(ALLOWED_SUFFIXES):
        raise UploadRejected(f"{clean}: only {', '.join(ALLOWED_SUFFIXES)} files can be uploaded")
    if len(data) > max_bytes:
        raise UploadRejected(f"{clean}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB upload limit (ui.max_upload_mb)")
    target_dir = (notes_dir / subfolder).resolve()
    if notes_dir.resolve() not in target_dir.parents:
        raise UploadRejected("upload folder must be inside the notes folder")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / clean
    stem, suffix = os.path.splitext(clean)
    counter = 1
    while target.exists():
        counter += 1
        target = target_dir / f"{stem} ({counter}){suffix}"
    temp = target.with_name(f".{target.name}.part")
    temp.write_bytes(data)
    os.replace(temp, target)
    return target
