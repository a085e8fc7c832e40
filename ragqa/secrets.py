"""Secrets: the API token, the app's password, an endpoint's API key, a Milvus token. config.yaml only ever
names the environment variable that holds one (`api.token_env`, `ui.password_env`, `llm.api_key_env`,
`store.milvus_token_env`); `secret` reads it, in this one place, as a pydantic `SecretStr`, so a value is
never printed by accident (`str(secret)` is '**********').

The long-running faces (`ragqa serve`, the app) also call `redact_secrets_in_logs`: any secret read so far
that turns up in a log line (a token pasted into a URL, say) is written as '***'.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from pydantic import SecretStr

MASK = "***"
MIN_REDACTED = 4  # a shorter secret is not masked in logs: every "abc" of every line would be
_values: set[str] = set()  # every secret read in this process, for redact()
_installed = False


def secret(env_name: str | None, environ: Mapping[str, str] | None = None) -> SecretStr | None:
    """The value of the environment variable `env_name`; None when no name is given or the variable is
    unset or empty.

    >>> secret("TOKEN", {"TOKEN": "s3cret"})
    SecretStr('**********')
    >>> secret("TOKEN", {"TOKEN": "s3cret"}).get_secret_value(), secret("TOKEN", {}), secret(None)
    ('s3cret', None, None)
    """
    environ = os.environ if environ is None else environ
    value = environ.get(env_name) if env_name else None
    if not value:
        return None
    if len(value) >= MIN_REDACTED:
        _values.add(value)
    return SecretStr(value)


def redact(text: str) -> str:
    """`text` with every secret this process has read replaced by '***'.

    >>> _ = secret("TOKEN", {"TOKEN": "s3cret-value"})
    >>> redact("GET /v1/status?token=s3cret-value HTTP/1.1")
    'GET /v1/status?token=*** HTTP/1.1'
    """
    for value in sorted(_values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def redact_secrets_in_logs() -> None:
    """From now on every log record of this process (uvicorn's access log, Streamlit's, ragqa's) has the
    secrets read by `secret` masked in its message and arguments. Idempotent."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def masked_record(*args, **kwargs):
        record = make_record(*args, **kwargs)
        if _values:
            record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
            if isinstance(record.args, tuple):
                record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return record

    logging.setLogRecordFactory(masked_record)
