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


def topic_terms(text: str, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """What a BM25 search looks for: the query's words minus the stopwords (a query made only of stopwords keeps
    them all). Each store makes its own query of them (SQLite: an FTS5 MATCH expression; Milvus: BM25 terms).

    >>> topic_terms("What is the role of TNF-alpha in sepsis?"), topic_terms("Who is it?"), topic_terms("?!")
    (['role', 'tnf', 'alpha', 'sepsis'], ['who', 'is', 'it'], [])
    """
    terms = query_terms(text)
    return [t for t in terms if t not in stopwords] or terms
