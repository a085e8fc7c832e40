"""What every session of the browser's process shares: the embedding model, the index and the chat model.

Each is made once and kept by Streamlit (st.cache_resource) under a key from the settings (`keys`), so a
changed config.yaml gets new ones. The conversation, top-k and filters are not here: they belong to one
browser session (st.session_state).
"""
from __future__ import annotations

import threading

import streamlit as st

from ragqa.answer.loop import warm_up
from ragqa.models.chat import NoChatModel, chat_model_or_problem
from ragqa.retrieve.shared import SharedIndex


@st.cache_resource(show_spinner="Loading the embedding model…")
def get_embedder(_settings, key: str):
    from ragqa.models.embedding import make_embedder

    embedder = make_embedder(_settings)
    embedder.load()  # under the spinner, once per process
    return embedder


@st.cache_resource(show_spinner=False)
def get_index(_settings, _embedder, key: str) -> SharedIndex:
    return SharedIndex(_settings, _embedder, reranking_model(_settings))


@st.cache_resource(show_spinner="Starting the language model…")
def get_chat_model(_settings, key: str):
    """(the chat model, None), or (a NoChatModel, the one-line problem) when it cannot be made. A model
    that generates reads the start every prompt shares in the background, so the first question does
    not wait for it."""
    model, problem = chat_model_or_problem(_settings)
    if model.generates:
        threading.Thread(target=warm_up, args=(model,), daemon=True, name="ragqa-warm-up").start()
    return model, problem


@st.cache_data(ttl=30, show_spinner=False)
def llm_check(key: str, _model) -> str | None:
    """None if the endpoint answers; checked at most every 30 s."""
    return _model.check()


def keys(settings) -> dict:
    """The cache keys: {"embedder", "index", "llm"}, each from the settings that make that resource."""
    cache = str(settings.resolve(settings.embedding.cache_dir))
    return {"embedder": settings.embedding.model_dump_json() + cache,
            "index": f"{settings.index_path}|{settings.model_dump_json()}",
            "llm": settings.llm.model_dump_json() + cache}


def forget_chat_model() -> None:
    """Drop the cached chat model and its check, so the next use makes them again (a dead local server
    is started again)."""
    get_chat_model.clear()
    llm_check.clear()


def chat_model_for(settings, fresh: bool = False):
    """The cached chat model; with fresh=True a local server that died is started again."""
    model, problem = get_chat_model(settings, keys(settings)["llm"])
    if fresh and (problem or (settings.llm.provider == "local" and model.check())):
        forget_chat_model()
        model, problem = get_chat_model(settings, keys(settings)["llm"])
    return model, problem


def reranking_model(settings):
    """The chat model `search.rerank: llm` asks (the one that answers); for any other reranker none is started."""
    return chat_model_for(settings)[0] if settings.search.rerank == "llm" else NoChatModel()
