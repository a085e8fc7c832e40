"""What a long-running face shares across its requests (the HTTP API, the MCP server): the settings, the
collections served, each one's shared index and embedder (made at first use), and the chat model (started at
first use). One `Served` per process."""
from __future__ import annotations

import threading

from ragqa.models.chat import reranking_model
from ragqa.models.embedding import Embedder
from ragqa.retrieve.across import CollectionsSearcher
from ragqa.retrieve.searchers import Searchers
from ragqa.retrieve.shared import SharedIndex


class Served:
    """What every request shares: the settings, the collections served (each index searched by all requests,
    reopened after an ingest commits, its embedder loaded at first use), and the chat model (started at the
    first chat). `settings` and `index` are the collection that status, ingest, related and embeddings are
    about: 'default' if there is one, else the first."""

    def __init__(self, settings, ingest=None, history_dir=None):
        from ragqa.collections import choose, collections
        from ragqa.index.history import open_history

        # saved conversations: in the top index folder (`--index`, if given), shared by every collection
        self.history = open_history(settings, history_dir) if settings.history.enabled else None

        self.ingest = ingest  # ragqa.ingest.pipeline.ingest_folder, handed in by the CLI (the API never imports ingest)

        if settings.collections:
            self.collections = {name: c.settings for name, c in collections(settings).items()}
            self.default_names = [c.name for c in choose(settings, None)]
        else:  # one folder (or the one collection `ragqa serve --collection` chose)
            self.collections = {settings.collection_name: settings}
            self.default_names = [settings.collection_name]
        self.settings = self.collections[self.default_names[0]]
        self._searchers = Searchers(self.collections, lambda own, embedder: SharedIndex(
            own, embedder, chat_model=reranking_model(own)))
        self.index = self.index_of(self.default_names[0])
        self.embedder = self.index.embedder
        self._chat_model = None
        self._starting = threading.Lock()

    def index_of(self, name: str) -> SharedIndex:
        """The collection's shared index (made at first use)."""
        return self._searchers.of(name)

    def embedders(self) -> list[Embedder]:
        """The embedder of every collection served, one per model (made if need be, none loaded here)."""
        return self._searchers.embedders()

    def searcher(self, names: list[str]) -> SharedIndex | CollectionsSearcher:
        """What a search over these collections reads: one shared index, or several behind one `search`."""
        return self._searchers.over(names, self.settings.search)

    @property
    def started_chat_model(self):
        """The chat model if a chat has started it (else None): for a status, which must not start it."""
        return self._chat_model

    def chat_model(self):
        """The configured chat model, started when an answer first needs it (a question answered from the
        notes' catalog needs none); a NoChatModel holding the reason when it cannot be started."""
        from ragqa.models.chat import chat_model_or_problem
        from ragqa.models.lazy_chat import LazyChatModel

        with self._starting:
            if self._chat_model is None:
                self._chat_model = LazyChatModel(lambda: chat_model_or_problem(self.settings)[0],
                                                 self.settings.llm.provider != "none")
            return self._chat_model
