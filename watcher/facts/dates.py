"""Dates as news writes them, resolved against the article's own date.

"September 15", "15 September 2024", "Sept. 15", "mid-September", "the end of
the year", "on Friday". A date without a year takes the year that puts it
nearest the article's date; in an article with no date, such a date is not
resolved at all: a year is never guessed from today.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum


class Precision(StrEnum):
    """How much of a date the text gives."""

    EXACT = "exact"  # a day
    EARLY = "early"  # early in a month
    MID = "mid"
    LATE = "late"  # late in a month; "the end of" a month is its last day
    MONTH = "month"  # a month
    YEAR = "year"  # a year


@dataclass(frozen=True)
class DateMatch:
    start: int
    end: int
    value: date
    precision: Precision
    weekday: bool = False  # "on Friday": a day of the week, counted back from the article
    yearless: bool = False  # "in March": its year is the one nearest the article's date

    def in_the_past(self, published: date | None) -> date:
        """The day of an event that has happened: a year-less date the nearest year
        put months after the article ("revoked in March", told in September) is the
        last one. One days or weeks ahead stays: the event is to come."""
        if not self.yearless or published is None or self.value <= published + _SOON:
            return self.value
        day = min(self.value.day, calendar.monthrange(self.value.year - 1, self.value.month)[1])
        return self.value.replace(year=self.value.year - 1, day=day)

    def iso(self) -> str:
        return self.value.isoformat()


_SOON = timedelta(days=90)

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_MONTH = (
    r"(?P<month>"
    + "|".join(m.capitalize() for m in sorted(_MONTHS, key=len, reverse=True))
    + r")(?![a-z])\.?"
)
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d)(?!\d))?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_PART = (
    r"(?P<part>early|mid|late|the\s+end\s+of|end\s+of|end|the\s+middle\s+of|middle\s+of"
    r"|the\s+beginning\s+of|beginning\s+of|the\s+start\s+of|start\s+of)"
)
_FORMS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<year>20\d\d)-(?P<mon>[01]\d)-(?P<day>[0-3]\d)\b")),
    ("numeric", re.compile(r"\b(?P<day>[0-3]?\d)/(?P<mon>[01]?\d)/(?P<year>20\d\d)\b")),
    ("day", re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?!,\d|:){_YEAR}")),
    ("day", re.compile(rf"\b(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}")),
    ("part", re.compile(rf"\b{_PART}[\s-]+(?:of\s+)?{_MONTH}{_YEAR}", re.IGNORECASE)),
    (
        "year_end",
        re.compile(
            r"\b(?:the\s+)?(?:end|close)\s+of\s+(?:the\s+)?(?:(?P<this>this|next|the)\s+)?"
            r"(?:year|(?P<year>(?:19|20)\d\d))\b|\byear(?:'s)?[\s-]end\b"
            r"|\bend-(?P<year2>(?:19|20)\d\d)\b",
            re.IGNORECASE,
        ),
    ),
    ("month", re.compile(rf"\b{_MONTH}\s+(?P<year>(?:19|20)\d\d)\b")),
    (
        "month",
        re.compile(
            rf"\b(?:a|an|the|its|their)\s+{_MONTH}(?=\s+(?:deadline|target|timeline|cut-?off)\b)"
        ),
    ),
    (
        "month",
        re.compile(rf"\b(?:in|by|until|till|before|since|from|to|of)\s+{_MONTH}(?!\s*\d)"),
    ),
    ("year", re.compile(r"\b(?:in|by|until|till|before|since)\s+(?P<year>20\d\d)\b(?![-/]\d)")),
]
_PART_DAY = {"early": 5, "mid": 15, "late": 25}
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAY = re.compile(
    r"\b(?P<when>(?:on|last|this|early|late)\s+)?(?P<weekday>Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday)(?:'s)?\b(?!\s*,?\s*(?:\d|[A-Z][a-z]+\s+\d))"
)
_RELATIVE = re.compile(r"\b(?P<rel>yesterday|today)\b", re.IGNORECASE)


def resolve_year(
    month: int, day: int, year: int | None, published: date | None, *, past: bool = False
) -> date | None:
    """The date; without a year, the one nearest ``published`` (not after it when
    ``past``). None without a year and without a publication date."""
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            return None
    if published is None:
        return None
    candidates = []
    for y in (published.year - 1, published.year, published.year + 1):
        try:
            candidates.append(date(y, month, day))
        except ValueError:
            continue
    if past:
        candidates = [d for d in candidates if d <= published + timedelta(days=1)] or candidates
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs((d - published).days))


def find_dates(norm: str, published: date | None, *, past: bool = False) -> list[DateMatch]:
    """Calendar dates and weekdays in a sentence, with their precision."""
    found: list[DateMatch] = []

    def free(start: int, end: int) -> bool:
        return not any(start < d.end and d.start < end for d in found)

    for form, pattern in _FORMS:
        for m in pattern.finditer(norm):
            start = (
                m.start("month")
                if form == "month" and m.group("month") and not m.groupdict().get("year")
                else m.start()
            )
            if form == "year":
                start = m.start("year")
            if not free(start, m.end()):
                continue
            match = _resolve(form, m, start, published, past)
            if match is not None:
                found.append(_with_named_year(match, norm, published))
    if published:
        for m in _WEEKDAY.finditer(norm):
            if not free(m.start("weekday"), m.end()):
                continue
            back = (published.weekday() - WEEKDAYS[m.group("weekday").lower()]) % 7
            when = published - timedelta(days=back)
            found.append(DateMatch(m.start("weekday"), m.end(), when, Precision.EXACT, True))
        for m in _RELATIVE.finditer(norm):
            if free(m.start(), m.end()) and m.group("rel").lower() in ("yesterday", "today"):
                shift = 1 if m.group("rel").lower() == "yesterday" else 0
                found.append(
                    DateMatch(
                        m.start(), m.end(), published - timedelta(days=shift), Precision.EXACT, True
                    )
                )
    return sorted(found, key=lambda d: d.start)


_NAMED_YEAR = re.compile(r"\s*(?:of\s+)?(next|this|last)\s+year\b", re.IGNORECASE)
_YEAR_SHIFT = {"next": 1, "this": 0, "last": -1}


def _with_named_year(match: DateMatch, norm: str, published: date | None) -> DateMatch:
    """ "by Aug. 31 next year", "in March last year": the year the words name,
    counted from the article's, not the nearest one."""
    named = _NAMED_YEAR.match(norm, match.end)
    if not match.yearless or published is None or named is None:
        return match
    year = published.year + _YEAR_SHIFT[named.group(1).lower()]
    try:
        value = match.value.replace(year=year)
    except ValueError:  # February 29
        value = match.value.replace(year=year, day=28)
    return replace(match, end=named.end(), value=value, yearless=False)


