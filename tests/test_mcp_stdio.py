"""`ragqa mcp` on stdio, as Claude Desktop, Cursor and Claude Code start it: the SDK's real client starts the
real command as a subprocess over the docs/ sample (indexed once with MiniLM), with the tiny local SmolLM2 for
ask_notes. One server process serves the whole module; its stdout is recorded on the way (through `tee`), so
the last test can check that nothing but protocol messages ever reached it.
"""
from __future__ import annotations

import json
import os
import sys

import pytest
from mcp import StdioServerParameters

from helpers.data import REPO
from helpers.local_model import SMOLLM2, live, local_model_missing
from helpers.mcp_client import McpSession, docs_config, stop_leftover_llm

pytestmark = pytest.mark.slow  # one server process: torch and MiniLM load in it (in the background)

QUESTION = "How does ragqa keep the index safe if ingest is killed?"
RIGHT_NOTE = "RELIABILITY.md"
TOOLS = {"search_notes", "ask_notes", "read_note", "related_notes", "list_collections", "index_status"}
# README: JSON contracts, `ragqa ask --json`
ASK_JSON = {"answer", "citations", "sources", "model", "prompt_tokens", "seconds", "first_token_seconds", "generated",
            "search_query", "error", "invalid_citations", "quoted", "plan"}
DOCS = sorted(p.name for p in (REPO / "docs").glob("*.md"))


@pytest.fixture(scope="module")
def served(tmp_path_factory, docs_index):
    """(the connected session, its config.yaml, the files its stdout and stderr went to)."""
    tmp = tmp_path_factory.mktemp("mcp-stdio")
    config = docs_config(tmp, docs_index.index_path, SMOLLM2)
    stdout, stderr = tmp / "stdout.log", tmp / "stderr.log"
    # run from the repo, so that README.md and pyproject.toml lie in the server's working folder: the escapes
    # below show that a path is never looked up there
    command = f'"{sys.executable}" -m ragqa --config "{config}" mcp 2>>"{stderr}" | tee "{stdout}"'
    params = StdioServerParameters(command="/bin/sh", args=["-c", command], cwd=str(REPO), env=dict(os.environ))
    session = McpSession(params, mode="legacy")  # the initialize handshake, as today's desktop clients do
    try:
        yield session, config, stdout, stderr
    finally:
        session.close()
        left = stop_leftover_llm(config)
    # the client closed stdin: ragqa exits normally and stops the local LLM server it started
    assert not left, "ragqa mcp left its local LLM server running after its client went away"


@pytest.fixture(scope="module")
def mcp(served) -> McpSession:
    return served[0]


def test_a_client_lists_six_tools_each_with_a_schema_and_a_description_for_the_model(mcp):
    tools = {t.name: t for t in mcp.run(mcp.client.list_tools).tools}
    assert set(tools) == TOOLS  # no ingest_notes: mcp.allow_ingest is false
    for tool in tools.values():
        assert tool.input_schema["type"] == "object" and len(tool.description) > 100, tool.name
    search = tools["search_notes"].input_schema
    assert search["required"] == ["query"] and search["properties"]["k"]["default"] == 5
    assert {"collection", "folder", "tag", "type"} <= set(search["properties"])
    assert "pdf" in search["properties"]["type"]["anyOf"][0]["enum"]
    assert tools["read_note"].input_schema["required"] == ["path"]
    assert "search_notes" in tools["ask_notes"].description  # the assistant may answer by itself from it
    assert tools["search_notes"].annotations.read_only_hint


def test_search_notes_puts_the_note_that_answers_in_the_top_3(mcp):
    failed, rows = mcp.call("search_notes", query=QUESTION, k=3)
    assert not failed and len(rows) == 3
    assert RIGHT_NOTE in [row["path"] for row in rows]
    assert set(rows[0]) == {"path", "title", "heading", "page", "score", "text", "collection"}


def test_search_notes_returns_exactly_what_ragqa_search_json_prints(mcp, served, capsys):
    from ragqa.cli import main

    failed, rows = mcp.call("search_notes", query="how are citations checked", k=4, type="markdown")
    assert main(["--config", str(served[1]), "search", "how are citations checked", "-k", "4", "--type", "markdown",
                 "--json"]) == 0
    assert not failed and rows == json.loads(capsys.readouterr().out)


