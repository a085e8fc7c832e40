"""The two ways a client reaches the server: stdio (a desktop client starts `ragqa mcp` itself) and Streamable
HTTP (`ragqa mcp --http`), each with the embedding model loading in the background from the start."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ragqa.mcp.server import make_server
from ragqa.mcp.tools import Shared
from ragqa.mcp.warmup import Warmup

if TYPE_CHECKING:
    from pydantic import SecretStr


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ragqa")
    except PackageNotFoundError:
        return ""


def serve_stdio(served) -> None:
    """Serve one client on stdin/stdout until it closes stdin. While serving, file descriptor 1 points at stderr
    (the SDK's stdio_server moves the protocol to a private copy), so a stray print, a library's progress bar or a
    child process (the local LLM server) can never break the protocol: only its messages reach stdout."""
    import anyio
    from mcp.server.stdio import stdio_server

    shared = Shared(served, Warmup(served))
    server = make_server(shared, _version())

    async def main() -> None:
        async with stdio_server() as (read, write):
            shared.warmup.start()  # only now, so that whatever loading prints lands on stderr
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def http_app(served, host: str, token: SecretStr | str | None):
    """(the ASGI app serving MCP at /mcp, its Warmup). Every request needs the token when one is set, and bodies
    are capped, by the HTTP API's own guard; on a loopback host the SDK also refuses a Host or Origin header
    that is not loopback (DNS rebinding)."""
    from ragqa.api.guard import Guard

    shared = Shared(served, Warmup(served))
    app = make_server(shared, _version()).streamable_http_app(host=host, streamable_http_path="/mcp")
    api = served.settings.api
    return Guard(app, token=token, max_bytes=api.max_request_kb * 1024, token_env=api.token_env,
                 command="ragqa mcp --http"), shared.warmup


def serve_http(served, host: str, port: int, token: SecretStr | str | None, verbose: bool = False) -> None:
    import uvicorn

    app, warmup = http_app(served, host, token)
    warmup.start()
    uvicorn.run(app, host=host, port=port, log_level="info" if verbose else "warning", access_log=verbose)
