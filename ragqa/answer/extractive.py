"""Answers without an LLM (`llm.provider: none`): the best passages, with the
sentences that match the question picked out. Clearly labelled as not generated."""
from __future__ import annotations

import re

from ragqa.answer.citations import content_words

NOT_GENERATED = ("Retrieval only: these are the passages from your notes that best match the question "
                 "(no text was generated).")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n{2,}")


def best_sentences(question: str, text: str, limit: int = 2) -> list[str]:
    """The sentences of `text` that share the most content words with the question, in text order.

    >>> best_sentences("when do tomatoes need water",
    ...                "Tomatoes like sun. Water tomatoes twice a week. Pick them red.", 1)
    ['Water tomatoes twice a week.']
    """
    wanted = content_words(question)
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    scored = [(len(wanted & content_words(s)), -i, s) for i, s in enumerate(sentences)]
    top = sorted((x for x in scored if x[0] > 0), reverse=True)[:limit]
    return [s for _, _, s in sorted(top, key=lambda x: -x[1])]


def extractive_answer(question: str, passages: list[str], per_passage: int = 2, max_passages: int = 3) -> str:
    """Markdown: a label, then the matching sentences of the top passages, each cited [n]."""
    lines = [f"*{NOT_GENERATED}*", ""]
    for n, passage in enumerate(passages[:max_passages], 1):
        picked = best_sentences(question, passage, per_passage) or [passage.strip().split("\n")[0][:300]]
        lines.append(f"- {' … '.join(picked)} [{n}]")
    if not passages:
        lines.append("No passage in your notes matches this question.")
    return "\n".join(lines)
