"""BDQ core tests for the TIME information element (23 single-record tests of TG2_tests.csv).

Each test follows the ``ExpectedResponse`` text of TG2_tests.csv. ISO 8601 parsing lives in ``time_iso`` and the
lenient reading of free-text dates in ``time_verbatim``; both cache their results, so a dataset with repeated
values parses each distinct value once.

Rows of the official validation data that disagree with the current specification (left failing on purpose):

* dataID 682 (AMENDMENT_EVENTDATE_FROM_VERBATIM, verbatimEventDate "X"): expects INTERNAL_PREREQUISITES_NOT_MET.
  The current specification has that status only for a non-empty dwc:eventDate or an empty verbatimEventDate;
  an uninterpretable value gives NOT_AMENDED. The row follows the 2023-03-27 version, whose prerequisites also
  named "not unambiguously interpretable".
* dataID 1052 (AMENDMENT_EVENTDATE_FROM_YEARSTARTDAYOFYEARENDDAYOFYEAR, year "X"): expects
  INTERNAL_PREREQUISITES_NOT_MET. The specification has that status only for a non-empty dwc:eventDate or an empty
  year/startDayOfYear/endDayOfYear; values that are not interpretable give NOT_AMENDED.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from time import time as _clock

from mobilise.validators.bdq.core import (
    NOT_REPORTED, Response, Status, amended, bdq_test, compliant, external_prerequisites_not_met, filled_in, is_empty,
    not_amended, not_compliant, prerequisites_not_met,
)
from mobilise.validators.bdq.time_iso import Interval, is_leap, parse_interval
from mobilise.mappers.months import month_from_word
from mobilise.validators.bdq.time_verbatim import interpret_date

# Responses are immutable and most comments repeat for every distinct input (batch.run_bdq calls a test once per
# distinct value): the constructors of responses without a proposal hand out one shared Response per comment.
compliant, not_compliant, prerequisites_not_met, external_prerequisites_not_met, not_amended = (
    lru_cache(maxsize=4096)(_make) for _make in (compliant, not_compliant, prerequisites_not_met,
                                                 external_prerequisites_not_met, not_amended))


_INT = re.compile(r"\s*[+-]?\d+\s*")
_DAY_TEXT = re.compile(r"\s*0*(\d{1,2})\s*(?:st|nd|rd|th)?\.?\s*", re.IGNORECASE)
_MONTH_NUMBER = re.compile(r"\s*0*(\d{1,2})\.?\s*")
_EVENT_TERMS = ("dwc:eventDate", "dwc:year", "dwc:month", "dwc:day", "dwc:startDayOfYear", "dwc:endDayOfYear")


def _as_int(value: str | None) -> int | None:
    """The integer a value spells (surrounding blanks allowed), else None."""
    return int(value) if value and _INT.fullmatch(value) else None


_TODAY: list = [None, float("-inf")]  # [today's date, time.time() of the next local midnight]


def _today() -> date:
    """date.today(), looked up again only once the local day is over (the tests ask for it on every call)."""
    if _clock() >= _TODAY[1]:
        today = date.today()
        _TODAY[:] = [today, datetime.combine(today + timedelta(days=1), datetime.min.time()).timestamp()]
    return _TODAY[0]


def _resolve_date_parameter(value: str, today: date | None = None) -> str:
    """Replace the "{current year}"/"{current day}" defaults by today's value, computed at call time."""
    key = value.strip().lower()
    if key == "{current year}":
        return str((today or _today()).year)
    if key == "{current day}":
        return (today or _today()).isoformat()
    return value.strip()


def _date_bounds(earliest: str, latest: str) -> tuple[Interval, Interval] | None:
    return _date_bounds_on(earliest, latest, _today())


@lru_cache(maxsize=256)
def _date_bounds_on(earliest: str, latest: str, today: date) -> tuple[Interval, Interval] | None:
    low = parse_interval(_resolve_date_parameter(earliest, today))
    high = parse_interval(_resolve_date_parameter(latest, today))
    return (low, high) if low and high else None


