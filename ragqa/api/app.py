"""The app factory: one FastAPI app over one index, with what its routes share (`Served`)."""
from __future__ import annotations

import threading

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

from ragqa.api.errors import install_error_handlers
from ragqa.api.guard import Guard

DESCRIPTION = """Ask your notes from any OpenAI client: `model: "ragqa"` answers from the indexed notes and cites
each claim as [n], with a top-level `citations` list. Search, status, ingest and related notes return
exactly the JSON of `ragqa search|status|ingest|related --json`. Errors use OpenAI's error shape."""


class Served:
    """What every request shares: the settings, the embedder (loaded at first use), the index searched by all
    requests (reopened after an ingest commits), and the chat model (started at the first chat)."""

    def __init__(self, settings):
        from ragqa.cli.index_commands import reranking_model
        from ragqa.models.lazy_embedder import LazyEmbedder
        from ragqa.web.shared_index import SharedIndex

        self.settings = settings
        self.embedder = LazyEmbedder(settings.embedding)
        self.index = SharedIndex(settings, self.embedder, chat_model=reranking_model(settings))
        self._chat_model = None
        self._starting = threading.Lock()

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


def create_app(settings, token: str | None = None) -> FastAPI:
    """The API over `settings.index_path`; with a token, every request must bear it."""
    from ragqa.api import chat_routes, openai_routes, ragqa_routes

    app = FastAPI(title="ragqa", version="1", description=DESCRIPTION)
    app.state.served = Served(settings)
    install_error_handlers(app)
    for module in (openai_routes, chat_routes, ragqa_routes):
        app.include_router(module.router)
    app.add_middleware(Guard, token=token, max_bytes=settings.api.max_request_kb * 1024,
                       token_env=settings.api.token_env)
    if settings.api.cors_origins:  # added last, so outermost: preflights and refusals get their headers too
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    return app
