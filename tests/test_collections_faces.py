"""Collections (issue 16) in the faces: the app (AppTest) opens the collection it is given and asks across the
picked ones, the HTTP API has a model per collection, and `ragqa watch` follows every chosen collection."""
from __future__ import annotations

import pytest

from ragqa.collections import collections
from ragqa.config import load_settings
from ragqa.errors import ConfigError

from helpers import forked_cli
from helpers.collection_configs import clean_env, ragqa, small_config, texts, write_config

pytestmark = pytest.mark.slow


def test_the_app_opens_the_collection_it_is_given(tmp_path, notes, minilm, monkeypatch):
    from argparse import Namespace

    from ragqa.cli.app_command import app_launch
    from ragqa.ingest.pipeline import ingest_folder

    from helpers.app import open_app

    (tmp_path / "other").mkdir()
    for n in range(5):
        (tmp_path / "other" / f"n{n}.md").write_text(f"# Heron {n}\n\nThe heron came back to pond {n}.\n")
    config = small_config(tmp_path, {"notes": str(notes), "other": "other"})
    settings = load_settings(config, environ={})
    ingest_folder(collections(settings)["other"].settings, minilm)
    args = Namespace(config=str(config), collection="other", index=None, notes=None, host=None, port=None)
    _, env = app_launch(settings, args, {})
    with pytest.raises(ConfigError, match="no collection named 'papers'"):
        app_launch(settings, Namespace(**{**vars(args), "collection": "papers"}), {})
    for name in ("RAGQA_CONFIG", "RAGQA_APP_COLLECTION"):
        monkeypatch.setenv(name, env[name])
    at = open_app()
    assert at.chat_input  # other's index is there: questions can be asked
    assert any("**5** files" in m.value for m in at.sidebar.markdown)
    assert not at.sidebar.selectbox  # one collection: no picker
    monkeypatch.delenv("RAGQA_APP_COLLECTION")  # no name: a picker, the sidebar on the first one (no index yet)
    at = open_app()
    assert at.sidebar.selectbox(key="collection").value == "notes" and "No index yet." in texts(at.sidebar.info)
    assert at.chat_input  # the chat asks across both, and other has an index


def test_the_chat_asks_across_the_picked_collections_and_each_source_says_its_own(tmp_path, notes, minilm,
                                                                                   monkeypatch):
    from ragqa.ingest.pipeline import ingest_folder

    from helpers.app import open_app

    (tmp_path / "birds").mkdir()
    (tmp_path / "birds" / "heron.md").write_text("# Herons\n\nThe grey heron waits at the pond for fish at dawn.\n")
    config = small_config(tmp_path, {"kitchen": str(notes), "birds": "birds"})
    for collection in collections(load_settings(config, environ={})).values():
        ingest_folder(collection.settings, minilm)
    monkeypatch.setenv("RAGQA_CONFIG", str(config))
    at = open_app()
    assert at.sidebar.selectbox(key="collection").options == ["kitchen", "birds"]
    assert at.sidebar.multiselect(key="ask_across").value == ["kitchen", "birds"]  # no default: all of them
    at.chat_input[0].set_value("When does the grey heron wait at the pond?").run()
    labels = [e.label for e in at.main.chat_message[1].expander]
    assert labels[0].startswith("[1] birds: heron.md"), labels
    at.sidebar.multiselect(key="ask_across").set_value(["kitchen"]).run()
    at.chat_input[0].set_value("When does the grey heron wait at the pond?").run()
    shown = [e.label for e in at.main.chat_message[3].expander] + \
        [m.value for e in at.main.chat_message[3].expander for m in e.markdown]
    assert not any("heron.md" in text for text in shown), shown  # only the kitchen was asked
    at.sidebar.selectbox(key="collection").set_value("birds").run()
    assert any("**1** files" in m.value for m in at.sidebar.markdown)  # the sidebar is about birds now


def test_the_api_has_a_model_per_collection_and_searches_the_ones_asked(tmp_path, notes, minilm):
    import openai

    from helpers.api_client import api_client, openai_over

    (tmp_path / "birds").mkdir()
    (tmp_path / "birds" / "heron.md").write_text("# Herons\n\nThe grey heron waits at the pond for fish at dawn.\n")
    settings = {"index_dir": str(tmp_path / "ix"), "llm": {"provider": "none"},
                "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(tmp_path / "c")},
                "collections": {"kitchen": {"notes_dir": str(notes)}, "birds": {"notes_dir": str(tmp_path / "birds")}}}
    config = write_config(tmp_path, settings)
    ragqa(config, "ingest", "--collection", "all", "--json")
    with api_client(load_settings(config, environ={})) as server:  # the app `ragqa serve` serves, in this process
        client = openai_over(server)
        assert sorted(m.id for m in client.models.list()) == ["ragqa", "ragqa/birds", "ragqa/kitchen"]
        question = "When does the grey heron wait at the pond?"
        reply = server.post("/v1/search", json={"query": question, "collections": ["kitchen"]})
        assert reply.status_code == 200 and reply.json() and {h["collection"] for h in reply.json()} == {"kitchen"}
        hits = server.post("/v1/search", json={"query": question, "collections": "all", "k": 2})
        assert hits.status_code == 200 and (hits.json()[0]["collection"], hits.json()[0]["path"]) == ("birds",
                                                                                                   "heron.md")
        refused = server.post("/v1/search", json={"query": question, "collections": ["nope"]})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "unknown_collection"
        reply = client.chat.completions.create(model="ragqa/kitchen", messages=[{"role": "user", "content": question}])
        assert {c["collection"] for c in reply.model_extra["citations"]} == {"kitchen"}
        reply = client.chat.completions.create(model="ragqa", messages=[{"role": "user", "content": question}])
        assert reply.model_extra["citations"][0]["collection"] == "birds"
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="ragqa/nope", messages=[{"role": "user", "content": question}])


def test_watch_follows_every_chosen_collection_and_says_which(tmp_path, notes):
    import os
    import signal
    import time

    (tmp_path / "birds").mkdir()
    config = small_config(tmp_path, {"kitchen": str(notes), "birds": "birds"})
    log = tmp_path / "watch.log"
    env = {**clean_env(), "RAGQA_CONFIG": str(config)}
    proc = forked_cli.start(["watch", "--collection", "all"], tmp_path, env, log)

    def seen(text: str, seconds: float = 120) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if log.exists() and text in log.read_text():
                return True
            time.sleep(0.3)
        return False

    try:
        assert seen("[kitchen] added bread.txt"), log.read_text()  # each catches up with its folder
        (tmp_path / "birds" / "heron.md").write_text("# Herons\n\nThe grey heron waits at the pond.\n")
        assert seen("[birds] added heron.md", 60), log.read_text()
    finally:
        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C stops them all
        assert proc.wait(timeout=60) == 0
    [hit] = ragqa(config, "search", "grey heron", "-k", "1", "--collection", "birds", "--json")
    assert hit["path"] == "heron.md"
