"""Inline rewriting of Obsidian links, embeds and images into readable text.

Search and the answer model read plain prose, so `[[Some Note|this idea]]`
becomes "this idea" while the link target is recorded separately.
"""
from __future__ import annotations

import re

# `\|` is how a pipe is escaped inside a table cell; treat it as a plain `|`.
_WIKI = re.compile(r"(!?)\[\[([^\[\]\n]*)\]\]")
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\((?:<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+\"[^\"\n]*\")?\)")
_SIZE = re.compile(r"\|\s*\d+(?:x\d+)?\s*$")  # "alt|300" or "alt|300x200"


def normalise_target(target: str) -> str:
    """The note a link points at, comparable across links.

    >>> normalise_target("./Concepts/Rust Traits.md#Usage")
    'Concepts/Rust Traits'
    >>> normalise_target("../Concepts/scope")
    'Concepts/scope'
    """
    page = target.split("#", 1)[0].strip().replace("\\", "/")
    while page.startswith(("./", "../")):
        page = page.split("/", 1)[1]
    if page.lower().endswith(".md"):
        page = page[:-3]
    return page.strip()


def link_text(inner: str) -> str:
    """What a reader sees for `[[inner]]`.

    >>> link_text("Note#Setup")
    'Note > Setup'
    >>> link_text("./dir/Note.md|the note")
    'the note'
    >>> link_text("Note#^block1")
    'Note'
    """
    target, _, alias = inner.replace("\\|", "|").partition("|")
    if alias.strip():
        return alias.strip()
    page, _, heading = target.partition("#")
    name = normalise_target(page).rsplit("/", 1)[-1]
    # `^id` is a block reference: an opaque id, not words a reader wants.
    heading = heading.strip().replace("#", " > ")
    if not heading or heading.startswith("^"):
        return name or target.strip()
    return f"{name} > {heading}" if name else heading


def rewrite_inline(line: str, links: list[str]) -> str:
    """Rewrite one line of prose; append each wikilink target to `links`.

    Embeds (`![[...]]`) are dropped from the text: they show a picture or another note, neither of which
    belongs in this note's text; their targets are links all the same (Obsidian lists them among the backlinks).
    Images keep their alt text.

    >>> found = []
    >>> rewrite_inline("See [[a/B|bee]] ![[x.png]] ![logo|300](l.png)", found), found
    ('See bee  logo', ['a/B', 'x.png'])
    """
    if "[" not in line:
        return line

    def wiki(match: re.Match) -> str:
        inner = match.group(2)
        target = normalise_target(inner.replace("\\|", "|").partition("|")[0])
        if target:
            links.append(target)
        return "" if match.group(1) else link_text(inner)

    line = _WIKI.sub(wiki, line)
    return _IMAGE.sub(lambda m: _SIZE.sub("", m.group(1)).strip(), line)


def wikilink_targets(text: str) -> list[str]:
    """Every `[[target]]` in a text that is not prose, such as a front matter block (`parent: "[[fruit|Fruit]]"`).

    >>> wikilink_targets('parent:\\n  - "[[./fruit|Fruit]]"\\nsee: "[[veg#Roots]]"')
    ['fruit', 'veg']
    """
    targets = (normalise_target(m.group(2).replace("\\|", "|").partition("|")[0]) for m in _WIKI.finditer(text))
    return [t for t in targets if t]
