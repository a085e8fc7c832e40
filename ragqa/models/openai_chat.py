"""The one code path to any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp).

`OpenAIChatModel` streams or completes a chat; every failure leaves it as an `LLMError` whose
one-line message says what happened and what to change (`explain_error`, pure). It is the chat
model for `llm.provider: openai`, and for local (on llama.cpp's server); `ragqa.models.chat` picks.
Retries with backoff are the `openai` client's own (`llm.max_retries`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, cast

import httpx2
import openai

from ragqa.config import LLMSettings
from ragqa.errors import LLMError
from ragqa.secrets import secret

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

DEFAULT_BASE_URL = "https://api.openai.com/v1"
CHECK_TIMEOUT_SECONDS = 10.0
_DETAIL_CHARS = 160
_CONTEXT_TOO_LONG = re.compile(
    r"context[ _-]?(length|window|size)|maximum context|n_ctx|exceed\w*[ _]context"
    r"|prompt (is )?too long|too many tokens|max_new_tokens. must be",
    re.IGNORECASE,
)


def server_detail(err: BaseException) -> str:
    """The server's own words for a failed request, squeezed onto one short line."""
    body = getattr(err, "body", None)
    text = ""
    if isinstance(body, dict):
        text = body.get("message") or body.get("detail") or body.get("error") or ""
    elif isinstance(body, str):
        text = body
    text = " ".join(str(text or "").split())
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def _why_unreachable(err: BaseException) -> str:
    cause = f"{err.__cause__ or err.__context__ or ''}".lower()
    if "refused" in cause:
        return "connection refused"
    if "name or service" in cause or "nodename" in cause or "resolution" in cause:
        return "host name not found"
    return "no connection"


def explain_error(
    err: BaseException,
    *,
    endpoint: str,
    model: str,
    api_key_env: str | None,
    timeout_seconds: float,
    down_fix: str = "start it, or fix llm.base_url in config.yaml",
) -> LLMError:
    """Turn an `openai`/transport exception into an LLMError with one fix-it line."""
    if isinstance(err, LLMError):
        return err
    at = f"the LLM at {endpoint}"
    if isinstance(err, (openai.APITimeoutError, httpx2.TimeoutException)):
        return LLMError(
            f"{at} did not answer within {timeout_seconds:g} s: raise llm.timeout_seconds "
            "or use a smaller model"
        )
    if isinstance(err, openai.APIConnectionError):
        return LLMError(f"{at} is down ({_why_unreachable(err)}): {down_fix}")
    if isinstance(err, httpx2.TransportError):  # raised while reading a stream
        return LLMError(f"the connection to {at} broke mid-answer ({type(err).__name__}): ask again")
    if not isinstance(err, openai.APIStatusError):
        return LLMError(f"{at} failed: {type(err).__name__}: {' '.join(str(err).split())[:_DETAIL_CHARS]}")

    status, detail = err.status_code, server_detail(err)
    said = f" (the server said: {detail})" if detail else ""
    if status in (401, 403):
        if not api_key_env:
            fix = "set llm.api_key_env to the NAME of the environment variable holding your key"
        elif secret(api_key_env) is None:
            fix = f"the environment variable {api_key_env} is empty: export {api_key_env}=<your key>"
        else:
            fix = f"put a valid key with access to '{model}' in the environment variable {api_key_env}"
        what = "rejected the API key" if status == 401 else f"refused access to '{model}'"
        return LLMError(f"{at} {what} (HTTP {status}): {fix}")
    if status == 404:
        if "model" in detail.lower() or not detail:
            return LLMError(
                f"{at} has no model named '{model}' (HTTP 404): set llm.model to a model it serves{said}"
            )
        return LLMError(f"{at} has no such path (HTTP 404): check llm.base_url (it usually ends in /v1){said}")
    if status == 429:
        if "quota" in detail.lower() or getattr(err, "code", None) == "insufficient_quota":
            return LLMError(f"{at} says the account is out of quota (HTTP 429): check its billing{said}")
        return LLMError(
            f"{at} is rate-limiting requests (HTTP 429): wait a minute and ask again, "
            f"or raise llm.max_retries{said}"
        )
    if status in (400, 413, 422) and (
        _CONTEXT_TOO_LONG.search(detail) or getattr(err, "code", None) == "context_length_exceeded"
    ):
        return LLMError(
            f"the question and retrieved notes do not fit the context window of '{model}' (HTTP {status}): "
            "lower search.top_k, chunking.chunk_tokens or llm.max_answer_tokens, "
            f"or raise llm.context_window if the model allows{said}"
        )
    if status >= 500:
        return LLMError(f"{at} failed with HTTP {status}: ask again later, or check the server's log{said}")
    return LLMError(f"{at} rejected the request (HTTP {status}){said}")


