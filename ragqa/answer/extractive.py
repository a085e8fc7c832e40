"""Answers without an LLM (`llm.provider: none`): the best passages, with the
sentences that match the question picked out. Clearly labelled as not generated."""
from __future__ import annotations

from ragqa.answer.focus import sentence_scores
from ragqa.text import sentences as split_sentences

NOT_GENERATED = ("Retrieval only: these are the passages from your notes that best match the question "
                 "(no text was generated).")


def best_sentences(question: str, text: str, limit: int = 2) -> list[str]:
    """The `limit` sentences of `text` that match the question best, in text order (scored as the focus step
    scores them: ragqa.answer.focus.sentence_scores); none that shares no word with it.

    >>> best_sentences("when do tomatoes need water",
    ...                "Tomatoes like sun. Water tomatoes twice a week. Pick them red.", 1)
    ['Water tomatoes twice a week.']
    """
    sentences = split_sentences(text)
    [scores] = sentence_scores(question, [sentences])
    top = sorted((i for i, score in enumerate(scores) if score > 0), key=lambda i: (-scores[i], i))[:limit]
    return [sentences[i] for i in sorted(top)]


def extractive_answer(question: str, passages: list[str], per_passage: int = 2, max_passages: int = 3) -> str:
    """Markdown: a label, then the matching sentences of the top passages, each cited [n]."""
    lines = [f"*{NOT_GENERATED}*", ""]
    for n, passage in enumerate(passages[:max_passages], 1):
        picked = best_sentences(question, passage, per_passage) or [passage.strip().split("\n")[0][:300]]
        lines.append(f"- {' … '.join(picked)} [{n}]")
    if not passages:
        lines.append("No passage in your notes matches this question.")
    return "\n".join(lines)
