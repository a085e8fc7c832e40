"""The question planner: questions about the notes themselves (which, how many, what links where, from when),
read by rules into a `Plan` that is answered from the index's catalog instead of from passages.

    plan_for(question, searcher, settings) -> Plan     # Plan() for an ordinary question: answered as before
"""
from __future__ import annotations

import datetime as dt
import os

from ragqa.errors import ConfigError, IndexMissingError
from ragqa.index.catalog import NoNoteMetadataError, Vocabulary, read_catalog
from ragqa.plan.planner import plan_question
from ragqa.plan.question_plan import Chip, Plan

__all__ = ["Chip", "Plan", "index_dirs", "plan_for", "plan_question", "today", "vocabulary_of"]


def today() -> dt.date:
    """The day relative dates count from: the local date, or RAGQA_TODAY (YYYY-MM-DD) to fix it (tests, or
    asking "last week" as of another day)."""
    fixed = os.environ.get("RAGQA_TODAY")
    if not fixed:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(fixed)
    except ValueError:
        raise ConfigError(f"RAGQA_TODAY={fixed!r} is not a date: write it as YYYY-MM-DD") from None


def index_dirs(searcher) -> dict:
    """{collection: index folder} of what the searcher searches; {} for one that reads no index folder of its
    own (a wrapper that only searches): it has no catalog, so its questions are planned on their words alone."""
    dirs = getattr(searcher, "index_dirs", None)
    return dirs() if dirs else {}


def vocabulary_of(searcher) -> Vocabulary:
    """The tags, folders and note names of every collection the searcher covers (empty for an index that has
    no note metadata yet: its questions are planned on their own words alone)."""
    merged = Vocabulary()
    for index_dir in index_dirs(searcher).values():
        try:
            with read_catalog(index_dir) as catalog:
                found = catalog.vocabulary()
        except (NoNoteMetadataError, IndexMissingError):
            continue
        for key, (written, notes) in found.tags.items():
            merged.tags[key] = (merged.tags.get(key, (written, 0))[0], merged.tags.get(key, ("", 0))[1] + notes)
        merged.folders.update(found.folders)
        for name, paths in found.names.items():
            merged.names.setdefault(name, []).extend(paths)
    return merged


def plan_for(question: str, searcher, settings) -> Plan:
    """The plan of a question over the searcher's collections; Plan() when planning is off (`answer.plan`)."""
    if not settings.answer.plan:
        return Plan()
    return plan_question(question, vocabulary_of(searcher), today())
