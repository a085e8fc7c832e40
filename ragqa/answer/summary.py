"""Summaries over a filtered set of notes ("summarize what I wrote about sleep in 2024"): every matching note is
read, not the top 5 passages.

Map, then reduce. Map: each note (the best `answer.max_notes_summarized`, by how well they match the topic, else
the newest) is cut to its sentences that bear on the topic (ragqa.answer.focus) and the model says in a sentence
or two what it says about the topic; progress is streamed ("read 3 of 8 notes"). Reduce: those digests are the
numbered passages of the ordinary cited-answer prompt, so the summary cites each note it draws on and its
citations are checked like any answer's. Without a model, each note's best sentences are the summary.
"""
from __future__ import annotations

import time
from collections.abc import Iterator

from ragqa.answer.citations import check_citations
from ragqa.answer.events import Delta, Done, Event, Progress, Sources
from ragqa.answer.focus import focus_passages
from ragqa.answer.notes_answer import Listed, matching_notes, notes_text, on_topic
from ragqa.answer.prompt import build_prompt
from ragqa.answer.results import Answer, Given
from ragqa.errors import LLMError
from ragqa.plan.describe import describe_plan
from ragqa.plan.question_plan import Plan
from ragqa.records import Hit
from ragqa.tokens import count_tokens

NOTE_TOKENS = 320  # what the model reads of each note in the map step
DIGEST_TOKENS = 90  # what it may write about each note
MAP_PROMPT = ("Below is one of my notes. In one or two sentences, say what it says about: {topic}. "
              "Use only the note. If it says nothing about that, answer exactly: nothing.\n\n"
              "<note title=\"{title}\">\n{text}\n</note>")


def summary_events(question: str, plan: Plan, *, searcher, chat_model, settings) -> Iterator[Event]:
    started = time.perf_counter()
    listed, hint = matching_notes(plan, searcher, settings)
    if plan.topic:
        listed = on_topic(question, plan, listed, searcher, settings)
        listed.sort(key=lambda item: -item.hit.score)
    else:
        listed.sort(key=lambda item: item.row.created.day, reverse=True)  # the newest first
    total, chosen = len(listed), listed[:settings.answer.max_notes_summarized]
    hits = [item.hit for item in chosen]
    if not chosen:
        yield Sources(Given([], [], []))
        yield Done(_finish(Answer(question, notes_text(plan, [], 0, hint), [], plan=plan), started))
        return
    texts = [_note_text(searcher, plan.topic or question, item) for item in chosen]
    if not chat_model.generates:
        yield Sources(Given(hits, texts, [item.best for item in chosen]))
        yield Done(_finish(_extractive(question, plan, chosen, texts, total), started))
        return
    digests = []
    for n, (item, text) in enumerate(zip(chosen, texts, strict=True), 1):
        yield Progress(f"read {n - 1} of {len(chosen)} notes")
        digests.append(_digest(chat_model, plan.topic or question, item, text))
    yield Progress(f"read {len(chosen)} of {len(chosen)} notes")
    # the notes whose digest said something, each with its own best sentences (the three lists stay aligned)
    kept = [(h, d, item.best) for h, d, item in zip(hits, digests, chosen, strict=True) if d]
    yield Sources(Given([h for h, _, _ in kept], [d for _, d, _ in kept], [best for _, _, best in kept]))
    best_of = {id(h): best for h, _, best in kept}
    packed = build_prompt(question, [h for h, _, _ in kept], [], texts=[d for _, d, _ in kept],
                          context_window=settings.llm.context_window, answer_tokens=settings.llm.max_answer_tokens,
                          count_tokens=count_tokens)
    pieces = []
    try:
        for delta in chat_model.stream(packed.messages):
            pieces.append(delta)
            yield Delta(delta)
    except LLMError as err:
        answer = _extractive(question, plan, chosen, texts, total)
        answer.error = str(err)
        yield Done(_finish(answer, started))
        return
    raw = "".join(pieces)
    check = check_citations(raw, packed.texts)
    read = f"\n\n(Read {len(chosen)} of {total} notes {describe_plan(plan)}" + (
        f"; the {len(chosen)} most relevant, `answer.max_notes_summarized`)" if total > len(chosen) else ")")
    answer = Answer(question, check.text + read, packed.passages, cited=check.cited, invalid_citations=check.invalid,
                    model=chat_model.name, generated=True, prompt_tokens=packed.tokens, raw=raw,
                    best=[best_of[id(h)] for h in packed.passages], texts=packed.texts, plan=plan)
    yield Done(_finish(answer, started))


def _note_text(searcher, topic: str, item: Listed) -> str:
    """What the map step reads of a note: its sentences that bear on the topic, within NOTE_TOKENS."""
    from ragqa.retrieve.search import Filters

    passages = searcher.search(topic, k=50, mode="bm25", filters=Filters(paths=[item.row.path])) or [item.hit]
    passages.sort(key=lambda h: h.chunk.ordinal)
    whole = "\n".join(h.chunk.text for h in passages)
    [focused] = focus_passages(topic, [whole], budget=NOTE_TOKENS, count_tokens=count_tokens)
    return focused.text or whole[:2000]


def _digest(chat_model, topic: str, item: Listed, text: str) -> str:
    prompt = MAP_PROMPT.format(topic=topic, title=item.row.title, text=text)
    try:
        said = chat_model.complete([{"role": "user", "content": prompt}], max_tokens=DIGEST_TOKENS).strip()
    except LLMError:
        return text
    return "" if said.lower().strip(" .") == "nothing" else f"{item.row.title}: {said}"


def _extractive(question: str, plan: Plan, chosen: list[Listed], texts: list[str], total: int) -> Answer:
    lines = [f"{len(chosen)} of {total} notes {describe_plan(plan)}, in their own words (no model wrote this):"]
    lines += [f"- {item.row.title} [{n}]: {item.best or text[:300]}"
              for n, (item, text) in enumerate(zip(chosen, texts, strict=True), 1)]
    hits: list[Hit] = [item.hit for item in chosen]
    return Answer(question, "\n".join(lines), hits, cited=list(range(1, len(hits) + 1)),
                  best=[item.best for item in chosen], plan=plan)


def _finish(answer: Answer, started: float) -> Answer:
    answer.seconds = time.perf_counter() - started
    return answer
