"""Parse a Markdown note into a Document of heading-delimited sections.

Handles what real Obsidian vaults contain: YAML front matter, wikilinks,
embeds, and fenced code (where `# comment` lines are code, not headings).
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from ragqa.ingest.documents import Document, Section
from ragqa.ingest.frontmatter import split_front_matter
from ragqa.ingest.wikilinks import rewrite_inline, wikilink_targets

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def parse_markdown(text: str, path: str) -> Document:
    """Split a note into sections by its ATX headings.

    Links are the body's wikilinks and those in the front matter (`parent: "[[x]]"`), in order.

    >>> note = "---\\ntags: [a]\\nup: '[[Top]]'\\n---\\n# Plan\\nIntro\\n## Steps\\nGo [[Next|on]]"
    >>> doc = parse_markdown(note, "n/plan.md")
    >>> doc.title, [(s.headings, s.text) for s in doc.sections], doc.links, doc.tags
    ('Plan', [([], 'Intro'), (['Steps'], 'Go on')], ['Top', 'Next'], ['a'])
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    metadata, body, warning = split_front_matter(text)
    warnings = [warning] if warning else []
    blocks = _heading_blocks(body)
    title = metadata.get("title") or _first_h1(blocks) or stem_of(path)
    links: list[str] = wikilink_targets(text[:len(text) - len(body)]) if metadata else []
    sections = _sections(blocks, title, links)
    return Document(path=path, title=title, sections=sections, kind="markdown",
                    metadata=metadata, links=links, warnings=warnings)


def stem_of(path: str) -> str:
    """File name without its extension: the title of last resort."""
    name = PurePosixPath(path.replace("\\", "/")).name
    return (name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name) or path


def _heading_blocks(body: str) -> list[tuple[int, str, list[tuple[bool, str]]]]:
    """[(level, heading, [(is_code, line), ...]), ...]; level 0 is the preamble."""
    blocks: list = [(0, "", [])]
    fence: tuple[str, int] | None = None  # (char, length) of the open fence
    for line in body.split("\n"):
        if fence is not None:
            blocks[-1][2].append((True, line))
            if closes_fence(line, fence):
                fence = None
            continue
        fence = opens_fence(line)
        if fence:
            blocks[-1][2].append((True, line))
            continue
        heading = _HEADING.match(line)
        if heading and heading.group(2).strip():
            blocks.append((len(heading.group(1)), heading.group(2).strip(), []))
        else:
            blocks[-1][2].append((False, line))
    return blocks


def opens_fence(line: str) -> tuple[str, int] | None:
    """(fence char, length) if the line opens a fenced code block.

    >>> opens_fence("```python"), opens_fence("~~~~"), opens_fence("``` a`b")
    (('`', 3), ('~', 4), None)
    """
    opened = _FENCE.match(line)
    # A backtick fence's info string may not contain backticks (CommonMark).
    if not opened or (opened.group(1)[0] == "`" and "`" in opened.group(2)):
        return None
    return opened.group(1)[0], len(opened.group(1))


def closes_fence(line: str, fence: tuple[str, int]) -> bool:
    """True if the line closes the open fence (same char, at least as long)."""
    stripped = line.strip()
    char, length = fence
    return len(stripped) >= length and set(stripped) == {char} and len(line) - len(line.lstrip(" ")) <= 3


def _first_h1(blocks) -> str | None:
    for level, heading, _ in blocks:
        if level == 1:
            return rewrite_inline(heading, []).strip() or None
    return None


def _sections(blocks, title: str, links: list[str]) -> list[Section]:
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    title_seen = False
    for level, raw_heading, lines in blocks:
        if level:
            heading = rewrite_inline(raw_heading, links).strip() or raw_heading
            while path and path[-1][0] >= level:
                path.pop()
            # The note's own H1 is already the breadcrumb's first part.
            if level == 1 and not title_seen and _same(heading, title):
                title_seen = True
                path.clear()
            else:
                path.append((level, heading))
        text = _clean("\n".join(line if code else rewrite_inline(line, links) for code, line in lines))
        if text:
            sections.append(Section(headings=[h for _, h in path], text=text))
    return sections


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _clean(text: str) -> str:
    """Drop blank lines at both ends and trailing spaces; keep inner layout."""
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)
