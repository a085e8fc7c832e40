"""Citations in an answer: parse `[n]`, drop impossible ones, check them against the passages.

Small local models cite badly (on 100 SQuAD answers of the default 1.5B model,
its citations pointed at the passage holding the answer in 48% of answers under
the old check, 70% under this one), so the model's citations are checked, not
trusted: a sentence citing a passage that supports it clearly less than another
passage does is re-pointed to that one, and an answer with no citation gets one where the support
is clear. A citation written after the full stop ("... in 1932. [2]") belongs to
the sentence before it. docs/ANSWERS.md has the measurements (bench/citation_rules.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ragqa.text import content_words, sentences

CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_CITATIONS = re.compile(r"(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\][.,;:!?]?)+\s*")
SUPPORT_MIN = 0.34  # share of a sentence's content words found in a passage to call it support
REPOINT_MARGIN = 0.2  # re-point a supported citation only to a passage this much better supported


@dataclass
class CitationCheck:
    text: str  # the answer with citations fixed
    cited: list[int] = field(default_factory=list)  # passage numbers cited, in first-cited order
    invalid: list[int] = field(default_factory=list)  # numbers out of range, removed
    repointed: list[tuple[int, int]] = field(default_factory=list)  # (from, to)
    added: list[int] = field(default_factory=list)  # citations added where the model gave none


def support(sentence: str, passage: str) -> float:
    """Share of the sentence's content words that occur in the passage (0..1).

    >>> support("Tomatoes need sun [1]", "tomatoes need six hours of sun")
    1.0
    """
    words = content_words(CITATION.sub(" ", sentence))
    if not words:
        return 0.0
    return len(words & content_words(passage)) / len(words)


def parse_citations(answer: str) -> list[int]:
    """Every cited number, in order of appearance, repeats kept.

    >>> parse_citations("A [1]. B [2, 3]. C [1]")
    [1, 2, 3, 1]
    """
    return [int(n) for m in CITATION.finditer(answer) for n in re.split(r"\s*[,;]\s*", m.group(1))]


def check_citations(answer: str, passages: list[str]) -> CitationCheck:
    """Remove out-of-range numbers, re-point unsupported ones, add one where none was given."""
    count = len(passages)
    result = CitationCheck(text=answer)
    sentences = split_sentences(answer)
    fixed = []
    for sentence in sentences:
        fixed.append(_fix_sentence(sentence, passages, count, result))
    text = " ".join(fixed)
    if not parse_citations(text) and passages and answer.strip():
        scores = [support(text, p) for p in passages]
        best = max(range(count), key=lambda i: scores[i])
        if scores[best] >= SUPPORT_MIN:
            text = text.rstrip() + f" [{best + 1}]"
            result.added.append(best + 1)
    result.text = text.strip()
    for n in parse_citations(text):
        if n not in result.cited:
            result.cited.append(n)
    return result


def split_sentences(answer: str) -> list[str]:
    """Sentences, each with the citations written after its full stop.

    >>> split_sentences("It opened in 1932. [2] It is red [1].")
    ['It opened in 1932. [2]', 'It is red [1].']
    """
    out: list[str] = []
    for part in sentences(answer, paragraphs=False):  # an answer's list or paragraphs stay as written
        leading = _LEADING_CITATIONS.match(part)
        if out and leading:  # citations opening a sentence close the one before it
            out[-1] += " " + leading.group(0).strip()
            part = part[leading.end():]
        if part.strip():
            out.append(part)
    return out


def _fix_sentence(sentence: str, passages: list[str], count: int, result: CitationCheck) -> str:
    def replace(match: re.Match) -> str:
        kept = []
        for raw in re.split(r"\s*[,;]\s*", match.group(1)):
            n = int(raw)
            if not 1 <= n <= count:
                result.invalid.append(n)
                continue
            n = _best_supported(sentence, passages, n, result)
            if n not in kept:
                kept.append(n)
        return "[" + ", ".join(map(str, kept)) + "]" if kept else ""

    return re.sub(r"\s+([.,;:!?])", r"\1", CITATION.sub(replace, sentence)).replace("  ", " ")


def _best_supported(sentence: str, passages: list[str], n: int, result: CitationCheck) -> int:
    """n, or the passage that supports the sentence clearly better (by REPOINT_MARGIN) and well enough."""
    scores = [support(sentence, p) for p in passages]
    given, best = scores[n - 1], max(range(len(passages)), key=lambda i: scores[i]) + 1
    if best != n and scores[best - 1] >= SUPPORT_MIN and scores[best - 1] >= given + REPOINT_MARGIN:
        result.repointed.append((n, best))
        return best
    return n
