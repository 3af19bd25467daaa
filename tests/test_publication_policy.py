"""The publication policy: a record is kept out only when GBIF or DiSSCo would refuse it or it would break the
archive; a wrong value is removed from its term, kept in the verbatim term or a dynamicProperties note, and the
record is published with its flag."""
from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date

import pyarrow as pa
import pytest

from mobilise.flags import FLAGS, severities
from mobilise.mappers.interpreters import interpreters
from mobilise.mappers.mapping import ISSUE_SCHEMA, interpret
from mobilise.settings import ValidationConfig
from mobilise.validators.quality import assess, remove_flagged_values
from mobilise.validators.registry import CheckContext
from tests.conftest import sample_config
from tests.pipeline_helpers import read_core_with_pandas, read_quarantine, run_stages

GOOD = {"occurrenceID": "urn:x:0", "basisOfRecord": "PreservedSpecimen", "scientificName": "Lycaena dispar",
        "eventDate": "1887-05-12", "decimalLatitude": "50.5", "decimalLongitude": "4.3", "countryCode": "BE",
        "verbatimLatitude": None, "verbatimLongitude": None, "dynamicProperties": None}
VALIDATION = ValidationConfig(bdq={"enabled": False}, dissco="ignore")


def _assess(changes: list[dict], mapping_issues: pa.Table | None = None, severity: dict | None = None,
            duplicates: tuple[str, ...] = ()):
    rows = [{**GOOD, "occurrenceID": f"urn:x:{i}", **change} for i, change in enumerate(changes)]
    table = pa.Table.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in {**GOOD, **changes[0]}]))
    context = CheckContext(duplicate_ids=pa.array(list(duplicates), pa.string()), today=date(2026, 11, 22))
    return assess(table, mapping_issues if mapping_issues is not None else ISSUE_SCHEMA.empty_table(), context,
                  VALIDATION, severities(severity))


def _flags(assessment, row: int) -> set[str]:
    return {r["flag"] for r in assessment.issues.to_pylist() if r["row"] == row}


def test_out_of_range_and_zero_coordinates_are_published_without_the_point():
    result = _assess([{"decimalLatitude": "95.3", "decimalLongitude": "10"},
                      {"decimalLatitude": "10", "decimalLongitude": "200.1"},
                      {"decimalLatitude": "0", "decimalLongitude": "0"},
                      {"decimalLatitude": "-95", "decimalLongitude": "4", "verbatimLatitude": "95 S"},
                      {}])
    assert result.publishable.tolist() == [True] * 5
    rows = result.table.to_pylist()
    for row in rows[:4]:
        assert row["decimalLatitude"] is None and row["decimalLongitude"] is None
    assert [(r["verbatimLatitude"], r["verbatimLongitude"]) for r in rows] == [
        ("95.3", "10"), ("10", "200.1"), ("0", "0"), ("95 S", "4"), (None, None)]
    # the verbatim latitude held the source's own text: the interpreted value is kept beside it, once
    assert [r["dynamicProperties"] for r in rows] == [None, None, None,
                                                      '{"mobilise:removed":{"decimalLatitude":"-95"}}', None]
    assert (rows[4]["decimalLatitude"], rows[4]["decimalLongitude"]) == ("50.5", "4.3")
    assert "COORDINATE_OUT_OF_RANGE" in _flags(result, 0) and "COORDINATE_OUT_OF_RANGE" in _flags(result, 1)
    assert "ZERO_COORDINATE" in _flags(result, 2)
    assert all(r["severity"] != "error" for r in result.issues.to_pylist())


