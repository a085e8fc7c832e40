"""What the collections tests share (test_collections, test_collections_faces): config.yaml files naming
collections, and the real CLI run with one."""
from __future__ import annotations

import json
import os
from pathlib import Path

from helpers import cli
from helpers.settings import MINILM, write_config


def small_config(tmp_path: Path, folders: dict[str, str], model: str = MINILM, **extra) -> Path:
    """config.yaml for collections named after `folders` (name: notes folder), MiniLM (or `model`), no LLM,
    indexes in ix/."""
    return write_config(tmp_path, {
        "index_dir": "ix", "llm": {"provider": "none"},
        "embedding": {"model": model, "cache_dir": str(tmp_path / "c")},
        "collections": {name: {"notes_dir": folder} for name, folder in folders.items()}, **extra})


def ragqa(config: Path, *args, ok: bool = True):
    """The real CLI (in this process: helpers.cli) with this config.yaml; JSON when --json was given."""
    out = cli.run([*args], env={**clean_env(), "RAGQA_CONFIG": str(config)}, cwd=config.parent)
    if ok:
        assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if ok and "--json" in args else out


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def clean_env() -> dict:
    """This environment without any RAGQA_ variable (the test's config.yaml alone decides)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RAGQA_")}
