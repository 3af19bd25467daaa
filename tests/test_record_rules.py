"""Record rules (issue 10 items 5 and 7): filters that exclude records, and sensitive data generalised, withheld or
excluded (mappers/rules.py), from the pure functions to a run of the sample database read back with
python-dwca-reader."""
from __future__ import annotations

import csv
import json
import math
import sqlite3
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from dwca.read import DwCAReader
from pydantic import ValidationError
from pyproj import Geod, Transformer

from mobilise.mappers.rules import (WITHHELD_VALUE, apply_rules, condition_holds, decimals_cell, exclusions,
                                    generalise, grid_cell, point_dependants, taxon_matches, with_verbatim)
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.settings import (ConfigError, GeneraliseConfig, RecordCondition, SensitiveConfig, SensitiveRule,
                               TermSource, load_config)
from tests.conftest import SAMPLE_CONFIG
from tests.pipeline_helpers import run_stages

GEOD = Geod(ellps="WGS84")
VALUES = pa.array(["1", "0", None, "2.5", "abc", " 10 ", ""])  # trimmed text; "" is no value


def holds(**condition) -> list[bool]:
    return condition_holds(VALUES, RecordCondition(column="x", **condition)).tolist()


# --- filters: each operator ------------------------------------------------------------------------------------

def test_equals_and_not_equals_compare_the_trimmed_text():
    assert holds(equals=1) == [True, False, False, False, False, False, False]
    assert holds(equals="10") == [False, False, False, False, False, True, False]
    # no value is not equal to anything: not_equals keeps it
    assert holds(not_equals="1") == [False, True, True, True, True, True, True]


def test_in_and_not_in():
    assert holds(**{"in": [0, "abc"]}) == [False, True, False, False, True, False, False]
    assert holds(not_in=["0", "abc"]) == [True, False, True, True, False, True, True]


def test_empty_true_and_false():
    assert holds(empty=True) == [False, False, True, False, False, False, True]
    assert holds(empty=False) == [True, True, False, True, True, True, False]


def test_matches_searches_the_regular_expression():
    assert holds(matches=r"^\d+$") == [True, True, False, False, False, True, False]
    assert holds(matches="b") == [False, False, False, False, True, False, False]


@pytest.mark.parametrize("operator, expected", [
    ("greater_than", [False, False, False, True, False, True, False]),
    ("at_least", [True, False, False, True, False, True, False]),
    ("less_than", [False, True, False, False, False, False, False]),
    ("at_most", [True, True, False, False, False, False, False]),
])
def test_number_comparisons_fail_on_no_number(operator, expected):
    assert holds(**{operator: 1}) == expected


def test_a_condition_takes_exactly_one_operator_and_a_valid_regex():
    with pytest.raises(ValidationError, match="exactly one of"):
        RecordCondition(column="x", equals="a", not_equals="b")
    with pytest.raises(ValidationError, match="exactly one of"):
        RecordCondition(column="x")
    with pytest.raises(ValidationError, match="not a regular expression"):
        RecordCondition(column="x", matches="(")


def test_first_excluding_rule_is_named_exclude_when_before_filters():
    batch = pa.table({"public": ["1", "0", "1", "0", "1"], "basis": ["a", "a", "fossil", "fossil", None]})
    filters = [RecordCondition(column="basis", not_equals="fossil", reason="no fossils"),
               RecordCondition(column="basis", empty=False)]
    exclude_when = [RecordCondition(column="public", equals=0, reason="not for publication")]
    assert exclusions(batch, filters, exclude_when) == [
        None, "not for publication", "no fossils", "not for publication", "basis empty false"]


def test_apply_rules_drops_excluded_rows_and_renumbers_issues():
    batch = pa.table({"guid": ["g0", "g1", "g2"], "keep": ["y", "n", "y"]})
    table = pa.table({"occurrenceID": ["o0", "o1", "o2"], "country": ["BE", "XX", "YY"]})
    issues = pa.table({"row": [1, 2], "term": ["country", "country"], "flag": ["COUNTRY_INVALID"] * 2,
                       "value": ["XX", "YY"]}, schema=ISSUE_SCHEMA)
    outcome = apply_rules(batch, table, issues, [RecordCondition(column="keep", equals="y")], None, ["guid"])
    assert outcome.table["occurrenceID"].to_pylist() == ["o0", "o2"]
    assert outcome.kept.tolist() == [0, 2]
    assert outcome.issues.to_pylist() == [{"row": 1, "term": "country", "flag": "COUNTRY_INVALID", "value": "YY"}]
    assert outcome.excluded.to_pylist() == [
        {"rule": "keep equals 'y'", "occurrenceID": "o1", "source.guid": "g1", "source.keep": "n"}]


# --- sensitive: which records ------------------------------------------------------------------------------------

