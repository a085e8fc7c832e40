"""Swappable parts (the embedder, the reranker, the chat model) share one style: a Protocol, a dict of builders
keyed by the config value that chooses one, one `make_*` function, and a one-line error naming the choices.

A config value without a builder (or a builder no config value can reach) fails here, not at a user's first
question.
"""
from __future__ import annotations

from typing import get_args

import pytest

from ragqa.config import EmbeddingSettings, LLMSettings, SearchSettings, Settings, load_settings
from ragqa.errors import ConfigError
from ragqa.models.chat import PROVIDERS, make_chat_model
from ragqa.models.embedding import EMBEDDERS, Embedder, make_embedder
from ragqa.retrieve.rerank import RERANKERS, make_reranker


def choices(section, key: str) -> set[str]:
    return set(get_args(type(section).model_fields[key].annotation))


@pytest.mark.parametrize(("registry", "section", "key"), [
    (EMBEDDERS, EmbeddingSettings(), "backend"),
    (RERANKERS, SearchSettings(), "rerank"),
    (PROVIDERS, LLMSettings(), "provider"),
], ids=["embedding.backend", "search.rerank", "llm.provider"])
def test_every_value_config_yaml_allows_has_a_builder_and_no_other(registry, section, key):
    assert set(registry) == choices(section, key)


def test_the_embedder_is_made_without_loading_its_model(tmp_path):
    settings = EmbeddingSettings(model="all-MiniLM-L6-v2", cache_dir=str(tmp_path))
    embedder = make_embedder(Settings(embedding=settings))
    assert isinstance(embedder, Embedder)  # the Protocol's every member, on the class itself
    assert embedder.name == "all-MiniLM-L6-v2"
    assert not getattr(embedder, "is_loaded", False)


def test_the_embedder_answers_only_what_its_interface_says(tmp_path):
    embedder = make_embedder(EmbeddingSettings(model="all-MiniLM-L6-v2", cache_dir=str(tmp_path)))
    with pytest.raises(AttributeError):
        embedder.max_tokens  # noqa: B018  (no attribute is passed through to the model behind it)


def unknown(settings, key: str, value: str):
    """`settings` with `key` set to a value config.yaml would refuse (as a new builder's name, say, before
    its registry entry exists)."""
    object.__setattr__(settings, key, value)  # past pydantic's own check of the Literal
    return settings


def test_an_unknown_backend_is_one_line_naming_the_choices():
    with pytest.raises(ConfigError, match=r"^unknown embedding.backend 'word2vec': choose one of "
                                          r"sentence-transformers$"):
        make_embedder(unknown(EmbeddingSettings(), "backend", "word2vec"))
    settings = Settings()
    unknown(settings.search, "rerank", "colbert")
    with pytest.raises(ConfigError, match=r"^unknown search.rerank 'colbert': choose one of none, mmr, "
                                          r"cross-encoder, llm$"):
        make_reranker(settings)
    with pytest.raises(ConfigError, match=r"^unknown llm.provider 'palm': choose one of "):
        make_chat_model(unknown(LLMSettings(), "provider", "palm"))


def test_config_yaml_refuses_an_unknown_backend_naming_the_key(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("embedding:\n  backend: word2vec\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^bad value for 'embedding.backend' \('word2vec'\): must be one of "
                                          r"'sentence-transformers'$"):
        load_settings(config, environ={})
