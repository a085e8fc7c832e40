"""How an all-Milvus index is laid out (`store.milvus_holds: everything`): three collections, their rows.

    <prefix>            one row per chunk: id (a hash of path, content and position), path, gen, its text and
                        metadata, the filter fields (suffix, note_tags, created, modified), the dense vector, and
                        a BM25 sparse vector that Milvus's own BM25 function makes from `terms`
    <prefix>_files      one row per file: path, gen, status, and the rest of its FileRecord (with the note's
                        dates, tags, links and aliases) as JSON; the row IS the file's commit
    <prefix>_manifest   key -> JSON value: the index's identity, format, generation, last ingest, pending work

A chunk is visible only while its `gen` is its file row's `gen` (ragqa.index.milvus_writer says why).
Every collection has a vector field because Milvus requires one; the files and manifest ones hold zeros.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from pathlib import PurePosixPath

from ragqa.index.milvus_vectors import DataType, MilvusClient, connect
from ragqa.index.note_rows import fold, tag_and_parents
from ragqa.index.schema import FileRecord
from ragqa.records import Chunk, NoteDate, NoteMeta

FORMAT = 1  # the layout's version, in the manifest as "milvus_format"
STRONG = "Strong"  # a search right after a write sees it, on a server as in Milvus Lite
BM25 = {"bm25_k1": 1.2, "bm25_b": 0.75}  # SQLite FTS5's own constants
CHUNK_FIELDS = ["path", "gen", "ordinal", "title", "heading", "page", "text", "tags"]
_ZERO = [0.0, 0.0]


def names(prefix: str) -> dict[str, str]:
    return {"chunks": prefix, "files": f"{prefix}_files", "manifest": f"{prefix}_manifest"}


def open_client(location) -> MilvusClient:
    """A client for the location's Milvus; a one-line ConfigError when it cannot be reached."""
    return connect(location.uri, location.token_env)


