"""Every date form Darwin Core's eventDate definition and ISO 8601-1 allow, through map_batch: read exactly, or
removed from its term, kept in the verbatim term and flagged (issue 9, item 2)."""
from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa
import pytest

from mobilise.mappers.dates import interpret_event_date
from mobilise.mappers.interpreters import interpreters
from mobilise.mappers.mapping import MappingPlan, map_batch
from mobilise.publishers.eml import event_date_range
from mobilise.settings import ConfigError, TermSource, load_config

REPO = Path(__file__).resolve().parents[1]


def _map(start: list, end: list | None = None, order: str = "day-first", term: str = "eventDate"
         ) -> tuple[list[dict], set[tuple]]:
    """Map one date column (and an end column for eventDate) with the date order of `order`."""
    columns = {"guid": [f"g{i}" for i in range(len(start))], "start": start}
    source = {"column": "start"}
    if end is not None:
        columns["end"] = end
        source["end"] = "end"
    sources = {"occurrenceID": TermSource(template="{guid}"), term: TermSource(**source)}
    verbatim = {"eventDate": "verbatimEventDate"} if term == "eventDate" else {}
    plan = MappingPlan(sources, {term: interpreters(date_order=order)[term]}, verbatim, uuid.UUID(int=1))
    table, issues = map_batch(pa.RecordBatch.from_pydict(columns, schema=pa.schema(
        [(name, pa.string()) for name in columns])), plan)
    return table.to_pylist(), {(r["row"], r["flag"], r["value"]) for r in issues.to_pylist()}


@pytest.mark.parametrize("text, published", [
    # short forms of an interval's end (Darwin Core's own example is 2007-11-13/15): published in full
    ("2007-11-13/15", "2007-11-13/2007-11-15"),
    ("2007-11-13/12-02", "2007-11-13/2007-12-02"),
    ("2017-09-10/09-15", "2017-09-10/2017-09-15"),
    ("2007-11/12", "2007-11/2007-12"),
    ("2007-12-14T13:30/15:30", "2007-12-14T13:30/2007-12-14T15:30"),
    ("2007-12-14T13:30Z/15T09:00", "2007-12-14T13:30Z/2007-12-15T09:00Z"),  # the start's zone
    # intervals of any precision, on either side
    ("1970/1984", "1970/1984"),
    ("2009-02/2010-01", "2009-02/2010-01"),
    ("1887-05-01/1887-05-12", "1887-05-01/1887-05-12"),
    ("1900/1909-05", "1900/1909-05"),
    ("2007-03-01T13:00:00Z/2008-05-11T15:30:00Z", "2007-03-01T13:00:00Z/2008-05-11T15:30:00Z"),
    ("2020-03-04T23:00-05:00/2020-03-05T01:00+02:00", "2020-03-04T23:00-05:00/2020-03-05T01:00+02:00"),
    # date-times with zones (Darwin Core's examples), kept as written; a space for the T becomes a T
    ("2020-03-04T10:00Z", "2020-03-04T10:00Z"),
    ("2020-03-04T10:00:00+02:00", "2020-03-04T10:00:00+02:00"),
    ("1963-03-08T14:07-0600", "1963-03-08T14:07-0600"),
    ("2020-03-04 10:00:00.25", "2020-03-04T10:00:00.25"),
    # week and ordinal dates: the same day in calendar form; a week without a day is its seven days
    ("2020-W05-3", "2020-01-29"),
    ("2020W053", "2020-01-29"),
    ("2020-032", "2020-02-01"),
    ("2020032", "2020-02-01"),
    ("2020-366", "2020-12-31"),
    ("2020-W05", "2020-01-27/2020-02-02"),
    ("2020-W53-5", "2021-01-01"),
    ("2020-W05/2020-W07", "2020-01-27/2020-02-16"),
    # the basic calendar form
    ("18870512", "1887-05-12"),
])
def test_iso_forms_are_read_exactly(text, published):
    rows, issues = _map([text, "2001-01-01"])  # a second, fast-path value in the same batch
    assert rows[0]["eventDate"] == published and issues == set()
    assert rows[0]["verbatimEventDate"] == (None if published == text else text)


