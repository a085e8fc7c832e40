"""What the planner understood of a question (ragqa.plan.planner): its kind and its filters, as data.

    Plan(kind="count", tags=("computing/parsing",))           "How many notes do I have tagged #computing/parsing?"
    Plan(kind="list", created=("2024-03-01", "2024-03-31"))    "What did I write in March 2024?"
    Plan(kind="links", links_to="Concepts/habit cue.md")       "What links to [[habit cue]]?"
    Plan()                                                     an ordinary question: searched and answered as ever

Each filter is a "chip" a face can show and take away (`chips`, `without`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

KINDS = ("lookup", "list", "count", "links", "summary")
DayRange = tuple[str | None, str | None]


@dataclass(frozen=True)
class Chip:
    """One understood filter, as a face shows it ("tag: math/LinearAlgebra") and names it to take it away."""

    key: str
    label: str


@dataclass(frozen=True)
class Plan:
    kind: str = "lookup"
    tags: tuple[str, ...] = ()  # any of them (nested tags included)
    every_tag: bool = False  # list, count, summary: notes with all of the tags (the question joined them by "and")
    folders: tuple[str, ...] = ()
    types: tuple[str, ...] = ()  # file kinds: "pdf", "markdown", ...
    created: DayRange | None = None
    modified: DayRange | None = None
    links_to: str | None = None  # links: the note (its path) whose backlinks are asked for
    links_from: str | None = None  # links: the note whose own links are asked for
    note_words: str = ""  # links: how the question named the note (for "no note is called ...")
    topic: str = ""  # list, count, summary: the words left once the filters are taken out ("sleep")
    date_words: str = ""  # how the question named its dates ("March 2024"), for the chip
    newest_first: bool = False  # list: "my most recent notes", newest first (else oldest first)

    @property
    def is_plain(self) -> bool:
        """An ordinary question: nothing understood, searched and answered exactly as before planning existed."""
        return self.kind == "lookup" and not self.has_filters

    @property
    def has_filters(self) -> bool:
        return bool(self.tags or self.folders or self.types or self.created or self.modified)

    def filter_values(self) -> dict:
        """The filters as plain values (the keys of ragqa.retrieve.search.Filters)."""
        return {"folders": list(self.folders), "tags": list(self.tags), "kinds": list(self.types),
                "created": self.created, "modified": self.modified}

    def as_json(self) -> dict:
        """The `"plan"` of `ragqa ask --json`: {"kind", "filters": {only those set}, "topic"}.

        >>> Plan("list", tags=("math",), created=("2024-01-01", "2024-12-31")).as_json()
        {'kind': 'list', 'filters': {'tags': ['math'], 'created': {'from': '2024-01-01', 'to': '2024-12-31'}}, 'topic': ''}
        """  # noqa: E501
        filters: dict = {}
        for key in ("tags", "folders", "types"):
            if getattr(self, key):
                filters[key] = list(getattr(self, key))
        if self.every_tag:
            filters["every_tag"] = True
        for key in ("created", "modified"):
            if getattr(self, key):
                first, last = getattr(self, key)
                filters[key] = {"from": first, "to": last}
        for key in ("links_to", "links_from"):
            if getattr(self, key):
                filters[key] = getattr(self, key)
        return {"kind": self.kind, "filters": filters, "topic": self.topic}

    def chips(self) -> list[Chip]:
        """The understood filters, one chip each.

        >>> [c.label for c in Plan("count", tags=("physics",), created=("2024-01-01", "2024-12-31")).chips()]
        ['tag: physics', 'created: 2024']
        """
        chips = [Chip(f"tag:{t}", f"tag: {t}") for t in self.tags]
        chips += [Chip(f"folder:{f}", f"folder: {f}") for f in self.folders]
        chips += [Chip(f"type:{t}", f"type: {t}") for t in self.types]
        for key in ("created", "modified"):
            if getattr(self, key):
                chips.append(Chip(key, f"{key}: {describe_range(getattr(self, key))}"))
        if self.links_to:
            chips.append(Chip("links_to", f"links to: {self.links_to}"))
        if self.links_from:
            chips.append(Chip("links_from", f"links from: {self.links_from}"))
        if self.topic and self.kind != "lookup":
            chips.append(Chip("topic", f"about: {self.topic}"))
        return chips

    def without(self, key: str) -> Plan:
        """This plan with one chip taken away; a list or count left with nothing to go on lists every note.

        >>> Plan("list", tags=("a", "b"), topic="sleep").without("tag:a").tags
        ('b',)
        """
        name, _, value = key.partition(":")
        changes: dict[str, Any]  # the field is named at run time
        if name in ("tag", "folder", "type"):
            field = {"tag": "tags", "folder": "folders", "type": "types"}[name]
            changes = {field: tuple(v for v in getattr(self, field) if v != value)}
        elif name in ("links_to", "links_from"):
            changes = {"kind": "list", name: None}
        elif name in ("created", "modified", "topic"):
            changes = {name: "" if name == "topic" else None}
        else:
            return self
        return replace(self, **changes)


def describe_range(days: DayRange) -> str:
    """A day range as people say it.

    >>> describe_range(("2024-01-01", "2024-12-31")), describe_range(("2024-03-01", "2024-03-31"))
    ('2024', '2024-03')
    >>> describe_range(("2024-03-11", "2024-03-17")), describe_range((None, "2022-12-31"))
    ('2024-03-11 to 2024-03-17', 'until 2022-12-31')
    """
    first, last = days
    if first and last:
        if first[5:] == "01-01" and last[5:] == "12-31" and first[:4] == last[:4]:
            return first[:4]
        if first[8:] == "01" and first[:7] == last[:7] and _last_day(last):
            return first[:7]
        return first if first == last else f"{first} to {last}"
    return f"from {first}" if first else f"until {last}"


def _last_day(day: str) -> bool:
    import datetime as dt

    date = dt.date.fromisoformat(day)
    return (date + dt.timedelta(days=1)).day == 1
