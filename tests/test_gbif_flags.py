"""GBIF's offline occurrence issue flags (validators/gbif/): each fires on its defect and not on a near miss."""
from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from mobilise.flags import FLAGS
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.validators import gbif
from mobilise.validators.registry import CHECKS, CheckContext

ROOT = Path(__file__).resolve().parents[1]
STANDARDS = ROOT.parent / "shared" / "standards"
CSV = STANDARDS / "bdq" / "derived_gbif_occurrence_issues.csv"
DOC = ROOT / "docs" / "gbif-issue-flags.md"
OFFLINE = ("offline", "offline with bundled vocabulary", "offline with bundled country/continent polygons",
           "offline with local EPSG/PROJ database")
TODAY = date(2026, 11, 22)

# flag: (record where it fires, near miss where it must not); terms not given are empty
CASES = {
    "COORDINATE_ROUNDED": ({"decimalLatitude": "50.123456", "decimalLongitude": "4.3"},
                           {"decimalLatitude": "50.12345", "decimalLongitude": "4.3"}),
    "COORDINATE_PRECISION_INVALID": ({"coordinatePrecision": "5"}, {"coordinatePrecision": "0.0001"}),
    "COORDINATE_UNCERTAINTY_METERS_INVALID": ({"coordinateUncertaintyInMeters": "6000000"},
                                              {"coordinateUncertaintyInMeters": "4000000"}),
    "GEODETIC_DATUM_INVALID": ({"geodeticDatum": "Greenwich potato datum"}, {"geodeticDatum": "EPSG:4230"}),
    "GEODETIC_DATUM_ASSUMED_WGS84": ({"decimalLatitude": "50.8", "decimalLongitude": "4.3"},
                                     {"decimalLatitude": "50.8", "decimalLongitude": "4.3", "geodeticDatum": "WGS 84"}),
    "COORDINATE_REPROJECTED": ({"decimalLatitude": "50.8", "decimalLongitude": "4.3", "geodeticDatum": "ED50"},
                               {"decimalLatitude": "50.8", "decimalLongitude": "4.3", "geodeticDatum": "EPSG:4326"}),
    "COORDINATE_REPROJECTION_FAILED": (
        {"decimalLatitude": "10", "decimalLongitude": "10", "geodeticDatum": "IAU_2015:30100"},  # the Moon
        {"decimalLatitude": "52.1", "decimalLongitude": "5.1", "geodeticDatum": "EPSG:28992"}),
    "COORDINATE_REPROJECTION_SUSPICIOUS": (
        {"decimalLatitude": "52.1", "decimalLongitude": "5.1", "geodeticDatum": "+proj=longlat +a=6378137 "
         "+rf=298.257223563 +towgs84=20000,0,0 +no_defs"},
        {"decimalLatitude": "50.8", "decimalLongitude": "4.3", "geodeticDatum": "ED50"}),
    "FOOTPRINT_SRS_INVALID": ({"footprintSRS": "EPSG:99999999"}, {"footprintSRS": "EPSG:4326"}),
    "FOOTPRINT_WKT_INVALID": ({"footprintWKT": "POLYGON((0 0, 1 0"},
                              {"footprintWKT": "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"}),
    "FOOTPRINT_WKT_MISMATCH": (
        {"footprintWKT": "POLYGON((4 50, 5 50, 5 51, 4 51, 4 50))", "decimalLatitude": "52.5",
         "decimalLongitude": "4.5"},
        {"footprintWKT": "POLYGON((4 50, 5 50, 5 51, 4 51, 4 50))", "decimalLatitude": "50.5",
         "decimalLongitude": "4.5"}),
    "COUNTRY_COORDINATE_MISMATCH": ({"decimalLatitude": "40", "decimalLongitude": "-100", "countryCode": "BE"},
                                    {"decimalLatitude": "50.85", "decimalLongitude": "4.35", "countryCode": "BE"}),
    "PRESUMED_NEGATED_LATITUDE": ({"decimalLatitude": "-50.85", "decimalLongitude": "4.35", "countryCode": "BE"},
                                  {"decimalLatitude": "-50.85", "decimalLongitude": "4.35", "countryCode": "AR"}),
    "PRESUMED_NEGATED_LONGITUDE": ({"decimalLatitude": "50.85", "decimalLongitude": "-4.35", "countryCode": "BE"},
                                   {"decimalLatitude": "50.85", "decimalLongitude": "-4.35", "countryCode": "GB"}),
    "PRESUMED_SWAPPED_COORDINATE": ({"decimalLatitude": "4.35", "decimalLongitude": "50.85", "countryCode": "BE"},
                                    {"decimalLatitude": "50.85", "decimalLongitude": "4.35", "countryCode": "BE"}),
    "COUNTRY_MISMATCH": ({"country": "Belgique", "countryCode": "NL"}, {"country": "Belgique", "countryCode": "BE"}),
    "COUNTRY_INVALID": ({"country": "Atlantis"}, {"country": "unknown"}),
    "COUNTRY_DERIVED_FROM_COORDINATES": ({"decimalLatitude": "50.85", "decimalLongitude": "4.35"},
                                         {"decimalLatitude": "50.85", "decimalLongitude": "4.35", "country": "Belgium"}),
    "CONTINENT_INVALID": ({"continent": "Atlantis"}, {"continent": "Noord-Amerika"}),
    "CONTINENT_COUNTRY_MISMATCH": ({"continent": "Asia", "countryCode": "BE"},
                                   {"continent": "Asia", "countryCode": "RU"}),
    "CONTINENT_COORDINATE_MISMATCH": ({"continent": "Africa", "decimalLatitude": "50.85", "decimalLongitude": "4.35"},
                                      {"continent": "Europe", "decimalLatitude": "50.85", "decimalLongitude": "4.35"}),
    "CONTINENT_DERIVED_FROM_COORDINATES": ({"decimalLatitude": "50.85", "decimalLongitude": "4.35"},
                                           {"decimalLatitude": "50.85", "decimalLongitude": "4.35",
                                            "continent": "EUROPE"}),
    "CONTINENT_DERIVED_FROM_COUNTRY": ({"countryCode": "BE"}, {"countryCode": "RU"}),
    "RECORDED_DATE_MISMATCH": ({"eventDate": "1887-05-12", "year": "1887", "month": "6"},
                               {"eventDate": "1887-05-01/1887-05-31", "year": "1887", "month": "5", "day": "12",
                                "startDayOfYear": "121"}),
    "MODIFIED_DATE_UNLIKELY": ({"modified": "1969-12-31"}, {"modified": "1970"}),
    "IDENTIFIED_DATE_UNLIKELY": ({"dateIdentified": "2027-01"}, {"dateIdentified": "1700-01-01"}),
    "GEOREFERENCED_DATE_UNLIKELY": ({"georeferencedDate": "1650"}, {"georeferencedDate": "2026-11-22"}),
    "DEPTH_NON_NUMERIC": ({"minimumDepthInMeters": "deep"}, {"minimumDepthInMeters": "ca. 10-20 m"}),
    "DEPTH_NOT_METRIC": ({"maximumDepthInMeters": "30 ft"}, {"maximumDepthInMeters": "30 m"}),
    "DEPTH_UNLIKELY": ({"maximumDepthInMeters": "11001"}, {"maximumDepthInMeters": "10999"}),
    "DEPTH_MIN_MAX_SWAPPED": ({"minimumDepthInMeters": "20", "maximumDepthInMeters": "10"},
                              {"minimumDepthInMeters": "10", "maximumDepthInMeters": "20"}),
    "ELEVATION_UNLIKELY": ({"maximumElevationInMeters": "17001"}, {"maximumElevationInMeters": "8848"}),
    "SUSPECTED_TYPE": ({"typeStatus": "possible holotype"}, {"typeStatus": "Holotype"}),
    "REFERENCES_URI_INVALID": ({"references": "see label"}, {"references": "www.example.org/specimen/1"}),
    "MULTIMEDIA_URI_INVALID": ({"associatedMedia": "https://example.org/media/1.jpg | photo on file"},
                               {"associatedMedia": "https://example.org/media/1.jpg | https://example.org/media/2.tif,"
                                                   " www.example.org/media/3.jpg"}),
    "OCCURRENCE_STATUS_UNPARSABLE": ({"occurrenceStatus": "seen"}, {"occurrenceStatus": "absent"}),
    "INDIVIDUAL_COUNT_CONFLICTS_WITH_OCCURRENCE_STATUS": ({"occurrenceStatus": "absent", "individualCount": "3"},
                                                          {"occurrenceStatus": "absent", "individualCount": "0"}),
    "OCCURRENCE_STATUS_INFERRED_FROM_INDIVIDUAL_COUNT": ({"individualCount": "3"},
                                                         {"individualCount": "3", "occurrenceStatus": "present"}),
    "OCCURRENCE_STATUS_INFERRED_FROM_BASIS_OF_RECORD": ({"basisOfRecord": "PreservedSpecimen"},
                                                        {"basisOfRecord": "HumanObservation"}),
    "EON_OR_EONOTHEM_RANK_MISMATCH": ({"earliestEonOrLowestEonothem": "Jurassic"},
                                      {"earliestEonOrLowestEonothem": "Phanerozoic Eonothem"}),
    "ERA_OR_ERATHEM_RANK_MISMATCH": ({"latestEraOrHighestErathem": "Phanerozoic"},
                                     {"latestEraOrHighestErathem": "Cainozoic"}),
    "PERIOD_OR_SYSTEM_RANK_MISMATCH": ({"earliestPeriodOrLowestSystem": "Lower Jurassic"},
                                       {"earliestPeriodOrLowestSystem": "Lias"}),  # not in the chart: no flag
    "EPOCH_OR_SERIES_RANK_MISMATCH": ({"earliestEpochOrLowestSeries": "Toarcian"},
                                      {"earliestEpochOrLowestSeries": "Lower Jurassic"}),
    "AGE_OR_STAGE_RANK_MISMATCH": ({"latestAgeOrHighestStage": "Miocene"}, {"latestAgeOrHighestStage": "Messinian"}),
    "EON_OR_EONOTHEM_INVALID_RANGE": (
        {"earliestEonOrLowestEonothem": "Phanerozoic", "latestEonOrHighestEonothem": "Archean"},
        {"earliestEonOrLowestEonothem": "Archean", "latestEonOrHighestEonothem": "Phanerozoic"}),
    "ERA_OR_ERATHEM_INVALID_RANGE": (
        {"earliestEraOrLowestErathem": "Cenozoic", "latestEraOrHighestErathem": "Mesozoic"},
        {"earliestEraOrLowestErathem": "Mesozoic", "latestEraOrHighestErathem": "Mesozoic"}),
    "PERIOD_OR_SYSTEM_INVALID_RANGE": (
        {"earliestPeriodOrLowestSystem": "Jurassic", "latestPeriodOrHighestSystem": "Triassic"},
        {"earliestPeriodOrLowestSystem": "Triassic", "latestPeriodOrHighestSystem": "Jurassic"}),
    "EPOCH_OR_SERIES_INVALID_RANGE": (
        {"earliestEpochOrLowestSeries": "Pliocene", "latestEpochOrHighestSeries": "Miocene"},
        {"earliestEpochOrLowestSeries": "Miocene", "latestEpochOrHighestSeries": "Pliocene"}),
    "AGE_OR_STAGE_INVALID_RANGE": (
        {"earliestAgeOrLowestStage": "Maastrichtian", "latestAgeOrHighestStage": "Campanian"},
        {"earliestAgeOrLowestStage": "Campanian", "latestAgeOrHighestStage": "Maastrichtian"}),
    "EON_OR_EONOTHEM_AND_ERA_OR_ERATHEM_MISMATCH": (
        {"earliestEonOrLowestEonothem": "Proterozoic", "earliestEraOrLowestErathem": "Mesozoic"},
        {"earliestEonOrLowestEonothem": "Phanerozoic", "earliestEraOrLowestErathem": "Mesozoic"}),
    "ERA_OR_ERATHEM_AND_PERIOD_OR_SYSTEM_MISMATCH": (
        {"latestEraOrHighestErathem": "Cenozoic", "latestPeriodOrHighestSystem": "Jurassic"},
        {"latestEraOrHighestErathem": "Mesozoic", "latestPeriodOrHighestSystem": "Jurassic"}),
    "PERIOD_OR_SYSTEM_AND_EPOCH_OR_SERIES_MISMATCH": (
        {"earliestPeriodOrLowestSystem": "Neogene", "earliestEpochOrLowestSeries": "Eocene"},
        {"earliestPeriodOrLowestSystem": "Paleogene", "earliestEpochOrLowestSeries": "Eocene"}),
    "EPOCH_OR_SERIES_AND_AGE_OR_STAGE_MISMATCH": (
        {"earliestEpochOrLowestSeries": "Upper Cretaceous", "earliestAgeOrLowestStage": "Albian"},
        {"earliestEpochOrLowestSeries": "Upper Cretaceous", "earliestAgeOrLowestStage": "Cenomanian"}),
}


