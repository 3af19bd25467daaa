"""Record checks, severities and quarantine reasons on a hand-made mapped batch."""
from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from mobilise.flags import FLAGS, severities
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.validators.registry import CHECKS, CheckContext
from mobilise.validators.validate import quarantine_reasons, validate_batch

GOOD = {"occurrenceID": "urn:x:1", "basisOfRecord": "PreservedSpecimen", "scientificName": "Lycaena dispar",
        "eventDate": "1887-05-12", "decimalLatitude": "50.5", "decimalLongitude": "4.3", "countryCode": "BE",
        "typeStatus": None, "minimumElevationInMeters": "10", "maximumElevationInMeters": "20"}


def _table(*changes: dict) -> pa.Table:
    return pa.Table.from_pylist([{**GOOD, **change} for change in changes],
                                schema=pa.schema([(k, pa.string()) for k in GOOD]))


# Flags only validators/gbif/ raises (GBIF's derived/inferred/assumed flags fire on most plain records, e.g.
# GEODETIC_DATUM_ASSUMED_WGS84); tests/test_gbif_flags.py covers them, these tests the occurrence checks.
GBIF_ONLY = ({c.flag for c in CHECKS if c.function.__module__.startswith("mobilise.validators.gbif.")}
             - {c.flag for c in CHECKS if not c.function.__module__.startswith("mobilise.validators.gbif.")})


def _flags(issues: pa.Table) -> set[tuple[int, str]]:
    return {(r["row"], r["flag"]) for r in issues.to_pylist() if r["flag"] not in GBIF_ONLY}


def test_every_check_fires_on_its_defect_and_only_there():
    table = _table(
        {},                                                   # 0 clean
        {"occurrenceID": None},                               # 1
        {"occurrenceID": "urn:x:dup"},                        # 2
        {"basisOfRecord": "Specimen?"},                       # 3
        {"basisOfRecord": None},                              # 4
        {"scientificName": None},                             # 5
        {"eventDate": None},                                  # 6
        {"eventDate": "2031-01"},                             # 7 future
        {"eventDate": "1492"},                                # 8 before earliest_year
        {"decimalLatitude": "95.2"},                          # 9
        {"decimalLatitude": "0", "decimalLongitude": "0"},    # 10
        {"countryCode": "XX"},                                # 11
        {"typeStatus": "typoholotype"},                       # 12
        {"minimumElevationInMeters": "30"},                   # 13
    )
    context = CheckContext(duplicate_ids=pa.array(["urn:x:dup"]), today=date(2026, 11, 22))
    publishable, issues = validate_batch(table, ISSUE_SCHEMA.empty_table(), context, severities())
    assert _flags(issues) == {
        (1, "OCCURRENCE_ID_MISSING"), (2, "OCCURRENCE_ID_NOT_UNIQUE"), (3, "BASIS_OF_RECORD_INVALID"),
        (4, "BASIS_OF_RECORD_MISSING"), (5, "SCIENTIFIC_NAME_MISSING"), (6, "RECORDED_DATE_MISSING"),
        (7, "RECORDED_DATE_UNLIKELY"), (8, "RECORDED_DATE_UNLIKELY"), (9, "COORDINATE_OUT_OF_RANGE"),
        (10, "ZERO_COORDINATE"), (11, "COUNTRY_INVALID"), (12, "TYPE_STATUS_INVALID"),
        (13, "ELEVATION_MIN_MAX_SWAPPED")}
    # errors (no or a shared occurrenceID, no or an invalid basisOfRecord) keep a record out; the rest is
    # published, flagged
    assert publishable.tolist() == [True] + [False] * 4 + [True] * 9
    assert {c.flag for c in CHECKS} <= set(FLAGS)


def test_same_month_is_not_future():
    table = _table({"eventDate": "2026-11"}, {"eventDate": "2026-11-23"}, {"eventDate": "2026-11-01/2026-12-31"})
    _, issues = validate_batch(table, ISSUE_SCHEMA.empty_table(), CheckContext(today=date(2026, 11, 22)),
                               severities())
    assert _flags(issues) == {(1, "RECORDED_DATE_UNLIKELY")}


def test_interpreter_flags_join_the_issues_without_double_reports():
    table = _table({"eventDate": None}, {"basisOfRecord": "oops"})
    mapping_issues = pa.Table.from_pylist(
        [{"row": 0, "term": "eventDate", "flag": "RECORDED_DATE_INVALID", "value": "1887-02-30"},
         {"row": 1, "term": "basisOfRecord", "flag": "BASIS_OF_RECORD_INVALID", "value": "oops"}],
        schema=ISSUE_SCHEMA)
    publishable, issues = validate_batch(table, mapping_issues, CheckContext(),
                                         severities({"RECORDED_DATE_INVALID": "error"}))
    assert _flags(issues) == {(0, "RECORDED_DATE_INVALID"), (1, "BASIS_OF_RECORD_INVALID")}
    reasons = quarantine_reasons(issues)
    assert reasons[0] == ("RECORDED_DATE_INVALID: eventDate = '1887-02-30' "
                          "(eventDate could not be interpreted as a date or interval)")
    assert not publishable.any()


def test_severity_overrides_decide_what_is_quarantined():
    table = _table({"eventDate": None}, {"decimalLatitude": "0", "decimalLongitude": "0"})
    relaxed = severities({"RECORDED_DATE_MISSING": "warning", "ZERO_COORDINATE": "error"})
    publishable, _ = validate_batch(table, ISSUE_SCHEMA.empty_table(), CheckContext(), relaxed)
    assert publishable.tolist() == [True, False]
    with pytest.raises(KeyError, match="did you mean 'ZERO_COORDINATE'"):
        severities({"ZERO_COORDINATES": "error"})


def test_unmapped_terms_count_as_missing():
    table = pa.table({"occurrenceID": ["a"], "basisOfRecord": ["PreservedSpecimen"], "eventDate": ["1900"]})
    _, issues = validate_batch(table, ISSUE_SCHEMA.empty_table(), CheckContext(), severities())
    assert _flags(issues) == {(0, "SCIENTIFIC_NAME_MISSING")}
