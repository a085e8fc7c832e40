"""A small deterministic embedder for the tests where the model is not the point: each word is hashed (with a
fixed seed) to one of 256 signed buckets, as simonw/llm's tests embed with a toy model. Texts that share words
get close vectors, so search, filters, fusion and the CLI's JSON behave as with a real model, in microseconds,
with no torch. `embedding.model: hash-embedder` picks it once `register()` ran (tests/conftest.py does, and
forked CLI children inherit it). Real-model behaviour (semantic neighbours, token limits, E5 prompts) stays
with the session's real MiniLM and E5 (the `minilm` and `e5` fixtures).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

NAME = "hash-embedder"
DIM = 256
MAX_TOKENS = 256
SEED = b"ragqa-tests-1"
WORD = re.compile(r"\w+")


def _bucket(word: str) -> tuple[int, float]:
    digest = int.from_bytes(hashlib.blake2b(SEED + word.encode(), digest_size=8).digest(), "little")
    return digest % DIM, 1.0 if (digest >> 32) & 1 else -1.0


def hash_vector(text: str) -> np.ndarray:
    """The unit vector of `text`'s lower-cased words (one fixed vector for a text without any)."""
    vector = np.zeros(DIM, dtype=np.float32)
    for word in WORD.findall(text.lower()):
        index, sign = _bucket(word)
        vector[index] += sign
    norm = float(np.linalg.norm(vector))
    if norm == 0:
        vector[0], norm = 1.0, 1.0
    return vector / norm


class HashEmbedder:
    """The interface of ragqa.models.embedder.SentenceTransformerEmbedder, without a model."""

    def __init__(self, settings):
        self.settings = settings
        self.folder, self.source = Path(__file__), "tests/helpers/hash_embedder.py"
        self.query_prefix = settings.query_prefix or ""
        self.passage_prefix = settings.passage_prefix or ""
        self.max_tokens, self.dim = MAX_TOKENS, DIM

    @property
    def name(self) -> str:
        return self.settings.model

    def identity(self) -> dict:
        return {"model": self.settings.model, "dim": self.dim, "query_prefix": self.query_prefix,
                "passage_prefix": self.passage_prefix, "max_tokens": self.max_tokens}

    def model_token_count(self, passage: str) -> int:
        return len(WORD.findall(self.passage_prefix + passage)) + 2  # + the two special tokens a real model adds

    def fits(self, passage: str) -> bool:
        return self.model_token_count(passage) <= self.max_tokens

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.array([hash_vector(self.passage_prefix + t) for t in texts], dtype=np.float32).reshape(-1, DIM)

    def embed_query(self, text: str) -> np.ndarray:
        return hash_vector(self.query_prefix + text)

    def similarities(self, query: str, texts: list[str]) -> list[float]:
        return [float(x) for x in self.embed_passages(texts) @ self.embed_query(query)] if texts else []


def register() -> None:
    """Make `embedding.model: hash-embedder` load this embedder in this process (and its forked children)."""
    from ragqa.models.embedder import NAMED_MODELS

    NAMED_MODELS[NAME] = HashEmbedder
