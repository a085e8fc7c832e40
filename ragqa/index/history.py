"""Saved conversations: `history.sqlite` in the index folder (with collections, the top index folder).

    conversations  id, title, started, updated, source (chat | app | api)
    turns          conversation, n, asked, question, search_query, answer, citations, sources, model,
                   seconds, first_token_seconds, prompt_tokens, error, followup

Each turn is written in one transaction when its answer has ended, so a `kill -9` mid-answer loses that
answer only. WAL and a busy timeout let several writers (two browser tabs, the CLI, the API) add turns at
once without losing one. The layout's version is SQLite's `PRAGMA user_version`: a file from a newer ragqa
is refused in one line before anything is written to it. Deleting overwrites the deleted text
(`secure_delete`) and empties the write-ahead log, so a deleted conversation is gone from the disk too.
"""
from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ragqa.errors import HistoryError, HistoryFormatError

HISTORY_DB = "history.sqlite"
VERSION = 1  # bump when an older ragqa would misread the file
BUSY_SECONDS = 30.0
TITLE_CHARS = 60
CONVERSATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, started TEXT NOT NULL, updated TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'chat');
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, n INTEGER NOT NULL,
    asked TEXT NOT NULL, question TEXT NOT NULL, search_query TEXT NOT NULL DEFAULT '', answer TEXT NOT NULL,
    citations TEXT NOT NULL DEFAULT '[]', sources TEXT NOT NULL DEFAULT '[]', model TEXT NOT NULL DEFAULT '',
    seconds REAL, first_token_seconds REAL, prompt_tokens INTEGER, error TEXT, followup TEXT,
    PRIMARY KEY (conversation, n));
"""
TURN_COLUMNS = ("asked, question, search_query, answer, citations, sources, model, seconds, first_token_seconds, "
                "prompt_tokens, error, followup")


@dataclass
class Turn:
    """One question and its answer, as it was: `citations` are the cited passages ({"n", "path", "heading",
    "page", "text", "collection"}), `sources` every passage given, `followup` what lets the next question
    continue this one's prompt (ragqa.answer.saved)."""

    question: str
    answer: str
    search_query: str = ""
    citations: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    model: str = ""
    seconds: float | None = None
    first_token_seconds: float | None = None
    prompt_tokens: int | None = None
    error: str | None = None
    followup: dict | None = None
    asked: str = ""
    n: int = 0


@dataclass
class Conversation:
    id: str
    title: str
    started: str
    updated: str
    turns: int
    source: str = "chat"

    def summary(self) -> dict:
        """The row of `ragqa history --json`."""
        return {"id": self.id, "title": self.title, "started": self.started, "updated": self.updated,
                "turns": self.turns}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id() -> str:
    return uuid.uuid4().hex[:10]


def short_title(question: str, limit: int = TITLE_CHARS) -> str:
    """The first question, on one line, cut at a word with "…" when long.

    >>> short_title("How   often do I\\nfeed the starter?"), short_title("a " * 40, 12)
    ('How often do I feed the starter?', 'a a a a a a…')
    """
    text = " ".join(question.split())
    if len(text) <= limit:
        return text
    cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[:limit + 1] else text[:limit]
    return cut.rstrip(" ,.;:") + "…"


def check_conversation_id(value: str) -> str:
    """A conversation id from outside (the API): 1-64 letters, digits, '_', '.', ':', '-'."""
    if not CONVERSATION_ID.fullmatch(value or ""):
        raise HistoryError(f"conversation id {value!r} is not allowed: use 1-64 letters, digits, '_', '.', ':' or "
                           "'-', starting with a letter or digit")
    return value


