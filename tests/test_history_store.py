"""The history file (ragqa.index.history) on its own: real SQLite files in temp folders, real processes for
the writers that run at once and for the one killed with SIGKILL mid-write."""
from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragqa.answer.conversation import ChatMessage
from ragqa.answer.saved import conversation_messages, turn_from_answer
from ragqa.errors import HistoryError, HistoryFormatError
from ragqa.index.history import HISTORY_DB, History, Turn
from ragqa.records import Chunk, Hit

from helpers import cli
from helpers.data import REPO

TOMATOES = {"n": 1, "path": "garden/tomatoes.md", "heading": "Growing tomatoes > Pests", "page": None,
            "text": "Aphids and hornworms attack tomato plants.", "collection": None}


def turn(question: str, answer: str = "An answer [1].", **fields) -> Turn:
    return Turn(question, answer, search_query=question, citations=[TOMATOES], sources=[TOMATOES],
                model="smollm2-135m (local)", seconds=1.5, **fields)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_turns_are_kept_in_order_and_conversations_listed_newest_first(tmp_path):
    history = History(tmp_path)
    assert history.conversations() == [] and not (tmp_path / HISTORY_DB).exists()  # reading makes no file
    assert history.add_turn("first", turn("What attacks tomato plants in summer, and how do I stop them early?")) == 1
    assert history.add_turn("first", turn("and hornworms?")) == 2
    history.add_turn("second", turn("Who owns a value in Rust?", asked="2999-01-01T00:00:00+00:00"))
    listed = [c.summary() for c in history.conversations()]
    assert [(c["id"], c["turns"]) for c in listed] == [("second", 1), ("first", 2)]
    assert listed[1]["title"] == "What attacks tomato plants in summer, and how do I stop them…"
    assert set(listed[0]) == {"id", "title", "started", "updated", "turns"}
    [one, two] = History(tmp_path).turns("first")
    assert (one.n, two.n, two.question) == (1, 2, "and hornworms?")
    assert one.question == "What attacks tomato plants in summer, and how do I stop them early?"  # whole
    assert one.citations == [TOMATOES] and one.model == "smollm2-135m (local)" and one.seconds == 1.5


def test_an_id_may_be_shortened_to_a_prefix_only_one_conversation_has(tmp_path):
    history = History(tmp_path)
    for name in ("abc123", "abd456"):
        history.add_turn(name, turn("q"))
    assert history.find("abc").id == "abc123"
    with pytest.raises(HistoryError, match="2 conversations start with 'ab'"):
        history.find("ab")
    with pytest.raises(HistoryError, match=r"no conversation 'zz'.*`ragqa history` lists them"):
        history.find("zz")


def test_rename_and_delete_and_the_deleted_text_leaves_the_disk(tmp_path):
    history = History(tmp_path)
    history.add_turn("keep", turn("Who owns a value in Rust?"))
    history.add_turn("gone", turn("What is the secret word?", answer="The secret word is PAPAYA-WHISKERS [1]."))
    history.rename("keep", "  Rust   ownership ")
    assert [c.title for c in history.conversations()] == ["What is the secret word?", "Rust ownership"]
    assert history.delete("gone") == 1
    assert [c.id for c in history.conversations()] == ["keep"] and history.turns("gone") == []
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(HISTORY_DB))
    assert b"PAPAYA-WHISKERS" not in on_disk  # overwritten (secure_delete), and gone from the log too
    assert history.delete(None) == 1 and history.conversations() == []


def test_a_history_file_from_a_newer_ragqa_is_refused_in_one_line_and_left_as_it_is(tmp_path):
    folder = tmp_path / "index"
    folder.mkdir()
    path = folder / HISTORY_DB
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE conversations_v7 (id TEXT, everything TEXT)")
        conn.execute("INSERT INTO conversations_v7 VALUES ('x', 'from the future')")
        conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = digest(path)
    history = History(folder)
    for attempt in (history.conversations, lambda: history.add_turn("new", turn("q")), lambda: history.delete(None)):
        with pytest.raises(HistoryFormatError) as err:
            attempt()
        assert "version 7, written by a newer ragqa" in str(err.value) and "\n" not in str(err.value)
    assert digest(path) == before
    assert sorted(p.name for p in folder.iterdir()) == [HISTORY_DB]

    config = tmp_path / "config.yaml"
    config.write_text("{}\n")
    out = cli.run(["history", "--index", str(folder)], env={**os.environ, "RAGQA_CONFIG": str(config)})
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "written by a newer ragqa" in out.stderr
    assert digest(path) == before