def test_unknown_and_reversed_dates_are_published_flagged_and_the_original_kept():
    starts = pa.array([None, "1990-05-10", "1887-05-12"], pa.string())
    ends = pa.array([None, "1990-05-01", None], pa.string())
    values, found = interpret(starts, interpreters()["eventDate"], "eventDate", ends)
    mapping_issues = pa.Table.from_pylist([dict(zip(ISSUE_SCHEMA.names, i)) for i in found], schema=ISSUE_SCHEMA)
    result = _assess([{"eventDate": v} for v in values.to_pylist()], mapping_issues)
    assert result.publishable.tolist() == [True, True, True]
    assert _flags(result, 0) >= {"RECORDED_DATE_MISSING"} and _flags(result, 1) >= {"RECORDED_DATE_INVALID"}
    rows = result.table.to_pylist()
    assert [r["eventDate"] for r in rows] == [None, None, "1887-05-12"]
    # the interpreter emptied the term; the original, as the issue shows it, goes to the empty verbatim term
    assert [r["verbatimEventDate"] for r in rows] == [None, "1990-05-10 / 1990-05-01", None]
    assert [r["dynamicProperties"] for r in rows] == [None, None, None]
    # where the verbatim term holds something else, the original goes to a note
    again = _assess([{"eventDate": v, "verbatimEventDate": "spring 1990"} for v in values.to_pylist()],
                    mapping_issues).table.to_pylist()
    assert json.loads(again[1]["dynamicProperties"]) == {"mobilise:removed": {"eventDate": "1990-05-10 / 1990-05-01"}}
    assert [r["verbatimEventDate"] for r in again] == ["spring 1990"] * 3


def test_a_removed_value_merges_into_the_records_own_dynamic_properties():
    mapping_issues = pa.Table.from_pylist([{"row": 0, "term": "countryCode", "flag": "COUNTRY_INVALID",
                                            "value": "Atlantis"},
                                           {"row": 1, "term": "countryCode", "flag": "COUNTRY_INVALID",
                                            "value": "Atlantis"}], schema=ISSUE_SCHEMA)
    result = _assess([{"countryCode": None, "dynamicProperties": '{"sexRatio": "1:1"}'},
                      {"countryCode": None, "dynamicProperties": "sexRatio=1:1"}], mapping_issues)
    first, second = (json.loads(r["dynamicProperties"]) for r in result.table.to_pylist())
    assert first == {"sexRatio": "1:1", "mobilise:removed": {"countryCode": "Atlantis"}}
    assert second == {"mobilise:text": "sexRatio=1:1", "mobilise:removed": {"countryCode": "Atlantis"}}
    # the same name published as the record's country is kept there: nothing to add
    both = _assess([{"countryCode": None, "country": "Atlantis"}, {"countryCode": None, "country": "Atlantide"}],
                   mapping_issues).table.to_pylist()
    assert both[0]["dynamicProperties"] is None
    assert json.loads(both[1]["dynamicProperties"]) == {"mobilise:removed": {"countryCode": "Atlantis"}}


def test_identifier_faults_still_keep_the_record_out_and_an_error_override_too():
    result = _assess([{"occurrenceID": None}, {"occurrenceID": "urn:x:dup"}, {"occurrenceID": "urn:x:dup"},
                      {"decimalLatitude": "95.3"}, {"eventDate": None}],
                     severity={"COORDINATE_OUT_OF_RANGE": "error"}, duplicates=("urn:x:dup",))
    assert result.publishable.tolist() == [False, False, False, False, True]
    quarantined = result.table.to_pylist()[3]
    assert quarantined["decimalLatitude"] == "95.3"  # a quarantined record keeps its values as found
    relaxed = _assess([{"decimalLatitude": "95.3"}])
    assert relaxed.publishable.tolist() == [True]


def test_removal_leaves_a_batch_without_such_flags_as_it_is():
    table = pa.Table.from_pylist([GOOD], schema=pa.schema([(k, pa.string()) for k in GOOD]))
    issues = pa.table({"row": [0], "term": ["decimalLatitude"], "flag": ["COORDINATE_ROUNDED"], "value": ["50.5"]})
    assert remove_flagged_values(table, issues, [True]) is table
    assert not FLAGS["COORDINATE_ROUNDED"].removes_value and FLAGS["ZERO_COORDINATE"].removes_value


