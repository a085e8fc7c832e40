"""The index folder format: transactions, FAISS mirror, mismatch checks, atomic files, versions.
Real FAISS, real SQLite."""
from pathlib import Path

import numpy as np
import pytest

from ragqa.atomic import replacing, write_atomically
from ragqa.errors import IndexMismatchError, IndexMissingError
from ragqa.index.faiss_vectors import FaissVectors
from ragqa.index.queries import index_file_id, index_version
from ragqa.index.store import FileRecord, IndexReader, IndexWriter
from ragqa.records import Chunk

IDENTITY = {"model": "test", "dim": 4, "chunk_tokens": 64}


def unit(*xs):
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def note(path, texts):
    chunks = [Chunk(path=path, title=path, heading=path, text=t, ordinal=i, tags=["t"]) for i, t in enumerate(texts)]
    return FileRecord(path, 1, 1, "sha-" + path, "markdown", "indexed", title=path), chunks


def write(folder, files, removed=(), identity=IDENTITY, rebuild=False):
    writer = IndexWriter(folder, identity, rebuild=rebuild)
    writer.apply(files, removed=list(removed))
    writer.publish()
    writer.close()


def test_reader_without_index_says_to_ingest(tmp_path):
    with pytest.raises(IndexMissingError, match="run `ragqa ingest` first"):
        IndexReader(tmp_path / "nothing")


def test_replacing_a_file_removes_its_old_chunks_from_both_sqlite_and_faiss(tmp_path):
    rec, chunks = note("a.md", ["apple pie", "apple tart"])
    write(tmp_path, [(rec, chunks, np.stack([unit(1, 0, 0, 0), unit(1, 1, 0, 0)]))])
    rec, chunks = note("a.md", ["pear cake"])
    write(tmp_path, [(rec, chunks, np.stack([unit(0, 0, 1, 0)]))])
    reader = IndexReader(tmp_path, IDENTITY)
    assert reader.stats()["chunks"] == 1
    assert reader.vectors.count() == 1
    (hit,) = reader.hits(reader.dense(unit(1, 0, 0, 0), 5))
    assert hit.chunk.text == "pear cake"


def test_removed_file_leaves_no_chunk_no_vector_no_bm25_entry(tmp_path):
    a, ca = note("a.md", ["zebra crossing"])
    b, cb = note("b.md", ["yellow submarine"])
    write(tmp_path, [(a, ca, np.stack([unit(1, 0, 0, 0)])), (b, cb, np.stack([unit(0, 1, 0, 0)]))])
    write(tmp_path, [], removed=["a.md"])
    reader = IndexReader(tmp_path, IDENTITY)
    assert [f.path for f in reader.files()] == ["b.md"]
    assert reader.vectors.count() == 1
    assert reader.bm25(["zebra"], 5) == []
    assert len(reader.bm25(["submarine"], 5)) == 1


def test_stale_or_missing_faiss_file_is_rebuilt_from_sqlite(tmp_path):
    a, ca = note("a.md", ["one", "two"])
    write(tmp_path, [(a, ca, np.stack([unit(1, 0, 0, 0), unit(0, 1, 0, 0)]))])
    for f in tmp_path.glob("vectors.*.faiss"):
        f.write_bytes(b"garbage")  # as if a crash left a broken file
    reader = IndexReader(tmp_path, IDENTITY)
    assert reader.vectors.count() == 2
    assert reader.hits(reader.dense(unit(0, 1, 0, 0), 1))[0].chunk.text == "two"


def test_search_with_another_model_is_refused_with_rebuild_advice(tmp_path):
    a, ca = note("a.md", ["x"])
    write(tmp_path, [(a, ca, np.stack([unit(1, 0, 0, 0)]))])
    with pytest.raises(IndexMismatchError, match=r"model is 'test' in the index but 'other'.*--rebuild"):
        IndexReader(tmp_path, {**IDENTITY, "model": "other"})


def test_writer_with_changed_identity_starts_a_clean_index_with_new_dimension(tmp_path):
    a, ca = note("a.md", ["x"])
    write(tmp_path, [(a, ca, np.stack([unit(1, 0, 0, 0)]))])
    other = {"model": "big", "dim": 8, "chunk_tokens": 64}
    writer = IndexWriter(tmp_path, other)
    assert writer.rebuilt
    assert writer.vectors.count() == 0 and writer.vectors.dim == 8
    writer.close()


def test_faiss_files_of_old_generations_are_removed(tmp_path):
    for i in range(3):
        rec, chunks = note(f"n{i}.md", ["t"])
        write(tmp_path, [(rec, chunks, np.stack([unit(1, i, 0, 0)]))])
    assert len(list(tmp_path.glob("vectors.*.faiss"))) == 1


def test_filtered_dense_search_only_returns_allowed_ids():
    store = FaissVectors(Path("."), 4)
    store.add(np.array([10, 20]), np.stack([unit(1, 0, 0, 0), unit(0.9, 0.1, 0, 0)]))
    ids, _ = store.search(unit(1, 0, 0, 0), 5, allowed_ids=np.array([20]))
    assert ids.tolist() == [20]


def test_a_failed_replace_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "state.json"
    write_atomically(target, "old")

    def killed_mid_write():
        with replacing(target) as temp:
            temp.write_text("half of the new")
            raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError, match="killed mid-write"):
        killed_mid_write()
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    write_atomically(target, b"new")
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]


def test_index_version_moves_with_each_commit_and_with_an_index_built_again(tmp_path):
    index = tmp_path / "index"
    with pytest.raises(IndexMissingError, match="run `ragqa ingest` first"):
        index_version(index)
    rec, chunks = note("a.md", ["x"])
    write(index, [(rec, chunks, np.stack([unit(1, 0, 0, 0)]))])
    first = index_version(index)
    write(index, [(rec, chunks, np.stack([unit(0, 1, 0, 0)]))])
    second = index_version(index)
    assert second[:2] == first[:2] == (str(index), index_file_id(index)) and second[2] == first[2] + 1
    index.rename(tmp_path / "old")  # the folder replaced by one built from nothing
    write(index, [(rec, chunks, np.stack([unit(1, 0, 0, 0)]))])
    assert index_version(index)[1] != first[1]


def test_an_index_created_between_two_looks_is_read_not_a_traceback(tmp_path, monkeypatch):
    """The race a first ingest made visible in the browser: the file is absent at the first look and there
    at the second (a real index; only the first look is made to miss it)."""
    from pathlib import Path

    index = tmp_path / "index"
    rec, chunks = note("a.md", ["x"])
    write(index, [(rec, chunks, np.stack([unit(1, 0, 0, 0)]))])
    real_stat, missed = Path.stat, []

    def first_look_misses(self, *args, **kwargs):
        if self.name == "index.sqlite" and not missed:
            missed.append(self)
            raise FileNotFoundError(self)
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", first_look_misses)
    assert index_file_id(index) == real_stat(index / "index.sqlite").st_ino and missed
