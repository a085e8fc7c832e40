"""Several ragqa processes share one local model server, and none stops it under another (ragqa.models.local,
ragqa.models.llm_leases): real `ragqa ask`, `ragqa chat` and `ragqa serve` processes over one cache folder, the
tiny SmolLM2 answering. Every answer must come from the model: no "(the LLM failed: ...)", no retrieval-only
fallback.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ragqa.ingest.pipeline import ingest_folder

from helpers.api_server import Server
from helpers.garden_notes import write_garden_notes
from helpers.local_model import SMOLLM2, live, running_server_pid
from helpers.settings import make_settings

pytestmark = [pytest.mark.llm, pytest.mark.slow]

# Whole passages and BM25: these processes load no embedding model, only the LLM, so they start in seconds.
LLM = {**SMOLLM2, "passage_tokens": None}
LONG_QUESTION = ("Write a very long essay about tomatoes, compost and sourdough bread, in fifty numbered "
                 "paragraphs, each at least five sentences long.")
MODEL_LINE = "(smollm2-135m (local): first words after"  # printed after every generated answer


@pytest.fixture(scope="module")
def folder(tmp_path_factory, minilm):
    """The garden notes, ingested once; the config.yaml every process of a test uses (its own cache folder,
    so its own model server)."""
    tmp = tmp_path_factory.mktemp("llm-sharing")
    ingest_folder(make_settings(tmp, write_garden_notes(tmp / "notes")), minilm)
    return tmp


def config(folder: Path, name: str, **llm) -> Path:
    cache = folder / f"cache-{name}"
    cache.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "notes_dir": str(folder / "notes"), "index_dir": str(folder / "index"), "search": {"mode": "bm25"},
        "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(cache)}, "llm": {**LLM, **llm}}))
    return path


def ragqa(config_file: Path, *argv: str, overrides: dict | None = None, **popen) -> subprocess.Popen:
    """`ragqa --config CONFIG_FILE ARGV`, its output piped; `overrides`: RAGQA_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGQA_")} | (overrides or {})
    popen = {"stderr": subprocess.STDOUT, **popen}
    return subprocess.Popen([sys.executable, "-u", "-m", "ragqa", "--config", str(config_file), *argv], env=env,
                            stdout=subprocess.PIPE, text=True, cwd=config_file.parent, **popen)


def server_pid(config_file: Path) -> int | None:
    """The model server of this config's cache folder, if it runs."""
    return running_server_pid(yaml.safe_load(config_file.read_text())["embedding"]["cache_dir"], LLM)


def read_until(process: subprocess.Popen, marker: str, timeout: float = 240) -> str:
    """What `process` prints up to and including the first line holding `marker`."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        assert line, f"exited ({process.poll()}) before printing {marker!r}: {''.join(seen)[-1500:]}"
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"no {marker!r} in {timeout} s: {''.join(seen)[-1500:]}")


def chat_answer(chat: subprocess.Popen, question: str) -> str:
    chat.stdin.write(question + "\n")
    chat.stdin.flush()
    return read_until(chat, MODEL_LINE)


def from_the_model(output: str) -> bool:
    return MODEL_LINE in output and "the LLM failed" not in output and "Traceback" not in output


def gone(config_file: Path, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while server_pid(config_file) and time.monotonic() < deadline:
        time.sleep(0.2)
    return server_pid(config_file) is None


@live
def test_the_first_ask_exiting_does_not_stop_the_model_the_second_is_streaming(folder):
    settings = config(folder, "overlap")
    first = ragqa(settings, "chat", stdin=subprocess.PIPE)  # a first ragqa: it starts the model server
    try:
        assert from_the_model(chat_answer(first, "How much sun do tomatoes need?"))
        pid = server_pid(settings)
        # a long answer (up to 500 tokens), so it is still streaming when the first ragqa has gone (SmolLM2 goes
        # in circles on it: stop_runaway would end it after a few sentences)
        second = ragqa(settings, "ask", LONG_QUESTION, overrides={"RAGQA_LLM__MAX_ANSWER_TOKENS": "500",
                                                                  "RAGQA_LLM__STOP_RUNAWAY": "false"},
                       stderr=subprocess.DEVNULL)
        words = os.read(second.stdout.fileno(), 1)  # its first words (ragqa ask prints nothing before them)
        first.stdin.close()  # the first ragqa ends while the second streams
        assert first.wait(60) == 0
        streaming = second.poll() is None
        out = words.decode(errors="replace") + second.communicate(timeout=300)[0]
        assert second.returncode == 0 and from_the_model(out), out[-1500:]
        assert streaming, "the second answer ended before the first ragqa did: nothing was tested"
        assert server_pid(settings) is None or server_pid(settings) == pid  # the same server all along
    finally:
        for process in (first, locals().get("second")):
            if process is not None and process.poll() is None:
                process.kill()
    assert gone(settings), "keep_alive 0: the last ragqa to leave stops the model server"


@live
def test_ragqa_serve_keeps_answering_after_a_cli_chat_that_started_the_model_exits(folder):
    settings = config(folder, "serve")
    chat = ragqa(settings, "chat", stdin=subprocess.PIPE)
    api = None
    try:
        assert from_the_model(chat_answer(chat, "How much sun do tomatoes need?"))  # the chat starts the model
        pid = server_pid(settings)
        api = Server(folder, yaml.safe_load(settings.read_text()))
        body = {"model": "ragqa", "messages": [{"role": "user", "content": "What does sourdough bread rise with?"}]}
        status, reply = api.request("POST", "/v1/chat/completions", body)
        assert status == 200 and reply["usage"]["completion_tokens"] > 0, reply
        chat.stdin.close()
        assert chat.wait(60) == 0  # the ragqa that started the model is gone
        for _ in range(2):
            status, reply = api.request("POST", "/v1/chat/completions", body)
            assert status == 200 and reply["usage"]["completion_tokens"] > 0, reply  # from the model
        assert server_pid(settings) == pid  # kept alive by the server's lease, not started again
    finally:
        if chat.poll() is None:
            chat.kill()
        if api is not None:
            api.stop()
    assert gone(settings)
