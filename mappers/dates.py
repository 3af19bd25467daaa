"""Dates as collection databases hold them, turned into ISO 8601 without inventing precision.

``1887`` stays ``1887``, ``V.1887`` becomes ``1887-05``, ``12/05/1887`` (day first, as European labels write it)
becomes ``1887-05-12``, and a start/end pair becomes an interval ``1887-05-01/1887-05-12``.
"""
from __future__ import annotations

import calendar
import re
from datetime import date
from functools import lru_cache

from mobilise.mappers.months import ROMAN_MONTHS

# Written on a label or typed in a database to say "no date": treated as no value, not as a bad one.
NO_DATE = {"s.d.", "sd", "s.d", "n.d.", "nd", "n.d", "unknown", "onbekend", "inconnu", "?", "-", "--", "none",
           "null", "na", "n/a"}

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)"
                  r"(Z|[+-]\d{2}:?\d{2})?)?)?)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[./-](\d{1,2}|[ivxIVX]+)[./-](\d{4})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2}|[ivxIVX]+)[./-](\d{4})$")
_YEAR_FIRST_SLASH = re.compile(r"^(\d{4})[./](\d{1,2})(?:[./](\d{1,2}))?$")


class DateError(ValueError):
    pass


def _month(text: str) -> int:
    return ROMAN_MONTHS[text.lower()] if text.isalpha() else int(text)


def _format(year: int, month: int | None = None, day: int | None = None, time: str | None = None,
            zone: str | None = None) -> str:
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        raise DateError(f"month {month} does not exist")
    if day is None:
        return f"{year:04d}-{month:02d}"
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise DateError(f"{year:04d}-{month:02d} has no day {day}")
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if time:
        text += f"T{time}" + (zone or "")
    return text


def parse_single(text: str) -> str:
    """One date of any supported form to ISO 8601 at the precision given. Raises DateError."""
    text = text.strip()
    if match := _ISO.match(text):
        year, month, day, time, zone = match.groups()
        return _format(int(year), month and int(month), day and int(day), time, zone)
    if match := _DAY_FIRST.match(text):
        day, month, year = match.groups()
        return _format(int(year), _month(month), int(day))
    if match := _MONTH_YEAR.match(text):
        month, year = match.groups()
        return _format(int(year), _month(month))
    if match := _YEAR_FIRST_SLASH.match(text):
        year, month, day = match.groups()
        return _format(int(year), int(month), day and int(day))
    raise DateError(f"'{text}' is not a date Mobilise can read")


def lower_bound(iso: str) -> date:
    parts = [int(p) for p in iso[:10].split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def upper_bound(iso: str) -> date:
    parts = [int(p) for p in iso[:10].split("-")]
    year = parts[0]
    month = parts[1] if len(parts) > 1 else 12
    day = parts[2] if len(parts) > 2 else calendar.monthrange(year, month)[1]
    return date(year, month, day)


def _is_single(text: str) -> bool:
    try:
        parse_single(text)
        return True
    except DateError:
        return False


def is_no_date(text: str | None) -> bool:
    return text is None or text.strip().lower() in NO_DATE or not text.strip()


@lru_cache(maxsize=65_536)
def interpret_event_date(start: str | None, end: str | None = None) -> tuple[str | None, tuple[str, ...]]:
    """(ISO date or interval, flags). An end before the start, or a date that does not exist, is invalid."""
    if is_no_date(start) and is_no_date(end):
        return None, ()
    if not is_no_date(start) and is_no_date(end) and "/" in start and not _is_single(start):
        start, end = start.split("/", 1)  # already an ISO interval
    try:
        first = parse_single(start) if not is_no_date(start) else None
        last = parse_single(end) if not is_no_date(end) else None
    except DateError:
        return None, ("RECORDED_DATE_INVALID",)
    if first is None:  # only an end: the event happened at some time up to it; keep what we know
        first, last = last, None
    if last is None or last == first:
        return first, ()
    if upper_bound(last) < lower_bound(first):
        return None, ("RECORDED_DATE_INVALID",)
    return f"{first}/{last}", ()


@lru_cache(maxsize=65_536)
def interpret_date(text: str | None, invalid_flag: str) -> tuple[str | None, tuple[str, ...]]:
    """A single date (dateIdentified, modified): ISO at the given precision, or the flag."""
    if is_no_date(text):
        return None, ()
    try:
        return parse_single(text), ()
    except DateError:
        return None, (invalid_flag,)
