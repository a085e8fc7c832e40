"""Settings and config.yaml files for tests."""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from ragqa.config import Settings

MINILM = "all-MiniLM-L6-v2"  # the small real model (bundled; the session loads it once: the `minilm` fixture)
HASH = "hash-embedder"  # the seeded-hash fake (helpers/hash_embedder.py): where the model is not the point


def make_settings(tmp: Path, notes: Path | None = None, model: str = MINILM, **sections) -> Settings:
    """Settings for a test: MiniLM (or `model`, e.g. HASH), an index in tmp, no LLM unless asked."""
    data = {
        "notes_dir": str(notes or tmp / "notes"),
        "index_dir": str(tmp / "index"),
        "embedding": {"model": model, "cache_dir": str(tmp / "cache")},
        "llm": {"provider": "none"},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return Settings.model_validate(data)


def write_config(folder: Path, config: dict) -> Path:
    """`config` as folder/config.yaml."""
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def copy_index(settings, tmp: Path, notes: bool = False):
    """A private copy of a session index (and of its notes folder, if `notes`), for a test that writes to it:
    the settings pointing at the copies."""
    shutil.copytree(settings.index_path, tmp / "index")
    update = {"index_dir": str(tmp / "index")}
    if notes:
        shutil.copytree(settings.notes_path, tmp / "notes")
        update["notes_dir"] = str(tmp / "notes")
    return settings.model_copy(update=update)


def write_notes(folder: Path) -> Path:
    """Three small real notes in `folder` (made): garden/tomatoes.md (front matter, tags, a Pests section),
    rust.md and bread.txt. The `notes` fixture's folder; for a module's or session's own copy."""
    (folder / "garden").mkdir(parents=True)
    (folder / "garden" / "tomatoes.md").write_text(
        "---\ntitle: Growing tomatoes\ntags: [garden, food]\n---\n# Growing tomatoes\n\n"
        "Tomatoes need six hours of direct sun and deep watering twice a week.\n\n"
        "## Pests\n\nAphids and hornworms attack tomato plants; pick hornworms off by hand.\n",
        encoding="utf-8",
    )
    (folder / "rust.md").write_text(
        "# Rust ownership\n\nEach value in Rust has a single owner. When the owner goes out of scope, "
        "the value is dropped. Borrowing lets code use a value without taking ownership.\n",
        encoding="utf-8",
    )
    (folder / "bread.txt").write_text(
        "Sourdough bread rises with a wild yeast starter fed with flour and water.\n", encoding="utf-8"
    )
    return folder
