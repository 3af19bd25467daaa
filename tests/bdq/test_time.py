"""TIME tests: the official validation rows for every TIME GUID, plus edge cases of our own."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from mobilise.validators.bdq.conformance import run_conformance
from mobilise.validators.bdq.core import REGISTRY, Status, run_test
from mobilise.validators.bdq.time_iso import parse_interval
from mobilise.validators.bdq.time_verbatim import interpret_date

BDQ = Path(__file__).resolve().parents[2] / ".." / "shared" / "standards" / "bdq"
VALIDATION_FILES = [BDQ / "TG2_test_validation_data.csv", BDQ / "TG2_test_validation_data_nonprintingchars.csv"]

# Rows whose expectation follows an older version of the specification (see the module docstring of time.py).
WRONG_IN_DATA = {
    "682": "AMENDMENT_EVENTDATE_FROM_VERBATIM: uninterpretable verbatimEventDate is NOT_AMENDED in the current "
           "spec; the row expects INTERNAL_PREREQUISITES_NOT_MET (2023-03-27 spec)",
    "1052": "AMENDMENT_EVENTDATE_FROM_YEARSTARTDAYOFYEARENDDAYOFYEAR: uninterpretable year is NOT_AMENDED in the "
            "spec; the row expects INTERNAL_PREREQUISITES_NOT_MET",
}

EVENT_DATE_STANDARD = "4f2bf8fd-fc5c-493f-a44c-e7b16153c803"
EVENT_DATE_INRANGE = "3cff4dc4-72e9-4abe-9bf3-8a30f1618432"
YEAR_INRANGE = "ad0c8855-de69-4843-a80c-a5387d20fbc8"
DATEIDENTIFIED_INRANGE = "dc8aae4b-134f-4d75-8a71-c4186239178e"
DURATION = "56b6c695-adf1-418e-95d2-da04cad7be53"
EVENT_CONSISTENT = "5618f083-d55a-4ac2-92b5-b9fb227b832f"
EVENT_FROM_EVENTDATE = "710fe118-17e1-440f-b428-88ba3f547d6d"
DAY_INRANGE = "8d787cb5-73e2-4c39-9cd1-67c7361dc02e"
MONTH_STANDARDIZED = "2e371d57-1eb3-4fe3-8a61-dff43ced50cf"
DAY_STANDARDIZED = "b129fa4d-b25b-43f7-9645-5ed4d44b357b"
FROM_YEARMONTHDAY = "3892f432-ddd0-4a0a-b713-f2e2ecbd879d"


def _time_guids() -> set[str]:
    with open(BDQ / "derived_bdq_tests_offline_classification.csv", encoding="utf-8", newline="") as handle:
        return {row["GUID"] for row in csv.DictReader(handle) if row["InformationElement"] == "TIME"}


def test_all_time_tests_registered():
    guids = _time_guids()
    assert len(guids) == 23
    assert guids <= REGISTRY.keys()


def test_official_validation_rows_pass():
    guids = _time_guids()
    result = run_conformance(VALIDATION_FILES)
    entries = [t for t in result["tests"] if t["guid"] in guids]
    assert sum(t["rows"] for t in entries) == 360
    assert sum(t["not_run"] for t in entries) == 0
    failures = [(t["label"], r) for t in entries for r in t["reasons"] if r["dataID"] not in WRONG_IN_DATA]
    assert failures == []
    failed_ids = {r["dataID"] for t in entries for r in t["reasons"]}
    assert failed_ids == WRONG_IN_DATA.keys()  # the documented rows still disagree; revisit if the data changes


@pytest.mark.parametrize("value, valid", [
    ("1963-03-08T14:07-0600", True), ("1963-03-08T14", True), ("19630308", True), ("1963-067", True),
    ("1880-05-08/10", True), ("1980/1981", True), ("1964-366", True),
    ("1963-366", False), ("1981-02-29", False), ("1981/1980", False), ("1963-03-08T24:00", False),
    ("1963-03-08T1407", False), (" 1963", False), ("1963-3-8", False), ("1949-01-15T12:34/", False),
])
def test_iso_validity(value, valid):
    response = run_test(EVENT_DATE_STANDARD, {"dwc:eventDate": value})
    assert response.result == ("COMPLIANT" if valid else "NOT_COMPLIANT")


def test_bdqval_empty_is_only_control_and_space_characters():
    assert run_test(EVENT_DATE_STANDARD, {"dwc:eventDate": "\x00\x1f "}).status is Status.INTERNAL_PREREQUISITES_NOT_MET
    # U+00A0 is above U+0020: not empty, and not a date either.
    assert run_test(EVENT_DATE_STANDARD, {"dwc:eventDate": "\u00a0"}).result == "NOT_COMPLIANT"


def test_current_year_default_is_computed_at_call_time():
    this_year, next_year = date.today().year, date.today().year + 1
    assert run_test(EVENT_DATE_INRANGE, {"dwc:eventDate": str(this_year)}).result == "COMPLIANT"
    assert run_test(EVENT_DATE_INRANGE, {"dwc:eventDate": f"{this_year}/{next_year}"}).result == "NOT_COMPLIANT"
    assert run_test(YEAR_INRANGE, {"dwc:year": str(next_year)}).result == "NOT_COMPLIANT"
    assert run_test(YEAR_INRANGE, {"dwc:year": "1500"}, {"bdqval:earliestValidDate": "1400"}).result == "COMPLIANT"


def test_eventdate_range_must_lie_entirely_within_bounds():
    assert run_test(EVENT_DATE_INRANGE, {"dwc:eventDate": "1582-11-14/1600"}).result == "NOT_COMPLIANT"
    assert run_test(EVENT_DATE_INRANGE, {"dwc:eventDate": "1582-11-15/1600"}).result == "COMPLIANT"


def test_dateidentified_before_event_unless_event_excluded():
    record = {"dwc:dateIdentified": "1963-03-07", "dwc:eventDate": "1963-03-08"}
    assert run_test(DATEIDENTIFIED_INRANGE, record).result == "NOT_COMPLIANT"
    assert run_test(DATEIDENTIFIED_INRANGE, record, {"bdqval:includeEventDate": "false"}).result == "COMPLIANT"
    overlapping = {"dwc:dateIdentified": "1963", "dwc:eventDate": "1963-11-01/1964-02"}
    assert run_test(DATEIDENTIFIED_INRANGE, overlapping).result == "COMPLIANT"


@pytest.mark.parametrize("value, seconds", [
    ("1980-02", 29 * 86400), ("1981-12-30/1982-01-02", 4 * 86400), ("2007-03-01T13:00Z/15:30Z", 9000),
    ("1963-03-08T10:00-0600/1963-03-08T12:00-0400", 0),  # same instant written with two offsets
])
def test_duration(value, seconds):
    assert run_test(DURATION, {"dwc:eventDate": value}).result == str(seconds)


def test_consistency_needs_day_precision_for_day_of_year():
    record = {"dwc:eventDate": "1981-02", "dwc:startDayOfYear": "32", "dwc:endDayOfYear": "59"}
    assert run_test(EVENT_CONSISTENT, record).result == "NOT_COMPLIANT"
    record["dwc:eventDate"] = "1981-02-01/1981-02-28"
    assert run_test(EVENT_CONSISTENT, record).result == "COMPLIANT"
    assert run_test(EVENT_CONSISTENT, {"dwc:eventDate": "1981-02-01", "dwc:month": "02"}).result == "COMPLIANT"


def test_event_from_eventdate_ordinal_date():
    response = run_test(EVENT_FROM_EVENTDATE, {"dwc:eventDate": "1981-060"})
    assert response.result == {"dwc:year": "1981", "dwc:month": "3", "dwc:day": "1",
                               "dwc:startDayOfYear": "60", "dwc:endDayOfYear": "60"}


def test_day_inrange_negative_and_zero():
    assert run_test(DAY_INRANGE, {"dwc:day": "0"}).result == "NOT_COMPLIANT"
    assert run_test(DAY_INRANGE, {"dwc:day": "-3"}).result == "NOT_COMPLIANT"
    assert run_test(DAY_INRANGE, {"dwc:day": "31", "dwc:month": "4"}).result == "NOT_COMPLIANT"


@pytest.mark.parametrize("value, expected", [("Sept.", "9"), ("xii", "12"), ("Juni", "6"), ("05", "5"),
                                             ("5", None), ("Ju", None), ("13", None)])
def test_month_standardized(value, expected):
    response = run_test(MONTH_STANDARDIZED, {"dwc:month": value})
    assert response.result == ({"dwc:month": expected} if expected else None)


def test_day_standardized_keeps_standard_values():
    assert run_test(DAY_STANDARDIZED, {"dwc:day": "5"}).status is Status.NOT_AMENDED
    assert run_test(DAY_STANDARDIZED, {"dwc:day": "31st"}).result == {"dwc:day": "31"}
    assert run_test(DAY_STANDARDIZED, {"dwc:day": "32nd"}).status is Status.NOT_AMENDED


def test_from_yearmonthday_keeps_precision():
    assert run_test(FROM_YEARMONTHDAY, {"dwc:year": "1980", "dwc:month": "1"}).result == {"dwc:eventDate": "1980-01"}
    assert run_test(FROM_YEARMONTHDAY, {"dwc:year": "1980", "dwc:month": "?", "dwc:day": "3"}).result == {
        "dwc:eventDate": "1980"}


@pytest.mark.parametrize("text, expected", [
    ("5-10 Aug 1987", "1987-08-05/1987-08-10"), ("1980-1985", "1980/1985"), (" 1963-03-08 ", "1963-03-08"),
    ("03-04-2020", None), ("Thursday 29 Oct 2021", None),  # 2021-10-29 was a Friday
    ("Feb 30 2020", None), ("ca. 1980", None), ("1932-12-05?", None),
])
def test_interpret_verbatim(text, expected):
    assert interpret_date(text) == expected


def test_tests_never_raise_on_odd_input():
    odd = ["", "\x00", "/", "T", "9" * 40, "--", "1963-03-08T14:07+99", "２０２１", "1e3", "0377/1"]
    for guid in _time_guids():
        test = REGISTRY[guid]
        for value in odd:
            record = {term: value for term in test.acted_upon + test.consulted}
            test(record)
    assert parse_interval(None) is None
