"""The CLI's one-collection commands (ingest, status, related, topics, duplicates) return what they found, and
the CLI prints it: once for one collection, under a "== name ==" line each for several, or with --json as one
object keyed by collection name, a failing collection giving {"error"} while the others go on.

In this process (`main(argv)`), with a small real index (MiniLM, shared with the other tests).
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from ragqa.cli import main
from ragqa.cli.collection_args import Output, each_collection
from ragqa.config import load_settings
from ragqa.errors import IndexMissingError

NOTES = {"garden/tomatoes.md": "# Tomatoes\n\nTomatoes need six hours of sun. Water them twice a week.\n",
         "bread/sourdough.md": "# Sourdough\n\nFeed the starter every day with flour and water.\n"}


def two_collections(tmp_path: Path) -> Path:
    """config.yaml with collections `full` (two notes) and `empty` (a folder never ingested)."""
    for name, text in NOTES.items():
        (tmp_path / "full" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "full" / name).write_text(text, encoding="utf-8")
    (tmp_path / "empty").mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "index_dir": "ix", "llm": {"provider": "none"}, "ocr": {"enabled": False},
        "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(tmp_path / "cache")},
        "collections": {"full": {"notes_dir": "full"}, "empty": {"notes_dir": "empty"}}}), encoding="utf-8")
    return config


def test_each_collection_prints_what_the_command_returns(monkeypatch, capsys):
    from ragqa.cli import collection_args

    monkeypatch.setattr(collection_args, "chosen", lambda settings, args: [SimpleNamespace(name=n, settings=n)
                                                                             for n in ("a", "b")])
    seen = []

    def command(settings, args) -> Output:
        seen.append(settings)
        return Output({"name": settings, "ü": "ß"}, f"text of {settings}", ("a note",))

    runner = each_collection(command)
    assert runner(None, SimpleNamespace(json=True)) == 0
    as_json = capsys.readouterr()
    assert runner(None, SimpleNamespace(json=False)) == 0
    as_text = capsys.readouterr()
    assert json.loads(as_json.out) == {"a": {"name": "a", "ü": "ß"}, "b": {"name": "b", "ü": "ß"}}
    assert as_json.err == "ragqa: a note\nragqa: a note\n"
    assert as_text.out == "== a ==\ntext of a\n== b ==\ntext of b\n"
    assert seen == ["a", "b", "a", "b"]


def run(config: Path, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, minilm):
    """(config.yaml of two collections, what `ragqa ingest --collection full --json` printed), in this process."""
    config = two_collections(tmp_path_factory.mktemp("cli-output"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--config", str(config), "ingest", "--collection", "full", "--json"]) == 0
    return config, json.loads(out.getvalue())


def test_ingest_prints_its_json_contract_for_one_collection(ingested):
    _, summary = ingested
    assert set(summary) == {"added", "updated", "removed", "unchanged", "chunks", "seconds", "skipped"}
    assert (summary["added"], summary["updated"], summary["removed"]) == (2, 0, 0)


def test_status_of_several_is_one_object_and_a_failing_one_says_why(ingested, capsys):
    config, _ = ingested
    code, out, err = run(config, capsys, "status", "--collection", "all", "--json")
    assert code == 1  # one collection failed; the other still answered
    both = json.loads(out)
    assert both["full"]["files"] == 2 and both["full"]["types"] == {"markdown": 2}
    assert set(both["empty"]) == {"error"} and "ragqa ingest" in both["empty"]["error"]
    assert err == f"ragqa: collection empty: {both['empty']['error']}\n"


def test_status_in_words_names_each_collection_and_says_why_one_failed(ingested, capsys):
    config, _ = ingested
    code, out, err = run(config, capsys, "status", "--collection", "full,empty")
    assert code == 1
    full, empty = out.split("== empty ==")
    assert full.startswith("== full ==\nfiles 2 (markdown 2), chunks ")
    assert empty.strip() == ""
    assert err.count("\n") == 1 and err.startswith("ragqa: collection empty: ")


def test_a_one_collection_command_returns_its_output_and_prints_nothing(ingested, capsys):
    from ragqa.cli.index_commands import run_status
    from ragqa.collections import choose

    settings = load_settings(ingested[0], environ={})
    [full], [empty] = choose(settings, "full"), choose(settings, "empty")
    output = run_status(full.settings, SimpleNamespace(index=None, json=True, config=str(ingested[0])))
    assert capsys.readouterr().out == ""
    assert output.data["files"] == 2 and output.text.startswith("files 2")
    with pytest.raises(IndexMissingError):
        run_status(empty.settings, SimpleNamespace(index=None, json=True, config=str(ingested[0])))
