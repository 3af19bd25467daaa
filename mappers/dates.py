"""Dates as collection databases hold them, turned into ISO 8601 without inventing precision or guessing.

A value is read exactly or flagged, never read "near": ``1887`` stays ``1887``, ``V.1887`` becomes ``1887-05``,
``12/05/1887`` becomes ``1887-05-12`` when the source writes the day first (``source.date_order``), and a
start/end pair becomes an interval ``1887-05-01/1887-05-12``.

What is read (Darwin Core eventDate/dateIdentified, "ISO 8601-1:2019"; the examples of the Darwin Core terms):

- ISO calendar dates of any precision, ``1887``, ``1887-05``, ``1887-05-12`` (also ``1887-5-3`` and the basic
  form ``18870512``), and date-times with an optional zone, ``2020-03-04T10:00Z``,
  ``2020-03-04T10:00:00+02:00`` (a space for the ``T`` is made a ``T``; the time and zone are kept as written).
- ISO week and ordinal dates, ``2020-W05-3`` / ``2020W053`` and ``2020-032`` / ``2020032``: published as the
  same day in calendar form (``2020-01-29``, ``2020-02-01``); a week without a day (``2020-W05``) is the interval
  of its seven days (``2020-01-27/2020-02-02``).
- Intervals ``start/end`` (in one value, or a start and an end column), each side of any form above; the end
  may be written short, its leading parts taken from the start, as ISO 8601 and Darwin Core
  (``2007-11-13/15``) allow: ``2007-11-13/15``, ``2007-11-13/12-02``, ``2007-11/12``,
  ``2007-12-14T13:30/15:30``. A short end is published in full (``2007-11-13/2007-11-15``), as GBIF reads it,
  so that every reader sees the same interval; a short end without a zone takes the start's zone.
- Dates written the way a label or a legacy database writes them, read as ``source.date_order`` says:
  ``day-first`` (the default) reads ``03/04/2020``, ``03.04.2020`` or ``3-4-2020`` as 3 April 2020,
  ``month-first`` as 4 March 2020, ``iso-only`` reads none of them. A Roman month (``12.V.1887``, ``V.1887``)
  marks the month whatever the order, and so does a month name in any of the languages of ``mappers/months.py``
  (``12 juni 1998``, ``3 Sept. 1887``, ``juni 1998``); ``1887/05/12`` is year, month, day.

What is flagged (the value is not published; the original is kept in the verbatim term by the mapper):
a date that does not exist (``1887-02-30``, ``2020-W54``, ``2019-366``, ``25:00``), a value that contradicts
the date order (``04/13/2020`` under day-first) or that the order cannot read (``03/04/2020`` under iso-only),
an interval whose end is before its start (GBIF swaps the two; Mobilise does not guess), and an interval with
only a start or only an end (``/1967-06-17``, ``1967-06-17/``, an end column without a start): ISO 8601-1 has no
open interval in this form, and GBIF refuses such a range with RECORDED_DATE_MISMATCH, which Mobilise follows.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

DateOrder = Literal["day-first", "month-first", "iso-only"]
DATE_ORDERS: tuple[str, ...] = get_args(DateOrder)
DEFAULT_DATE_ORDER: DateOrder = "day-first"

from mobilise.mappers.months import ROMAN_MONTHS, month_from_word

# Written on a label or typed in a database to say "no date": treated as no value, not as a bad one.
NO_DATE = {"s.d.", "sd", "s.d", "n.d.", "nd", "n.d", "unknown", "onbekend", "inconnu", "?", "-", "--", "none",
           "null", "na", "n/a"}

# A time of day (hour, minute, second and a decimal fraction of the last, as precise as written) and a zone.
TIME = r"(?:[01]\d|2[0-3])(?::[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?)?"
ZONE = r"Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?"
_TIME_PART = rf"(?P<time>{TIME})(?P<zone>{ZONE})?"

_ISO = re.compile(rf"^(?P<y>\d{{4}})(?:-(?P<m>\d{{1,2}})(?:-(?P<d>\d{{1,2}})(?:[T ]{_TIME_PART})?)?)?$")
_ISO_BASIC = re.compile(rf"^(?P<y>\d{{4}})(?P<m>\d{{2}})(?P<d>\d{{2}})(?:T{_TIME_PART})?$")
_WEEK = re.compile(rf"^(?P<y>\d{{4}})-?W(?P<w>\d{{2}})(?:-?(?P<wd>\d))?(?:T{_TIME_PART})?$")
_ORDINAL = re.compile(rf"^(?P<y>\d{{4}})-?(?P<o>\d{{3}})(?:T{_TIME_PART})?$")
# Not ISO: read only as source.date_order says.
_NUMERIC_DMY = re.compile(r"^(?P<a>\d{1,2})[./-](?P<b>\d{1,2})[./-](?P<y>\d{4})$")
_ROMAN_DMY = re.compile(r"^(?P<d>\d{1,2})[./-](?P<m>[ivxIVX]+)[./-](?P<y>\d{4})$")
_MONTH_YEAR = re.compile(r"^(?P<m>\d{1,2}|[ivxIVX]+)[./-](?P<y>\d{4})$")
# a month written as a word, with or without its day: 12 juni 1998, 3 Sept. 1887, juni 1998 (mappers/months.py)
_WORD_MONTH = re.compile(r"^(?:(?P<d>\d{1,2})\.?\s+)?(?P<m>[^\W\d_]+\.?)\s+(?P<y>\d{4})$")
_YEAR_FIRST_SLASH = re.compile(r"^(?P<y>\d{4})[./](?P<m>\d{1,2})(?:[./](?P<d>\d{1,2}))?$")
# The short end of an interval: its leading parts are the start's.
_SHORT_END = re.compile(rf"^(?:(?:(?P<m>\d{{2}})-)?(?P<d>\d{{2}})(?:T{_TIME_PART})?"
                        rf"|{_TIME_PART.replace('?P<', '?P<t_')})$")
# EDTF's open and unknown ends (ISO 8601-2), outside Darwin Core's profile of ISO 8601-1.
_OPEN = {"", ".."}


class DateError(ValueError):
    """A value that is not a date Mobilise can read exactly."""


class OpenInterval(DateError):
    """An interval with only a start or only an end."""


@dataclass(frozen=True)
class Instant:
    """One date at the precision written: a year, a month, a day, or a day with a time (and zone)."""

    year: int
    month: int | None = None
    day: int | None = None
    time: str | None = None
    zone: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise DateError(f"year {self.year} is outside 0001-9999")
        if self.month is not None and not 1 <= self.month <= 12:
            raise DateError(f"month {self.month} does not exist")
        if self.day is not None and not 1 <= self.day <= calendar.monthrange(self.year, self.month)[1]:
            raise DateError(f"{self.year:04d}-{self.month:02d} has no day {self.day}")

    @classmethod
    def of_day(cls, day: date, time: str | None = None, zone: str | None = None) -> "Instant":
        return cls(day.year, day.month, day.day, time, zone)

    @property
    def iso(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        if self.time is not None:
            text += f"T{self.time}{self.zone or ''}"
        return text

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> date:
        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])

    def moment(self) -> datetime | None:
        """The date-time when a time is given (aware when a zone is), else None."""
        if self.time is None:
            return None
        zone = {"Z": "+00:00", None: ""}.get(self.zone, self.zone)
        if zone and len(zone) == 3:
            zone += ":00"
        elif zone and ":" not in zone:
            zone = f"{zone[:3]}:{zone[3:]}"
        time = self.time.replace(",", ".")
        if len(time) == 2:
            time += ":00"
        if "." in time:  # fromisoformat takes 3 or 6 decimals
            whole, fraction = time.split(".")
            time = f"{whole}.{(fraction + '000000')[:6]}"
        return datetime.fromisoformat(f"{self.first_day.isoformat()}T{time}{zone}")


def _month(text: str) -> int:
    """The month a number or a Roman numeral names; 0 (no month, so the date is flagged) for a Roman numeral that
    names none (XIII, IIII, VIV)."""
    return ROMAN_MONTHS.get(text.lower(), 0) if text.isalpha() else int(text)


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


def _week(match: re.Match) -> tuple[Instant, Instant]:
    year, week = int(match["y"]), int(match["w"])
    try:
        if match["wd"] is not None:
            day = Instant.of_day(date.fromisocalendar(year, week, int(match["wd"])), match["time"], match["zone"])
            return day, day
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise DateError(f"{year} has no week {match['w']}" + (f" day {match['wd']}" if match["wd"] else "")) from None
    if match["time"] is not None:
        raise DateError("a week without a day has no time")
    return Instant.of_day(monday), Instant.of_day(monday + timedelta(days=6))


def _ordinal(match: re.Match) -> Instant:
    year, ordinal = int(match["y"]), int(match["o"])
    if not 1 <= ordinal <= (366 if calendar.isleap(year) else 365):
        raise DateError(f"{year} has no day {ordinal}")
    return Instant.of_day(date(year, 1, 1) + timedelta(days=ordinal - 1), match["time"], match["zone"])


def parse_date(text: str, order: str = DEFAULT_DATE_ORDER) -> tuple[Instant, Instant]:
    """One date of any supported form as (first, last): the same Instant, except for a week without a day
    (its Monday and Sunday). Raises DateError for a value that is not a date or contradicts `order`."""
    text = text.strip()
    if match := _ISO.match(text) or _ISO_BASIC.match(text):
        instant = Instant(int(match["y"]), _int(match["m"]), _int(match["d"]), match["time"], match["zone"])
        return instant, instant
    if match := _WEEK.match(text):
        return _week(match)
    if match := _ORDINAL.match(text):
        instant = _ordinal(match)
        return instant, instant
    if order not in DATE_ORDERS:
        raise ValueError(f"date order must be one of {', '.join(DATE_ORDERS)}, not {order!r}")
    if order != "iso-only":
        instant = None
        if match := _NUMERIC_DMY.match(text):
            day, month = (match["a"], match["b"]) if order == "day-first" else (match["b"], match["a"])
            instant = Instant(int(match["y"]), int(month), int(day))
        elif match := _ROMAN_DMY.match(text):
            instant = Instant(int(match["y"]), _month(match["m"]), int(match["d"]))
        elif match := _MONTH_YEAR.match(text):
            instant = Instant(int(match["y"]), _month(match["m"]))
        elif (match := _WORD_MONTH.match(text)) and month_from_word(match["m"]):
            instant = Instant(int(match["y"]), month_from_word(match["m"]), _int(match["d"]))
        elif match := _YEAR_FIRST_SLASH.match(text):
            year, month = int(match["y"]), match["m"]
            if match["d"] is None and "/" in text and int(month) == (year + 1) % 10 ** len(month):
                # '2007/08', '2007/8', '2011/12': August 2007, or the season 2007-2008 of an expedition? Not
                # guessed: flagged, the text kept verbatim.
                raise DateError(f"'{text}' is a year and month or a season of two years")
            instant = Instant(year, int(month), _int(match["d"]))
        if instant is not None:
            return instant, instant
    raise DateError(f"'{text}' is not a date Mobilise can read" + (" (source.date_order is iso-only)"
                                                                     if order == "iso-only" else ""))


def _short_end(start: Instant, text: str) -> Instant | None:
    """The end of an interval written short (``15``, ``12-02``, ``15:30``, ``15T10:00``), its leading parts
    taken from the start and its zone, when not written, the start's; None when `text` is not a short form."""
    match = _SHORT_END.match(text)
    if match is None:
        return None
    if match["t_time"] is not None:  # a time only: same day
        if start.time is None:
            raise DateError(f"'{text}' is a time but the start has none")
        return replace(start, time=match["t_time"], zone=match["t_zone"] or start.zone)
    month, day = _int(match["m"]), int(match["d"])
    if match["time"] is not None:
        if start.time is None:
            raise DateError(f"'{text}' has a time but the start has none")
        return Instant(start.year, month or start.month, day, match["time"], match["zone"] or start.zone)
    if start.time is not None:
        raise DateError(f"'{text}' has no time but the start has one")
    if start.day is not None:
        return Instant(start.year, month or start.month, day)
    if start.month is not None and month is None:  # 2007-11/12: the two digits are the month
        return Instant(start.year, day)
    raise DateError(f"'{text}' cannot shorten the end of an interval that starts '{start.iso}'")


