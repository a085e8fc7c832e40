"""How a note's metadata is laid out in the note tables (schema.py), for the writer and for the catalog's reads.

Everything a question is matched on is case-folded: a tag is found as `#math`, `#Math` or `math`; a note by its
title, an alias or its file name. A nested tag is recorded with each of its parents (`math/LinearAlgebra` also
under `math`), as Obsidian counts it; `own` marks the tags the note wrote itself.
"""
from __future__ import annotations

import sqlite3
from pathlib import PurePosixPath

from ragqa.records import NoteMeta


def fold(text: str) -> str:
    """The form names and tags are compared in.

    >>> fold("  #Math/Linear Algebra "), fold("Café.md")
    ('math/linear algebra', 'café.md')
    """
    return " ".join(text.strip().lstrip("#").casefold().split())


def tag_and_parents(tag: str) -> list[str]:
    """A tag and each of its parents, the broadest first.

    >>> tag_and_parents("#math/LinearAlgebra/norm")
    ['math', 'math/LinearAlgebra', 'math/LinearAlgebra/norm']
    """
    parts = [p for p in tag.strip().lstrip("#").split("/") if p]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def link_name(target: str) -> str:
    """The note a link names, as compared with file names: its last part, without ".md", case-folded.

    >>> link_name("Concepts/Unitary Matrix"), link_name("paper.pdf"), link_name("a/b.md")
    ('unitary matrix', 'paper.pdf', 'b')
    """
    name = target.rsplit("/", 1)[-1]
    return fold(name[:-3] if name.lower().endswith(".md") else name)


def file_names(path: str) -> list[str]:
    """The names a link may use for this file: "Concepts/paper.pdf" is [[paper.pdf]] or [[paper]].

    >>> file_names("Concepts/unitary matrix.md"), file_names("papers/x.pdf")
    (['unitary matrix'], ['x.pdf', 'x'])
    """
    pure = PurePosixPath(path)
    names = [fold(pure.stem)] if pure.suffix.lower() == ".md" else [fold(pure.name), fold(pure.stem)]
    return list(dict.fromkeys(names))


def write_note_rows(conn: sqlite3.Connection, path: str, title: str, note: NoteMeta) -> None:
    """Insert one note's rows (its old ones already deleted), inside the caller's transaction."""
    conn.execute("INSERT INTO notes(path, created, created_from, modified, modified_from) VALUES (?,?,?,?,?)",
                 (path, note.created.day, note.created.source, note.modified.day, note.modified.source))
    tags: dict[str, tuple[str, int]] = {}  # folded -> (as written, written by the note itself?)
    for tag in note.tags:
        levels = tag_and_parents(tag)
        for level in levels:
            written, own = tags.get(fold(level), (level, 0))
            tags[fold(level)] = (written, own or int(level == levels[-1]))
    conn.executemany("INSERT INTO note_tags(path, tag, written, own) VALUES (?,?,?,?)",
                     [(path, key, written, own) for key, (written, own) in tags.items()])
    links = {(fold(t), link_name(t)) for t in note.links}
    conn.executemany("INSERT INTO note_links(path, target, name) VALUES (?,?,?)", [(path, *pair) for pair in links])
    names = {fold(n): n for n in [title, *note.aliases, *(PurePosixPath(path).stem,)] if n and fold(n)}
    conn.executemany("INSERT INTO note_names(path, name, written) VALUES (?,?,?)",
                     [(path, key, written) for key, written in names.items()])
