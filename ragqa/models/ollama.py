"""`llm.provider: ollama`: the models Ollama has pulled, through its OpenAI-compatible endpoint.

    llm: {provider: ollama, model: llama3.2}     # base_url: http://127.0.0.1:11434/v1 unless llm.base_url says

Answers go through the same `openai` client as every endpoint (ragqa.models.openai_chat); what Ollama has is
read from its own `/api/tags`, for `ragqa models list` and for the one line that names them when
llm.model is not set. An Ollama that is not running is one line that says to start it.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from ragqa.config import LLMSettings
from ragqa.errors import LLMError

if TYPE_CHECKING:
    from ragqa.models.openai_chat import OpenAIChatModel

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"
START_IT = "start Ollama (`ollama serve`, or its app), or set llm.base_url to where it listens"


def base_url(llm: LLMSettings) -> str:
    return (llm.base_url or DEFAULT_BASE_URL).rstrip("/")


def api_root(url: str) -> str:
    """Ollama's own API sits beside the OpenAI-compatible one.

    >>> api_root("http://127.0.0.1:11434/v1"), api_root("http://box:11434/")
    ('http://127.0.0.1:11434', 'http://box:11434')
    """
    url = url.rstrip("/")
    return url[:-3] if url.endswith("/v1") else url


def ollama_models(url: str, timeout: float = 2.0) -> list[dict] | None:
    """Ollama's models (`/api/tags`: name, size, details), or None when nothing answers there like Ollama."""
    if not url.lower().startswith(("http://", "https://")):  # a file: or other URL is never opened
        return None
    try:
        with urllib.request.urlopen(f"{api_root(url)}/api/tags", timeout=timeout) as reply:  # noqa: S310 - http(s)
            models = json.load(reply).get("models")
    except (OSError, ValueError, AttributeError):
        return None
    return [m for m in models if isinstance(m, dict) and m.get("name")] if isinstance(models, list) else None


def not_running(url: str) -> str:
    return f"Ollama is not running at {api_root(url)}: {START_IT}"


def ollama_chat_model(llm: LLMSettings) -> OpenAIChatModel:
    """The chat model for `llm.provider: ollama`."""
    from ragqa.models.openai_chat import OpenAIChatModel

    url = base_url(llm)
    if not llm.model:
        models = ollama_models(url)
        if models is None:
            raise LLMError(f"llm.model is not set, and {not_running(url)}")
        names = ", ".join(m["name"] for m in models[:8]) or "none yet: `ollama pull llama3.2`"
        raise LLMError(f"llm.model is not set: name one of Ollama's models ({names}) in config.yaml")
    return OpenAIChatModel(
        llm.model_copy(update={"api_key_env": None}),
        base_url=url,
        model=llm.model,
        display_name=f"{llm.model} (Ollama)",
        down_fix=START_IT,
        stream_usage=True,
    )
