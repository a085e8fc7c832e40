"""Keep the index in step with the notes folder while you write: `ragqa watch`.

watchdog reports file events; once the folder has been quiet for `quiet_seconds`
(an editor's save is often several events: temp file, rename, chmod), one
ordinary incremental ingest runs. It re-embeds only the files whose content
changed and drops deleted ones, and it takes the index's write lock, so it is
safe next to any other ingest. Events that arrive during an ingest trigger
another one after it.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ragqa.errors import ConfigError, RagqaError
from ragqa.filetypes import kind_of
from ragqa.ingest.pipeline import IngestReport, ingest_folder

QUIET_SECONDS = 0.5
LOCK_WAIT_SECONDS = 60.0
_IGNORED_EVENTS = {"opened", "closed_no_write"}
_FOLDER_EVENTS = {"created", "deleted", "moved"}


def is_relevant(path: str, notes_dir: Path, index_dir: Path, is_directory: bool, event_type: str = "modified") -> bool:
    """Whether an event on `path` can change what the index should hold.

    A folder counts only when it appears, goes or moves (a file changing inside it
    also "modifies" the folder, which says nothing new).

    >>> root, index = Path("/n"), Path("/n/.idx")
    >>> [is_relevant(p, root, index, False) for p in ("/n/a.md", "/n/.obsidian/w.md", "/n/a.md.swp")]
    [True, False, False]
    >>> is_relevant("/n/sub", root, index, True, "modified"), is_relevant("/n/sub", root, index, True, "deleted")
    (False, True)
    """
    p = Path(path)
    if p == index_dir or index_dir in p.parents:
        return False
    try:
        parts = p.relative_to(notes_dir).parts
    except ValueError:
        return False
    if any(part.startswith(".") for part in parts):  # hidden: the scan never enters them either
        return False
    if is_directory:
        return bool(parts) and event_type in _FOLDER_EVENTS
    return kind_of(p.name) is not None


class _Events(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED_EVENTS:
            return
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        w = self.watcher
        relevant = [str(p) for p in paths
                    if p and is_relevant(str(p), w.notes_dir, w.index_dir, event.is_directory, event.event_type)]
        if relevant:
            w.poke(relevant)


class FolderWatcher:
    """Watch a notes folder and re-ingest it after each burst of changes.

        def said(report, changed):  # changed: paths (relative to the folder) whose events led to this run
            print(describe(report, changed))

        with FolderWatcher(settings, embedder, on_report=said):
            ...  # edits to the folder reach the index about `quiet_seconds` + the ingest time later
    """

    def __init__(self, settings, embedder, notes_dir: Path | None = None, index_dir: Path | None = None,
                 quiet_seconds: float = QUIET_SECONDS, catch_up: bool = True, on_report=None, on_error=None):
        self.settings, self.embedder = settings, embedder
        self.notes_dir = Path(notes_dir or settings.notes_path).expanduser().resolve()
        self.index_dir = Path(index_dir or settings.index_path).expanduser().resolve()
        if not self.notes_dir.is_dir():
            raise ConfigError(f"notes folder not found: {self.notes_dir} (set notes_dir in config.yaml or pass a PATH)")
        self.quiet_seconds = quiet_seconds
        self.on_report, self.on_error = on_report, on_error
        self.runs = 0  # ingests finished, for anyone who wants to wait for one
        self._last_event = 0.0
        self._wake, self._stop = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self._changed: set[str] = set()  # absolute paths seen in events since the last ingest began
        self._observer = Observer()
        self._observer.schedule(_Events(self), str(self.notes_dir), recursive=True)
        self._worker = threading.Thread(target=self._loop, name="ragqa-watch", daemon=True)
        if catch_up:  # changes made while nobody watched
            self.poke(quiet=False)

    def poke(self, paths: Iterable[str] = (), quiet: bool = True) -> None:
        """Something changed (at `paths`): ingest once the folder has been quiet for `quiet_seconds`."""
        with self._lock:
            self._changed.update(paths)
        self._last_event = time.monotonic() if quiet else 0.0
        self._wake.set()

    def start(self) -> FolderWatcher:
        self._observer.start()
        self._worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._observer.stop()
        self._observer.join(timeout=5)
        if self._worker.is_alive():
            self._worker.join(timeout=LOCK_WAIT_SECONDS)

    def __enter__(self) -> FolderWatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait(self, seconds: float | None = None) -> None:
        """Block until stopped (or `seconds` pass); Ctrl-C comes through."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self._stop.is_set() and (deadline is None or time.monotonic() < deadline):
            self._stop.wait(0.2)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            while (remaining := self._last_event + self.quiet_seconds - time.monotonic()) > 0:
                if self._stop.wait(remaining):
                    return
            if self._stop.is_set():
                return
            self._wake.clear()  # before the scan: any later change triggers another run
            with self._lock:
                changed, self._changed = self._changed, set()
            self._ingest(changed)

    def _ingest(self, changed: set[str]) -> None:
        try:
            report = ingest_folder(self.settings, self.embedder, notes_dir=self.notes_dir,
                                   index_dir=self.index_dir, lock_wait=LOCK_WAIT_SECONDS)
        except RagqaError as err:
            self._tell_error(str(err))
        except Exception as err:  # noqa: BLE001 - the watcher keeps running; the index keeps its last committed state
            self._tell_error(f"ingest failed: {type(err).__name__}: {err}".splitlines()[0])
        else:
            self.runs += 1
            if self.on_report:
                self.on_report(report, self._relative(changed))

    def _relative(self, paths: set[str]) -> set[str]:
        out = set()
        for p in paths:
            try:
                out.add(Path(p).relative_to(self.notes_dir).as_posix())
            except ValueError:
                continue
        return out

    def _tell_error(self, message: str) -> None:
        self.runs += 1
        if self.on_error:
            self.on_error(message)


def describe(report: IngestReport, changed: Collection[str] = frozenset()) -> str | None:
    """One line for a run that changed something, else None; files among `changed` that were
    skipped are named with their reason (a save that did not make it into the index).

    >>> describe(IngestReport(updated=["a.md"], removed=["b.md"], chunks=2, seconds=0.31))
    'updated a.md; removed b.md (2 chunks embedded in 0.3 s)'
    >>> describe(IngestReport(skipped=[{"path": "c.md", "reason": "empty file"}]), {"c.md"})
    'skipped c.md: empty file'
    """
    parts = [f"{what} {', '.join(paths)}" for what, paths in
             (("added", report.added), ("updated", report.updated), ("removed", report.removed)) if paths]
    skipped = [f"skipped {s['path']}: {s['reason']}" for s in report.skipped if s["path"] in changed]
    if not parts and not skipped:
        return None
    chunks = f"{report.chunks} chunk{'s' if report.chunks != 1 else ''}"
    line = "; ".join(parts) + (f" ({chunks} embedded in {report.seconds:.1f} s)" if parts else "")
    return "; ".join(x for x in [line, *skipped] if x)
