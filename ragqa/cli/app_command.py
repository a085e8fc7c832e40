"""`ragqa app`: open the browser chat (Streamlit) on ui.host:ui.port, 127.0.0.1:8501 by default."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ragqa.collections import COLLECTION_VARIABLE, app_settings
from ragqa.config import config_file

APP_FILE = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"  # inside the package: in the wheel too


def register(commands) -> None:
    p = commands.add_parser("app", help="open the chat in the browser (http://127.0.0.1:8501)")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--host", default=None, help="address to listen on (default ui.host: 127.0.0.1, this machine only)")
    p.add_argument("--index", help="index folder (default: index_dir from config)")
    p.add_argument("--notes", help="notes folder (default: notes_dir from config)")
    p.add_argument("--collection", metavar="NAME",
                   help="the collection to open (default: 'default' if there is one, else the first)")
    p.set_defaults(run=run_app)


def streamlit_command(host: str, port: int, app_file: Path = APP_FILE) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(app_file),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--client.toolbarMode", "minimal",  # no "Deploy" button; an installed ragqa has no .streamlit/config.toml
    ]


def app_launch(settings, args, environ) -> tuple[list[str], dict[str, str]]:
    """The Streamlit command line and its environment. The page reads its settings as every command does
    (load_settings), so --config, --index and --notes reach it as RAGQA_CONFIG, RAGQA_INDEX_DIR and
    RAGQA_NOTES_DIR, made absolute here: relative folders are taken from where `ragqa app` runs."""
    env = dict(environ)
    file = config_file(getattr(args, "config", None), env)
    if file is not None:
        env["RAGQA_CONFIG"] = str(file.resolve())
    if getattr(args, "collection", None):
        app_settings(settings, args.collection)  # a wrong name is said here, in the terminal
        env[COLLECTION_VARIABLE] = args.collection
    if args.index:
        env["RAGQA_INDEX_DIR"] = str(Path(args.index).expanduser().resolve())
    if args.notes:
        env["RAGQA_NOTES_DIR"] = str(Path(args.notes).expanduser().resolve())
    return streamlit_command(args.host or settings.ui.host, args.port or settings.ui.port), env


def run_app(settings, args) -> int:
    from ragqa.hosts import app_bind_refusal
    from ragqa.secrets import secret

    host, port = args.host or settings.ui.host, args.port or settings.ui.port
    name = settings.ui.password_env
    refusal = app_bind_refusal(host, name, has_password=secret(name) is not None)
    if refusal:  # the same rule, and line, as `ragqa serve` without a token
        print(refusal, file=sys.stderr)
        return 2
    command, env = app_launch(settings, args, os.environ)
    print(f"ragqa chat on http://{host}:{port}  (Ctrl-C to stop)")
    sys.stdout.flush()
    # Become Streamlit (no child process), so Ctrl-C, SIGTERM or a service manager stop the app itself.
    os.execve(command[0], command, env)  # noqa: S606 - streamlit from our own venv, run on our own app
    return 0  # not reached
