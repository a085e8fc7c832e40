"""Leases on the local model's server: each ragqa process that uses it holds one, so the server lives
while anyone uses it, and no process stops it under another.

A lease is a file named after the process's pid in a folder beside the server's state file, holding the
process's start time (so a recycled pid is never taken for the process that left the lease). A process
that dies without removing its lease (kill -9) holds nothing: `live_leases` skips and removes it.

The server itself (ragqa.models.llama_server, with --leases) watches the folder and stops once no lease
has been live for `llm.keep_alive` seconds (Ollama's convention); with keep_alive 0 the last process to
leave stops it at once (ragqa.models.local).
"""
from __future__ import annotations

import os
from pathlib import Path


def started_at(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] if fields[0] != "Z" else None  # field 22 of stat; a zombie has ended


def take_lease(folder: Path, pid: int | None = None) -> Path:
    """This process's lease (made if missing)."""
    pid = os.getpid() if pid is None else pid
    folder.mkdir(parents=True, exist_ok=True)
    lease = folder / str(pid)
    lease.write_text(started_at(pid) or "")
    return lease


def drop_lease(folder: Path, pid: int | None = None) -> None:
    (folder / str(os.getpid() if pid is None else pid)).unlink(missing_ok=True)


def live_leases(folder: Path) -> list[int]:
    """The pids holding a lease whose process still runs; leases of ended processes are removed."""
    live = []
    try:
        leases = list(folder.iterdir())
    except OSError:
        return []
    for lease in leases:
        try:
            pid, started = int(lease.name), lease.read_text()
        except (ValueError, OSError):
            continue
        if started and started_at(pid) == started:
            live.append(pid)
        else:
            lease.unlink(missing_ok=True)
    return sorted(live)
