"""The HTTP API in this process: the app `ragqa serve` serves (ragqa.api.create_app, with the same ingest and
history folder), behind Starlette's TestClient, and the real `openai` package speaking to it. For the API tests
where a separate server process is not the point (for those: helpers.api_server, a real `ragqa serve`)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def api_client(settings, token: str | None = None) -> Iterator:
    """A TestClient over the API for these Settings (all their collections), as `ragqa serve` builds it."""
    from fastapi.testclient import TestClient

    from ragqa.api import create_app
    from ragqa.ingest.pipeline import ingest_folder

    app = create_app(settings, token=token, ingest=ingest_folder, history_dir=settings.index_path)
    with TestClient(app, base_url="http://127.0.0.1") as client:  # a Host the API serves (ragqa.hosts)
        yield client


def openai_over(client, token: str = "none"):
    """The real openai package, its requests going to the TestClient's app."""
    import openai

    return openai.OpenAI(base_url=f"{client.base_url}/v1", api_key=token, max_retries=0, http_client=client)