def _measure_not_reported(comment: str) -> Response:
    return Response(Status.INTERNAL_PREREQUISITES_NOT_MET, NOT_REPORTED, comment)


# --- completeness ---------------------------------------------------------------------------------------------

@bdq_test("f51e15a6-a67d-4729-9c28-3766299d2985", "VALIDATION_EVENTDATE_NOTEMPTY", "Validation",
          acted_upon=("dwc:eventDate",))
def validation_eventdate_notempty(record, **params) -> Response:
    if is_empty(record.get("dwc:eventDate")):
        return not_compliant("dwc:eventDate is bdqval:Empty")
    return compliant("dwc:eventDate is bdqval:NotEmpty")


@bdq_test("c09ecbf9-34e3-4f3e-b74a-8796af15e59f", "VALIDATION_YEAR_NOTEMPTY", "Validation",
          acted_upon=("dwc:year",))
def validation_year_notempty(record, **params) -> Response:
    if is_empty(record.get("dwc:year")):
        return not_compliant("dwc:year is bdqval:Empty")
    return compliant("dwc:year is bdqval:NotEmpty")


@bdq_test("41267642-60ff-4116-90eb-499fee2cd83f", "VALIDATION_EVENTTEMPORAL_NOTEMPTY", "Validation",
          acted_upon=_EVENT_TERMS + ("dwc:verbatimEventDate",))
def validation_eventtemporal_notempty(record, **params) -> Response:
    filled = [t for t in _EVENT_TERMS + ("dwc:verbatimEventDate",) if not is_empty(record.get(t))]
    if filled:
        return compliant(f"{', '.join(filled)} bdqval:NotEmpty")
    return not_compliant("all temporal terms of the event are bdqval:Empty")


# --- eventDate / dateIdentified conformance ---------------------------------------------------------------------

def _standard(record, term: str) -> Response:
    value = record.get(term)
    if is_empty(value):
        return prerequisites_not_met(f"{term} is bdqval:Empty")
    if parse_interval(value):
        return compliant(f"{term} is a valid ISO 8601 date")
    return not_compliant(f"{term} [{value}] is not a valid ISO 8601 date")


@bdq_test("4f2bf8fd-fc5c-493f-a44c-e7b16153c803", "VALIDATION_EVENTDATE_STANDARD", "Validation",
          acted_upon=("dwc:eventDate",))
def validation_eventdate_standard(record, **params) -> Response:
    return _standard(record, "dwc:eventDate")


@bdq_test("66269bdd-9271-4e76-b25c-7ab81eebe1d8", "VALIDATION_DATEIDENTIFIED_STANDARD", "Validation",
          acted_upon=("dwc:dateIdentified",))
def validation_dateidentified_standard(record, **params) -> Response:
    return _standard(record, "dwc:dateIdentified")


def _standardized(record, term: str) -> Response:
    value = record.get(term)
    if is_empty(value):
        return prerequisites_not_met(f"{term} is bdqval:Empty")
    if parse_interval(value):
        return not_amended(f"{term} is already a valid ISO 8601 date")
    proposed = interpret_date(value)
    if proposed is None or proposed == value:
        return not_amended(f"{term} [{value}] cannot be unambiguously interpreted as an ISO 8601 date")
    return amended({term: proposed}, f"{term} [{value}] interpreted as [{proposed}]")


@bdq_test("718dfc3c-cb52-4fca-b8e2-0e722f375da7", "AMENDMENT_EVENTDATE_STANDARDIZED", "Amendment",
          acted_upon=("dwc:eventDate",))
def amendment_eventdate_standardized(record, **params) -> Response:
    return _standardized(record, "dwc:eventDate")


@bdq_test("39bb2280-1215-447b-9221-fd13bc990641", "AMENDMENT_DATEIDENTIFIED_STANDARDIZED", "Amendment",
          acted_upon=("dwc:dateIdentified",))
def amendment_dateidentified_standardized(record, **params) -> Response:
    return _standardized(record, "dwc:dateIdentified")


