"""Snippets for display: the question's words in bold, Markdown kept (HTML is never rendered)."""
from __future__ import annotations

import re

from ragqa.citations import content_words


def highlight_terms(text: str, question: str) -> str:
    """Bold every word of `text` that is a content word of the question (Markdown).

    >>> highlight_terms("Tomatoes need sun.", "do tomatoes need water?")
    '**Tomatoes** **need** sun.'
    """
    wanted = content_words(question)
    if not wanted:
        return text
    return re.sub(r"\w+", lambda m: f"**{m.group(0)}**" if m.group(0).lower() in wanted else m.group(0), text)