def _before(end: Instant, start: Instant) -> bool:
    """Does `end` lie wholly before `start`? Times are compared when both sides have one and both or neither
    have a zone; otherwise the days."""
    if end.last_day != start.first_day or end.time is None or start.time is None:
        return end.last_day < start.first_day
    first, last = start.moment(), end.moment()
    if (first.tzinfo is None) != (last.tzinfo is None):
        return False  # local time against a zone: not comparable, not contradicting
    return last < first


def _text(first: Instant, last: Instant) -> str:
    return first.iso if last == first else f"{first.iso}/{last.iso}"


def _interval(start: str | None, end: str | None, order: str) -> str | None:
    """ISO 8601 text of a date or interval, None for no date; raises DateError (OpenInterval for a missing side)."""
    if is_no_date(start) and is_no_date(end):
        return None
    if is_no_date(start):
        raise OpenInterval(f"an end ('{end}') without a start")
    if is_no_date(end) and "/" in start:
        try:  # 12/05/1887, 1887/05/12 and 1887/05 are single dates, not intervals
            return _text(*parse_date(start, order))
        except DateError:
            pass
        if start.count("/") != 1:
            raise DateError(f"'{start}' is neither a date nor an interval")
        start, end = (part.strip() for part in start.split("/"))
        if start in _OPEN or end in _OPEN:
            raise OpenInterval(f"'{start}/{end}' has no {'start' if start in _OPEN else 'end'}")
    first, last = parse_date(start, order)
    if is_no_date(end):
        return _text(first, last)
    end = end.strip()
    if end in _OPEN:
        raise OpenInterval(f"'{start}' has no end")
    last = _short_end(first, end) or parse_date(end, order)[1]
    if _before(last, first):
        raise DateError(f"the end '{end}' is before the start '{start}'")
    return _text(first, last)


