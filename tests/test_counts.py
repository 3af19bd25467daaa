"""Counts that mean what they say (issue 9 item 9): records per flag and per severity count each record once, and
the warnings file lists exactly the published records that carry a warning or info flag."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa

from mobilise.catalog import RunCatalog
from mobilise.flags import severities
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.publishers.publication import PublicationDirectory
from mobilise.publishers.report import render_html
from mobilise.settings import ValidationConfig
from mobilise.validators.quality import QualitySummary, validate, warnings_table
from mobilise.validators.registry import CheckContext
from tests.pipeline_helpers import staged_run

BASE = {"basisOfRecord": "PreservedSpecimen", "scientificName": "Abies alba", "eventDate": "1990-05-01",
        "decimalLatitude": "52.1", "decimalLongitude": "5.1", "countryCode": "NL"}


def _batch(*rows: dict) -> pa.Table:
    records = [{**BASE, "occurrenceID": f"urn:x:{i}", **row} for i, row in enumerate(rows)]
    names = sorted({k for r in records for k in r})
    return pa.table({n: pa.array([r.get(n) for r in records], pa.string()) for n in names})


def _validate(table: pa.Table):
    context = CheckContext(duplicate_ids=pa.array([], pa.string()), today=date(2026, 11, 22))
    return validate(table, ISSUE_SCHEMA.empty_table(), context, ValidationConfig(), severities())


def test_a_record_with_one_flag_on_two_terms_counts_once():
    # both coordinates have more than 5 decimals: COORDINATE_ROUNDED on decimalLatitude and on decimalLongitude
    rounded = {"decimalLatitude": "52.1234567", "decimalLongitude": "5.1234567"}
    batch = _validate(_batch(rounded, {}, {"occurrenceID": None, **rounded}))
    issues = batch.issues.to_pandas()
    on_two_terms = issues[issues["flag"] == "COORDINATE_ROUNDED"]
    assert sorted(on_two_terms["term"]) == ["decimalLatitude", "decimalLatitude", "decimalLongitude",
                                           "decimalLongitude"]
    assert batch.quality.flags["COORDINATE_ROUNDED"] == 2  # two records, four issues
    for flag, rows in issues.groupby("flag")["row"]:
        assert batch.quality.flags[flag] == rows.nunique()
    for severity, rows in issues.groupby("severity")["row"]:
        assert batch.quality.flagged[severity] == rows.nunique()
    assert batch.quality.flagged["error"] == 1 and batch.quality.rejected == 1
    # batches hold different records: their counts add up
    run = QualitySummary.combine([batch.quality, batch.quality])
    assert run.flags["COORDINATE_ROUNDED"] == 4 and run.flagged == {k: 2 * v for k, v in batch.quality.flagged.items()}


def test_warnings_table_lists_each_published_record_once_with_every_message():
    rounded = {"decimalLatitude": "52.1234567", "decimalLongitude": "5.1234567"}
    batch = _validate(_batch(rounded, {"occurrenceID": None, **rounded}, {"eventDate": "2031"}))
    keys = pa.table({"guid": pa.array([101, 102, 103], pa.int64())})
    table = warnings_table(batch, keys).to_pandas()
    # the rejected record (no occurrenceID) is in the quarantine, not here
    assert table["occurrenceID"].tolist() == ["urn:x:0", "urn:x:2"]
    assert table["source.guid"].tolist() == ["101", "103"]
    first = table.iloc[0]
    assert first["flags"].split("; ").count("COORDINATE_ROUNDED") == 1
    assert "COORDINATE_ROUNDED: decimalLatitude = '52.1234567'" in first["messages"]
    assert "COORDINATE_ROUNDED: decimalLongitude = '5.1234567'" in first["messages"]
    assert "RECORDED_DATE_UNLIKELY: eventDate = '2031'" in table.iloc[1]["messages"]
    assert set(table["severity"]) <= {"warning", "info"}
    # no warnings at all: no rows, the same columns
    empty = warnings_table(replace(batch, issues=batch.issues.slice(0, 0)), keys)
    assert empty.num_rows == 0 and empty.column_names == list(table.columns)



def test_warnings_table_groups_issues_by_record_in_issue_order():
    # issues of three records, interleaved; record 1 is rejected, record 3's only issue is an error
    issues = pa.table({"row": [2, 0, 2, 0, 2, 1, 3, 0],
                       "flag": ["B", "A", "A", "B", "B", "A", "E", "E"],
                       "severity": ["info", "info", "info", "warning", "info", "warning", "error", "error"],
                       "message": ["b1", "a1", "a2", "b2", "b3", "r", "e", "e0"]})
    batch = SimpleNamespace(issues=issues, rejected=np.array([1]),
                            table=pa.table({"occurrenceID": ["o0", "o1", "o2", "o3"]}))
    table = warnings_table(batch, pa.table({"guid": pa.array([10, 11, 12, 13], pa.int64())}))
    assert table.to_pydict() == {"occurrenceID": ["o0", "o2"], "severity": ["warning", "info"],
                                 "flags": ["A; B", "B; A"], "messages": ["a1; b2", "b1; a2; b3"],
                                 "source.guid": ["10", "12"]}


def _issues_of_run(catalog: RunCatalog) -> tuple[pd.DataFrame, set[str]]:
    """Every issue of the run with its record's occurrenceID (pandas, independent of the stage's counting), and
    the occurrenceIDs published."""
    frames, published = [], set()
    for entry in catalog.entries("issues"):
        issues = catalog.load(entry).to_pandas()
        ids = catalog.load(entry.of("mapped"))["occurrenceID"].to_pylist()
        issues["record"] = [f"{entry.batch}:{row}" for row in issues["row"]]
        issues["occurrenceID"] = [ids[row] for row in issues["row"]]
        frames.append(issues)
        published |= set(catalog.load(entry.of("valid"))["occurrenceID"].to_pylist())
    return pd.concat(frames, ignore_index=True), published


def test_run_counts_records_and_the_warnings_file_lists_them(sqlite_config):
    with staged_run(sqlite_config) as (catalog, result):
        issues, published = _issues_of_run(catalog)
    # the sample has records with the same flag on two terms, so issue rows and records differ
    assert len(issues) > len(issues.drop_duplicates(["record", "flag"]))
    assert result.issues == issues.groupby("flag")["record"].nunique().to_dict()
    report = result.run_report
    per_severity = issues.groupby("severity")["record"].nunique().to_dict()
    assert report.totals.flagged == per_severity
    assert {row.flag: row.records for row in report.flags} == result.issues
    html = render_html(report)
    for severity, count in per_severity.items():
        assert f"{count:,} record{'s' if count != 1 else ''} with at least one {severity}" in html
    per_term = issues.drop_duplicates(["record", "term", "severity"]).groupby(["term", "severity"]).size()
    assert {(t, s): n for t, counts in report.terms.items() for s, n in counts.items()} == per_term.to_dict()
    assert "Records flagged per term" in html
    assert report.dissco.records_dropped == issues[issues["flag"].str.startswith("DISSCO_")]["record"].nunique()

    # warnings-<version>.csv beside the quarantine: exactly the published records with a warning or info flag
    warned = issues[issues["severity"].isin(["warning", "info"]) & issues["occurrenceID"].isin(published)]
    assert Path(result.warnings) == PublicationDirectory(sqlite_config.publication_directory).warnings("1.0")
    assert result.as_dict()["warnings"] == result.warnings
    listed = pd.read_csv(result.warnings, dtype=str, keep_default_na=False)
    assert list(listed.columns) == ["occurrenceID", "severity", "flags", "messages", "source.guid"]
    assert listed["occurrenceID"].is_unique
    assert set(listed["occurrenceID"]) == set(warned["occurrenceID"])
    flags_listed = listed.set_index("occurrenceID")["flags"].str.split("; ").map(set).to_dict()
    assert flags_listed == warned.groupby("occurrenceID")["flag"].agg(set).to_dict()
    for occurrence_id, guid in zip(listed["occurrenceID"], listed["source.guid"]):
        assert occurrence_id.endswith(f"/specimen/{guid}")  # the source key finds the record
    # the report links it, and a failed version would remove it with the rest
    assert report.files["warnings"] == "warnings-1.0.csv"
    assert 'href="warnings-1.0.csv"' in Path(result.report).read_text(encoding="utf-8")
    assert Path(result.warnings) in PublicationDirectory(sqlite_config.publication_directory).files("1.0")


def test_a_dry_run_writes_the_warnings_under_validation(sqlite_config):
    with staged_run(sqlite_config, dry_run=True) as (catalog, result):
        issues, published = _issues_of_run(catalog)
    assert result.version is None
    assert Path(result.warnings) == Path(sqlite_config.publication_directory) / "validation" / "warnings.csv"
    listed = pd.read_csv(result.warnings, dtype=str, keep_default_na=False)
    warned = issues[issues["severity"].isin(["warning", "info"]) & issues["occurrenceID"].isin(published)]
    assert len(listed) == warned["occurrenceID"].nunique() > 0
    assert 'href="warnings.csv"' in Path(result.report).read_text(encoding="utf-8")
    assert not list(Path(sqlite_config.publication_directory).glob("warnings-*.csv"))
