"""Words and sentences: the one place that says what a content word and a sentence are.

Used by chunking (ragqa.ingest.split), citation checks, refusals, the extractive answer, the focused prompt
context, highlighting and the BM25 query (its stopwords); topic names add more stopwords of their own
(ragqa.notes.topic_names).
"""
from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
# End of a sentence: punctuation, optional closing quote or bracket, then white space.
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]]*(?=\s)")  # noqa: RUF001 - CJK and typographic marks
_BLANK_LINE = re.compile(r"\n[ \t]*\n")  # also ends a sentence (a heading, a list item), unless told otherwise
# Words that carry no topic: Lucene's English stop set (what Anserini's BM25 runs use), plus question,
# auxiliary and pronoun words. They match most passages, so they neither find nor support one.
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with "
    "what which who whom whose when where why how do does did done has have had having been being were am "
    "can could would should may might must shall its it's from than so also i me my we our you your he him "
    "his she her them they're s t".split()
)


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning (no stopwords, no single letters).

    >>> sorted(content_words("How do the tomatoes grow?"))
    ['grow', 'tomatoes']
    """
    return {w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in STOPWORDS and len(w) > 1}


def stem(word: str) -> str:
    """A light English stem, enough to match "killed" with "kill" and "indexes" with "index".

    >>> [stem(w) for w in ("killed", "indexes", "running", "tomatoes", "was", "class")]
    ['kill', 'index', 'runn', 'tomato', 'was', 'class']
    """
    for suffix in ("ing", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def stems(text: str) -> set[str]:
    """The stems of the content words of `text`."""
    return {stem(w) for w in content_words(text)}


def sentence_ends(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """Where sentences end within text[start:end]: just after each closing mark (punctuation, and a closing
    quote or bracket) that white space follows.

    >>> sentence_ends('He said "yes." Then… it rained. 3.5 kg')
    [14, 20, 31]
    """
    return [m.end() for m in _SENTENCE_END.finditer(text, start, len(text) if end is None else end)]


def sentence_spans(text: str, paragraphs: bool = True) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trimmed of white space; a line break inside a sentence is kept. A blank
    line ends a sentence too, unless `paragraphs` is False (ingest cuts paragraphs itself; an answer's
    paragraphs stay whole).

    >>> t = "It opened in 1932. It is red!\\n\\nA new paragraph"
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['It opened in 1932.', 'It is red!', 'A new paragraph']
    >>> sentences("A list:\\n\\n- one\\n- two", paragraphs=False)
    ['A list:\\n\\n- one\\n- two']
    """
    cuts = sentence_ends(text)
    if paragraphs:
        cuts += [at for m in _BLANK_LINE.finditer(text) for at in m.span()]
    points = sorted(set(cuts))
    out = []
    for a, b in zip([0, *points], [*points, len(text)], strict=True):
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            out.append((a, b))
    return out


def sentences(text: str, paragraphs: bool = True) -> list[str]:
    """The sentences of `text`, in order (`paragraphs`: as in sentence_spans).

    >>> sentences("Tomatoes like sun. Water them twice a week.")
    ['Tomatoes like sun.', 'Water them twice a week.']
    """
    return [text[a:b] for a, b in sentence_spans(text, paragraphs)]
