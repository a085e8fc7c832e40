"""What a loader returns: one parsed file, split into sections by structure."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class SkipFile(Exception):
    """Raised by a loader when a file cannot be indexed.

    The message is the one-line reason shown to the user, e.g.
    "encrypted PDF: the empty password does not open it; set pdf_passwords".
    """


@dataclass
class Section:
    """A run of text under one heading path (or on one PDF page)."""

    headings: list[str]  # e.g. ["Setup", "Linux"]; empty for text before any heading
    text: str
    page: int | None = None


@dataclass
class Document:
    path: str  # relative to the notes folder, POSIX separators
    title: str
    sections: list[Section]
    kind: str  # "markdown" | "text" | "pdf"
    metadata: dict = field(default_factory=dict)  # front matter: tags, aliases, created, ...
    links: list[str] = field(default_factory=list)  # wikilink targets, in order
    warnings: list[str] = field(default_factory=list)  # non-fatal problems, one line each

    @property
    def tags(self) -> list[str]:
        return list(self.metadata.get("tags") or [])


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes (its first `limit` bytes, if given), or SkipFile saying in one line why they cannot be
    read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(-1 if limit is None else limit)
    except FileNotFoundError:
        raise SkipFile("file disappeared during ingest") from None
    except PermissionError:
        raise SkipFile("permission denied") from None
    except IsADirectoryError:
        raise SkipFile("became a folder during ingest") from None
    except OSError as err:
        raise SkipFile(f"cannot be read: {err.strerror or type(err).__name__}") from None
