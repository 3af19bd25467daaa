"""Strict ISO 8601-1 date parsing for the BDQ TIME tests.

Darwin Core dates (dwc:eventDate, dwc:dateIdentified) are ISO 8601-1 dates, date-times or intervals ``start/end``.
Every TIME test needs the same questions answered about such a value (is it valid, which days does it cover, at what
precision, how long is it), so the value is parsed once into an :class:`Interval` and the answer is cached.

Supported: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, ordinal ``YYYY-DDD``, basic ``YYYYMMDD``/``YYYYDDD``; a time
``Thh[:mm[:ss[.f]]]`` (or basic ``Thhmm[ss]``) after a full date, with an optional ``Z``/``±hh[[:]mm]`` offset;
intervals ``start/end`` where the end may omit leading components (``1880-05-08/10``). Not supported (treated as
invalid): durations (``P3D``), expanded years, week dates, hour 24 and leap seconds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

_DATE = re.compile(
    r"(?P<y>\d{4})(?:"
    r"-(?P<m>\d{2})(?:-(?P<d>\d{2}))?"   # YYYY-MM, YYYY-MM-DD
    r"|-(?P<o>\d{3})"                    # YYYY-DDD
    r"|(?P<bm>\d{2})(?P<bd>\d{2})"       # YYYYMMDD
    r"|(?P<bo>\d{3})"                    # YYYYDDD
    r")?")
_TIME = re.compile(
    r"T(?P<H>\d{2})(?:(?::(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d+))?)?)"
    r"|(?:(?P<bM>\d{2})(?P<bS>\d{2})?(?:[.,](?P<bF>\d+))?))?"
    r"(?P<Z>Z|[+-]\d{2}(?::?\d{2})?)?")
_CLOCK = re.compile(r"\d{2}:\d{2}")
_ENDPOINT = re.compile(r"(?P<date>[^T]+)(?P<time>T.*)?")

YEAR, MONTH, DAY, TIME = "year", "month", "day", "time"
_ONE_DAY = timedelta(days=1)
_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class Endpoint:
    """One side of an interval: the local calendar days it covers and the instants used for comparisons."""

    first_day: date
    last_day: date
    precision: str         # YEAR, MONTH, DAY or TIME
    begin: datetime        # first instant (shifted to UTC when an offset is given)
    last: datetime         # last instant included (== begin for a time of day)
    end: datetime          # exclusive end for dates; == begin for a time of day (an instant has no length)


@dataclass(frozen=True)
class Interval:
    start: Endpoint
    end: Endpoint

    @property
    def first_day(self) -> date:
        return self.start.first_day

    @property
    def last_day(self) -> date:
        return self.end.last_day

    @property
    def begin(self) -> datetime:
        return self.start.begin

    @property
    def last(self) -> datetime:
        return self.end.last

    @property
    def finish(self) -> datetime:
        return self.end.end

    @property
    def day_precision(self) -> bool:
        """True when both ends are given to the day or finer (needed for day-of-year values)."""
        return self.start.precision in (DAY, TIME) and self.end.precision in (DAY, TIME)

    def seconds(self) -> int:
        return int((self.finish - self.begin).total_seconds())


def _month_end(year: int, month: int) -> date:
    return (date(year + (month == 12), month % 12 + 1, 1)) - _ONE_DAY


def _parse_endpoint_unchecked(text: str) -> Endpoint | None:
    match = _ENDPOINT.fullmatch(text)
    if not match:
        return None
    dm = _DATE.fullmatch(match["date"])
    if not dm:
        return None
    year = int(dm["y"])
    if year == 0:
        return None  # outside what the calendar arithmetic here supports
    month, day, ordinal = dm["m"] or dm["bm"], dm["d"] or dm["bd"], dm["o"] or dm["bo"]
    try:
        if ordinal:
            first = date(year, 1, 1) + timedelta(days=int(ordinal) - 1)
            if first.year != year or int(ordinal) < 1:
                return None
            last, precision = first, DAY
        elif day:
            first = last = date(year, int(month), int(day))
            precision = DAY
        elif month:
            if not 1 <= int(month) <= 12:
                return None
            first, last, precision = date(year, int(month), 1), _month_end(year, int(month)), MONTH
        else:
            first, last, precision = date(year, 1, 1), date(year, 12, 31), YEAR
    except ValueError:  # e.g. 1981-02-29
        return None
    begin = datetime(first.year, first.month, first.day)
    if match["time"] is None:
        end = datetime(last.year, last.month, last.day) + _ONE_DAY
        return Endpoint(first, last, precision, begin, end - _TINY, end)
    if precision != DAY:
        return None  # a time needs a complete date
    tm = _TIME.fullmatch(match["time"])
    extended_date = "-" in match["date"]
    if not tm or (extended_date and tm["bM"]) or (not extended_date and tm["M"]):
        return None  # ISO 8601 does not mix the basic and extended formats in date and time
    hour, minute, second = int(tm["H"]), int(tm["M"] or tm["bM"] or 0), int(tm["S"] or tm["bS"] or 0)
    fraction = tm["F"] or tm["bF"]
    if hour > 23 or minute > 59 or second > 59:
        return None
    instant = begin.replace(hour=hour, minute=minute, second=second,
                            microsecond=int((fraction + "000000")[:6]) if fraction else 0)
    zone = tm["Z"]
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        off_h, off_m = int(digits[:2]), int(digits[2:] or 0)
        if off_h > 23 or off_m > 59:
            return None
        offset = timedelta(hours=off_h, minutes=off_m)
        instant = instant - offset if zone[0] == "+" else instant + offset
    return Endpoint(first, last, TIME, instant, instant, instant)


def _expand_end(start: str, end: str) -> str:
    """Complete an abbreviated interval end from the start: ``1880-05-08/10`` -> ``1880-05-10``."""
    start_date, _, start_time = start.partition("T")
    if end.startswith("T") or _CLOCK.match(end):
        return start_date + ("" if end.startswith("T") else "T") + end  # time-only end: same day
    end_date, sep, end_time = end.partition("T")
    s_parts, e_parts = start_date.split("-"), end_date.split("-")
    if len(e_parts) >= len(s_parts) or len(s_parts) < 2:
        return end
    if any(len(a) != len(b) for a, b in zip(reversed(s_parts), reversed(e_parts))):
        return end
    return "-".join(s_parts[:len(s_parts) - len(e_parts)] + e_parts) + sep + end_time


def _parse_endpoint(text: str) -> Endpoint | None:
    """_parse_endpoint, None for a value at the edge of the calendar (the exclusive end of 9999-12-31, or an
    offset moving an instant beyond year 9999 or before year 1) rather than an OverflowError: a test never raises."""
    try:
        return _parse_endpoint_unchecked(text)
    except OverflowError:
        return None


@lru_cache(maxsize=65536)
def parse_interval(value: str | None) -> Interval | None:
    """The ISO 8601 interval a date/date-time/interval string denotes, or None if it is not valid ISO 8601.

    A single date is an interval from its first to its last day. The text must be exact: no surrounding spaces.
    """
    if not value or value.count("/") > 1:
        return None
    if "/" in value:
        left, right = value.split("/")
        start = _parse_endpoint(left)
        end = _parse_endpoint(_expand_end(left, right)) if start and right else None
        if start is None or end is None or end.begin < start.begin:
            return None
        return Interval(start, end)
    point = _parse_endpoint(value)
    return Interval(point, point) if point else None


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