# --- ranges -----------------------------------------------------------------------------------------------------

@bdq_test("3cff4dc4-72e9-4abe-9bf3-8a30f1618432", "VALIDATION_EVENTDATE_INRANGE", "Validation",
          acted_upon=("dwc:eventDate",),
          parameters={"bdqval:earliestValidDate": "1582-11-15", "bdqval:latestValidDate": "{current year}"})
def validation_eventdate_inrange(record, earliestValidDate="1582-11-15", latestValidDate="{current year}",
                                 **params) -> Response:
    value = record.get("dwc:eventDate")
    if is_empty(value):
        return prerequisites_not_met("dwc:eventDate is bdqval:Empty")
    interval = parse_interval(value)
    if interval is None:
        return prerequisites_not_met(f"dwc:eventDate [{value}] is not a valid ISO 8601 date")
    bounds = _date_bounds(earliestValidDate, latestValidDate)
    if bounds is None:
        return prerequisites_not_met(f"invalid range parameters [{earliestValidDate}] to [{latestValidDate}]")
    low, high = bounds
    if interval.begin >= low.begin and interval.finish <= high.finish:
        return compliant(f"dwc:eventDate is within {earliestValidDate} to {latestValidDate}")
    return not_compliant(f"dwc:eventDate [{value}] is not entirely within {earliestValidDate} to {latestValidDate}")


@bdq_test("dc8aae4b-134f-4d75-8a71-c4186239178e", "VALIDATION_DATEIDENTIFIED_INRANGE", "Validation",
          acted_upon=("dwc:dateIdentified",), consulted=("dwc:eventDate",),
          parameters={"bdqval:earliestValidDate": "1753-01-01", "bdqval:latestValidDate": "{current day}",
                      "bdqval:includeEventDate": "true"})
def validation_dateidentified_inrange(record, earliestValidDate="1753-01-01", latestValidDate="{current day}",
                                      includeEventDate="true", **params) -> Response:
    value, event_value = record.get("dwc:dateIdentified"), record.get("dwc:eventDate")
    if is_empty(value):
        return prerequisites_not_met("dwc:dateIdentified is bdqval:Empty")
    identified = parse_interval(value)
    if identified is None:
        return prerequisites_not_met(f"dwc:dateIdentified [{value}] is not a valid ISO 8601 date")
    use_event = _is_true(includeEventDate) and not is_empty(event_value)
    event = parse_interval(event_value) if use_event else None
    if use_event and event is None:
        return prerequisites_not_met(f"dwc:eventDate [{event_value}] is not a valid ISO 8601 date")
    bounds = _date_bounds(earliestValidDate, latestValidDate)
    if bounds is None:
        return prerequisites_not_met(f"invalid range parameters [{earliestValidDate}] to [{latestValidDate}]")
    low, high = bounds
    if not (identified.begin >= low.begin and identified.finish <= high.finish):
        return not_compliant(f"dwc:dateIdentified [{value}] is outside {earliestValidDate} to {latestValidDate}")
    if event is not None and identified.last < event.begin:
        return not_compliant(f"dwc:dateIdentified [{value}] is before dwc:eventDate [{event_value}]")
    return compliant("dwc:dateIdentified is in range")


@lru_cache(maxsize=64)
def _is_true(value) -> bool:
    return str(value).strip().lower() == "true"


def _year_parameter(value: str) -> int | None:
    text = _resolve_date_parameter(value)
    number = _as_int(text)
    if number is not None:
        return number
    interval = parse_interval(text)
    return interval.first_day.year if interval else None


@bdq_test("ad0c8855-de69-4843-a80c-a5387d20fbc8", "VALIDATION_YEAR_INRANGE", "Validation",
          acted_upon=("dwc:year",),
          parameters={"bdqval:earliestValidDate": "1582", "bdqval:latestValidDate": "{current year}"})
