"""Which note a client means, and nothing else: the one place the MCP server turns a path or a `ragqa://` URI
from a client into a note it may read (read_note, related_notes, the resources).

A path is checked as text first (relative, POSIX, no `..`, `~`, NUL, control characters or backslashes), then
looked up in the index; it is never looked up on disk, and never relative to the working folder. Only a note the
index holds is opened, and only if its file (after symlinks) lies inside the notes folder. Percent-escapes are
decoded once, in a URI only; a path is taken literally, so `%2e%2e` names no note. Refusals name no path on the
server. The text checks are the ones every face applies (ragqa.note_paths).
"""
from __future__ import annotations

import difflib
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ragqa.errors import NoteNotFoundError, NotePathError
from ragqa.index.queries import read_snapshot
from ragqa.index.schema import FileRecord
from ragqa.note_paths import relative_note_path

SCHEME = "ragqa"


def _shown(given: str) -> str:
    return repr(given if len(given) <= 80 else given[:77] + "...")


def checked_path(given: str) -> str:
    """A note's path as the index holds it (relative to the notes folder, POSIX), or NoteNotFoundError.

    >>> checked_path("garden/tomatoes.md"), checked_path("./rust.md")
    ('garden/tomatoes.md', 'rust.md')
    >>> checked_path("../secret.md")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ragqa.errors.NoteNotFoundError: '../secret.md' is not a note's path: give it relative to the notes folder, ...
    """
    if not isinstance(given, str):
        raise NoteNotFoundError("a note's path must be text, as search_notes returns it (e.g. garden/tomatoes.md)")
    path = given.removeprefix("./")
    try:  # the rules every face applies to a client's path (ragqa.note_paths), plus: no URL, no empty part
        if "://" in path or any(part in ("", ".") for part in path.split("/")):
            raise NotePathError(path)
        return relative_note_path(path)
    except NotePathError:
        raise NoteNotFoundError(f"{_shown(given)} is not a note's path: give it relative to the notes folder, as "
                                "search_notes returns it (e.g. garden/tomatoes.md), without '..', '~', a leading '/' "
                                "or backslashes") from None


def from_uri(uri: str) -> tuple[str, str]:
    """(collection, path) of a `ragqa://COLLECTION/PATH` URI, its path percent-decoded once, then checked.

    >>> from_uri("ragqa://default/garden/my%20tomatoes.md")
    ('default', 'garden/my tomatoes.md')
    """
    parts = urlsplit(str(uri))
    if parts.scheme != SCHEME or not parts.netloc or parts.query or parts.fragment:
        raise NoteNotFoundError(f"{_shown(str(uri))} is not a note's URI: they look like "
                                f"{SCHEME}://COLLECTION/PATH, as resources/list gives them")
    return parts.netloc, checked_path(unquote(parts.path.removeprefix("/")))


def to_uri(collection: str, path: str) -> str:
    """The resource URI of a note.

    >>> to_uri("default", "garden/my tomatoes.md")
    'ragqa://default/garden/my%20tomatoes.md'
    """
    from urllib.parse import quote

    return f"{SCHEME}://{collection}/{quote(path, safe='/')}"


def indexed_note(settings, given: str) -> tuple[FileRecord, Path]:
    """(the index's record of the note `given` names, its file), for a note in the index of the collection
    `settings` are, whose file lies inside the notes folder the index was made from (else the configured one);
    else NoteNotFoundError, naming no server path."""
    collection = settings.collection_name
    path = checked_path(given)
    with read_snapshot(settings.index_path) as index:
        records = index.file_records()
        notes_dir = (index.manifest.get("last_ingest") or {}).get("notes_dir")
    record = records.get(path)
    if record is None or record.status != "indexed":
        indexed = [p for p, r in records.items() if r.status == "indexed"]
        guess = difflib.get_close_matches(path, indexed, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(guess)}?" if guess else ""
        raise NoteNotFoundError(f"{_shown(given)} is not a note in collection {collection!r}: give a path as "
                                f"search_notes returns it{hint}")
    return record, _inside(Path(notes_dir) if notes_dir else settings.notes_path, path)


def _inside(notes_dir: Path, path: str) -> Path:
    """The note's file, if it is still there and lies (after symlinks) inside the notes folder."""
    gone = NoteNotFoundError(f"{path!r} is in the index but no longer in the notes folder: run `ragqa ingest`")
    base = notes_dir.resolve()
    try:
        real = (base / path).resolve(strict=True)
    except (OSError, RuntimeError):  # gone, unreadable, or a symlink loop
        raise gone from None
    if not real.is_relative_to(base):
        raise NoteNotFoundError(f"{path!r} is a symlink out of the notes folder: only notes inside it are served")
    if not real.is_file():
        raise gone
    return real