def test_a_file_that_is_not_a_history_is_named_not_overwritten(tmp_path):
    (tmp_path / HISTORY_DB).write_text("my shopping list\n" * 200)
    with pytest.raises(HistoryError, match="is not a ragqa history file"):
        History(tmp_path).add_turn("x", turn("q"))
    assert (tmp_path / HISTORY_DB).read_text() == "my shopping list\n" * 200


WRITER = """
import sys
from ragqa.index.history import History, Turn
folder, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
history = History(folder)
for i in range(count):
    history.add_turn(name, Turn(f"{name} question {i}", f"{name} answer {i} " + "x" * 4000))
    print(i, flush=True)
"""


def writer(folder: Path, name: str, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(folder), name, str(count)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True)


def test_two_writers_at_once_both_keep_every_turn(tmp_path):
    """As two browser tabs (or the app and `ragqa chat`) answering at the same time."""
    tabs = [writer(tmp_path, name, 60) for name in ("tab-one", "tab-two")]
    for tab in tabs:
        assert tab.wait(timeout=120) == 0
    history = History(tmp_path)
    assert sorted((c.id, c.turns) for c in history.conversations()) == [("tab-one", 60), ("tab-two", 60)]
    for name in ("tab-one", "tab-two"):
        assert [t.question for t in history.turns(name)] == [f"{name} question {i}" for i in range(60)]


def test_two_sessions_of_one_process_writing_at_once_both_keep_every_turn(tmp_path):
    """As the browser's tabs: one process, a thread each."""
    import threading

    def tab(name: str) -> None:
        for i in range(40):
            History(tmp_path).add_turn(name, Turn(f"{name} {i}", "answer"))

    tabs = [threading.Thread(target=tab, args=(name,)) for name in ("left", "right")]
    for thread in tabs:
        thread.start()
    for thread in tabs:
        thread.join(timeout=120)
    assert sorted((c.id, c.turns) for c in History(tmp_path).conversations()) == [("left", 40), ("right", 40)]


@pytest.mark.parametrize("folder", ["/tmp/chats", "../chats", "~/chats", "."])
def test_a_save_folder_outside_the_notes_is_refused_in_one_line(tmp_path, folder):
    from ragqa.config import load_settings
    from ragqa.errors import ConfigError

    config = tmp_path / "config.yaml"
    config.write_text(f"history: {{save_folder: '{folder}'}}\n")
    with pytest.raises(ConfigError, match=r"^history.save_folder \(.*\) must be a folder inside notes_dir[^\n]*$"):
        load_settings(config, environ={})
    config.write_text("history: {save_folder: notes/ragqa-chats}\n")
    assert load_settings(config, environ={}).history.save_folder == "notes/ragqa-chats"


def test_a_kill_9_while_writing_loses_at_most_the_turn_being_written(tmp_path):
    for _ in range(5):
        process = writer(tmp_path, "killed", 100_000)
        for _ in range(5 + int(time.monotonic() * 1000) % 20):  # a different moment each time
            process.stdout.readline()
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
        with sqlite3.connect(tmp_path / HISTORY_DB) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
        turns = History(tmp_path).turns("killed")
        assert [t.n for t in turns] == list(range(1, len(turns) + 1))  # no gap, no half turn
        assert all(t.answer.startswith("killed answer") and len(t.answer) > 4000 for t in turns)


def test_a_saved_turn_gives_back_the_conversation_the_answer_loop_had(tmp_path):
    """What lets `ragqa chat --resume` go on as if it had never stopped: the same history entries, down to
    the prompt a follow-up over the same passages continues."""
    from ragqa.answer.loop import Answer

    chunk = Chunk("garden/tomatoes.md", "Growing tomatoes", "Growing tomatoes > Pests", TOMATOES["text"], tags=["g"])
    answer = Answer("What attacks tomato plants?", "Aphids and hornworms [1].", [Hit(7, 0.9, chunk)], cited=[1],
                    model="m", generated=True, search_query="What attacks tomato plants?", raw="Aphids [1]",
                    sent=[{"role": "system", "content": "rules"}, {"role": "user", "content": "passages"}],
                    texts=[TOMATOES["text"]], retrieved_ids=[("", 7), ("", 9)])
    live = [ChatMessage.user(answer.question), answer.as_message()]
    assert live[1].continuation is not None and live[1].continuation.passages == (Hit(7, 0.9, chunk),)
    history = History(tmp_path)
    history.add_turn("c", turn_from_answer(answer))
    assert conversation_messages(history.turns("c")) == live
