"""Snippets for display: the question's words in bold, Markdown kept (HTML is never rendered)."""
from __future__ import annotations

import re

from ragqa.answer.citations import content_words

_CODE = re.compile(r"(`[^`\n]*`)")


def highlight_terms(text: str, question: str) -> str:
    """Bold every word of `text` that is a content word of the question (Markdown).

    >>> highlight_terms("Tomatoes need sun.", "do tomatoes need water?")
    '**Tomatoes** **need** sun.'
    >>> highlight_terms("Run `ragqa ingest` to ingest.", "how do I ingest?")
    'Run `ragqa ingest` to **ingest**.'
    """
    wanted = content_words(question)
    if not wanted:
        return text
    parts = _CODE.split(text)  # inline code stays as it is: Markdown shows no bold inside it
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\w+", lambda m: f"**{m.group(0)}**" if m.group(0).lower() in wanted else m.group(0),
                          parts[i])
    return "".join(parts)

