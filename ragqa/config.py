"""Typed settings read from config.yaml.

Order of precedence, lowest first: the defaults below, config.yaml (or the file
named by --config / RAGQA_CONFIG), then RAGQA_* environment variables
(`RAGQA_SEARCH__TOP_K=8` sets search.top_k; `RAGQA_NOTES_DIR=~/notes` sets notes_dir).
Values may use `${ENV_VAR:default}`. Secrets never live here: llm.api_key_env names
the variable that holds the key.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ragqa.errors import ConfigError

DEFAULT_CONFIG_FILE = "config.yaml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EmbeddingSettings(_Section):
    model: str = "intfloat/multilingual-e5-small"  # hub id or local folder
    # bfloat16 inference: "auto" turns it on only where the CPU computes bf16 natively (AVX-512 BF16 or
    # AMX): 2.7-2.9x faster there, same SciFact nDCG@10; emulated on AVX2-only CPUs it is ~5x slower.
    bf16: bool | Literal["auto"] = "auto"
    batch_size: int = Field(32, ge=1, le=4096)
    query_prefix: str | None = None  # None: take the model's own prompts
    passage_prefix: str | None = None
    cache_dir: str = "~/.cache/ragqa"  # where the bundled E5 is materialised


class ChunkSettings(_Section):
    chunk_tokens: int = Field(256, ge=16, le=8192)
    overlap_tokens: int = Field(32, ge=0, le=4096)


class PdfSettings(_Section):
    passwords: dict[str, str] = Field(default_factory=dict)  # path or glob -> password
    timeout_seconds: float = Field(60.0, gt=0)


class SearchSettings(_Section):
    top_k: int = Field(5, ge=1, le=200)
    mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    # hybrid: how the dense and BM25 lists are combined. Chosen on SciFact and squad-dev (docs/QUALITY.md):
    # reciprocal rank fusion with a small k, each list 300 deep (cheap: only the final k are fetched).
    fusion: Literal["rrf", "scores"] = "rrf"  # scores: weighted sum of min-max scaled scores
    rrf_k: int = Field(5, ge=1)
    candidates: int = Field(300, ge=1, le=2000)
    dense_weight: float = Field(1.0, ge=0)  # hybrid: each list's weight in the fusion
    bm25_weight: float = Field(1.0, ge=0)
    rerank: Literal["none", "mmr", "cross-encoder", "llm"] = "none"
    rerank_model: str = "cross-encoder/ms-marco-MiniLM-L-6-v2"  # hub id (already cached) or local folder
    rerank_depth: int = Field(20, ge=1, le=200)  # how many of the best passages are reranked
    mmr_lambda: float = Field(0.7, ge=0, le=1)  # 1 = relevance only, 0 = diversity only


class StoreSettings(_Section):
    backend: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str = "milvus.db"  # a file (Milvus Lite, relative to index_dir) or http://HOST:19530
    milvus_collection: str = "ragqa_chunks"
    milvus_token_env: str | None = None  # NAME of the env var holding a Milvus token, if the server needs one


LOCAL_PASSAGE_TOKENS = 240


class LLMSettings(_Section):
    provider: Literal["local", "openai", "none"] = "local"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None  # the NAME of the env var holding the key
    local_model: str = "qwen2.5-coder-1.5b"
    temperature: float = Field(0.0, ge=0, le=2)  # greedy: measured no worse for answers from passages
    max_answer_tokens: int = Field(384, ge=16)
    context_window: int = Field(4096, ge=256)
    timeout_seconds: float = Field(120.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    # How a follow-up ("and its price?") becomes a search query: "llm" asks the model to rewrite it,
    # "words" joins it to the previous question (instant); "auto": words for the local model (a rewrite
    # costs it seconds of reading before the answer can start), llm for an endpoint. true/false: llm/words.
    rewrite_followups: Literal["auto", "llm", "words"] = "auto"

    @field_validator("rewrite_followups", mode="before")
    @classmethod
    def _rewrite_from_bool(cls, value):
        return {True: "llm", False: "words"}.get(value, value) if isinstance(value, bool) else value

    def rewrites_with_llm(self) -> bool:
        if self.rewrite_followups == "auto":
            return self.provider == "openai"
        return self.rewrite_followups == "llm"
    # How many tokens of the retrieved passages the model reads: their sentences that best match the
    # question, with neighbours. "auto": 240 for the local model (reading is most of its wait; chosen by
    # measurement, docs/ANSWERS.md), whole passages for an endpoint; null: whole passages.
    passage_tokens: Annotated[int, Field(ge=16)] | Literal["auto"] | None = "auto"

    def focus_budget(self) -> int | None:
        """The passage_tokens setting made concrete: a token budget, or None for whole passages."""
        if self.passage_tokens == "auto":
            return LOCAL_PASSAGE_TOKENS if self.provider == "local" else None
        return self.passage_tokens


class TopicSettings(_Section):
    k: int | None = Field(None, ge=1, le=500)  # how many topics; null: chosen by silhouette


class UISettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8501, ge=1, le=65535)
    max_upload_mb: int = Field(20, ge=1)
    password_env: str | None = None


class Settings(_Section):
    notes_dir: str = "docs"
    index_dir: str = ".ragqa-index"
    include: list[str] = Field(default_factory=lambda: ["**/*.md", "**/*.markdown", "**/*.txt", "**/*.pdf"])
    exclude: list[str] = Field(default_factory=list)
    max_file_mb: float = Field(50.0, gt=0)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkSettings = Field(default_factory=ChunkSettings)
    pdf: PdfSettings = Field(default_factory=PdfSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    ui: UISettings = Field(default_factory=UISettings)

    # Paths relative to the config file's folder, so `ragqa` works from anywhere.
    base_dir: str = Field(".", exclude=True)

    def resolve(self, path: str) -> Path:
        p = Path(os.path.expanduser(path))
        return p if p.is_absolute() else (Path(self.base_dir) / p).resolve()

    @property
    def notes_path(self) -> Path:
        return self.resolve(self.notes_dir)

    @property
    def index_path(self) -> Path:
        return self.resolve(self.index_dir)


def expand_env(value):
    """Expand `${VAR:default}` in every string of a parsed YAML tree.

    >>> expand_env({"a": "${NOPE_X:7}"})
    {'a': '7'}
    """
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, list):
        return [expand_env(v) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v) for k, v in value.items()}
    return value


def env_overrides(environ: dict[str, str]) -> dict:
    """RAGQA_SEARCH__TOP_K=8 -> {"search": {"top_k": "8"}}. RAGQA_CONFIG is not a setting."""
    tree: dict = {}
    for name, raw in environ.items():
        if not name.startswith("RAGQA_") or name == "RAGQA_CONFIG":
            continue
        keys = name[len("RAGQA_"):].lower().split("__")
        node = tree
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = yaml.safe_load(raw) if raw else raw
    return tree


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        model = Settings
        for part in first["loc"][:-1]:
            field = model.model_fields.get(str(part))
            model = field.annotation if field and isinstance(field.annotation, type) else model
        allowed = ", ".join(k for k in model.model_fields if k != "base_dir")
        return f"unknown key '{key}' in config; allowed here: {allowed}"
    msg = first["msg"]
    if first["type"] == "literal_error":
        msg = f"must be one of {first['ctx']['expected']}"
    return f"bad value for '{key}' ({first.get('input')!r}): {msg}"


def load_settings(path: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings; raise ConfigError with one line naming the bad key."""
    environ = dict(os.environ if environ is None else environ)
    chosen = path or environ.get("RAGQA_CONFIG")
    data: dict = {}
    if chosen or Path(DEFAULT_CONFIG_FILE).exists():
        file = Path(chosen or DEFAULT_CONFIG_FILE).expanduser()
        if not file.is_file():
            raise ConfigError(f"config file not found: {file}")
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{file} is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{file} must hold a mapping of settings, not {type(data).__name__}")
        data["base_dir"] = str(file.resolve().parent)
    data = _merge(expand_env(data), env_overrides(environ))
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_one_line(err)) from None
