"""One chat-model interface: `llm.provider` picks the model through `ragqa.models.chat.make_chat_model`.

"No LLM" is a model too (NoChatModel): it does not generate, and asking it to anyway says how to
configure one. The local provider's real server is in test_local_llm.py; find_topics and the LLM
reranker using the model they are handed are in test_notes_graph.py and test_search_quality.py.
"""
from __future__ import annotations

import subprocess
import sys
import typing

import pytest

from ragqa.config import LLMSettings, Settings
from ragqa.errors import LLMError
from ragqa.models.chat import PROVIDERS, NoChatModel, chat_model_or_problem, make_chat_model
from ragqa.models.openai_chat import OpenAIChatModel

from helpers.data import REPO

HELLO = [{"role": "user", "content": "Hello"}]


def test_provider_none_gives_a_model_that_does_not_generate():
    model = make_chat_model(LLMSettings(provider="none"))
    assert isinstance(model, NoChatModel)
    assert not model.generates and model.name == "retrieval only"
    assert model.check() is None and model.last_usage is None


def test_asking_no_model_to_write_is_one_clear_error_saying_how_to_configure_one():
    model = make_chat_model(Settings(llm=LLMSettings(provider="none")))
    with pytest.raises(LLMError) as streamed:
        list(model.stream(HELLO))
    with pytest.raises(LLMError) as completed:
        model.complete(HELLO, max_tokens=4)
    message = str(streamed.value)
    assert message == str(completed.value) and "\n" not in message
    assert message.startswith("no language model is configured (llm.provider: none)")
    assert "set llm.provider to local, openai or ollama in config.yaml" in message


def test_the_factory_picks_the_openai_compatible_model_for_an_endpoint():
    model = make_chat_model(LLMSettings(provider="openai", base_url="http://127.0.0.1:9/v1", model="m"))
    assert type(model) is OpenAIChatModel and model.generates
    assert model.base_url == "http://127.0.0.1:9/v1" and model.name == "m @ 127.0.0.1"


def test_every_provider_config_accepts_has_a_builder():
    accepted = typing.get_args(LLMSettings.model_fields["provider"].annotation)
    assert sorted(PROVIDERS) == sorted(accepted) == ["local", "none", "ollama", "openai"]


def test_a_model_that_cannot_be_made_is_a_no_chat_model_carrying_the_reason():
    model, problem = chat_model_or_problem(LLMSettings(provider="openai", base_url="http://127.0.0.1:9/v1"))
    assert problem.startswith("llm.model is not set")
    assert isinstance(model, NoChatModel) and not model.generates and model.check() == problem
    with pytest.raises(LLMError, match=r"^llm\.model is not set"):
        model.complete(HELLO)
    none, no_problem = chat_model_or_problem(LLMSettings(provider="none"))  # provider none is no problem
    assert isinstance(none, NoChatModel) and no_problem is None


def _imported_by(module: str) -> set[str]:
    """The ragqa.models modules and the openai client loaded by importing `module` in a fresh interpreter."""
    code = (f"import sys, {module}; print(' '.join(m for m in sys.modules "
            "if m.startswith('ragqa.models.') or m == 'openai'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_openai_and_local_modules_do_not_import_each_other():
    assert "ragqa.models.local" not in _imported_by("ragqa.models.openai_chat")
    assert "ragqa.models.openai_chat" not in _imported_by("ragqa.models.local")


def test_the_factory_module_loads_no_provider_until_one_is_asked_for():
    assert _imported_by("ragqa.models.chat") == {"ragqa.models.chat"}