class OpenAIChatModel:
    """A chat model behind an OpenAI-compatible endpoint (a `ragqa.models.chat.ChatModel`)."""

    generates = True

    def __init__(
        self,
        settings: LLMSettings,
        *,
        base_url: str | None = None,
        model: str | None = None,
        display_name: str | None = None,
        down_fix: str | None = None,
        stream_usage: bool = False,
        restart: Callable[[], str] | None = None,
        system_role: bool = True,
    ) -> None:
        self.settings = settings
        self.stream_usage = stream_usage  # ask for token counts with a streamed answer (not every server takes it)
        self.last_usage: dict | None = None  # the last streamed answer's counts and timings, when the server sent them
        model = model or settings.model
        if not model:
            raise LLMError("llm.model is not set: name the model the endpoint serves in config.yaml (llm.model)")
        self.model: str = model
        key = secret(settings.api_key_env)
        self._client = openai.OpenAI(
            base_url=base_url or settings.base_url or DEFAULT_BASE_URL,
            api_key=key.get_secret_value() if key else "not-needed",
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )
        self.base_url = str(self._client.base_url).rstrip("/")
        self._display_name = display_name
        self._down_fix = down_fix
        self._restart = restart  # a local server: starts it again when it is found gone, and gives its base URL
        self._system_role = system_role  # False: the model's chat template has no system role (folded_system)

    @property
    def name(self) -> str:
        return self._display_name or f"{self.model} @ {httpx2.URL(self.base_url).host}"

    def _error(self, err: BaseException) -> LLMError:
        extra = {"down_fix": self._down_fix} if self._down_fix else {}
        return explain_error(err, endpoint=self.base_url, model=self.model, api_key_env=self.settings.api_key_env,
                             timeout_seconds=self.settings.timeout_seconds, **extra)

    def _create(self, messages: list[dict], stream: bool, max_tokens: int | None):
        # plain dicts of the shape the client's TypedDicts describe
        sent = cast("list[ChatCompletionMessageParam]", messages if self._system_role else folded_system(messages))
        return self._client.chat.completions.create(
            model=self.model,
            messages=sent,
            temperature=self.settings.temperature,
            max_tokens=max_tokens or self.settings.max_answer_tokens,
            stream=stream,
            stream_options={"include_usage": True} if stream and self.stream_usage else openai.omit,  # omit: not sent
        )

    def _restarted(self, err: BaseException, tried: bool) -> bool:
        """After a refused connection to a local server: start it again (once) and point the client there."""
        gone = isinstance(err, openai.APIConnectionError) and not isinstance(err, openai.APITimeoutError)
        if not gone or tried or self._restart is None:
            return False
        try:
            base_url = self._restart()
        except LLMError:
            return False
        self._client = self._client.with_options(base_url=base_url)
        self.base_url = str(self._client.base_url).rstrip("/")
        return True

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        """Yield the answer's text as it arrives (at most max_tokens, default llm.max_answer_tokens)."""
        self.last_usage = None
        tried = False
        while True:
            started = False
            try:
                with self._create(messages, True, max_tokens) as chunks:
                    for chunk in chunks:
                        for choice in chunk.choices or ():
                            text = choice.delta.content if choice.delta else None
                            if text:
                                started = True
                                yield text
                        if chunk.usage is not None:
                            self.last_usage = _usage(chunk)
                return
            except (openai.OpenAIError, httpx2.HTTPError) as err:
                if started or not self._restarted(err, tried):
                    raise self._error(err) from None
                tried = True

    def complete(self, messages: list[dict], max_tokens: int | None = None) -> str:
        """The whole answer at once."""
        try:
            reply = self._create(messages, False, max_tokens)
        except (openai.OpenAIError, httpx2.HTTPError) as err:
            if not self._restarted(err, False):
                raise self._error(err) from None
            try:
                reply = self._create(messages, False, max_tokens)
            except (openai.OpenAIError, httpx2.HTTPError) as again:
                raise self._error(again) from None
        if not reply.choices:
            raise LLMError(f"the LLM at {self.base_url} returned no answer: ask again")
        return reply.choices[0].message.content or ""

    def check(self) -> str | None:
        """None if the endpoint answers (and accepts the key), else the one-line problem."""
        quick = self._client.with_options(
            timeout=min(CHECK_TIMEOUT_SECONDS, self.settings.timeout_seconds), max_retries=0
        )
        try:
            quick.models.list()
        except openai.NotFoundError:
            return (f"the LLM at {self.base_url} has no /models route (HTTP 404): "
                    "check llm.base_url (it usually ends in /v1)")
        except (openai.OpenAIError, httpx2.HTTPError) as err:
            return str(self._error(err))
        return None


def folded_system(messages: list[dict]) -> list[dict]:
    """The system message put at the head of the first user message, for a model whose chat template has no
    system role (some raise an error on one).

    >>> folded_system([{"role": "system", "content": "Rules."}, {"role": "user", "content": "Q?"}])
    [{'role': 'user', 'content': 'Rules.\\n\\nQ?'}]
    """
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    first_user = next((m for m in rest if m["role"] == "user"), None)
    if system and first_user is not None:
        first_user["content"] = f"{system}\n\n{first_user['content']}"
    return rest


def _usage(chunk) -> dict:
    """Token counts of a streamed answer; llama.cpp's server adds how many prompt tokens it had cached."""
    usage = chunk.usage
    details = getattr(usage, "prompt_tokens_details", None)
    timings = (chunk.model_extra or {}).get("timings") or {}
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "cached_tokens": getattr(details, "cached_tokens", None) or timings.get("cache_n"),
            "prompt_tokens_read": timings.get("prompt_n")}

