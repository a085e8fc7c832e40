"""The notes as a catalog: which notes have a tag, were created or changed in a range, sit in a folder, link
to a note. What list, count and links questions are answered from (ragqa.plan), exactly, without a model.

    with read_catalog(index_dir) as catalog:
        catalog.notes(tags=["math"], created=("2024-01-01", "2024-12-31"))   # [NoteRow], oldest first
        catalog.links_to("Concepts/vector field.md")                          # the notes that link to it
        catalog.vocabulary()                                                  # tags, folders, names
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ragqa.errors import RagqaError
from ragqa.index.conditions import path_condition
from ragqa.index.note_rows import file_names, fold, link_name
from ragqa.index.schema import CHUNK_COLUMNS, chunk_from_row, has_note_tables, open_for_reading
from ragqa.records import Chunk, NoteDate


class NoNoteMetadataError(RagqaError):
    """The index was made before ragqa kept note dates, tags and links."""


@dataclass(frozen=True)
class NoteRow:
    """One indexed note (or document) as the catalog lists it."""

    path: str
    title: str
    kind: str
    created: NoteDate
    modified: NoteDate
    tags: tuple[str, ...] = ()  # the tags it wrote itself, as written


@dataclass
class Vocabulary:
    """What a question may name, each case-folded: tags (with how many notes each has, nested included),
    folders, and the notes' names (titles, aliases, file names) with the notes they name."""

    tags: dict[str, tuple[str, int]] = field(default_factory=dict)  # folded -> (as written, notes)
    folders: dict[str, str] = field(default_factory=dict)  # folded -> as written
    names: dict[str, list[str]] = field(default_factory=dict)  # folded -> paths


_NOTE_COLUMNS = ("f.path, f.title, f.kind, n.created, n.created_from, n.modified, n.modified_from, "
                 "(SELECT group_concat(written, char(31)) FROM note_tags t WHERE t.path = f.path AND t.own = 1)")