@pytest.mark.parametrize("text, flag", [
    ("1887-02-30", "RECORDED_DATE_INVALID"),  # no such day
    ("1900-02-29", "RECORDED_DATE_INVALID"),
    ("2019-366", "RECORDED_DATE_INVALID"),
    ("2020-W54", "RECORDED_DATE_INVALID"),
    ("2021-W53-1", "RECORDED_DATE_INVALID"),
    ("2020-W05-8", "RECORDED_DATE_INVALID"),
    ("2020-03-04T25:00", "RECORDED_DATE_INVALID"),
    ("2020-03-04T10:60Z", "RECORDED_DATE_INVALID"),
    ("1887-05-12/1887-05-01", "RECORDED_DATE_INVALID"),  # reversed: GBIF swaps them, Mobilise does not guess
    ("1984/1970", "RECORDED_DATE_INVALID"),
    ("2020-03-04T12:00/10:00", "RECORDED_DATE_INVALID"),
    ("2020-03-05T01:00+02:00/2020-03-04T23:30Z", "RECORDED_DATE_INVALID"),
    ("2007-11-13/32", "RECORDED_DATE_INVALID"),
    ("2007-11-13/10:00", "RECORDED_DATE_INVALID"),  # a time as the end of a day
    ("1887/05/12/15", "RECORDED_DATE_INVALID"),
    ("/1967-06-17", "RECORDED_DATE_MISMATCH"),  # only an end: GBIF refuses the range with this flag
    ("1967-06-17/", "RECORDED_DATE_MISMATCH"),  # only a start
    ("../1967", "RECORDED_DATE_MISMATCH"),
])
def test_impossible_reversed_and_open_dates_are_flagged_and_kept_verbatim(text, flag):
    rows, issues = _map([text])
    assert rows[0]["eventDate"] is None and rows[0]["verbatimEventDate"] == text
    assert issues == {(0, flag, text)}


def test_start_and_end_columns():
    rows, issues = _map(["2007-11-13", None, "1887", "1887-05-12", "13/11/2007", "1887-05-01"],
                        ["15", "1967-06-17", "1888", "1887-05-01", "02/12/2007", "1887-05-01"])
    assert [r["eventDate"] for r in rows] == ["2007-11-13/2007-11-15", None, "1887/1888", None,
                                              "2007-11-13/2007-12-02", "1887-05-01"]
    assert rows[1]["verbatimEventDate"] == "/1967-06-17"  # an end without a start is not published as a date
    assert issues == {(1, "RECORDED_DATE_MISMATCH", "/ 1967-06-17"),
                      (3, "RECORDED_DATE_INVALID", "1887-05-12 / 1887-05-01")}


@pytest.mark.parametrize("order, text, published", [
    ("day-first", "03/04/2020", "2020-04-03"), ("day-first", "3.4.2020", "2020-04-03"),
    ("day-first", "13-04-2020", "2020-04-13"), ("day-first", "12.V.1887", "1887-05-12"),
    ("month-first", "03/04/2020", "2020-03-04"), ("month-first", "04/13/2020", "2020-04-13"),
    ("month-first", "12.V.1887", "1887-05-12"),  # a Roman month is the month whatever the order
    ("iso-only", "2020-04-03", "2020-04-03"), ("iso-only", "2020-W05-3", "2020-01-29"),
])
def test_the_date_order_reads_slashed_and_dotted_dates(order, text, published):
    rows, issues = _map([text, text, "2001-01-01"], order=order)
    assert rows[0]["eventDate"] == rows[1]["eventDate"] == published and issues == set()


@pytest.mark.parametrize("order, text", [
    ("day-first", "04/13/2020"), ("month-first", "13/04/2020"), ("day-first", "31.02.2020"),
    ("iso-only", "03/04/2020"), ("iso-only", "03.04.2020"), ("iso-only", "V.1887"), ("iso-only", "1887/05/12"),
])
def test_a_date_the_order_cannot_read_is_flagged_not_read_another_way(order, text):
    rows, issues = _map([text, "2001-01-01"], order=order)
    assert rows[0]["eventDate"] is None and rows[0]["verbatimEventDate"] == text
    assert issues == {(0, "RECORDED_DATE_INVALID", text)}


@pytest.mark.parametrize("term, flag", [("dateIdentified", "IDENTIFIED_DATE_INVALID"),
                                        ("modified", "MODIFIED_DATE_INVALID")])
def test_date_identified_and_modified_read_as_event_date(term, flag):
    values = ["2007-11-13/15", "03/04/2020", "2020-W05-3", "2020-03-04T10:00:00+02:00", "/1967-06-17",
              "04/13/2020", "1887-02-30", "2020-03-04 10:00"]
    rows, issues = _map(values, order="month-first", term=term)
    assert [r[term] for r in rows] == ["2007-11-13/2007-11-15", "2020-03-04", "2020-01-29",
                                       "2020-03-04T10:00:00+02:00", None, "2020-04-13", None, "2020-03-04T10:00"]
    assert issues == {(4, flag, "/1967-06-17"), (6, flag, "1887-02-30")}


def _config(tmp_path: Path, line: str) -> Path:
    text = (REPO / "config" / "sample.yaml").read_text()
    assert "  batch_size: 25000\n" in text
    path = tmp_path / "dataset.yaml"
    path.write_text(text.replace("  batch_size: 25000\n", f"  batch_size: 25000\n  {line}\n"))
    return path


