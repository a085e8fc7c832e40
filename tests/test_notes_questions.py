"""Questions about the real 1,186-note vault itself, answered exactly: through `ragqa ask --json` (the CLI, in
process), `ragqa search` with date filters, and the HTTP API. Gold answers come from ../shared/data/notes-qa.

The vault is the session's shared copy (conftest.vault_index, MiniLM); no language model is started.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragqa.cli import main

from helpers.data import need_shared

pytestmark = [pytest.mark.slow, pytest.mark.shared_data("notes-lesleylai-digital-garden", "notes-qa")]


@pytest.fixture(scope="module")
def config(vault_index, tmp_path_factory) -> Path:
    settings, _ = vault_index
    path = tmp_path_factory.mktemp("vault-config") / "config.yaml"
    path.write_text(json.dumps({"notes_dir": str(settings.notes_path), "index_dir": str(settings.index_path),
                                "embedding": settings.embedding.model_dump(), "llm": {"provider": "local"},
                                "ocr": {"enabled": False}}), encoding="utf-8")
    return path


def ragqa_json(config: Path, capsys, *argv: str):
    assert main(["--config", str(config), *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def dev(kind: str) -> list[dict]:
    lines = (need_shared("notes-qa") / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [q for q in map(json.loads, lines) if q["kind"] == kind]


def cited(answer: dict) -> list[str]:
    return sorted(c["path"] for c in answer["citations"])


@pytest.mark.parametrize("kind", ["tag_list", "month_list", "backlinks"])
def test_list_and_links_questions_cite_exactly_the_gold_notes(config, capsys, kind):
    for question in dev(kind)[:3]:
        answer = ragqa_json(config, capsys, "ask", question["question"])
        assert cited(answer) == question["gold"], question["question"]
        assert answer["model"] == "notes index" and answer["first_token_seconds"] is None  # no model was asked
        assert answer["plan"]["kind"] == ("links" if kind == "backlinks" else "list")


def test_count_questions_say_the_gold_number(config, capsys):
    for question in dev("tag_count"):
        answer = ragqa_json(config, capsys, "ask", question["question"])
        assert answer["answer"].startswith(f"You have {question['gold']} notes tagged #"), question["question"]
        assert len(answer["citations"]) == question["gold"]


def test_a_tag_within_a_year(config, capsys):
    [question] = [q for q in dev("tag_year") if q["key"] == "('math/convolution', '2024')"]
    answer = ragqa_json(config, capsys, "ask", question["question"])
    assert cited(answer) == question["gold"]
    assert answer["plan"]["filters"] == {"tags": ["math/convolution"],
                                         "created": {"from": "2024-01-01", "to": "2024-12-31"}}


def test_relative_dates_count_from_today(config, capsys, monkeypatch):
    monkeypatch.setenv("RAGQA_TODAY", "2021-01-15")
    answer = ragqa_json(config, capsys, "ask", "What did I write last month?")
    assert answer["plan"]["filters"] == {"created": {"from": "2020-12-01", "to": "2020-12-31"}}
    [december] = [q for q in dev("month_list") if q["key"] == "2020-12"]
    assert cited(answer) == december["gold"]


def test_a_long_list_names_twenty_and_cites_all(config, capsys):
    answer = ragqa_json(config, capsys, "ask", "Which notes are tagged #MOC?")
    assert len(answer["citations"]) == 44 and answer["answer"].count("\n") == 21
    assert answer["answer"].endswith("…and 24 more (all 44 are among the sources; `ragqa ask --json` lists them).")


def test_search_takes_date_filters_and_nested_tags(config, capsys):
    rows = ragqa_json(config, capsys, "search", "memory", "-k", "50", "--tag", "computing/cuda",
                      "--created-after", "2020-12-01", "--created-before", "2020-12-31")
    [december] = [q for q in dev("month_list") if q["key"] == "2020-12"]
    assert rows and {r["path"] for r in rows} <= set(december["gold"])
    assert {r["path"] for r in rows} == {"Concepts/CUDA global and constant memory.md",
                                         "Concepts/CUDA memory and cache architecture.md"}


def test_a_bad_date_is_one_line(config, capsys):
    with pytest.raises(SystemExit):
        main(["--config", str(config), "search", "x", "--created-after", "someday"])
    assert "'someday' is not a date (write it as YYYY-MM-DD)" in capsys.readouterr().err


def test_the_api_answers_a_count_from_the_index_and_searches_by_date(vault_index):
    from fastapi.testclient import TestClient

    from ragqa.api.app import create_app

    settings, _ = vault_index
    local = settings.model_copy(update={"llm": settings.llm.model_copy(update={"provider": "local"})})
    client = TestClient(create_app(local), base_url="http://127.0.0.1")
    reply = client.post("/v1/chat/completions", json={
        "model": "ragqa", "messages": [{"role": "user", "content": "How many notes do I have tagged #physics?"}]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["choices"][0]["message"]["content"].startswith("You have 13 notes tagged #physics")
    assert body["plan"] == {"kind": "count", "filters": {"tags": ["physics"]}, "topic": ""}
    assert len(body["citations"]) == 13
    rows = client.post("/v1/search", json={"query": "memory", "k": 50, "created_after": "2020-12-01",
                                           "created_before": "December 31, 2020"}).json()
    [december] = [q for q in dev("month_list") if q["key"] == "2020-12"]
    assert {r["path"] for r in rows} == set(december["gold"])  # every passage of those 3 notes, no other
    bad = client.post("/v1/search", json={"query": "x", "created_after": "someday"})
    assert bad.status_code == 400 and "'someday' is not a date" in bad.json()["error"]["message"]
