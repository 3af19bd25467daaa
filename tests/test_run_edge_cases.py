"""Inputs a new user's trial run found to stop a whole run or publish half a value: each now stays with its record.

A small collection database of our own, run through every step (tests.pipeline_helpers.run_stages)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from mobilise.mappers.dates import interpret_date, interpret_event_date
from mobilise.settings import load_config
from tests.pipeline_helpers import read_core_with_pandas, read_quarantine, run_stages

CONFIG = """
source:
  url: sqlite:///{database}
  batch_size: {batch_size}
  query: SELECT * FROM specimen ORDER BY n
output:
  directory: {output}
metadata:
  title: Edge cases
  shortname: edge-cases
  abstract: [Records that once stopped a run.]
  licence: CC0-1.0
  creators: [{{given_name: Ada, surname: Curator, email: a@example.org}}]
  contacts: [{{given_name: Ada, surname: Curator, email: a@example.org}}]
gates:
  max_rejected_share: 0.9   # a small test table: two of three records are meant to be kept out
validation:
  dissco: ignore
  bdq: {{enabled: false}}
mapping:
  occurrenceID: {{template: "https://example.org/i/{{id}}"}}
  basisOfRecord: basis
  scientificName: {{constant: Lycaena dispar}}
  eventDate: date
  verbatimEventDate: {{constant: see label}}
  decimalLatitude: lat
  decimalLongitude: lon
"""


def _run(tmp_path: Path, rows: list[tuple], batch_size: int = 1000):
    database = tmp_path / "edge.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE specimen (n INTEGER, id TEXT, basis TEXT, date TEXT, lat TEXT, lon TEXT)")
        connection.executemany("INSERT INTO specimen VALUES (?, ?, ?, ?, ?, ?)",
                               [(n, *row) for n, row in enumerate(rows)])
    path = tmp_path / "edge.yaml"
    path.write_text(CONFIG.format(database=database, batch_size=batch_size, output=tmp_path / "out"),
                    encoding="utf-8")
    result = run_stages(load_config(path))
    assert result.records + result.rejected == result.extracted == len(rows)
    return result


def test_a_record_without_an_occurrence_id_goes_to_quarantine_and_the_rest_is_published(tmp_path):
    result = _run(tmp_path, [("a1", "PreservedSpecimen", "1887-05-12", "50.8", "4.3"),
                             (None, "PreservedSpecimen", "1887-05-13", "50.8", "4.3"),
                             ("", "PreservedSpecimen", "1887-05-14", "50.8", "4.3")])
    assert (result.records, result.rejected) == (1, 2)
    quarantine = read_quarantine(result.quarantine)
    assert all("OCCURRENCE_ID_MISSING" in reasons for reasons in quarantine["reasons"])


def test_batches_whose_records_needed_different_columns_make_one_quarantine_and_one_archive(tmp_path):
    # batch 1: a reversed interval, removed and noted in dynamicProperties (verbatimEventDate is taken);
    # batch 2: an invalid basisOfRecord, quarantined; neither batch has the other's columns
    rows = [("r1", "PreservedSpecimen", "1990-01-01/1989-01-01", "50.8", "4.3"),
            ("r2", "PreservedSpecimen", "1990-01-01", "50.8", "4.3"),
            ("r3", "Bogus", "1990-01-01", "50.8", "4.3"),
            ("r4", "PreservedSpecimen", "1990-01-01", "50.8", "4.3")]
    result = _run(tmp_path, rows, batch_size=2)
    assert (result.records, result.rejected) == (3, 1)
    quarantine = read_quarantine(result.quarantine)
    assert quarantine["occurrenceID"].tolist() == ["https://example.org/i/r3"]
    assert "dynamicProperties" in quarantine.columns and quarantine["dynamicProperties"].tolist() == [""]
    assert list(quarantine.columns).index("dynamicProperties") < list(quarantine.columns).index("source.id")
    core = read_core_with_pandas(result.archive)
    assert core.loc[core["occurrenceID"].str.endswith("r1"), "dynamicProperties"].str.contains(
        "1990-01-01").all()


def test_roman_numerals_that_name_no_month_are_flagged_not_a_crash():
    for text in ("12.XIII.1887", "XIII.1887", "12.IIII.1887", "12.VIV.1887"):
        assert interpret_event_date(text) == (None, ("RECORDED_DATE_INVALID",))
        assert interpret_date(text, "MODIFIED_DATE_INVALID") == (None, ("MODIFIED_DATE_INVALID",))
    assert interpret_event_date("12.V.1887") == ("1887-05-12", ())


def test_half_a_point_is_not_published_and_is_flagged(tmp_path):
    result = _run(tmp_path, [("p1", "PreservedSpecimen", "1990", "50.8", None),
                             ("p2", "PreservedSpecimen", "1990", None, "4.3"),
                             ("p3", "PreservedSpecimen", "1990", "50.8", "4.3")])
    core = read_core_with_pandas(result.archive).set_index("occurrenceID")
    assert core.loc["https://example.org/i/p1", ["decimalLatitude", "decimalLongitude"]].tolist() == ["", ""]
    assert core.loc["https://example.org/i/p1", "verbatimLatitude"] == "50.8"
    assert core.loc["https://example.org/i/p2", "verbatimLongitude"] == "4.3"
    assert core.loc["https://example.org/i/p3", ["decimalLatitude", "decimalLongitude"]].tolist() == ["50.8", "4.3"]
    assert result.issues.get("COORDINATE_INVALID") == 2