def _fired(records: list[dict], context: CheckContext | None = None) -> list[set[str]]:
    """Flags raised by the checks of validators/gbif/, per record."""
    terms = sorted({term for record in records for term in record})
    table = pa.Table.from_pylist(records, schema=pa.schema([(t, pa.string()) for t in terms]))
    context = context or CheckContext(today=TODAY)
    fired: list[set[str]] = [set() for _ in records]
    for registered in CHECKS:
        if not registered.function.__module__.startswith(gbif.__name__ + "."):
            continue
        mask = registered.function(table, context)
        if not hasattr(mask, "tolist"):
            mask = mask.to_numpy(zero_copy_only=False)
        for row, hit in enumerate(pa.array(mask).fill_null(False).to_pylist()):
            if hit:
                fired[row].add(registered.flag)
    return fired


@pytest.fixture(scope="module")
def fired() -> list[set[str]]:
    records = [record for positive, negative in CASES.values() for record in (positive, negative)]
    return _fired(records)


@pytest.mark.parametrize("flag", sorted(CASES))
def test_flag_fires_on_its_defect_and_not_on_the_near_miss(flag, fired):
    position = 2 * list(CASES).index(flag)
    assert flag in fired[position], f"{flag} should fire on {CASES[flag][0]}"
    assert flag not in fired[position + 1], f"{flag} must not fire on {CASES[flag][1]}"


