"""Read Org-mode (.org) and reStructuredText (.rst) notes by turning them into Markdown.

Both are plain-text outlines like Markdown, so each becomes Markdown headings and goes through
ragqa.ingest.markdown.parse_markdown: the same breadcrumbs, fences and title rules as a note. The converters are
small line rewriters: a notes folder needs the outline and the words, not a full Org or docutils parse
(docutils found the same titles in README.rst, 30x slower, and prints its markup complaints unless silenced).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ragqa.ingest.decode import decode_bytes
from ragqa.ingest.documents import Document, SkipFile, read_bytes
from ragqa.ingest.markdown import parse_markdown

_ORG_HEADING = re.compile(r"^(\*+)\s+(.*?)(?:\s+:[\w@#%:]+:)?\s*$")  # trailing :tags: are not the title
_ORG_KEYWORD = re.compile(r"^\s*#\+(\w+):?\s*(.*)$")
_ORG_LINK = re.compile(r"\[\[([^\]]+)\](?:\[([^\]]+)\])?\]")
_RST_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1+\s*$")  # a line of one repeated punctuation character
_RST_DIRECTIVE = re.compile(r"^\.\.\s+([\w:-]+)::\s*(.*)$")
_RST_INLINE = [(re.compile(r"``(.+?)``"), r"\1"), (re.compile(r"`([^`<]+?)\s*<[^>]*>`_{1,2}"), r"\1"),
               (re.compile(r":[\w:-]+:`([^`]+)`"), r"\1"), (re.compile(r"`([^`]+)`_{0,2}"), r"\1")]


def read_org(path: Path, rel: str, options=None) -> Document:
    """An Org file's outline as sections; #+TITLE as the title, else its first top-level heading."""
    return _read(path, rel, "org", org_to_markdown)


def read_rst(path: Path, rel: str, options=None) -> Document:
    """A reStructuredText file's sections under its titles; the first title is the document's."""
    return _read(path, rel, "rst", rst_to_markdown)


def _read(path: Path, rel: str, kind: str, convert) -> Document:
    text, warning = decode_bytes(read_bytes(path))
    doc = parse_markdown(convert(text.replace("\r\n", "\n").replace("\r", "\n")), rel)
    if not doc.sections:
        raise SkipFile(f"no text to index (the .{kind} file is empty or holds only directives)")
    doc.kind = kind
    doc.warnings += [warning] if warning else []
    return doc


def org_to_markdown(text: str) -> str:
    """Org headings as Markdown ones, source blocks as fences; other #+ lines, comments and drawers dropped.

    >>> print(org_to_markdown("#+TITLE: Plan\\n* Todo :work:\\n#+BEGIN_SRC sh\\nls\\n#+END_SRC\\n# note\\nSee [[https://x.org][x]]"))
    ---
    title: "Plan"
    ---
    # Todo
    ```sh
    ls
    ```
    See x
    """
    out, title, in_block, in_drawer = [], None, False, False
    for line in text.split("\n"):
        keyword = _ORG_KEYWORD.match(line)
        if keyword:
            name, value = keyword.group(1).upper(), keyword.group(2).strip()
            if name == "TITLE":
                title = title or value
            elif name.startswith("BEGIN_"):
                in_block = name in ("BEGIN_SRC", "BEGIN_EXAMPLE")  # code keeps its layout; quotes are text
                out.append("```" + value.split(" ")[0] if in_block else "")
            elif name.startswith("END_") and in_block:
                in_block = False
                out.append("```")
            continue  # any other #+KEY: line configures export, it is not text
        if in_block:
            out.append(line)
        elif re.match(r"^\s*:[A-Z_]+:\s*$", line):  # :PROPERTIES: ... :END: drawers hold metadata
            in_drawer = line.strip() != ":END:"
        elif in_drawer or re.match(r"^\s*#(\s|$)", line):
            continue
        elif heading := _ORG_HEADING.match(line):
            out.append("#" * min(len(heading.group(1)), 6) + " " + _org_inline(heading.group(2)))
        else:
            out.append(_org_inline(line))
    body = "\n".join(out)
    return f"---\ntitle: {json.dumps(title)}\n---\n{body}" if title else body


def _org_inline(line: str) -> str:
    """Links as their description (the wikilink parser would misread [[...]]), ~code~ and =verbatim= bare."""
    line = _ORG_LINK.sub(lambda m: m.group(2) or m.group(1), line)
    return re.sub(r"(^|[\s(])[~=](\S(?:.*?\S)?)[~=](?=$|[\s.,;:!?)])", r"\1\2", line)


def rst_to_markdown(text: str) -> str:
    """Titles (by their underline, with or without overline) as Markdown headings, in order of first use.

    >>> rst = "=====\\nGuide\\n=====\\n\\nIntro ``x``.\\n\\nSetup\\n-----\\n\\n.. code:: sh\\n\\n   make\\n\\nDone"
    >>> print(rst_to_markdown(rst))
    # Guide
    <BLANKLINE>
    Intro x.
    <BLANKLINE>
    ## Setup
    <BLANKLINE>
    ```sh
    <BLANKLINE>
       make
    <BLANKLINE>
    ```
    Done
    """
    lines, styles, i = text.split("\n"), [], 0
    out: list[str] = []
    while i < len(lines):
        line, after = lines[i], lines[i + 1] if i + 1 < len(lines) else ""
        below = lines[i + 2] if i + 2 < len(lines) else ""
        fresh = i == 0 or not lines[i - 1].strip()
        over = _RST_ADORNMENT.match(line)
        if fresh and over and after.strip() and _RST_ADORNMENT.match(below) and below.strip() == line.strip():
            style, title, i = (line.strip()[0], True), after.strip(), i + 3  # overlined title
        elif (fresh and line.strip() and not line.startswith(" ") and not over and _RST_ADORNMENT.match(after)
              and len(after.strip()) >= len(line.strip())):
            style, title, i = (after.strip()[0], False), line.strip(), i + 2
        else:
            directive = _RST_DIRECTIVE.match(line)
            i = _rst_directive(lines, i, directive, out) if directive else i + 1
            if not directive and not line.startswith(".."):  # "..": a comment or a link target
                out.append(_rst_inline(line))
            continue
        styles += [] if style in styles else [style]
        out.append("#" * min(styles.index(style) + 1, 6) + " " + _rst_inline(title))
    return "\n".join(out)


def _rst_directive(lines: list[str], i: int, directive, out: list[str]) -> int:
    """Code directives become fences around their indented block; other directives' content stays as text."""
    name = directive.group(1)
    if name not in ("code", "code-block", "sourcecode", "highlight"):
        return i + 1
    out.append("```" + directive.group(2).strip())
    i += 1
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
        out.append(lines[i])
        i += 1
    while out[-1] == "" and out[-2] == "":
        out.pop()
    out.append("```")
    return i


def _rst_inline(line: str) -> str:
    for pattern, replacement in _RST_INLINE:
        line = pattern.sub(replacement, line)
    return line
