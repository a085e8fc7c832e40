"""What every request passes before a route: the bearer token (when one is set) and the body size cap.

Plain ASGI, so it covers every route, /docs included, and refuses an oversized body before it is parsed.
"""
from __future__ import annotations

import hmac
import ipaddress
import os

from ragqa.api.errors import error_response

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def api_token(settings, environ=None) -> str | None:
    """The token every request must bear: the value of the variable api.token_env names, if set and not empty."""
    environ = os.environ if environ is None else environ
    name = settings.api.token_env
    return (environ.get(name) or None) if name else None


def is_loopback(host: str) -> bool:
    """Only this machine can reach a server bound there.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Guard:
    """401 without `Authorization: Bearer <token>` (constant-time compare); 413 for a body over `max_bytes`."""

    def __init__(self, app, token: str | None, max_bytes: int, token_env: str | None = None,
                 command: str = "ragqa serve"):
        self.app, self.max_bytes, self.token_env, self.command = app, max_bytes, token_env, command
        self.token = token.encode() if token else None

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        given = headers.get(b"authorization", b"")
        scheme, _, secret = given.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(secret.strip(), self.token)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if self.token is not None and scope["method"] != "OPTIONS" and not self._authorised(headers):
            reply = error_response(401, f"missing or wrong API token: send `Authorization: Bearer <token>` with the "
                                        f"token in ${self.token_env} where {self.command} runs", "invalid_api_key",
                                   headers={"WWW-Authenticate": "Bearer"})
            return await reply(scope, receive, send)
        too_big = error_response(413, f"request body over api.max_request_kb ({self.max_bytes // 1024} KB): "
                                      "send less, or raise api.max_request_kb in config.yaml", "request_too_large")
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit():
            return await error_response(400, "bad Content-Length header", "bad_request")(scope, receive, send)
        if int(declared) > self.max_bytes:
            return await too_big(scope, receive, send)
        body, more = [], True
        while more:  # also a chunked body with no Content-Length
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body.append(message.get("body", b""))
            more = message.get("more_body", False)
            if sum(map(len, body)) > self.max_bytes:
                return await too_big(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(body), "more_body": False}
            return await receive()  # then what the client does next (a disconnect, for a stream)

        return await self.app(scope, replay, send)
