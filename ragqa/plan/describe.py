"""A plan in words, as an answer says what it counted: "tagged #physics, created in March 2024"."""
from __future__ import annotations

import datetime as dt
import difflib

from ragqa.index.catalog import Vocabulary
from ragqa.index.note_rows import fold
from ragqa.plan.question_plan import DayRange, Plan

TYPE_NAMES = {"pdf": "PDFs", "docx": "Word documents", "xlsx": "spreadsheets", "pptx": "presentations",
              "email": "emails", "image": "images", "html": "web pages", "epub": "e-books",
              "markdown": "Markdown notes", "text": "text files", "odt": "OpenDocument texts",
              "rtf": "RTF documents", "org": "Org files", "rst": "reStructuredText files"}


def describe_plan(plan: Plan) -> str:
    """What the listed notes have in common.

    >>> describe_plan(Plan("count", tags=("physics", "math"), created=("2024-03-01", "2024-03-31")))
    'tagged #physics or #math, created in March 2024'
    >>> describe_plan(Plan("links", links_to="Concepts/vector field.md")), describe_plan(Plan("list"))
    ('link to vector field', 'in your notes')
    """
    if plan.kind == "links":
        name = _note_name(plan.links_to or plan.links_from or plan.note_words)
        return f"link to {name}" if plan.links_to or not plan.links_from else f"{name} links to"
    parts = []
    if plan.tags:
        parts.append("tagged " + (" and " if plan.every_tag else " or ").join(f"#{t}" for t in plan.tags))
    if plan.folders:
        parts.append("in " + " or ".join(f"{f}/" for f in plan.folders))
    if plan.types:
        parts.append("that are " + " or ".join(TYPE_NAMES.get(t, t) for t in plan.types))
    for key in ("created", "modified"):
        if getattr(plan, key):
            parts.append(f"{key} {describe_days(getattr(plan, key))}")
    if plan.topic and plan.kind != "lookup":
        parts.append(f"about “{plan.topic}”")
    return ", ".join(parts) or "in your notes"


def describe_days(days: DayRange) -> str:
    """A range of days as a sentence says it.

    >>> describe_days(("2024-01-01", "2024-12-31")), describe_days(("2024-03-14", "2024-03-14"))
    ('in 2024', 'on 2024-03-14')
    """
    first, last = days
    if first and last:
        a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        if (a.month, a.day, b.month, b.day) == (1, 1, 12, 31) and a.year == b.year:
            return f"in {a.year}"
        if a.day == 1 and (a.year, a.month) == (b.year, b.month) and (b + dt.timedelta(days=1)).day == 1:
            return f"in {a:%B %Y}"
        return f"on {first}" if a == b else f"between {first} and {last}"
    return f"since {first}" if first else f"until {last}"


def _note_name(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[:-3] if name.lower().endswith(".md") else name


def near_misses(plan: Plan, vocabulary: Vocabulary) -> str:
    """What the question may have meant when nothing matched: the closest tags, or note names.

    >>> near_misses(Plan("count", tags=("phisics",)), Vocabulary(tags={"physics": ("physics", 13)}))
    'Did you mean #physics (13 notes)?'
    """
    if plan.kind == "links" and not (plan.links_to or plan.links_from):
        similar = difflib.get_close_matches(fold(plan.note_words), list(vocabulary.names), n=3, cutoff=0.6)
        named = f"No note is called “{plan.note_words}”."
        return named + (" Did you mean " + " or ".join(f"“{c}”" for c in similar) + "?" if similar else "")
    misses = []
    for tag in plan.tags:
        if fold(tag) in vocabulary.tags:
            continue
        for close in difflib.get_close_matches(fold(tag), list(vocabulary.tags), n=2, cutoff=0.7):
            written, notes = vocabulary.tags[close]
            misses.append(f"#{written} ({notes} note{'s' if notes != 1 else ''})")
    return f"Did you mean {' or '.join(misses)}?" if misses else ""
