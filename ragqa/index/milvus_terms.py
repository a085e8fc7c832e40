"""Text as the terms BM25 counts: SQLite FTS5's `porter unicode61` tokenizer, run by SQLite itself.

The SQLite index's BM25 stems ("cells" matches "cell"); Milvus Lite's analyzers do not stem, and a Milvus
server's `english` analyzer stems a little differently. So the all-Milvus index gives Milvus's BM25 function the
terms FTS5 would have indexed, joined by spaces (its standard analyzer only splits them again): one tokenization,
whichever Milvus runs it. docs/SCALING.md measures what this keeps of the SQLite index's quality.

    >>> terms(["Running shoes, TNF-alpha and Café"])
    ['run shoe tnf alpha and cafe']
"""
from __future__ import annotations

import sqlite3
import threading

_LOCAL = threading.local()


def _tokenizer() -> sqlite3.Connection:
    conn = getattr(_LOCAL, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='porter unicode61')")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
        _LOCAL.conn = conn
    return conn


def terms(texts: list[str]) -> list[str]:
    """Each text as its FTS5 terms, in order, joined by spaces."""
    conn = _tokenizer()
    found: list[list[str]] = [[] for _ in texts]
    conn.execute("BEGIN")
    try:
        conn.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)", [(i, t) for i, t in enumerate(texts, 1)])
        for doc, term in conn.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
            found[doc - 1].append(term)
    finally:
        conn.execute("ROLLBACK")
    return [" ".join(words) for words in found]


def query_text(words: list[str]) -> str | None:
    """A query's topic words (ragqa.retrieve.lexical.topic_terms) as the terms BM25 counts; None for no word.

    >>> query_text(["role", "tnf", "alpha", "sepsis"])
    'role tnf alpha sepsi'
    """
    if not words:
        return None
    return " ".join(dict.fromkeys(terms([" ".join(words)])[0].split())) or None
