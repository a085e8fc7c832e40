"""The app factory: one FastAPI app over the configured collections; what its routes share is `Served`
(ragqa/served.py, shared with the MCP server)."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from pydantic import SecretStr

from ragqa.api.errors import install_error_handlers
from ragqa.api.guard import Guard
from ragqa.served import Served

DESCRIPTION = """Ask your notes from any OpenAI client: `model: "ragqa"` answers from the indexed notes and cites
each claim as [n], with a top-level `citations` list. Search, status, ingest and related notes return
exactly the JSON of `ragqa search|status|ingest|related --json`. Errors use OpenAI's error shape."""


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
