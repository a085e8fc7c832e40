"""The sentences of the retrieved passages that a small model should read: fewer, better tokens.

A local model reads its prompt at a few dozen tokens per second on a laptop CPU, and small models
are led astray by text that does not bear on the question. So instead of whole passages the prompt
gets, within a token budget, the sentences that best match the question and their neighbours (which
carry what "it" and "they" refer to), in their original order, with "…" where text was left out.

Sentences are scored by the words they share with the question (stems, weighted by how rare each word
is among the retrieved sentences; a word found only in the passage's heading counts half), blended with
the embedding model's similarity when one is given, and the budget goes to the best sentences overall
(giving every passage its best sentence first measured worse: `each_passage`). A "sentence" longer
than a line budget (a table, a list) is read line by line. docs/ANSWERS.md has the measurements behind
these choices (bench/context_focus.py); the benches compare them through `FocusOptions`, never by changing
this module's constants.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from ragqa.text import sentence_spans, stems

_CLAUSE = re.compile(r"(?<=;)\s+|(?<=\S \|)\s+(?=\S)")
GAP = " … "
SEMANTIC_WEIGHT = 0.3  # share of the embedding similarity in a sentence's score, when there is one
HEADING_WEIGHT = 0.5  # a question word found only in the passage's heading counts this much
LONG_UNIT_TOKENS = 60  # a sentence longer than this is split at its line breaks
Similarity = Callable[[str, list[str]], list[float]]  # (question, sentences) -> cosine similarity each


@dataclass(frozen=True)
class FocusOptions:
    """How the budget is spent; the defaults are what ships (bench/context_focus.py, bench/answer_quality.py
    compare others)."""

    rank_weight: float = 0.05  # a tie goes to the better-ranked passage (0.3: docs/ANSWERS.md, "Rank weight")
    neighbours: int = 1  # sentences on either side of a chosen one, while room is left
    each_passage: bool = False  # every passage's best sentence first, in rank order (measured worse)


@dataclass
class Focused:
    text: str  # the kept sentences in order; GAP where some were left out; "" when none was kept
    best: str  # the sentence that matches the question best ("" if none shares a word with it)
    match: float  # the share of the question's (idf-weighted) words in that sentence, 0..1
    complete: bool  # every sentence of the passage was kept


def units(text: str, count_tokens: Callable[[str], int]) -> list[str]:
    """The passage's sentences. One longer than LONG_UNIT_TOKENS is split at its line breaks (a list,
    a table), and a line still that long at its clause and cell boundaries ("; ", " | ").

    >>> units("A short one. | a | table |\\n| b | row |", lambda t: len(t) // 4)
    ['A short one.', '| a | table |\\n| b | row |']
    >>> units("| cell one is long | cell two; and more |", lambda t: 99)
    ['| cell one is long |', 'cell two;', 'and more |']
    """
    out = []
    for a, b in sentence_spans(text):
        sentence = text[a:b]
        if count_tokens(sentence) <= LONG_UNIT_TOKENS:
            out.append(sentence)
            continue
        for line in (x.strip() for x in sentence.split("\n")):
            if line and count_tokens(line) > LONG_UNIT_TOKENS:
                out.extend(p.strip() for p in _CLAUSE.split(line) if p.strip())
            elif line:
                out.append(line)
    return out


def _idf(question_stems: set[str], sentence_stems: list[set[str]]) -> dict[str, float]:
    n = len(sentence_stems) or 1
    return {s: math.log(1 + n / (1 + sum(s in ss for ss in sentence_stems))) for s in question_stems}


def sentence_scores(question: str, passages: list[list[str]], headings: list[str] | None = None) -> list[list[float]]:
    """Per passage, per sentence: the idf-weighted share of the question's stems it contains (0..1),
    a stem found only in the passage's heading counting HEADING_WEIGHT.

    >>> sentence_scores("when was the bridge opened", [["The bridge is red.", "It opened in 1932."]])
    [[0.5, 0.5]]
    >>> [round(x, 2) for x in sentence_scores("when was the bridge opened", [["It opened."]], ["The bridge"])[0]]
    [0.68]
    """
    wanted = stems(question)
    flat = [stems(s) for sents in passages for s in sents]
    idf = _idf(wanted, flat)
    total = sum(idf.values()) or 1.0
    scores, i = [], 0
    for p, sents in enumerate(passages):
        heading = stems(headings[p]) & wanted if headings else set()
        row = []
        for j in range(len(sents)):
            found = wanted & flat[i + j]
            row.append((sum(idf[w] for w in found) + HEADING_WEIGHT * sum(idf[w] for w in heading - found)) / total)
        scores.append(row)
        i += len(sents)
    return scores


def blend(lexical: list[list[float]], similarities: list[float], weight: float = SEMANTIC_WEIGHT) -> list[list[float]]:
    """Lexical scores mixed with embedding similarities (flat, in the same order), these min-max scaled
    over the question's sentences so that both run 0..1.

    >>> blend([[1.0, 0.0]], [0.9, 0.8], 0.5)
    [[1.0, 0.0]]
    """
    low, high = min(similarities, default=0.0), max(similarities, default=0.0)
    span = (high - low) or 1.0
    out, i = [], 0
    for row in lexical:
        out.append([(1 - weight) * s + weight * (similarities[i + j] - low) / span for j, s in enumerate(row)])
        i += len(row)
    return out


def focus_passages(question: str, texts: list[str], *, budget: int | None, count_tokens: Callable[[str], int],
                   similarity: Similarity | None = None, headings: list[str] | None = None,
                   options: FocusOptions = FocusOptions()) -> list[Focused]:
    """One Focused per passage (best first, as given), together within `budget` tokens (None: all).

    Sentences are taken best first overall (with `options.each_passage`, every passage with a matching
    sentence first gets its best one, in rank order: measured worse, kept for the benchmark). Each brings up
    to `options.neighbours` sentences on either side while room is left. A passage none of whose sentences
    was taken gets text "".
    """
    split = [units(t, count_tokens) for t in texts]
    plain = sentence_scores(question, split)  # the sentence's own words: the "match" shown to people
    lexical = sentence_scores(question, split, headings) if headings else plain
    flat = [s for sents in split for s in sents]
    scores = blend(lexical, list(similarity(question, flat))) if similarity and flat else lexical
    if budget is None:  # everything, in order; the scores still pick each passage's best sentence
        return [_focused(sents, set(range(len(sents))), scores[i], plain[i]) for i, sents in enumerate(split)]
    count = len(texts)
    ranked = sorted(((s + options.rank_weight * (count - i) / max(count, 1), i, j)
                     for i, row in enumerate(scores) for j, s in enumerate(row)), key=lambda x: (-x[0], x[1], x[2]))
    kept: list[set[int]] = [set() for _ in texts]
    used = 0

    def take(i: int, j: int) -> bool:
        nonlocal used
        if j in kept[i] or not 0 <= j < len(split[i]):
            return True
        cost = count_tokens(split[i][j]) + 1
        if used + cost > budget:
            return False
        kept[i].add(j)
        used += cost
        return True

    primaries = [(score, i, j) for score, i, j in ranked if lexical[i][j] > 0 or scores[i][j] > 0]
    if options.each_passage:
        firsts: dict[int, tuple[float, int, int]] = {}
        for item in primaries:
            firsts.setdefault(item[1], item)
        primaries = [firsts[i] for i in sorted(firsts)] + [p for p in primaries if p not in firsts.values()]
        for _, i, j in list(firsts.values()):
            take(i, j)
    for _, i, j in primaries:
        if not take(i, j):
            continue
        for step in range(1, options.neighbours + 1):  # after, then before: the next sentence usually explains
            take(i, j + step)
            take(i, j - step)
    if not any(kept) and primaries:  # not even the best sentence fits: it alone, over budget
        _, i, j = primaries[0]
        kept[i].add(j)
    elif not any(kept) and split and split[0]:  # nothing matches the question: the best passage's opening
        kept[0].add(0)
        for j in range(1, len(split[0])):
            if not take(0, j):
                break
    return [_focused(sents, kept[i], scores[i], plain[i]) for i, sents in enumerate(split)]


def _focused(sents: list[str], kept: set[int], scores: list[float], match: list[float]) -> Focused:
    best_j = max(range(len(sents)), key=lambda j: (scores[j], -j)) if sents else None
    return Focused(
        text=_join(sents, sorted(kept)),
        best=sents[best_j] if best_j is not None and match[best_j] > 0 else "",
        match=match[best_j] if best_j is not None else 0.0,
        complete=len(kept) == len(sents) and bool(sents),
    )


def _join(sents: list[str], indexes: list[int]) -> str:
    """The chosen sentences in order, GAP between those that are not next to each other.

    >>> _join(["A.", "B.", "C.", "D."], [0, 1, 3])
    'A. B. … D.'
    """
    parts: list[str] = []
    for n, j in enumerate(indexes):
        if n and j != indexes[n - 1] + 1:
            parts.append(GAP.strip())
        parts.append(sents[j])
    text = " ".join(parts)
    if indexes and indexes[0] > 0:
        text = "… " + text
    if indexes and indexes[-1] < len(sents) - 1:
        text += " …"
    return text
