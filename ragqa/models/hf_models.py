"""`llm.local_model: hf:OWNER/REPO/FILE.gguf`: a GGUF from the Hugging Face hub, fetched once into its cache.

The file is looked up in the Hugging Face cache first (no network at all once it is there); only a missing
one is fetched, with `huggingface_hub`, into that same cache, where `hf download` and every other tool
find it too. Offline (HF_HUB_OFFLINE=1) a missing file is one line saying how to get it. The cache is
the one huggingface_hub uses: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub, read when
asked (not when the module is imported), so a script or test can point it elsewhere. A GGUF split into parts
(`…-00001-of-00002.gguf`, as the Qwen team publishes its larger ones) is named by its first part; every part
is fetched, into one folder, where llama.cpp finds the rest.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ragqa.errors import LLMError

PREFIX = "hf:"
_REFERENCE = re.compile(r"hf:([\w.-]+/[\w.-]+)/(.+\.gguf)", re.IGNORECASE)
_PART = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
EXAMPLE = "hf:bartowski/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct-Q4_K_M.gguf"


def parse_reference(reference: str) -> tuple[str, str]:
    """(repo id, file in the repo) of an `hf:` model.

    >>> parse_reference("hf:bartowski/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct-Q4_K_M.gguf")
    ('bartowski/Qwen2.5-7B-Instruct-GGUF', 'Qwen2.5-7B-Instruct-Q4_K_M.gguf')
    """
    found = _REFERENCE.fullmatch(reference.strip())
    if not found or ".." in found[2].split("/"):
        raise LLMError(f"llm.local_model '{reference}' is not a Hugging Face GGUF: write it as "
                       f"hf:OWNER/REPO/FILE.gguf, e.g. {EXAMPLE}")
    return found[1], found[2]


def parts_of(filename: str) -> list[str]:
    """The files a GGUF is: itself, or every part of a split one named by its first.

    >>> parts_of("q-00001-of-00002.gguf"), parts_of("q.gguf")
    (['q-00001-of-00002.gguf', 'q-00002-of-00002.gguf'], ['q.gguf'])
    """
    found = _PART.search(filename)
    if not found or found[1] != "00001":
        return [filename]
    head, count = filename[:found.start()], int(found[2])
    return [f"{head}-{i:05d}-of-{count:05d}.gguf" for i in range(1, count + 1)]


def hub_cache() -> Path:
    """The Hugging Face cache folder, as huggingface_hub would choose it now."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.path.expanduser(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HF_HOME"):
        return Path(os.path.expanduser(os.environ["HF_HOME"])) / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def offline() -> bool:
    from huggingface_hub import constants

    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on") or bool(
        constants.HF_HUB_OFFLINE)


def _cached(repo: str, filename: str) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo, filename, cache_dir=hub_cache())
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


def cached_file(reference: str) -> Path | None:
    """The file (a split one's first part) if the Hugging Face cache holds all of it; never touches the network."""
    repo, filename = parse_reference(reference)
    found = [_cached(repo, part) for part in parts_of(filename)]
    return found[0] if all(found) else None


def how_to_get(reference: str) -> str:
    repo, filename = parse_reference(reference)
    return f"`hf download {repo} {' '.join(parts_of(filename))}`"


def missing(reference: str) -> str:
    """The one line for an hf: model that is not in the cache."""
    if offline():
        return (f"{reference} is not in the Hugging Face cache ({hub_cache()}) and HF_HUB_OFFLINE=1 keeps ragqa "
                f"from fetching it: run {how_to_get(reference)} where the hub is reachable (HF_HUB_OFFLINE unset), "
                "or copy the file and give its path as llm.local_model")
    return (f"{reference} is not in the Hugging Face cache yet: the first answer fetches it, or run "
            f"{how_to_get(reference)}")


def hf_model_file(reference: str) -> Path:
    """The GGUF of an `hf:` reference: from the cache, else fetched into it (once); LLMError in one line."""
    found = cached_file(reference)
    if found is not None:
        return found
    repo, filename = parse_reference(reference)
    if offline():
        raise LLMError(missing(reference))
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import RemoteEntryNotFoundError, RepositoryNotFoundError

    try:
        paths = [_cached(repo, part) or Path(hf_hub_download(repo, part, cache_dir=hub_cache()))
                 for part in parts_of(filename)]
        return paths[0]
    except RepositoryNotFoundError:
        raise LLMError(f"the Hugging Face hub has no repo {repo} that you can read (a private or gated one needs "
                       "`hf auth login`): check llm.local_model") from None
    except RemoteEntryNotFoundError:
        raise LLMError(f"the Hugging Face repo {repo} has no file {filename}: check llm.local_model") from None
    except Exception as err:  # noqa: BLE001 - network, disk, HTTP: huggingface_hub raises many kinds
        raise LLMError(f"could not fetch {reference} from the Hugging Face hub ({type(err).__name__}): check the "
                       f"connection and run again, or fetch it with {how_to_get(reference)}") from None


def cached_ggufs() -> list[tuple[str, Path, int]]:
    """(hf: reference, file, bytes) of every GGUF in the Hugging Face cache, for `ragqa models list`."""
    from huggingface_hub import scan_cache_dir

    cache = hub_cache()
    if not cache.is_dir():
        return []
    try:
        info = scan_cache_dir(cache)
    except Exception:  # noqa: BLE001 - a cache another tool left half-written: list nothing rather than fail
        return []
    found: dict[str, tuple[Path, int]] = {}
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        for revision in repo.revisions:
            for file in revision.files:
                if file.file_name.lower().endswith(".gguf"):
                    name = file.file_path.relative_to(revision.snapshot_path).as_posix()
                    found.setdefault(f"{PREFIX}{repo.repo_id}/{name}", (file.file_path, file.size_on_disk))
    return sorted((ref, path, size) for ref, (path, size) in found.items())
