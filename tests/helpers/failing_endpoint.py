"""An OpenAI-compatible endpoint on 127.0.0.1 that fails the way real ones do (the `failing_endpoint` fixture).

The request's model name picks the reply: REPLIES gives an HTTP status and a JSON body, "slow" answers after
SLOW_SECONDS, "cut-off" starts a stream and dies after its first words. GET /models lists one model, "ok", and
refuses the key "wrong-key" with a 401.
"""
from __future__ import annotations

import json
import socket
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import ClassVar


def _error(message: str, type_: str = "invalid_request_error", code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


REPLIES = {  # model name -> (HTTP status, JSON body)
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
SLOW_SECONDS = 5  # longer than any llm.timeout_seconds the tests set


class FailingEndpoint(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # as real servers: a stream is chunked, so a cut is a broken body
    posts: ClassVar[Counter] = Counter()  # requests received, by model name (e.g. to see that none was retried)

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out first, as the timeout tests want
            self.close_connection = True

    def do_GET(self):
        if self.headers.get("Authorization") == "Bearer wrong-key":
            return self._send(*REPLIES["auth"])
        self._send(200, {"object": "list", "data": [{"id": "ok", "object": "model"}]})

    def do_POST(self):
        model = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["model"]
        FailingEndpoint.posts[model] += 1
        if model == "slow":
            time.sleep(SLOW_SECONDS)
        if model == "cut-off":
            return self._cut_off_stream()
        self._send(*REPLIES.get(model, (500, _error(f"no reply for the model {model!r}", type_="server_error"))))

    def _cut_off_stream(self) -> None:
        """A streamed answer whose connection dies after its first words."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        delta = {"choices": [{"index": 0, "delta": {"content": "Tomatoes need"}}]}
        event = f"data: {json.dumps(delta)}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)
