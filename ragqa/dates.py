"""Calendar dates as ragqa keeps them: a note's `created`/`modified` day, whatever format it was written in.

Both paths use this: ingest reads front matter and file names with it, the question planner reads the dates a
question names. Dates are days (`datetime.date`); the index stores them as ISO strings ("2024-03-14"), which
compare in the right order as text.
"""
from __future__ import annotations

import datetime as dt
import re

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_IN_NAME = re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")
_UNPARSEABLE = re.compile(r"^\s*$|^\d+(?:\.\d+)?$")  # empty, or a bare number: no date, whatever a library guesses


def parse_date(value) -> dt.date | None:
    """A day from a front matter value in any common format; None when it is not a date.

    >>> [parse_date(v) for v in ["2024-03-14", "2024-03-14T09:30:00", dt.date(2024, 3, 14), "March 14, 2024"]]
    [datetime.date(2024, 3, 14), datetime.date(2024, 3, 14), datetime.date(2024, 3, 14), datetime.date(2024, 3, 14)]
    >>> parse_date("14 Mar 2024"), parse_date("someday"), parse_date(""), parse_date(12)
    (datetime.date(2024, 3, 14), None, None, None)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or _UNPARSEABLE.match(value):
        return None
    text = value.strip()
    iso = _ISO.match(text)
    if iso:
        return _day(*map(int, iso.groups()))
    import dateparser  # slow to import; most vaults write ISO dates and never get here

    parsed = dateparser.parse(text, settings={"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["year"],
                                              "RETURN_AS_TIMEZONE_AWARE": False})
    return parsed.date() if parsed else None


def date_in_name(name: str) -> dt.date | None:
    """The date a daily note's file name carries ("2024-03-14.md", "Journal 2024_03_14.md", "20240314 standup.md").

    >>> date_in_name("2024-03-14.md"), date_in_name("daily/Journal 2024_03_14.md"), date_in_name("20240314 x.md")
    (datetime.date(2024, 3, 14), datetime.date(2024, 3, 14), datetime.date(2024, 3, 14))
    >>> date_in_name("notes 2024.md"), date_in_name("2024-13-45.md")
    (None, None)
    """
    found = _IN_NAME.search(name.rsplit("/", 1)[-1])
    return _day(*map(int, found.groups())) if found else None


def _day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day) if 1900 <= year <= 2200 else None
    except ValueError:
        return None
