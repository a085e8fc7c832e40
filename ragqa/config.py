"""Typed settings read from config.yaml.

Order of precedence, lowest first: the defaults below, config.yaml (or the file
named by --config / RAGQA_CONFIG), then environment variables named after a setting, read by
pydantic-settings: `RAGQA_<SECTION>__<KEY>` (`RAGQA_SEARCH__TOP_K=8` sets search.top_k) and the
top-level keys (`RAGQA_NOTES_DIR=~/notes` sets notes_dir). Any other RAGQA_* variable (the app's
RAGQA_PASSWORD, config.yaml's own ${RAGQA_NOTES:docs}) is not a setting and is left alone.
Values may use `${ENV_VAR:default}`. Secrets never live here: llm.api_key_env names
the variable that holds the key.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import EnvSettingsSource
from pydantic_settings.exceptions import SettingsError

from ragqa.errors import ConfigError
from ragqa.filetypes import DEFAULT_INCLUDE

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
# The prompt's rules and worked example alone take ~330 tokens (ragqa.answer.prompt); with less room than
# this beside the answer, no passage would fit.
MIN_PROMPT_TOKENS = 512


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
        if isinstance(value, str) and value.lower() in ("true", "false"):  # from an environment variable
            value = value.lower() == "true"
        return {True: "llm", False: "words"}.get(value, value) if isinstance(value, bool) else value

    @model_validator(mode="after")
    def _room_for_the_prompt(self):
        if self.context_window - self.max_answer_tokens < MIN_PROMPT_TOKENS:
            raise ValueError(
                f"llm.context_window ({self.context_window}) leaves no room for the prompt after "
                f"llm.max_answer_tokens ({self.max_answer_tokens}): make context_window at least "
                f"{self.max_answer_tokens + MIN_PROMPT_TOKENS} or lower max_answer_tokens")
        return self

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


class APISettings(_Section):
    # NAME of the env var holding the bearer token `ragqa serve` asks of every request; when that variable
    # is unset or empty, no token is asked, and only a loopback --host is allowed.
    token_env: str | None = "RAGQA_API_TOKEN"
    max_request_kb: int = Field(1024, ge=1)  # larger request bodies get 413
    cors_origins: list[str] = Field(default_factory=list)  # browser origins allowed to call the API; none: no CORS


class Settings(_Section):
    notes_dir: str = "docs"
    index_dir: str = ".ragqa-index"
    include: list[str] = Field(default_factory=lambda: list(DEFAULT_INCLUDE))
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
    api: APISettings = Field(default_factory=APISettings)

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


def expand_env(value, environ: Mapping[str, str] | None = None):
    """Expand `${VAR:default}` in every string of a parsed YAML tree (from os.environ unless given).

    >>> expand_env({"a": "${NOPE_X:7}"})
    {'a': '7'}
    """
    environ = os.environ if environ is None else environ
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: environ.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, list):
        return [expand_env(v, environ) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v, environ) for k, v in value.items()}
    return value


class _SettingVariables(EnvSettingsSource):
    """pydantic-settings' reading of RAGQA_* variables, over a given mapping instead of always os.environ
    (so a caller, or a test, says what the environment holds). Lists and mappings are JSON; `null` is None."""

    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(Settings, case_sensitive=False, env_prefix="RAGQA_", env_nested_delimiter="__",
                         env_parse_none_str="null")

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): None if value == "null" else value for name, value in self._environ.items()}


def env_overrides(environ: Mapping[str, str]) -> dict:
    """The settings that environment variables set: only variables named after a setting count.

    >>> env_overrides({"RAGQA_SEARCH__TOP_K": "8", "RAGQA_NOTES_DIR": "~/n", "RAGQA_PASSWORD": "x"})
    {'notes_dir': '~/n', 'search': {'top_k': '8'}}
    """
    try:
        tree = _SettingVariables(environ)()
    except SettingsError as err:  # a list, mapping or section that is not JSON
        field = re.search(r'field "(\w+)"', str(err))
        name = f"RAGQA_{field.group(1).upper()}" if field else "a RAGQA_* variable"
        raise ConfigError(f"bad value in {name}: a list or mapping is written as JSON there "
                          f"(RAGQA_EXCLUDE='[\"drafts/**\"]'), a section's keys one by one "
                          f"(RAGQA_LLM__MODEL=...)") from None
    tree.pop("base_dir", None)  # where config.yaml is, not a setting
    return tree


def _variable(loc: tuple, env_tree: dict) -> str | None:
    """The environment variable that set the key at `loc`, if one did.

    >>> _variable(("search", "top_k"), {"search": {"top_k": "9"}}), _variable(("search", "mode"), {})
    ('RAGQA_SEARCH__TOP_K', None)
    """
    node = env_tree
    for part in loc:
        if not isinstance(node, dict) or str(part) not in node:
            return None
        node = node[str(part)]
    return "RAGQA_" + "__".join(str(p) for p in loc).upper()


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _one_line(err: ValidationError, env_tree: dict) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    variable = _variable(first["loc"], env_tree)
    source = f" (from {variable})" if variable else ""
    if first["type"] == "extra_forbidden":
        model = Settings
        for part in first["loc"][:-1]:
            field = model.model_fields.get(str(part))
            model = field.annotation if field and isinstance(field.annotation, type) else model
        allowed = ", ".join(k for k in model.model_fields if k != "base_dir")
        return f"unknown key '{key}' in config{source}; allowed here: {allowed}"
    if first["type"] == "value_error":  # a check across keys: its message names them
        return str(first["ctx"]["error"])
    msg = first["msg"]
    if first["type"] == "literal_error":
        msg = f"must be one of {first['ctx']['expected']}"
    return f"bad value for '{key}' ({first.get('input')!r}){source}: {msg}"


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
    env_tree = env_overrides(environ)
    data = _merge(expand_env(data, environ), env_tree)
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_one_line(err, env_tree)) from None