def validation_year_inrange(record, earliestValidDate="1582", latestValidDate="{current year}",
                            **params) -> Response:
    value = record.get("dwc:year")
    if is_empty(value):
        return prerequisites_not_met("dwc:year is bdqval:Empty")
    year = _as_int(value)
    if year is None:
        return prerequisites_not_met(f"dwc:year [{value}] cannot be interpreted as an integer")
    low, high = _year_parameter(earliestValidDate), _year_parameter(latestValidDate)
    if low is None or high is None:
        return prerequisites_not_met(f"invalid range parameters [{earliestValidDate}] to [{latestValidDate}]")
    if low <= year <= high:
        return compliant(f"dwc:year is within {low} to {high}")
    return not_compliant(f"dwc:year [{value}] is outside {low} to {high}")


@bdq_test("47ff73ba-0028-4f79-9ce1-ee7008d66498", "VALIDATION_DAY_STANDARD", "Validation",
          acted_upon=("dwc:day",))
def validation_day_standard(record, **params) -> Response:
    value = record.get("dwc:day")
    if is_empty(value):
        return prerequisites_not_met("dwc:day is bdqval:Empty")
    day = _as_int(value)
    if day is not None and 1 <= day <= 31:
        return compliant("dwc:day is an integer between 1 and 31")
    return not_compliant(f"dwc:day [{value}] is not an integer between 1 and 31")


@bdq_test("01c6dafa-0886-4b7e-9881-2c3018c98bdc", "VALIDATION_MONTH_STANDARD", "Validation",
          acted_upon=("dwc:month",))
def validation_month_standard(record, **params) -> Response:
    value = record.get("dwc:month")
    if is_empty(value):
        return prerequisites_not_met("dwc:month is bdqval:Empty")
    month = _as_int(value)
    if month is not None and 1 <= month <= 12:
        return compliant("dwc:month is an integer between 1 and 12")
    return not_compliant(f"dwc:month [{value}] is not an integer between 1 and 12")


_THIRTY_DAY_MONTHS = {4, 6, 9, 11}
_THIRTY_ONE_DAY_MONTHS = {1, 3, 5, 7, 8, 10, 12}


@bdq_test("8d787cb5-73e2-4c39-9cd1-67c7361dc02e", "VALIDATION_DAY_INRANGE", "Validation",
          acted_upon=("dwc:day", "dwc:month", "dwc:year"))
def validation_day_inrange(record, **params) -> Response:
    value = record.get("dwc:day")
    if is_empty(value):
        return prerequisites_not_met("dwc:day is bdqval:Empty")
    day = _as_int(value)
    if day is None:
        return prerequisites_not_met(f"dwc:day [{value}] is not interpretable as an integer")
    month, year = _as_int(record.get("dwc:month")), _as_int(record.get("dwc:year"))
    if 29 <= day <= 31 and not (month is not None and 1 <= month <= 12):
        return prerequisites_not_met("dwc:day is 29-31 and dwc:month is not an integer between 1 and 12")
    if month == 2 and day == 29 and not (year is not None and 1 <= year <= 9999):
        return prerequisites_not_met("dwc:day is 29 of February and dwc:year is not a valid year")
    fits = (1 <= day <= 28
            or (29 <= day <= 30 and month in _THIRTY_DAY_MONTHS)
            or (29 <= day <= 31 and month in _THIRTY_ONE_DAY_MONTHS)
            or (day == 29 and month == 2 and is_leap(year)))
    if fits:
        return compliant("dwc:day is in range for the month and year")
    return not_compliant(f"dwc:day [{value}] is not a day of the given month and year")


def _day_of_year_inrange(record, term: str, which: str) -> Response:
    value = record.get(term)
    if is_empty(value):
        return prerequisites_not_met(f"{term} is bdqval:Empty")
    number = _as_int(value)
    if number is not None and 1 <= number <= 365:
        return compliant(f"{term} is between 1 and 365")
    if number != 366:
        return not_compliant(f"{term} [{value}] is not an integer between 1 and 366")
    interval = parse_interval(record.get("dwc:eventDate"))
    if interval is None:
        return prerequisites_not_met(f"{term} is 366 and no {which} year can be found in dwc:eventDate")
    year = interval.first_day.year if which == "start" else interval.last_day.year
    if is_leap(year):
        return compliant(f"{term} is 366 and {year} is a leap year")
    return not_compliant(f"{term} is 366 but {year} is not a leap year")