@pytest.fixture
def defective_run(sample_db, tmp_path, monkeypatch):
    """The sample, with specimens given their own localities and events holding the defects."""
    database = tmp_path / "sample.sqlite"
    shutil.copy(sample_db, database)
    cases = {"lat": (95.3, 10.0, "1990-05-01", None), "lon": (10.0, 200.1, "1990-05-01", None),
             "zero": (0.0, 0.0, "1990-05-01", None), "undated": (50.8, 4.4, None, None),
             "reversed": (50.8, 4.4, "1990-05-10", "1990-05-01")}
    with sqlite3.connect(database) as connection:
        objects = [r[0] for r in connection.execute(
            "SELECT object_id FROM collection_object WHERE is_public = 1 ORDER BY object_id LIMIT 7")]
        guids = {}
        for number, (case, (latitude, longitude, start, end)) in enumerate(cases.items()):
            object_id = objects[number]
            connection.execute("INSERT INTO locality (locality_id, country, latitude, longitude) "
                               "VALUES (?, 'Belgium', ?, ?)", (900000 + number, latitude, longitude))
            connection.execute("INSERT INTO collecting_event (event_id, locality_id, start_date, end_date) "
                               "VALUES (?, ?, ?, ?)", (900000 + number, 900000 + number, start, end))
            connection.execute("UPDATE collection_object SET event_id = ?, basis = 'PreservedSpecimen' "
                               "WHERE object_id = ?", (900000 + number, object_id))
            guids[case] = connection.execute("SELECT guid FROM collection_object WHERE object_id = ?",
                                             (object_id,)).fetchone()[0]
        # two specimens under one guid (the copy of the table has no UNIQUE constraint): neither is published
        connection.execute("CREATE TABLE loose AS SELECT * FROM collection_object")
        connection.execute("DROP TABLE collection_object")
        connection.execute("ALTER TABLE loose RENAME TO collection_object")
        connection.execute("UPDATE collection_object SET guid = ? WHERE object_id = ?", ("dup-guid", objects[5]))
        connection.execute("UPDATE collection_object SET guid = ? WHERE object_id = ?", ("dup-guid", objects[6]))
    result = run_stages(sample_config(f"sqlite:///{database}", tmp_path / "output", monkeypatch))
    return result, guids


def test_a_run_publishes_the_defective_specimens_without_the_wrong_values(defective_run):
    result, guids = defective_run
    assert result.records + result.rejected == result.extracted
    core = read_core_with_pandas(result.archive).set_index("occurrenceID")
    row = {case: core.loc[f"https://data.example.org/mobilise-sample/specimen/{guid}"] for case, guid in guids.items()}
    for case in ("lat", "lon", "zero"):
        assert row[case]["decimalLatitude"] == "" and row[case]["decimalLongitude"] == ""
    assert (row["lat"]["verbatimLatitude"], row["lat"]["verbatimLongitude"]) == ("95.3", "10")
    assert (row["lon"]["verbatimLatitude"], row["lon"]["verbatimLongitude"]) == ("10", "200.1")
    assert (row["zero"]["verbatimLatitude"], row["zero"]["verbatimLongitude"]) == ("0", "0")
    assert row["undated"]["eventDate"] == "" and row["reversed"]["eventDate"] == ""
    kept = row["reversed"]["verbatimEventDate"] + row["reversed"]["dynamicProperties"]
    assert "1990-05-10" in kept and "1990-05-01" in kept
    assert result.issues["COORDINATE_OUT_OF_RANGE"] >= 2 and result.issues["ZERO_COORDINATE"] >= 1
    assert result.issues["RECORDED_DATE_MISSING"] >= 1 and result.issues["RECORDED_DATE_INVALID"] >= 1
    quarantine = read_quarantine(result.quarantine)
    duplicated = quarantine[quarantine["occurrenceID"] == "https://data.example.org/mobilise-sample/specimen/dup-guid"]
    assert len(duplicated) == 2 and duplicated["reasons"].str.startswith("OCCURRENCE_ID_NOT_UNIQUE").all()
    assert not quarantine["reasons"].str.contains("COORDINATE_OUT_OF_RANGE|ZERO_COORDINATE|RECORDED_DATE").any()


def test_the_archive_holds_no_out_of_range_coordinate_or_invalid_date(defective_run):
    import pandas as pd

    result, _ = defective_run
    core = read_core_with_pandas(result.archive)
    latitude = pd.to_numeric(core["decimalLatitude"].replace("", None))
    longitude = pd.to_numeric(core["decimalLongitude"].replace("", None))
    assert latitude.dropna().between(-90, 90).all() and longitude.dropna().between(-180, 180).all()
    assert latitude.isna().equals(longitude.isna())  # a point is published whole or not at all
    assert not ((latitude == 0) & (longitude == 0)).any()
    dates = [value or None for value in core["eventDate"]]
    values, found = interpret(pa.array(dates, pa.string()), interpreters()["eventDate"], "eventDate")
    assert found == [] and values.to_pylist() == dates  # every published date reads back as itself
    published = [d for d in dates if d]
    assert published and all("1600" <= d[:10] <= date.today().isoformat() for d in published)
