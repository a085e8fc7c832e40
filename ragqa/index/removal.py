"""Deleting a whole index folder (`ragqa collections --remove`), never while an ingest writes to it."""
from __future__ import annotations

import shutil
from pathlib import Path

from ragqa.errors import ConfigError
from ragqa.index.lock import write_lock
from ragqa.index.schema import is_index


def delete_index(folder: Path) -> None:
    """Delete the index in `folder`, and the folder. Refuses a folder that holds no index (so a wrong path
    cannot delete notes) and waits for no one: a running ingest makes it fail with IndexBusyError."""
    folder = Path(folder)
    if not is_index(folder):
        raise ConfigError(f"{folder} holds no ragqa index: nothing was deleted")
    with write_lock(folder):
        shutil.rmtree(folder)
