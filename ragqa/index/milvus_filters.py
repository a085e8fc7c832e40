"""The search filters (ragqa.index.conditions.path_condition's) as a Milvus boolean expression over chunk rows.

Same meaning as the SQL: kinds of filter are ANDed, the values within one ORed; a folder is a path prefix, a
tag also finds its nested tags (each chunk row lists its note's folded tags with their parents), a file type is
the path's suffix, dates are ISO days with both ends included.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ragqa.index.note_rows import fold


@dataclass(frozen=True)
class Selection:
    """What an all-Milvus reader's `ids_matching` gives back: the filters as an expression, not a list of ids."""

    expression: str


def literal(value: str) -> str:
    """A Milvus string literal.

    >>> literal('say "hi"')
    '"say \\\\"hi\\\\""'
    """
    return json.dumps(value, ensure_ascii=False)


def _prefix(prefix: str) -> str:
    return literal(prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")


def expression(folders=(), tags=(), suffixes=(), created=None, modified=None, paths=None, **_) -> str:
    """A Milvus filter expression; "" when nothing restricts.

    >>> expression(folders=["garden"], suffixes=[".md"])
    '(path like "garden/%") and suffix in [".md"]'
    >>> expression(tags=["#Math"], created=("2024-01-01", None))
    'array_contains_any(note_tags, ["math"]) and created >= "2024-01-01"'
    >>> expression(paths=[])  # no note: nothing (chunk ids are never negative)
    'id < 0'
    """
    parts = []
    if folders:
        parts.append("(" + " or ".join(f"path like {_prefix(f + '/')}" for f in folders) + ")")
    if tags:
        parts.append(f"array_contains_any(note_tags, [{', '.join(literal(fold(t)) for t in tags)}])")
    if suffixes:
        parts.append(f"suffix in [{', '.join(literal(s.lower()) for s in suffixes)}]")
    for name, (first, last) in (("created", created or (None, None)), ("modified", modified or (None, None))):
        parts += [f"{name} {op} {literal(day)}" for op, day in ((">=", first), ("<=", last)) if day]
    if paths is not None:
        parts.append(f"path in [{', '.join(literal(p) for p in paths)}]" if paths else "id < 0")
    return " and ".join(parts)


def both(*expressions: str) -> str:
    """Expressions ANDed, the empty ones left out.

    >>> both("a > 1", "", "b < 2")
    '(a > 1) and (b < 2)'
    """
    found = [e for e in expressions if e]
    return found[0] if len(found) == 1 else " and ".join(f"({e})" for e in found)