def is_no_date(text: str | None) -> bool:
    return text is None or text.strip().lower() in NO_DATE or not text.strip()


@lru_cache(maxsize=65_536)
def interpret_event_date(start: str | None, end: str | None = None, order: str = DEFAULT_DATE_ORDER
                         ) -> tuple[str | None, tuple[str, ...]]:
    """(ISO 8601 date or interval, flags) for eventDate from a value (or an interval's start) and an optional end.

    RECORDED_DATE_INVALID for a value that is not a date, does not exist, contradicts `order` (a DateOrder), or
    ends before it starts; RECORDED_DATE_MISMATCH, as GBIF flags it, for an interval with only a start or an end.
    """
    try:
        return _interval(start, end, order), ()
    except OpenInterval:
        return None, ("RECORDED_DATE_MISMATCH",)
    except DateError:
        return None, ("RECORDED_DATE_INVALID",)


@lru_cache(maxsize=65_536)
def interpret_date(text: str | None, invalid_flag: str, order: str = DEFAULT_DATE_ORDER
                   ) -> tuple[str | None, tuple[str, ...]]:
    """A date of a term that has no end column (dateIdentified, modified, georeferencedDate): read as eventDate
    reads a value (an interval included: Darwin Core gives dateIdentified eventDate's examples), any fault
    flagged with `invalid_flag`."""
    try:
        return _interval(text, None, order), ()
    except DateError:
        return None, (invalid_flag,)


