"""Every way an OpenAI-compatible endpoint fails becomes one clear LLMError line.

A real HTTP server on 127.0.0.1 plays the failing endpoint; the real ChatModel talks to it.
The request's model name picks the failure.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ragqa.config import LLMSettings
from ragqa.errors import LLMError
from ragqa.models.openai_chat import ChatModel

MESSAGES = [{"role": "user", "content": "hi"}]


def _error(message, type_="invalid_request_error", code=None):
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


REPLIES = {  # model name -> (status, JSON body)
    "auth": (401, _error("Incorrect API key provided: sk-xx.", code="invalid_api_key")),
    "forbidden": (403, _error("You do not have access to this model.")),
    "missing": (404, _error("The model `missing` does not exist or you do not have access to it.",
                            code="model_not_found")),
    "busy": (429, _error("Rate limit reached for requests per min.", code="rate_limit_exceeded")),
    "quota": (429, _error("You exceeded your current quota, please check your plan.", code="insufficient_quota")),
    "broken": (500, _error("Internal server error", type_="server_error")),
    "overloaded": (503, {"detail": "Service Unavailable"}),
    # context too long, as OpenAI / llama-cpp-python, vLLM, llama.cpp's server and Ollama word it
    "ctx-openai": (400, _error("This model's maximum context length is 4096 tokens. However, your messages "
                               "resulted in 5000 tokens.", code="context_length_exceeded")),
    "ctx-vllm": (400, {"object": "error", "message": "'max_tokens' or 'max_completion_tokens' is too large: "
                       "384. This model's maximum context length is 2048 tokens and your request has 1900 "
                       "input tokens", "type": "BadRequestError", "code": 400}),
    "ctx-llamacpp": (400, _error("the request exceeds the available context size, try increasing it",
                                 type_="exceed_context_size_error")),
    "ctx-ollama": (400, {"error": "prompt too long; exceeded max context length by 1200 tokens"}),
    "odd-400": (400, _error("temperature must be between 0 and 2")),
}


class FailingEndpoint(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except BrokenPipeError:  # the client timed out first, as the timeout test wants
            pass

    def do_GET(self):
        if self.headers.get("Authorization") == "Bearer wrong-key":
            return self._send(*REPLIES["auth"])
        self._send(200, {"object": "list", "data": [{"id": "ok", "object": "model"}]})

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model = request["model"]
        if model == "slow":
            time.sleep(1.5)
        self._send(*REPLIES.get(model, (200, {"choices": []})))


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FailingEndpoint)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def chat_model(base_url, model, **overrides):
    settings = LLMSettings(provider="openai", base_url=base_url, model=model, max_retries=0,
                           timeout_seconds=overrides.pop("timeout_seconds", 5.0), **overrides)
    return ChatModel(settings)


def error_line(base_url, model, **overrides) -> str:
    with pytest.raises(LLMError) as caught:
        list(chat_model(base_url, model, **overrides).stream(MESSAGES))
    message = str(caught.value)
    assert "\n" not in message and message == message.strip()
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    return message


@pytest.mark.parametrize(
    "model, expected",
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
def test_http_failures_become_one_line(endpoint, model, expected):
    message = error_line(endpoint, model)
    assert expected in message
    assert message.startswith(f"the LLM at {endpoint}") or "context window" in message


def test_401_names_the_key_variable(endpoint, monkeypatch):
    monkeypatch.setenv("RAGQA_TEST_KEY", "wrong-key")
    message = error_line(endpoint, "auth", api_key_env="RAGQA_TEST_KEY")
    assert "rejected the API key (HTTP 401)" in message and "RAGQA_TEST_KEY" in message

    monkeypatch.delenv("RAGQA_TEST_KEY")
    empty = error_line(endpoint, "auth", api_key_env="RAGQA_TEST_KEY")
    assert "the environment variable RAGQA_TEST_KEY is empty: export RAGQA_TEST_KEY=<your key>" in empty
    assert "set llm.api_key_env" in error_line(endpoint, "auth")


def test_403_names_model_and_key_variable(endpoint, monkeypatch):
    monkeypatch.setenv("RAGQA_TEST_KEY", "some-key")
    message = error_line(endpoint, "forbidden", api_key_env="RAGQA_TEST_KEY")
    assert "refused access to 'forbidden' (HTTP 403)" in message and "RAGQA_TEST_KEY" in message


def test_slow_answer_times_out(endpoint):
    started = time.monotonic()
    message = error_line(endpoint, "slow", timeout_seconds=0.3)
    assert "did not answer within 0.3 s: raise llm.timeout_seconds" in message
    assert time.monotonic() - started < 1.4


def test_closed_port_is_reported_down():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    message = error_line(base_url, "any")
    assert message == (f"the LLM at {base_url} is down (connection refused): "
                       "start it, or fix llm.base_url in config.yaml")
    assert chat_model(base_url, "any").check() == message
    with pytest.raises(LLMError, match="is down"):
        chat_model(base_url, "any").complete(MESSAGES)


def test_check_passes_and_reports_bad_key(endpoint, monkeypatch):
    assert chat_model(endpoint, "ok").check() is None
    monkeypatch.setenv("RAGQA_TEST_KEY", "wrong-key")
    problem = chat_model(endpoint, "ok", api_key_env="RAGQA_TEST_KEY").check()
    assert problem and "rejected the API key (HTTP 401)" in problem


def test_missing_model_setting_is_explained():
    with pytest.raises(LLMError, match="llm.model is not set"):
        ChatModel(LLMSettings(provider="openai", base_url="http://127.0.0.1:1/v1"))


def test_name_shows_model_and_host(endpoint):
    assert chat_model(endpoint, "gpt-x").name == "gpt-x @ 127.0.0.1"
