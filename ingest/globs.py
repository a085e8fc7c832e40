"""Glob patterns for include/exclude settings, matched against POSIX paths.

Rules, as in .gitignore: `*` and `?` stay inside one folder, `**` spans any
number of folders (including none), and a pattern without a `/` matches the
file or folder name at any depth. Matching ignores case, so `*.md` also
takes `README.MD`.
"""
from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern:
    """Compile one glob to a regex over a root-relative POSIX path.

    >>> bool(compile_glob("**/*.md").match("a/b/c.md")), bool(compile_glob("**/*.md").match("c.md"))
    (True, True)
    >>> bool(compile_glob("drafts/**").match("drafts")), bool(compile_glob("*.tmp").match("x/y.tmp"))
    (True, True)
    """
    pat = pattern.strip().replace("\\", "/")
    while pat.startswith("./"):
        pat = pat[2:]
    anchored = "/" in pat.rstrip("/")
    pat = pat.strip("/")
    if not anchored:
        pat = "**/" + pat
    parts: list[str] = []
    for part in pat.split("/"):
        if not (part == "**" and parts and parts[-1] == "**"):
            parts.append(part)
    if parts == ["**"]:
        return re.compile(r".*\Z", re.IGNORECASE | re.DOTALL)
    out = ""
    for i, part in enumerate(parts):
        first, last = i == 0, i == len(parts) - 1
        if part == "**":
            # Eats the slashes around it, so "a/**/b" also matches "a/b".
            out += "(?:.*/)?" if first else ("(?:/.*)?" if last else "/(?:.*/)?")
        else:
            if not first and parts[i - 1] != "**":
                out += "/"
            out += _segment(part)
    try:
        return re.compile(out + r"\Z", re.IGNORECASE | re.DOTALL)
    except re.error:  # e.g. "[z-a]": match the pattern literally instead
        return re.compile(re.escape(pattern.strip()) + r"\Z", re.IGNORECASE)


def _segment(part: str) -> str:
    out, i = "", 0
    while i < len(part):
        ch = part[i]
        end = _class_end(part, i) if ch == "[" else -1
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif end > 0:
            body = part[i + 1:end].replace("\\", "\\\\")
            out += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
            i = end
        else:
            out += re.escape(ch)
        i += 1
    return out


def _class_end(part: str, i: int) -> int:
    """Index of the `]` closing a `[...]` class at i, or -1 if it is a plain `[`."""
    j = i + 1
    if part[j:j + 1] == "!":
        j += 1
    if part[j:j + 1] == "]":
        j += 1
    return part.find("]", j)


def matches_any(rel: str, patterns: list[str]) -> bool:
    """True if the root-relative POSIX path matches one of the globs."""
    return any(compile_glob(p).match(rel) for p in patterns if p.strip())
