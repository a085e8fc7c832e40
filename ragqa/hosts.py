"""Who may reach a long-running face (`ragqa serve`, the app): the rules both share, as plain functions.

- A server bound to a non-loopback address must have a secret (the API's token, the app's password):
  `public_bind_refusal` words the one-line refusal both print.
- Without a secret, only requests addressed to a loopback name or address are served: the `Host` header
  must be 127.0.0.1 (any 127.x), [::1] or localhost (`is_loopback_host_header`). A web page that points its
  own domain at 127.0.0.1 (DNS rebinding) sends its own name as Host, and is refused; Ollama and Jupyter
  check the same way.
- Without a secret, a browser page from another origin may not call it (`same_origin`), unless listed.
"""
from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


def is_loopback(host: str) -> bool:
    """Only this machine can reach a server bound there.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    >>> is_loopback(""), is_loopback("127.0.0.1.evil.example")
    (False, False)
    """
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_HOST_HEADER = re.compile(r"\[(?P<v6>[0-9a-f:.]+)\](?::\d{1,5})?|(?P<name>[^:\[\]]+)(?::\d{1,5})?|(?P<bare>[0-9a-f:]+)")


def host_of(header: str) -> str:
    """The name or address of a `Host` header, without its port; '' when it is not a well-formed Host.

    >>> host_of("127.0.0.1:8000"), host_of("[::1]:8501"), host_of("LocalHost"), host_of("::1")
    ('127.0.0.1', '::1', 'localhost', '::1')
    >>> host_of("[::1].evil.example"), host_of("127.0.0.1:80:80"), host_of("localhost:x")
    ('', '', '')
    """
    found = _HOST_HEADER.fullmatch(header.strip().lower())
    return next((g for g in found.groups() if g), "") if found else ""


def is_loopback_host_header(header: str | None) -> bool:
    """True when a request's `Host` header names this machine by a loopback name or address.

    >>> [is_loopback_host_header(h) for h in ("127.0.0.1:8000", "localhost", "[::1]:80", "127.0.0.2")]
    [True, True, True, True]
    >>> [is_loopback_host_header(h) for h in ("evil.example", "localhost.evil.example:8000", "", None)]
    [False, False, False, False]
    >>> is_loopback_host_header("127.0.0.1@evil.example"), is_loopback_host_header("127.0.0.1:80:80")
    (False, False)
    """
    if not header or any(c in header for c in "@/\\ \t"):
        return False
    return is_loopback(host_of(header))


def same_origin(origin: str, host_header: str | None) -> bool:
    """True when a browser's `Origin` is the server's own (the same host and port the request was sent to).

    >>> same_origin("http://127.0.0.1:8000", "127.0.0.1:8000"), same_origin("http://evil.example", "127.0.0.1")
    (True, False)
    >>> same_origin("null", "127.0.0.1:8000")
    False
    """
    try:
        netloc = urlsplit(origin).netloc.lower()
    except ValueError:
        return False
    return bool(netloc) and netloc == (host_header or "").strip().lower()


def public_bind_refusal(host: str, secret_kind: str, how: str) -> str:
    """The one line `ragqa serve` and `ragqa app` print when asked to listen beyond this machine with no secret.

    >>> public_bind_refusal("0.0.0.0", "a token", "set $RAGQA_API_TOKEN to a secret")
    'ragqa: refusing to serve on 0.0.0.0 without a token: set $RAGQA_API_TOKEN to a secret, or serve on 127.0.0.1'
    """
    return f"ragqa: refusing to serve on {host or 'every address'} without {secret_kind}: {how}, or serve on 127.0.0.1"


def api_bind_refusal(host: str, token_env: str | None, has_token: bool) -> str | None:
    """`ragqa serve`'s refusal to listen on `host` with no token (named by api.token_env); None when it may.

    >>> api_bind_refusal("127.0.0.1", "T", False) is None, api_bind_refusal("0.0.0.0", "T", True) is None
    (True, True)
    >>> api_bind_refusal("0.0.0.0", "T", False)[:52]
    'ragqa: refusing to serve on 0.0.0.0 without a token:'
    """
    if is_loopback(host) or has_token:
        return None
    where = f"${token_env}" if token_env else "an env var named by api.token_env"
    return public_bind_refusal(host, "a token", f"set {where} to a secret (clients send it as "
                                                "`Authorization: Bearer ...`)")


def app_bind_refusal(host: str | None, password_env: str | None, has_password: bool) -> str | None:
    """The app's refusal to listen on `host` ('' or None: every address) with no password (named by
    ui.password_env); None when it may.

    >>> app_bind_refusal("0.0.0.0", "PW", False)
    'ragqa: refusing to serve on 0.0.0.0 without a password: set $PW to a password, or serve on 127.0.0.1'
    """
    if (host and is_loopback(host)) or has_password:
        return None
    how = (f"set ${password_env} to a password" if password_env else
           "set ui.password_env in config.yaml to the NAME of an environment variable holding a password")
    return public_bind_refusal(host or "0.0.0.0", "a password", how)  # noqa: S104 - the refusal's words, no bind
