"""The read path end to end: question -> search query -> passages -> focus -> prompt -> LLM -> checks.

`answer_events` yields events so both faces can stream:
    ("query", str)          the search query actually used (after follow-up rewriting)
    ("retrieved", Given)    the passages the search found, best first, each with the sentence sharing
                            most words with the question: sent the moment the search ends, before the
                            focus step (whose sentence embeddings take a second or two on a laptop CPU)
                            picks what the model reads; not sent for a follow-up that continues the last
                            prompt, nor without a model
    ("sources", Given)      the passages given to the LLM, numbered 1..n, each with its best sentence;
                            sent before the model starts, so a face can show them at once
    ("delta", str)          a piece of the answer as it is generated
    ("done", Answer)        the final answer with its citations
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ragqa.answer.citations import check_citations
from ragqa.answer.extractive import extractive_answer
from ragqa.answer.focus import Focused, focus_passages
from ragqa.answer.followup import standalone_query
from ragqa.answer.prompt import PromptStyle, build_prompt, continued_prompt, fixed_messages, user_message
from ragqa.answer.refusals import is_refusal, quoted_answer
from ragqa.errors import LLMError
from ragqa.models.chat import ChatModel, NoChatModel
from ragqa.records import Hit
from ragqa.tokens import count_tokens

NOTHING_MATCHES = "No passage in your notes matches this question, so the language model was not asked."


@dataclass
class Given:
    """What the model is given: passages numbered 1..n, what it reads of each, and each one's best sentence."""

    passages: list[Hit]
    texts: list[str]
    best: list[str]


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
    first_token_seconds: float | None = None  # from the question to the model's first words
    search_query: str = ""
    error: str | None = None  # set when the LLM failed; text then holds the retrieval-only answer
    best: list[str] = field(default_factory=list)  # per passage, the sentence matching the question best
    quoted: bool = False  # the model refused although a passage answers: a quotation was added
    raw: str = ""  # the model's own words, before the checks
    sent: list[dict] = field(default_factory=list)  # the messages the model answered
    texts: list[str] = field(default_factory=list)  # what the model read of each passage
    continued: bool = False  # a follow-up over the same passages, continuing the last turn's prompt
    retrieved_ids: list[tuple[str, int]] = field(default_factory=list)  # every passage found (Hit.key), best first

    def citation_rows(self) -> list[dict]:
        return [_row(n, self.passages[n - 1]) for n in self.cited]

    def uncited(self) -> list[tuple[int, Hit]]:
        return [(n, h) for n, h in enumerate(self.passages, 1) if n not in self.cited]

    def as_json(self) -> dict:
        """The `ragqa ask --json` contract."""
        return {
            "answer": self.text, "citations": self.citation_rows(),
            "sources": [{**_row(n, h), "score": round(h.score, 6), "cited": n in self.cited,
                         "best_sentence": self.best[n - 1] if n <= len(self.best) else ""}
                        for n, h in enumerate(self.passages, 1)],
            "model": self.model, "prompt_tokens": self.prompt_tokens, "seconds": round(self.seconds, 3),
            "first_token_seconds": None if self.first_token_seconds is None else round(self.first_token_seconds, 3),
            "generated": self.generated, "search_query": self.search_query, "error": self.error,
            "invalid_citations": self.invalid_citations, "quoted": self.quoted,
        }

    def history_entry(self) -> dict:
        """The assistant turn to keep for follow-ups: what was shown, and what lets the next question
        over the same passages continue this prompt where the LLM server has it cached."""
        entry = {"role": "assistant", "content": self.text}
        if self.generated and self.sent:
            entry.update(sent=self.sent, raw=self.raw, texts=self.texts,
                         retrieved_ids=self.retrieved_ids,
                         passages=[(h.chunk_id, h.score, h.chunk) for h in self.passages])
        return entry


def _row(n: int, hit: Hit) -> dict:
    c = hit.chunk
    return {"n": n, "path": c.path, "heading": c.heading, "page": c.page, "text": c.text,
            "collection": c.collection or None}


def _focus(question: str, hits: list[Hit], searcher, budget: int | None) -> list[Focused]:
    embedder = getattr(searcher, "embedder", None)
    similarity = getattr(embedder, "similarities", None) if budget is not None else None
    return focus_passages(question, [h.chunk.text for h in hits], budget=budget, count_tokens=count_tokens,
                          similarity=similarity, headings=[h.chunk.heading for h in hits])


