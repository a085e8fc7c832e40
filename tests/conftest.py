"""Shared fixtures: real bundled models, real FAISS, real files in temp folders."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# The hub is unreachable here; without this a hub name hangs ~74 s before failing.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ragqa.config import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    return Path(os.environ.get("RAGQA_SHARED_DATA", REPO.parent / "shared" / "data"))


def need_shared(name: str) -> Path:
    path = shared_data() / name
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data is only beside the repo in CI and dev)")
    return path


def make_settings(tmp: Path, notes: Path | None = None, **sections) -> Settings:
    """Settings for a test: MiniLM (fast, bundled), an index in tmp, no LLM unless asked."""
    data = {
        "notes_dir": str(notes or tmp / "notes"),
        "index_dir": str(tmp / "index"),
        "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(tmp / "cache")},
        "llm": {"provider": "none"},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return Settings.model_validate(data)


@pytest.fixture(scope="session")
def minilm():
    from ragqa.config import EmbeddingSettings
    from ragqa.models.embedder import load_embedder

    return load_embedder(EmbeddingSettings(model="all-MiniLM-L6-v2"))


@pytest.fixture(scope="session")
def vault_index(tmp_path_factory, minilm):
    """A copy of the real 1,186-note vault, ingested once with MiniLM for every test that needs it
    (about two minutes). (settings, the first ingest's report). Tests may edit the copy."""
    import shutil

    from ingest.pipeline import ingest_folder

    source = need_shared("notes-lesleylai-digital-garden")
    tmp = tmp_path_factory.mktemp("vault")
    shutil.copytree(source, tmp / "notes")
    settings = make_settings(tmp, tmp / "notes")
    return settings, ingest_folder(settings, minilm)


@pytest.fixture
def notes(tmp_path) -> Path:
    """A small real notes folder."""
    folder = tmp_path / "notes"
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