class History:
    """The conversations kept in `folder`. Every call opens its own short connection, so any thread or
    process may use one History at any time."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.path = self.folder / HISTORY_DB
        self._ready = False

    # ---- opening -------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise HistoryFormatError if the file is from a newer ragqa (or HistoryError if it is not a history
        file); reads only."""
        if self.path.exists():
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                         timeout=BUSY_SECONDS)) as conn:
                self._check_version(self._version(conn))

    def _version(self, conn: sqlite3.Connection) -> int:
        try:
            return conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise HistoryError(f"{self.path} is not a ragqa history file ({err}): move it away, or delete it "
                               "to start a new history") from None

    def _check_version(self, version: int) -> None:
        if version > VERSION:
            raise HistoryFormatError(f"the history file {self.path} is version {version}, written by a newer ragqa; "
                                     f"this one reads version {VERSION} and older: upgrade ragqa (the file is left "
                                     "as it is)")

    @contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection | None]:
        """A connection in WAL mode, or None when there is no file and `create` is False."""
        if not self.path.exists() and not create:
            yield None
            return
        if not self._ready:
            self.check()  # before any write, even the journal mode's
        self.folder.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA secure_delete=ON")
            if not self._ready:
                self._create(conn)
            yield conn
        except sqlite3.DatabaseError as err:
            raise HistoryError(f"the history file {self.path} cannot be used: {err}") from None
        finally:
            conn.close()

    def _create(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._version(conn)  # again, under the write lock: another process may have made it
            self._check_version(version)
            if version < VERSION:
                for statement in SCHEMA.split(";"):  # not executescript: it would commit first
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._ready = True

    # ---- reading -------------------------------------------------------------------------------

    def conversations(self) -> list[Conversation]:
        """Every conversation, the most recently updated first."""
        with self._connect(create=False) as conn:
            if conn is None:
                return []
            rows = conn.execute("SELECT c.id, c.title, c.started, c.updated, count(t.n), c.source FROM conversations c "
                                "LEFT JOIN turns t ON t.conversation = c.id GROUP BY c.id "
                                "ORDER BY c.updated DESC, c.started DESC, c.rowid DESC").fetchall()
        return [Conversation(*row) for row in rows]

    def find(self, id_or_prefix: str) -> Conversation:
        """The conversation with this id, or the only one whose id starts with it."""
        every = self.conversations()
        exact = [c for c in every if c.id == id_or_prefix]
        found = exact or [c for c in every if id_or_prefix and c.id.startswith(id_or_prefix)]
        if len(found) != 1:
            why = "no conversation" if not found else f"{len(found)} conversations start with"
            raise HistoryError(f"{why} {id_or_prefix!r} in {self.path}: `ragqa history` lists them")
        return found[0]

    def turns(self, conversation_id: str) -> list[Turn]:
        with self._connect(create=False) as conn:
            if conn is None:
                return []
            rows = conn.execute(f"SELECT n, {TURN_COLUMNS} FROM turns WHERE conversation = ? ORDER BY n",
                                (conversation_id,)).fetchall()
        turns = []
        for n, asked, question, query, answer, cited, given, model, seconds, first, tokens, error, followup in rows:
            turns.append(Turn(question, answer, query, json.loads(cited), json.loads(given), model, seconds,
                              first, tokens, error, json.loads(followup) if followup else None, asked, n))
        return turns

    # ---- writing -------------------------------------------------------------------------------

    def add_turn(self, conversation_id: str, turn: Turn, source: str = "chat") -> int:
        """Append `turn` to the conversation (made, titled by its first question, if new), in one
        transaction; returns the turn's number (1, 2, …)."""
        asked = turn.asked or now()
        with self._connect(create=True) as conn:
            assert conn is not None  # noqa: S101 - typing: create=True: always a connection
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("INSERT OR IGNORE INTO conversations (id, title, started, updated, source) VALUES "
                             "(?, ?, ?, ?, ?)", (conversation_id, short_title(turn.question), asked, asked, source))
                n = conn.execute("SELECT coalesce(max(n), 0) + 1 FROM turns WHERE conversation = ?",
                                 (conversation_id,)).fetchone()[0]
                values = (asked, turn.question, turn.search_query, turn.answer, json.dumps(turn.citations),
                          json.dumps(turn.sources), turn.model, turn.seconds, turn.first_token_seconds,
                          turn.prompt_tokens, turn.error, json.dumps(turn.followup) if turn.followup else None)
                conn.execute(f"INSERT INTO turns (conversation, n, {TURN_COLUMNS}) VALUES (?, ?{', ?' * 12})",
                             (conversation_id, n, *values))
                conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (asked, conversation_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return n

    def rename(self, conversation_id: str, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise HistoryError("a conversation's title cannot be empty")
        with self._connect(create=False) as conn:
            if conn is None or not conn.execute("UPDATE conversations SET title = ? WHERE id = ?",
                                                (title, conversation_id)).rowcount:
                raise HistoryError(f"no conversation {conversation_id!r} to rename")

    def delete(self, conversation_id: str | None) -> int:
        """Delete one conversation (None: every one), its text overwritten on disk; returns how many."""
        with self._connect(create=False) as conn:
            if conn is None:
                return 0
            conn.execute("BEGIN IMMEDIATE")
            where, params = ("", ()) if conversation_id is None else (" WHERE conversation = ?", (conversation_id,))
            conn.execute(f"DELETE FROM turns{where}", params)
            gone = conn.execute(f"DELETE FROM conversations{where.replace('conversation', 'id')}", params).rowcount
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # old copies of the pages leave the log too
        return gone


def turn_dict(turn: Turn) -> dict:
    """A turn as JSON (`ragqa history export --format json`), without the prompt state kept for follow-ups."""
    row = asdict(turn)
    row.pop("followup")
    return row


def open_history(settings, index_dir: str | Path | None = None) -> History:
    """The history of these (top-level) settings: in `index_dir` if given (`--index`), else in index_dir;
    with collections, the top index folder, shared by them all."""
    return History(Path(index_dir).expanduser().resolve() if index_dir else settings.index_path)
