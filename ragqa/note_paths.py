"""The checks every face applies to a path a client gives (the HTTP API, the app, the MCP server).

- `relative_note_path`: a note's or folder's path as a client may give it: relative to the notes folder,
  '/'-separated, no '..', no '~', no NUL, no backslash, no drive, no leftover URL-encoding.
- `indexed_note`: a note looked up IN THE INDEX ONLY, never on disk, with errors that name no server path
  (so a caller learns nothing about which files exist on the server).
- `is_inside`: whether a path, symlinks followed, stays inside a folder (uploads, saved chats, the app's box).
- `hide_paths`, `server_folders`: a message with the server's folders replaced by labels, for errors sent to
  a client.
"""
from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ragqa.errors import NoteNotFoundError, NotePathError

if TYPE_CHECKING:
    from ragqa.config import Settings

_ENCODED = re.compile(r"%(2e|2f|5c|00|25)", re.IGNORECASE)  # '.', '/', '\', NUL, '%' still URL-encoded
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_PATH_CHARS = 1024


def relative_note_path(given: str, what: str = "a note's path") -> str:
    """`given` if it is a path inside the notes folder as a client may write it (no control character, at most
    1,024 characters); else NotePathError.

    >>> relative_note_path("garden/tomatoes.md"), relative_note_path("./garden/")
    ('garden/tomatoes.md', 'garden')
    >>> for bad in ("../x.md", "/etc/passwd", "~/.ssh/id_rsa", "a\\x00b", "..\\\\x", "C:x", "%2e%2e%2fx", ""):
    ...     try:
    ...         relative_note_path(bad)
    ...     except NotePathError:
    ...         pass
    ...     else:
    ...         print("accepted", bad)
    """
    pure = PurePosixPath(given)
    if (not given.strip() or len(given) > MAX_PATH_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in given)
            or "\\" in given or given.startswith("~") or pure.is_absolute() or ".." in pure.parts
            or _DRIVE.match(given) or _ENCODED.search(given)):
        raise NotePathError(f"{given!r} is not {what}: give it relative to the notes folder, without '..', "
                            "'~', '\\' or a leading '/' (e.g. garden/tomatoes.md)")
    return pure.as_posix().removeprefix("./") if pure.as_posix() != "." else "."


def indexed_note(given: str, indexed: Sequence[str]) -> str:
    """The index's path for a note a client names: it must be in `indexed` (the index's own paths), exactly.
    Nothing is looked up on disk, and the errors name no server path.

    >>> indexed_note("./garden/tomatoes.md", ["garden/tomatoes.md", "rust.md"])
    'garden/tomatoes.md'
    >>> try:
    ...     indexed_note("garden/potatoes.md", ["garden/tomatoes.md"])
    ... except NoteNotFoundError as err:
    ...     print(str(err).replace(": ", ":|").split("|")[1])
    give a note's path as `ragqa search` shows it (e.g. garden/tomatoes.md); did you mean garden/tomatoes.md?
    """
    path = relative_note_path(given)
    if path in set(indexed):
        return path
    guess = difflib.get_close_matches(path, list(indexed), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(guess)}?" if guess else ""
    example = indexed[0] if indexed else "garden/tomatoes.md"
    raise NoteNotFoundError(f"no note {given!r} in the index: give a note's path as `ragqa search` shows it "
                            f"(e.g. {example}){hint}")


def is_inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """True when `path`, with symlinks followed, is `folder` or lies under it.

    >>> is_inside("/notes/a/../b.md", "/notes"), is_inside("/notes/../etc/passwd", "/notes")
    (True, False)
    """
    real, root = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return real == root or root in real.parents


def hide_paths(text: str, labels: Mapping[str, str]) -> str:
    """`text` with each server folder in `labels` replaced by its label, longest first (so a notes folder
    inside the home folder is named as the notes folder).

    >>> hide_paths("no index at /home/me/notes/.ragqa-index: run ragqa ingest",
    ...            {"/home/me": "~", "/home/me/notes/.ragqa-index": "the index folder"})
    'no index at the index folder: run ragqa ingest'
    """
    for path, label in sorted(((str(p), lab) for p, lab in labels.items() if len(str(p)) > 1),
                              key=lambda pair: len(pair[0]), reverse=True):
        text = text.replace(path, label)
    return text


def server_folders(collections: Mapping[str, Settings], history_folder: str | os.PathLike | None = None
                   ) -> dict[str, str]:
    """The server's folders an error may name (each collection's notes, index and cache folders, the history's,
    the home and working folders), as given and with symlinks followed, each with the label a client sees."""
    named = [(Path.home(), "~"), (Path.cwd(), "the server's folder")]
    for name, own in collections.items():
        named += [(own.notes_path, f"the notes folder of {name}"), (own.index_path, f"the index folder of {name}"),
                  (own.resolve(own.embedding.cache_dir), "ragqa's cache folder")]
    if history_folder is not None:
        named.append((Path(history_folder), "the history's folder"))
    return {str(p): label for path, label in named for p in (path, os.path.realpath(path))}
