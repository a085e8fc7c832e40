"""Text for st.markdown that shows notes' titles and paths literally, never as Markdown or HTML."""
from __future__ import annotations

import re


def plain(text: str) -> str:
    """Text shown literally inside Markdown (labels, paths): its Markdown characters escaped.

    >>> print(plain("my_notes/[draft] $5.md"))
    my\\_notes/\\[draft\\] \\$5.md
    """
    return re.sub(r"([\\`*_\[\]#|<>~$])", r"\\\1", text)


def related_list(rows: list[dict]) -> str:
    """`related_notes` rows as a Markdown list, best first, every title and path escaped.

    >>> print(related_list([{"path": "garden/compost.md", "title": "Composting", "score": 0.8123}]))
    - Composting · garden/compost.md · 0.81
    """
    return "\n".join(f"- {plain(r['title'])} · {plain(r['path'])} · {r['score']:.2f}" for r in rows)
