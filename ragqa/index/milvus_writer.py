"""Applies ingest results to an all-Milvus index, crash-safe without transactions.

Milvus has no transaction over several rows, so each batch of files is written in an order that a kill at any
moment leaves consistent:

    1. manifest  pending.<gen> = the batch's paths        (an intent: what to clean if we die)
    2. chunks    upsert each new chunk with gen=<gen>     (invisible: no file row has <gen> yet)
    3. files     upsert each file row with gen=<gen>      (THE commit, one row per file: its new chunks show,
                 delete the rows of removed files           its old ones stop showing)
    4. chunks    delete the batch's rows of other gens    (the old versions, the removed files' chunks)
    5. manifest  drop pending.<gen>; generation = <gen>   (readers' caches see a change)

Readers show a chunk only while its file row has its gen (ragqa.index.milvus_state), so a file is seen whole,
old or new, never half. A chunk's id is a hash of its path, content and position (milvus_layout.chunk_id), so a
repeated write replaces rows instead of adding them, and the next ingest after a kill finds the pending intents,
cleans those paths (step 4 for them), and re-embeds the files whose rows never committed.
"""
from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ragqa.index.identity import mismatch
from ragqa.index.milvus_layout import (
    FORMAT,
    chunk_row,
    create_collections,
    file_row,
    new_generation,
    record_from_row,
)
from ragqa.index.milvus_lease import Lease
from ragqa.index.milvus_state import IN_LIST, MilvusIndex, said
from ragqa.index.milvus_terms import terms
from ragqa.index.schema import FORMAT_VERSION, FileRecord, check_format, is_newer_format
from ragqa.records import Chunk

log = logging.getLogger(__name__)
ROWS_PER_UPSERT = 500  # chunk rows per request: 384-d vectors and text, a few MB of gRPC


