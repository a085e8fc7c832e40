"""YAML front matter: split it off a note and turn it into plain metadata.

Front matter is the block between a first line `---` and the next `---` (or
`...`). Obsidian and static-site tools write it by hand, so it is often
sloppy: a broken block is kept as ordinary text with a warning, never fatal.
"""
from __future__ import annotations

import datetime as dt
import re

import yaml

_OPEN = re.compile(r"---[ \t]*\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_LIST_KEYS = ("tags", "aliases")
_SCALARS = (str, int, float, bool)
# Same safe subset as yaml.safe_load; the C parser is ~10x faster on big vaults.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def split_front_matter(text: str) -> tuple[dict, str, str | None]:
    """Return (metadata, body, warning) for a note's text.

    >>> split_front_matter("---\\ntags: [a, '#b']\\n---\\nHello")
    ({'tags': ['a', 'b']}, 'Hello', None)
    >>> split_front_matter("no front matter")
    ({}, 'no front matter', None)
    """
    if not _OPEN.match(text):
        return {}, text, None
    start = text.index("\n") + 1
    close = _CLOSE.search(text, start)
    if close is None:
        return {}, text, "front matter starts with '---' but is never closed; kept as text"
    raw = text[start:close.start()]
    body = text[close.end():].removeprefix("\n")
    try:
        data = yaml.load(raw, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        problem = getattr(err, "problem", None) or "syntax error"
        return {}, text, f"front matter is not valid YAML{where} ({problem}); kept as text"
    except Exception as err:  # noqa: BLE001 - e.g. an impossible date like 2024-13-45
        return {}, text, f"front matter could not be read ({type(err).__name__}); kept as text"
    if data is None:
        return {}, body, None
    if not isinstance(data, dict):
        return {}, text, f"front matter is a {type(data).__name__}, not key: value pairs; kept as text"
    return normalise_metadata(data), body, None


def normalise_metadata(data: dict) -> dict:
    """Keep what is useful for search, as plain JSON-friendly values.

    tags and aliases become de-duplicated lists of strings; dates become ISO
    strings; other keys are kept only when scalar (nested values are dropped).

    >>> normalise_metadata({"tags": "#x y, x", "created": dt.date(2024, 1, 2), "n": [1]})
    {'tags': ['x', 'y'], 'created': '2024-01-02'}
    """
    out: dict = {}
    for key, value in data.items():
        name = str(key).strip()
        if name in ("tags", "tag"):
            out["tags"] = _unique(out.get("tags", []) + _tag_list(value))
        elif name == "aliases" or name == "alias":
            out["aliases"] = _unique(out.get("aliases", []) + _alias_list(value))
        elif name == "title":
            title = _scalar(value)
            # A title is one line in a breadcrumb; YAML block scalars are not.
            if title is not None and " ".join(str(title).split()):
                out["title"] = " ".join(str(title).split())
        else:
            scalar = _scalar(value)
            if scalar is not None or value is None:
                out[name] = scalar
    return out


def _scalar(value):
    """A JSON-friendly scalar, or None for anything nested."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, _SCALARS):
        return value
    return None


def _items(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(_scalar(v)) for v in value if _scalar(v) is not None]
    scalar = _scalar(value)
    return [str(scalar)] if scalar is not None else []


def _tag_list(value) -> list[str]:
    # "a, b" and "a b" both mean two tags; "#a" is the inline spelling of "a".
    words = [w for item in _items(value) for w in re.split(r"[,\s]+", item)]
    return [w.lstrip("#") for w in words if w.lstrip("#")]


def _alias_list(value) -> list[str]:
    if isinstance(value, str):
        return [a.strip() for a in value.split(",") if a.strip()]
    return [a.strip() for a in _items(value) if a.strip()]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