def test_taxa_match_name_species_genus_and_genus_term():
    names = pa.array(["Lycaena dispar batavus", "lycaena  DISPAR (Haworth, 1802)", "Lycaena phlaeas", "Helix",
                      None, "Carabus auratus"])
    genera = pa.array([None, None, None, None, "Carabus", None])
    assert taxon_matches(names, genera, ["Lycaena dispar"]).tolist() == [True, True, False, False, False, False]
    assert taxon_matches(names, genera, ["Carabus", "helix"]).tolist() == [False, False, False, True, True, True]


# --- sensitive: generalisation maths -------------------------------------------------------------------------

def _distance(lat1, lon1, lat2, lon2) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_grid_cell_is_the_utm_square_centre_and_covers_the_square():
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)
    cell = grid_cell(50.8503, 4.3517, 10)
    assert cell.system == "UTM zone 31N"
    x, y = to_utm.transform(float(cell.longitude), float(cell.latitude))
    # the published point is the centre of the 10 km square holding the point (to the 5 decimals published)
    px, py = to_utm.transform(4.3517, 50.8503)
    assert abs(x - (math.floor(px / 10_000) * 10_000 + 5_000)) < 2
    assert abs(y - (math.floor(py / 10_000) * 10_000 + 5_000)) < 2
    # half the square's diagonal, give or take the zone's scale factor
    assert 5_000 * math.sqrt(2) * 0.995 < cell.radius < 5_000 * math.sqrt(2) * 1.005
    # every point of the square is within the radius; points of one square share the published point
    for dx in (1, 5_000, 9_999):  # (a point exactly on a boundary may round-trip to either side)
        for dy in (1, 3_000, 9_999):
            lon, lat = to_utm.transform(math.floor(px / 10_000) * 10_000 + dx,
                                        math.floor(py / 10_000) * 10_000 + dy, direction="INVERSE")
            same = grid_cell(lat, lon, 10)
            assert (same.latitude, same.longitude) == (cell.latitude, cell.longitude)
            assert _distance(lat, lon, float(cell.latitude), float(cell.longitude)) <= cell.radius
    neighbour = grid_cell(50.8503 + 0.1, 4.3517, 10)  # 11 km north: the next square
    assert 9_000 < _distance(float(cell.latitude), float(cell.longitude),
                             float(neighbour.latitude), float(neighbour.longitude)) < 11_000


def test_grid_uses_ups_near_the_poles_and_the_southern_zones():
    assert grid_cell(86.0, 10.0, 5).system == "UPS North"
    assert grid_cell(-82.0, 10.0, 5).system == "UPS South"
    south = grid_cell(-33.86, 151.2, 1)
    assert south.system == "UTM zone 56S" and _distance(-33.86, 151.2, float(south.latitude),
                                                       float(south.longitude)) <= south.radius


def test_decimals_round_half_up_and_cover_the_rounding_cell():
    cell = decimals_cell("50.8503", "4.3517", 1)
    assert (cell.latitude, cell.longitude) == ("50.9", "4.4")
    near_zero = decimals_cell("-0.04", "0.05", 1)
    assert (near_zero.latitude, near_zero.longitude) == ("0", "0.1")  # no '-0'; half away from zero
    # the farthest corner of the 0.1° x 0.1° cell around 50.9, 4.4: 0.05° of latitude and of longitude away
    corners = [_distance(50.9, 4.4, 50.9 + a, 4.4 + b) for a in (-0.05, 0.05) for b in (-0.05, 0.05)]
    assert max(corners) <= cell.radius < max(corners) + 1
    rounded = decimals_cell("12.3456", "-45.6789", 0)
    assert (rounded.latitude, rounded.longitude) == ("12", "-46")


def test_uncertainty_is_widened_to_cover_the_cell_never_narrowed():
    lat, lon, uncertainty, text = generalise("50.8503", "4.3517", "250", GeneraliseConfig(grid_km=10))
    radius = grid_cell(50.8503, 4.3517, 10).radius
    assert int(uncertainty) == math.ceil(radius + 250)
    assert "10 km grid square (UTM zone 31N, WGS84)" in text and f"{uncertainty} m" in text
    _, _, wide, _ = generalise("50.8503", "4.3517", "50000", GeneraliseConfig(grid_km=1))
    assert int(wide) >= 50_000
    _, _, none_given, _ = generalise("50.8503", "4.3517", None, GeneraliseConfig(decimals=2))
    assert int(none_given) == math.ceil(decimals_cell("50.8503", "4.3517", 2).radius)
    assert generalise("95", "4", None, GeneraliseConfig(decimals=1)) is None
    assert generalise(None, "4", None, GeneraliseConfig(decimals=1)) is None


