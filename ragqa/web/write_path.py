"""What the browser needs from the write path (`ingest/`), handed in by the page's entry (ragqa/app).

ragqa never imports ingest: ragqa/app, the face that sees both, fills a `WritePath` with ingest's own
pieces (the process's IngestJobs, report_rows, save_upload, ALLOWED_SUFFIXES, UploadRejected,
file_statuses) and the page calls them through it. The Protocols below say what the page relies on.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class IngestJob(Protocol):
    """One ingest running in the background (ragqa.ingest.background.IngestJob), as the page reads it."""

    folder: Path
    done: int  # files read and committed so far
    total: int  # files that need reading; 0 until the scan is done
    chunks: int
    report: Any  # the finished ingest's report (ragqa.ingest.pipeline.IngestReport)
    error: str | None  # one line, when the ingest failed

    @property
    def running(self) -> bool: ...

    def fraction(self) -> float: ...


class IngestJobs(Protocol):
    """The latest ingest of each index folder, shared by every tab (ragqa.ingest.background.IngestJobs)."""

    def current(self, index_dir: Path) -> IngestJob | None: ...

    def start(self, settings, embedder, folder: Path) -> IngestJob:
        """Raises a RagqaError (with what to do) when the ingest cannot start."""


@dataclass(frozen=True)
class WritePath:
    """ingest's pieces, as app.py hands them to the page."""

    jobs: IngestJobs
    report_rows: Callable[[Any], list[dict]]  # report -> one {"file", "result", "reason"} per changed file
    save_upload: Callable[[Path, str, bytes, int], Path]  # (notes folder, name, data, max bytes) -> saved path
    allowed_suffixes: tuple[str, ...]  # ".md", ".pdf", …: what an upload may be
    upload_rejected: type[Exception]  # raised by save_upload with the one-line reason
    file_statuses: Callable[..., list[dict]]  # (settings, notes_dir, index_dir) -> {"path", "status", "reason"}
