"""What a note's text says about other notes and topics: its inline `#tags` and its Markdown links.

(Wikilinks are recorded by the parser as it rewrites them, ragqa.ingest.wikilinks.)
"""
from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

from ragqa.ingest.markdown import closes_fence, opens_fence

# Obsidian's tag: after a space or the line's start, letters/digits/_/-/ and '/' for nesting, not only digits.
_INLINE_TAG = re.compile(r"(?:(?<=\s)|^)#([\w\-/]*[^\W\d][\w\-/]*)", re.UNICODE)
_CODE_SPAN = re.compile(r"(`+)[^`].*?\1")
_MD_LINK = re.compile(r"(?<!!)\[[^\[\]\n]*\]\(<?([^()<>\s]+)>?(?:\s+\"[^\"\n]*\")?\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:")


def _prose_lines(body: str):
    """The body's lines outside fenced code, without their inline code spans."""
    fence = None
    for line in body.split("\n"):
        if fence is not None:
            fence = None if closes_fence(line, fence) else fence
            continue
        fence = opens_fence(line)
        if fence is None:
            yield _CODE_SPAN.sub(" ", line)


def inline_tags(body: str) -> list[str]:
    """The `#tags` written in a note's text, as Obsidian reads them (not headings, code, numbers or URLs).

    >>> inline_tags("# Title\\nSleep #health/sleep and #1 and `#code`, see x.org/#frag\\n```\\n#not\\n```\\n#todo")
    ['health/sleep', 'todo']
    """
    return [m.group(1).rstrip("/") for line in _prose_lines(body) for m in _INLINE_TAG.finditer(line)]


def markdown_links(body: str, note_path: str) -> list[str]:
    """Markdown links to other notes, as paths from the notes folder without ".md" (web links are not notes).

    >>> markdown_links("See [b](../b%20c.md) and [w](https://x.org/a.md), [s](#top), [d](sub/d.md#part)", "n/a.md")
    ['b c', 'n/sub/d']
    """
    folder = posixpath.dirname(note_path)
    found = []
    for line in _prose_lines(body):
        for m in _MD_LINK.finditer(line):
            target = unquote(m.group(1).split("#", 1)[0])
            if not target or _SCHEME.match(target) or target.startswith("/"):
                continue
            path = posixpath.normpath(posixpath.join(folder, target))
            if path.startswith("../") or path == "..":
                continue
            found.append(path[:-3] if path.lower().endswith(".md") else path)
    return found