def test_sensitive_rule_generalises_withholds_and_fills_the_texts():
    batch = pa.table({"guid": ["a", "b", "c"], "cites": ["I", None, None]})
    table = pa.table({
        "occurrenceID": ["o1", "o2", "o3"],
        "scientificName": ["Pan troglodytes", "Lycaena dispar", "Helix pomatia"],
        "decimalLatitude": ["-1.23456", "50.8503", "50.1"], "decimalLongitude": ["29.87654", "4.3517", "5.2"],
        "coordinateUncertaintyInMeters": ["30", None, "100"],
        "verbatimLatitude": ["1°14'S", "50.8503N", "50.1"], "locality": ["Forest camp", "Meadow", "Garden"],
        "dataGeneralizations": [None, "label transcribed", None], "informationWithheld": [None, None, None]})
    issues = pa.table({"row": [1, 2], "term": ["decimalLatitude", "decimalLatitude"],
                       "flag": ["COORDINATE_ROUNDED", "COORDINATE_ROUNDED"], "value": ["50.8503N", "50.1"]},
                      schema=ISSUE_SCHEMA)
    sensitive = SensitiveConfig(rules=[
        SensitiveRule(name="CITES", flag_column="cites", values=["I"], generalise={"decimals": 1},
                      withhold=["locality"]),
        SensitiveRule(taxa=["Lycaena dispar"], generalise={"grid_km": 10})])
    outcome = apply_rules(batch, table, issues, [], sensitive, ["guid"])
    rows = outcome.table.to_pylist()
    assert (rows[0]["decimalLatitude"], rows[0]["decimalLongitude"]) == ("-1.2", "29.9")
    assert int(rows[0]["coordinateUncertaintyInMeters"]) > 30 + 7_000
    assert rows[0]["locality"] is None and rows[0]["verbatimLatitude"] is None
    assert rows[0]["informationWithheld"] == "locality, verbatimLatitude withheld: sensitive record (CITES)"
    assert rows[0]["dataGeneralizations"].startswith("sensitive record (CITES): coordinates rounded to 1 decimal")
    grid = grid_cell(50.8503, 4.3517, 10)
    assert (rows[1]["decimalLatitude"], rows[1]["decimalLongitude"]) == (grid.latitude, grid.longitude)
    assert rows[1]["locality"] == "Meadow" and rows[1]["verbatimLatitude"] is None
    assert rows[1]["dataGeneralizations"].startswith("label transcribed | sensitive record: coordinates generalised")
    assert rows[2] == table.to_pylist()[2]  # not sensitive: untouched
    flags = {(i["row"], i["flag"]) for i in outcome.issues.to_pylist()}
    assert {(0, "COORDINATES_GENERALISED"), (0, "INFORMATION_WITHHELD"), (1, "COORDINATES_GENERALISED"),
            (1, "INFORMATION_WITHHELD")} <= flags and not any(row == 2 and "WITHHELD" in f for row, f in flags)
    values = {(i["row"], i["flag"]): i["value"] for i in outcome.issues.to_pylist()}
    assert values[(1, "COORDINATE_ROUNDED")] == WITHHELD_VALUE and values[(2, "COORDINATE_ROUNDED")] == "50.1"


QUALIFIED = ["Lynx cf. lynx", "Lynx aff. lynx", "Lynx lynx?", "Lynx ?lynx", "cf. Lynx lynx", "Lynx cf.lynx",
             "Lynx sp.", "Lynx sp. nov.", "Lynx pardinus", "Felis cf. catus", "Lynx (Lynx) lynx Linnaeus, 1758"]


def test_identification_qualifiers_are_left_out_before_matching():
    """A species rule protects "Lynx cf. lynx" (and aff., '?'); a genus rule also protects "Lynx sp." and the
    genus's other species; "Lynx sp." is no Lynx lynx for a species rule."""
    names = pa.array(QUALIFIED)
    assert taxon_matches(names, None, ["Lynx lynx"]).tolist() == [True] * 6 + [False, False, False, False, True]
    assert taxon_matches(names, None, ["Lynx"]).tolist() == [True] * 9 + [False, True]
    assert taxon_matches(names, None, ["Felis catus"]).tolist() == [False] * 9 + [True, False]
    # the taxa list is read the same way: a qualified name there names the taxon
    assert taxon_matches(pa.array(["Lynx lynx"]), None, ["Lynx cf. lynx"]).tolist() == [True]
    assert taxon_matches(pa.array(["?", "sp.", None]), pa.array(["Lynx", None, None]), ["Lynx"]).tolist() == [
        True, False, False]


def test_withholding_a_term_withholds_its_verbatim_counterpart():
    assert with_verbatim(["locality", "habitat", "eventDate"]) == [
        "locality", "verbatimLocality", "habitat", "eventDate", "verbatimEventDate"]
    assert with_verbatim(["minimumElevationInMeters", "maximumElevationInMeters"]) == [
        "minimumElevationInMeters", "verbatimElevation", "maximumElevationInMeters"]


