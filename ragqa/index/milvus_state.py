"""An all-Milvus index as its reader and writer both see it: the manifest, the file rows, which chunks are visible.

A chunk row is visible when its file row exists and has the chunk's `gen` (ragqa.index.milvus_writer). Every
read checks the rows it returns against the file rows as they are at that moment, so a file being written,
or a file whose writer was killed, is never seen half-written.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from ragqa.errors import IndexMissingError, RagqaError
from ragqa.index.milvus_layout import has_collections, manifest_row, names, open_client, record_from_row
from ragqa.index.milvus_vectors import MilvusException, _quiet
from ragqa.index.schema import FileRecord, check_format

PAGE = 16_384  # rows per query page (Milvus's largest limit)
IN_LIST = 2_000  # values per `in [...]` expression


_LOADED: set[tuple[str, str]] = set()


class MilvusDownError(RagqaError):
    """The Milvus that holds the index did not answer."""


@contextmanager
def said(location):
    """Milvus's errors as one line that says what to do."""
    try:
        yield
    except MilvusException as err:
        raise MilvusDownError(
            f"Milvus at {location.uri} failed ({err.message.splitlines()[0][:200]}): check that it runs "
            f"(python -m milvus_lite server --data-dir DIR --port P, or your Milvus server) and store.milvus_uri"
        ) from None


class MilvusIndex:
    """A connection to one all-Milvus index (its three collections)."""

    def __init__(self, folder: Path, location):
        self.folder, self.location = Path(folder), location
        self.names = names(location.prefix)
        self.client = open_client(location)
        self._load()

    def _load(self) -> None:
        """Collections are searchable once loaded: Milvus Lite opens a file with them released, and a server
        after a restart. Once per process and store (a server keeps them loaded for every client)."""
        key = (self.location.uri, self.location.prefix)
        if key in _LOADED:
            return
        with said(self.location):
            if has_collections(self.client, self.location.prefix):
                for name in self.names.values():
                    self.client.load_collection(name)
                _LOADED.add(key)

    def exists(self) -> bool:
        with said(self.location):
            return has_collections(self.client, self.location.prefix) and bool(self.manifest().get("model"))

    def require(self) -> dict:
        """The manifest of an index that exists and this ragqa can read; IndexMissingError before the first ingest."""
        manifest = self.manifest() if has_collections(self.client, self.location.prefix) else {}
        if not manifest.get("model"):
            raise IndexMissingError(f"no index in Milvus at {self.location.uri} "
                                    f"(collection {self.location.prefix}) yet: run `ragqa ingest` first")
        check_format(manifest, self.folder)
        return manifest

    def manifest(self, keys: list[str] | None = None) -> dict:
        where = "" if keys is None else f"key in {json.dumps(keys)}"
        with said(self.location):
            rows = self.query(self.names["manifest"], where, ["key", "value"])
        return {row["key"]: json.loads(row["value"]) for row in rows}

    def set_manifest(self, values: dict) -> None:
        with said(self.location):
            self.client.upsert(self.names["manifest"], [manifest_row(k, v) for k, v in values.items()])

    def query(self, collection: str, where: str, fields: list[str]) -> list[dict]:
        """Every row that matches, a page at a time."""
        found: list[dict] = []
        # Milvus Lite in this process logs a traceback for a call the iterator tries first (AllocTimestamp)
        with _quiet("pymilvus.client.iterator.query_iterator"), _quiet("grpc._server"):
            pages = self.client.query_iterator(collection, batch_size=PAGE, filter=where, output_fields=fields)
            try:
                while page := pages.next():
                    found.extend(page)
            finally:
                pages.close()
        return found

    def file_rows(self, paths=None, fields=("path", "gen", "status", "record")) -> list[dict]:
        """The file rows (all, or those of `paths`)."""
        if paths is None:
            with said(self.location):
                return self.query(self.names["files"], "", list(fields))
        paths, found = list(dict.fromkeys(paths)), []
        with said(self.location):
            for start in range(0, len(paths), IN_LIST):
                where = f"path in {json.dumps(paths[start:start + IN_LIST], ensure_ascii=False)}"
                found += self.client.query(self.names["files"], filter=where, output_fields=list(fields))
        return found

    def records(self) -> dict[str, FileRecord]:
        return {row["path"]: record_from_row(row) for row in self.file_rows()}

    def committed(self, paths) -> dict[str, int]:
        """{path: the gen of its committed file row} for those of `paths` that have one."""
        return {row["path"]: row["gen"] for row in self.file_rows(paths, ("path", "gen"))}

    def visible(self, rows: list[dict]) -> list[dict]:
        """The chunk rows (each with its path and gen) that belong to their file's committed version."""
        if not rows:
            return []
        gens = self.committed({row["path"] for row in rows})
        return [row for row in rows if gens.get(row["path"]) == row["gen"]]

    def chunk_rows(self, ids, fields: list[str]) -> list[dict]:
        """The visible chunk rows of these ids (any order)."""
        ids, found = [int(i) for i in ids], []
        with said(self.location):
            for start in range(0, len(ids), IN_LIST):
                found += self.client.query(self.names["chunks"], filter=f"id in {ids[start:start + IN_LIST]}",
                                           output_fields=["id", "path", "gen", *fields])
        return self.visible(found)

    def close(self) -> None:
        self.client.close()