def _resolve(
    form: str, m: re.Match[str], start: int, published: date | None, past: bool
) -> DateMatch | None:
    groups = m.groupdict()
    year = int(groups["year"]) if groups.get("year") else None
    value: date | None
    if form in ("iso", "numeric"):
        try:
            value = date(int(groups["year"]), int(groups["mon"]), int(groups["day"]))
        except ValueError:
            return None
        return DateMatch(start, m.end(), value, Precision.EXACT)
    if form == "year_end":
        year = year or (int(groups["year2"]) if groups.get("year2") else None)
        if year is None:
            if published is None:
                return None
            year = published.year + (1 if groups.get("this") == "next" else 0)
        return DateMatch(start, m.end(), date(year, 12, 31), Precision.EXACT)
    if form == "year":
        assert year is not None
        return DateMatch(start, m.end(), date(year, 12, 31), Precision.YEAR)
    month = _MONTHS[groups["month"].lower().rstrip(".")]
    if form == "day":
        day = int(groups["day"])
        if not 1 <= day <= 31:
            return None
        value = resolve_year(month, day, year, published, past=past)
        return (
            DateMatch(start, m.end(), value, Precision.EXACT, yearless=year is None)
            if value
            else None
        )
    if form == "part":
        part = groups["part"].lower()
        if "end" in part:
            value = resolve_year(month, 1, year, published, past=past)
            if value is None:
                return None
            last = calendar.monthrange(value.year, month)[1]
            return DateMatch(
                start, m.end(), value.replace(day=last), Precision.LATE, yearless=year is None
            )
        precision = (
            Precision.EARLY
            if ("early" in part or "beginning" in part or "start" in part)
            else Precision.MID
            if ("mid" in part or "middle" in part)
            else Precision.LATE
        )
        value = resolve_year(month, _PART_DAY[precision.value], year, published, past=past)
        return DateMatch(start, m.end(), value, precision, yearless=year is None) if value else None
    value = resolve_year(month, 15, year, published, past=past)
    return (
        DateMatch(start, m.end(), value, Precision.MONTH, yearless=year is None) if value else None
    )