def test_terms_read_from_the_points_columns_are_its_dependants():
    sources = {"occurrenceID": TermSource(template="urn:x:{lat}:{guid}"),
               "decimalLatitude": TermSource(column=["lat", "lat_text"]), "decimalLongitude": TermSource(column="lon"),
               "verbatimCoordinates": TermSource(column="label_coordinates"),
               "georeferenceRemarks": TermSource(template="read off the label as {lat_text}, {lon}"),
               "locationRemarks": TermSource(column="label_coordinates"), "locality": TermSource(column="place"),
               "coordinateUncertaintyInMeters": TermSource(column="lat"), "eventRemarks": TermSource(column="easting")}
    assert point_dependants(sources, keep=("occurrenceID",)) == ["georeferenceRemarks", "locationRemarks"]
    assert point_dependants(sources, {"easting"}, keep=("occurrenceID",)) == [
        "georeferenceRemarks", "locationRemarks", "eventRemarks"]


def test_a_generalised_record_withholds_verbatim_counterparts_and_the_points_dependants():
    batch = pa.table({"guid": ["a", "b", "c"], "cites": [None, "I", None]})
    table = pa.table({
        "occurrenceID": ["o1", "o2", "o3"], "scientificName": ["Lynx cf. lynx", "Felis catus", "Felis catus"],
        "decimalLatitude": ["50.8503", "50.8503", "50.8503"], "decimalLongitude": ["4.3517", "4.3517", "4.3517"],
        "locality": ["Meadow", "Meadow", "Meadow"], "verbatimLocality": ["meadow by the mill", None, "the mill"],
        "georeferenceRemarks": ["label: 50.8503, 4.3517"] * 3,
        "eventDate": ["2001-05-06"] * 3, "verbatimEventDate": ["6 v 2001", "6 v 2001", None],
        "dataGeneralizations": [None] * 3, "informationWithheld": [None] * 3})
    issues = pa.table({"row": [0, 2], "term": ["verbatimLocality", "verbatimLocality"],
                       "flag": ["CONTROL_CHARACTERS_REMOVED"] * 2, "value": ["meadow by the mill", "the mill"]},
                      schema=ISSUE_SCHEMA)
    sensitive = SensitiveConfig(rules=[
        SensitiveRule(name="lynx", taxa=["Lynx lynx"], generalise={"grid_km": 10}, withhold=["locality"]),
        SensitiveRule(name="CITES", flag_column="cites", values=["I"], withhold=["eventDate"])])
    outcome = apply_rules(batch, table, issues, [], sensitive, ["guid"], ["georeferenceRemarks"])
    lynx, cites, other = outcome.table.to_pylist()
    assert lynx["locality"] is lynx["verbatimLocality"] is lynx["georeferenceRemarks"] is None
    assert lynx["informationWithheld"] == (
        "locality, verbatimLocality, georeferenceRemarks withheld: sensitive record (lynx)")
    assert lynx["verbatimEventDate"] == "6 v 2001"  # not withheld by this rule
    # withheld without generalising: the point is published as it is, so are the terms read from it
    assert cites["eventDate"] is cites["verbatimEventDate"] is None
    assert cites["georeferenceRemarks"] == "label: 50.8503, 4.3517" and cites["decimalLatitude"] == "50.8503"
    assert cites["informationWithheld"] == "eventDate, verbatimEventDate withheld: sensitive record (CITES)"
    assert other == table.to_pylist()[2]
    values = {(i["row"], i["flag"]): i["value"] for i in outcome.issues.to_pylist()}
    assert values[(0, "CONTROL_CHARACTERS_REMOVED")] == WITHHELD_VALUE
    assert values[(2, "CONTROL_CHARACTERS_REMOVED")] == "the mill"


# --- end to end on a small SQLite source: verbatimLocality, a template of the point, cf. names ---------------------

LYNX_ROWS = [  # id, name, locality, verbatim_locality, lat, lon
    (1, "Lynx lynx", "Bialowieza forest", "Bialowieza, by the old oak", 52.70123, 23.86456),
    (2, "Lynx cf. lynx", "Bieszczady", "Bieszczady, Wetlina pass", 49.15987, 22.53321),
    (3, "Lynx lynx?", "Tatra", "Tatra, Koscieliska valley", 49.25777, 19.86643),
    (4, "Felis silvestris", "Eifel", "Eifel, Daun quarry", 50.19712, 6.83219),
]


