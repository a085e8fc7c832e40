"""Filters as SQL over a `path` column: folders, tags (nested), file types, date ranges, an explicit set of notes.

The search restricts passages with it (chunks.path) and the catalog lists notes with it (files.path), so a
filter means the same thing to both. Kinds of filter are ANDed; the values within one are ORed.
"""
from __future__ import annotations

from ragqa.index.note_rows import fold

DayRange = tuple[str | None, str | None]  # (first day, last day), ISO, both included; None: open


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def path_condition(column: str = "path", folders=(), tags=(), suffixes=(), created: DayRange | None = None,
                   modified: DayRange | None = None, paths=None, note_tables: bool = True) -> tuple[str, list]:
    """A WHERE condition over `column` and its parameters; "1" when nothing restricts.

    Tags count nested tags under their parents (`math` finds `math/LinearAlgebra`), in any case. An index
    without note tables (made before format 2, not yet ingested again) matches tags on its passages instead.

    >>> path_condition(suffixes=[".md", ".txt"]), path_condition()
    (('(lower(path) LIKE ? OR lower(path) LIKE ?)', ['%.md', '%.txt']), ('1', []))
    >>> path_condition(tags=["#Math"], created=("2024-01-01", None))
    ('path IN (SELECT path FROM note_tags WHERE tag IN (?)) AND path IN (SELECT path FROM notes WHERE created >= ?)', ['math', '2024-01-01'])
    """  # noqa: E501
    parts, params = [], []
    if folders:
        parts.append("(" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for _ in folders) + ")")
        params += [_like_prefix(f + "/") for f in folders]
    if tags and note_tables:
        parts.append(f"{column} IN (SELECT path FROM note_tags WHERE tag IN ({','.join('?' * len(tags))}))")
        params += [fold(t) for t in tags]
    elif tags:
        parts.append("(" + " OR ".join("EXISTS (SELECT 1 FROM json_each(tags) WHERE lower(value) = ? "
                                       "OR lower(value) LIKE ? ESCAPE '\\')" for _ in tags) + ")")
        params += [v for t in tags for v in (fold(t), _like_prefix(fold(t) + "/"))]
    if suffixes:
        parts.append("(" + " OR ".join(f"lower({column}) LIKE ?" for _ in suffixes) + ")")
        params += ["%" + s for s in suffixes]
    for name, (first, last) in (("created", created or (None, None)), ("modified", modified or (None, None))):
        bounds = [(">=", first), ("<=", last)]
        where = " AND ".join(f"{name} {op} ?" for op, day in bounds if day)
        if where:
            parts.append(f"{column} IN (SELECT path FROM notes WHERE {where})")
            params += [day for _, day in bounds if day]
    if paths is not None:
        parts.append(f"{column} IN ({','.join('?' * len(paths)) or 'NULL'})")
        params += list(paths)
    return " AND ".join(parts) or "1", params
