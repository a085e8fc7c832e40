"""The edges of an ingest: is the notes folder readable, and what a failed index write means.

Both end as one line for a person (a RagqaError), never a traceback, and both are
checked or raised before anything committed could be lost.
"""
from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from ragqa.errors import ConfigError, RagqaError


def check_notes_folder(notes: Path) -> None:
    """A ConfigError, before anything is written, when the notes folder cannot be ingested."""
    if not notes.exists():
        raise ConfigError(f"notes folder not found: {notes} (set notes_dir in config.yaml or pass a PATH)")
    if not notes.is_dir():
        raise ConfigError(f"notes folder {notes} is a file, not a folder (set notes_dir in config.yaml or pass a PATH)")
    try:
        next(notes.iterdir(), None)
    except OSError as err:
        # Going on would find "no files" and drop every indexed note from the index.
        raise ConfigError(f"notes folder {notes} cannot be read ({err.strerror or type(err).__name__}): "
                          "fix its permissions or set notes_dir in config.yaml") from None


# OS errors that mean "the index cannot be written", as opposed to a bug elsewhere.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}


def is_write_failure(err: BaseException) -> bool:
    return isinstance(err, sqlite3.OperationalError) or (isinstance(err, OSError) and err.errno in WRITE_ERRNOS)


def index_write_error(index: Path, err: BaseException) -> RagqaError:
    """What an OSError or SQLite error while opening or writing the index means, in one line.

    >>> message = str(index_write_error(Path("/ix"), sqlite3.OperationalError("database or disk is full")))
    >>> message == ("could not write the index at /ix (database or disk is full): free some disk space and run ingest"
    ...             " again; everything committed before is kept")
    True
    """
    detail = " ".join((getattr(err, "strerror", None) or str(err) or type(err).__name__).split())
    lowered = detail.lower()
    if "full" in lowered or "no space" in lowered or "quota" in lowered:
        return RagqaError(f"could not write the index at {index} ({detail}): free some disk space and run ingest "
                          "again; everything committed before is kept")
    if isinstance(err, sqlite3.DatabaseError) and ("not a database" in lowered or "malformed" in lowered):
        return RagqaError(f"the index at {index} is damaged ({detail}): delete that folder and run "
                          "`ragqa ingest` again to rebuild it")
    return ConfigError(f"cannot write the index at {index} ({detail}): set index_dir in config.yaml "
                       "(or pass --index) to a folder you can write")