@live
def test_ask_notes_returns_what_ragqa_ask_json_prints(mcp):
    failed, reply = mcp.call("ask_notes", question=QUESTION)
    assert not failed and set(reply) == ASK_JSON
    assert reply["generated"] and "smollm2" in reply["model"] and reply["error"] is None
    assert reply["answer"].strip() and reply["sources"]
    assert {s["path"] for s in reply["sources"]} <= set(DOCS)
    assert all(row["path"] == reply["sources"][row["n"] - 1]["path"] for row in reply["citations"])


def test_read_note_returns_an_indexed_note_as_it_is_in_its_file(mcp):
    failed, note = mcp.call("read_note", path="FAQ.md")
    assert not failed
    assert note["text"] == (REPO / "docs" / "FAQ.md").read_text(encoding="utf-8")
    assert (note["path"], note["kind"], note["collection"], note["truncated"]) == ("FAQ.md", "markdown", "default",
                                                                                  False)


ESCAPES = [
    "../README.md", "../../../../../../etc/passwd", "/etc/passwd", str(REPO / "docs" / "FAQ.md"), "~/.bashrc",
    "FAQ.md\x00.png", "..\\README.md", "docs\\..\\README.md", "./../README.md", "GUIDE.md/../../README.md",
    "%2e%2e/README.md", "%2E%2E%2FREADME.md", "..%2fREADME.md", "ragqa://default/..%2FREADME.md",
    "ragqa://default/%2e%2e/%2e%2e/etc/passwd", "file:///etc/passwd", "C:\\Windows\\win.ini",
    "README.md", "pyproject.toml", "docs/FAQ.md",  # beside the server in its working folder, but not notes
]


@pytest.mark.parametrize("path", ESCAPES)
def test_read_note_refuses_a_path_that_is_not_an_indexed_note_and_names_no_server_path(mcp, served, path):
    failed, message = mcp.call("read_note", path=path)
    assert failed, message
    said = message.replace(path, "")  # the client's own words may be quoted back, nothing of the server's
    assert "\n" not in message and str(REPO) not in said and str(served[1].parent) not in said
    assert "root:" not in message and "[project]" not in message  # nothing of /etc/passwd or pyproject.toml


def test_related_notes_checks_its_path_the_same_way(mcp):
    failed, rows = mcp.call("related_notes", path="FAQ.md", k=3)
    assert not failed and len(rows) == 3 and "FAQ.md" not in [r["path"] for r in rows]
    failed, message = mcp.call("related_notes", path="../README.md")
    assert failed and "not a note's path" in message


def test_every_indexed_note_is_a_resource_read_like_read_note(mcp):
    listed = mcp.run(mcp.client.list_resources)
    assert listed.next_cursor is None  # 8 notes: one page
    assert sorted(r.uri for r in listed.resources) == [f"ragqa://default/{name}" for name in DOCS]
    read = mcp.run(mcp.client.read_resource, "ragqa://default/GUIDE.md").contents[0]
    assert read.text == (REPO / "docs" / "GUIDE.md").read_text(encoding="utf-8") and read.mime_type == "text/markdown"


def test_the_prompt_asks_for_an_answer_from_the_notes_with_citations(mcp):
    prompts = mcp.run(mcp.client.list_prompts).prompts
    assert [(p.name, p.title) for p in prompts] == [("answer-from-notes", "Answer from my notes with citations")]
    text = mcp.run(mcp.client.get_prompt, "answer-from-notes", {"question": QUESTION}).messages[0].content.text
    assert QUESTION in text and "search_notes" in text and "cite" in text


def test_index_status_says_what_the_index_holds_and_where_the_embedder_is(mcp):
    failed, status = mcp.call("index_status")
    assert not failed and status["collections"]["default"]["files"] == len(DOCS)
    assert status["embedder"].startswith(("loading in the background", "loaded"))
    assert "ragqa ingest" in status["ingest"]


def test_nothing_but_protocol_messages_reach_stdout(mcp, served):
    mcp.call("search_notes", query="sourdough")  # the embedding model is loaded by now
    if not local_model_missing():  # llama.cpp started as a child, writing its own logs
        mcp.call("ask_notes", question="What is hybrid search?")
    lines = served[2].read_text(encoding="utf-8").splitlines()
    for line in lines:
        assert line.startswith("{") and json.loads(line)["jsonrpc"] == "2.0", line[:200]
    assert len(lines) >= 2  # at least the answers to initialize and to the search
    assert "ragqa MCP server on stdio" in served[3].read_text()  # what it has to say went to stderr
