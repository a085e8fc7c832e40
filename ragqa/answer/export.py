"""A saved conversation as Markdown a notes app reads (Obsidian links to the sources), or as JSON.

Each question is a heading, each answer keeps its [n] markers, and its sources follow as a numbered list:
an Obsidian link to the note's heading (`[[garden/tomatoes.md#Pests]]`) or the PDF's page
(`[[paper.pdf#page=3]]`), with the passage quoted as it was when the question was asked.
"""
from __future__ import annotations

import json
import re

from ragqa.index.history import Conversation, Turn, turn_dict

_MARKER = re.compile(r"\[(\d+)\]")
_NOT_IN_LINKS = re.compile(r"[#|\[\]^]")


def obsidian_link(row: dict) -> str:
    """The source as an Obsidian link: the heading it sits under (the breadcrumb's last part), or the page.

    >>> obsidian_link({"path": "garden/tomatoes.md", "heading": "Growing tomatoes > Pests", "page": None})
    '[[garden/tomatoes.md#Pests]]'
    >>> obsidian_link({"path": "papers/attention.pdf", "heading": "Attention", "page": 3})
    '[[papers/attention.pdf#page=3]]'
    >>> obsidian_link({"path": "bread.txt", "heading": "bread", "page": None})
    '[[bread.txt]]'
    """
    path = _NOT_IN_LINKS.sub(" ", row["path"])
    if row.get("page"):
        return f"[[{path}#page={row['page']}]]"
    parts = [p.strip() for p in (row.get("heading") or "").split(" > ") if p.strip()]
    if len(parts) < 2:  # the title alone: it may not be a heading of the note
        return f"[[{path}]]"
    return f"[[{path}#{' '.join(_NOT_IN_LINKS.sub(' ', parts[-1]).split())}]]"


def renumbered(text: str, cited: list[int]) -> tuple[str, dict[int, int]]:
    """The answer with its markers numbered 1, 2, … in the order of `cited`, so they match a Markdown
    numbered list (which renumbers its items so); markers of passages not cited are left as they are.

    >>> renumbered("Sun [3], water [5][3].", [3, 5])
    ('Sun [1], water [2][1].', {3: 1, 5: 2})
    """
    numbers = {n: i for i, n in enumerate(cited, 1)}
    return _MARKER.sub(lambda m: f"[{numbers.get(int(m.group(1)), m.group(1))}]", text), numbers


def _quoted(text: str, indent: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()] or [""]
    return "\n".join(f"{indent}> {line}" if line else f"{indent}>" for line in lines)


def turn_markdown(turn: Turn) -> str:
    rows = sorted(turn.citations, key=lambda r: r["n"])
    text, numbers = renumbered(turn.answer.strip(), [r["n"] for r in rows])
    out = [f"## {' '.join(turn.question.split())}", "", text, ""]
    if turn.error:
        out += [f"*The language model failed ({turn.error}); the answer is the best passages.*", ""]
    if rows:
        out += ["**Sources**", ""]
        for row in rows:
            where = f" ({row['collection']})" if row.get("collection") not in (None, "", "default") else ""
            out += [f"{numbers[row['n']]}. {obsidian_link(row)}{where}", _quoted(row.get("text") or "", "   "), ""]
    note = turn.model or ""
    if turn.seconds is not None:
        note += f" · {turn.seconds:.1f} s"
    if turn.search_query and turn.search_query != turn.question:
        note += f" · searched for: {turn.search_query}"
    if note:
        out += [f"*{note.strip(' ·')}*", ""]
    return "\n".join(out)


def conversation_markdown(conversation: Conversation, turns: list[Turn]) -> str:
    """The whole conversation: front matter (title, id, dates), then each turn."""
    head = ["---", f"title: {json.dumps(conversation.title, ensure_ascii=False)}",
            f"ragqa-conversation: {conversation.id}", f"started: {conversation.started}",
            f"updated: {conversation.updated}", "tags: [ragqa-chat]", "---", "",
            f"# {conversation.title}", ""]
    return "\n".join(head + [turn_markdown(t) for t in turns]).rstrip() + "\n"


def conversation_json(conversation: Conversation, turns: list[Turn]) -> dict:
    """`ragqa history export --format json`: the summary row, with every turn."""
    return {**conversation.summary(), "turns": [turn_dict(t) for t in turns]}


def file_name(conversation: Conversation) -> str:
    """A file name for the saved Markdown: the title's words, then the id (so saving again replaces it).

    >>> file_name(Conversation("3f9a2c1b7e", "How do I feed: the starter?", "", "", 1))
    'how-do-i-feed-the-starter-3f9a2c1b7e.md'
    """
    words = re.findall(r"\w+", conversation.title.lower())[:8]
    return "-".join([*words, conversation.id]) + ".md"
