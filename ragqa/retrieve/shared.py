"""The index every session of a long-running process searches (the browser's sessions, the HTTP API's requests).

One `SharedIndex` per process (ragqa.web.resources and ragqa.api cache it). While a first ingest creates the index
file, reading it can fail inside SQLite; that is said here once, as an `IndexChangingError` (a
RagqaError), so a face catches only ragqa's errors.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ragqa.errors import IndexMissingError, RagqaError
from ragqa.index.queries import index_file_id
from ragqa.retrieve.search import Searcher


class IndexChangingError(RagqaError):
    """The index is being written under us (e.g. created by a first ingest): the next redraw reads it."""


@contextmanager
def _changing_is_said() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as err:
        raise IndexChangingError("The index is being created.") from err


class SharedIndex:
    """The Searcher all sessions share. One search at a time, because refresh() swaps the
    reader underneath; an index folder deleted and built again (new file) is reopened too.
    `chat_model` reranks with `search.rerank: llm`."""

    def __init__(self, settings, embedder, chat_model):
        self.settings, self.embedder, self.chat_model = settings, embedder, chat_model
        self.lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._inode: int | None = None
        self._choices: tuple = (None, [], [])

    def _current(self) -> Searcher:
        try:
            inode = index_file_id(self.settings.index_path)
        except IndexMissingError:
            raise IndexMissingError(f"no index at {self.settings.index_path} yet: ingest your notes first") from None
        if self._searcher is None or inode != self._inode:
            old, self._searcher = self._searcher, Searcher(self.settings, self.embedder, chat_model=self.chat_model)
            self._inode = inode
            if old is not None:
                old.reader.close()
        return self._searcher

    def index_dirs(self) -> dict:
        return {self.settings.collection_name: self.settings.index_path}

    def search(self, query, k=None, mode=None, filters=None):
        with self.lock:
            return self._current().search(query, k=k, mode=mode, filters=filters)

    @contextmanager
    def reading(self) -> Iterator[Searcher]:
        """The current Searcher, refreshed, held for this session alone until the block ends (a search
        across collections reads several indexes directly)."""
        with self.lock, _changing_is_said():
            searcher = self._current()
            searcher.refresh()
            yield searcher

    def stats(self) -> dict:
        """The index's counts (files, chunks, model, last ingest…); IndexChangingError while it is written."""
        with self.lock, _changing_is_said():
            searcher = self._current()
            searcher.refresh()
            return searcher.reader.stats()

    def choices(self) -> tuple[list[str], list[str]]:
        """(folders, tags) to filter by, read again only when the index has a new generation."""
        with self.lock, _changing_is_said():
            reader = self._current().reader
            if self._choices[0] != reader.generation:
                folders: set[str] = set()
                tags: set[str] = set()
                for record in reader.files():
                    parts = record.path.split("/")[:-1]
                    folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
                    tags.update((record.meta or {}).get("tags") or [])
                self._choices = (reader.generation, sorted(folders), sorted(tags))
            return self._choices[1], self._choices[2]
