"""Every way an OpenAI-compatible endpoint fails becomes one clear LLMError line.

A real HTTP server on 127.0.0.1 plays the failing endpoint (the failing_endpoint fixture,
tests/helpers/failing_endpoint.py); the real OpenAIChatModel talks to it. The request's model name picks the failure.
"""
from __future__ import annotations

import pytest

from ragqa.config import LLMSettings
from ragqa.errors import LLMError
from ragqa.models.openai_chat import OpenAIChatModel

from helpers.failing_endpoint import FailingEndpoint

MESSAGES = [{"role": "user", "content": "hi"}]


def chat_model(base_url, model, **overrides):
    settings = LLMSettings(provider="openai", base_url=base_url, model=model, max_retries=0,
                           timeout_seconds=overrides.pop("timeout_seconds", 5.0), **overrides)
    return OpenAIChatModel(settings)


def error_line(base_url, model, **overrides) -> str:
    with pytest.raises(LLMError) as caught:
        list(chat_model(base_url, model, **overrides).stream(MESSAGES))
    message = str(caught.value)
    assert "\n" not in message and message == message.strip()
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    return message


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("missing", "has no model named 'missing' (HTTP 404): set llm.model"),
        ("busy", "is rate-limiting requests (HTTP 429): wait a minute"),
        ("quota", "out of quota (HTTP 429): check its billing"),
        ("broken", "failed with HTTP 500: ask again later"),
        ("overloaded", ("failed with HTTP 503: ask again later, or check the server's log (the server said: "
                        "Service Unavailable)")),
        ("ctx-openai", "do not fit the context window of 'ctx-openai' (HTTP 400): lower search.top_k"),
        ("ctx-vllm", "do not fit the context window"),
        ("ctx-llamacpp", "do not fit the context window"),
        ("ctx-ollama", "do not fit the context window"),
        ("odd-400", "rejected the request (HTTP 400) (the server said: temperature must be between 0 and 2)"),
    ],
)
def test_http_failures_become_one_line(failing_endpoint, model, expected):
    message = error_line(failing_endpoint, model)
    assert expected in message
    assert message.startswith(f"the LLM at {failing_endpoint}") or "context window" in message


def test_401_names_the_key_variable(failing_endpoint, monkeypatch):
    monkeypatch.setenv("RAGQA_TEST_KEY", "wrong-key")
    message = error_line(failing_endpoint, "auth", api_key_env="RAGQA_TEST_KEY")
    assert "rejected the API key (HTTP 401)" in message and "RAGQA_TEST_KEY" in message

    monkeypatch.delenv("RAGQA_TEST_KEY")
    empty = error_line(failing_endpoint, "auth", api_key_env="RAGQA_TEST_KEY")
    assert "the environment variable RAGQA_TEST_KEY is empty: export RAGQA_TEST_KEY=<your key>" in empty
    assert "set llm.api_key_env" in error_line(failing_endpoint, "auth")


def test_403_names_model_and_key_variable(failing_endpoint, monkeypatch):
    monkeypatch.setenv("RAGQA_TEST_KEY", "some-key")
    message = error_line(failing_endpoint, "forbidden", api_key_env="RAGQA_TEST_KEY")
    assert "refused access to 'forbidden' (HTTP 403)" in message and "RAGQA_TEST_KEY" in message


def test_slow_answer_times_out_once_without_a_retry(failing_endpoint):
    asked = FailingEndpoint.posts["slow"]
    message = error_line(failing_endpoint, "slow", timeout_seconds=0.3)  # it answers a 500 after SLOW_SECONDS
    assert "did not answer within 0.3 s: raise llm.timeout_seconds" in message
    assert FailingEndpoint.posts["slow"] == asked + 1  # max_retries 0: the one request, not tried again


def test_closed_port_is_reported_down(unused_port):
    base_url = f"http://127.0.0.1:{unused_port}/v1"
    message = error_line(base_url, "any")
    assert message == (f"the LLM at {base_url} is down (connection refused): "
                       "start it, or fix llm.base_url in config.yaml")
    assert chat_model(base_url, "any").check() == message
    with pytest.raises(LLMError, match="is down"):
        chat_model(base_url, "any").complete(MESSAGES)


def test_check_passes_and_reports_bad_key(failing_endpoint, monkeypatch):
    assert chat_model(failing_endpoint, "ok").check() is None
    monkeypatch.setenv("RAGQA_TEST_KEY", "wrong-key")
    problem = chat_model(failing_endpoint, "ok", api_key_env="RAGQA_TEST_KEY").check()
    assert problem and "rejected the API key (HTTP 401)" in problem


def test_missing_model_setting_is_explained():
    with pytest.raises(LLMError, match=r"llm\.model is not set"):
        OpenAIChatModel(LLMSettings(provider="openai", base_url="http://127.0.0.1:1/v1"))


def test_name_shows_model_and_host(failing_endpoint):
    assert chat_model(failing_endpoint, "gpt-x").name == "gpt-x @ 127.0.0.1"