def bounds(iso: str) -> tuple[date, date]:
    """First and last day of a published date or interval (``1970/1984`` -> 1970-01-01, 1984-12-31;
    ``2010-02`` -> 2010-02-01, 2010-02-28). Raises DateError for text that is not one."""
    first, _, last = iso.partition("/")
    return parse_date(first, "iso-only")[0].first_day, parse_date(last or first, "iso-only")[1].last_day


# --- dates assembled from parts: year/month/day columns, or a date and DaRWIN's precision mask ---------------------
# Vectorised over Arrow arrays (the text of source columns, null for empty): the result is ISO 8601 text at the
# precision known, which the term's date interpreter then reads as it reads any date (month 13 or 31 April are
# flagged there), or a row marked invalid here, for what is no date at all (a part that is not a number, a day
# without a month, a mask DaRWIN does not write). Nothing is guessed.

#: DaRWIN's FuzzyDateTime masks: year 32, month 16, day 8, hour 4, minute 2, second 1, summed over the parts
#: known, always from the year down -> how many leading parts of the date are known (0: an unknown date, no value)
DARWIN_MASKS = {0: 0, 32: 1, 48: 2, 56: 3, 60: 4, 62: 5, 63: 6}
#: Specify's partial date precision (UIFieldFormatterIFace.PartialDateEnum: Full 1, Month 2, Year 3, stored as
#: StartDatePrecision / EndDatePrecision / DeterminedDatePrecision) -> how many leading parts are known
SPECIFY_PRECISIONS = {1: 3, 2: 2, 3: 1}

