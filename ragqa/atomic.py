"""Replacing a file so that a reader, or a crash, sees the old file or the new one, never half of one.

    with replacing(folder / "vectors.3.faiss") as temp:
        faiss.write_index(index, str(temp))   # any writer that takes a path
    write_atomically(state_file, json.dumps(state))

The new content goes to a hidden temp name in the same folder (a rename is only
atomic within one file system), is flushed to disk (fsync), then renamed over the
target; the folder is flushed too, so the rename survives a power cut. On an
error the temp file is removed and the target is left as it was. Temp names are
`.<name>.<pid>.<thread>.tmp`: two threads or processes never write the same one.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temp_name(final: Path) -> Path:
    """The temp file a write of `final` goes through, in the same folder.

    >>> temp_name(Path("index/vectors.3.faiss")).name.startswith(".vectors.3.faiss.")
    True
    """
    return final.with_name(f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp")


@contextmanager
def replacing(final: Path | str) -> Iterator[Path]:
    """A temp path to write `final`'s new content to; renamed over `final` when the block ends without error."""
    final = Path(final)
    temp = temp_name(final)
    try:
        yield temp
        fsync_file(temp)
        os.replace(temp, final)
        fsync_dir(final.parent)
    finally:
        temp.unlink(missing_ok=True)  # after the rename there is none; after an error, a partial one


def write_atomically(final: Path | str, content: str | bytes) -> None:
    """Replace `final` with `content` (text is written as UTF-8), atomically."""
    with replacing(final) as temp:
        temp.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
