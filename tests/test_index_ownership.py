"""ragqa/index owns the index's format: no other module runs SQL on it or derives its version by hand.

A change of layout is then one change in one room, and the format check there guards every reader.
"""
from __future__ import annotations

import re

from helpers.data import REPO

SQL = re.compile(r"\.execute(?:many|script)?\(|\bSELECT\s|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b|\bDELETE\s+FROM\b"
                 r"|\bUPDATE\s+\w+\s+SET\b|\.conn\b|sqlite3\.connect\(")
BY_HAND = re.compile(r"\bst_ino\b|\bDB_NAME\b|index\.sqlite|\bos\.replace\(")
ALLOWED_BY_HAND = {"ingest/scan.py": {"st_ino"},  # loop detection of the notes folder, not the index
                   "ragqa/models/bundled_e5.py": {"os.replace("},  # a model folder, swapped whole
                   "ragqa/atomic.py": {"os.replace("}}  # the one helper every room replaces files with


def sources():
    """Every Python file of the app outside ragqa/index, as (path relative to the repo, text)."""
    files = [*(REPO / "ragqa").rglob("*.py"), *(REPO / "ingest").rglob("*.py"), REPO / "app.py"]
    for path in sorted(files):
        rel = path.relative_to(REPO).as_posix()
        if not rel.startswith("ragqa/index/"):
            yield rel, path.read_text(encoding="utf-8")


def offences(pattern: re.Pattern, allowed: dict[str, set[str]] | None = None) -> list[str]:
    """"path:line: match" for each match of `pattern` outside ragqa/index, except those `allowed` in a file."""
    allowed = allowed or {}
    return [f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
            for rel, text in sources() for m in pattern.finditer(text) if m.group(0) not in allowed.get(rel, ())]


def test_only_ragqa_index_runs_sql_on_the_index():
    assert offences(SQL) == [], "move these queries into ragqa/index (IndexReader, or ragqa.index.queries)"


def test_only_ragqa_index_knows_the_database_file_and_replaces_files_by_hand():
    assert offences(BY_HAND, ALLOWED_BY_HAND) == [], \
        "use ragqa.index.queries (index_version, index_file_id) and ragqa.atomic (replacing, write_atomically)"


def test_the_rule_would_catch_a_query_written_elsewhere():
    assert SQL.search('rows = conn.execute("SELECT path FROM chunks")')
    assert SQL.search("self.reader.conn") and SQL.search("INSERT OR REPLACE INTO manifest")
    assert not SQL.search("select the notes to show") and not SQL.search("self.connection_pool")