def test_elevation_not_metric_reads_the_interpreters_issue():
    table_records = [{"minimumElevationInMeters": None}, {"minimumElevationInMeters": None}]
    issues = pa.Table.from_pylist(
        [{"row": 0, "term": "minimumElevationInMeters", "flag": "ELEVATION_NON_NUMERIC", "value": "300 ft"},
         {"row": 1, "term": "minimumElevationInMeters", "flag": "ELEVATION_NON_NUMERIC", "value": "high"}],
        schema=ISSUE_SCHEMA)
    fired = _fired(table_records, CheckContext(today=TODAY, mapping_issues=issues))
    assert "ELEVATION_NOT_METRIC" in fired[0] and "ELEVATION_NOT_METRIC" not in fired[1]


def test_sea_within_200_nautical_miles_of_the_stated_country_is_no_mismatch():
    off_belgium = {"decimalLatitude": "51.5", "decimalLongitude": "2.8", "countryCode": "BE"}
    assert not _fired([off_belgium])[0] & {"COUNTRY_COORDINATE_MISMATCH", "PRESUMED_NEGATED_LATITUDE",
                                           "PRESUMED_NEGATED_LONGITUDE", "PRESUMED_SWAPPED_COORDINATE"}


def test_negated_both_raises_both_flags_and_no_mismatch():
    record = {"decimalLatitude": "-50.85", "decimalLongitude": "-4.35", "countryCode": "BE"}
    flags = _fired([record])[0]
    assert {"PRESUMED_NEGATED_LATITUDE", "PRESUMED_NEGATED_LONGITUDE"} <= flags
    assert "COUNTRY_COORDINATE_MISMATCH" not in flags


