"""validate_batch's Arrow issue bookkeeping gives what the former pandas version gave (kept here as the reference)."""
from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from mobilise.flags import severities
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.validators.registry import CheckContext, run_checks
from mobilise.validators.validate import REPORT_SCHEMA, describe, quarantine_reasons, validate_batch


def _reference(table: pa.Table, mapping_issues: pa.Table, context: CheckContext, severity) -> tuple:
    """validate_batch as it was written with pandas (before the Arrow version)."""
    context.mapping_issues = mapping_issues
    found = pa.concat_tables([mapping_issues, run_checks(table, context)])
    frame = found.to_pandas().drop_duplicates(["row", "term", "flag"]).sort_values(["row", "term", "flag"])
    frame["severity"] = frame["flag"].map(severity)
    frame["message"] = [describe(f, t, v) for f, t, v in
                        zip(frame["flag"].tolist(), frame["term"].tolist(), frame["value"].tolist())]
    issues = pa.Table.from_pandas(frame, schema=REPORT_SCHEMA, preserve_index=False)
    error_rows = frame.loc[frame["severity"] == "error", "row"].unique()
    publishable = np.ones(table.num_rows, dtype=bool)
    publishable[error_rows.astype(np.int64)] = False
    return publishable, issues


def _table(*rows: dict) -> pa.Table:
    base = {"occurrenceID": "urn:x:1", "basisOfRecord": "PreservedSpecimen", "scientificName": "Abies alba",
            "eventDate": "1990-05-01", "decimalLatitude": "52.1", "decimalLongitude": "5.1", "countryCode": "NL"}
    records = [{**base, "occurrenceID": f"urn:x:{i}", **row} for i, row in enumerate(rows)]
    names = sorted({k for r in records for k in r})
    return pa.table({n: pa.array([r.get(n) for r in records], pa.string()) for n in names})


def _same(table: pa.Table, mapping_issues: pa.Table, severity) -> None:
    context = dict(duplicate_ids=pa.array(["urn:x:3"]), today=date(2026, 11, 22))
    expected_mask, expected = _reference(table, mapping_issues, CheckContext(**context), severity)
    mask, issues = validate_batch(table, mapping_issues, CheckContext(**context), severity)
    assert issues.schema.equals(REPORT_SCHEMA)
    assert issues.equals(expected), (issues.to_pylist(), expected.to_pylist())
    assert mask.tolist() == expected_mask.tolist()
    assert quarantine_reasons(issues) == quarantine_reasons(expected)


def test_same_issues_as_the_pandas_version():
    table = _table({}, {"eventDate": None}, {"basisOfRecord": "oops", "countryCode": ""}, {"decimalLatitude": "0",
                   "decimalLongitude": "0"}, {"scientificName": None, "countryCode": "XX"},
                   {"decimalLatitude": "95", "eventDate": "2031"})
    mapping_issues = pa.Table.from_pylist(
        [  # out of order, a duplicate (row, term, flag) with another value (the first is kept), an empty value
            {"row": 4, "term": "countryCode", "flag": "COUNTRY_INVALID", "value": "XX"},
            {"row": 1, "term": "eventDate", "flag": "RECORDED_DATE_INVALID", "value": "1887-02-30"},
            {"row": 1, "term": "eventDate", "flag": "RECORDED_DATE_INVALID", "value": "other"},
            {"row": 2, "term": "basisOfRecord", "flag": "BASIS_OF_RECORD_INVALID", "value": "oops"},
            {"row": 2, "term": "countryCode", "flag": "COUNTRY_INVALID", "value": ""},
            {"row": 0, "term": "recordedBy", "flag": "RECORDED_DATE_INVALID", "value": None},
        ], schema=ISSUE_SCHEMA)
    _same(table, mapping_issues, severities())
    # a severity map without some flags leaves their severity empty (and they keep no record out)
    partial = {k: v for k, v in severities().items() if k not in ("RECORDED_DATE_INVALID", "COUNTRY_INVALID")}
    _same(table, mapping_issues, partial)


def test_no_issues_and_one_issue():
    _same(_table({}), ISSUE_SCHEMA.empty_table(), severities())
    _same(_table({"scientificName": None}), ISSUE_SCHEMA.empty_table(), severities())