def _lynx_config(tmp_path: Path) -> Path:
    database = tmp_path / "lynx.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE specimen (id INTEGER PRIMARY KEY, name TEXT, locality TEXT, "
                           "verbatim_locality TEXT, lat REAL, lon REAL)")
        connection.executemany("INSERT INTO specimen VALUES (?, ?, ?, ?, ?, ?)", LYNX_ROWS)
    path = tmp_path / "lynx.yaml"
    path.write_text(textwrap.dedent(f"""\
        source:
          url: "sqlite:///{database}"
          table: specimen
        metadata:
          title: Lynx records
          shortname: lynx
          abstract: [Sensitive records of lynx.]
          licence: CC0-1.0
          creators: [{{organisation: Test, email: test@example.org}}]
          contacts: [{{organisation: Test, email: test@example.org}}]
        mapping:
          occurrenceID: {{template: "urn:test:{{id}}"}}
          basisOfRecord: {{constant: PreservedSpecimen}}
          eventDate: {{constant: "2001-05-06"}}
          scientificName: name
          locality: locality
          verbatimLocality: verbatim_locality
          decimalLatitude: lat
          decimalLongitude: lon
          geodeticDatum: {{constant: EPSG:4326}}
          georeferenceRemarks: {{template: "read off the label as {{lat}} N {{lon}} E"}}
        sensitive:
          rules:
            - name: lynx
              taxa: [Lynx lynx]
              generalise: {{grid_km: 10}}
              withhold: [locality]
        validation:
          bdq: {{enabled: false}}
          dissco: ignore
        gates: {{max_rejected_share: null, max_drop_share: null}}
        output:
          directory: {tmp_path / "output"}
          dwc_dp: true
        """), encoding="utf-8")
    return path


def test_a_generalised_lynx_keeps_no_locality_nor_point_in_either_package(tmp_path, monkeypatch):
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "output"))
    config = load_config(_lynx_config(tmp_path))
    from mobilise.mappers.mapping import MappingPlan

    assert MappingPlan.from_config(config).point_dependants == ["georeferenceRemarks"]
    result = run_stages(config)
    assert result.records == len(LYNX_ROWS) and result.dwc_dp
    by_id = {record["occurrenceID"]: record for record in _core(result.archive)}
    for number, name, locality, verbatim, lat, lon in LYNX_ROWS:
        record = by_id[f"urn:test:{number}"]
        if name.startswith("Lynx"):  # Lynx lynx, cf. and '?': all protected
            assert record["locality"] == record["verbatimLocality"] == record["georeferenceRemarks"] == ""
            assert record["informationWithheld"] == (
                "locality, verbatimLocality, georeferenceRemarks withheld: sensitive record (lynx)")
            assert "10 km grid square" in record["dataGeneralizations"]
            assert record["decimalLatitude"] != str(lat)
        else:
            assert (record["locality"], record["verbatimLocality"]) == (locality, verbatim)
            assert record["georeferenceRemarks"] == f"read off the label as {lat} N {lon} E"
            assert record["informationWithheld"] == record["dataGeneralizations"] == ""
    for package in (result.archive, result.dwc_dp):
        with zipfile.ZipFile(package) as archive:
            text = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
        assert "Eifel, Daun quarry" in text and "50.19712" in text  # the unprotected record is there
        for _, name, locality, verbatim, lat, lon in LYNX_ROWS[:3]:
            assert not [secret for secret in (locality, verbatim, str(lat), str(lon)) if secret in text], package


# --- config ----------------------------------------------------------------------------------------------------

def _sample_with_rules(tmp_path: Path, rules: str) -> Path:
    """The sample config reading every specimen (public or not, ``is_public`` a column) with `rules` appended."""
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    text = text.replace("SELECT o.object_id, o.guid,", "SELECT o.object_id, o.guid, o.is_public,")
    text = text.replace("    WHERE o.is_public = 1\n", "")
    path = tmp_path / "rules.yaml"
    path.write_text(text + rules, encoding="utf-8")
    return path


def test_config_errors_point_at_the_rule(tmp_path, monkeypatch):
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "out"))
    path = _sample_with_rules(tmp_path, "filters:\n  - {column: basis, equals: a, in: [b]}\n")
    line = path.read_text().splitlines().index("  - {column: basis, equals: a, in: [b]}") + 1
    with pytest.raises(ConfigError, match=rf"rules.yaml:{line}: .*exactly one of"):
        load_config(path)
    path = _sample_with_rules(tmp_path, "sensitive:\n  rules:\n    - {taxa: missing.csv, withhold: [locality]}\n")
    with pytest.raises(ConfigError, match="missing.csv"):
        load_config(path)


# --- end to end on the sample database ---------------------------------------------------------------------------

RULES = """
filters:
  - {column: collection_code, not_equals: PAL, reason: no fossils in this dataset}
sensitive:
  exclude_when:
    - {column: is_public, equals: 0, reason: not for publication}
  rules:
    - name: protected butterflies
      taxa: [Phengaris arion, Lycaena dispar]
      generalise: {grid_km: 10}
      withhold: [locality, habitat]
    - taxa: sensitive-taxa.csv
      generalise: {decimals: 1}
"""


