"""Every error in OpenAI's shape, `{"error": {"message", "type", "code"}}`, carrying ragqa's one-line message.

OpenAI clients read `error.message`; ragqa's errors already say what happened and what to do. What a client
reads names no folder of the server (each is replaced by a label: `hide_paths`), and an unexpected error is
one line with a reference; its traceback goes to the server's log under that reference.
"""
from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ragqa.errors import (
    ConfigError,
    HistoryError,
    IndexBusyError,
    IndexMismatchError,
    IndexMissingError,
    LLMError,
    NoteNotFoundError,
    NotePathError,
    RagqaError,
)
from ragqa.note_paths import hide_paths, server_folders

log = logging.getLogger("ragqa.api")

KINDS = {  # HTTP status -> OpenAI's error type
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
    405: "invalid_request_error", 409: "conflict_error", 413: "invalid_request_error", 415: "invalid_request_error",
    500: "server_error", 503: "service_unavailable",
}

# ragqa's errors, most specific first: (class, status, code)
RAGQA_ERRORS = [
    (NoteNotFoundError, 404, "note_not_found"),
    (NotePathError, 400, "bad_path"),
    (IndexMissingError, 404, "index_missing"),
    (IndexBusyError, 409, "index_busy"),
    (IndexMismatchError, 409, "index_mismatch"),
    (LLMError, 503, "llm_unavailable"),
    (HistoryError, 409, "history_unavailable"),  # a history file from a newer ragqa, or not one at all
    (ConfigError, 400, "bad_request"),
    (RagqaError, 503, "unavailable"),  # e.g. the embedding model cannot be loaded, the index is being created
]


class APIError(Exception):
    """An error a route answers with; `extra` goes beside "error" in the body (e.g. the passages of a 503)."""

    def __init__(self, status: int, message: str, code: str, **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


def error_response(status: int, message: str, code: str, headers: dict | None = None, **extra) -> JSONResponse:
    body = {"error": {"message": message, "type": KINDS.get(status, "invalid_request_error"), "code": code}, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _hidden(request: Request, message: str) -> str:
    """The message with the server's folders named by labels (the app's Served knows them)."""
    served = getattr(request.app.state, "served", None)
    if served is None:
        return message
    history = served.history.folder if served.history is not None else None
    return hide_paths(message, server_folders(served.collections, history))


def from_ragqa(err: RagqaError, request: Request | None = None) -> JSONResponse:
    message = _hidden(request, str(err)) if request is not None else str(err)
    for kind, status, code in RAGQA_ERRORS:
        if isinstance(err, kind):
            return error_response(status, message, code)
    raise AssertionError("RagqaError is the last entry")  # pragma: no cover


def _validation_line(err: RequestValidationError) -> str:
    """The first problem, on one line: "bad request: k: Input should be greater than or equal to 1"."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())[1:])
    return f"bad request: {where + ': ' if where else ''}{first.get('msg', 'invalid')}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api(request: Request, err: APIError):
        return error_response(err.status, _hidden(request, err.message), err.code, **err.extra)

    @app.exception_handler(RagqaError)
    async def _ragqa(request: Request, err: RagqaError):
        return from_ragqa(err, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError):
        return error_response(400, _validation_line(err), "bad_request")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, err: HTTPException):
        message = f"no such route: {request.method} {request.url.path}" if err.status_code in (404, 405) \
            else str(err.detail)
        return error_response(err.status_code, message, "not_found" if err.status_code == 404 else "bad_request",
                              headers=getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, err: Exception):
        reference = uuid.uuid4().hex[:12]
        log.error("ragqa: unexpected error %s on %s %s", reference, request.method, request.url.path, exc_info=err)
        return error_response(500, f"ragqa failed unexpectedly (reference {reference}): the server's log has the "
                                   "details under that reference", "internal_error", reference=reference)
