"""Incremental, crash-safe ingest of a notes folder into the index.

files -> (unchanged? skip) -> documents -> chunks -> vectors -> one transaction per batch.

Reading and chunking run in a background thread while the main thread embeds,
so the embedder (the slow part) never waits on the disk. Each batch of files is
committed on its own: a kill loses at most the batch in flight.
"""
from __future__ import annotations

import hashlib
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ragqa.config import Settings
from ragqa.filetypes import PLAIN_KINDS
from ragqa.index.lock import write_lock
from ragqa.index.store import FileRecord, index_identity, open_writer
from ragqa.ingest.chunk import chunk_document
from ragqa.ingest.documents import Document, SkipFile
from ragqa.ingest.loaders import load_file, read_options
from ragqa.ingest.note_meta import note_meta
from ragqa.ingest.preflight import check_notes_folder, index_write_error, is_write_failure
from ragqa.ingest.scan import scan_folder, unlisted_prefixes
from ragqa.ingest.worker import DocumentWorker
from ragqa.notes.vectors import refresh_note_vectors
from ragqa.tokens import count_tokens

BATCH_CHUNKS = 256  # chunks embedded and committed together


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"}
    warnings: list[dict] = field(default_factory=list)  # {"path", "warning"}
    chunks: int = 0  # chunks embedded in this run
    seconds: float = 0.0
    rebuilt: bool = False

    def summary(self) -> dict:
        """The `ragqa ingest --json` contract: counts of files, plus skipped reasons."""
        return {
            "added": len(self.added), "updated": len(self.updated), "removed": len(self.removed),
            "unchanged": len(self.unchanged), "chunks": self.chunks, "seconds": round(self.seconds, 3),
            "skipped": self.skipped,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_file(item, sha: str, settings: Settings, fits, reader: DocumentWorker | None):
    """Load and chunk one changed file: (its record, its chunks, warnings). A file that cannot be read is a
    "skipped" record with the reason, never an exception. `fits(passage)`: the embedding model's length check."""
    record = FileRecord(item.rel, item.size, item.mtime_ns, sha, item.kind, status="indexed")
    try:
        doc = load_file(item, worker=reader)
        chunks = chunk_document(
            doc, chunk_tokens=settings.chunking.chunk_tokens, overlap_tokens=settings.chunking.overlap_tokens,
            count_tokens=count_tokens, fits_model=fits,
        )
        if not chunks:
            raise SkipFile("no text to index")
        record.title = doc.title
        record.meta = {"tags": doc.tags, "links": doc.links, "aliases": doc.metadata.get("aliases") or []}
        record.note = note_meta(doc, item.mtime_ns)
        return record, chunks, doc.warnings
    except SkipFile as reason:
        record.status, record.reason = "skipped", str(reason)
    except Exception as err:  # noqa: BLE001 - one bad file must never stop the ingest
        record.status, record.reason = "skipped", (
            f"could not read: {type(err).__name__}: {err}".splitlines()[0][:200])
    return record, [], []


def _prepare(found, settings: Settings, embedder, out: queue.Queue, stop: threading.Event,
             reader: DocumentWorker) -> None:
    """Producer: load and chunk each changed file; put (record, chunks, warnings) on the queue."""
    for item, sha in found:
        if stop.is_set():
            return
        _put(out, prepare_file(item, sha, settings, embedder.fits, reader), stop)
    _put(out, None, stop)


def _put(out: queue.Queue, item, stop: threading.Event) -> None:
    """Queue an item, unless the consumer has stopped (then a full queue must not block us forever)."""
    while not stop.is_set():
        try:
            out.put(item, timeout=0.5)
            return
        except queue.Full:
            continue


def ingest_folder(settings: Settings, embedder, notes_dir: Path | None = None, index_dir: Path | None = None,
                  rebuild: bool = False, progress=None, lock_wait: float = 0.0, on_wait=None) -> IngestReport:
    """Bring the index in step with the folder. `progress(done, total, chunks)` is called as files finish.

    `embedder` is used only for files that need embedding, and for its identity: with a
    `ragqa.models.lazy_embedder.LazyEmbedder` a run that finds nothing changed never loads the model."""
    started = time.perf_counter()
    notes = Path(notes_dir or settings.notes_path).expanduser().resolve()
    index = Path(index_dir or settings.index_path).expanduser().resolve()
    check_notes_folder(notes)
    report = IngestReport()
    with write_lock(index, wait_seconds=lock_wait, on_wait=on_wait):
        try:
            writer = open_writer(index, index_identity(settings, embedder, index), rebuild=rebuild)
        except (sqlite3.Error, OSError) as err:
            raise index_write_error(index, err) from None
        try:
            report.rebuilt = writer.rebuilt
            _run(settings, embedder, notes, writer, report, progress)
            writer.publish(last_ingest={"at": time.time(), "notes_dir": str(notes), **report.summary(),
                                        "skipped": len(report.skipped)})
        except (sqlite3.OperationalError, OSError) as err:  # disk full, read-only: the last commit stands
            if not is_write_failure(err):
                raise
            raise index_write_error(index, err) from None
        finally:
            writer.close()
    if report.added or report.updated or report.removed or report.rebuilt:
        refresh_note_vectors(index)  # so related notes, topics and the map are ready (only changed notes)
    report.seconds = time.perf_counter() - started
    return report


def _run(settings, embedder, notes: Path, writer, report: IngestReport, progress) -> None:
    found, scan_skipped = scan_folder(notes, settings.include, settings.exclude,
                                      int(settings.max_file_mb * 1024 * 1024))
    known = writer.known_files()
    present = {f.rel for f in found}
    # Notes in a sub-folder that could not be listed this time are not gone: keep them.
    unlisted = unlisted_prefixes(notes, scan_skipped)
    present |= {p for p in known if p.startswith(unlisted)} if unlisted else set()
    to_load, touched = [], []
    for item in found:
        old = known.get(item.rel)
        if old and old.size == item.size and old.mtime_ns == item.mtime_ns:
            _count_unchanged(old, report)
            continue
        try:
            sha = file_sha256(item.path)
        except FileNotFoundError:  # deleted since the scan: gone, like any deleted file
            present.discard(item.rel)
            if item.rel not in known:
                report.skipped.append({"path": item.rel, "reason": "file disappeared during ingest"})
            continue
        except OSError as err:
            reason = ("permission denied" if isinstance(err, PermissionError)
                      else f"cannot be read: {err.strerror or err}")
            report.skipped.append({"path": item.rel, "reason": reason})
            continue
        if old and old.sha256 == sha:
            old.size, old.mtime_ns = item.size, item.mtime_ns
            touched.append(old)
            _count_unchanged(old, report)
        else:
            to_load.append((item, sha))
    for rel, reason in scan_skipped:
        report.skipped.append({"path": rel, "reason": reason})
    gone = sorted(p for p in known if p not in present)
    if touched:
        writer.touch(touched)
    if gone:
        writer.apply([], removed=gone)
        report.removed.extend(gone)
    if settings.ingest.engine == "ray":  # reading and chunking as Ray tasks, embedding in Ray actors
        from ragqa.ingest.ray_engine import load_and_commit_on_ray

        load_and_commit_on_ray(to_load, known, settings, embedder, writer, report, progress)
    else:
        with DocumentWorker(settings.pdf.timeout_seconds, read_options(settings)) as reader:
            _load_and_commit(to_load, known, settings, embedder, writer, report, progress, reader)
    _add_missing_notes(found, known, writer)


def _add_missing_notes(found, known: dict[str, FileRecord], writer) -> None:
    """Note metadata for the indexed files that have none: an index made before it existed (format 1) gets it
    here, read again from each note, with nothing embedded again. Other documents take their file's time (their
    own dates come with their next change: reading them again could mean OCR)."""
    missing = writer.paths_without_notes()
    records = []
    for item in found:
        if item.rel not in missing or item.rel not in known:
            continue
        record = known[item.rel]
        doc = Document(item.rel, record.title, [], item.kind)
        if item.kind in PLAIN_KINDS:
            try:
                doc = load_file(item)
            except Exception:  # noqa: BLE001, S110 (it was read before; what cannot be read now keeps the file's time)
                pass
        record.note = note_meta(doc, item.mtime_ns)
        records.append(record)
    for start in range(0, len(records), 1000):
        writer.set_notes(records[start:start + 1000])


def _load_and_commit(to_load, known, settings, embedder, writer, report, progress, reader) -> None:
    out: queue.Queue = queue.Queue(maxsize=64)
    stop = threading.Event()
    producer = threading.Thread(target=_prepare, args=(to_load, settings, embedder, out, stop, reader), daemon=True)
    producer.start()
    batch: list = []
    pending_chunks = done = 0
    try:
        while (item := out.get()) is not None:
            record, chunks, warnings = item
            batch.append((record, chunks))
            pending_chunks += len(chunks)
            report.warnings.extend({"path": record.path, "warning": w} for w in warnings)
            if pending_chunks >= BATCH_CHUNKS:
                done += _commit(batch, known, embedder, writer, report)
                batch, pending_chunks = [], 0
                if progress:
                    progress(done, len(to_load), report.chunks)
        done += _commit(batch, known, embedder, writer, report)
        if progress:
            progress(done, len(to_load), report.chunks)
    finally:
        stop.set()


def _count_unchanged(record: FileRecord, report: IngestReport) -> None:
    if record.status == "skipped":
        report.skipped.append({"path": record.path, "reason": record.reason or "skipped"})
    else:
        report.unchanged.append(record.path)


def _commit(batch, known, embedder, writer, report: IngestReport) -> int:
    if not batch:
        return 0
    vectors = embedder.embed_passages([c.embed_text for _, chunks in batch for c in chunks])
    return commit_embedded(batch, vectors, known, writer, report)


def commit_embedded(batch, vectors, known, writer, report: IngestReport) -> int:
    """Commit a batch of (record, chunks) whose chunks' vectors are `vectors`, in order; count it in the report."""
    rows, start = [], 0
    for record, chunks in batch:
        rows.append((record, chunks, vectors[start:start + len(chunks)]))
        start += len(chunks)
        if record.status == "skipped":
            report.skipped.append({"path": record.path, "reason": record.reason})
        elif record.path in known and known[record.path].status == "indexed":
            report.updated.append(record.path)
        else:
            report.added.append(record.path)
    writer.apply(rows)
    report.chunks += start
    return len(batch)