@bdq_test("85803c7e-2a5a-42e1-b8d3-299a44cafc46", "VALIDATION_STARTDAYOFYEAR_INRANGE", "Validation",
          acted_upon=("dwc:startDayOfYear",), consulted=("dwc:eventDate",))
def validation_startdayofyear_inrange(record, **params) -> Response:
    return _day_of_year_inrange(record, "dwc:startDayOfYear", "start")


@bdq_test("9a39d88c-7eee-46df-b32a-c109f9f81fb8", "VALIDATION_ENDDAYOFYEAR_INRANGE", "Validation",
          acted_upon=("dwc:endDayOfYear",), consulted=("dwc:eventDate",))
def validation_enddayofyear_inrange(record, **params) -> Response:
    return _day_of_year_inrange(record, "dwc:endDayOfYear", "end")


# --- consistency between eventDate and the atomic terms -----------------------------------------------------------

def _day_of_year(day: date) -> int:
    return day.toordinal() - date(day.year, 1, 1).toordinal() + 1  # timetuple().tm_yday, without the tuple


def _atomic_from_interval(interval: Interval) -> dict[str, int]:
    """The atomic term values an eventDate determines: year/month/day only when it lies within one such unit,
    day-of-year values only when both ends are given to the day."""
    first, last = interval.first_day, interval.last_day
    values = {}
    if first.year == last.year:
        values["dwc:year"] = first.year
        if first.month == last.month:
            values["dwc:month"] = first.month
            if first.day == last.day:
                values["dwc:day"] = first.day
    if interval.day_precision:
        values["dwc:startDayOfYear"] = _day_of_year(first)
        values["dwc:endDayOfYear"] = _day_of_year(last)
    return values


@lru_cache(maxsize=65536)
def _atomic_of(value: str) -> dict[str, int]:
    """_atomic_from_interval of an eventDate text ({} when it is not ISO 8601), cached; callers must not change it."""
    interval = parse_interval(value)
    return _atomic_from_interval(interval) if interval else {}


@bdq_test("5618f083-d55a-4ac2-92b5-b9fb227b832f", "VALIDATION_EVENT_CONSISTENT", "Validation",
          acted_upon=_EVENT_TERMS)
def validation_event_consistent(record, **params) -> Response:
    value = record.get("dwc:eventDate")
    if is_empty(value):
        return prerequisites_not_met("dwc:eventDate is bdqval:Empty")
    provided = {t: record.get(t) for t in _EVENT_TERMS[1:] if not is_empty(record.get(t))}
    if not provided:
        return prerequisites_not_met("dwc:year, dwc:month, dwc:day, dwc:startDayOfYear, dwc:endDayOfYear "
                                     "are all bdqval:Empty")
    expected = _atomic_of(value)
    mismatched = [t for t, v in provided.items() if t not in expected or _as_int(v) != expected[t]]
    if mismatched:
        return not_compliant(f"{', '.join(mismatched)} not consistent with dwc:eventDate [{value}]")
    return compliant("the provided atomic terms are consistent with dwc:eventDate")


@bdq_test("710fe118-17e1-440f-b428-88ba3f547d6d", "AMENDMENT_EVENT_FROM_EVENTDATE", "Amendment",
          acted_upon=_EVENT_TERMS[1:], consulted=("dwc:eventDate",))
def amendment_event_from_eventdate(record, **params) -> Response:
    value = record.get("dwc:eventDate")
    if is_empty(value):
        return prerequisites_not_met("dwc:eventDate is bdqval:Empty")
    interval = parse_interval(value)
    if interval is None:
        return prerequisites_not_met(f"dwc:eventDate [{value}] is not a valid ISO 8601 date")
    changes = {t: str(v) for t, v in _atomic_of(value).items() if is_empty(record.get(t))}
    if not changes:
        return not_amended("no empty term can be filled in from dwc:eventDate")
    return filled_in(changes, f"{', '.join(changes)} filled in from dwc:eventDate [{value}]")


