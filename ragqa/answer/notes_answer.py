"""Answers that are facts about the notes: which notes, how many, what links where. Computed from the index's
catalog (ragqa.index.catalog), never guessed by a model: the number is the count of the listed notes, and each
listed note is a numbered citation (its best sentence for the question's topic, or its first passage).

A topic inside a list ("which notes about sleep did I write in 2024?") keeps the filtered notes that are about
it: a note holding every word of the topic, or one whose best passage is at least `answer.topic_threshold` like
it (E5 cosine; measured in bench/notes_questions.py --topics).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from ragqa.answer.events import Done, Event, Sources
from ragqa.answer.focus import focus_passages
from ragqa.answer.results import Answer, Given
from ragqa.index.catalog import NoteRow, read_catalog
from ragqa.plan import index_dirs
from ragqa.plan.describe import describe_plan, near_misses
from ragqa.plan.question_plan import Plan
from ragqa.records import Hit
from ragqa.retrieve.search import Filters
from ragqa.text import stems
from ragqa.tokens import count_tokens

MAX_TOPIC_PASSAGES = 2000  # passages searched to tell which filtered notes are about a topic


@dataclass
class Listed:
    """One note of the answer: its catalog row, the passage cited for it, its best sentence for the topic."""

    row: NoteRow
    hit: Hit
    best: str = ""


def notes_answer_events(question: str, plan: Plan, *, searcher, settings) -> Iterator[Event]:
    """Sources, then Done: the answer to a list, count or links plan."""
    started = time.perf_counter()
    listed, vocabulary_hint = matching_notes(plan, searcher, settings)
    if plan.topic and plan.kind in ("list", "count"):
        listed = on_topic(question, plan, listed, searcher, settings)
    if plan.newest_first:
        listed.sort(key=lambda item: (item.row.modified.day if plan.modified else item.row.created.day),
                    reverse=True)
    hits = [item.hit for item in listed]
    yield Sources(Given(hits, [h.chunk.text for h in hits], [item.best for item in listed]))
    text = notes_text(plan, listed, settings.answer.list_shown, vocabulary_hint)
    answer = Answer(question, text, hits, cited=list(range(1, len(hits) + 1)), model="notes index",
                    search_query=plan.topic, best=[item.best for item in listed], plan=plan)
    answer.seconds = time.perf_counter() - started
    yield Done(answer)


def matching_notes(plan: Plan, searcher, settings) -> tuple[list[Listed], str]:
    """The notes the plan's filters (or its links) select, across the searched collections, oldest first;
    and, when there are none, a line on what was nearly asked ("did you mean #physics?")."""
    listed: list[Listed] = []
    hint = ""
    for collection, index_dir in index_dirs(searcher).items():
        with read_catalog(index_dir) as catalog:
            if plan.kind == "links":
                target = plan.links_to or plan.links_from
                if not target or not catalog.has(target):
                    continue
                paths = catalog.links_to(target) if plan.links_to else catalog.links_from(target)
                rows = catalog.notes(paths=paths) if paths else []
            else:
                rows = _selected(catalog, plan)
            first = catalog.first_passages([r.path for r in rows])
            listed += [Listed(r, Hit(first[r.path][0], 1.0, _labelled(first[r.path][1], collection)))
                       for r in rows if r.path in first]
            if not listed and not hint:
                hint = near_misses(plan, catalog.vocabulary())
    return listed, hint


def _selected(catalog, plan: Plan) -> list:
    """The notes the plan's filters select; with `every_tag`, those that have each of its tags."""
    if not (plan.every_tag and len(plan.tags) > 1):
        return catalog.notes(**Filters(**plan.filter_values()).conditions())
    each = [catalog.notes(**Filters(**{**plan.filter_values(), "tags": [tag]}).conditions()) for tag in plan.tags]
    shared = set.intersection(*({row.path for row in rows} for rows in each))
    return [row for row in each[0] if row.path in shared]


def _labelled(chunk, collection: str):
    chunk.collection = collection
    return chunk


def on_topic(question: str, plan: Plan, listed: list[Listed], searcher, settings) -> list[Listed]:
    """The listed notes that are about the plan's topic, each cited by its passage most like the topic."""
    if not listed:
        return []
    best, similarity, every_word = topic_evidence(plan.topic, [item.row.path for item in listed], searcher)
    about = {p for p, s in similarity.items() if s >= settings.answer.topic_threshold} | every_word
    kept = [Listed(item.row, best[item.row.path]) for item in listed if item.row.path in about]
    focused = focus_passages(plan.topic or question, [item.hit.chunk.text for item in kept], budget=None,
                             count_tokens=count_tokens, headings=[item.hit.chunk.heading for item in kept])
    for item, focus in zip(kept, focused, strict=True):
        item.best = focus.best
    return kept


def topic_evidence(topic: str, paths: list[str], searcher) -> tuple[dict[str, Hit], dict[str, float], set[str]]:
    """For these notes: each one's passage most like the topic, its similarity (dense search: E5's cosine with
    the default model), and the notes with a passage holding every word of the topic (BM25's stems)."""
    filters = Filters(paths=paths)
    depth = min(MAX_TOPIC_PASSAGES, max(50, 20 * len(paths)))
    best: dict[str, Hit] = {}
    for hit in searcher.search(topic, k=depth, mode="dense", filters=filters):  # best first
        best.setdefault(hit.chunk.path, hit)
    similarity = {path: hit.score for path, hit in best.items()}
    words, every_word = stems(topic), set()
    for hit in searcher.search(topic, k=depth, mode="bm25", filters=filters):
        if words and words <= stems(f"{hit.chunk.heading} {hit.chunk.text}"):
            every_word.add(hit.chunk.path)
            best.setdefault(hit.chunk.path, hit)
    return best, similarity, every_word


def notes_text(plan: Plan, listed: list[Listed], shown: int, hint: str = "") -> str:
    """The answer's text: the number and what it counts, then the first `shown` notes, numbered as cited.

    >>> from ragqa.records import Chunk, NoteDate
    >>> row = NoteRow("a.md", "Sleep", "markdown", NoteDate("2024-03-14", "front matter created"),
    ...               NoteDate("2024-03-15", "file time"))
    >>> print(notes_text(Plan("count", tags=("health",)), [Listed(row, Hit(1, 1.0, Chunk("a.md", "", "", "")))], 20))
    You have 1 note tagged #health:
    1. Sleep (created 2024-03-14) [1]
    """
    what = describe_plan(plan)
    n = len(listed)
    if n == 0:
        return f"No note {what}." + (f" {hint}" if hint else "")
    noun = "note" if n == 1 else "notes"
    if plan.kind == "count":
        head = f"You have {n} {noun} {what}:"
    elif plan.kind == "links" and plan.links_from:
        head = f"{what} {n} {noun}:"
    else:
        head = f"{n} {noun} {what}:"
    date_of = "modified" if plan.modified and not plan.created else "created"
    lines = [head]
    for i, item in enumerate(listed[:shown], 1):
        day = getattr(item.row, date_of).day
        where = f"{item.hit.chunk.collection}: " if item.hit.chunk.collection not in ("", "default") else ""
        best = f" — {item.best}" if item.best else ""
        lines.append(f"{i}. {where}{item.row.title} ({date_of} {day}) [{i}]{best}")
    if n > shown:
        lines.append(f"…and {n - shown} more (all {n} are among the sources; `ragqa ask --json` lists them).")
    return "\n".join(lines)