def test_no_new_flag_is_an_error_and_all_are_gbif_names():
    rows = {row["name"]: row for row in csv.DictReader(CSV.open(encoding="utf-8"))}
    for registered in CHECKS:
        if registered.function.__module__.startswith(gbif.__name__ + "."):
            flag = FLAGS[registered.flag]
            assert flag.gbif and flag.severity in ("warning", "info")
            expected = "info" if rows[flag.name]["severity"] == "INFO" else "warning"
            if flag.name not in ("COUNTRY_INVALID", "COORDINATE_UNCERTAINTY_METERS_INVALID"):
                assert flag.severity == expected, flag.name


def test_every_gbif_flag_of_mobilise_is_in_gbifs_list():
    names = {row["name"] for row in csv.DictReader(CSV.open(encoding="utf-8"))}
    assert {f.name for f in FLAGS.values() if f.gbif} <= names


def test_every_offline_flag_is_implemented_or_documented_as_skipped():
    rows = list(csv.DictReader(CSV.open(encoding="utf-8")))
    implemented = {c.flag for c in CHECKS}
    documented = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"`?[A-Z0-9_]+`?", cells[0]):
            documented[cells[0].strip("`")] = cells
    for row in rows:
        name = row["name"]
        assert name in documented, f"{name} missing from docs/gbif-issue-flags.md"
        if row["publisher_offline"] in OFFLINE:
            said = documented[name][1].lower()
            if name in implemented or name in FLAGS and said.startswith("yes"):
                assert said.startswith("yes"), name
            else:
                assert said.startswith("no") and documented[name][3], f"{name}: skipped without a reason"
    for name, cells in documented.items():  # what the document calls implemented really is
        if cells[1].lower().startswith("yes"):
            assert name in FLAGS, name
