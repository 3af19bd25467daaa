"""Accepted amendments keep the original and never make a good point worse (issue 9): a coordinate amendment is not
applied within the configured buffer of the stated country nor across continents, and an applied one writes the
original value to the verbatim term (or says in the amendments file why it could not)."""
from __future__ import annotations

import json

import pyarrow as pa
import pytest

from mobilise.reference import geography
from mobilise.validators.bdq import REGISTRY
from mobilise.publishers.report import amendments_section
from mobilise.validators.bdq.batch import apply_amendments, run_bdq, summarise_applied


def _guid_of() -> dict[str, str]:
    return {test.label: test.guid for test in REGISTRY.values()}


geodata = pytest.mark.skipif(geography.country_index() is None, reason="country polygons not installed")
TRANSPOSED = ["AMENDMENT_COORDINATES_TRANSPOSED"]


def _points(*points: tuple[str, str, str]) -> pa.Table:
    return pa.table({"occurrenceID": [f"urn:x:{i}" for i in range(len(points))],
                     "decimalLatitude": [p[0] for p in points], "decimalLongitude": [p[1] for p in points],
                     "country": [p[2] for p in points],
                     "countryCode": [{"France": "FR", "Belgium": "BE"}[p[2]] for p in points]})


@geodata
def test_a_point_near_the_stated_country_is_not_moved_to_another_continent():
    """51.315691, 6.352771 lies in Germany, 166 km from France; BDQ proposes 6.352771, -51.315691 (off French
    Guiana), which puts it "in France": not applied, and the report says why."""
    table = _points(("51.315691", "6.352771", "France"))
    results = run_bdq(table, TRANSPOSED)
    assert results["status"].cast(pa.string()).to_pylist() == ["AMENDED"]
    assert json.loads(results["result"][0].as_py()) == {"dwc:decimalLatitude": "6.352771",
                                                        "dwc:decimalLongitude": "-51.315691"}
    amended, applied = apply_amendments(table, results, TRANSPOSED)
    assert amended.equals(table)  # nothing moved, no verbatim term added
    assert applied["applied"].to_pylist() == [False, False] and applied["conflict"].to_pylist() == [False, False]
    assert set(applied["note"].to_pylist()) == {
        "not applied: it moves the point from EUROPE to SOUTH_AMERICA, and FR lies on EUROPE too"}
    refused = amendments_section([], summarise_applied(applied)).refused
    assert [(r.label, r.term, r.records) for r in refused] == [
        ("AMENDMENT_COORDINATES_TRANSPOSED", term, 1) for term in ("decimalLatitude", "decimalLongitude")]


@geodata
def test_the_configured_buffer_keeps_a_point_that_already_agrees_with_its_country():
    table = _points(("51.315691", "6.352771", "France"))
    results = run_bdq(table, TRANSPOSED)
    wide = {"VALIDATION_COORDINATESCOUNTRYCODE_CONSISTENT": {"bdqval:spatialBufferInMeters": "200000"}}
    amended, applied = apply_amendments(table, results, TRANSPOSED, wide)
    assert amended.equals(table)
    assert set(applied["note"].to_pylist()) == {
        "not applied: the original point lies within 200000 m of FR (bdqval:spatialBufferInMeters) or in its waters"}


@geodata
def test_a_truly_transposed_point_is_amended_and_keeps_its_original():
    """Belgium's 50.43, 6.02 written 6.02, 50.43 (in the Indian Ocean off Somalia, on no continent of Belgium)."""
    table = _points(("6.02", "50.43", "Belgium"), ("51.315691", "6.352771", "France"))
    results = run_bdq(table, TRANSPOSED)
    amended, applied = apply_amendments(table, results, TRANSPOSED)
    assert amended["decimalLatitude"].to_pylist() == ["50.43", "51.315691"]
    assert amended["decimalLongitude"].to_pylist() == ["6.02", "6.352771"]
    assert amended["verbatimLatitude"].to_pylist() == ["6.02", None]
    assert amended["verbatimLongitude"].to_pylist() == ["50.43", None]
    done = applied.filter(applied["applied"]).to_pylist()
    assert {(r["row"], r["term"], r["old"], r["new"], r["note"]) for r in done} == {
        (0, "decimalLatitude", "6.02", "50.43", "original kept in verbatimLatitude"),
        (0, "decimalLongitude", "50.43", "6.02", "original kept in verbatimLongitude")}


@geodata
def test_an_existing_verbatim_value_is_kept_and_the_amendments_file_says_so():
    table = _points(("6.02", "50.43", "Belgium")).append_column("verbatimLatitude", pa.array(["N 6°1'12\""]))
    amended, applied = apply_amendments(table, run_bdq(table, TRANSPOSED), TRANSPOSED)
    assert amended["decimalLatitude"].to_pylist() == ["50.43"]
    assert amended["verbatimLatitude"].to_pylist() == ["N 6°1'12\""]
    assert amended["verbatimLongitude"].to_pylist() == ["50.43"]
    notes = dict(zip(applied["term"].to_pylist(), applied["note"].to_pylist()))
    assert notes == {"decimalLatitude": "verbatimLatitude already holds 'N 6°1\\'12\"', kept; the original is "
                                        "only in this file",
                     "decimalLongitude": "original kept in verbatimLongitude"}


@geodata
def test_the_france_example_through_assess_with_the_sample_configs_amendments():
    from datetime import date

    from mobilise.flags import severities
    from mobilise.mappers.mapping import ISSUE_SCHEMA
    from mobilise.settings import load_config
    from mobilise.validators.quality import assess
    from mobilise.validators.registry import CheckContext
    from tests.conftest import SAMPLE_CONFIG

    validation = load_config(SAMPLE_CONFIG).validation
    assert "AMENDMENT_COORDINATES_TRANSPOSED" in validation.bdq.amendments
    validation.bdq.tests = validation.bdq.amendments
    validation.dissco = "ignore"
    table = _points(("51.315691", "6.352771", "France"), ("6.02", "50.43", "Belgium"))
    assessment = assess(table, ISSUE_SCHEMA.empty_table(), CheckContext(today=date(2026, 6, 1)), validation,
                        severities())
    published = assessment.table.to_pylist()
    assert (published[0]["decimalLatitude"], published[0]["decimalLongitude"]) == ("51.315691", "6.352771")
    assert (published[1]["decimalLatitude"], published[1]["decimalLongitude"]) == ("50.43", "6.02")
    assert (published[1]["verbatimLatitude"], published[1]["verbatimLongitude"]) == ("6.02", "50.43")
    flags = {(r["row"], r["flag"]) for r in assessment.issues.to_pylist()}
    assert (0, "COUNTRY_COORDINATE_MISMATCH") in flags  # the kept point is still reported against its country
    assert not {flag for row, flag in flags if row == 1 and flag.startswith("COUNTRY")}