@pytest.fixture(scope="module")
def rules_run(sample_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rules")
    (folder / "sensitive-taxa.csv").write_text("scientificName\nPan troglodytes\n", encoding="utf-8")
    monkeypatch = pytest.MonkeyPatch()
    try:
        monkeypatch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{sample_db}")
        monkeypatch.setenv("MOBILISE_OUTPUT", str(folder / "output"))
        config = load_config(_sample_with_rules(folder, RULES))
        config.validation.bdq.enabled = False
        config.gates.max_drop_share = None
        yield run_stages(config)
    finally:
        monkeypatch.undo()


def _source(sample_db: Path) -> dict[str, dict]:
    """Every specimen of the sample by guid: public, collection, name, the numeric point and the locality."""
    with sqlite3.connect(sample_db) as connection:
        rows = connection.execute("""
            SELECT o.guid, o.is_public, c.code, t.full_name, l.latitude, l.longitude, l.locality_name
            FROM collection_object o JOIN collection c ON c.collection_id = o.collection_id
            LEFT JOIN determination d ON d.determination_id = (SELECT MAX(d2.determination_id) FROM determination d2
                                                               WHERE d2.object_id = o.object_id AND d2.is_current = 1)
            LEFT JOIN taxon t ON t.taxon_id = d.taxon_id
            LEFT JOIN collecting_event e ON e.event_id = o.event_id
            LEFT JOIN locality l ON l.locality_id = e.locality_id""").fetchall()
    keys = ("public", "collection", "name", "latitude", "longitude", "locality")
    return {guid: dict(zip(keys, rest)) for guid, *rest in rows}


def test_run_accounts_for_every_record(rules_run, sample_db):
    source = _source(sample_db)
    not_public = sum(1 for r in source.values() if r["public"] == 0)
    fossils = sum(1 for r in source.values() if r["public"] == 1 and r["collection"] == "PAL")
    result = rules_run
    assert result.extracted == len(source)
    assert result.excluded_by == {"not for publication": not_public, "no fossils in this dataset": fossils}
    assert result.excluded == not_public + fossils > 0
    assert result.records + result.rejected + result.excluded == result.extracted
    report = json.loads(Path(result.report).with_suffix(".json").read_text(encoding="utf-8"))
    totals = report["totals"]
    assert (totals["extracted"], totals["excluded"], totals["excluded_by"]) == (
        result.extracted, result.excluded, result.excluded_by)
    assert totals["published"] + totals["rejected"] + totals["excluded"] == totals["extracted"]
    assert report["files"]["excluded"] == Path(result.excluded_file).name
    html = Path(result.report).read_text(encoding="utf-8")
    assert "Excluded by rule" in html and "no fossils in this dataset" in html


def test_excluded_file_lists_each_record_with_its_rule(rules_run, sample_db):
    source = _source(sample_db)
    with open(rules_run.excluded_file, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert Path(rules_run.excluded_file).name.startswith("excluded-")
    assert len(rows) == rules_run.excluded
    # the occurrenceID's column, the record key (partition.column: what an incremental run merges by), the rules'
    assert set(rows[0]) == {"rule", "occurrenceID", "source.guid", "source.object_id", "source.collection_code",
                            "source.is_public"}
    for row in rows:
        specimen = source[row["source.guid"]]
        expected = "not for publication" if specimen["public"] == 0 else "no fossils in this dataset"
        assert row["rule"] == expected
        assert row["occurrenceID"].endswith(row["source.guid"])
    with DwCAReader(rules_run.archive) as archive:
        published = {row.id for row in archive}
    assert not published & {row["occurrenceID"] for row in rows}


def _core(archive: str) -> list[dict[str, str]]:
    with DwCAReader(archive) as reader:
        return [{iri.rsplit("/", 1)[-1]: value for iri, value in row.data.items()} for row in reader]


def test_sensitive_records_are_generalised_in_the_archive(rules_run, sample_db):
    source = _source(sample_db)
    records = _core(rules_run.archive)
    by_guid = {record["occurrenceID"].rsplit("/", 1)[-1]: record for record in records}
    butterflies = [g for g, r in source.items() if g in by_guid and r["name"]
                   and r["name"].startswith(("Phengaris arion", "Lycaena dispar"))]
    apes = [g for g, r in source.items() if g in by_guid and r["name"] and r["name"].startswith("Pan troglodytes")]
    assert len(butterflies) > 100 and len(apes) > 10
    checked = 0
    for guid in butterflies + apes:
        record, specimen = by_guid[guid], source[guid]
        grid = guid in butterflies
        assert record["verbatimLatitude"] == record["verbatimLongitude"] == record.get("verbatimCoordinates", "") == ""
        if grid:
            assert record["locality"] == record["habitat"] == ""
            assert "locality, habitat" in record["informationWithheld"]
        if not record["dataGeneralizations"]:  # no point in range to generalise: none published
            assert record["decimalLatitude"] == record["decimalLongitude"] == ""
            continue
        assert ("10 km grid square" if grid else "rounded to 1 decimal place") in record["dataGeneralizations"]
        if specimen["latitude"] is None or specimen["longitude"] is None:
            continue
        lat, lon = float(specimen["latitude"]), float(specimen["longitude"])
        cell = grid_cell(lat, lon, 10) if grid else decimals_cell(repr(lat), repr(lon), 1)
        if (record["decimalLatitude"], record["decimalLongitude"]) != (cell.latitude, cell.longitude):
            continue  # the mapping read another point (the text columns): covered by the distance below
        uncertainty = float(record["coordinateUncertaintyInMeters"])
        assert _distance(lat, lon, float(record["decimalLatitude"]), float(record["decimalLongitude"])) <= uncertainty
        assert uncertainty >= math.ceil(cell.radius)
        checked += 1
    assert checked > 50
    others = [r for g, r in by_guid.items() if g not in butterflies and g not in apes]
    assert not any(r["dataGeneralizations"] or r["informationWithheld"] for r in others)
    assert sum(1 for r in others if r["locality"]) > len(others) / 2


def test_the_precise_point_does_not_leak_into_the_run_files(rules_run, sample_db):
    """Neither the warnings file nor the report's examples show a sensitive record's source coordinates."""
    source = _source(sample_db)
    sensitive = {g for g, r in source.items() if r["name"] and r["name"].startswith(
        ("Phengaris arion", "Lycaena dispar", "Pan troglodytes"))}

    def precise(guid: str) -> list[str]:  # the source coordinates written out (those precise enough to matter)
        return [str(source[guid][k]) for k in ("latitude", "longitude")
                if source[guid][k] is not None and len(str(source[guid][k])) > 5]

    with open(rules_run.warnings, encoding="utf-8", newline="") as handle:
        warned = [row for row in csv.DictReader(handle) if row["occurrenceID"].rsplit("/", 1)[-1] in sensitive]
    assert len(warned) > 100
    assert sum("COORDINATES_GENERALISED" in row["flags"] for row in warned) > 100
    assert [row["occurrenceID"] for row in warned
            if any(text in row["messages"] for text in precise(row["occurrenceID"].rsplit("/", 1)[-1]))] == []
    report = json.loads(Path(rules_run.report).with_suffix(".json").read_text(encoding="utf-8"))
    examples = [example for per_flag in report["examples"].values() for example in per_flag
                if (example.get("occurrenceID") or "").rsplit("/", 1)[-1] in sensitive]
    assert [e for e in examples if any(t in (e.get("value") or "") for t in precise(
        e["occurrenceID"].rsplit("/", 1)[-1]))] == []
    assert rules_run.issues.get("COORDINATES_GENERALISED", 0) > 50


def test_no_run_file_keeps_a_sensitive_records_source_point(rules_run, sample_db):
    """The quarantine shows every source column of a rejected record: a sensitive one's point, verbatim location
    and withheld terms are empty there (their source values were withheld once mapped)."""
    source = _source(sample_db)
    with open(rules_run.quarantine, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sensitive = [row for row in rows if (source[row["source.guid"]]["name"] or "").startswith(
        ("Phengaris arion", "Lycaena dispar", "Pan troglodytes"))]
    assert sensitive, "the sample has rejected sensitive records (no basisOfRecord, an invalid one)"
    for row in sensitive:
        assert [row[f"source.{c}"] for c in ("latitude", "longitude", "latitude_text", "longitude_text")] == [""] * 4
    others = [row for row in rows if row not in sensitive]
    assert any(row["source.latitude"] for row in others)  # the others keep theirs


def test_plan_names_the_source_columns_of_hidden_terms(tmp_path, monkeypatch):
    from mobilise.mappers.mapping import MappingPlan
    from mobilise.mappers.rules import withhold_source

    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "out"))
    (tmp_path / "sensitive-taxa.csv").write_text("scientificName\nPan troglodytes\n", encoding="utf-8")
    plan = MappingPlan.from_config(load_config(_sample_with_rules(tmp_path, RULES)))
    # decimalLatitude/Longitude from [latitude, latitude_text] and [longitude, longitude_text]; locality, habitat
    assert plan.sensitive_columns == ["habitat", "latitude", "latitude_text", "locality_name", "longitude",
                                      "longitude_text"]
    assert {"dataGeneralizations", "informationWithheld", "coordinateUncertaintyInMeters"} <= set(plan.terms)
    source = pa.table({"guid": ["a", "b"], "latitude": [50.1, 51.2], "habitat": ["wood", "dune"]})
    kept = withhold_source(source, np.array([False, True]), plan.sensitive_columns)
    assert kept.to_pylist() == [{"guid": "a", "latitude": 50.1, "habitat": "wood"},
                                {"guid": "b", "latitude": None, "habitat": None}]


def test_prefect_artifact_markdown_counts_the_excluded(rules_run):
    from mobilise.publishers.report import artifact_markdown

    report = json.loads(Path(rules_run.report).with_suffix(".json").read_text(encoding="utf-8"))
    markdown = artifact_markdown(report)
    assert f"## Excluded by rule: {rules_run.excluded:,}" in markdown
    for rule, count in rules_run.excluded_by.items():
        assert f"| {rule} | {count:,} |" in markdown
    report["totals"]["excluded"], report["totals"]["excluded_by"] = 0, {}
    assert "Excluded by rule" not in artifact_markdown(report)


def test_records_a_new_filter_removes_are_named_as_excluded_in_the_changes(sample_db, tmp_path, monkeypatch):
    monkeypatch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{sample_db}")
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "output"))
    first = load_config(_sample_with_rules(tmp_path, ""))
    first.validation.bdq.enabled = False
    before = run_stages(first)
    assert before.excluded == 0 and before.excluded_file is None
    second = load_config(_sample_with_rules(tmp_path, RULES.split("sensitive:")[0]))  # the PAL filter alone
    second.validation.bdq.enabled = False
    second.gates.max_drop_share = None
    after = run_stages(second)
    fossils = after.excluded_by["no fossils in this dataset"]
    assert after.excluded == fossils > 0
    changes = after.changes
    # every fossil published in the first version is now excluded, and said so
    with DwCAReader(before.archive) as archive:
        published_fossils = sum(1 for row in archive if row.data["http://rs.tdwg.org/dwc/terms/collectionCode"]
                                == "PAL")
    assert changes["removed"] == changes["now_excluded"] == published_fossils
    assert any("now excluded by the dataset's rules" in cause for cause in changes["causes"])


