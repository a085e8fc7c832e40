"""Plain records shared by the write path (ingest/) and the read path (ragqa/).

The index folder on disk is the contract between the two paths; these are the
rows it holds, as Python objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Chunk:
    """One passage of one file, as stored in the index.

    `heading` is the breadcrumb shown to the user ("Note title > Section > Sub").
    It starts with the title, and it is embedded together with `text`, so a
    passage carries the context of where it sits.
    """

    path: str  # relative to the notes folder, POSIX separators
    title: str
    heading: str
    text: str
    page: int | None = None  # 1-based page for PDFs, None for notes
    ordinal: int = 0  # position of the chunk within its file
    tags: list[str] = field(default_factory=list)
    collection: str = ""  # set by the search: the collection whose index holds it (ragqa.collections)

    @property
    def embed_text(self) -> str:
        """The text the embedder and BM25 see: breadcrumb, then body."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass
class Hit:
    """A search result: a stored chunk with its id and score."""

    chunk_id: int
    score: float
    chunk: Chunk

    @property
    def key(self) -> tuple[str, int]:
        """Which passage this is, across collections (chunk ids are per index)."""
        return self.chunk.collection, self.chunk_id


@dataclass(frozen=True)
class NoteDate:
    """A note's created or modified day (ISO "YYYY-MM-DD"), and where it was read from."""

    day: str
    source: str  # "front matter created" (the key's name) | "file name" | "file time"


@dataclass(frozen=True)
class NoteMeta:
    """What ingest reads about one indexed file besides its text: the facts that list, count and links
    questions are answered from (ragqa.plan). Tags are as written, without '#'; links are the targets of the
    note's wikilinks and Markdown links (a note's name or its path without ".md")."""

    created: NoteDate
    modified: NoteDate
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
