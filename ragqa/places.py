"""Where ragqa keeps things that no config file places: the platform's user folders (platformdirs).

    config file   --config, $RAGQA_CONFIG, ./config.yaml, else user_config_file()
                  (~/.config/ragqa/config.yaml on Linux; `ragqa init` writes one there)
    an index      index_dir when a config file or RAGQA_INDEX_DIR sets it; else one per notes folder,
                  index_for(notes): <user data folder>/indexes/<folder name>-<hash of its path>
                  (~/.local/share/ragqa/indexes/notes-1a2b3c4d5e on Linux), with its saved conversations inside

The folders follow XDG_CONFIG_HOME and XDG_DATA_HOME where the platform has them.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import platformdirs

APP_NAME = "ragqa"
CONFIG_NAME = "config.yaml"
DEFAULT_CONFIG = Path(__file__).with_name("default_config.yaml")  # commented, every key: what `ragqa init` writes


def user_config_file() -> Path:
    return platformdirs.user_config_path(APP_NAME) / CONFIG_NAME


def user_data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME)


def indexes_dir() -> Path:
    return user_data_dir() / "indexes"


def index_name(notes: Path) -> str:
    """The index folder's name for a notes folder (an absolute path): readable, and one per folder.

    >>> index_name(Path("/home/ann/My Notes")), index_name(Path("/work/My Notes"))
    ('my-notes-401031dba8', 'my-notes-9bb03ea173')
    """
    slug = re.sub(r"[^a-z0-9]+", "-", notes.name.lower()).strip("-")[:40] or "notes"
    return f"{slug}-{hashlib.sha256(str(notes).encode()).hexdigest()[:10]}"


def index_for(notes: Path) -> Path:
    """The index of the notes folder `notes` when index_dir is not set."""
    return indexes_dir() / index_name(Path(notes).expanduser().resolve())