_DIGITS = r"^[0-9]+$"
# a date, a timestamp (as a database or Arrow writes one: '1998-04-01 00:00:00.000000'); a UTC 'Z' (timestamptz)
# is dropped with the time it belongs to, and kept on a time the mask says is known
_TIMESTAMP = (r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
              r"(?:[T ](?P<H>[0-9]{2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.[0-9]+)?)?(?P<Z>Z)?)?$")


@dataclass(frozen=True)
class AssembledDates:
    """Dates assembled from parts, per row: `values` ISO 8601 text for the date interpreter (null: no date, or an
    invalid row), `originals` the source's parts as one text (for the verbatim term and the issue; null where the
    source gave nothing), `invalid` the rows whose parts are no date (to flag with the term's date flag)."""

    values: "pa.Array"
    originals: "pa.Array"
    invalid: "np.ndarray"


def _mask(array) -> "np.ndarray":
    import pyarrow.compute as pc

    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def assemble_parts(year, month=None, day=None) -> AssembledDates:
    """ISO 8601 dates from year, month and day columns (Arrow text arrays, null when empty; month and day may be
    None): ``1998``, ``1998-04``, ``1998-04-12``. A row is invalid when a part is not a number, the year has not
    four digits, a month or day more than two, or a part is given without the one above it (a day without a
    month). Month and day ranges (13, 31 April, 0) are left to the date interpreter, which flags them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    size = len(year)
    parts = [year, month if month is not None else pa.nulls(size, pa.string()),
             day if day is not None else pa.nulls(size, pa.string())]
    given = [_mask(pc.is_valid(p)) for p in parts]
    widths = [(4, 4), (1, 2), (1, 2)]
    bad = np.zeros(size, dtype=bool)
    for part, present, (low, high) in zip(parts, given, widths):
        digits = _mask(pc.match_substring_regex(part, _DIGITS))
        length = pc.fill_null(pc.utf8_length(part), 0).to_numpy(zero_copy_only=False)
        bad |= present & ~(digits & (length >= low) & (length <= high))
    bad |= given[1] & ~given[0]
    bad |= given[2] & ~given[1]
    padded = [parts[0], pc.utf8_lpad(parts[1], 2, "0"), pc.utf8_lpad(parts[2], 2, "0")]
    values = _join_present_parts(padded)
    values = pc.if_else(pa.array(bad), pa.scalar(None, pa.string()), values)
    # the original: the parts as given, '-' between them, an empty part left empty ('1998--12'), none: null
    empty = pa.scalar("", pa.string())
    originals = pc.binary_join_element_wise(*[pc.fill_null(p, "") for p in parts], "-")
    originals = pc.utf8_rtrim(originals, "-")
    originals = pc.if_else(pc.equal(originals, empty), pa.scalar(None, pa.string()), originals)
    return AssembledDates(values, originals, bad)


def _join_present_parts(parts: list) -> "pa.Array":
    """year[-month[-day]] of the leading parts present (a gap ends the date; such rows are invalid anyway)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = parts[0]
    for part in parts[1:]:
        longer = pc.binary_join_element_wise(text, part, "-")
        text = pc.if_else(pc.is_valid(longer), longer, text)
    return pc.cast(text, pa.string())


