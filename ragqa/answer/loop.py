"""The read path end to end: question -> search query -> passages -> focus -> prompt -> LLM -> checks.

The checks (ragqa.answer.runaway, citations, refusals) read only the answer's text, so they hold for any
instruct model: an answer that runs on past itself is cut, citations are checked against the passages, a
refusal with the answer in front of it is replaced by the passage's sentence.

`answer_events` yields events (ragqa.answer.events) so every face can stream:
    Planned(plan)       what the question planner understood (ragqa.plan): Plan() for an ordinary
                        question; a list, count or links question is then answered from the index's
                        catalog (ragqa.answer.notes_answer), a summary by reading every matching note
                        (ragqa.answer.summary)
    Progress(text)      a summary's progress ("read 3 of 8 notes")
    Query(text)         the search query actually used (after follow-up rewriting)
    Retrieved(given)    the passages the search found, best first, each with the sentence sharing most
                        words with the question: sent the moment the search ends, before the focus step
                        (whose sentence embeddings take a second or two on a laptop CPU) picks what the
                        model reads; not sent for a follow-up that continues the last prompt, nor without
                        a model
    Sources(given)      the passages given to the LLM, numbered 1..n, each with its best sentence; sent
                        before the model starts, so a face can show them at once
    Delta(text)         a piece of the answer as it is generated
    Done(answer)        the final answer with its citations
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

from ragqa.answer.citations import check_citations
from ragqa.answer.conversation import ChatMessage
from ragqa.answer.events import Delta, Done, Event, Planned, Query, Retrieved, Sources
from ragqa.answer.extractive import extractive_answer
from ragqa.answer.focus import Focused, FocusOptions, focus_passages
from ragqa.answer.followup import standalone_query
from ragqa.answer.notes_answer import notes_answer_events
from ragqa.answer.prompt import PromptStyle, build_prompt, continued_prompt, fixed_messages, user_message
from ragqa.answer.refusals import is_refusal, quoted_answer
from ragqa.answer.results import Answer, Given
from ragqa.answer.runaway import RunawayCut
from ragqa.answer.summary import summary_events
from ragqa.errors import LLMError
from ragqa.models.chat import ChatModel, NoChatModel
from ragqa.plan import Plan, plan_for
from ragqa.records import Hit
from ragqa.retrieve.search import Filters
from ragqa.tokens import count_tokens

NOTHING_MATCHES = "No passage in your notes matches this question, so the language model was not asked."


def _focus(question: str, hits: list[Hit], searcher, budget: int | None,
           options: FocusOptions | None = None) -> list[Focused]:
    embedder = getattr(searcher, "embedder", None)
    similarity = getattr(embedder, "similarities", None) if budget is not None else None
    return focus_passages(question, [h.chunk.text for h in hits], budget=budget, count_tokens=count_tokens,
                          similarity=similarity, headings=[h.chunk.heading for h in hits],
                          options=options or FocusOptions())


def answer_events(question: str, *, searcher, chat_model: ChatModel, settings,
                  history: Sequence[ChatMessage] | None = None,
                  filters=None, k: int | None = None, style: PromptStyle | None = None, plan: Plan | None = None,
                  focus: FocusOptions | None = None) -> Iterator[Event]:
    """The events of one answer (see the module's docstring). `plan`: a plan to follow instead of planning the
    question (a face that took a filter away); `filters`: the user's own, added to the plan's; `style` and
    `focus`: the prompt and the focus step other than as shipped (the benches compare them)."""
    plan = with_filters(plan if plan is not None else plan_for(question, searcher, settings), filters)
    yield Planned(plan)
    if plan.kind in ("list", "count", "links"):
        yield from notes_answer_events(question, plan, searcher=searcher, settings=settings)
        return
    if plan.kind == "summary":
        yield from summary_events(question, plan, searcher=searcher, chat_model=chat_model, settings=settings)
        return
    if not plan.is_plain:
        filters = Filters(**plan.filter_values())
    yield from _lookup_events(question, searcher=searcher, chat_model=chat_model, settings=settings,
                              history=history, filters=filters, k=k, style=style, plan=plan, focus=focus)


def with_filters(plan: Plan, filters) -> Plan:
    """The plan with the user's own filters (--tag, --folder, --type, dates) added to what it understood."""
    if filters is None or filters.is_empty():
        return plan
    return replace(plan, tags=tuple(dict.fromkeys([*plan.tags, *filters.tags])),
                   folders=tuple(dict.fromkeys([*plan.folders, *filters.folders])),
                   types=tuple(dict.fromkeys([*plan.types, *filters.kinds])),
                   created=filters.created or plan.created, modified=filters.modified or plan.modified)


def _lookup_events(question: str, *, searcher, chat_model: ChatModel, settings, history, filters, k, style, plan,
                   focus: FocusOptions | None) -> Iterator[Event]:
    started = time.perf_counter()
    history = history or []
    rewriter = chat_model if settings.llm.rewrites_with_llm() else NoChatModel()
    query = standalone_query(question, history, rewriter) if history else question
    yield Query(query)
    hits = searcher.search(query, k=k, filters=filters)
    if not chat_model.generates:  # retrieval only: the passages' best sentences are the answer
        focused = _focus(question, hits, searcher, None)
        yield Sources(Given(hits, [h.chunk.text for h in hits], [f.best for f in focused]))
        answer = Answer(question, extractive_answer(question, [h.chunk.text for h in hits]), hits,
                        cited=list(range(1, min(len(hits), 3) + 1)), search_query=query,
                        best=[f.best for f in focused], plan=plan)
        answer.seconds = time.perf_counter() - started
        yield Done(answer)
        return

    if not hits:  # nothing to read: the model would only guess, so it is not asked
        yield Sources(Given([], [], []))
        answer = Answer(question, NOTHING_MATCHES, [], search_query=query, plan=plan)
        answer.seconds = time.perf_counter() - started
        yield Done(answer)
        return

    budget = settings.llm.focus_budget()
    window = {"context_window": settings.llm.context_window, "answer_tokens": settings.llm.max_answer_tokens,
              "count_tokens": count_tokens}
    packed = continued_prompt(question, hits, history, **window)
    if packed is not None:  # a follow-up over the passages the model read last turn: nothing to focus anew
        focused = _focus(question, packed.passages, searcher, None)
    else:
        found = _focus(question, hits, None, None)  # by shared words only: milliseconds
        yield Retrieved(Given(hits, [h.chunk.text for h in hits], [f.best for f in found]))
        focused = _focus(question, hits, searcher, budget, focus)
        packed = build_prompt(question, hits, history, texts=[f.text for f in focused] if budget is not None else None,
                              style=style or PromptStyle(), **window)
    best_of = {h.key: (f.best, f.match)
               for h, f in zip(packed.passages if packed.continued else hits, focused, strict=True)}
    best = [best_of.get(h.key, ("", 0.0)) for h in packed.passages]
    yield Sources(Given(packed.passages, packed.texts, [b for b, _ in best]))
    first_token = None
    cut = RunawayCut(settings.llm.stop_runaway)  # an answer that runs on into the prompt's scaffolding, or in
    # circles, ends there
    try:
        stream = chat_model.stream(packed.messages)
        for delta in stream:
            if first_token is None:
                first_token = time.perf_counter() - started
            shown = cut.feed(delta)
            if shown:
                yield Delta(shown)
            if cut.stopped:
                getattr(stream, "close", lambda: None)()  # the server stops writing when its stream is closed
                break
        if rest := cut.finish():
            yield Delta(rest)
    except LLMError as err:
        fallback = extractive_answer(question, [h.chunk.text for h in packed.passages])
        answer = Answer(question, fallback, packed.passages, cited=list(range(1, min(len(packed.passages), 3) + 1)),
                        search_query=query, error=str(err), prompt_tokens=packed.tokens,
                        best=[b for b, _ in best], first_token_seconds=first_token, plan=plan)
        answer.seconds = time.perf_counter() - started
        yield Done(answer)
        return
    raw = cut.text
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
                    retrieved_ids=[h.key for h in hits], plan=plan)
    answer.seconds = time.perf_counter() - started
    yield Done(answer)


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
    for event in answer_events(question, **kwargs):
        if isinstance(event, Done):
            return event.answer
    raise RuntimeError("answer_events ended without an answer")
