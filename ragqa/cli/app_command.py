"""`ragqa app`: open the browser chat (Streamlit) on ui.host:ui.port, 127.0.0.1:8501 by default."""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_FILE = Path(__file__).resolve().parents[2] / "app.py"


def register(commands) -> None:
    p = commands.add_parser("app", help="open the chat in the browser (http://127.0.0.1:8501)")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--host", default=None, help="address to listen on (default ui.host: 127.0.0.1, this machine only)")
    p.set_defaults(run=run_app)


def streamlit_command(host: str, port: int, app_file: Path = APP_FILE) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(app_file),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]


def run_app(settings, args) -> int:
    host, port = args.host or settings.ui.host, args.port or settings.ui.port
    print(f"ragqa chat on http://{host}:{port}  (Ctrl-C to stop)")
    env = dict(os.environ)
    if getattr(args, "config", None):
        env["RAGQA_CONFIG"] = str(Path(args.config).resolve())
    elif "RAGQA_CONFIG" not in env and Path("config.yaml").exists():
        env["RAGQA_CONFIG"] = str(Path("config.yaml").resolve())
    command = streamlit_command(host, port)
    sys.stdout.flush()
    # Become Streamlit (no child process), so Ctrl-C, SIGTERM or a service manager stop the app itself.
    os.execve(command[0], command, env)
    return 0  # not reached
