"""`ragqa serve`: the HTTP API (OpenAI-compatible chat and embeddings, search, status, ingest) on
http://127.0.0.1:8000 by default. Another host is refused unless a token guards it."""
from __future__ import annotations

import signal
import sys
from pathlib import Path


def register(commands) -> None:
    p = commands.add_parser("serve", help="serve the HTTP API, OpenAI-compatible (http://127.0.0.1:8000)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--index", help="index folder (default: index_dir from config)")
    p.add_argument("--notes", help="notes folder (default: notes_dir from config)")
    p.add_argument("--collection", metavar="NAME",
                   help="the collection to serve (default: 'default' if there is one, else the first)")
    p.set_defaults(run=run_serve)


def with_folders(settings, args):
    """What `ragqa serve` serves: every collection; or, with --collection, --index or --notes, one collection
    (the named one, else the default rule's first) with those folders applied, made absolute (relative to
    where `ragqa serve` runs)."""
    from ragqa.collections import app_settings

    if not (getattr(args, "collection", None) or args.index or args.notes):
        return settings  # every collection, each at its own folders
    settings = app_settings(settings, getattr(args, "collection", None)).model_copy(update={"collections": {}})
    update = {}
    if args.index:
        update["index_dir"] = str(Path(args.index).expanduser().resolve())
    if args.notes:
        update["notes_dir"] = str(Path(args.notes).expanduser().resolve())
    return settings.model_copy(update=update) if update else settings


def refused_host(settings, host: str, token) -> bool:
    """True, said in one line on stderr, when `host` is not loopback and no token guards it (the rule of
    ragqa.hosts, for serve and any other face that serves HTTP)."""
    from ragqa.hosts import api_bind_refusal

    refusal = api_bind_refusal(host, settings.api.token_env, has_token=token is not None)
    if refusal:
        print(refusal, file=sys.stderr)
    return refusal is not None


def run_serve(settings, args) -> int:
    import logging

    import uvicorn

    from ragqa.api import create_app
    from ragqa.api.guard import api_token
    from ragqa.secrets import redact_secrets_in_logs

    token = api_token(settings)
    if refused_host(settings, args.host, token):
        return 2
    redact_secrets_in_logs()  # a token pasted into a URL is never written to the access log
    from ragqa.ingest.pipeline import ingest_folder

    # conversations are kept in the top index folder, as `ragqa chat` keeps them, whichever collection is served
    history_dir = Path(args.index).expanduser().resolve() if args.index else settings.index_path
    app = create_app(with_folders(settings, args), token=token, ingest=ingest_folder, history_dir=history_dir)
    print(f"ragqa API on http://{args.host}:{args.port}/v1  (docs: /docs; token {'required' if token else 'off'}; "
          "Ctrl-C to stop)", flush=True)
    verbose = logging.getLogger().level <= logging.INFO
    # uvicorn shuts down gracefully on SIGTERM, then raises it again, which would end the process before
    # the atexit hooks that stop the local LLM server it started. Raised here instead, it is a normal exit.
    signal.signal(signal.SIGTERM, _exit_normally)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info" if verbose else "warning",
                access_log=verbose)
    return 0


def _exit_normally(signum, frame):
    raise SystemExit(0)
