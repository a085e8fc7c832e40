"""The embedder behind one small interface, chosen by `embedding.backend` through one factory.

    embedder = make_embedder(settings)          # cheap: the model loads when something is to be embedded
    embedder.identity()                         # what the index's manifest records
    vectors = embedder.embed_passages(["..."])  # float32, L2-normalised, one row per text

A backend is a builder in EMBEDDERS, keyed by the `embedding.backend` value that chooses it; each imports its
own module when asked for. The one that ships is `sentence-transformers` (ragqa.models.embedder, loaded
lazily by ragqa.models.lazy_embedder).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ragqa.config import EmbeddingSettings, Settings
from ragqa.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """What ingest, search, the answer's focus step and the API ask of an embedding model."""

    @property
    def name(self) -> str: ...  # embedding.model, as configured

    def identity(self) -> dict: ...  # {"model", "dim", "query_prefix", "passage_prefix", "max_tokens"}

    def load(self) -> None: ...  # load the model now (a face warming up); nothing once it is loaded

    def fits(self, passage: str) -> bool: ...  # within the model's own token limit

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def similarities(self, query: str, texts: list[str]) -> list[float]: ...  # cosine of the query to each text


def _sentence_transformers(settings: EmbeddingSettings) -> Embedder:
    from ragqa.models.lazy_embedder import LazyEmbedder  # torch only when a text is embedded

    return LazyEmbedder(settings)


EMBEDDERS: dict[str, Callable[[EmbeddingSettings], Embedder]] = {
    "sentence-transformers": _sentence_transformers,
}


def make_embedder(settings: Settings | EmbeddingSettings) -> Embedder:
    """The embedder `embedding.backend` names, for these settings (the whole Settings or their embedding
    section). Nothing is loaded yet: a run that needs only the model's identity may never load it."""
    embedding = settings.embedding if isinstance(settings, Settings) else settings
    build = EMBEDDERS.get(embedding.backend)
    if build is None:
        raise ConfigError(f"unknown embedding.backend {embedding.backend!r}: choose one of {', '.join(EMBEDDERS)}")
    return build(embedding)