def answer_events(question: str, *, searcher, chat_model: ChatModel, settings, history: list[dict] | None = None,
                  filters=None, k: int | None = None, style: PromptStyle | None = None
                  ) -> Iterator[tuple[str, object]]:
    started = time.perf_counter()
    history = history or []
    rewriter = chat_model if settings.llm.rewrites_with_llm() else NoChatModel()
    query = standalone_query(question, history, rewriter) if history else question
    yield "query", query
    hits = searcher.search(query, k=k, filters=filters)
    if not chat_model.generates:  # retrieval only: the passages' best sentences are the answer
        focused = _focus(question, hits, searcher, None)
        yield "sources", Given(hits, [h.chunk.text for h in hits], [f.best for f in focused])
        answer = Answer(question, extractive_answer(question, [h.chunk.text for h in hits]), hits,
                        cited=list(range(1, min(len(hits), 3) + 1)), search_query=query,
                        best=[f.best for f in focused])
        answer.seconds = time.perf_counter() - started
        yield "done", answer
        return

    if not hits:  # nothing to read: the model would only guess, so it is not asked
        yield "sources", Given([], [], [])
        answer = Answer(question, NOTHING_MATCHES, [], search_query=query)
        answer.seconds = time.perf_counter() - started
        yield "done", answer
        return

    budget = settings.llm.focus_budget()
    window = {"context_window": settings.llm.context_window, "answer_tokens": settings.llm.max_answer_tokens,
              "count_tokens": count_tokens}
    packed = continued_prompt(question, hits, history, **window)
    if packed is not None:  # a follow-up over the passages the model read last turn: nothing to focus anew
        focused = _focus(question, packed.passages, searcher, None)
    else:
        found = _focus(question, hits, None, None)  # by shared words only: milliseconds
        yield "retrieved", Given(hits, [h.chunk.text for h in hits], [f.best for f in found])
        focused = _focus(question, hits, searcher, budget)
        packed = build_prompt(question, hits, history, texts=[f.text for f in focused] if budget is not None else None,
                              style=style or PromptStyle(), **window)
    best_of = {h.key: (f.best, f.match) for h, f in zip(packed.passages if packed.continued else hits, focused)}
    best = [best_of.get(h.key, ("", 0.0)) for h in packed.passages]
    yield "sources", Given(packed.passages, packed.texts, [b for b, _ in best])
    pieces: list[str] = []
    first_token = None
    try:
        for delta in chat_model.stream(packed.messages):
            if first_token is None:
                first_token = time.perf_counter() - started
            pieces.append(delta)
            yield "delta", delta
    except LLMError as err:
        fallback = extractive_answer(question, [h.chunk.text for h in packed.passages])
        answer = Answer(question, fallback, packed.passages, cited=list(range(1, min(len(packed.passages), 3) + 1)),
                        search_query=query, error=str(err), prompt_tokens=packed.tokens,
                        best=[b for b, _ in best], first_token_seconds=first_token)
        answer.seconds = time.perf_counter() - started
        yield "done", answer
        return
    raw = "".join(pieces)
    check = check_citations(raw, [h.chunk.text for h in packed.passages])
    text, cited, quoted = check.text, check.cited, False
    if is_refusal(raw):
        replacement = quoted_answer(raw, best)
        if replacement is not None:
            text, cited, quoted = replacement[0], [replacement[1]], True
    answer = Answer(question, text, packed.passages, cited=cited, invalid_citations=check.invalid,
                    model=chat_model.name, generated=True, prompt_tokens=packed.tokens, search_query=query,
                    first_token_seconds=first_token, best=[b for b, _ in best], quoted=quoted, raw=raw,
                    sent=packed.messages, texts=packed.texts, continued=packed.continued,
                    retrieved_ids=[h.key for h in hits])
    answer.seconds = time.perf_counter() - started
    yield "done", answer


def warm_up(chat_model, style: PromptStyle | None = None) -> None:
    """Have the model read the start every prompt shares (rules, worked example) now, while nobody waits:
    the server keeps it cached, so a first question pays only for its own passages. Failures are left
    for the question to report."""
    opening = user_message("", []).split("\n", 1)[0]  # "<passages>"
    try:
        chat_model.complete([*fixed_messages(style or PromptStyle()), {"role": "user", "content": opening}],
                            max_tokens=1)
    except LLMError:
        pass


def answer_question(question: str, **kwargs) -> Answer:
    """Non-streaming convenience: the final Answer."""
    for kind, value in answer_events(question, **kwargs):
        if kind == "done":
            return value
    raise RuntimeError("answer_events ended without an answer")