def test_date_order_is_a_source_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path))
    assert load_config(REPO / "config" / "sample.yaml").source.date_order == "day-first"
    config = load_config(_config(tmp_path, "date_order: month-first"))
    assert config.source.date_order == "month-first"
    plan = MappingPlan.from_config(config)
    batch = pa.RecordBatch.from_pydict({name: pa.nulls(3, pa.string()) for name in sorted(plan.source_columns)})
    batch = batch.set_column(batch.schema.get_field_index("start_date"), "start_date",
                             pa.array(["03/04/2020", "13/04/2020", "2020-03-04"]))
    batch = batch.set_column(batch.schema.get_field_index("determined_date"), "determined_date",
                             pa.array(["04/13/2020", None, None]))
    table, issues = map_batch(batch, plan)
    assert table["eventDate"].to_pylist() == ["2020-03-04", None, "2020-03-04"]
    assert table["dateIdentified"].to_pylist() == ["2020-04-13", None, None]
    assert {(r["row"], r["term"], r["flag"]) for r in issues.to_pylist() if "DATE" in r["flag"]} == {
        (1, "eventDate", "RECORDED_DATE_INVALID")}


def test_a_wrong_date_order_is_a_config_error_with_its_line(tmp_path, monkeypatch):
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path))
    path = _config(tmp_path, "date_order: middle-endian")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}:8: source.date_order: Input should be 'day-first', 'month-first' or 'iso-only'" in str(error.value)


@pytest.mark.parametrize("values, begin, end", [
    (["1975-05-01", "1970/1984", None], "1970-01-01", "1984-12-31"),
    (["2009-02/2010-01", "2009-05-01"], "2009-02-01", "2010-01-31"),
    (["2012-02", "2011"], "2011-01-01", "2012-02-29"),  # leap year
    (["1900-02"], "1900-02-01", "1900-02-28"),  # not a leap year
    (["2020-03-04T10:00Z/2020-03-05T12:00+02:00", "2020-03"], "2020-03-01", "2020-03-31"),
    (["1887-05-12", "1887-05"], "1887-05-01", "1887-05-31"),
    ([None, "not a date"], None, None),
])
def test_temporal_coverage_at_the_real_precision(values, begin, end):
    assert event_date_range(pa.chunked_array([pa.array(values, pa.string())])) == (begin, end)


def test_a_run_with_year_and_month_intervals_publishes_their_temporal_coverage(sample_db, tmp_path, monkeypatch):
    """A year range or a month range as the earliest date crashed `mobilise run` in the EML coverage."""
    import shutil
    import sqlite3
    import zipfile

    from lxml import etree

    from tests.conftest import sample_config
    from tests.pipeline_helpers import read_core_with_pandas, run_stages

    database = tmp_path / "sample.sqlite"
    shutil.copy(sample_db, database)
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE collecting_event SET start_date = '1990-05-01', end_date = NULL")
        connection.execute("UPDATE collecting_event SET start_date = '1970/1984' WHERE event_id <= 20")
        connection.execute("UPDATE collecting_event SET start_date = '2009-02', end_date = '2012-02' "
                           "WHERE event_id BETWEEN 21 AND 40")
    result = run_stages(sample_config(f"sqlite:///{database}", tmp_path / "output", monkeypatch))
    published = set(read_core_with_pandas(result.archive)["eventDate"])
    assert {"1970/1984", "2009-02/2012-02", "1990-05-01"} <= published
    with zipfile.ZipFile(result.archive) as archive:
        eml = etree.fromstring(archive.read("eml.xml"))
    dates = [e.text for e in eml.iter("calendarDate")]
    assert dates == ["1970-01-01", "2012-02-29"]  # the first day of 1970, the last of February 2012


@pytest.mark.parametrize("text", ["2007/08", "2007/8", "2011/12", "2009/10"])
def test_a_year_slash_next_year_is_not_read_as_a_month(text):
    # '2007/08' is August 2007 in a database that writes YYYY/MM, and the season 2007-2008 of an expedition
    assert interpret_event_date(text) == (None, ("RECORDED_DATE_INVALID",))


@pytest.mark.parametrize("text, expected", [("2007/05", "2007-05"), ("2007/5", "2007-05"), ("2007.08", "2007-08"),
                                            ("2007/08/15", "2007-08-15"), ("2007/2008", "2007/2008")])
def test_a_year_slash_month_that_is_no_season_is_read(text, expected):
    assert interpret_event_date(text) == (expected, ())


@pytest.mark.parametrize("order, text, expected", [
    ("day-first", "03/04/2020", ("2020-04-03", ())), ("month-first", "03/04/2020", ("2020-03-04", ())),
    ("iso-only", "03/04/2020", (None, ("GEOREFERENCED_DATE_INVALID",))),
    ("day-first", "2020-02-30", (None, ("GEOREFERENCED_DATE_INVALID",)))])
def test_georeferenced_date_is_read_in_the_sources_date_order(order, text, expected):
    assert interpreters(date_order=order)["georeferencedDate"](text) == expected
