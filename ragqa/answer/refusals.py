"""The final check on a generated answer: a refusal is not the last word when a passage clearly answers.

Small models sometimes say "the notes do not say" with the answer in front of them (the README's own
example question did, with the answering passage retrieved as [1]). When that happens and one of the
given passages has a sentence that matches the question well, the answer gets that sentence, quoted,
cited and labelled as a quotation rather than generated text.
"""
from __future__ import annotations

import re

from ragqa.text import sentences

# "The notes do not say.", "The passages don't mention ...", "There is no information about ...".
_REFUSAL = re.compile(
    r"\b(notes?|passages?|context|texts?|documents?|sources?)\b[^.!?]{0,40}?\b"
    r"(do|does|did|can|could)\s*(not|n't)\s+(say|mention|contain|state|provide|include|specify|answer|tell|"
    r"give|describe|have|discuss|address)"
    r"|\bno (information|answer|mention|details?)\b"
    r"|\bnot (mentioned|specified|stated|provided|given|included|found)\b"
    r"|\b(cannot|can't|unable to) (find|answer|determine|tell)\b",
    re.IGNORECASE,
)
QUOTE_MIN = 0.5  # the matching sentence holds at least this share of the question's (weighted) words
QUOTE_LABEL = ("The model answered that the notes do not say, but this passage matches the question "
               "(quoted, not generated):")


def is_refusal(answer: str) -> bool:
    """True if the answer's first sentence says the notes hold no answer.

    >>> is_refusal("The notes do not say. [3]"), is_refusal("There is no information about it.")
    (True, True)
    >>> is_refusal("It opened in 1932 [2]."), is_refusal("The bridge is not mentioned often, but it opened in 1932.")
    (False, False)
    """
    first = next(iter(sentences(answer)), "")
    return bool(first) and bool(_REFUSAL.search(first)) and not re.search(r"\bbut\b", first, re.IGNORECASE)


def quoted_answer(refusal: str, best: list[tuple[str, float]]) -> tuple[str, int] | None:
    """(new answer text, the cited passage number) when a given passage has a clearly matching sentence.

    `best` holds, per passage numbered 1..n, its best sentence and that sentence's match score (0..1).

    >>> quoted_answer("The notes do not say.", [("Tomatoes need sun.", 0.2), ("Water them twice a week.", 0.8)])[1]
    2
    >>> quoted_answer("The notes do not say.", [("Tomatoes need sun.", 0.2)]) is None
    True
    """
    scored = [(score, n, sentence) for n, (sentence, score) in enumerate(best, 1) if sentence]
    if not scored:
        return None
    score, n, sentence = max(scored, key=lambda x: (x[0], -x[1]))
    if score < QUOTE_MIN:
        return None
    quote = " ".join(sentence.split())
    return f"*{QUOTE_LABEL}*\n\n> {quote} [{n}]", n
