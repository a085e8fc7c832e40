"""The chat model behind one small interface, chosen by `llm.provider` through one factory.

    model = make_chat_model(settings)     # "local", "openai", "ollama" or "none"
    if model.generates:
        text = model.complete([{"role": "user", "content": "Hello"}])

A provider is a builder in PROVIDERS. Each imports its own module when it is asked for, so a
retrieval-only run loads neither the openai client nor llama.cpp. Loading `ragqa.models.local` or
`ragqa.models.openai_chat` loads neither the other nor this module: no import cycle.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Protocol

from ragqa.config import LLMSettings, Settings
from ragqa.errors import ConfigError, LLMError, RagqaError

NO_LLM = ("no language model is configured (llm.provider: none): set llm.provider to local, openai or ollama "
          "in config.yaml (or the environment variable RAGQA_LLM__PROVIDER) to have answers written")


class ChatModel(Protocol):
    """What the read path asks of a chat model; every failure is an LLMError with a fix-it line."""

    last_usage: dict | None  # the last streamed answer's token counts, when the server sent them

    @property
    def name(self) -> str: ...  # shown with each answer, e.g. "smollm2-135m (local)"

    @property
    def generates(self) -> bool: ...  # False: answers are the best passages, no text is written

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]: ...

    def complete(self, messages: list[dict], max_tokens: int | None = None) -> str: ...

    def check(self) -> str | None: ...  # None if it answers, else the one-line problem


class NoChatModel:
    """No language model: `llm.provider: none`, or (with `problem`) a configured one that could not be made.

    Nothing asks it to write once `generates` is False; one that does anyway gets the reason as an LLMError,
    so a face shows one line, never a traceback.
    """

    generates = False
    name = "retrieval only"
    last_usage: dict | None = None

    def __init__(self, problem: str | None = None) -> None:
        self.problem = problem  # why there is no model although one is configured; None for provider none

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        raise LLMError(self.problem or NO_LLM)

    def complete(self, messages: list[dict], max_tokens: int | None = None) -> str:
        raise LLMError(self.problem or NO_LLM)

    def check(self) -> str | None:
        return self.problem


RETRIEVAL_ONLY = NoChatModel()  # the default where no model is handed in; it holds no state to share


def _none(llm: LLMSettings, cache_dir) -> ChatModel:
    return NoChatModel()


def _openai(llm: LLMSettings, cache_dir) -> ChatModel:
    from ragqa.models.openai_chat import OpenAIChatModel

    return OpenAIChatModel(llm)


def _local(llm: LLMSettings, cache_dir) -> ChatModel:
    from ragqa.models.local import local_chat_model  # llama.cpp and the model files: only for provider local

    return local_chat_model(llm, cache_dir)


def _ollama(llm: LLMSettings, cache_dir) -> ChatModel:
    from ragqa.models.ollama import ollama_chat_model

    return ollama_chat_model(llm)


PROVIDERS: dict[str, Callable[[LLMSettings, str | os.PathLike | None], ChatModel]] = {
    "none": _none,
    "openai": _openai,
    "local": _local,
    "ollama": _ollama,
}


def llm_settings(settings: Settings | LLMSettings) -> LLMSettings:
    """The llm section; given the whole Settings, a relative llm.local_model path is made config.yaml's."""
    if not isinstance(settings, Settings):
        return settings
    llm = settings.llm
    if llm.provider == "local":
        from ragqa.models.model_sources import resolve_reference

        try:
            llm = llm.model_copy(update={"local_model": resolve_reference(llm.local_model, settings.base_dir)})
        except LLMError:
            pass  # an unknown name: the provider says so, in one line
    return llm


def make_chat_model(settings: Settings | LLMSettings, cache_dir: str | os.PathLike | None = None) -> ChatModel:
    """The chat model `llm.provider` names; for local, one on a started (or reused) local server.

    Given the whole Settings, the local model is cached in embedding.cache_dir (~/.cache/ragqa).
    Never None: provider none is a NoChatModel.
    """
    llm = llm_settings(settings)
    if cache_dir is None and isinstance(settings, Settings):
        cache_dir = settings.resolve(settings.embedding.cache_dir)
    build = PROVIDERS.get(llm.provider)
    if build is None:
        raise ConfigError(f"unknown llm.provider {llm.provider!r}: choose one of {', '.join(PROVIDERS)}")
    return build(llm, cache_dir)


def chat_model_or_problem(settings: Settings | LLMSettings,
                          cache_dir: str | os.PathLike | None = None) -> tuple[ChatModel, str | None]:
    """(the configured chat model, None), or (a NoChatModel, the one-line reason) when it cannot be made.

    For the faces that carry on without it: passages instead of an answer, words instead of topic names.
    """
    try:
        return make_chat_model(settings, cache_dir), None
    except RagqaError as err:
        return NoChatModel(str(err)), str(err)


def reranking_model(settings: Settings) -> ChatModel:
    """The chat model `search.rerank: llm` asks; for any other reranker none is started. One that cannot
    be started fails each rerank with its reason, so the first stage's order stands, as when it fails later."""
    return chat_model_or_problem(settings)[0] if settings.search.rerank == "llm" else NoChatModel()
