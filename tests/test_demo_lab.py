"""The lab spreadsheet demo (config/lab-spreadsheet.yaml, samples/lab.py; issue 10 item 8, issue 12 item 4): the
sheet Specimens as the core, the sheet Measurements of the same workbook as a MeasurementOrFact extension, box
label rows and specimens marked "niet publiceren" excluded by filters, a DwC-DP beside the archive."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mobilise.samples.lab import DUTCH_MONTHS, lab_rows, write_lab
from tests.demo_helpers import assert_counts_add_up, assert_valid_package, demo_folder, publish

CONFIG = "lab-spreadsheet.yaml"
SPECIMENS = 300
PREFIX = "https://data.example.org/lab-spreadsheet-demo/specimen/"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = demo_folder(tmp_path_factory.mktemp("lab"), CONFIG)
    write_lab(root / "data" / "demo" / "lab.xlsx", SPECIMENS, 42)
    with pytest.MonkeyPatch.context() as monkeypatch:
        return publish(root, CONFIG, tmp_path_factory.mktemp("out"), monkeypatch)


def _flags(result) -> dict[str, list[str]]:
    with open(result.warnings, encoding="utf-8", newline="") as file:
        return {row["occurrenceID"]: row["flags"].split("; ") for row in csv.DictReader(file)}


def test_box_labels_and_unreleased_specimens_are_excluded_and_every_row_counted(published):
    result, core, extensions = published
    assert_counts_add_up(result)
    rows, measurements = lab_rows(SPECIMENS, 42)
    labels = [row for row in rows if row is not None and row[0] is None]
    unreleased = {row[0] for row in rows if row is not None and row[7] == "niet publiceren"}
    assert labels and unreleased
    assert result.extracted == SPECIMENS + len(labels)  # the blank rows and the merged title are no records
    assert result.excluded_by == {"a row with no specimen number (a box label or a note)": len(labels),
                                  "marked not for publication (niet publiceren)": len(unreleased)}
    assert result.rejected == 0 and set(core) == {PREFIX + row[0] for row in rows
                                                  if row is not None and row[0] and row[0] not in unreleased}
    with open(result.excluded_file, encoding="utf-8", newline="") as file:
        assert sum(1 for _ in csv.DictReader(file)) == len(labels) + len(unreleased)
    # the measurements of the unreleased specimens are excluded with them, the others published: none orphaned
    held_back = sum(1 for m in measurements if m[0] in unreleased)
    assert held_back and result.tables["measurement_or_fact"] == {
        "extracted": len(measurements), "published": len(measurements) - held_back, "quarantined": 0,
        "excluded": held_back}


def test_measurements_are_translated_and_attached_to_their_specimen(published):
    _, core, extensions = published
    _, measurements = lab_rows(SPECIMENS, 42)
    expected = sorted((PREFIX + key, {"lengte": "length", "gewicht": "weight"}[feature], value, unit)
                      for key, feature, value, unit in measurements if PREFIX + key in core)
    # a value as Excel shows it: 1.0 is 1
    found = sorted((core_id, row["measurementType"], float(row["measurementValue"]), row["measurementUnit"])
                   for core_id, row in extensions["MeasurementOrFact"])
    assert found == expected and found


def test_lab_workbook_reads_free_text_dates_dms_and_dutch_countries(published):
    result, rows, _ = published
    flags = _flags(result)
    source, _ = lab_rows(SPECIMENS, 42)
    checked = set()
    for key, _, date, land, _, coordinates, _, _ in filter(None, source):
        if PREFIX + str(key) not in rows:
            continue
        occurrence_id = PREFIX + key
        row = rows[occurrence_id]
        assert row["countryCode"] == {"België": "BE", "Nederland": "NL", "Frankrijk": "FR", "Duitsland": "DE"}[land]
        if isinstance(date, str) and date.startswith("ca. "):  # flagged, kept verbatim, never guessed
            assert row["eventDate"] == "" and row["verbatimEventDate"] == date
            assert "RECORDED_DATE_INVALID" in flags[occurrence_id]
            checked.add("circa")
        elif isinstance(date, str) and len(date.split()) == 3:  # 12 juni 1998
            day, month, year = date.split()
            assert row["eventDate"] == f"{year}-{DUTCH_MONTHS.index(month) + 1:02d}-{int(day):02d}"
            checked.add("dutch")
        elif date is not None and not isinstance(date, str):
            assert row["eventDate"] == date.date().isoformat()
        if coordinates:  # 50°51'N 4°21'E
            latitude, _ = coordinates.split()
            degrees, minutes = latitude.rstrip("N'").split("°")
            assert abs(float(row["decimalLatitude"]) - (int(degrees) + int(minutes) / 60)) < 1e-6
            checked.add("dms")
    assert checked == {"circa", "dutch", "dms"}
    assert "COUNTRY_COORDINATE_MISMATCH" not in result.issues


def test_the_package_is_valid_and_holds_measurements_as_assertions(published, tmp_path):
    result, core, extensions = published
    tables = assert_valid_package(result, tmp_path)
    assert {row["materialEntity_pk"] for row in tables["material"]} == set(core)
    assertions = sorted((row["materialEntity_fk"], row["assertionType"], row["assertionValue"],
                         row["assertionUnit"]) for row in tables["material-assertion"])
    assert assertions == sorted((core_id, row["measurementType"], row["measurementValue"], row["measurementUnit"])
                                for core_id, row in extensions["MeasurementOrFact"])
    assert Path(result.dwc_dp).name == f"dwc-dp-{result.version}.zip"
