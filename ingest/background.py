"""An ingest that runs in a background thread, so a UI stays responsive while it works.

Readers keep answering during the run: they see the last committed generation
until the job publishes a new one.
"""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ragqa.errors import ConfigError, IndexBusyError, RagqaError

_ids = itertools.count(1)


@dataclass
class IngestJob:
    folder: Path
    id: int = field(default_factory=lambda: next(_ids))
    started: float = field(default_factory=time.time)
    done: int = 0  # files read and committed so far
    total: int = 0  # files that needed reading (new or changed); 0 until the scan is done
    chunks: int = 0
    finished: bool = False
    report: object = None  # IngestReport when finished
    error: str | None = None  # one line, when the ingest failed
    _thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return not self.finished

    def fraction(self) -> float:
        return self.done / self.total if self.total else (1.0 if self.finished else 0.0)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (or timeout); True if it has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.finished


def report_rows(report) -> list[dict]:
    """One row per file that changed or was skipped: {"file", "result", "reason"}.

    Unchanged files are left out (they are counted in the summary). A file read with
    a warning (e.g. one unreadable PDF page) keeps its result and gets the warning as reason.
    """
    warned: dict[str, list[str]] = {}
    for w in report.warnings:
        warned.setdefault(w["path"], []).append(w["warning"])
    rows = [{"file": p, "result": result, "reason": "; ".join(warned.get(p, []))}
            for result, paths in (("added", report.added), ("updated", report.updated), ("removed", report.removed))
            for p in paths]
    rows += [{"file": s["path"], "result": "skipped", "reason": s["reason"]} for s in report.skipped]
    return rows


def start_ingest(settings, embedder, folder: Path | None = None, rebuild: bool = False) -> IngestJob:
    """Start ingesting `folder` (default: notes_dir) and return a job to poll."""
    from ragqa.ingest.pipeline import ingest_folder

    job = IngestJob(Path(folder or settings.notes_path).expanduser())

    def progress(done, total, chunks):
        job.done, job.total, job.chunks = done, total, chunks

    def work():
        try:
            job.report = ingest_folder(settings, embedder, notes_dir=job.folder, rebuild=rebuild,
                                       progress=progress, lock_wait=5.0)
        except RagqaError as err:
            job.error = str(err)
        except Exception as err:  # noqa: BLE001 - shown in the UI as one line; the index keeps its last committed state
            job.error = f"ingest failed: {type(err).__name__}: {err}".splitlines()[0]
        finally:
            job.finished = True

    job._thread = threading.Thread(target=work, name="ragqa-ingest", daemon=True)
    job._thread.start()
    return job


class IngestJobs:
    """The latest ingest of each index folder, shared by every browser tab of one process.

    One writer per index: starting a second ingest while one runs is refused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, IngestJob] = {}

    def current(self, index_dir: Path) -> IngestJob | None:
        return self._jobs.get(str(Path(index_dir).resolve()))

    def start(self, settings, embedder, folder: Path) -> IngestJob:
        """Start ingesting `folder` into settings' index; IndexBusyError if one is running, ConfigError if no folder."""
        key = str(settings.index_path.resolve())
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.running:
                raise IndexBusyError(f"an ingest of {job.folder} is already running: wait for it to finish")
            if not Path(folder).expanduser().is_dir():
                raise ConfigError(f"notes folder not found: {folder} (fix the folder, then ingest again)")
            self._jobs[key] = start_ingest(settings, embedder, folder)
            return self._jobs[key]
