"""`ragqa serve`: a real server process on a free port over a small real index (MiniLM), driven by the real
`openai` package and by plain HTTP. Chat answers come from the tiny bundled SmolLM2 on llama.cpp; its wording
is never asserted, only what ragqa guarantees around it (the [n] markers, citations, usage, OpenAI's shapes).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from helpers.api_server import LLM, TOKEN_ENV, Server, serve_settings
from helpers.data import REPO
from helpers.garden_notes import write_garden_notes
from helpers.local_model import live
from helpers.net import free_port

# Every test here talks to a real server process that loads torch and MiniLM first (~20-30 s on a busy machine).
pytestmark = pytest.mark.slow

TOKEN = "s3cret-token-for-tests"
CITATION = re.compile(r"\[\d+\]")
CITATION_ROW = {"n", "path", "heading", "page", "text", "collection"}  # a row of `ragqa ask --json` citations
QUESTION = "What does sourdough bread rise with?"  # SmolLM2 answers it with a [1] over these notes


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`ragqa serve` with a token, SmolLM2 for chat, a 64 KB body cap, over three ingested notes."""
    tmp = tmp_path_factory.mktemp("api")
    write_garden_notes(tmp / "notes")
    running = Server(tmp, serve_settings(tmp, LLM, api={"token_env": TOKEN_ENV, "max_request_kb": 64}), token=TOKEN)
    try:
        status, report = running.request("POST", "/v1/ingest", {"wait": 60})
        assert status == 200 and report["added"] == 6, report
        yield running
    finally:
        left = running.stop()
    # stopped as a service manager stops it (SIGTERM), it stops the local LLM server it started, as on Ctrl-C
    assert not left, f"ragqa serve left its local LLM server (pid {left}) running after SIGTERM"


@pytest.fixture(scope="module")
def client(server):
    import openai

    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=TOKEN, max_retries=0, timeout=300)


def _is_openai_error(body, code: str) -> bool:
    return set(body) >= {"error"} and set(body["error"]) == {"message", "type", "code"} \
        and body["error"]["code"] == code and "\n" not in body["error"]["message"]


# ---- the OpenAI-shaped endpoints, through the real openai package ---------------------------

def test_models_lists_ragqa(client):
    assert [m.id for m in client.models.list()] == ["ragqa", "ragqa/default"]  # all, and each collection


def test_embeddings_use_the_query_and_passage_prompts(client):
    text = "How much sun do tomatoes need?"
    query = client.embeddings.create(model="ragqa", input=[text, "sourdough"]).data
    passage = client.embeddings.create(model="ragqa", input=text, extra_body={"input_type": "passage"}).data
    assert len(query) == 2 and len(query[0].embedding) == len(passage[0].embedding) == 384  # MiniLM
    assert abs(sum(x * x for x in query[0].embedding) - 1) < 1e-3  # normalised, as ragqa stores them
    assert query[0].embedding != query[1].embedding
    assert query[0].embedding != passage[0].embedding  # "query: " and "passage: " prompts
    again = client.embeddings.create(model="ragqa", input=text, encoding_format="float",
                                     extra_body={"input_type": "query"}).data[0].embedding
    assert max(abs(a - b) for a, b in zip(again, query[0].embedding, strict=True)) < 1e-5  # query is the default


@live
def test_chat_answers_with_citations_and_usage(client, server):
    reply = client.chat.completions.create(model="ragqa", messages=[
        {"role": "user", "content": QUESTION}])
    content = reply.choices[0].message.content
    assert CITATION.search(content), content
    citations = reply.model_extra["citations"]
    assert citations and all(set(row) == CITATION_ROW for row in citations)
    assert all((Path(server.settings["notes_dir"]) / row["path"]).is_file() for row in citations)
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


@live
def test_chat_streams_with_citations_in_the_final_chunk(client):
    chunks = list(client.chat.completions.create(model="ragqa", stream=True, messages=[
        {"role": "user", "content": QUESTION}]))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) > 3 and CITATION.search(content), content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"] and all(set(r) == CITATION_ROW for r in last.model_extra["citations"])
    assert last.usage.completion_tokens > 0
    assert all("citations" not in c.model_extra for c in chunks[:-1])


@live
def test_an_open_webui_style_plain_streamed_post_works(server):
    body = json.dumps({"model": "ragqa", "stream": True,
                       "messages": [{"role": "user", "content": QUESTION}]}).encode()
    request = urllib.request.Request(f"{server.url}/v1/chat/completions", data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=300) as reply:
        assert reply.headers["Content-Type"].startswith("text/event-stream")
        lines = [line.decode().strip() for line in reply if line.strip()]
    assert all(line.startswith("data: ") for line in lines) and lines[-1] == "data: [DONE]"
    events = [json.loads(line[6:]) for line in lines[:-1]]
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events).strip()
    assert events[-1]["citations"] and events[-1]["usage"]["total_tokens"] > 0


