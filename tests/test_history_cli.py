"""Saved conversations from the terminal: the real `ragqa chat` (in this process, questions typed on its stdin)
answering with the tiny local model (SmolLM2-135M on the session's llama.cpp server) over a real MiniLM index,
then `ragqa history` to list, show, export, resume and delete them; and a `ragqa chat` process killed with
SIGKILL in the middle of an answer. The model's wording is never asserted, only what ragqa keeps of it."""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from ragqa.index.history import HISTORY_DB

from helpers import cli, forked_cli
from helpers.garden_notes import SMOLLM2
from helpers.local_model import live
from helpers.settings import make_settings

LLM = SMOLLM2
BREAD = "What does sourdough bread rise with?"  # SmolLM2 answers it with a [1] over these notes (tests/test_api.py)
SUN = "How many hours of sun do tomatoes need?"
FOLLOW_UP = "and what attacks them?"


@pytest.fixture(scope="module")
def rig(tmp_path_factory, minilm, smollm2_server):
    """Notes ingested with MiniLM, and the config.yaml a user would have: SmolLM2 (the session's server: its
    state is in the embedding cache folder)."""
    from ragqa.ingest.pipeline import ingest_folder

    tmp = tmp_path_factory.mktemp("history-cli")
    notes = tmp / "notes"
    (notes / "garden").mkdir(parents=True)
    (notes / "garden" / "tomatoes.md").write_text(
        "---\ntitle: Growing tomatoes\n---\n# Growing tomatoes\n\n"
        "Tomatoes need six hours of direct sun and deep watering twice a week.\n\n"
        "## Pests\n\nAphids and hornworms attack tomato plants; pick hornworms off by hand.\n", encoding="utf-8")
    (notes / "bread.txt").write_text("Sourdough bread rises with a wild yeast starter fed with flour and water.\n")
    (notes / "rust.md").write_text("# Rust ownership\n\nEach value in Rust has a single owner.\n")
    settings = {"notes_dir": str(notes), "index_dir": str(tmp / "index"), "llm": LLM,
                "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(smollm2_server)}}
    ingest_folder(make_settings(tmp, notes, llm=LLM, embedding=settings["embedding"]), minilm)
    (tmp / "config.yaml").write_text(yaml.safe_dump(settings))
    env = {**os.environ, "RAGQA_CONFIG": str(tmp / "config.yaml"), "PYTHONUNBUFFERED": "1"}
    return {"tmp": tmp, "env": env, "history": tmp / "index" / HISTORY_DB}


def chat(rig, *questions: str, resume: str | None = None) -> str:
    """`ragqa chat [--resume ID]` with these questions typed in, then Ctrl-D; its output."""
    argv = ["chat", *(["--resume", resume] if resume else [])]
    done = cli.run(argv, stdin="".join(q + "\n" for q in questions), env=rig["env"], cwd=rig["tmp"])
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def ragqa(rig, *argv: str) -> subprocess.CompletedProcess:
    return cli.run(list(argv), env=rig["env"], cwd=rig["tmp"])


def listed(rig) -> list[dict]:
    out = ragqa(rig, "history", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@live
def test_a_chat_is_saved_exported_resumed_and_deleted(rig):
    said = chat(rig, BREAD, SUN)
    [conversation] = listed(rig)
    assert (conversation["title"], conversation["turns"]) == (BREAD, 2)
    assert f"--resume {conversation['id']}" in said  # the chat says how to go on with it

    shown = ragqa(rig, "history", "show", conversation["id"][:4])  # a prefix is enough
    assert shown.returncode == 0 and f"> {BREAD}" in shown.stdout and f"> {SUN}" in shown.stdout

    markdown = ragqa(rig, "history", "export", conversation["id"]).stdout
    assert f"## {BREAD}" in markdown and f"## {SUN}" in markdown
    assert re.search(r"\[\d+\]", markdown.split("**Sources**")[0])  # an answer's citation marker
    assert re.search(r"^1\. \[\[(bread\.txt|garden/tomatoes\.md[^\]]*)\]\]$", markdown, re.M)  # a note, linked
    assert re.search(r"^   > (Sourdough bread|Tomatoes need|Aphids)", markdown, re.M)  # its passage, quoted
    as_json = json.loads(ragqa(rig, "history", "export", conversation["id"], "--format", "json").stdout)
    assert [t["question"] for t in as_json["turns"]] == [BREAD, SUN]
    assert all(t["model"] == "smollm2-135m (local)" and t["seconds"] > 0 for t in as_json["turns"])

    said = chat(rig, FOLLOW_UP, resume=conversation["id"])
    assert f'Resuming "{BREAD}" ({conversation["id"]}, 2 turns so far)' in said
    [conversation] = listed(rig)
    assert conversation["turns"] == 3
    turns = json.loads(ragqa(rig, "history", "show", conversation["id"], "--json").stdout)["turns"]
    # the follow-up was rewritten from the saved turns, exactly as in the chat that stopped
    assert turns[2]["search_query"] == f"{SUN} {FOLLOW_UP}"

    deleted = ragqa(rig, "history", "delete", conversation["id"])
    assert deleted.returncode == 0 and conversation["id"] in deleted.stdout
    assert listed(rig) == []
    gone = ragqa(rig, "history", "show", conversation["id"])
    assert gone.returncode == 1 and gone.stderr.count("\n") == 1 and "no conversation" in gone.stderr


class Output:
    """A process's output file, read as it grows (the chat's prompt, "> ", ends no line)."""

    def __init__(self, log: Path):
        self.log = log

    @property
    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, predicate, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.text):
            assert time.monotonic() < deadline, f"waited {timeout} s; the chat said: {self.text[-1500:]}"
            time.sleep(0.01)


@live
def test_a_kill_9_mid_answer_loses_only_that_answer_and_the_file_stays_readable(rig):
    for conversation in listed(rig):
        ragqa(rig, "history", "delete", conversation["id"])
    typed = rig["tmp"] / "typed"  # the chat's stdin: a pipe the test types into
    os.mkfifo(typed)
    log = rig["tmp"] / "chat-killed.log"
    process = forked_cli.start(["chat"], rig["tmp"], rig["env"], log, stdin=typed)  # its own process
    output = Output(log)
    with open(typed, "w", encoding="utf-8") as keyboard:
        try:
            output.wait_for(lambda text: text.count("\n> ") == 1)
            keyboard.write(f"{BREAD}\n")
            keyboard.flush()
            output.wait_for(lambda text: text.count("\n> ") == 2)  # answered; the next prompt
            asked = len(output.text)
            keyboard.write(f"{SUN}\n")
            keyboard.flush()
            output.wait_for(lambda text: len(text) > asked, timeout=300)  # its first words are streaming
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            process.kill()
    assert process.poll() == -signal.SIGKILL
    assert "Sources:" not in output.text[asked:]  # it was killed before the answer ended
    with sqlite3.connect(rig["history"]) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    [conversation] = listed(rig)
    assert conversation["turns"] == 1  # the whole first turn; nothing of the one being answered
    shown = ragqa(rig, "history", "show", conversation["id"])
    assert shown.returncode == 0 and f"> {BREAD}" in shown.stdout and SUN not in shown.stdout


@pytest.mark.slow
def test_a_chat_over_a_history_file_from_a_newer_ragqa_answers_but_never_writes_it(rig):
    rig["history"].parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(rig["history"]) as conn:
        conn.execute("PRAGMA user_version = 9")
    conn.close()
    before = rig["history"].read_bytes()
    done = cli.run(["chat"], stdin=f"{BREAD}\n", env={**rig["env"], "RAGQA_LLM__PROVIDER": "none"}, cwd=rig["tmp"])
    assert done.returncode == 0 and "Sourdough bread rises" in done.stdout and "Saved as" not in done.stdout
    assert done.stderr.count("\n") == 1 and "written by a newer ragqa" in done.stderr and "not saved" in done.stderr
    assert rig["history"].read_bytes() == before
    resumed = cli.run(["chat", "--resume", "x"], env=rig["env"], cwd=rig["tmp"])
    assert resumed.returncode == 1 and resumed.stderr.count("\n") == 1 and "newer ragqa" in resumed.stderr
