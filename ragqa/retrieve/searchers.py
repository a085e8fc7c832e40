"""Collections → embedders → searchers: how every face builds what it searches (the CLI, the browser, the HTTP
API and the MCP server), so that each does it the same way.

    searchers = Searchers(collections, lambda own, embedder: Searcher(own, embedder))
    searchers.of("work")                     # made at first use
    searchers.over(["work", "papers"], search_settings)   # one searcher, or several behind one `search`

Collections that share an embedding model share one embedder (one model in memory, one query vector per
search). What a searcher is (a one-shot Searcher, a SharedIndex kept across requests, a cached one) and which
collections are ready to be searched is the face's choice; how they are put together is this module's.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Generic, TypeVar

from ragqa.config import SearchSettings, Settings
from ragqa.models.embedding import Embedder, make_embedder
from ragqa.retrieve.across import CollectionsSearcher

S = TypeVar("S")


class Searchers(Generic[S]):
    """One searcher per collection (made at first use), from one embedder per embedding model.

    `make_searcher(settings, embedder)` makes a collection's searcher; `make_embedder(settings)` an embedder
    (default: the one `embedding.backend` names, its model loaded at first use). Safe to share between threads.
    """

    def __init__(self, collections: Mapping[str, Settings], make_searcher: Callable[[Settings, Embedder], S],
                 embedder_for: Callable[[Settings], Embedder] = make_embedder):
        self.collections = dict(collections)
        self._make_searcher, self._make_embedder = make_searcher, embedder_for
        self._searchers: dict[str, S] = {}
        self._embedders: dict[str, Embedder] = {}
        self._lock = threading.RLock()

    def embedder(self, settings: Settings) -> Embedder:
        """The embedder for these settings' embedding model, shared by every collection that has that model."""
        key = settings.embedding.model_dump_json()
        with self._lock:
            if key not in self._embedders:
                self._embedders[key] = self._make_embedder(settings)
            return self._embedders[key]

    def of(self, name: str) -> S:
        """Collection `name`'s searcher."""
        with self._lock:
            if name not in self._searchers:
                own = self.collections[name]
                self._searchers[name] = self._make_searcher(own, self.embedder(own))
            return self._searchers[name]

    def embedders(self) -> list[Embedder]:
        """The embedder of every collection, one per model (none is loaded here)."""
        found = {id(e): e for e in map(self.embedder, self.collections.values())}
        return list(found.values())

    def over(self, names: Iterable[str], search: SearchSettings) -> S | CollectionsSearcher:
        """What a search over these collections reads: the one searcher, or them all behind one `search`
        (`search`: whose top_k and rrf_k fuse them)."""
        names = list(names)
        if len(names) == 1:
            return self.of(names[0])
        return CollectionsSearcher({name: self.of(name) for name in names}, top_k=search.top_k, rrf_k=search.rrf_k)