# ---- ragqa's endpoints: the CLI's JSON ------------------------------------------------------

def test_search_returns_exactly_ragqa_search_json(server):
    # bm25: the CLI then starts in 2 s instead of loading torch and MiniLM again (~25 s on a busy machine);
    # both faces call the same search_json, so the mode does not change what is compared
    status, rows = server.request("POST", "/v1/search", {"query": "tomato pests", "k": 3, "mode": "bm25"})
    assert status == 200 and rows
    assert rows == server.cli("search", "tomato pests", "-k", "3", "--mode", "bm25", "--json")
    status, hybrid = server.request("POST", "/v1/search", {"query": "tomato pests", "k": 3})
    assert status == 200 and [set(r) for r in hybrid] == [set(r) for r in rows]
    status, only = server.request("POST", "/v1/search", {"query": "tomato", "folder": "garden", "type": ["markdown"]})
    assert status == 200 and only and all(r["path"].startswith("garden/") for r in only)


def test_status_returns_exactly_ragqa_status_json(server):
    status, stats = server.request("GET", "/v1/status")
    assert status == 200 and stats == server.cli("status", "--json") and stats["files"] == 6


def test_related_returns_ragqa_related_json_and_stays_inside_the_index(server):
    status, rows = server.request("GET", "/v1/related?path=rust.md&k=2")
    assert status == 200 and rows == server.cli("related", "rust.md", "-k", "2", "--json")
    for outside in ("../../etc/passwd", "%2Fetc%2Fpasswd", "garden/..%2F..%2Fsecret.md"):
        status, body = server.request("GET", f"/v1/related?path={outside}")
        assert status == 400 and _is_openai_error(body, "bad_path"), (outside, body)
    status, body = server.request("GET", "/v1/related?path=nothere.md")
    assert status == 404 and _is_openai_error(body, "note_not_found")


def test_bad_requests_are_400_in_openai_error_shape(server):
    status, body = server.request("POST", "/v1/search", {"query": "x", "k": 0})
    assert status == 400 and _is_openai_error(body, "bad_request") and "k" in body["error"]["message"]
    status, body = server.request("POST", "/v1/chat/completions", {"model": "ragqa", "messages": [
        {"role": "assistant", "content": "hi"}]})
    assert status == 400 and _is_openai_error(body, "bad_request")
    status, body = server.request("POST", "/v1/search", raw=b"{not json")
    assert status == 400 and _is_openai_error(body, "bad_request")