# --- eventDate from other terms -----------------------------------------------------------------------------------

@bdq_test("6d0a0c10-5e4a-4759-b448-88932f399812", "AMENDMENT_EVENTDATE_FROM_VERBATIM", "Amendment",
          acted_upon=("dwc:eventDate",), consulted=("dwc:verbatimEventDate",))
def amendment_eventdate_from_verbatim(record, **params) -> Response:
    if not is_empty(record.get("dwc:eventDate")):
        return prerequisites_not_met("dwc:eventDate is bdqval:NotEmpty")
    verbatim = record.get("dwc:verbatimEventDate")
    if is_empty(verbatim):
        return prerequisites_not_met("dwc:verbatimEventDate is bdqval:Empty")
    proposed = interpret_date(verbatim)
    if proposed is None:
        return not_amended(f"dwc:verbatimEventDate [{verbatim}] cannot be unambiguously interpreted as a date")
    comment = f"dwc:eventDate interpreted from dwc:verbatimEventDate [{verbatim}]"
    if proposed[:10] < "1918-02-14":
        comment += "; verbatimEventDate was assumed to be in the Gregorian calendar"
    return filled_in({"dwc:eventDate": proposed}, comment)


def _month_value(value: str | None) -> int | None:
    """Month 1-12 from a number, month name or Roman numeral, else None."""
    if is_empty(value):
        return None
    match = _MONTH_NUMBER.fullmatch(value)
    month = int(match[1]) if match else month_from_word(value)
    return month if month and 1 <= month <= 12 else None


def _day_value(value: str | None) -> int | None:
    """Day 1-31 from a number, optionally with an ordinal suffix ("3rd"), else None."""
    match = _DAY_TEXT.fullmatch(value or "")
    day = int(match[1]) if match else None
    return day if day and 1 <= day <= 31 else None


@bdq_test("3892f432-ddd0-4a0a-b713-f2e2ecbd879d", "AMENDMENT_EVENTDATE_FROM_YEARMONTHDAY", "Amendment",
          acted_upon=("dwc:eventDate",), consulted=("dwc:year", "dwc:month", "dwc:day"))
def amendment_eventdate_from_yearmonthday(record, **params) -> Response:
    if not is_empty(record.get("dwc:eventDate")):
        return prerequisites_not_met("dwc:eventDate is bdqval:NotEmpty")
    raw_year = record.get("dwc:year")
    if is_empty(raw_year):
        return prerequisites_not_met("dwc:year is bdqval:Empty")
    year = _as_int(raw_year)
    if year is None:
        return prerequisites_not_met(f"dwc:year [{raw_year}] is not interpretable as an integer")
    if not 1 <= year <= 9999:
        return not_amended(f"dwc:year [{raw_year}] is not a valid ISO 8601 year")
    # Keep the precision given: a month that cannot be read leaves just the year, a day that cannot be read
    # leaves year-month; a day that does not exist in that month is an error, not a loss of precision.
    month = _month_value(record.get("dwc:month"))
    day = _day_value(record.get("dwc:day")) if month else None
    if month is None:
        proposed = f"{year:04d}"
    elif day is None:
        proposed = f"{year:04d}-{month:02d}"
    else:
        try:
            proposed = date(year, month, day).isoformat()
        except ValueError:
            return not_amended(f"dwc:year, dwc:month, dwc:day [{raw_year}-{month}-{day}] is not a valid date")
    return filled_in({"dwc:eventDate": proposed}, "dwc:eventDate interpreted from dwc:year, dwc:month, dwc:day")


