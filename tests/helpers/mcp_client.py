"""The MCP tests' client: the SDK's real `mcp.Client`, kept connected in a thread of its own for as long as a
fixture lives, so that one server process (stdio or HTTP) serves a whole test module; and the config.yaml the
servers read (the docs/ sample, indexed once per session by conftest's `docs_index`)."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from pathlib import Path

import yaml

CALL_TIMEOUT = 300  # an ask with the local model on a busy machine; a search waits for the model to load


class McpSession:
    """`McpSession(server, headers=None, **client_options)`: a connected mcp.Client, called synchronously from
    tests. `server` is what mcp.Client takes (StdioServerParameters, a URL, a server object); with `headers`,
    a URL is reached by an HTTP client that sends them on every request."""

    def __init__(self, server, headers: dict | None = None, **options):
        self._ready: concurrent.futures.Future = concurrent.futures.Future()
        self._done: concurrent.futures.Future = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, args=(server, headers, options), daemon=True)
        self._thread.start()
        self._ready.result(timeout=CALL_TIMEOUT)  # the connection's error, if it failed

    def _run(self, server, headers, options) -> None:
        try:
            asyncio.run(self._main(server, headers, options))
        except BaseException as err:  # noqa: BLE001 - handed to the test that waits
            for future in (self._ready, self._done):
                if not future.done():
                    future.set_exception(err)
        else:
            self._done.set_result(None)

    async def _main(self, server, headers, options) -> None:
        from contextlib import AsyncExitStack

        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with AsyncExitStack() as stack:  # entered and left in this one task, as anyio requires
            if headers is not None:
                http = await stack.enter_async_context(httpx2.AsyncClient(
                    headers=headers, timeout=httpx2.Timeout(30, read=CALL_TIMEOUT)))
                server = streamable_http_client(server, http_client=http)
            self.client = await stack.enter_async_context(Client(server, **options))
            self._ready.set_result(None)
            await self._stop.wait()

    def run(self, coroutine_function, *args, **kwargs):
        """`await self.client.NAME(*args)` in the client's loop; its result."""
        future = asyncio.run_coroutine_threadsafe(coroutine_function(*args, **kwargs), self._loop)
        return future.result(timeout=CALL_TIMEOUT)

    def call(self, tool: str, **arguments):
        """(is_error, the tool's JSON, or its one-line message when it is an error)."""
        result = self.run(self.client.call_tool, tool, arguments)
        assert len(result.content) == 1 and result.content[0].type == "text", result
        text = result.content[0].text
        return result.is_error, (text if result.is_error else json.loads(text))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._done.result(timeout=60)
        self._thread.join(timeout=10)


def docs_config(tmp: Path, index: Path, llm: dict, **extra) -> Path:
    """config.yaml for a server over the docs/ sample (`index`: conftest's docs_index.index_path), with this `llm`."""
    from helpers.data import REPO

    settings = {"notes_dir": str(REPO / "docs"), "index_dir": str(index),
                "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(tmp / "cache")}, "llm": llm, **extra}
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(settings))
    return config


def stop_leftover_llm(config: Path) -> bool:
    """Stop the local LLM server the server under test may have left running; True if it had."""
    from ragqa.config import load_settings
    from ragqa.models.local import stop_local_server

    settings = load_settings(str(config))
    if settings.llm.provider != "local":
        return False
    return stop_local_server(settings.llm, settings.resolve(settings.embedding.cache_dir))