def test_every_request_needs_the_token_when_one_is_set(server):
    for path in ("/v1/models", "/v1/status", "/docs", "/openapi.json"):
        status, body = server.request("GET", path, token=None)
        assert status == 401 and _is_openai_error(body, "invalid_api_key"), path
    assert server.request("GET", "/v1/status", token="wrong-" + TOKEN)[0] == 401
    assert server.request("GET", "/v1/status")[0] == 200
    docs = urllib.request.Request(server.url + "/docs", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(docs, timeout=10) as reply:
        assert reply.status == 200 and b"swagger" in reply.read().lower()


def test_no_cors_headers_unless_api_cors_origins_lists_the_origin(server):
    request = urllib.request.Request(server.url + "/v1/status", headers={
        "Authorization": f"Bearer {TOKEN}", "Origin": "http://evil.example"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200 and "access-control-allow-origin" not in {h.lower() for h in reply.headers}


def test_a_body_over_max_request_kb_is_413(server):
    status, body = server.request("POST", "/v1/search", {"query": "tomato " * 12_000})  # ~84 KB > 64 KB
    assert status == 413 and _is_openai_error(body, "request_too_large")


def test_ingest_waits_for_a_running_ingest_or_answers_409(server):
    from ragqa.index.lock import write_lock

    with write_lock(Path(server.settings["index_dir"])):  # another ingest holds the index
        status, body = server.request("POST", "/v1/ingest", {"wait": 0})
        assert status == 409 and _is_openai_error(body, "index_busy") and "another ingest" in body["error"]["message"]
        replies: list = []
        waiting = threading.Thread(target=lambda: replies.append(server.request("POST", "/v1/ingest", {"wait": 30})))
        waiting.start()
        time.sleep(1.5)
        assert waiting.is_alive()  # still waiting for the lock
    waiting.join(60)
    (status, report), = replies
    assert status == 200 and report["unchanged"] == 6 and set(report) == {
        "added", "updated", "removed", "unchanged", "chunks", "seconds", "skipped"}
    assert server.request("POST", "/v1/ingest")[0] == 200  # no body: wait 0


def test_16_clients_search_and_read_status_while_an_ingest_runs(server):
    notes = Path(server.settings["notes_dir"])
    for i in range(40):
        (notes / f"extra-{i:02d}.md").write_text(
            f"# Extra note {i}\n\n" + " ".join(f"Paragraph {j} of note {i} is about compost batch {i * j}."
                                               for j in range(30)), encoding="utf-8")
    results: list[tuple[int, object]] = []
    during = threading.Event()
    ingest_reply: list = []

    def ingest():
        ingest_reply.append(server.request("POST", "/v1/ingest", {"wait": 60}))
        during.set()

    def client(n: int):
        while not during.is_set():
            if n % 2:
                results.append(server.request("POST", "/v1/search", {"query": f"tomato sun compost {n}", "k": 3}))
            else:
                results.append(server.request("GET", "/v1/status"))

    writer = threading.Thread(target=ingest)
    writer.start()
    clients = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for thread in clients:
        thread.start()
    for thread in [writer, *clients]:
        thread.join(120)
    (status, report), = ingest_reply
    assert status == 200 and report["added"] == 40, report
    assert len(results) >= 32
    failed = [(status, body) for status, body in results if status != 200]
    assert not failed, failed[:3]
    searched = [row for _, body in results if isinstance(body, list) for row in body]
    assert searched and all(row["text"] and (notes / row["path"]).is_file() for row in searched)
    files = [body["files"] for _, body in results if isinstance(body, dict)]
    assert files and all(6 <= n <= 46 for n in files)  # committed batches only (ingest commits 256 chunks at a time)
    assert server.request("GET", "/v1/status")[1]["files"] == 46


# ---- start-up refusals and an LLM that is down ---------------------------------------------

def test_serve_refuses_a_public_host_without_a_token(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"api": {"token_env": TOKEN_ENV}, "llm": {"provider": "none"}}))
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    out = subprocess.run([sys.executable, "-m", "ragqa", "--config", str(config), "serve", "--host", "0.0.0.0",
                          "--port", str(free_port())], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and TOKEN_ENV in out.stderr and "0.0.0.0" in out.stderr


@pytest.fixture(scope="module")
def down_server(tmp_path_factory, server):
    """The API over a copy of the index, in this process (TestClient: what a second server process would add is
    covered above), its LLM endpoint down, with one CORS origin allowed."""
    import shutil

    from ragqa.config import load_settings

    from helpers.api_client import api_client
    from helpers.settings import write_config

    tmp = tmp_path_factory.mktemp("api-down")
    down = {"provider": "openai", "base_url": f"http://127.0.0.1:{free_port()}/v1", "model": "nothing",
            "max_retries": 0, "timeout_seconds": 5, "rewrite_followups": "words"}
    shutil.copytree(Path(server.settings["notes_dir"]), tmp / "notes")
    shutil.copytree(Path(server.settings["index_dir"]), tmp / "index")
    (tmp / "cache").mkdir()  # the embedder's identity, remembered: opening the index needs no model
    shutil.copy(Path(server.settings["embedding"]["cache_dir"]) / "embedder-identities.json", tmp / "cache")
    # bm25 and whole passages: this API never loads the embedding model
    config = write_config(tmp, serve_settings(tmp, down, search={"mode": "bm25"},
                                              api={"cors_origins": ["http://notes.example"]}))
    with api_client(load_settings(config, environ={})) as http:
        yield http


def test_503_when_the_llm_is_down_still_carries_the_passages(down_server):
    for stream in (False, True):
        reply = down_server.post("/v1/chat/completions", json={"model": "ragqa", "stream": stream,
            "messages": [{"role": "user", "content": "How much sun do tomatoes need?"},
                         {"role": "assistant", "content": "Six hours [1]."},
                         {"role": "user", "content": "and which pests attack them?"}]})
        status, body = reply.status_code, reply.json()
        assert status == 503 and _is_openai_error(body, "llm_unavailable"), body
        assert "127.0.0.1" in body["error"]["message"]
        assert body["sources"] and any(s["path"] == "garden/tomatoes.md" for s in body["sources"])
        assert body["answer"].strip() and body["citations"]
        # the history made the follow-up a standalone search query, as `ragqa chat` does
        assert "tomatoes" in body["search_query"] and "pests" in body["search_query"]


def test_cors_answers_only_the_origins_api_cors_origins_lists(down_server):
    def preflight(origin: str):
        reply = down_server.options("/v1/search", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
        return reply.status_code, reply.headers.get("access-control-allow-origin")

    assert preflight("http://notes.example") == (200, "http://notes.example")
    assert preflight("http://evil.example")[1] is None
