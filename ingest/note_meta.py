"""A note's metadata for the index (ragqa.records.NoteMeta): its dates, tags, links and aliases.

Dates come from the front matter (`created`/`date`, `modified`/`updated`, in any common format), else from a
daily note's file name ("2024-03-14.md"), else from the file's modification time; each says which.
Tags and links are the ones the loader found (front matter tags and inline `#tags`; wikilinks, including those
in the front matter, and Markdown links to other notes: ragqa.ingest.note_refs).
"""
from __future__ import annotations

import datetime as dt

from ragqa.dates import date_in_name, parse_date
from ragqa.ingest.documents import Document
from ragqa.records import NoteDate, NoteMeta

CREATED_KEYS = ("created", "date", "created_at", "creation_date", "date_created")
MODIFIED_KEYS = ("modified", "updated", "last_modified", "modified_at", "updated_at", "date_modified")


def note_meta(doc: Document, mtime_ns: int) -> NoteMeta:
    """The document's dates, tags, links and aliases, for the index."""
    file_day = dt.datetime.fromtimestamp(mtime_ns / 1e9).date().isoformat()
    created = _front_date(doc.metadata, CREATED_KEYS)
    if created is None:
        named = date_in_name(doc.path)
        created = NoteDate(named.isoformat(), "file name") if named else NoteDate(file_day, "file time")
    modified = _front_date(doc.metadata, MODIFIED_KEYS) or NoteDate(file_day, "file time")
    aliases = [str(a) for a in doc.metadata.get("aliases") or [] if str(a).strip()]
    return NoteMeta(created=created, modified=modified, tags=_unique(doc.tags), links=_unique(doc.links),
                    aliases=tuple(aliases))


def _front_date(metadata: dict, keys: tuple[str, ...]) -> NoteDate | None:
    lowered = {str(k).lower(): v for k, v in metadata.items()}
    for key in keys:
        day = parse_date(lowered.get(key))
        if day is not None:
            return NoteDate(day.isoformat(), f"front matter {key}")
    return None


def _unique(items: list[str]) -> tuple[str, ...]:
    """In order, once each, ignoring case."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.casefold(), item)
    return tuple(seen.values())
