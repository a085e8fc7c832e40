"""Typed settings read from config.yaml.

Order of precedence, lowest first: the defaults below, the config file (--config, RAGQA_CONFIG, ./config.yaml,
else the user config folder's config.yaml: config_file), then environment variables named after a setting, read by
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
from typing import get_args, get_origin

import yaml
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import EnvSettingsSource
from pydantic_settings.exceptions import SettingsError

from ragqa.config_sections import (
    AnswerSettings,
    APISettings,
    ChunkSettings,
    EmbeddingSettings,
    HistorySettings,
    IngestSettings,
    LLMSettings,
    MCPSettings,
    OcrSettings,
    PdfSettings,
    SearchSettings,
    StoreSettings,
    TopicSettings,
    UISettings,
    _Section,
)
from ragqa.errors import ConfigError
from ragqa.filetypes import DEFAULT_INCLUDE
from ragqa.places import CONFIG_NAME, index_for, user_config_file
from ragqa.store_locations import locate

DEFAULT_CONFIG_FILE = CONFIG_NAME
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


COLLECTION_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


class CollectionSettings(_Section):
    """One notes folder with its own index (ragqa.collections). Unset keys take the top level's."""

    notes_dir: str
    include: list[str] | None = None
    exclude: list[str] | None = None
    index_dir: str | None = None  # default: <index_dir>/<name>
    embedding_model: str | None = None  # default: embedding.model


class Settings(_Section):
    notes_dir: str = "~/notes"
    index_dir: str | None = None  # None: one index per notes folder in the user data folder (ragqa.places)
    include: list[str] = Field(default_factory=lambda: list(DEFAULT_INCLUDE))
    exclude: list[str] = Field(default_factory=list)
    max_file_mb: float = Field(50.0, gt=0)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkSettings = Field(default_factory=ChunkSettings)
    pdf: PdfSettings = Field(default_factory=PdfSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ui: UISettings = Field(default_factory=UISettings)
    api: APISettings = Field(default_factory=APISettings)
    mcp: MCPSettings = Field(default_factory=MCPSettings)
    history: HistorySettings = Field(default_factory=HistorySettings)
    collections: dict[str, CollectionSettings] = Field(default_factory=dict)
    _collection: str = PrivateAttr("default")  # which collection these settings are (ragqa.collections)

    @field_validator("collections")
    @classmethod
    def _slug_names(cls, value: dict):
        for name in value:
            if not COLLECTION_NAME.fullmatch(name) or name == "all":
                raise ValueError(f"collection name {name!r} is not a short slug: use 1-40 of a-z, 0-9, '-' and "
                                 "'_', starting with a letter or digit (and not 'all', which means every one)")
        return value

    # Paths relative to the config file's folder, so `ragqa` works from anywhere.
    base_dir: str = Field(".", exclude=True)

    def resolve(self, path: str) -> Path:
        p = Path(os.path.expanduser(path))
        return p if p.is_absolute() else (Path(self.base_dir) / p).resolve()

    @property
    def collection_name(self) -> str:
        return self._collection

    def as_collection(self, name: str, **update) -> Settings:
        """A copy that is the collection `name`, with `update` applied (ragqa.collections makes these)."""
        copy = self.model_copy(update=update)
        copy._collection = name
        return copy

    @property
    def notes_path(self) -> Path:
        return self.resolve(self.notes_dir)

    @property
    def index_path(self) -> Path:
        path = index_for(self.notes_path) if self.index_dir is None else self.resolve(self.index_dir)
        locate(path, self.store, self._collection)  # which store holds this index (ragqa.store_locations)
        return path


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


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping (two collections of one name) is an
    error instead of the last one silently winning."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"{key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _SettingVariables(EnvSettingsSource):
    """pydantic-settings' reading of RAGQA_* variables, over a given mapping instead of always os.environ
    (so a caller, or a test, says what the environment holds). Lists and mappings are JSON; `null` is None."""

    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ
        # the ignore: typed for BaseSettings, but it reads only model_fields and model_config (any model will do)
        super().__init__(Settings, case_sensitive=False, env_prefix="RAGQA_",  # type: ignore[arg-type]
                         env_nested_delimiter="__", env_parse_none_str="null")

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
        # entries: a mapping's value type (collections: name -> settings)
        model: type[BaseModel] = Settings
        entries: type[BaseModel] | None = None
        for part in first["loc"][:-1]:
            if entries is not None:
                model, entries = entries, None
                continue
            field = model.model_fields.get(str(part))
            annotation = field.annotation if field else None
            if get_origin(annotation) is dict:
                entries = get_args(annotation)[1]
            elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
        allowed = ", ".join(k for k in model.model_fields if k != "base_dir")
        return f"unknown key '{key}' in config{source}; allowed here: {allowed}"
    if first["type"] == "missing":
        return f"'{key}' must be set{source}"
    if first["type"] == "value_error":  # a check across keys: its message names them
        return str(first["ctx"]["error"])
    msg = first["msg"]
    if first["type"] == "literal_error":
        msg = f"must be one of {first['ctx']['expected']}"
    return f"bad value for '{key}' ({first.get('input')!r}){source}: {msg}"


def config_file(path: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The settings file to read: `path` (--config), $RAGQA_CONFIG, ./config.yaml, else the user config folder's
    config.yaml (ragqa.places) if there is one. None: no file, every setting at its default."""
    environ = os.environ if environ is None else environ
    chosen = path or environ.get("RAGQA_CONFIG")
    if chosen:
        return Path(chosen).expanduser()
    for candidate in (Path(DEFAULT_CONFIG_FILE), user_config_file()):
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings; raise ConfigError with one line naming the bad key."""
    environ = dict(os.environ if environ is None else environ)
    file = config_file(path, environ)
    data: dict = {}
    if file is not None:
        if not file.is_file():
            raise ConfigError(f"config file not found: {file}")
        try:
            data = yaml.load(file.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}  # noqa: S506 - safe
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
