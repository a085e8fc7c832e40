"""What `ragqa.answer.loop.answer_events` yields, one small type per kind of event, so a face matches on them:

    for event in answer_events(question, ...):
        match event:
            case Sources(given): ...          # the passages, before the first words
            case Delta(text): ...             # a piece of the answer
            case Done(answer): ...            # the final Answer
"""
from __future__ import annotations

from dataclasses import dataclass

from ragqa.answer.results import Answer, Given
from ragqa.plan.question_plan import Plan


@dataclass(frozen=True)
class Planned:
    """What the question planner understood: Plan() for an ordinary question."""

    plan: Plan


@dataclass(frozen=True)
class Progress:
    """A summary reading its notes: "read 3 of 8 notes"."""

    text: str


@dataclass(frozen=True)
class Query:
    """The search query actually used (a follow-up rewritten into a standalone one)."""

    text: str


@dataclass(frozen=True)
class Retrieved:
    """Every passage the search found, best first, each with the sentence sharing most words with the question;
    sent the moment the search ends, before the focus step picks what the model reads."""

    given: Given


@dataclass(frozen=True)
class Sources:
    """The passages the model is given (or the notes a list names), numbered as the answer cites them."""

    given: Given


@dataclass(frozen=True)
class Delta:
    """A piece of the answer as it is generated."""

    text: str


@dataclass(frozen=True)
class Done:
    """The final answer, its citations checked."""

    answer: Answer


Event = Planned | Progress | Query | Retrieved | Sources | Delta | Done
