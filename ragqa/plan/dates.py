"""The dates a question names, as day ranges: "in March 2024", "from 2023", "between May and July 2023",
"last week", "in the past 10 days", "yesterday".

Rules over the words, with `today` given (the local day, or a fixed one in tests); dateparser reads the one
date atom the rules leave to it ("3rd of March 2024"). A week starts on Monday. A month or a season named
without a year is the most recent one that has begun.

>>> today = dt.date(2024, 3, 20)
>>> find_dates("What did I write in March 2024?", today).range
('2024-03-01', '2024-03-31')
>>> find_dates("notes from last week", today).range, find_dates("between May and July 2023", today).range
(('2024-03-11', '2024-03-17'), ('2023-05-01', '2023-07-31'))
>>> find_dates("the past 10 days", today).range, find_dates("in December", today).range
(('2024-03-10', '2024-03-20'), ('2023-12-01', '2023-12-31'))
>>> find_dates("How does ragqa chunk notes?", today) is None
True
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

Range = tuple[dt.date, dt.date]

_MONTHS = {name: i for i, names in enumerate(
    [(), ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")]) for name in names}
MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20,
            "thirty": 30, "couple of": 2, "few": 3}
NUMBER = r"(?:\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
UNIT = r"(?:day|week|month|year)s?"
YEAR = r"(?:19|20)\d\d"
DAY = r"(?:[0-2]?\d|3[01])(?:st|nd|rd|th)?"
SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}

# One date atom: the most specific forms first.
ATOM = (rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|{DAY}\s+(?:of\s+)?{MONTH},?\s+{YEAR}|{MONTH}\s+{DAY},?\s+{YEAR}"
        rf"|\d{{1,2}}/\d{{1,2}}/{YEAR}|{YEAR}-\d{{1,2}}(?!\d)|\d{{1,2}}/{YEAR}|{MONTH},?\s+(?:of\s+)?{YEAR}"
        rf"|(?:q[1-4]|(?:spring|summer|autumn|fall|winter))\s+(?:of\s+)?{YEAR}|{YEAR}|{MONTH}"
        rf"|spring|summer|autumn|fall|winter)")
_RELATIVE = re.compile(
    rf"\b(?:(?P<past>(?:in\s+)?(?:the\s+)?(?:past|last|previous)\s+(?P<n>{NUMBER})\s+(?P<unit>{UNIT}))"
    rf"|(?P<ago>(?P<n2>{NUMBER})\s+(?P<unit2>{UNIT})\s+ago)"
    r"|(?P<named>(?:the\s+)?day\s+before\s+yesterday|yesterday|today|tonight|this\s+morning"
    r"|(?:this|last|previous|past)\s+(?:week|month|year|weekend|spring|summer|autumn|fall|winter)"
    r"|recently|lately|these\s+days))\b", re.I)
_SPAN = re.compile(rf"\b(?:between|from)\s+(?P<a>{ATOM})\s+(?:and|to|until|till|through|thru|-)\s+(?P<b>{ATOM})\b"
                   rf"|\b(?P<a2>{ATOM})\s*(?:-|–|to|until|through)\s*(?P<b2>{ATOM})\b", re.I)  # noqa: RUF001 - en dash
_OPEN = re.compile(rf"\b(?P<op>since|after|before|until|till|up\s+to|prior\s+to|earlier\s+than|later\s+than)\s+"
                   rf"(?P<a>{ATOM}|last\s+(?:week|month|year))\b", re.I)
_SINGLE = re.compile(rf"(?<![\w/#-])(?P<a>{ATOM})(?![\w/-])", re.I)


@dataclass(frozen=True)
class DateFinding:
    """A range of days a question names, and the words that named it."""

    first: dt.date | None
    last: dt.date | None
    words: str

    @property
    def range(self) -> tuple[str | None, str | None]:
        return (self.first.isoformat() if self.first else None, self.last.isoformat() if self.last else None)


def find_dates(question: str, today: dt.date) -> DateFinding | None:
    """The first range of days the question names, or None."""
    for pattern, read in ((_SPAN, _span), (_OPEN, _open), (_RELATIVE, _relative), (_SINGLE, _single)):
        for match in pattern.finditer(question):
            found = read(match, today)
            if found is not None:
                return DateFinding(found[0], found[1], match.group(0).strip())
    return None


def _span(match: re.Match, today: dt.date):
    a, b = match.group("a") or match.group("a2"), match.group("b") or match.group("b2")
    if not (a and b) or (match.group("a2") and not _looks_like_span(a, b)):
        return None
    year_b = _year_in(b)
    first = atom_range(a, today, default_year=year_b)
    last = atom_range(b, today)
    if not first or not last:
        return None
    if first[0] > last[1] and year_b is None:  # "from November to February": across a new year
        first = (first[0].replace(year=first[0].year - 1), first[1].replace(year=first[1].year - 1))
    return first[0], last[1]


def _looks_like_span(a: str, b: str) -> bool:
    """"2023 - 2024" or "May-July 2023" is a span; "2023-05" is a month (read as one atom, not a span)."""
    return not (re.fullmatch(YEAR, a.strip()) and re.fullmatch(r"\d{1,2}", b.strip()))


def _open(match: re.Match, today: dt.date):
    op, atom = match.group("op").lower(), match.group("a")
    found = _relative_range(atom, today) if atom.lower().startswith("last") else atom_range(atom, today)
    if not found:
        return None
    if op in ("since",):
        return found[0], today
    if op in ("after", "later than"):
        return found[1] + dt.timedelta(days=1), None
    if op.startswith(("until", "till", "up")):
        return None, found[1]
    return None, found[0] - dt.timedelta(days=1)  # before, prior to, earlier than


def _relative(match: re.Match, today: dt.date):
    if match.group("past"):
        n, unit = _number(match.group("n")), match.group("unit").lower().rstrip("s")
        return _back(today, n, unit), today
    if match.group("ago"):
        n, unit = _number(match.group("n2")), match.group("unit2").lower().rstrip("s")
        return _period_of(_back(today, n, unit), unit)
    return _relative_range(match.group("named"), today)


def _relative_range(words: str, today: dt.date) -> Range | None:
    words = " ".join(words.lower().split()).removeprefix("the ")
    monday = today - dt.timedelta(days=today.weekday())
    if words in ("today", "tonight", "this morning"):
        return today, today
    if words == "yesterday":
        return (today - dt.timedelta(days=1),) * 2
    if words == "day before yesterday":
        return (today - dt.timedelta(days=2),) * 2
    if words in ("recently", "lately", "these days"):
        return today - dt.timedelta(days=30), today
    which, _, unit = words.partition(" ")
    if unit in SEASONS:  # "last summer": the latest one that has ended; "this summer": the latest begun
        begun = _season(unit, None, today)
        if which != "this" and begun[1] >= today:
            begun = _season(unit, begun[0].year - 1, today)
        return begun
    if which == "this":
        start = {"week": monday, "month": today.replace(day=1), "year": today.replace(month=1, day=1),
                 "weekend": monday + dt.timedelta(days=5)}[unit]
        return start, today if unit != "weekend" else start + dt.timedelta(days=1)
    # last / previous / past week|month|year|weekend: the one before the current one
    if unit == "week":
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if unit == "weekend":
        saturday = monday - dt.timedelta(days=2)
        return saturday, saturday + dt.timedelta(days=1)
    if unit == "month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)


def atom_range(atom: str, today: dt.date, default_year: int | None = None) -> Range | None:
    """The days one date atom covers.

    >>> atom_range("2023-09", dt.date(2024, 1, 1)), atom_range("14 March 2024", dt.date(2024, 5, 1))
    ((datetime.date(2023, 9, 1), datetime.date(2023, 9, 30)), (datetime.date(2024, 3, 14), datetime.date(2024, 3, 14)))
    """
    text = " ".join(atom.lower().replace(",", " ").replace(" of ", " ").split())
    if re.fullmatch(YEAR, text):
        return dt.date(int(text), 1, 1), dt.date(int(text), 12, 31)
    iso_month = re.fullmatch(rf"({YEAR})-(\d{{1,2}})", text) or re.fullmatch(rf"(\d{{1,2}})/({YEAR})", text)
    if iso_month:
        year, month = sorted(map(int, iso_month.groups()), reverse=True)
        return _month(year, month)
    quarter = re.fullmatch(rf"q([1-4]) ({YEAR})", text)
    if quarter:
        q, year = int(quarter.group(1)), int(quarter.group(2))
        return dt.date(year, 3 * q - 2, 1), _last_day(year, 3 * q)
    season = re.fullmatch(rf"(spring|summer|autumn|fall|winter)(?: ({YEAR}))?", text)
    if season:
        return _season(season.group(1), int(season.group(2)) if season.group(2) else default_year, today)
    named = re.fullmatch(rf"({MONTH})(?: ({YEAR}))?", text)
    if named:
        number = _MONTHS[named.group(1).rstrip(".")]
        if named.group(2):
            year = int(named.group(2))
        elif default_year is not None:
            year = default_year
        else:  # the most recent such month that has begun
            year = today.year if number <= today.month else today.year - 1
        return _month(year, number)
    from ragqa.dates import parse_date

    day = parse_date(atom)
    return (day, day) if day else None


def _season(name: str, year: int | None, today: dt.date) -> Range:
    first, last = SEASONS[name]
    if year is None:
        year = today.year if (today.month >= first or (first == 12 and today.month <= 2)) else today.year - 1
        if first == 12 and today.month <= 2:
            year -= 1
    start = dt.date(year, first, 1)
    end_year = year + 1 if last < first else year
    return start, _last_day(end_year, last)


def _month(year: int, month: int) -> Range | None:
    if not 1 <= month <= 12:
        return None
    return dt.date(year, month, 1), _last_day(year, month)


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _period_of(day: dt.date, unit: str) -> Range:
    if unit == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    if unit == "month":
        return _month(day.year, day.month) or (day, day)
    if unit == "year":
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    return day, day


def _back(today: dt.date, n: int, unit: str) -> dt.date:
    if unit == "day":
        return today - dt.timedelta(days=n)
    if unit == "week":
        return today - dt.timedelta(weeks=n)
    months = n * (12 if unit == "year" else 1)
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return dt.date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


def _number(word: str) -> int:
    word = " ".join(word.lower().split())
    return int(word) if word.isdigit() else _NUMBERS.get(word, 1)


def _year_in(atom: str) -> int | None:
    found = re.search(YEAR, atom)
    return int(found.group(0)) if found else None


def _single(match: re.Match, today: dt.date):
    atom = match.group("a")
    if re.fullmatch(r"(?i)may|mar|jun|jul|aug|sep|oct|dec|jan|feb|apr|nov|fall|spring|summer|winter|autumn", atom):
        # "may", "fall" and short month names are ordinary words too: a month alone needs "in"/"during"/"of"
        before = " " + match.string[:match.start()].rstrip().lower()
        if not before.endswith((" in", " during", " of", " from", " for")):
            return None
    return atom_range(atom, today)
