"""One writer at a time per all-Milvus store, across hosts: a lease in the store's manifest.

The write lock (ragqa.index.lock) is a file in the index folder, so it only keeps the ingests of one host apart.
Before it writes, an all-Milvus writer also takes the manifest's `writer` row: {host, pid, token, until}. A row
of another live writer, not yet expired, means another ingest is writing: IndexBusyError, naming it. A row left
by a writer that died is taken over: at once when it was on this host (its pid is gone), else when it expires.
Milvus has no compare-and-set, so a writer takes the row, waits a moment, and reads it back: of two writers
that took it together, the one whose token is there goes on and the other stops.
"""
from __future__ import annotations

import os
import secrets
import socket
import time

from ragqa.errors import IndexBusyError

KEY = "writer"
SECONDS = 600.0  # renewed at every batch; a writer that died on another host holds the store this long at most
SETTLE = 0.3  # seconds between taking the row and reading it back


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lease:
    def __init__(self, index):
        self.index = index
        self.row = {"host": socket.gethostname(), "pid": os.getpid(), "token": secrets.token_hex(8)}

    def _holder(self) -> dict | None:
        return self.index.manifest([KEY]).get(KEY)

    def _free(self, holder: dict | None) -> bool:
        if not holder or holder.get("token") == self.row["token"] or holder.get("until", 0) < time.time():
            return True
        pid = int(holder.get("pid", 0))  # on this host: a writer of this process that did not close, or a dead one
        return holder.get("host") == self.row["host"] and (pid == self.row["pid"] or not _alive(pid))

    def take(self) -> None:
        """Hold the store, or IndexBusyError naming the writer that does."""
        holder = self._holder()
        if self._free(holder):
            self.renew()
            time.sleep(SETTLE)
            holder = self._holder()
            if holder and holder.get("token") == self.row["token"]:
                return
        holder = holder or {}
        raise IndexBusyError(
            f"another ingest (on {holder.get('host')}, pid {holder.get('pid')}) is writing to this Milvus store; "
            f"wait for it to finish, then retry") from None

    def renew(self) -> None:
        self.index.set_manifest({KEY: {**self.row, "until": time.time() + SECONDS}})

    def release(self) -> None:
        if (self._holder() or {}).get("token") == self.row["token"]:
            self.index.client.delete(self.index.names["manifest"], ids=[KEY])
