"""A small Ollama on 127.0.0.1 (the `ollama` fixture): its own `GET /api/tags`, and the OpenAI-compatible routes
ragqa's `openai` client uses, `GET /v1/models` and `POST /v1/chat/completions` (streamed as server-sent events,
or not). Every question is answered with REPLY; a model it has not pulled gets Ollama's 404. Every request's
path and JSON body are kept in `requests`, in order."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

REPLY = "Tomatoes need six hours of direct sun [1]."
MODELS = [  # as Ollama 0.x lists them
    {"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 2019393189, "digest": "a80c4f17acd5",
     "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}},
    {"name": "qwen2.5:7b-instruct", "model": "qwen2.5:7b-instruct", "size": 4683087332, "digest": "845dbda0ea48",
     "details": {"format": "gguf", "family": "qwen2", "parameter_size": "7.6B", "quantization_level": "Q4_K_M"}},
]


class FakeOllama(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # each reply ends by closing: a stream needs no chunked encoding
    requests: ClassVar[list[tuple[str, dict]]] = []  # replaced per server by the fixture

    def log_message(self, *args):
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.requests.append((self.path, {}))
        if self.path == "/api/tags":
            self._json(200, {"models": MODELS})
        elif self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": m["name"], "object": "model", "created": 0,
                                                         "owned_by": "library"} for m in MODELS]})
        else:
            self._json(404, {"error": "404 page not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.requests.append((self.path, body))
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": "404 page not found"})
        model = body.get("model", "")
        if model not in {m["name"] for m in MODELS} | {m["name"].removesuffix(":latest") for m in MODELS}:
            return self._json(404, {"error": {"message": f'model "{model}" not found, try pulling it first',
                                              "type": "api_error", "param": None, "code": None}})
        usage = {"prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129}
        if not body.get("stream"):
            return self._json(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": model,
                                    "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY},
                                                 "finish_reason": "stop"}], "usage": usage})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunks = [{"role": "assistant", "content": word} for word in REPLY.split(" ")]
        for i, delta in enumerate(chunks):
            delta["content"] += " " if i < len(chunks) - 1 else ""
            self._event({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}, model)
        self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, model)
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event({"choices": [], "usage": usage}, model)
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, fields: dict, model: str) -> None:
        chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model, **fields}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()
