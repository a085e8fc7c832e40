"""The read path end to end: question -> search query -> passages -> prompt -> LLM -> checked citations.

`answer_events` yields events so both faces can stream:
    ("query", str)          the search query actually used (after follow-up rewriting)
    ("sources", [Hit])      the passages given to the LLM, numbered 1..n
    ("delta", str)          a piece of the answer as it is generated
    ("done", Answer)        the final answer with its citations
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

from ragqa.citations import check_citations
from ragqa.errors import LLMError
from ragqa.extractive import extractive_answer
from ragqa.followup import standalone_query
from ragqa.prompt import build_prompt
from ragqa.records import Hit
from ragqa.tokens import count_tokens


@dataclass
class Answer:
    question: str
    text: str
    passages: list[Hit]  # numbered 1..n as in the prompt
    cited: list[int] = field(default_factory=list)  # passage numbers the answer cites
    invalid_citations: list[int] = field(default_factory=list)
    model: str = "retrieval only"
    generated: bool = False
    prompt_tokens: int = 0
    seconds: float = 0.0
    search_query: str = ""
    error: str | None = None  # set when the LLM failed; text then holds the retrieval-only answer

    def citation_rows(self) -> list[dict]:
        return [_row(n, self.passages[n - 1]) for n in self.cited]

    def uncited(self) -> list[tuple[int, Hit]]:
        return [(n, h) for n, h in enumerate(self.passages, 1) if n not in self.cited]

    def as_json(self) -> dict:
        """The `ragqa ask --json` contract."""
        return {
            "answer": self.text, "citations": self.citation_rows(),
            "sources": [{**_row(n, h), "score": round(h.score, 6), "cited": n in self.cited}
                        for n, h in enumerate(self.passages, 1)],
            "model": self.model, "prompt_tokens": self.prompt_tokens, "seconds": round(self.seconds, 3),
            "generated": self.generated, "search_query": self.search_query, "error": self.error,
            "invalid_citations": self.invalid_citations,
        }


def _row(n: int, hit: Hit) -> dict:
    c = hit.chunk
    return {"n": n, "path": c.path, "heading": c.heading, "page": c.page, "text": c.text}


def answer_events(question: str, *, searcher, chat_model, settings, history: list[dict] | None = None,
                  filters=None, k: int | None = None) -> Iterator[tuple[str, object]]:
    started = time.perf_counter()
    history = history or []
    rewriter = chat_model if settings.llm.rewrite_followups else None
    query = standalone_query(question, history, rewriter) if history else question
    yield "query", query
    hits = searcher.search(query, k=k, filters=filters)
    if chat_model is None:
        passages = hits
        yield "sources", passages
        answer = Answer(question, extractive_answer(question, [h.chunk.text for h in hits]), passages,
                        cited=list(range(1, min(len(hits), 3) + 1)), search_query=query)
        answer.seconds = time.perf_counter() - started
        yield "done", answer
        return

    packed = build_prompt(question, hits, history, context_window=settings.llm.context_window,
                          answer_tokens=settings.llm.max_answer_tokens, count_tokens=count_tokens)
    yield "sources", packed.passages
    pieces: list[str] = []
    try:
        for delta in chat_model.stream(packed.messages):
            pieces.append(delta)
            yield "delta", delta
    except LLMError as err:
        fallback = extractive_answer(question, [h.chunk.text for h in packed.passages])
        answer = Answer(question, fallback, packed.passages, cited=list(range(1, min(len(packed.passages), 3) + 1)),
                        search_query=query, error=str(err), prompt_tokens=packed.tokens)
        answer.seconds = time.perf_counter() - started
        yield "done", answer
        return
    check = check_citations("".join(pieces), [h.chunk.text for h in packed.passages])
    answer = Answer(question, check.text, packed.passages, cited=check.cited, invalid_citations=check.invalid,
                    model=chat_model.name, generated=True, prompt_tokens=packed.tokens, search_query=query)
    answer.seconds = time.perf_counter() - started
    yield "done", answer


def answer_question(question: str, **kwargs) -> Answer:
    """Non-streaming convenience: the final Answer."""
    for kind, value in answer_events(question, **kwargs):
        if kind == "done":
            return value
    raise RuntimeError("answer_events ended without an answer")
