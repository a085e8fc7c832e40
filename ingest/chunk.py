"""Cut a Document into Chunks that fit both the chunk budget and the embedding model.

Sections never merge (a chunk sits under one heading, on one page). Inside a
section, small paragraphs are packed together; large ones are cut by
sentence, then line, then word, then character. Consecutive chunks of a
section share a little trailing text, so a fact cut at a boundary is still
found. No text is dropped: a chunk too long for the model is halved again,
never truncated.
"""
from __future__ import annotations

from collections.abc import Callable

from ragqa.ingest.documents import Document
from ragqa.ingest.split import Span, halve, paragraphs, sentence_starts, split_to_fit, words
from ragqa.records import Chunk

MIN_CHUNK_TOKENS = 8  # any single character fits in this many tokens
_PROBE_CHARS = 64  # how much of the longest word must fit beside the breadcrumb


def chunk_document(doc: Document, *, chunk_tokens: int, overlap_tokens: int,
                   count_tokens: Callable[[str], int],
                   fits_model: Callable[[str], bool] | None = None) -> list[Chunk]:
    """Chunks for every section, numbered 0..n-1 over the document.

    >>> from ragqa.ingest.documents import Section
    >>> doc = Document("a.md", "A", [Section(["S"], "One. Two. Three.")], "markdown")
    >>> [(c.heading, c.text) for c in chunk_document(doc, chunk_tokens=8, overlap_tokens=0,
    ...     count_tokens=lambda t: len(t.split()))]
    [('A > S', 'One. Two. Three.')]
    """
    if chunk_tokens < MIN_CHUNK_TOKENS:
        raise ValueError(f"chunk_tokens must be at least {MIN_CHUNK_TOKENS}, got {chunk_tokens}")
    # A larger overlap than half a chunk would make each chunk mostly repeat.
    overlap = max(0, min(overlap_tokens, chunk_tokens // 2))
    chunks: list[Chunk] = []
    for section in doc.sections:
        heading = breadcrumb(doc.title, section.headings)
        text = section.text
        packed = pack(text, pieces(text, chunk_tokens, count_tokens), chunk_tokens, overlap, count_tokens)
        spans = [(start, end) for start, _, end in packed]
        if fits_model is not None and spans:
            heading = _heading_that_fits(heading, text, fits_model)
            spans = [part for span in packed for part in _fit_model(text, span, heading, fits_model)]
        for start, end in spans:
            chunks.append(Chunk(path=doc.path, title=doc.title, heading=heading, text=text[start:end],
                                page=section.page, ordinal=len(chunks), tags=doc.tags))
    return chunks


def breadcrumb(title: str, headings: list[str]) -> str:
    """The heading shown with a chunk, title first; empty parts, and a part that repeats the one before it
    (a deck titled by its first slide), are left out.

    >>> breadcrumb("Note", ["Setup", "Linux"]), breadcrumb("Test Slide", ["Test slide", ""])
    ('Note > Setup > Linux', 'Test Slide')
    """
    parts: list[str] = []
    for part in [title, *headings]:
        if part and not (parts and parts[-1].casefold() == part.casefold()):
            parts.append(part)
    return " > ".join(parts)


def pieces(text: str, budget: int, count: Callable[[str], int]) -> list[Span]:
    """The smallest units packing works with: whole paragraphs when they fit."""
    return [part for span, code in paragraphs(text) for part in split_to_fit(text, span, budget, count, code)]


def pack(text: str, units: list[Span], budget: int, overlap: int,
         count: Callable[[str], int]) -> list[tuple[int, int, int]]:
    """Greedily join consecutive units into spans of at most `budget` tokens,
    each after the first starting with up to `overlap` tokens of the previous.

    Returns (start, new_text_start, end): the text before new_text_start is
    the overlap, repeated from the previous span.
    """
    sizes = [count(text[a:b]) for a, b in units]
    spans: list[tuple[int, int, int]] = []
    i = 0
    while i < len(units):
        start = units[i][0]
        if spans and overlap:
            room = min(overlap, budget - sizes[i] - 1)
            lead = overlap_start(text, (spans[-1][0], spans[-1][2]), room, count) if room > 0 else None
            if lead is not None and count(text[lead:units[i][1]]) <= budget:
                start = lead
        j = _last_fitting(text, units, sizes, i, start, budget, count)
        spans.append((start, units[i][0], units[j - 1][1]))
        i = j
    return spans


def _last_fitting(text: str, units: list[Span], sizes: list[int], i: int, start: int,
                  budget: int, count: Callable[[str], int]) -> int:
    """The largest j such that text[start:units[j-1] end] fits in `budget`.

    The units' own counts give a first guess; exact counts of the joined text
    then confirm it, galloping up or bisecting down, so a chunk costs a few
    tokenizer calls however many small units it holds.
    """
    def fits(j: int) -> bool:
        return count(text[start:units[j - 1][1]]) <= budget

    guess, used = i + 1, count(text[start:units[i][1]])
    while guess < len(units) and used + sizes[guess] <= budget:
        used += sizes[guess]
        guess += 1
    if fits(guess):
        low, high, step = guess, len(units) + 1, 1  # gallop: find a j that no longer fits
        while low + step < high and fits(low + step):
            low, step = low + step, step * 2
        high = min(high, low + step)
    else:
        low, high = i + 1, guess  # units[i] (with any overlap) is known to fit
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            low = mid
        else:
            high = mid
    return low


def overlap_start(text: str, previous: Span, limit: int, count: Callable[[str], int]) -> int | None:
    """Where the shared tail of `previous` begins: the earliest sentence start
    whose tail fits in `limit` tokens, else the earliest such word start."""
    first, end = previous
    starts = [s for s, _ in words(text, first, end) if s > first]
    lo, hi = 0, len(starts)  # binary search: tails get shorter to the right
    while lo < hi:
        mid = (lo + hi) // 2
        if count(text[starts[mid]:end]) <= limit:
            hi = mid
        else:
            lo = mid + 1
    if lo == len(starts):
        return None
    sentence = [s for s in sentence_starts(text, first, end) if s >= starts[lo]]
    return min(sentence) if sentence else starts[lo]


def _heading_that_fits(heading: str, text: str, fits: Callable[[str], bool]) -> str:
    """Shorten an absurd breadcrumb with "…" so a word still fits beside it."""
    probe = max((text[a:b] for a, b in words(text, 0, len(text))), key=len, default="")[:_PROBE_CHARS]
    keep = len(heading)
    shortened = heading
    while keep and not fits(f"{shortened}\n{probe}"):
        keep //= 2
        shortened = heading[:keep].rstrip() + "…" if keep else ""
    return shortened


def _fit_model(text: str, packed: tuple[int, int, int], heading: str, fits: Callable[[str], bool]) -> list[Span]:
    """The packed span, without its overlap if that is what the model cannot take,
    halved until every part fits the model beside its heading."""
    start, new_start, end = packed
    for span in dict.fromkeys([(start, end), (new_start, end)]):
        if fits(f"{heading}\n{text[span[0]:span[1]]}" if heading else text[span[0]:span[1]]):
            return [span]
    # The overlap is only a convenience: never split it into chunks of its own.
    return _halve_to_fit(text, (new_start, end), heading, fits)


def _halve_to_fit(text: str, span: Span, heading: str, fits: Callable[[str], bool]) -> list[Span]:
    body = text[span[0]:span[1]]
    if fits(f"{heading}\n{body}" if heading else body):
        return [span]
    halves = halve(text, span)
    if not halves:  # a single character the model rejects: keep it, never drop text
        return [span]
    return [part for half in halves for part in _halve_to_fit(text, half, heading, fits)]
