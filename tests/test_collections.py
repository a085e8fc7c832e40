"""Collections (issue 16): several notes folders in one ragqa, each with its own index, searched one at a time
or together, through the real CLI (in this process) over real folders: ragqa's docs/, a slice of the shared
Obsidian vault and the shared PDFs, ingested with the real pipeline (MiniLM; E5 for the two-model test; the
seeded-hash embedder where the model is not the point).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from ragqa.collections import choose, collections
from ragqa.config import Settings, load_settings
from ragqa.errors import ConfigError

from helpers import forked_cli
from helpers.collection_configs import clean_env, ragqa, small_config, write_config
from helpers.data import REPO, need_shared
from helpers.settings import HASH

VAULT_NOTES = 60


# ---- settings -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "said"), [
    ("collections:\n  work: {notes_dir: a}\n  work: {notes_dir: b}\n", "'work' is given twice"),
    ("collections:\n  Work Notes: {notes_dir: a}\n", "not a short slug"),
    ("collections:\n  all: {notes_dir: a}\n", "not a short slug"),
    ("collections:\n  work: {notes_dir: a, colour: red}\n", "unknown key 'collections.work.colour'"),
    ("collections:\n  work: {}\n", "'collections.work.notes_dir' must be set"),
])
def test_a_bad_or_duplicate_collection_is_refused_in_one_line(tmp_path, text, said):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "c.yaml", environ={})
    assert said in str(err.value) and "\n" not in str(err.value)


def test_the_old_notes_dir_is_the_default_collection_and_keeps_its_index_folder(tmp_path):
    old = load_settings(write_config(tmp_path, {"notes_dir": "notes", "index_dir": "ix"}), environ={})
    [default] = choose(old, None)
    assert default.name == "default" and default.settings.index_path == old.index_path
    both = load_settings(write_config(tmp_path, {"notes_dir": "notes", "index_dir": "ix",
                                                 "collections": {"papers": {"notes_dir": "p"}}}), environ={})
    assert list(collections(both)) == ["default", "papers"]
    assert [c.name for c in choose(both, None)] == ["default"]  # no flag: default, when there is one
    assert collections(both)["papers"].settings.index_path == tmp_path / "ix" / "papers"
    assert [c.name for c in choose(both, "all")] == ["default", "papers"]
    with pytest.raises(ConfigError, match=r"no collection named 'nope': config\.yaml has default, papers"):
        choose(both, "papers,nope")


def test_two_collections_sharing_an_index_folder_are_refused():
    settings = Settings(collections={"a": {"notes_dir": "x", "index_dir": "same"},
                                     "b": {"notes_dir": "y", "index_dir": "same"}})
    with pytest.raises(ConfigError, match="'a' and 'b' would share the index folder"):
        collections(settings)


# ---- three real collections ---------------------------------------------------------------

@pytest.fixture(scope="module")
def three(tmp_path_factory, pdf_index, docs_index):
    """docs (ragqa's docs/), garden (60 notes of the shared vault) and papers (the shared PDFs), ingested
    together by one `ragqa ingest --collection all` (docs and papers start from copies of the session's indexes
    of them, so only garden is embedded here)."""
    vault, pdfs = need_shared("notes-lesleylai-digital-garden"), need_shared("pdfs")
    root = tmp_path_factory.mktemp("collections")
    shutil.copytree(pdf_index[0].index_path, root / "indexes" / "papers")  # the PDFs and docs/, each read
    shutil.copytree(docs_index.index_path, root / "indexes" / "docs")  # once per session
    garden = root / "garden"
    for note in sorted(vault.rglob("*.md"))[:VAULT_NOTES]:
        target = garden / note.relative_to(vault)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(note, target)
    config = write_config(root, {
        "index_dir": "indexes", "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(root / "cache")},
        "llm": {"provider": "none"}, "ocr": {"enabled": False},
        "collections": {"docs": {"notes_dir": str(REPO / "docs")}, "garden": {"notes_dir": "garden"},
                        "papers": {"notes_dir": str(pdfs), "include": ["*.pdf"]}}})
    summary = ragqa(config, "ingest", "--collection", "all", "--json")
    assert set(summary) == {"docs", "garden", "papers"}
    assert summary["garden"]["added"] == VAULT_NOTES
    assert summary["docs"]["unchanged"] == len(list((REPO / "docs").glob("*.md")))
    return config


def searcher_over(config: Path, spec: str):
    """The same searcher `ragqa search --collection SPEC` opens, in this process (many queries, one model)."""
    from types import SimpleNamespace

    from ragqa.cli.collection_args import open_searcher
    from ragqa.models.chat import NoChatModel

    settings = load_settings(config, environ={})
    return open_searcher(settings, SimpleNamespace(collection=spec), NoChatModel)[0]


@pytest.mark.slow
@pytest.mark.xdist_group("pdfs")  # the session's PDF and docs/ indexes: built once
def test_a_search_in_one_collection_never_returns_another_collections_passages(three):
    settings = load_settings(three, environ={})
    files, searchers = {}, {}
    for name, collection in collections(settings).items():
        folder = collection.settings.notes_path
        files[name] = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        searchers[name] = searcher_over(three, name)
    queries = []  # the opening words of passages of each collection's notes: queries aimed at one of them
    for searcher in searchers.values():
        hits = searcher.search("the", k=300, mode="bm25")
        queries += list(dict.fromkeys(" ".join(h.chunk.text.split()[:10]) for h in hits))[:15]
    assert len(queries) == 45
    for query in queries:
        for name, searcher in searchers.items():
            for hit in searcher.search(query, k=8):
                assert hit.chunk.collection == name and hit.chunk.path in files[name], (query, name, hit.chunk.path)


@pytest.mark.slow
@pytest.mark.xdist_group("pdfs")  # the session's PDF and docs/ indexes: built once
def test_all_puts_the_collection_a_query_is_aimed_at_on_top(three):
    aimed = {"docs": "What happens if ingest is killed or the machine crashes?",
             "papers": "Siege of Vicksburg guard rebel prisoners",
             "garden": None}
    garden = [r for r in ragqa(three, "search", "the", "--mode", "bm25", "-k", "50", "--collection", "garden",
                               "--json") if len(r["heading"].split()) >= 3]
    aimed["garden"] = garden[0]["heading"]
    for name, query in aimed.items():
        [top] = ragqa(three, "search", query, "-k", "1", "--collection", "all", "--json")
        assert top["collection"] == name, (query, top)
    only_pdfs = ragqa(three, "search", aimed["docs"], "--collection", "all", "--type", "pdf", "-k", "8", "--json")
    assert only_pdfs and {r["collection"] for r in only_pdfs} == {"papers"}  # filters apply within each one


@pytest.mark.slow
@pytest.mark.xdist_group("pdfs")  # the session's PDF and docs/ indexes: built once
def test_collections_lists_each_one_and_ask_cites_across_them(three):
    rows = ragqa(three, "collections", "--json")
    assert [r["name"] for r in rows] == ["docs", "garden", "papers"]
    assert all({"name", "notes_dir", "files", "chunks", "model", "last_ingest"} <= set(r) for r in rows)
    assert all(r["files"] > 0 and r["chunks"] > 0 and r["model"] == "all-MiniLM-L6-v2" for r in rows)
    reply = ragqa(three, "ask", "What happens if ingest is killed?", "--collection", "docs,papers", "--json")
    assert {s["collection"] for s in reply["sources"]} <= {"docs", "papers"}
    assert reply["citations"] and all(c["collection"] in {"docs", "papers"} for c in reply["citations"])
    status = ragqa(three, "status", "--collection", "docs,garden", "--json")
    assert set(status) == {"docs", "garden"} and status["garden"]["files"] == VAULT_NOTES


# ---- what changes under it ----------------------------------------------------------------

def test_an_index_from_before_collections_is_read_without_a_re_ingest(tmp_path, notes):
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder

    config = write_config(tmp_path, {"notes_dir": str(notes), "index_dir": "ix", "llm": {"provider": "none"},
                                     "embedding": {"model": HASH, "cache_dir": str(tmp_path / "c")}})
    settings = load_settings(config, environ={})
    ingest_folder(settings, load_embedder(settings.embedding))  # a single-folder index, as before collections
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "kites.md").write_text("# Kites\n\nA kite flies best in a steady sea breeze.\n")
    config = write_config(tmp_path, {**yaml.safe_load(config.read_text()),
                                     "collections": {"more": {"notes_dir": "more"}}})
    again = ragqa(config, "ingest", "--collection", "all", "--json")
    assert again["default"]["unchanged"] == 3 and again["default"]["chunks"] == 0  # nothing embedded again
    assert again["more"]["added"] == 1
    [top] = ragqa(config, "search", "sourdough starter", "-k", "1", "--json")  # no flag: the default one
    assert top["path"] == "bread.txt" and top["collection"] == "default"
    [kite] = searcher_over(config, "all").search("kite in the sea breeze", k=1)
    assert kite.chunk.collection == "more"


def test_two_collections_ingest_at_once_and_a_missing_folder_stops_only_its_own(tmp_path, notes):
    (tmp_path / "other").mkdir()
    for n in range(6):
        (tmp_path / "other" / f"n{n}.md").write_text(f"# Note {n}\n\nThe heron came back to pond {n}.\n" * 20)
    config = small_config(tmp_path, {"notes": str(notes), "other": "other", "gone": "not-there"}, model=HASH)
    env = {**clean_env(), "RAGQA_CONFIG": str(config)}
    first = forked_cli.start(["ingest", "--collection", "notes", "--json"], tmp_path, env, tmp_path / "a.out")
    second = forked_cli.start(["ingest", "--collection", "other", "--json"], tmp_path, env, tmp_path / "b.out")
    assert first.wait(300) == 0 and second.wait(300) == 0  # one writer per collection: neither waits
    assert json.loads((tmp_path / "a.out").read_text())["added"] == 3
    assert json.loads((tmp_path / "b.out").read_text())["added"] == 6
    out = ragqa(config, "ingest", "--collection", "all", "--json", ok=False)
    assert out.returncode == 1
    [said] = [line for line in out.stderr.splitlines() if line]  # one line, for the one that failed
    assert said.startswith(f"ragqa: collection gone: notes folder not found: {tmp_path / 'not-there'}")
    reply = json.loads(out.stdout)
    assert reply["notes"]["unchanged"] == 3 and reply["other"]["unchanged"] == 6 and "error" in reply["gone"]
    hits = searcher_over(config, "all").search("heron")  # gone has no index: skipped, the others searched
    assert hits and {h.chunk.collection for h in hits} <= {"notes", "other"}


def test_a_removed_collection_keeps_its_index_until_removed_with_confirmation(tmp_path, notes):
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder

    settings = {"index_dir": "ix", "llm": {"provider": "none"},
                "embedding": {"model": HASH, "cache_dir": str(tmp_path / "c")},
                "collections": {"notes": {"notes_dir": str(notes)}, "old": {"notes_dir": str(notes)}}}
    config = write_config(tmp_path, settings)
    old = collections(load_settings(config, environ={}))["old"].settings
    ingest_folder(old, load_embedder(old.embedding))
    del settings["collections"]["old"]
    config = write_config(tmp_path, settings)
    left = [r for r in ragqa(config, "collections", "--json") if r["name"] == "old"]
    assert left and left[0]["configured"] is False and left[0]["files"] == 3
    refused = ragqa(config, "collections", "--remove", "old", ok=False)  # no terminal to ask in
    assert refused.returncode == 1 and "add --yes" in refused.stderr
    assert (tmp_path / "ix" / "old").is_dir()
    still = ragqa(config, "collections", "--remove", "notes", "--yes", ok=False)
    assert still.returncode == 1 and "still in config.yaml" in still.stderr
    ragqa(config, "collections", "--remove", "old", "--yes")
    assert not (tmp_path / "ix" / "old").exists() and notes.is_dir() and (notes / "bread.txt").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("pdfs")  # the session's PDF and docs/ indexes: built once
def test_collections_with_different_embedding_models_are_searched_together(tmp_path, notes, e5, docs_index):
    config = write_config(tmp_path, {
        "index_dir": "ix", "llm": {"provider": "none"},
        "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(tmp_path / "cache")},
        "collections": {"docs": {"notes_dir": str(REPO / "docs")},
                        "notes": {"notes_dir": str(notes), "embedding_model": "intfloat/multilingual-e5-small"}}})
    shutil.copytree(docs_index.index_path, tmp_path / "ix" / "docs")  # docs/ with MiniLM, read once per session
    ingested = ragqa(config, "ingest", "--collection", "all", "--json")
    assert ingested["notes"]["added"] == 3 and ingested["docs"]["chunks"] == 0
    models = {r["name"]: r["model"] for r in ragqa(config, "collections", "--json")}
    assert models == {"docs": "all-MiniLM-L6-v2", "notes": "intfloat/multilingual-e5-small"}
    both = searcher_over(config, "all")
    for query, collection, path in [("How do I keep a sourdough starter alive?", "notes", "bread.txt"),
                                    ("What happens if ingest is killed or the machine crashes?", "docs", "FAQ.md")]:
        for mode in ("dense", "hybrid"):
            top = both.search(query, k=3, mode=mode)[0]
            assert (top.chunk.collection, top.chunk.path) == (collection, path), (query, mode, top.chunk.path)
    [top] = ragqa(config, "search", "sourdough starter", "--collection", "all", "-k", "1", "--json")  # the CLI
    assert (top["collection"], top["path"]) == ("notes", "bread.txt")
