"""The index's format version: a newer index is refused (never overwritten), an older one opens as before.

Real SQLite files written by the real IndexWriter; only the manifest's `format` row is edited, as a newer
or older ragqa would have left it.
"""
from __future__ import annotations

import json
import logging
import sqlite3

import numpy as np
import pytest

from ragqa.errors import IndexFormatError, RagqaError
from ragqa.index.queries import file_records, index_version, read_snapshot
from ragqa.index.schema import DB_NAME, FORMAT_VERSION
from ragqa.index.store import FileRecord, IndexReader, IndexWriter
from ragqa.ingest.file_status import file_statuses
from ragqa.notes.vectors import load_note_vectors
from ragqa.records import Chunk

from helpers.settings import make_settings

IDENTITY = {"model": "test", "dim": 4, "chunk_tokens": 64}
NEWER = FORMAT_VERSION + 1


def build(folder, texts=("apple pie", "pear cake")):
    """An index of one note, written by the real writer."""
    chunks = [Chunk(path="a.md", title="A", heading="A", text=t, ordinal=i) for i, t in enumerate(texts)]
    vectors = np.eye(4, dtype=np.float32)[: len(texts)]
    writer = IndexWriter(folder, IDENTITY)
    writer.apply([(FileRecord("a.md", 1, 1, "sha", "markdown", "indexed", title="A"), chunks, vectors)])
    writer.publish()
    writer.close()


def set_format(folder, value) -> None:
    """Edit the manifest as another ragqa version would have written it (None: no format row at all)."""
    with sqlite3.connect(folder / DB_NAME) as conn:
        conn.execute("DELETE FROM manifest WHERE key = 'format'")
        if value is not None:
            conn.execute("INSERT INTO manifest(key, value) VALUES ('format', ?)", (json.dumps(value),))
    conn.close()


def manifest(folder) -> dict:
    with sqlite3.connect(folder / DB_NAME) as conn:
        rows = dict(conn.execute("SELECT key, value FROM manifest"))
    conn.close()
    return {k: json.loads(v) for k, v in rows.items()}


def chunk_count(folder) -> int:
    with sqlite3.connect(folder / DB_NAME) as conn:
        count = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    conn.close()
    return count


def test_a_new_index_records_this_format(tmp_path):
    build(tmp_path)
    assert manifest(tmp_path)["format"] == FORMAT_VERSION


def test_search_refuses_a_newer_index_in_one_line_that_says_what_to_do(tmp_path):
    build(tmp_path)
    set_format(tmp_path, NEWER)
    with pytest.raises(IndexFormatError) as refused:
        IndexReader(tmp_path, IDENTITY)
    message = str(refused.value)
    assert f"format {NEWER}" in message and "newer ragqa" in message
    assert "upgrade ragqa" in message and "`ragqa ingest --rebuild`" in message
    assert "\n" not in message


@pytest.mark.parametrize("read", [
    pytest.param(lambda folder: read_snapshot(folder).__enter__(), id="snapshot"),
    pytest.param(file_records, id="file_records"),
    pytest.param(index_version, id="index_version"),
    pytest.param(load_note_vectors, id="note_vectors"),
])
def test_every_reader_without_a_vector_backend_refuses_a_newer_index_too(tmp_path, read):
    build(tmp_path)
    set_format(tmp_path, NEWER)
    with pytest.raises(IndexFormatError, match=f"format {NEWER}"):
        read(tmp_path)


def test_file_status_reports_a_newer_index_as_a_ragqa_error(tmp_path):
    settings = make_settings(tmp_path)
    settings.notes_path.mkdir()
    build(settings.index_path)
    set_format(settings.index_path, NEWER)
    with pytest.raises(RagqaError, match="newer ragqa"):
        file_statuses(settings)


def test_an_ingest_never_overwrites_a_newer_index(tmp_path):
    build(tmp_path)
    set_format(tmp_path, NEWER)
    before = manifest(tmp_path)
    for identity in (IDENTITY, {**IDENTITY, "model": "other"}):  # the same config, and one that would rebuild
        with pytest.raises(IndexFormatError, match="upgrade ragqa"):
            IndexWriter(tmp_path, identity)
    assert manifest(tmp_path) == before and chunk_count(tmp_path) == 2


def test_rebuild_replaces_a_newer_index_whatever_its_tables_look_like(tmp_path):
    build(tmp_path)
    set_format(tmp_path, NEWER)
    old_generation = manifest(tmp_path)["generation"]
    with sqlite3.connect(tmp_path / DB_NAME) as conn:  # a newer layout: columns this version does not fill
        conn.execute("DROP TABLE chunks")
        conn.execute("CREATE TABLE chunks (id INTEGER PRIMARY KEY, path TEXT NOT NULL, summary TEXT NOT NULL)")
        conn.execute("CREATE TABLE links (source TEXT, target TEXT)")
    conn.close()
    writer = IndexWriter(tmp_path, IDENTITY, rebuild=True)
    assert writer.rebuilt and writer.vectors.count() == 0
    writer.close()
    build(tmp_path, texts=("plum jam",))
    written = manifest(tmp_path)
    assert written["format"] == FORMAT_VERSION
    assert written["generation"] > old_generation  # so no vector file of the replaced index is ever reused
    reader = IndexReader(tmp_path, IDENTITY)
    (hit,) = reader.hits(reader.dense(np.eye(4, dtype=np.float32)[0], 5))
    assert hit.chunk.text == "plum jam"
    reader.close()


@pytest.mark.parametrize("old", [None, 0], ids=["no format", "format 0"])
def test_an_older_index_opens_as_before_and_records_the_format_on_the_next_ingest(tmp_path, old, caplog):
    build(tmp_path)
    set_format(tmp_path, old)
    reader = IndexReader(tmp_path, IDENTITY)
    assert reader.hits(reader.dense(np.eye(4, dtype=np.float32)[1], 1))[0].chunk.text == "pear cake"
    reader.close()
    assert len(load_note_vectors(tmp_path)) == 1 and "a.md" in file_records(tmp_path)
    with caplog.at_level(logging.INFO, logger="ragqa.index.writer"):
        IndexWriter(tmp_path, IDENTITY).close()
    assert manifest(tmp_path)["format"] == FORMAT_VERSION and chunk_count(tmp_path) == 2  # kept, not rebuilt
    (line,) = [r.getMessage() for r in caplog.records if r.name == "ragqa.index.writer"]
    assert f"format {FORMAT_VERSION}" in line and "\n" not in line
