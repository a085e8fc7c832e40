"""Cut text into spans by structure: paragraphs, sentences, lines, words, characters.

Spans are (start, end) offsets into one section's text, always trimmed of
surrounding whitespace, so a chunk is a slice of the original and keeps its
layout (code indentation, list lines) exactly.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from ragqa.ingest.markdown import closes_fence, opens_fence
from ragqa.text import sentence_ends  # what a sentence is: the read path splits by the same rule

Span = tuple[int, int]
Count = Callable[[str], int]

_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


def paragraphs(text: str) -> list[tuple[Span, bool]]:
    """[(span, is_code), ...]: blank-line separated blocks; a fenced code
    block is one block even when it has blank lines inside.

    >>> paragraphs("a\\n\\n```\\nx\\n\\ny\\n```\\nb")
    [((0, 1), False), ((3, 15), True), ((16, 17), False)]
    """
    out: list[tuple[Span, bool]] = []
    start = None  # offset where the open block starts
    code = False
    fence = None
    offset = 0
    for line in text.split("\n"):
        line_end = offset + len(line)
        if fence is not None:
            if closes_fence(line, fence):  # the code block ends its own block
                assert start is not None  # noqa: S101 - typing: an open fence is in an open block
                fence = None
                out.append((trim(text, start, line_end), code))
                start = None
        elif not line.strip():
            if start is not None:
                out.append((trim(text, start, offset), code))
                start = None
        else:
            fence = opens_fence(line)
            if fence and start is not None:  # a fence starts its own block
                out.append((trim(text, start, offset), code))
                start = None
            if start is None:
                start, code = offset, fence is not None
        offset = line_end + 1
    if start is not None:
        out.append((trim(text, start, len(text)), code))
    return [(span, is_code) for span, is_code in out if span[0] < span[1]]


def split_to_fit(text: str, span: Span, budget: int, count: Count, code: bool = False) -> list[Span]:
    """Spans covering `span` whose text each counts <= budget tokens.

    Prose goes sentence -> line -> word; code goes line -> word; a word
    longer than the budget is cut by characters as a last resort.
    """
    start, end = span
    if count(text[start:end]) <= budget:
        return [span]
    for cutter in ((lines, words) if code else (sentences, lines, words)):
        parts = cutter(text, start, end)
        if len(parts) > 1:
            out: list[Span] = []
            for part in parts:
                out.extend(split_to_fit(text, part, budget, count, code))
            return out
    return characters(text, start, end, budget, count)


def sentences(text: str, start: int, end: int) -> list[Span]:
    return _cut(text, start, end, sentence_ends(text, start, end))


def lines(text: str, start: int, end: int) -> list[Span]:
    return _cut(text, start, end, [m.start() for m in re.compile(r"\n").finditer(text, start, end)])


def words(text: str, start: int, end: int) -> list[Span]:
    return [m.span() for m in re.compile(r"\S+").finditer(text, start, end)]


# A token rarely covers more characters than this (cl100k averages ~4). It bounds the search
# window only, so at worst a piece is cut shorter than it could be. Without it, cutting a
# 400 KB base64 line took 130 s (each probe tokenised the rest of the line); now ~10 s, linear.
MAX_TOKEN_CHARS = 32


def characters(text: str, start: int, end: int, budget: int, count: Count) -> list[Span]:
    """Longest prefixes that fit, found by binary search; at least one character each."""
    out: list[Span] = []
    while start < end:
        lo, hi = start + 1, min(end, start + budget * MAX_TOKEN_CHARS)  # lo always fits (or is the minimum)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(text[start:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        out.append((start, lo))
        start = lo
    return out


def sentence_starts(text: str, start: int, end: int) -> list[int]:
    """Offsets in (start, end) where a new sentence or paragraph begins.

    >>> sentence_starts("One two. Three\\n\\nFour", 0, 20)
    [9, 16]
    """
    ends = sentence_ends(text, start, end)
    ends += [m.end() for m in _BLANK_LINE.finditer(text, start, end)]
    found = {trim(text, e, end)[0] for e in ends}
    return sorted(p for p in found if start < p < end)


def halve(text: str, span: Span) -> list[Span]:
    """Two spans split near the middle at the best boundary, or [] if `span`
    is a single character. Used when a chunk is too long for the model."""
    start, end = span
    middle = (start + end) / 2
    for cutter in (lambda: [s for s, _ in paragraphs_in(text, start, end)][1:],
                   lambda: [s for s, _ in sentences(text, start, end)][1:],
                   lambda: [s for s, _ in lines(text, start, end)][1:],
                   lambda: [s for s, _ in words(text, start, end)][1:],
                   lambda: list(range(start + 1, end))):
        cuts = cutter()
        if cuts:
            cut = min(cuts, key=lambda c: (abs(c - middle), c))
            return [trim(text, start, cut), trim(text, cut, end)]
    return []


def paragraphs_in(text: str, start: int, end: int) -> list[Span]:
    return _cut(text, start, end, [m.start() for m in _BLANK_LINE.finditer(text, start, end)])


def trim(text: str, start: int, end: int) -> Span:
    """Shrink a span so it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cut(text: str, start: int, end: int, cuts: list[int]) -> list[Span]:
    spans = [trim(text, a, b) for a, b in zip([start, *cuts], [*cuts, end], strict=True)]
    return [s for s in spans if s[0] < s[1]]
