"""Where each file of the notes folder stands with the index: indexed, pending or skipped (and why).

    file_statuses(settings)  # [{"path": "a.md", "type": "markdown", "status": "pending",
                             #   "reason": "changed since it was indexed"}, ...]

"pending" means the next ingest (or `ragqa watch`) will change the index for it:
new on disk, changed since it was indexed (size or modification time differ), or
deleted from disk but still in the index. Cheap: one scan (stat calls, no reading)
and one query; nothing is hashed.
"""
from __future__ import annotations

from pathlib import Path

from ragqa.filetypes import kind_of
from ragqa.index.queries import file_records
from ragqa.index.store import FileRecord
from ragqa.ingest.scan import FoundFile, scan_folder, unlisted_prefixes

NEW = "not indexed yet"
CHANGED = "changed since it was indexed"
DELETED = "deleted from the folder; leaves the index at the next ingest"


def classify(found: list[FoundFile], scan_skipped: list[tuple[str, str]],
             known: dict[str, FileRecord], root: Path | None = None) -> list[dict]:
    """The scan's view against the index's records, one {"path", "status", "reason"} per file, by path.
    `root`: the notes folder; a known note under a sub-folder that could not be listed stays indexed
    (ingest keeps it too)."""
    out = []
    for item in found:
        old = known.get(item.rel)
        if old is None:
            out.append(_row(item.rel, "pending", NEW))
        elif (old.size, old.mtime_ns) != (item.size, item.mtime_ns):
            out.append(_row(item.rel, "pending", CHANGED))
        elif old.status == "skipped":
            out.append(_row(item.rel, "skipped", old.reason or "skipped"))
        else:
            out.append(_row(item.rel, "indexed", None))
    out += [_row(rel, "skipped", reason) for rel, reason in scan_skipped]
    on_disk = {r["path"] for r in out}
    unlisted = unlisted_prefixes(root, scan_skipped) if root else ()
    out += [_row(path, "indexed", None) if unlisted and path.startswith(unlisted) else _row(path, "pending", DELETED)
            for path in known if path not in on_disk]
    return sorted(out, key=lambda r: r["path"])


def _row(path: str, status: str, reason: str | None) -> dict:
    return {"path": path, "type": kind_of(path) or "", "status": status, "reason": reason}


def file_statuses(settings, notes_dir: Path | None = None, index_dir: Path | None = None) -> list[dict]:
    """Every file of the notes folder (and every indexed file no longer there) with its status."""
    notes = Path(notes_dir or settings.notes_path).expanduser().resolve()
    index = Path(index_dir or settings.index_path).expanduser().resolve()
    found, skipped = scan_folder(notes, settings.include, settings.exclude, int(settings.max_file_mb * 1024 * 1024))
    return classify(found, skipped, file_records(index), notes)  # no vector backend opened


def status_counts(rows: list[dict]) -> dict[str, int]:
    """{"indexed": n, "pending": n, "skipped": n} for a status badge.

    >>> status_counts([{"status": "indexed"}, {"status": "pending"}, {"status": "indexed"}])
    {'indexed': 2, 'pending': 1, 'skipped': 0}
    """
    counts = {"indexed": 0, "pending": 0, "skipped": 0}
    for row in rows:
        counts[row["status"]] += 1
    return counts
