"""A question as a full-text (SQLite FTS5) query: its words, minus the ones that carry no topic.

Pure functions. The index tokenizes with `porter unicode61`, and FTS5 applies the
same tokenizer to each quoted term, so "Cells" here still matches "cell" there.
"""
from __future__ import annotations

from ragqa.text import STOPWORDS  # they match most passages and only slow the query down


def query_terms(text: str) -> list[str]:
    """The words of a query, lower-cased, in order, each once.

    >>> query_terms("Where did Super Bowl 50 take place? (super-bowl)")
    ['where', 'did', 'super', 'bowl', '50', 'take', 'place']
    """
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return list(dict.fromkeys(words))


def match_expression(text: str, stopwords: frozenset[str] = STOPWORDS) -> str | None:
    """An FTS5 MATCH expression: any of the query's topic words (OR), each quoted so that
    no word is read as FTS5 syntax. A query made only of stopwords keeps them all.

    >>> match_expression("What is the role of TNF-alpha in sepsis?")
    '"role" OR "tnf" OR "alpha" OR "sepsis"'
    >>> match_expression("Who is it?")
    '"who" OR "is" OR "it"'
    >>> match_expression("?!") is None
    True
    """
    terms = query_terms(text)
    kept = [t for t in terms if t not in stopwords] or terms
    return " OR ".join(f'"{t}"' for t in kept) or None
