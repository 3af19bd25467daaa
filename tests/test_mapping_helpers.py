"""The mapping helpers of issue 10 (item 5 and 6): dates from parts and DaRWIN masks, regex extraction, lookups,
projected coordinates to WGS84, authorship split from a name, vocabulary translation files; and a config error
(file, line, key) for each way a helper can be misconfigured."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from mobilise.mappers.mapping import MappingPlan, map_batch
from mobilise.settings import ConfigError, load_config

BASE = """\
source:
  url: sqlite:///specimens.sqlite
  table: specimen
metadata:
  title: Helpers
  abstract: One paragraph.
  licence: CC0-1.0
  creators: [{{organisation: Example Museum}}]
  contacts: [{{surname: Smith}}]
mapping:
  occurrenceID: {{template: "https://x.org/{{guid}}"}}
  basisOfRecord: basis
{more}"""
FIRST_FREE_LINE = 13


def _write(tmp_path: Path, more: str) -> Path:
    path = tmp_path / "dataset.yaml"
    path.write_text(BASE.format(more=more), encoding="utf-8")
    return path


def _map(tmp_path: Path, more: str, rows: dict[str, list]) -> tuple[dict[str, list], list[tuple]]:
    config = load_config(_write(tmp_path, more))
    size = len(next(iter(rows.values())))
    columns = {"guid": [str(i) for i in range(size)], "basis": ["PreservedSpecimen"] * size} | rows
    batch = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    table, issues = map_batch(batch, MappingPlan.from_config(config))
    found = sorted(zip(issues["row"].to_pylist(), issues["term"].to_pylist(), issues["flag"].to_pylist(),
                       issues["value"].to_pylist()))
    return table.to_pydict(), found


def _problems(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


# --- dates ----------------------------------------------------------------------------------------------------------

def test_dates_from_year_month_day_keep_partial_dates_partial_and_flag_what_is_no_date(tmp_path):
    table, issues = _map(tmp_path, "  eventDate: {date: {year: y, month: m, day: d}}\n", {
        "y": ["1998", "1998", "1998", "1998", "1998", "1998", "98", "1998", None, "2020"],
        "m": ["4", "04", None, "13", "4", None, "4", "IV", None, "2"],
        "d": ["12", None, None, "5", "31", "3", "1", "1", None, "29"]})
    assert table["eventDate"] == ["1998-04-12", "1998-04", "1998", None, None, None, None, None, None, "2020-02-29"]
    # the original parts are kept for the data manager, in verbatimEventDate, only where nothing was published
    assert table["verbatimEventDate"] == [None, None, None, "1998-13-5", "1998-4-31", "1998--3", "98-4-1",
                                          "1998-IV-1", None, None]
    assert issues == [(3, "eventDate", "RECORDED_DATE_INVALID", "1998-13-5"),
                      (4, "eventDate", "RECORDED_DATE_INVALID", "1998-4-31"),
                      (5, "eventDate", "RECORDED_DATE_INVALID", "1998--3"),
                      (6, "eventDate", "RECORDED_DATE_INVALID", "98-4-1"),
                      (7, "eventDate", "RECORDED_DATE_INVALID", "1998-IV-1")]


def test_darwin_masked_dates_and_a_from_to_pair_make_an_interval(tmp_path):
    more = ("  eventDate:\n"
            "    date: {column: gtu_from_date, mask: gtu_from_date_mask}\n"
            "    end: {column: gtu_to_date, mask: gtu_to_date_mask}\n")
    table, issues = _map(tmp_path, more, {
        "gtu_from_date": ["1998-04-12 00:00:00", "1998-04-01 00:00:00", "1998-01-01 00:00:00", "0001-01-01 00:00:00",
                          "1998-04-12 00:00:00", "1998-04-01 00:00:00", "1998-04-12 10:30:00", "0001-01-01 00:00:00"],
        "gtu_from_date_mask": ["56", "48", "32", "0", "40", "48", "62", "0"],
        "gtu_to_date": ["2038-12-31 00:00:00", "1998-06-30 00:00:00", "1999-12-31 00:00:00", "2038-12-31 00:00:00",
                        "2038-12-31 00:00:00", "1998-03-01 00:00:00", "2038-12-31 00:00:00", "1999-05-01 00:00:00"],
        "gtu_to_date_mask": ["0", "48", "32", "0", "0", "48", "0", "48"]})
    assert table["eventDate"] == ["1998-04-12", "1998-04/1998-06", "1998/1999", None, None, None,
                                  "1998-04-12T10:30", None]
    # mask 0: an unknown date, no value and nothing to keep; a pair of an unknown start and a known end: flagged
    assert table["verbatimEventDate"][3] is None
    assert table["verbatimEventDate"][7] == "0001-01-01 00:00:00 (mask 0) / 1999-05-01 00:00:00 (mask 48)"
    assert issues == [
        (4, "eventDate", "RECORDED_DATE_INVALID", "1998-04-12 00:00:00 (mask 40) / 2038-12-31 00:00:00 (mask 0)"),
        (5, "eventDate", "RECORDED_DATE_INVALID", "1998-04-01 00:00:00 (mask 48) / 1998-03-01 00:00:00 (mask 48)"),
        (7, "eventDate", "RECORDED_DATE_MISMATCH", "0001-01-01 00:00:00 (mask 0) / 1999-05-01 00:00:00 (mask 48)")]


def test_a_masked_date_on_date_identified_and_on_a_term_without_a_date_interpreter(tmp_path):
    more = ("  dateIdentified: {date: {column: ident_date, mask: ident_mask}}\n"
            "  verbatimEventDate: {date: {year: y}}\n")
    table, issues = _map(tmp_path, more, {"ident_date": ["2001-03-04", "2001-03-04", None],
                                          "ident_mask": ["48", "7", "32"], "y": ["1887", "abc", None]})
    assert table["dateIdentified"] == ["2001-03", None, None]
    assert table["verbatimEventDate"] == ["1887", None, None]
    assert issues == [(1, "dateIdentified", "IDENTIFIED_DATE_INVALID", "2001-03-04 (mask 7)"),
                      (1, "verbatimEventDate", "DATE_INVALID", "abc"),
                      (2, "dateIdentified", "IDENTIFIED_DATE_INVALID", "(mask 32)")]


def test_masked_timestamps_as_arrow_gives_them_from_a_timestamp_column():
    from mobilise.mappers.dates import apply_mask

    dates = pa.array(["1998-04-01 10:30:00.000000", "1998-04-01 10:30:00.000000Z", "1998-04-01 10:30:00.000000Z"])
    assembled = apply_mask(dates, pa.array(["62", "62", "56"]))
    assert assembled.values.to_pylist() == ["1998-04-01T10:30", "1998-04-01T10:30Z", "1998-04-01"]
    assert not assembled.invalid.any()


def test_specify_partial_date_precision(tmp_path):
    more = "  eventDate: {date: {column: StartDate, precision: StartDatePrecision}}\n"
    table, issues = _map(tmp_path, more, {"StartDate": ["1998-04-12", "1998-04-01", "1998-01-01", "1998-04-12"],
                                          "StartDatePrecision": ["1", "2", "3", None]})
    assert table["eventDate"] == ["1998-04-12", "1998-04", "1998", None]
    assert issues == [(3, "eventDate", "RECORDED_DATE_INVALID", "1998-04-12")]  # precision unknown: not guessed


def test_control_characters_in_date_parts_are_flagged_and_kept_out_of_the_verbatim_term(tmp_path):
    table, issues = _map(tmp_path, "  eventDate: {date: {year: y, month: m}}\n", {"y": ["19\x0798"], "m": ["4"]})
    assert table["eventDate"] == [None] and table["verbatimEventDate"] == ["1998-4"]
    assert [flag for _, _, flag, _ in issues] == ["RECORDED_DATE_INVALID", "CONTROL_CHARACTERS_REMOVED"]


def test_dates_from_parts_are_assembled_in_arrow_for_a_large_batch(tmp_path):
    import time

    from mobilise.mappers.dates import assemble_parts

    size = 200_000
    years = pa.array([str(1900 + i % 100) for i in range(size)])
    months = pa.array([str(1 + i % 12) for i in range(size)])
    days = pa.array([str(1 + i % 28) for i in range(size)])
    started = time.perf_counter()
    assembled = assemble_parts(years, months, days)
    assert time.perf_counter() - started < 2  # no Python per row: about 0.1 s
    assert assembled.values[13].as_py() == "1913-02-14" and not assembled.invalid.any()


# --- regex, lookups, first non-empty ----------------------------------------------------------------------------------

def test_regex_gives_the_first_group_or_the_whole_match_and_flags_what_does_not_match(tmp_path):
    more = ('  catalogNumber: {regex: {column: label, pattern: "BR(\\\\d+)"}}\n'
            '  recordNumber: {regex: {column: label, pattern: "[0-9]{4}"}}\n')
    table, issues = _map(tmp_path, more, {"label": ["Herb. BR0000012345 (dupl.)", "BR12", "no number", None]})
    assert table["catalogNumber"] == ["0000012345", "12", None, None]
    assert table["recordNumber"] == ["0000", None, None, None]
    assert issues == [(1, "recordNumber", "REGEX_NO_MATCH", "BR12"),
                      (2, "catalogNumber", "REGEX_NO_MATCH", "no number"),
                      (2, "recordNumber", "REGEX_NO_MATCH", "no number")]


def test_lookup_from_a_csv_beside_the_config_and_first_non_empty_still_works(tmp_path):
    (tmp_path / "lookups").mkdir()
    (tmp_path / "lookups" / "countries.csv").write_text("source,target\nBelgie,Belgium\nFrankrijk,France\n"
                                                        "Belgie,Belgium\n", encoding="utf-8")
    more = ("  country: {lookup: {column: land, table: lookups/countries.csv, key: source, value: target}}\n"
            "  recordedBy: {column: [collector, collector_2]}\n")
    table, issues = _map(tmp_path, more, {"land": ["Belgie", "Frankrijk", "Nederland", None, "Nederland"],
                                          "collector": [None, "A. Smith", None, None, None],
                                          "collector_2": ["B. Jones", "C. Doe", None, None, None]})
    assert table["country"] == ["Belgium", "France", None, None, None]
    assert table["recordedBy"] == ["B. Jones", "A. Smith", None, None, None]
    assert issues == [(2, "country", "LOOKUP_NO_MATCH", "Nederland"), (4, "country", "LOOKUP_NO_MATCH", "Nederland")]


# --- authorship ----------------------------------------------------------------------------------------------------

def test_authorship_split_from_a_name_that_carries_it(tmp_path):
    more = ("  scientificName: {without_authorship: taxon}\n"
            "  scientificNameAuthorship: {authorship_of: taxon}\n")
    table, issues = _map(tmp_path, more, {"taxon": [
        "Carabus auratus Linnaeus, 1758", "Puma concolor (Linnaeus, 1771)", "Bellis perennis L.",
        "Aus bus Miller ex Smith", "Carabus (Carabus) auratus L., 1758",
        "Quercus robur L. subsp. pedunculiflora (K.Koch) Menitsky", "Carabus auratus", "Tobacco mosaic virus"]})
    assert table["scientificNameAuthorship"] == ["Linnaeus, 1758", "(Linnaeus, 1771)", "L.", "Miller ex Smith",
                                                 "L., 1758", "(K.Koch) Menitsky", None, None]
    assert table["scientificName"] == ["Carabus auratus", "Puma concolor", "Bellis perennis", "Aus bus",
                                       "Carabus (Carabus) auratus", "Quercus robur subsp. pedunculiflora",
                                       "Carabus auratus", "Tobacco mosaic virus"]
    assert issues == [(7, "scientificName", "NAME_AUTHORSHIP_UNSPLIT", "Tobacco mosaic virus"),
                      (7, "scientificNameAuthorship", "NAME_AUTHORSHIP_UNSPLIT", "Tobacco mosaic virus")]


# --- coordinates -----------------------------------------------------------------------------------------------------

def test_lambert_72_and_utm_points_to_wgs84_and_points_outside_the_area_of_use_flagged(tmp_path):
    more = "coordinates: {x: x, y: y, crs_column: srs}\n"
    # Brussels (Lambert 72 and UTM 31N), a Lambert 72 point far outside Belgium, unreadable metres, no system
    table, issues = _map(tmp_path, more, {
        "x": ["148885", "596000", "900000", "abc", "150000", None],
        "y": ["170636", "5633000", "170000", "170000", "170000", None],
        "srs": ["EPSG:31370", "32631", "EPSG:31370", "EPSG:31370", "Lambert?", None]})
    assert table["decimalLatitude"][0].startswith("50.84") and table["decimalLongitude"][0].startswith("4.35")
    assert table["decimalLatitude"][1].startswith("50.8") and table["decimalLongitude"][1].startswith("4.3")
    assert table["decimalLatitude"][2:] == [None] * 4
    assert table["geodeticDatum"] == ["EPSG:4326", "EPSG:4326", None, None, None, None]
    assert table["verbatimSRS"] == ["EPSG:31370", "EPSG:32631", "EPSG:31370", "EPSG:31370", "Lambert?", None]
    assert table["verbatimCoordinates"][:2] == ["148885, 170636", "596000, 5633000"]
    assert table["verbatimCoordinateSystem"][:2] == ["Lambert Conic Conformal (2SP)", "UTM"]
    assert [(row, flag) for row, term, flag, _ in issues if term == "decimalLatitude"] == [
        (2, "COORDINATE_OUTSIDE_CRS_AREA"), (3, "COORDINATE_INVALID"), (4, "COORDINATE_REPROJECTION_FAILED")]


def test_a_coordinates_column_missing_from_the_source_stops_the_run_naming_the_section(tmp_path):
    from mobilise.mappers.mapping import MappingError

    config = load_config(_write(tmp_path, 'coordinates: {x: x, y: y, crs: "EPSG:31370"}\n'))
    with pytest.raises(MappingError, match=r"coordinates: column\(s\) y not in the source"):
        MappingPlan.from_config(config).check_columns(["guid", "basis", "x"])


def test_dms_on_another_datum_is_read_and_converted(tmp_path):
    more = 'coordinates: {x: lon, y: lat, crs: "EPSG:4230"}\n'  # ED50 geographic
    table, issues = _map(tmp_path, more, {"lon": ["4°21'E"], "lat": ["50°51'N"]})
    assert issues == []
    assert abs(float(table["decimalLatitude"][0]) - 50.85) < 0.002  # ED50 to WGS84 moves it by about 100 m
    assert table["verbatimCoordinateSystem"] == ["degrees minutes seconds"]
    assert table["verbatimCoordinates"] == ["50°51'N, 4°21'E"]


# --- vocabulary files ------------------------------------------------------------------------------------------------

def test_vocabulary_files_translate_and_inline_tables_keep_working(tmp_path):
    (tmp_path / "vocabularies").mkdir()
    (tmp_path / "vocabularies" / "sex.csv").write_text("source,concept\nmannetje,male\nwijfje,female\n",
                                                       encoding="utf-8")
    more = ("  sex: sex\n  lifeStage: stage\n"
            "vocabularies:\n  sex: vocabularies/sex.csv\n  lifeStage: {jong: juvenile}\n")
    table, issues = _map(tmp_path, more, {"sex": ["mannetje", "wijfje", "onbekend?"],
                                          "stage": ["jong", "adult", "rups"]})
    assert table["sex"] == ["male", "female", "onbekend?"]
    assert table["lifeStage"] == ["juvenile", "adult", "rups"]
    assert issues == [(2, "lifeStage", "VOCABULARY_UNMATCHED", "rups"), (2, "sex", "VOCABULARY_UNMATCHED", "onbekend?")]
    config = load_config(tmp_path / "dataset.yaml")
    assert config.vocabulary_files == {"sex": (tmp_path / "vocabularies" / "sex.csv").resolve()}


# --- config errors: file, line, key ----------------------------------------------------------------------------------

CASES = [
    ('  catalogNumber: {regex: {column: label, pattern: "BR(\\\\d+"}}\n', 0, "mapping.catalogNumber.regex.pattern",
     "not a regular expression: missing ), unterminated subpattern at position 2"),
    ("  eventDate: {date: {year: y, day: d}}\n", 0, "mapping.eventDate.date",
     "a day column needs a month column"),
    ("  eventDate: {date: {column: c}}\n", 0, "mapping.eventDate.date", "give either {year, month, day} columns"),
    ("  eventDate: {column: c, date: {year: y}}\n", 0, "mapping.eventDate",
     "give exactly one of 'column', 'constant'"),
    ("  eventDate: {column: c, end: {column: e, mask: m}}\n", 0, "mapping.eventDate.end",
     "an end given as date parts needs the start as date parts too"),
    ("  country: {lookup: {column: land, table: missing.csv, key: source, value: target}}\n", 0,
     "mapping.country.lookup.table", "missing.csv: file not found"),
    ("  country: {lookup: {column: land, table: table.csv, key: land, value: target}}\n", 0,
     "mapping.country.lookup.table", "table.csv:1: no column 'land' (the header has: source, target)"),
    ("  country: {lookup: {column: land, table: table.csv, key: source, value: target}}\n", 0,
     "mapping.country.lookup.table", "table.csv:3: 'Belgie' is given twice, as 'Belgium' and 'Belgique'"),
    ("  sex: sex\nvocabularies:\n  sex: sex.csv\n", 2, "vocabularies.sex",
     "sex.csv:2: 'mannetje' -> 'mal' is not a sex concept (did you mean 'male'?)"),
    ('coordinates: {x: x, y: y, crs: "EPSG:999999"}\n', 0, "coordinates.crs",
     "'EPSG:999999' is not a coordinate reference system PROJ knows"),
    ("coordinates: {x: x, y: y}\n", 0, "coordinates", "give exactly one of 'crs'"),
    ('  decimalLatitude: lat\ncoordinates: {x: x, y: y, crs: "EPSG:31370"}\n', 0, "mapping.decimalLatitude",
     "decimalLatitude is filled by the coordinates section"),
]


@pytest.mark.parametrize("more, offset, key, message", CASES)
def test_each_helper_misconfiguration_is_a_config_error_at_its_line(tmp_path, more, offset, key, message):
    (tmp_path / "table.csv").write_text("source,target\nBelgie,Belgium\nBelgie,Belgique\n", encoding="utf-8")
    (tmp_path / "sex.csv").write_text("source,concept\nmannetje,mal\n", encoding="utf-8")
    text = _problems(_write(tmp_path, more))
    line = f"{tmp_path / 'dataset.yaml'}:{FIRST_FREE_LINE + offset}: {key}: "
    assert line in text, text
    assert message in text.split(line, 1)[1], text


# --- a whole run: the helpers through extract, map, validate and publish; untranslated values reported ----------------

def test_a_run_publishes_helper_values_and_reports_untranslated_values(tmp_path, capsys):
    import json
    import sqlite3

    from tests.pipeline_helpers import read_core_with_pandas, run_stages

    database = tmp_path / "darwin.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE specimen (guid TEXT, basis TEXT, taxon TEXT, sex TEXT, land TEXT, "
                           "gtu_from_date TEXT, gtu_from_date_mask INTEGER, x REAL, y REAL)")
        connection.executemany("INSERT INTO specimen VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            ("1", "PreservedSpecimen", "Carabus auratus Linnaeus, 1758", "mannetje", "Belgie",
             "1998-04-01 00:00:00", 48, 148885, 170636),
            ("2", "PreservedSpecimen", "Bellis perennis L.", "onbekend?", "Nederland", "0001-01-01 00:00:00", 0,
             None, None),
            ("3", "PreservedSpecimen", "Puma concolor (Linnaeus, 1771)", "onbekend?", "Nederland",
             "1998-04-12 00:00:00", 40, 900000, 170000)])
    (tmp_path / "sex.csv").write_text("source,concept\nmannetje,male\n", encoding="utf-8")
    (tmp_path / "countries.csv").write_text("source,target\nBelgie,Belgium\n", encoding="utf-8")
    config = _write(tmp_path, "  scientificName: {without_authorship: taxon}\n"
                              "  scientificNameAuthorship: {authorship_of: taxon}\n"
                              "  sex: sex\n"
                              "  country: {lookup: {column: land, table: countries.csv, key: source, value: target}}\n"
                              "  eventDate: {date: {column: gtu_from_date, mask: gtu_from_date_mask}}\n"
                              "coordinates: {x: x, y: y, crs: EPSG:31370}\n"
                              "vocabularies:\n  sex: sex.csv\n"
                              f"output: {{directory: {tmp_path / 'output'}}}\n")
    config.write_text(config.read_text().replace("sqlite:///specimens.sqlite", f"sqlite:///{database}")
                      .replace("table: specimen", "table: specimen\n  batch_size: 2"))
    result = run_stages(load_config(config))
    assert (result.records, result.rejected, result.extracted) == (3, 0, 3)
    core = read_core_with_pandas(result.archive).set_index("occurrenceID")
    first = core.loc["https://x.org/1"]
    assert (first["scientificName"], first["scientificNameAuthorship"]) == ("Carabus auratus", "Linnaeus, 1758")
    assert (first["sex"], first["country"], first["eventDate"]) == ("male", "Belgium", "1998-04")
    assert first["decimalLatitude"].startswith("50.84") and first["verbatimSRS"] == "EPSG:31370"
    third = core.loc["https://x.org/3"]
    assert third["eventDate"] == "" and third["verbatimEventDate"] == "1998-04-12 00:00:00 (mask 40)"
    assert third["decimalLatitude"] == "" and third["verbatimCoordinates"] == "900000, 170000"
    expected = [
        {"kind": "lookup", "table": "countries.csv", "file": str(tmp_path / "countries.csv"), "term": "country",
         "value": "Nederland", "records": 2},
        {"kind": "vocabulary", "table": "sex", "file": str(tmp_path / "sex.csv"), "term": "sex",
         "value": "onbekend?", "records": 2}]
    assert result.untranslated == expected
    report = json.loads(Path(result.report).with_suffix(".json").read_text())
    assert report["untranslated"] == expected
    html = Path(result.report).read_text()
    assert "Values with no translation" in html and "onbekend?" in html
    assert result.issues["COORDINATE_OUTSIDE_CRS_AREA"] == 1 and result.issues["RECORDED_DATE_INVALID"] == 1
    # what `mobilise run` and `mobilise validate` print
    from mobilise.cli import _print_result

    _print_result(result.as_dict(), as_json=False)
    printed = capsys.readouterr().out
    assert "values with no translation (records):" in printed
    assert (f"vocabulary sex, sex: 1 value(s) with no translation in 2 record(s): 'onbekend?' (2) "
            f"(extend {tmp_path / 'sex.csv'})") in printed