class MilvusWriter:
    """IndexWriter's interface over an all-Milvus index. Hold `ragqa.index.lock.write_lock` while using it."""

    def __init__(self, folder: Path, location, identity: dict, rebuild: bool = False):
        self.index = MilvusIndex(folder, location)
        self.names = self.index.names
        self.lease = Lease(self.index)  # one writer per store across hosts (the write lock is per host)
        try:
            self._open(Path(folder), location, identity, rebuild)
            self._finish_pending()
        except BaseException:
            self.close()
            raise

    def _open(self, folder: Path, location, identity: dict, rebuild: bool) -> None:
        exists = self.index.exists()
        manifest = self.index.manifest() if exists else {}
        if is_newer_format(manifest) and not rebuild:
            check_format(manifest, folder)
        self.rebuilt = bool(manifest.get("model")) and (rebuild or mismatch(manifest, identity) is not None)
        if exists:
            self.lease.take()
        with said(location):
            if self.rebuilt or not manifest.get("model"):
                create_collections(self.index.client, location.prefix, int(identity["dim"]))
                generation = new_generation(_as_int(manifest.get("generation")))
                self.index.set_manifest({**identity, "format": FORMAT_VERSION, "milvus_format": FORMAT,
                                         "generation": generation, "store_id": secrets.randbits(62)})
                self.lease.take()
                manifest = self.index.manifest()
            else:
                for name in self.names.values():
                    self.index.client.load_collection(name)
        self.manifest = manifest
        self.generation = int(manifest["generation"])
        self._gens: dict[str, int] = {}

    def _finish_pending(self) -> None:
        """Clean up after a writer that was killed mid-batch (its pending intents)."""
        pending = {k: v for k, v in self.index.manifest().items() if k.startswith("pending.")}
        for paths in pending.values():
            log.info("finishing an interrupted ingest batch (%s files)", len(paths))
            self._clean(paths)
        if pending:
            with said(self.index.location):
                self.index.client.delete(self.names["manifest"], ids=list(pending))

    def _clean(self, paths: list[str]) -> None:
        """Delete every chunk of these paths that is not their committed version."""
        committed = self.index.committed(paths)
        by_gen: dict[int | None, list[str]] = {}
        for path in paths:
            by_gen.setdefault(committed.get(path), []).append(path)
        with said(self.index.location):
            for gen, group in by_gen.items():
                for start in range(0, len(group), IN_LIST):
                    where = f"path in {_strings(group[start:start + IN_LIST])}"
                    if gen is not None:
                        where += f" and gen != {gen}"
                    self.index.client.delete(self.names["chunks"], filter=where)

    def known_files(self) -> dict[str, FileRecord]:
        rows = self.index.file_rows()
        self._gens = {row["path"]: row["gen"] for row in rows}
        return {row["path"]: record_from_row(row) for row in rows}

    def paths_without_notes(self) -> set[str]:
        return set()  # every file row carries its note's metadata

    def set_notes(self, records: list[FileRecord]) -> None:
        self._rewrite(records)

    def touch(self, records: list[FileRecord]) -> None:
        """New size and time for files whose content did not change: their rows keep their gen."""
        self._rewrite(records)

    def _rewrite(self, records: list[FileRecord]) -> None:
        if not self._gens:
            self.known_files()
        rows = [file_row(r, self._gens[r.path]) for r in records if r.path in self._gens]
        with said(self.index.location):
            for start in range(0, len(rows), ROWS_PER_UPSERT):
                self.index.client.upsert(self.names["files"], rows[start:start + ROWS_PER_UPSERT])

    def apply(self, files: list[tuple[FileRecord, list[Chunk], np.ndarray]], removed: Sequence[str] = ()) -> None:
        """Commit a batch: each file's chunks replaced, each removed path dropped; see the module's steps."""
        gen = new_generation(self.generation)
        self.lease.renew()
        paths = [record.path for record, _, _ in files] + list(removed)
        client, where = self.index.client, self.names
        self.index.set_manifest({f"pending.{gen}": paths})
        texts = [chunk.embed_text for _, chunks, _ in files for chunk in chunks]
        counted = iter(terms(texts) if texts else [])
        rows = [chunk_row(chunk, record, gen, vector, next(counted))
                for record, chunks, vectors in files for chunk, vector in zip(chunks, vectors, strict=True)]
        for record, chunks, _ in files:
            record.chunks = len(chunks)
        with said(self.index.location):
            for start in range(0, len(rows), ROWS_PER_UPSERT):
                client.upsert(where["chunks"], rows[start:start + ROWS_PER_UPSERT])
            if files:
                client.upsert(where["files"], [file_row(record, gen) for record, _, _ in files])
            for start in range(0, len(removed), IN_LIST):
                client.delete(where["files"], ids=list(removed[start:start + IN_LIST]))
        self._clean(paths)
        with said(self.index.location):
            client.delete(where["manifest"], ids=[f"pending.{gen}"])
        self.index.set_manifest({"generation": gen})
        self.generation = gen
        self._gens.update((record.path, gen) for record, _, _ in files)
        for path in removed:
            self._gens.pop(path, None)

    def publish(self, last_ingest: dict | None = None) -> None:
        """The end of an ingest: its rows sealed into indexed segments (Milvus Lite searches rows it has not sealed
        by brute force: 10-30x slower, measured in docs/SCALING.md), then the last-ingest record."""
        with said(self.index.location):
            for name in self.names.values():
                self.index.client.flush(name)
        if last_ingest is not None:
            self.index.set_manifest({"last_ingest": last_ingest})

    def close(self) -> None:
        """Let go of the lease (a failure to is logged: the lease expires by itself) and of the client."""
        try:
            with said(self.index.location):
                self.lease.release()
        except Exception as err:  # noqa: BLE001 - never hides what made the caller close
            log.warning("the ingest lease was not released (it expires by itself): %s", err)
        finally:
            self.index.close()


def _strings(values: list[str]) -> str:
    return json.dumps(values, ensure_ascii=False)


def _as_int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