class Catalog:
    def __init__(self, conn: sqlite3.Connection, folder: Path):
        if not has_note_tables(conn):
            raise NoNoteMetadataError(
                f"the index at {folder} has no note dates, tags or links yet: run `ragqa ingest` once "
                "(it reads them from your notes; nothing is embedded again)")
        self._conn = conn

    def notes(self, **conditions) -> list[NoteRow]:
        """The indexed notes that pass the filters (ragqa.index.conditions.path_condition), oldest first."""
        where, params = path_condition("f.path", **conditions)
        sql = (f"SELECT {_NOTE_COLUMNS} FROM files f JOIN notes n ON n.path = f.path "
               f"WHERE f.status = 'indexed' AND {where} ORDER BY n.created, f.path")
        return [_note_row(row) for row in self._conn.execute(sql, params)]

    def count(self, **conditions) -> int:
        where, params = path_condition("f.path", **conditions)
        sql = f"SELECT count(*) FROM files f JOIN notes n ON n.path = f.path WHERE f.status = 'indexed' AND {where}"
        return int(self._conn.execute(sql, params).fetchone()[0])

    def links_to(self, path: str) -> list[str]:
        """The notes whose wikilinks or Markdown links point at `path` (itself left out), by path.

        A link by name (`[[vector field]]`) points at every note of that file name, as Obsidian resolves it
        when the name is unique; a link with a folder (`[[Concepts/vector field]]`) must match the folder."""
        names = file_names(path)
        stem = fold(path[:-3] if path.lower().endswith(".md") else path)
        rows = self._conn.execute(
            f"SELECT DISTINCT path, target FROM note_links WHERE name IN ({','.join('?' * len(names))}) "
            "AND path != ?", [*names, path])
        return sorted({source for source, target in rows
                       if "/" not in target or stem.endswith(target) or fold(path).endswith(target)})

    def links_from(self, path: str) -> list[str]:
        """The indexed notes `path` links to, by path."""
        by_name = self._paths_by_file_name()
        found = set()
        for (target,) in self._conn.execute("SELECT target FROM note_links WHERE path = ?", (path,)):
            for candidate in by_name.get(link_name(target), []):
                if "/" not in target or fold(candidate).removesuffix(".md").endswith(target):
                    found.add(candidate)
        found.discard(path)
        return sorted(found)

    def _paths_by_file_name(self) -> dict[str, list[str]]:
        by_name: dict[str, list[str]] = {}
        for (path,) in self._conn.execute("SELECT path FROM files WHERE status = 'indexed'"):
            for name in file_names(path):
                by_name.setdefault(name, []).append(path)
        return by_name

    def vocabulary(self) -> Vocabulary:
        vocab = Vocabulary()
        spellings: dict[str, tuple[int, str]] = {}  # each tag as most notes write it
        for tag, written, notes in self._conn.execute(
                "SELECT tag, written, count(DISTINCT path) FROM note_tags GROUP BY tag, written"):
            spellings[tag] = max(spellings.get(tag, (0, written)), (notes, written))  # a tie: lower case
        for tag, notes in self._conn.execute("SELECT tag, count(DISTINCT path) FROM note_tags GROUP BY tag"):
            vocab.tags[tag] = (spellings[tag][1], notes)
        for (path,) in self._conn.execute("SELECT path FROM files WHERE status = 'indexed'"):
            parts = PurePosixPath(path).parts[:-1]
            for i in range(len(parts)):
                folder = "/".join(parts[: i + 1])
                vocab.folders.setdefault(fold(folder), folder)
        for name, path in self._conn.execute(
                "SELECT n.name, n.path FROM note_names n JOIN files f ON f.path = n.path WHERE f.status = 'indexed'"):
            vocab.names.setdefault(name, []).append(path)
        return vocab

    def has(self, path: str) -> bool:
        return self._conn.execute("SELECT 1 FROM files WHERE path = ? AND status = 'indexed'", (path,)).fetchone() \
            is not None

    def first_passages(self, paths: list[str]) -> dict[str, tuple[int, Chunk]]:
        """Each note's first passage (its chunk id and the chunk): what a listed note is cited by."""
        found: dict[str, tuple[int, Chunk]] = {}
        for start in range(0, len(paths), 500):
            batch = paths[start:start + 500]
            sql = (f"SELECT id, {CHUNK_COLUMNS} FROM chunks WHERE id IN (SELECT min(id) FROM chunks "
                   f"WHERE path IN ({','.join('?' * len(batch))}) GROUP BY path)")
            for row in self._conn.execute(sql, batch):
                chunk = chunk_from_row(row[1:])
                found[chunk.path] = (row[0], chunk)
        return found

    def titles(self, paths: list[str]) -> dict[str, str]:
        """The title of each of these notes."""
        found: dict[str, str] = {}
        for start in range(0, len(paths), 500):
            batch = paths[start:start + 500]
            found.update(self._conn.execute(
                f"SELECT path, title FROM files WHERE path IN ({','.join('?' * len(batch))})", batch))
        return found


def _note_row(row) -> NoteRow:
    path, title, kind, created, created_from, modified, modified_from, tags = row
    return NoteRow(path, title or PurePosixPath(path).stem, kind or "", NoteDate(created, created_from),
                   NoteDate(modified, modified_from), tuple(tags.split("\x1f")) if tags else ())


def read_catalog(index_dir: Path):
    """The catalog of the index as of now (one read transaction). IndexMissingError before the first ingest;
    NoNoteMetadataError for an index no ingest has upgraded to note metadata yet.
    (A context manager: `with read_catalog(index_dir) as catalog`; whichever store holds the index.)"""
    from ragqa.index.stores import open_store

    return open_store(Path(index_dir)).catalog()


@contextmanager
def sqlite_catalog(index_dir: Path) -> Iterator[Catalog]:
    """read_catalog of an index kept in index.sqlite."""
    conn, _ = open_for_reading(Path(index_dir), snapshot=True)
    try:
        yield Catalog(conn, Path(index_dir))
    finally:
        conn.close()
