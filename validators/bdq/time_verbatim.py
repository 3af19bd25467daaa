"""Lenient interpretation of non-ISO date text, for the amendments that propose an ISO 8601 date.

Only *unambiguous* readings are returned: ``03/04/2020`` (day/month order unknown), two-digit years and dates
without a year give None. Month names (several European languages), Roman numeral months (``18/V/1981``),
ordinal suffixes (``29th``), English weekday names (checked against the date), CJK 年月日, decades (``1980s``) and
simple ranges (``9.ii-10.iii.2000``) are understood. Precision is kept: ``Aug. 1987`` gives ``1987-08``.
Years before 1000 are not trusted in free text (``0377`` is more likely a compact month/year than a year).
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from mobilise.mappers.months import month_from_word
from mobilise.validators.bdq.time_iso import parse_interval

_WEEKDAYS = {w: i for i, names in enumerate(["monday mon", "tuesday tue tues", "wednesday wed",
                                             "thursday thu thur thurs", "friday fri", "saturday sat",
                                             "sunday sun"]) for w in names.split()}
_FILLER = {"of", "the", "de", "del", "den"}
_DAY_PLACEHOLDERS = {"xx"}
_ORDINAL_SUFFIX = {"st", "nd", "rd", "th"}
_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_DECADE = re.compile(r"(\d{3})0'?s")
_RANGE_SEP = re.compile(r"\s*(?:-|–|—|\bto\b)\s*")
_CJK = str.maketrans({"年": "-", "月": "-", "日": " "})


def _fields(text: str) -> tuple[int | None, int | None, int | None] | None:
    """(year, month, day) read from one date expression; year/month/day may be None; None if not readable."""
    year = month = day = weekday = None
    numbers: list[int] = []
    tokens = _TOKEN.findall(text.translate(_CJK).lower())
    previous_number = False
    for token in tokens:
        if token.isdigit():
            if len(token) == 4:
                if year is not None or int(token) < 1000:
                    return None
                year = int(token)
            elif len(token) <= 2:
                numbers.append(int(token))
            else:
                return None
            previous_number = True
            continue
        if previous_number and token in _ORDINAL_SUFFIX:
            previous_number = False
            continue
        previous_number = False
        if token in _FILLER or token in _DAY_PLACEHOLDERS:
            continue
        if token in _WEEKDAYS:
            weekday = _WEEKDAYS[token]
            continue
        as_month = month_from_word(token)
        if as_month is None or month is not None:
            return None
        month = as_month
    if month is not None:
        if len(numbers) > 1:
            return None
        day = numbers[0] if numbers else None
    elif len(numbers) == 1:
        if year is None:
            day = numbers[0]  # a bare day inside a range ("5-10 Aug 1987")
        elif numbers[0] <= 12:
            month = numbers[0]
        else:
            return None
    elif len(numbers) == 2:
        first, second = numbers
        year_first = year is not None and tokens[0].isdigit() and len(tokens[0]) == 4
        if first == second or (year_first and first <= 12):
            month, day = first, second  # ISO order after a leading year; equal values cannot be confused
        elif first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first and not year_first:
            month, day = first, second
        else:
            return None  # both could be the month
    elif numbers:
        return None
    if weekday is not None:
        if None in (year, month, day):
            return None
        try:
            if date(year, month, day).weekday() != weekday:
                return None
        except ValueError:
            return None
    return year, month, day


def _format(year: int, month: int | None, day: int | None) -> str | None:
    try:
        if day is not None:
            return date(year, month, day).isoformat()
        if month is not None:
            return date(year, month, 1).isoformat()[:7]
        return f"{year:04d}"
    except (ValueError, TypeError):
        return None


def _single(text: str) -> str | None:
    parsed = _fields(text)
    if parsed is None or parsed[0] is None:
        return None
    return _format(*parsed)


def _finest(fields: tuple) -> int:
    return 2 if fields[2] is not None else 1 if fields[1] is not None else 0


def _range(text: str) -> str | None:
    """Try each range separator: the end must carry a year; the start borrows what it lacks from the end."""
    for sep in _RANGE_SEP.finditer(text):
        left, right = _fields(text[:sep.start()]), _fields(text[sep.end():])
        if left is None or right is None or right[0] is None:
            continue
        # Both ends must be at the same precision, so a number is never read as a day on one side only.
        if _finest(left) != _finest(right) or left == (None, None, None):
            continue
        start = tuple(r if l is None else l for l, r in zip(left, right))
        a, b = _format(*start), _format(*right)
        if a and b and a <= b and a != b:
            return f"{a}/{b}"
    return None


@lru_cache(maxsize=65536)
def interpret_date(text: str) -> str | None:
    """An ISO 8601 date or interval read unambiguously from free text, or None."""
    text = text.strip()
    if not text or "?" in text:
        return None
    interval = parse_interval(text)
    if interval:
        # In free text a leading-zero "year" such as 0377 is more likely a compact month/year or day/month.
        return text if interval.first_day.year >= 1000 else None
    decade = _DECADE.fullmatch(text.lower())
    if decade:
        start = int(decade[1]) * 10
        return f"{start:04d}-01-01/{start + 9:04d}-12-31" if start >= 1000 else None
    return _single(text) or _range(text)
