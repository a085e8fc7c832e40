"""Which files are notes: the one table of file types, by suffix.

The scan, the uploads, the watcher, the search filters (`--type`, the app's "file types") and the
default `include` globs all read it, so a new type is one line here (and a loader in ingest/).
"""
from __future__ import annotations

import os

KIND_SUFFIXES = {"markdown": (".md", ".markdown"), "text": (".txt",), "pdf": (".pdf",)}
KINDS = list(KIND_SUFFIXES)  # "markdown", "text", "pdf"
SUFFIX_KINDS = {suffix: kind for kind, suffixes in KIND_SUFFIXES.items() for suffix in suffixes}
NOTE_SUFFIXES = tuple(SUFFIX_KINDS)  # ".md", ".markdown", ".txt", ".pdf"
DEFAULT_INCLUDE = [f"**/*{suffix}" for suffix in NOTE_SUFFIXES]


def kind_of(name: str) -> str | None:
    """The kind of a file by its name's suffix (any case), or None for a type that is not read.

    >>> kind_of("Garden/Tomatoes.MD"), kind_of("paper.pdf"), kind_of("photo.jpg")
    ('markdown', 'pdf', None)
    """
    return SUFFIX_KINDS.get(os.path.splitext(name)[1].lower())
