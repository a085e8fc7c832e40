"""`ragqa mcp --http`: the same server over Streamable HTTP, under the token and loopback rules of `ragqa serve`.
A real server process on a free port over the docs/ sample, spoken to by the SDK's real client (with and without
the token) and by plain HTTP; SmolLM2 for ask_notes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from helpers.data import REPO
from helpers.local_model import SMOLLM2, live
from helpers.mcp_client import McpSession, docs_config, stop_leftover_llm
from helpers.net import free_port, stop_group

pytestmark = pytest.mark.slow  # one server process: torch and MiniLM load in it (in the background)

TOKEN_ENV = "RAGQA_TEST_MCP_TOKEN"
TOKEN = "mcp-s3cret-for-tests"
QUESTION = "How does ragqa keep the index safe if ingest is killed?"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "curl", "version": "1"}}}


def post(url: str, body: dict, headers: dict | None = None) -> tuple[int, str]:
    """(status, body) of one plain POST, as curl would send it."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory, docs_index):
    """(the /mcp URL, the config) of `ragqa mcp --http` with a token, stopped by SIGTERM at the end."""
    tmp = tmp_path_factory.mktemp("mcp-http")
    config = docs_config(tmp, docs_index.index_path, SMOLLM2, api={"token_env": TOKEN_ENV})
    port, log = free_port(), tmp / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "ragqa", "--config", str(config), "mcp", "--http", "--port",
                                    str(port)], cwd=REPO, env={**os.environ, TOKEN_ENV: TOKEN}, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 60
    while True:  # up once it answers (a 401: no token was sent)
        assert process.poll() is None, log.read_text(errors="replace")[-2000:]
        assert time.monotonic() < deadline, "ragqa mcp --http did not answer in 60 s"
        try:
            post(url, INITIALIZE)
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield url, config
    finally:
        stop_group(process)
        left = stop_leftover_llm(config)
    assert not left, "ragqa mcp --http left its local LLM server running after SIGTERM"


@pytest.fixture(scope="module")
def mcp(server):
    session = McpSession(server[0], headers={"Authorization": f"Bearer {TOKEN}"})  # the 2026 protocol, or legacy
    yield session
    session.close()


def test_without_the_token_every_request_is_refused(server):
    status, body = post(server[0], INITIALIZE)
    assert status == 401 and "Authorization: Bearer" in json.loads(body)["error"]["message"]
    assert post(server[0], INITIALIZE, {"Authorization": "Bearer wrong"})[0] == 401
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the SDK raises, no session is made
        McpSession(server[0])


def test_a_request_naming_another_host_is_refused(server):
    # a web page's script reaching 127.0.0.1 through a rebound DNS name still sends its own Host
    status, _ = post(server[0], INITIALIZE, {"Authorization": f"Bearer {TOKEN}", "Host": "evil.example:8765"})
    assert status == 421


def test_with_the_token_a_client_searches_and_reads_the_notes(mcp):
    assert {t.name for t in mcp.run(mcp.client.list_tools).tools} == {
        "search_notes", "ask_notes", "read_note", "related_notes", "list_collections", "index_status"}
    failed, rows = mcp.call("search_notes", query=QUESTION, k=3)
    assert not failed and "RELIABILITY.md" in [row["path"] for row in rows]
    failed, note = mcp.call("read_note", path=rows[0]["path"])
    assert not failed and note["text"] == (REPO / "docs" / rows[0]["path"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", ["../README.md", "/etc/passwd", "%2e%2e/README.md", "ragqa://default/..%2FREADME.md",
                                  "README.md"])
def test_read_note_refuses_a_path_out_of_the_notes(mcp, path):
    failed, message = mcp.call("read_note", path=path)
    assert failed and str(REPO) not in message


@live
def test_ask_notes_answers_over_http_as_over_stdio(mcp):
    failed, reply = mcp.call("ask_notes", question=QUESTION)
    assert not failed and reply["generated"] and reply["sources"] and "citations" in reply


def test_an_open_host_without_a_token_is_refused_at_start(tmp_path, docs_index, capsys):
    from ragqa.cli import main

    config = docs_config(tmp_path, docs_index.index_path, {"provider": "none"}, api={"token_env": TOKEN_ENV})
    assert main(["--config", str(config), "mcp", "--http", "--host", "0.0.0.0"]) == 2
    assert "refusing to serve on 0.0.0.0 without a token" in capsys.readouterr().err
