"""provider: local — model registry, assembling split models, and the real llama.cpp server.

The tests marked `llm` start the real server with SmolLM2-135M (installed by `ragqa models install
smollm2-135m`, or scripts/install_llm.sh in `make test`); they are skipped, with the reason, where it is not installed.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragqa.config import LLMSettings, Settings
from ragqa.errors import LLMError
from ragqa.models import local as local_llm
from ragqa.models.chat import make_chat_model
from ragqa.models.local import LOCAL_MODELS, LocalModel, assemble, ensure_local_server

from helpers.local_model import needs_local_model

ROOT = Path(__file__).resolve().parents[1]
SMOL = LOCAL_MODELS["smollm2-135m"]
QUESTION = [{"role": "user", "content": "Name three colours."}]


# ---- without the server ------------------------------------------------------------------

def test_install_script_pins_the_registered_packages_in_order():
    script = str(ROOT / "scripts" / "install_llm.sh")
    for model in LOCAL_MODELS.values():
        printed = subprocess.run(["bash", script, "--print", model.name],
                                 capture_output=True, text=True, check=True).stdout.split()
        assert printed == model.requirements  # the same packages, versions and order as `ragqa models install`
    bad = subprocess.run(["bash", script, "gpt-9"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "unknown model 'gpt-9'" in bad.stderr


def test_assemble_concatenates_once_and_verifies(tmp_path):
    parts = []
    for i, data in enumerate([b"GGUF" + b"a" * 1000, b"b" * 777, b"c"]):
        parts.append(tmp_path / f"part{i}.bin")
        parts[-1].write_bytes(data)
    whole = b"".join(p.read_bytes() for p in parts)
    target = tmp_path / "cache" / "m.gguf"
    assert assemble(parts, target, len(whole), hashlib.sha256(whole).hexdigest()) == target
    assert target.read_bytes() == whole
    parts[0].write_bytes(b"changed")  # a second call trusts the finished file and reads no part
    assert assemble(parts, target, len(whole), "not-checked-again").read_bytes() == whole
    assert [p.name for p in target.parent.iterdir()] == ["m.gguf"]  # no temp file left behind


def test_assemble_refuses_parts_with_the_wrong_hash(tmp_path):
    part = tmp_path / "part1.bin"
    part.write_bytes(b"x" * 10)
    target = tmp_path / "m.gguf"
    with pytest.raises(LLMError, match=r"do not add up.*reinstall them with `ragqa models install --force m`"):
        assemble([part], target, 10, "0" * 64, "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part1.bin"]


def test_missing_parts_name_the_install_command(tmp_path):
    model = LocalModel("fake-7b", local_llm._split("ragqa-no-such-part", "ragqa_no_such_part", 3), 1, "0", 4096)
    with pytest.raises(LLMError) as caught:
        local_llm.model_file(model, tmp_path)
    assert str(caught.value) == ("the local model 'fake-7b' is not installed (3 of its 3 packages missing): "
                                 "run `ragqa models install fake-7b`, or answer through an endpoint with "
                                 "llm.provider: openai (README: Language models)")


def test_a_missing_runtime_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(local_llm, "SERVER_MODULES", ("xllamacpp", "ragqa_no_such_module"))
    with pytest.raises(LLMError) as caught:
        ensure_local_server(LLMSettings(local_model="smollm2-135m"), tmp_path)
    assert str(caught.value) == ("the local LLM needs the xllamacpp package (ragqa_no_such_module is missing): "
                                 "run `pip install -c constraints.txt -e .` in ragqa's folder")


def test_settings_mistakes_are_explained(tmp_path):
    with pytest.raises(LLMError, match=r"unknown llm\.local_model 'gpt-9': choose one of smollm2-135m"):
        ensure_local_server(LLMSettings(local_model="gpt-9"), tmp_path)
    with pytest.raises(LLMError, match=r"llm.context_window 16384 is more than 'smollm2-135m' supports \(8192\)"):
        ensure_local_server(LLMSettings(local_model="smollm2-135m", context_window=16384), tmp_path)
    assert not make_chat_model(LLMSettings(provider="none"), tmp_path).generates
    remote = make_chat_model(LLMSettings(provider="openai", base_url="http://127.0.0.1:9/v1", model="m"), tmp_path)
    assert remote.base_url == "http://127.0.0.1:9/v1"
    whole = Settings(llm=LLMSettings(provider="openai", base_url="http://127.0.0.1:9/v1", model="m"))
    assert make_chat_model(whole).name == "m @ 127.0.0.1"  # the CLI and the app pass the whole Settings


# ---- the real local server ---------------------------------------------------------------

needs_server = needs_local_model()


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    cache = tmp_path_factory.mktemp("ragqa-cache")
    settings = LLMSettings(provider="local", local_model="smollm2-135m", context_window=2048,
                           max_answer_tokens=16, temperature=0.0, timeout_seconds=60, max_retries=0, keep_alive=0)
    yield settings, cache
    local_llm.stop_local_server(settings, cache)


def _server_pid(settings, cache) -> int:
    return json.loads(local_llm._state_file(cache, settings.local_model, settings.context_window).read_text())["pid"]


def _servers_started_by_this_process() -> set[int]:
    pids = set()
    for proc in Path("/proc").iterdir():
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid() and local_llm.SERVER_MARKER.encode() in (proc / "cmdline").read_bytes():
                pids.add(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


@pytest.mark.llm
@needs_server
def test_streams_an_answer_in_pieces(local):
    settings, cache = local
    model = make_chat_model(settings, cache)
    assert model.name == "smollm2-135m (local)" and model.base_url.startswith("http://127.0.0.1:")
    pieces = list(model.stream(QUESTION))
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert model.check() is None
    assert model.complete(QUESTION, max_tokens=4).strip()


@pytest.mark.llm
@needs_server
def test_second_call_reuses_the_running_server(local):
    settings, cache = local
    first = ensure_local_server(settings, cache)
    pid, started = _server_pid(settings, cache), _servers_started_by_this_process()
    assert ensure_local_server(settings, cache) == first
    # no second server (this process may also run the session's own, for other tests)
    assert _server_pid(settings, cache) == pid and pid in started and _servers_started_by_this_process() == started


@pytest.mark.llm
@needs_server
def test_another_process_reuses_the_running_server(local):
    settings, cache = local
    url = ensure_local_server(settings, cache)
    code = ("import sys; from ragqa.config import LLMSettings; from ragqa.models.local import ensure_local_server; "
            f"print(ensure_local_server(LLMSettings.model_validate_json(sys.argv[1]), {str(cache)!r}))")
    other = subprocess.run([sys.executable, "-c", code, settings.model_dump_json()], cwd=ROOT,
                           capture_output=True, text=True, timeout=60, check=False)
    assert other.returncode == 0, other.stderr[-500:]
    assert other.stdout.strip() == url
    assert make_chat_model(settings, cache).check() is None  # the other process left it running


@pytest.mark.llm
@needs_server
def test_a_model_whose_server_was_stopped_starts_it_again_by_itself(local):
    settings, cache = local
    model = make_chat_model(settings, cache)
    old_pid, old_url = _server_pid(settings, cache), model.base_url
    assert local_llm.stop_local_server(settings, cache)  # as another process, or a crash, would
    assert model.check().startswith(f"the LLM at {old_url} is down")  # a check only reports
    assert "".join(model.stream(QUESTION)).strip()  # an answer starts it again, once, and is answered
    assert _server_pid(settings, cache) != old_pid and model.base_url != old_url
    assert model.check() is None
    assert local_llm.stop_local_server(settings, cache)
    assert model.complete(QUESTION, max_tokens=4).strip()  # complete() too
    assert make_chat_model(settings, cache).base_url == model.base_url  # the one restarted is shared


@pytest.mark.llm
@needs_server
def test_a_server_that_cannot_start_again_is_one_line(local, monkeypatch):
    settings, cache = local
    model = make_chat_model(settings, cache)
    assert local_llm.stop_local_server(settings, cache)
    monkeypatch.setattr(local_llm, "SERVER_MODULES", ("ragqa_no_such_module",))  # the restart fails
    with pytest.raises(LLMError, match=r"^the LLM at http://127\.0\.0\.1:\d+/v1 is down \(connection refused\): "
                                       "the local model server stopped and could not be started again"):
        list(model.stream(QUESTION))


@pytest.mark.llm
@needs_server
def test_keep_alive_keeps_the_server_for_the_next_user_then_it_stops_by_itself(tmp_path):
    settings = LLMSettings(provider="local", local_model="smollm2-135m", context_window=2048, timeout_seconds=60,
                           max_retries=0, keep_alive="3s")
    state = local_llm._state_file(tmp_path, settings.local_model, settings.context_window)
    try:
        ensure_local_server(settings, tmp_path)
        pid = _server_pid(settings, tmp_path)
        local_llm.release_lease(state)  # this process is done with it: no one uses it now
        assert local_llm._is_our_server(pid), "kept for keep_alive"
        ensure_local_server(settings, tmp_path)  # the next user, within keep_alive, gets the same server
        assert _server_pid(settings, tmp_path) == pid
        local_llm.release_lease(state)
        deadline = time.monotonic() + 60
        while local_llm._is_our_server(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not local_llm._is_our_server(pid) and not state.exists(), "stopped by itself after keep_alive"
    finally:
        local_llm.stop_local_server(settings, tmp_path)


@pytest.mark.llm
@needs_server
def test_a_lease_left_by_a_killed_process_holds_nothing(tmp_path):
    from ragqa.models.llm_leases import live_leases, take_lease

    leases = tmp_path / "leases"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    take_lease(leases, dead.pid)  # as if it had been killed -9 while holding it
    take_lease(leases)
    assert live_leases(leases) == [os.getpid()] and [p.name for p in leases.iterdir()] == [str(os.getpid())]
