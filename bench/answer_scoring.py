"""How bench/answer_quality.py scores an answer: SQuAD's normalisation, gold strings, the cited passage."""
from __future__ import annotations

import re
import string


def normalize(text: str) -> str:
    """SQuAD's answer normalisation.

    >>> normalize("The  Denver Broncos!")
    'denver broncos'
    """
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def contains_gold(answer: str, golds: list[str]) -> bool:
    padded = f" {normalize(answer)} "
    return any(f" {normalize(g)} " in padded for g in golds if normalize(g))


def answer_line(text: str) -> str:
    """The answer without a quotation the model copied before it (the "quote first" variant).

    >>> answer_line('"Water them twice a week." [2] Water them twice a week [2].')
    'Water them twice a week [2].'
    """
    rest = re.sub(r'^\s*>?\s*["“][^"”]*["”]\.?\s*(\[[\d, ]+\]\.?)?\s*', "", text, count=1)
    return rest or text


def score(answer, golds: list[str], gold_docs: set, note_to_doc: dict) -> dict:
    from ragqa.answer.refusals import is_refusal

    doc = {n: note_to_doc.get(h.chunk.path) for n, h in enumerate(answer.passages, 1)}
    given = any(d in gold_docs for d in doc.values())
    refused = answer.generated and is_refusal(answer.raw)
    return {
        "gold_answer": contains_gold(answer.text, golds),
        "answer_line_gold": contains_gold(answer_line(answer.text), golds),
        "model_gold": contains_gold(answer.raw, golds) if answer.generated else None,
        "cites_gold": any(doc.get(n) in gold_docs for n in answer.cited),
        "gold_retrieved": given,
        "refused_with_gold": (refused and given) if answer.generated else None,
        "final_refusal_with_gold": (refused and given and not answer.quoted) if answer.generated else None,
        "quoted": answer.quoted,
        "seconds": answer.seconds, "first_token": answer.first_token_seconds, "prompt_tokens": answer.prompt_tokens,
        "error": answer.error, "text": answer.text, "raw": answer.raw, "cited": [doc.get(n) for n in answer.cited],
    }
