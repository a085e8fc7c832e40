"""Saved conversations through the HTTP API: the app `ragqa serve` serves, in this process (TestClient;
retrieval-only answers, so no LLM is needed), driven by the real `openai` package. A turn is saved only when
the client names a conversation, by the body's `conversation_id` or the `X-Conversation-Id` header. The notes are
embedded with the seeded-hash embedder: the model is not the point here."""
from __future__ import annotations

import hashlib
import sqlite3

import pytest

from ragqa.config import load_settings
from ragqa.index.history import HISTORY_DB, History

from helpers.api_client import api_client, openai_over
from helpers.api_server import serve_settings
from helpers.garden_notes import write_garden_notes
from helpers.settings import HASH, write_config

QUESTION = "What does sourdough bread rise with?"


class InProcess:
    """The API over a folder, with the parts of helpers.api_server.Server these tests use."""

    def __init__(self, tmp, http):
        self.tmp, self.http = tmp, http

    def request(self, method: str, path: str, body=None) -> tuple[int, object]:
        reply = self.http.request(method, path, json=body)
        return reply.status_code, reply.json()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("history-api")
    write_garden_notes(tmp / "notes")
    config = write_config(tmp, serve_settings(tmp, {"provider": "none"}, model=HASH))
    with api_client(load_settings(config, environ={})) as http:
        running = InProcess(tmp, http)
        assert running.request("POST", "/v1/ingest", {"wait": 60})[0] == 200
        yield running


@pytest.fixture(scope="module")
def client(server):
    return openai_over(server.http, "unused")


def history(server) -> History:
    return History(server.tmp / "index")


def ask(client, content: str, **options):
    return client.chat.completions.create(model="ragqa", messages=[{"role": "user", "content": content}], **options)


def test_turns_are_saved_under_the_conversation_id_the_client_sends(server, client):
    first = ask(client, QUESTION, extra_body={"conversation_id": "editor-42"})
    assert first.model_extra["conversation_id"] == "editor-42"
    follow_up = client.chat.completions.create(model="ragqa", messages=[
        {"role": "user", "content": QUESTION}, {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "and what is it fed with?"}], extra_headers={"X-Conversation-Id": "editor-42"})
    assert follow_up.model_extra["conversation_id"] == "editor-42"
    [conversation] = [c for c in history(server).conversations() if c.id == "editor-42"]
    assert (conversation.title, conversation.turns, conversation.source) == (QUESTION, 2, "api")
    one, two = history(server).turns("editor-42")
    assert one.answer == first.choices[0].message.content and one.citations[0]["path"] == "bread.txt"
    assert two.search_query == f"{QUESTION} and what is it fed with?"  # rewritten from the client's history


def test_a_streamed_answer_is_saved_when_it_ends(server, client):
    pieces = list(ask(client, QUESTION, stream=True, extra_body={"conversation_id": "streamed"}))
    assert pieces[-1].model_extra["conversation_id"] == "streamed"
    [turn] = history(server).turns("streamed")
    assert turn.answer.strip() == "".join(p.choices[0].delta.content or "" for p in pieces).strip()


def test_without_a_conversation_id_nothing_is_saved(server, client):
    before = len(history(server).conversations())
    reply = ask(client, QUESTION)
    assert "conversation_id" not in (reply.model_extra or {})
    assert len(history(server).conversations()) == before


def test_a_bad_id_is_a_400_and_a_newer_history_file_a_409_left_as_it_is(server, tmp_path):
    status, body = server.request("POST", "/v1/chat/completions", {
        "model": "ragqa", "messages": [{"role": "user", "content": QUESTION}], "conversation_id": "../../etc"})
    assert status == 400 and "conversation id '../../etc' is not allowed" in body["error"]["message"]

    path = server.tmp / "index" / HISTORY_DB
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 9")
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    status, body = server.request("POST", "/v1/chat/completions", {
        "model": "ragqa", "messages": [{"role": "user", "content": QUESTION}], "conversation_id": "later"})
    assert status == 409 and body["error"]["code"] == "history_unavailable"
    assert "written by a newer ragqa" in body["error"]["message"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
