"""One writer at a time per index folder, across processes (CLI, app, watch, the API).

A plain `fcntl.flock` rather than the `filelock` library: the lock must tell the waiting ingest that
another one holds it (`on_wait`, "waiting for the running ingest…"), wait a bounded time, turn a folder
that cannot be written into a ConfigError naming it, and vanish with a killed process; flock does all of
that in these few lines, and filelock's extra (Windows locks, soft locks) is not needed on the platforms
ragqa runs on.
"""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from ragqa.errors import ConfigError, IndexBusyError

LOCK_NAME = "write.lock"


def _open_lock_file(folder: Path):
    """The lock file, opened for writing; a ConfigError naming the folder if it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return open(folder / LOCK_NAME, "a+")
    except OSError as err:
        reason = err.strerror or type(err).__name__
        if isinstance(err, FileExistsError):
            reason = "it is a file, not a folder"
        raise ConfigError(f"cannot write the index folder {folder} ({reason}): set index_dir in config.yaml "
                          "(or pass --index) to a folder you can write") from None


@contextmanager
def write_lock(folder: Path, wait_seconds: float = 0.0, on_wait=None):
    """Hold the index's write lock; wait up to `wait_seconds` for another ingest to finish.

    The OS releases a flock when its process dies, so a killed ingest never leaves
    a stale lock behind.
    """
    handle = _open_lock_file(Path(folder))
    deadline = time.monotonic() + wait_seconds
    told = False
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                if time.monotonic() >= deadline:
                    raise IndexBusyError(
                        f"another ingest ({holder}) is writing to {folder}; wait for it to finish, then retry"
                    ) from None
                if on_wait and not told:
                    on_wait(holder)
                    told = True
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()