def chunk_id(path: str, sha256: str, ordinal: int) -> int:
    """A chunk's id: the same for the same passage of the same content, whoever embeds it (any engine, any
    retry), so a repeated write replaces a row instead of adding one. 63 bits, never negative.

    >>> chunk_id("a.md", "ab" * 32, 0) == chunk_id("a.md", "ab" * 32, 0) != chunk_id("a.md", "ab" * 32, 1)
    True
    """
    digest = hashlib.sha256(f"{path}\0{sha256}\0{ordinal}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def new_generation(last: int) -> int:
    """A generation number above `last`: microseconds since 1970, so writers on several hosts rarely meet."""
    return max(time.time_ns() // 1000, last + 1)


def _clip(text: str | None, limit: int) -> str:
    data = (text or "").encode()
    return text or "" if len(data) <= limit else data[:limit].decode(errors="ignore")


def chunk_row(chunk: Chunk, record: FileRecord, gen: int, vector, terms: str) -> dict:
    note = record.note
    return {
        "id": chunk_id(record.path, record.sha256, chunk.ordinal), "path": record.path, "gen": gen,
        "ordinal": chunk.ordinal, "title": _clip(chunk.title, 2048), "heading": _clip(chunk.heading, 8192),
        "page": chunk.page, "text": chunk.text, "tags": list(chunk.tags), "terms": _clip(terms, 65535),
        "dense": [float(x) for x in vector], "suffix": PurePosixPath(record.path).suffix.lower(),
        "note_tags": sorted({fold(level) for tag in (note.tags if note else ()) for level in tag_and_parents(tag)}),
        "created": note.created.day if note else "", "modified": note.modified.day if note else "",
    }


def chunk_from_row(row: dict) -> Chunk:
    return Chunk(path=row["path"], title=row["title"], heading=row["heading"], text=row["text"], page=row["page"],
                 ordinal=row["ordinal"], tags=list(row["tags"] or []))


def file_row(record: FileRecord, gen: int) -> dict:
    fields = {k: v for k, v in asdict(record).items() if k not in ("path", "note")}
    fields["note"] = None if record.note is None else {
        "created": asdict(record.note.created), "modified": asdict(record.note.modified),
        "tags": list(record.note.tags), "links": list(record.note.links), "aliases": list(record.note.aliases)}
    fields["indexed_at"] = time.time()
    return {"path": record.path, "gen": gen, "status": record.status, "record": fields, "_v": _ZERO}


def record_from_row(row: dict) -> FileRecord:
    fields = dict(row["record"])
    fields.pop("indexed_at", None)
    note = fields.pop("note", None)
    record = FileRecord(path=row["path"], **fields)
    if note is not None:
        record.note = NoteMeta(NoteDate(**note["created"]), NoteDate(**note["modified"]), tuple(note["tags"]),
                               tuple(note["links"]), tuple(note["aliases"]))
    return record


def manifest_row(key: str, value) -> dict:
    return {"key": key, "value": json.dumps(value), "_v": _ZERO}


def create_collections(client: MilvusClient, prefix: str, dim: int) -> None:
    """The three collections, new and empty (any old ones with these names dropped first)."""
    drop_collections(client, prefix)
    where = names(prefix)
    _create(client, where["chunks"], _chunk_schema(dim), [("dense", "FLAT", "IP", {}),
                                                          ("sparse", "SPARSE_INVERTED_INDEX", "BM25", BM25)])
    files = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    files.add_field("path", DataType.VARCHAR, is_primary=True, max_length=4096)
    files.add_field("gen", DataType.INT64)
    files.add_field("status", DataType.VARCHAR, max_length=16)
    files.add_field("record", DataType.JSON)
    files.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
    _create(client, where["files"], files, [("_v", "FLAT", "IP", {})])
    manifest = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    manifest.add_field("key", DataType.VARCHAR, is_primary=True, max_length=256)
    manifest.add_field("value", DataType.VARCHAR, max_length=65535)
    manifest.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
    _create(client, where["manifest"], manifest, [("_v", "FLAT", "IP", {})])


def _chunk_schema(dim: int):
    from pymilvus import Function, FunctionType

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("path", DataType.VARCHAR, max_length=4096)
    schema.add_field("gen", DataType.INT64)
    schema.add_field("ordinal", DataType.INT64)
    schema.add_field("title", DataType.VARCHAR, max_length=2048)
    schema.add_field("heading", DataType.VARCHAR, max_length=8192)
    schema.add_field("page", DataType.INT64, nullable=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65535)
    schema.add_field("tags", DataType.JSON)
    # What BM25 reads: the breadcrumb and text as SQLite FTS5's `porter unicode61` tokenizes them (milvus_terms),
    # split again on spaces by the standard analyzer, so Milvus Lite and a Milvus server count the same terms.
    schema.add_field("terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("suffix", DataType.VARCHAR, max_length=32)
    schema.add_field("note_tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=1024, max_length=512)
    schema.add_field("created", DataType.VARCHAR, max_length=10)
    schema.add_field("modified", DataType.VARCHAR, max_length=10)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                 output_field_names=["sparse"]))
    return schema


def _create(client: MilvusClient, name: str, schema, indexes) -> None:
    params = client.prepare_index_params()
    for field, kind, metric, extra in indexes:
        params.add_index(field, index_type=kind, metric_type=metric, params=extra)
    client.create_collection(name, schema=schema, consistency_level=STRONG)
    # An empty collection's index has nothing to build: sync=False skips pymilvus's fixed 0.5 s wait for it
    # (and the AllocTimestamp call Milvus Lite does not implement, which it logs as a traceback).
    client.create_index(name, params, sync=False)
    client.load_collection(name)


def drop_collections(client: MilvusClient, prefix: str) -> None:
    for name in names(prefix).values():
        if client.has_collection(name):
            client.drop_collection(name)


def has_collections(client: MilvusClient, prefix: str) -> bool:
    return all(client.has_collection(name) for name in names(prefix).values())
