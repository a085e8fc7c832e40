"""`ragqa mcp`: your notes as tools for any AI assistant, over the Model Context Protocol (ragqa/mcp/).
On stdio (how desktop clients start a server), or with --http on http://127.0.0.1:8765/mcp, under the same
token and loopback rules as `ragqa serve`."""
from __future__ import annotations

import signal
import sys


def register(commands) -> None:
    p = commands.add_parser("mcp", help="serve your notes to AI assistants (Claude, Cursor…) over MCP, on stdio")
    p.add_argument("--http", action="store_true", help="serve Streamable HTTP at http://HOST:PORT/mcp instead")
    p.add_argument("--host", default="127.0.0.1", help="with --http: address to listen on (default: this machine "
                                                       "only; another needs a token, as for `ragqa serve`)")
    p.add_argument("--port", type=int, default=8765, help="with --http: the port (default 8765)")
    p.add_argument("--index", help="index folder (default: index_dir from config)")
    p.add_argument("--notes", help="notes folder (default: notes_dir from config)")
    p.add_argument("--collection", metavar="NAME",
                   help="serve only this collection (default: every one; searches use 'default' if there is one)")
    p.set_defaults(run=run_mcp)


def run_mcp(settings, args) -> int:
    import logging

    from ragqa.api.guard import api_token
    from ragqa.cli.serve_command import refused_host, with_folders
    from ragqa.served import Served

    token = api_token(settings) if args.http else None
    if args.http and refused_host(settings, args.host, token):
        return 2
    write_path = None
    if settings.mcp.allow_ingest:  # the only way a tool may write the index
        from ragqa.ingest.pipeline import ingest_folder

        write_path = ingest_folder
    served = Served(with_folders(settings, args), ingest=write_path)
    # The local LLM server this process may start is stopped by atexit hooks: a SIGTERM (a client stopping its
    # server) must end the process normally for them to run.
    signal.signal(signal.SIGTERM, _exit_normally)
    if not args.http:
        from ragqa.mcp.transports import serve_stdio

        print(f"ragqa MCP server on stdio ({', '.join(served.collections)}); logs here, on stderr", file=sys.stderr)
        serve_stdio(served)
        _exit_at_once()
    from ragqa.mcp.transports import serve_http

    print(f"ragqa MCP server on http://{args.host}:{args.port}/mcp  (token {'required' if token else 'off'}; "
          "Ctrl-C to stop)", file=sys.stderr, flush=True)
    serve_http(served, args.host, args.port, token, verbose=logging.getLogger().level <= logging.INFO)
    return 0


def _exit_normally(signum, frame):
    raise SystemExit(0)


def _exit_at_once() -> None:
    """The client closed stdin: run the exit hooks (they stop the local LLM server), then leave without the
    interpreter's teardown, which takes ~2 s once torch is loaded (measured), the very time a client waits
    before it kills its server."""
    import atexit
    import os

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
