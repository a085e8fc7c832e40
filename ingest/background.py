"""An ingest that runs in a background thread, so a UI stays responsive while it works.

Readers keep answering during the run: they see the last committed generation
until the job publishes a new one.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ragqa.errors import RagqaError


@dataclass
class IngestJob:
    folder: Path
    started: float = field(default_factory=time.time)
    done: int = 0
    total: int = 0
    chunks: int = 0
    finished: bool = False
    report: object = None  # IngestReport when finished
    error: str | None = None
    _thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return not self.finished

    def fraction(self) -> float:
        return self.done / self.total if self.total else (1.0 if self.finished else 0.0)


def start_ingest(settings, embedder, folder: Path | None = None, rebuild: bool = False) -> IngestJob:
    """Start ingesting `folder` (default: notes_dir) and return a job to poll."""
    from ingest.pipeline import ingest_folder

    job = IngestJob(Path(folder or settings.notes_path))

    def progress(done, total, chunks):
        job.done, job.total, job.chunks = done, total, chunks

    def work():
        try:
            job.report = ingest_folder(settings, embedder, notes_dir=job.folder, rebuild=rebuild,
                                       progress=progress, lock_wait=5.0)
        except RagqaError as err:
            job.error = str(err)
        except Exception as err:  # shown in the UI as one line; the index keeps its last committed state
            job.error = f"ingest failed: {type(err).__name__}: {err}".splitlines()[0]
        finally:
            job.finished = True

    job._thread = threading.Thread(target=work, name="ragqa-ingest", daemon=True)
    job._thread.start()
    return job
