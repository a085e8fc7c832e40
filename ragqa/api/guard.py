"""What every request passes before a route, in this order:

1. without a token: the `Host` header must name this machine (127.0.0.1, localhost, [::1]), so a web page
   that points its own domain at 127.0.0.1 (DNS rebinding) is refused (403); and a browser page of another
   origin is refused unless api.cors_origins lists it (403);
2. with a token: `Authorization: Bearer <token>`, compared in constant time (401);
3. every POST must say `Content-Type: application/json` (415), so no page can send one without CORS;
4. the body size cap (413), before the body is parsed.

Plain ASGI, so it covers every route, /docs included. The rules themselves are ragqa.hosts'.
"""
from __future__ import annotations

import hmac

from pydantic import SecretStr

from ragqa.api.errors import error_response
from ragqa.hosts import is_loopback, is_loopback_host_header, same_origin  # noqa: F401 (is_loopback: for callers)
from ragqa.secrets import secret


def api_token(settings, environ=None) -> SecretStr | None:
    """The token every request must bear: the value of the variable api.token_env names, if set and not empty."""
    return secret(settings.api.token_env, environ)


def is_json(content_type: bytes) -> bool:
    """`application/json`, with or without parameters.

    >>> is_json(b"application/json"), is_json(b"Application/JSON; charset=utf-8"), is_json(b"text/plain")
    (True, True, False)
    >>> is_json(b"application/jsonx"), is_json(b"")
    (False, False)
    """
    return content_type.split(b";")[0].strip().lower() == b"application/json"


class Guard:
    """The checks above; `token` None means none is asked, and then only loopback Hosts are served."""

    def __init__(self, app, token: SecretStr | str | None, max_bytes: int, token_env: str | None = None,
                 command: str = "ragqa serve", cors_origins: list[str] | None = None):
        self.app, self.max_bytes, self.token_env, self.command = app, max_bytes, token_env, command
        if isinstance(token, SecretStr):
            token = token.get_secret_value()
        self.token = token.encode() if token else None
        self.cors_origins = {o.rstrip("/").lower() for o in cors_origins or []}

    def _authorised(self, headers: dict[bytes, bytes], token: bytes) -> bool:
        """`Bearer <token>`, compared in constant time: every byte is read whatever the guess, and the guess is
        not copied first (a view), so its time tells nothing of how much of it is right."""
        given = headers.get(b"authorization", b"")
        if given[:7].lower() != b"bearer ":
            return False
        start, end = 7, len(given)
        while start < end and given[start] in b" \t":
            start += 1
        while end > start and given[end - 1] in b" \t":
            end -= 1
        return hmac.compare_digest(memoryview(given)[start:end], token)

    def _refusal(self, scope, headers: dict[bytes, bytes]):
        """The error response for a request that may not go on, or None."""
        host = headers.get(b"host", b"").decode("latin-1")
        origin = headers.get(b"origin", b"").decode("latin-1")
        if self.token is None:
            if not is_loopback_host_header(host):
                return error_response(403, "this server has no token, so it answers only requests addressed to "
                                           "127.0.0.1, localhost or [::1]: use http://127.0.0.1:<port>, or start it "
                                           "with a token to serve other names", "host_not_allowed")
            if origin and origin.rstrip("/").lower() not in self.cors_origins and not same_origin(origin, host):
                return error_response(403, "a web page of another origin may not call this server: list the "
                                           "origin in api.cors_origins in config.yaml to allow it",
                                      "origin_not_allowed")
        elif scope["method"] != "OPTIONS" and not self._authorised(headers, self.token):
            return error_response(401, "missing or wrong API token: send `Authorization: Bearer <token>` with "
                                       f"the token in ${self.token_env} where {self.command} runs", "invalid_api_key",
                                  headers={"WWW-Authenticate": "Bearer"})
        if scope["method"] == "POST" and not is_json(headers.get(b"content-type", b"")):
            return error_response(415, "send the request body as JSON with the header "
                                       "`Content-Type: application/json`", "unsupported_media_type")
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit():
            return error_response(400, "bad Content-Length header", "bad_request")
        if int(declared) > self.max_bytes:
            return self._too_big()
        return None

    def _too_big(self):
        return error_response(413, f"request body over api.max_request_kb ({self.max_bytes // 1024} KB): "
                                   "send less, or raise api.max_request_kb in config.yaml", "request_too_large")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            return await refusal(scope, receive, send)
        body, more = [], True
        while more:  # also a chunked body with no Content-Length
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body.append(message.get("body", b""))
            more = message.get("more_body", False)
            if sum(map(len, body)) > self.max_bytes:
                return await self._too_big()(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(body), "more_body": False}
            return await receive()  # then what the client does next (a disconnect, for a stream)

        return await self.app(scope, replay, send)
