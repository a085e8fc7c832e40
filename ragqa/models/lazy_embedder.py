"""An embedder that loads its model only when something is to be embedded.

Loading the model imports torch and reads the weights: 5-15 s, before any work. An ingest that finds
nothing changed, or a BM25-only search, needs only the model's identity (its dimension, prefixes and
token limit: what the index's manifest records). That is remembered after the first load, with the
model folder it came from and that folder's files (names, sizes, times), and trusted while they are
unchanged. So those runs cost about what `ragqa status` costs.

    embedder = LazyEmbedder(settings.embedding)   # cheap (ragqa.models.embedding.make_embedder makes one)
    embedder.identity()                           # cheap once the model was loaded here before
    embedder.embed_passages(["..."])              # loads the model (once per process)
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import cached_property
from pathlib import Path

import numpy as np

from ragqa.atomic import write_atomically
from ragqa.config import EmbeddingSettings
from ragqa.models.embedder import SentenceTransformerEmbedder, load_embedder

IDENTITIES_FILE = "embedder-identities.json"  # in embedding.cache_dir


class LazyEmbedder:
    """A sentence-transformers Embedder (ragqa.models.embedding) whose model is loaded on first use."""

    def __init__(self, settings: EmbeddingSettings):
        self.settings = settings
        self._cache_dir = Path(os.path.expanduser(settings.cache_dir))

    @property
    def name(self) -> str:
        return self.settings.model

    @cached_property
    def loaded(self) -> SentenceTransformerEmbedder:
        embedder = load_embedder(self.settings)
        folder = Path(embedder.folder).resolve()
        remember_identity(self._cache_dir, self._key(), {"folder": str(folder), "files": folder_fingerprint(folder),
                                                        "identity": embedder.identity()})
        return embedder

    @property
    def is_loaded(self) -> bool:
        return "loaded" in self.__dict__

    def load(self) -> None:
        _ = self.loaded  # a cached property: reading it loads the model

    def identity(self) -> dict:
        if not self.is_loaded:
            known = recall_identity(self._cache_dir, self._key())
            if known is not None and self._still_holds(known):
                return known["identity"]
        return self.loaded.identity()

    def _key(self) -> str:
        """The settings that shape the identity (batch size and precision do not)."""
        s = self.settings
        return hashlib.sha256(json.dumps([s.model, s.query_prefix, s.passage_prefix]).encode()).hexdigest()

    def _still_holds(self, known: dict) -> bool:
        """The model would be loaded from the same folder, and its files are as they were."""
        folder, local = known.get("folder"), Path(os.path.expanduser(self.settings.model))
        if not folder or (local.is_dir() and str(local.resolve()) != folder):  # a local folder comes first
            return False
        files = folder_fingerprint(Path(folder))
        return files is not None and files == known.get("files")

    def fits(self, passage: str) -> bool:
        return self.loaded.fits(passage)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.loaded.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.loaded.embed_query(text)

    def similarities(self, query: str, texts: list[str]) -> list[float]:
        return self.loaded.similarities(query, texts)


def folder_fingerprint(folder: Path) -> list[list] | None:
    """[path, size, mtime_ns] of every file under `folder` (none if it is gone): it changes when the model
    on disk does."""
    folder = Path(folder)
    out = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        try:
            info = path.stat()  # follows the Hugging Face cache's symlinks to their blobs
        except OSError:
            continue
        if path.is_file():
            out.append([path.relative_to(folder).as_posix(), info.st_size, info.st_mtime_ns])
    return out or None


def recall_identity(cache_dir: Path, key: str) -> dict | None:
    try:
        return json.loads((Path(cache_dir) / IDENTITIES_FILE).read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):  # none yet, or unreadable: the model is loaded instead
        return None


def remember_identity(cache_dir: Path, key: str, identity: dict) -> None:
    """Add one identity to the file, written whole under a temp name then renamed (a reader never sees half)."""
    path = Path(cache_dir) / IDENTITIES_FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    if known.get(key) == identity:
        return
    known[key] = identity
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(known))
    except OSError:  # a read-only cache only costs the next run a model load
        return