def test_a_sensitive_rule_says_which_records_and_what_to_do():
    assert SensitiveRule(taxa="Phengaris arion", withhold=["locality"]).taxa == ["Phengaris arion"]
    assert SensitiveRule(taxa="names.csv", withhold=["locality"]).taxa == Path("names.csv")
    with pytest.raises(ValidationError, match="say which records"):
        SensitiveRule(withhold=["locality"])
    with pytest.raises(ValidationError, match="say what to do"):
        SensitiveRule(taxa=["Phengaris arion"])
    with pytest.raises(ValidationError, match="flag_column and values go together"):
        SensitiveRule(flag_column="cites", withhold=["locality"])
    with pytest.raises(ValidationError, match="occurrenceID cannot be withheld"):
        SensitiveRule(taxa=["Phengaris arion"], withhold=["occurrenceID"])
    with pytest.raises(ValidationError, match="exactly one of grid_km"):
        SensitiveRule(taxa=["Phengaris arion"], generalise={"grid_km": 10, "decimals": 1})


def test_a_dry_run_lists_the_excluded_in_validation_and_leaves_no_stale_list(sample_db, tmp_path, monkeypatch):
    monkeypatch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{sample_db}")
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "output"))
    config = load_config(_sample_with_rules(tmp_path, RULES.split("sensitive:")[0]))
    config.validation.bdq.enabled = False
    dry = run_stages(config, dry_run=True)
    assert dry.version is None and Path(dry.excluded_file).parent.name == "validation"
    with open(dry.excluded_file, encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == dry.excluded > 0
    config.filters = []
    again = run_stages(config, dry_run=True)
    assert again.excluded == 0 and again.excluded_file is None and not Path(dry.excluded_file).exists()


def test_a_filter_that_excludes_every_record_publishes_nothing_and_says_so(sample_db, tmp_path, monkeypatch):
    """A new dataset whose filter keeps nothing: no empty version 1.0 in the feeds, a gate that names the rule."""
    from mobilise.publishers.publication import PublicationDirectory
    from mobilise.publishers.publish import PublicationGateError
    from mobilise.settings import RecordCondition

    monkeypatch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{sample_db}")
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "output"))
    config = load_config(_sample_with_rules(tmp_path, ""))
    config.validation.bdq.enabled = False
    config.filters = [RecordCondition(column="is_public", equals="nope", reason="not public")]
    with pytest.raises(PublicationGateError) as failure:
        run_stages(config)
    assert "records_published: none of the" in str(failure.value)
    assert "by rule 'not public'" in str(failure.value)
    directory = PublicationDirectory(config.publication_directory)
    assert directory.log.latest() is None and not list(directory.directory.glob("dwca*.zip"))
