"""The app factory: one FastAPI app over the configured collections, with what its routes share (`Served`)."""
from __future__ import annotations

import threading

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from pydantic import SecretStr

from ragqa.api.errors import install_error_handlers
from ragqa.api.guard import Guard

DESCRIPTION = """Ask your notes from any OpenAI client: `model: "ragqa"` answers from the indexed notes and cites
each claim as [n], with a top-level `citations` list. Search, status, ingest and related notes return
exactly the JSON of `ragqa search|status|ingest|related --json`. Errors use OpenAI's error shape."""


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

        self.ingest = ingest  # ingest.pipeline.ingest_folder, handed in by the CLI (the API never imports ingest)

        if settings.collections:
            self.collections = {name: c.settings for name, c in collections(settings).items()}
            self.default_names = [c.name for c in choose(settings, None)]
        else:  # one folder (or the one collection `ragqa serve --collection` chose)
            self.collections = {settings.collection_name: settings}
            self.default_names = [settings.collection_name]
        self.settings = self.collections[self.default_names[0]]
        self._indexes: dict[str, object] = {}
        self._embedders: dict[str, object] = {}
        self._opening = threading.Lock()
        self.index = self.index_of(self.default_names[0])
        self.embedder = self.index.embedder
        self._chat_model = None
        self._starting = threading.Lock()

    def index_of(self, name: str):
        """The collection's shared index (made at first use)."""
        from ragqa.models.chat import reranking_model
        from ragqa.models.lazy_embedder import LazyEmbedder
        from ragqa.retrieve.shared import SharedIndex

        with self._opening:
            if name not in self._indexes:
                own = self.collections[name]
                model = own.embedding.model_dump_json()
                if model not in self._embedders:
                    self._embedders[model] = LazyEmbedder(own.embedding)
                self._indexes[name] = SharedIndex(own, self._embedders[model], chat_model=reranking_model(own))
            return self._indexes[name]

    def searcher(self, names: list[str]):
        """What a search over these collections reads: one shared index, or several behind one `search`."""
        from ragqa.retrieve.across import CollectionsSearcher

        if len(names) == 1:
            return self.index_of(names[0])
        options = self.settings.search
        return CollectionsSearcher({n: self.index_of(n) for n in names}, top_k=options.top_k, rrf_k=options.rrf_k)

    def chat_model(self):
        """The configured chat model; a NoChatModel holding the reason when it cannot be started."""
        from ragqa.models.chat import chat_model_or_problem

        with self._starting:
            if self._chat_model is None:
                self._chat_model = chat_model_or_problem(self.settings)[0]
            return self._chat_model


def served(request: Request) -> Served:
    """A route's dependency: the app's Served."""
    return request.app.state.served


def create_app(settings, token: SecretStr | None = None, ingest=None, history_dir=None) -> FastAPI:
    """The API over the collections of `settings` (or its one notes folder); with a token, every request must
    bear it. `ingest(settings, embedder, lock_wait=)` serves /v1/ingest (without it, that route says 501).
    Conversations a client names are saved in `history_dir` (default: settings' index folder)."""
    from ragqa.api import chat_routes, openai_routes, ragqa_routes

    app = FastAPI(title="ragqa", version="1", description=DESCRIPTION)
    app.state.served = Served(settings, ingest, history_dir)
    install_error_handlers(app)
    for module in (openai_routes, chat_routes, ragqa_routes):
        app.include_router(module.router)
    app.add_middleware(Guard, token=token, max_bytes=settings.api.max_request_kb * 1024,
                       token_env=settings.api.token_env, cors_origins=settings.api.cors_origins)
    if settings.api.cors_origins:  # added last, so outermost: preflights and refusals get their headers too
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    return app