@bdq_test("eb0a44fa-241c-4d64-98df-ad4aa837307b", "AMENDMENT_EVENTDATE_FROM_YEARSTARTDAYOFYEARENDDAYOFYEAR",
          "Amendment", acted_upon=("dwc:eventDate",),
          consulted=("dwc:year", "dwc:startDayOfYear", "dwc:endDayOfYear"))
def amendment_eventdate_from_yearstartdayofyearenddayofyear(record, **params) -> Response:
    if not is_empty(record.get("dwc:eventDate")):
        return prerequisites_not_met("dwc:eventDate is bdqval:NotEmpty")
    terms = ("dwc:year", "dwc:startDayOfYear", "dwc:endDayOfYear")
    empty = [t for t in terms if is_empty(record.get(t))]
    if empty:
        return prerequisites_not_met(f"{', '.join(empty)} bdqval:Empty")
    year, start, end = (_as_int(record.get(t)) for t in terms)
    if year is None or not 1 <= year <= 9999:
        return not_amended(f"dwc:year [{record.get('dwc:year')}] is not interpretable as a year")
    days_in_year = 366 if is_leap(year) else 365
    if start is None or end is None or not (1 <= start < end <= days_in_year):
        return not_amended("dwc:startDayOfYear and dwc:endDayOfYear are not days of the year with start < end")
    first = date(year, 1, 1)
    proposed = f"{first + timedelta(days=start - 1)}/{first + timedelta(days=end - 1)}"
    return filled_in({"dwc:eventDate": proposed},
                     "dwc:eventDate interpreted from dwc:year, dwc:startDayOfYear, dwc:endDayOfYear")


# --- atomic term standardization ----------------------------------------------------------------------------------

@bdq_test("b129fa4d-b25b-43f7-9645-5ed4d44b357b", "AMENDMENT_DAY_STANDARDIZED", "Amendment",
          acted_upon=("dwc:day",))
def amendment_day_standardized(record, **params) -> Response:
    value = record.get("dwc:day")
    if is_empty(value):
        return prerequisites_not_met("dwc:day is bdqval:Empty")
    day = _day_value(value)
    if day is None:
        return not_amended(f"dwc:day [{value}] cannot be unambiguously interpreted as a day 1-31")
    if value == str(day):
        return not_amended("dwc:day is already an integer between 1 and 31")
    return amended({"dwc:day": str(day)}, f"dwc:day [{value}] interpreted as {day}")


@bdq_test("2e371d57-1eb3-4fe3-8a61-dff43ced50cf", "AMENDMENT_MONTH_STANDARDIZED", "Amendment",
          acted_upon=("dwc:month",))
def amendment_month_standardized(record, **params) -> Response:
    value = record.get("dwc:month")
    if is_empty(value):
        return prerequisites_not_met("dwc:month is bdqval:Empty")
    month = _month_value(value)
    if month is None:
        return not_amended(f"dwc:month [{value}] cannot be unambiguously interpreted as a month")
    if value == str(month):
        return not_amended("dwc:month is already an integer between 1 and 12")
    return amended({"dwc:month": str(month)}, f"dwc:month [{value}] interpreted as {month}")


# --- measure ------------------------------------------------------------------------------------------------------

@bdq_test("56b6c695-adf1-418e-95d2-da04cad7be53", "MEASURE_EVENTDATE_DURATIONINSECONDS", "Measure",
          acted_upon=("dwc:eventDate",))
def measure_eventdate_durationinseconds(record, **params) -> Response:
    """Days count 86400 s (leap days included, leap seconds not); a time of day is an instant, so
    ``T13:00Z/T15:30Z`` lasts 2.5 h while ``1880-05-08/10`` lasts 3 whole days."""
    value = record.get("dwc:eventDate")
    if is_empty(value):
        return _measure_not_reported("dwc:eventDate is bdqval:Empty")
    interval = parse_interval(value)
    if interval is None:
        return _measure_not_reported(f"dwc:eventDate [{value}] is not a valid ISO 8601 date")
    return Response(Status.RUN_HAS_RESULT, str(interval.seconds()), f"duration of dwc:eventDate [{value}] in seconds")