def apply_mask(dates, masks, known_parts: dict[int, int] | None = None) -> AssembledDates:
    """ISO 8601 dates from a date or timestamp column and DaRWIN's precision mask column (Arrow text arrays,
    null when empty): the parts the mask says are known, the rest dropped (``1998-04-01 00:00:00`` with mask 48
    gives ``1998-04``; mask 0 gives no date, whatever the column holds, as DaRWIN stores 0001-01-01 there).

    A row is invalid when the mask is not one DaRWIN writes (:data:`DARWIN_MASKS`; 40, year and day without the
    month, is not), a date is given without a mask (its precision is unknown), a mask says more than the date
    holds (a time of day it lacks), or the date is not ``YYYY-MM-DD[ hh:mm[:ss]]``. `known_parts` maps another
    system's precision codes the same way (:data:`SPECIFY_PRECISIONS`); DaRWIN's by default."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    size = len(dates)
    has_date = _mask(pc.is_valid(dates))
    has_mask = _mask(pc.is_valid(masks))
    numeric = _mask(pc.match_substring_regex(masks, _DIGITS))
    mask_values = np.full(size, -1, dtype=np.int64)
    if numeric.any():
        rows = np.flatnonzero(numeric)
        mask_values[rows] = pc.cast(masks.take(pa.array(rows)), pa.int64()).to_numpy(zero_copy_only=False)
    known = np.full(size, -1, dtype=np.int64)
    for mask, count in (DARWIN_MASKS if known_parts is None else known_parts).items():
        known[mask_values == mask] = count
    unknown_date = known == 0
    bad = (has_mask & (known < 0)) | (has_date & ~has_mask)
    matched = _mask(pc.match_substring_regex(dates, _TIMESTAMP))
    bad |= has_date & (known > 0) & ~matched
    bad |= ~has_date & (known > 0)  # a mask that says something is known, without the date
    fields = pc.extract_regex(pc.if_else(pa.array(matched), dates, pa.scalar("0000-00-00")), _TIMESTAMP)
    pieces = [fields.field(name) for name in ("y", "m", "d", "H", "M", "S")]
    has = [_mask(pc.is_valid(p)) for p in pieces]
    values = pa.nulls(size, pa.string())
    for count in range(1, 7):
        rows = (known == count) & matched & ~bad
        lacking = rows & ~has[count - 1]
        bad |= lacking
        rows &= ~lacking
        if not rows.any():
            continue
        text = pieces[0]
        for index in range(1, count):
            separator = "-" if index < 3 else ("T" if index == 3 else ":")
            text = pc.binary_join_element_wise(text, pieces[index], separator)
        if count > 3:
            text = pc.binary_join_element_wise(text, pc.fill_null(fields.field("Z"), ""), "")
        values = pc.if_else(pa.array(rows), text, values)
    values = pc.if_else(pa.array(bad | unknown_date), pa.scalar(None, pa.string()), values)
    mask_text = pc.binary_join_element_wise(pa.scalar("(mask "), masks, pa.scalar(")"), "")
    originals = pc.coalesce(pc.binary_join_element_wise(dates, mask_text, " "), dates, mask_text)
    return AssembledDates(pc.cast(values, pa.string()), originals, bad)
