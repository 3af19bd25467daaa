"""The batch runner of the BDQ tests: same answers as row by row, run once per distinct input, summaries that add
up, amendments applied only when accepted, remote tests skipped offline."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mobilise.validators.bdq import REGISTRY, space
from mobilise.validators.bdq.batch import (
    APPLIED_SCHEMA, RESULT_SCHEMA, apply_amendments, merge_summaries, run_bdq, summarise, term_key,
)
from mobilise.validators.bdq.core import BdqTest, Response, compliant, not_compliant

NBSP, ZWSP = "\u00a0", "\u200b"

# A small mapped batch: repeated values, null and "" (both empty), blanks and non-printing characters.
COLUMNS = {
    "occurrenceID": ["urn:1", "urn:2", "urn:3", None, " ", "urn:6", "urn:7", "urn:8"],
    "basisOfRecord": ["PreservedSpecimen", "preservedspecimen", "\t", None, "", "Fossil", "PreservedSpecimen",
                      f"{NBSP}PreservedSpecimen"],
    "eventDate": ["1887-05-12", "1887-5-12", None, "", "\x00", f"{NBSP}1999", "2001-02-03/2001-02-05",
                  "1887-05-12"],
    "verbatimEventDate": [None, "12.V.1887", "3 May 1902", "", None, None, "x", None],
    "year": [None, "1887", "", None, "1999", "\x1f", "2001", None],
    "month": [None, "5", None, None, "13", None, "2", None],
    "dateIdentified": ["1900-01-01", None, "1700", "", " \t", "2001-02-04", "2002", "1900-01-01"],
    "countryCode": ["NL", "nl", "Germany", None, "\x00", "FR", "ZZ", "NL"],
    "country": ["Netherlands", None, "Deutschland", "", None, "France", None, "Netherlands"],
    "decimalLatitude": ["52.1", "5.1", "-52.1", None, "1", "46", "91", "52.1"],
    "decimalLongitude": ["5.1", "52.1", "5.1", None, "1", "2", "0", "5.1"],
    "geodeticDatum": [None, "WGS84", "epsg:4326", "", None, "x", f"EPSG:4326{ZWSP}", None],
    "minimumElevationInMeters": ["10", "-500", None, "", "abc", "9000", "0", "10"],
    "maximumElevationInMeters": ["20", "5", None, "", None, "8000", "0", "20"],
    "license": ["CC BY 4.0", "http://creativecommons.org/licenses/by/4.0/", "", None, "cc0", "CC-BY",
                " ", "CC BY 4.0"],
    "modified": ["2020-01-01", None, "x", "", None, "2020", "2020-13-01", "2020-01-01"],
    "type": ["PhysicalObject", None, "", "physical object", None, "x", "Text", "PhysicalObject"],
    "sex": ["male", "m", None, "", "\t", "x", "Female", "male"],
    "scientificName": ["Puma concolor", None, "", "Abies", "\x00", "x", None, "Puma concolor"],
    "taxonRank": ["species", "SPECIES", None, "", "sp.", "x", None, "species"],
    "individualCount": ["1", "0", "-1", None, "", "1.5", "x", "1"],
    "occurrenceStatus": [None, "present", "Absent", "", "x", None, "0", None],
}


@pytest.fixture(scope="module", autouse=True)
def no_polygons():
    """Building the country polygon index takes seconds; the polygon tests' geometry is test_space.py's job. Here
    they answer EXTERNAL_PREREQUISITES_NOT_MET (geodata missing), both in the batch and row by row."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(space, "_geodata", lambda: None)
        yield


@pytest.fixture(scope="module")
def batch() -> pa.Table:
    return pa.table({name: pa.array(values, pa.string()) for name, values in COLUMNS.items()})


@pytest.fixture(scope="module")
def results(batch) -> pa.Table:
    return run_bdq(batch)


def _plain(table: pa.Table) -> list[dict]:
    return table.cast(pa.schema([(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
                                 for f in table.schema])).to_pylist()


def _full_record(batch: pa.Table, row: int) -> dict[str, str]:
    """Every batch column under its BDQ key, empty string when null: more than any one test reads."""
    return {term_key(name): (batch[name][row].as_py() or "") for name in batch.column_names}


def test_result_schema_and_shape(batch, results):
    assert results.schema == RESULT_SCHEMA
    assert results.num_rows == batch.num_rows * len(REGISTRY)
    assert results["status"].null_count == 0 and results["comment"].null_count == 0


def test_term_keys():
    assert term_key("eventDate") == "dwc:eventDate"
    assert term_key("license") == "dcterms:license"
    assert term_key("modified") == "dcterms:modified"
    assert term_key("type") == "dc:type"
    assert term_key("notADarwinCoreTerm") is None


def test_same_responses_as_row_by_row(batch, results):
    """Each response equals the test called on the whole record, row by row (network tests: skipped offline)."""
    by_key = {(r["guid"], r["row"]): r for r in _plain(results)}
    checked = 0
    for test in REGISTRY.values():
        for row in range(batch.num_rows):
            got = by_key[(test.guid, row)]
            assert (got["label"], got["kind"]) == (test.label, test.kind)
            if test.needs_network:
                assert got["status"] == "EXTERNAL_PREREQUISITES_NOT_MET" and got["result"] is None
                continue
            expected = test(_full_record(batch, row))
            assert got["status"] == expected.status.value, (test.label, row)
            assert got["result"] == (None if expected.result is None else expected.result_text()), (test.label, row)
            assert got["comment"] == expected.comment, (test.label, row)
            checked += 1
    assert checked > 80 * batch.num_rows


def test_missing_columns_are_empty_terms():
    table = pa.table({"scientificName": ["Puma concolor"]})
    got = {r["label"]: r for r in _plain(run_bdq(table, ["VALIDATION_EVENTDATE_NOTEMPTY",
                                                          "VALIDATION_SCIENTIFICNAME_NOTEMPTY"]))}
    assert got["VALIDATION_EVENTDATE_NOTEMPTY"]["result"] == "NOT_COMPLIANT"
    assert got["VALIDATION_SCIENTIFICNAME_NOTEMPTY"]["result"] == "COMPLIANT"


def test_empty_batch():
    table = pa.table({"eventDate": pa.array([], pa.string())})
    out = run_bdq(table, ["VALIDATION_EVENTDATE_NOTEMPTY"])
    assert out.num_rows == 0 and out.schema == RESULT_SCHEMA
    assert summarise(out) == []


# --- distinct combinations ------------------------------------------------------------------------------------------

@pytest.fixture
def counting_test(monkeypatch):
    """A registered validation reading eventDate and countryCode that counts and echoes its inputs."""
    calls: list[tuple[str, str]] = []

    def function(record, **params) -> Response:
        calls.append((record["dwc:eventDate"], record["dwc:countryCode"]))
        text = f"{record['dwc:eventDate']}|{record['dwc:countryCode']}|{params.get('flavour', '')}"
        return compliant(text) if record["dwc:eventDate"] else not_compliant(text)

    test = BdqTest("test-guid-counting", "VALIDATION_TEST_COUNTING", "Validation", ("dwc:eventDate",),
                   ("dwc:countryCode",), {"bdqval:flavour": "plain"}, function)
    monkeypatch.setitem(REGISTRY, test.guid, test)
    return test, calls


def test_runs_once_per_distinct_combination_and_broadcasts(counting_test):
    test, calls = counting_test
    dates = ["2001", "2001", None, "", "2002", "2001", None, "2002"] * 250
    codes = ["NL", "NL", "NL", "NL", None, "BE", "", "NL"] * 250
    other = [str(i) for i in range(len(dates))]  # a column the test does not read: must not split combinations
    table = pa.table({"eventDate": dates, "countryCode": codes, "catalogNumber": other})
    out = _plain(run_bdq(table, [test.label]))
    # null and "" are the same (empty) value: (2001,NL) (,NL) (2002,) (2001,BE) (,) (2002,NL)
    assert sorted(calls) == sorted({("2001", "NL"), ("", "NL"), ("2002", ""), ("2001", "BE"), ("", ""),
                                    ("2002", "NL")})
    assert [r["row"] for r in out] == list(range(len(dates)))
    for r in out:
        date, code = dates[r["row"]] or "", codes[r["row"]] or ""
        assert r["comment"] == f"{date}|{code}|plain"
        assert r["result"] == ("COMPLIANT" if date else "NOT_COMPLIANT")


def test_parameters_by_guid_or_label(counting_test):
    test, _ = counting_test
    table = pa.table({"eventDate": ["2001"]})
    for key in (test.guid, test.label):
        out = _plain(run_bdq(table, [test.guid], parameters={key: {"bdqval:flavour": "spicy"}}))
        assert out[0]["comment"] == "2001||spicy"
    real = run_bdq(pa.table({"eventDate": ["1887-05-12"]}), ["VALIDATION_EVENTDATE_INRANGE"],
                   parameters={"VALIDATION_EVENTDATE_INRANGE": {"bdqval:earliestValidDate": "1900-01-01"}})
    assert _plain(real)[0]["result"] == "NOT_COMPLIANT"


def test_unknown_test_name():
    with pytest.raises(KeyError):
        run_bdq(pa.table({"eventDate": ["1"]}), ["NOT_A_TEST"])


# --- offline --------------------------------------------------------------------------------------------------------

def test_network_tests_are_not_called_offline(monkeypatch):
    def must_not_run(record, **params):
        raise AssertionError("a network test was called offline")

    test = BdqTest("test-guid-network", "VALIDATION_TEST_NETWORK", "Validation", ("dwc:scientificName",), (),
                   {}, must_not_run, needs_network=True)
    monkeypatch.setitem(REGISTRY, test.guid, test)
    table = pa.table({"scientificName": ["Puma concolor", None, "Abies"]})
    out = _plain(run_bdq(table, [test.guid, "VALIDATION_SCIENTIFICNAME_FOUND"]))
    assert len(out) == 6
    for r in out:
        assert r["status"] == "EXTERNAL_PREREQUISITES_NOT_MET" and r["result"] is None
        assert "skipped offline" in r["comment"]
    with pytest.raises(RuntimeError, match="VALIDATION_TEST_NETWORK"):
        run_bdq(table, [test.guid], offline=False)  # online it is called (and this one raises, with context)


# --- summaries ------------------------------------------------------------------------------------------------------

def test_summaries_count_every_row(batch, results):
    summaries = summarise(results)
    assert len(summaries) == len(REGISTRY)
    for summary in summaries:
        assert summary["rows"] == batch.num_rows
        assert sum(summary["status"].values()) == batch.num_rows
        test = REGISTRY[summary["guid"]]
        assert (summary["label"], summary["kind"]) == (test.label, test.kind)
        if test.kind == "Amendment":
            amend_statuses = {"AMENDED", "FILLED_IN", "NOT_AMENDED"}
            assert summary["result"] == {k: v for k, v in summary["status"].items() if k in amend_statuses}
        if test.kind == "Validation":
            assert set(summary["result"]) <= {"COMPLIANT", "NOT_COMPLIANT"}
            assert sum(summary["result"].values()) == summary["status"].get("RUN_HAS_RESULT", 0)
    notempty = next(s for s in summaries if s["label"] == "VALIDATION_EVENTDATE_NOTEMPTY")
    assert notempty["result"] == {"COMPLIANT": 5, "NOT_COMPLIANT": 3}


def test_summaries_add_up_across_batches(batch, results):
    parts = [summarise(run_bdq(batch.slice(0, 3))), summarise(run_bdq(batch.slice(3, 2))),
             summarise(run_bdq(batch.slice(5)))]
    merged = {s["guid"]: s for s in merge_summaries(parts)}
    whole = {s["guid"]: s for s in summarise(results)}
    assert merged == whole


# --- amendments -----------------------------------------------------------------------------------------------------

def test_amendments_only_when_accepted(batch, results):
    unchanged, applied = apply_amendments(batch, results, [])
    assert unchanged.equals(batch) and applied.num_rows == 0 and applied.schema == APPLIED_SCHEMA

    sex_standardized = "33c45ae1-e2db-462a-a59e-7169bb01c5d6"  # accepted by GUID, the other by label
    amended_table, applied = apply_amendments(batch, results, ["AMENDMENT_EVENTDATE_STANDARDIZED", sex_standardized])
    # only the accepted amendments' terms change, and the verbatim term of an amended eventDate where it was empty
    for name in batch.column_names:
        if name not in ("eventDate", "sex", "verbatimEventDate"):
            assert amended_table[name].equals(batch[name]), name
    assert batch["verbatimEventDate"][5].as_py() is None and batch["eventDate"][5].as_py() == "\xa01999"
    assert amended_table["verbatimEventDate"][5].as_py() == "\xa01999"
    assert amended_table["verbatimEventDate"].to_pylist()[:5] == batch["verbatimEventDate"].to_pylist()[:5]
    rows = applied.to_pylist()
    assert {r["label"] for r in rows} <= {"AMENDMENT_EVENTDATE_STANDARDIZED", "AMENDMENT_SEX_STANDARDIZED"}
    assert {"row": 1, "guid": _guid_of()["AMENDMENT_EVENTDATE_STANDARDIZED"],
            "label": "AMENDMENT_EVENTDATE_STANDARDIZED", "term": "eventDate", "old": "1887-5-12",
            "new": "1887-05-12", "conflict": False, "applied": True,
            "note": "verbatimEventDate already holds '12.V.1887', kept; the original is only in this file"} in rows
    assert [r["note"] for r in rows if r["row"] == 5 and r["term"] == "eventDate"] == [
        "original kept in verbatimEventDate"]
    for r in rows:
        assert batch[r["term"]][r["row"]].as_py() == r["old"]
        assert amended_table[r["term"]][r["row"]].as_py() == r["new"]
    assert amended_table["eventDate"][5].as_py() == "1999"
    assert amended_table["sex"][1].as_py() == "Male"


def _guid_of() -> dict[str, str]:
    return {test.label: test.guid for test in REGISTRY.values()}


def test_filled_in_adds_a_missing_column():
    table = pa.table({"eventDate": ["2001-02-03", None]})
    results = run_bdq(table, ["AMENDMENT_EVENT_FROM_EVENTDATE", "AMENDMENT_OCCURRENCESTATUS_ASSUMEDDEFAULT"])
    amended_table, applied = apply_amendments(table, results, ["AMENDMENT_EVENT_FROM_EVENTDATE"])
    assert "occurrenceStatus" not in amended_table.column_names  # proposed but not accepted
    assert amended_table["year"].to_pylist() == ["2001", None]
    assert amended_table["startDayOfYear"].to_pylist() == ["34", None]
    assert set(applied["term"].to_pylist()) == {"year", "month", "day", "startDayOfYear", "endDayOfYear"}
    assert applied["old"].null_count == applied.num_rows


def _results(rows: list[tuple[int, str, str, dict | None]]) -> pa.Table:
    """A hand-made results table: (row, label, status, proposed terms)."""
    guid = _guid_of()
    return pa.table({"row": pa.array([r[0] for r in rows], pa.int64()),
                     "guid": [guid[r[1]] for r in rows], "label": [r[1] for r in rows],
                     "kind": ["Amendment"] * len(rows),
                     "status": [r[2] for r in rows],
                     "result": [json.dumps(r[3]) if r[3] is not None else None for r in rows],
                     "comment": [""] * len(rows)})


def test_conflicting_amendments_are_not_applied():
    table = pa.table({"decimalLatitude": ["5.1", "-10"], "decimalLongitude": ["52.1", "20"],
                      "countryCode": ["nl", "XX"]})
    results = _results([
        (0, "AMENDMENT_COORDINATES_TRANSPOSED", "AMENDED", {"dwc:decimalLatitude": "52.1",
                                                             "dwc:decimalLongitude": "5.1"}),
        (0, "AMENDMENT_COUNTRYCODE_STANDARDIZED", "AMENDED", {"dwc:countryCode": "NL"}),
        (1, "AMENDMENT_COORDINATES_TRANSPOSED", "AMENDED", {"dwc:decimalLatitude": "10"}),
        (1, "AMENDMENT_COUNTRYCODE_FROM_COORDINATES", "FILLED_IN", {"dwc:countryCode": "AA"}),
        (1, "AMENDMENT_COUNTRYCODE_STANDARDIZED", "AMENDED", {"dwc:countryCode": "BB"}),
        (1, "AMENDMENT_GEODETICDATUM_STANDARDIZED", "NOT_AMENDED", None),
        (1, "AMENDMENT_GEODETICDATUM_ASSUMEDDEFAULT", "FILLED_IN", {"dwc:geodeticDatum": "EPSG:4326"}),
    ])
    accepted = ["AMENDMENT_COORDINATES_TRANSPOSED", "AMENDMENT_COUNTRYCODE_STANDARDIZED",
                "AMENDMENT_COUNTRYCODE_FROM_COORDINATES", "AMENDMENT_GEODETICDATUM_STANDARDIZED"]
    amended_table, applied = apply_amendments(table, results, accepted)
    assert amended_table["decimalLatitude"].to_pylist() == ["52.1", "10"]
    assert amended_table["decimalLongitude"].to_pylist() == ["5.1", "20"]
    assert amended_table["countryCode"].to_pylist() == ["NL", "XX"]  # row 1: AA vs BB, neither applied
    assert "geodeticDatum" not in amended_table.column_names  # ASSUMEDDEFAULT not accepted
    conflicts = applied.filter(applied["conflict"]).to_pylist()
    assert {(r["row"], r["label"], r["term"], r["old"], r["new"]) for r in conflicts} == {
        (1, "AMENDMENT_COUNTRYCODE_FROM_COORDINATES", "countryCode", "XX", "AA"),
        (1, "AMENDMENT_COUNTRYCODE_STANDARDIZED", "countryCode", "XX", "BB")}
    assert applied.num_rows == 6 and pc.sum(applied["conflict"]).as_py() == 2


def test_agreeing_amendments_apply_once():
    table = pa.table({"countryCode": ["nl"]})
    results = _results([(0, "AMENDMENT_COUNTRYCODE_STANDARDIZED", "AMENDED", {"dwc:countryCode": "NL"}),
                        (0, "AMENDMENT_COUNTRYCODE_FROM_COORDINATES", "FILLED_IN", {"dwc:countryCode": "NL"})])
    amended_table, applied = apply_amendments(table, results, ["AMENDMENT_COUNTRYCODE_STANDARDIZED",
                                                               "AMENDMENT_COUNTRYCODE_FROM_COORDINATES"])
    assert amended_table["countryCode"].to_pylist() == ["NL"]
    assert applied.num_rows == 2 and not any(applied["conflict"].to_pylist())


def test_only_amendment_tests_can_be_accepted(results, batch):
    with pytest.raises(ValueError, match="VALIDATION_EVENTDATE_NOTEMPTY"):
        apply_amendments(batch, results, ["VALIDATION_EVENTDATE_NOTEMPTY"])


def test_results_survive_parquet(batch, results, tmp_path):
    """Written and read back (as the flow would keep them), the results summarise and amend the same way."""
    import pyarrow.parquet as pq

    path = tmp_path / "bdq.parquet"
    pq.write_table(results, path, row_group_size=100)  # several row groups, each with its own dictionaries
    back = pq.read_table(path)
    assert _plain(back) == _plain(results)
    assert summarise(back) == summarise(results)
    accepted = ["AMENDMENT_EVENTDATE_STANDARDIZED", "AMENDMENT_BASISOFRECORD_STANDARDIZED"]
    first, second = apply_amendments(batch, back, accepted), apply_amendments(batch, results, accepted)
    assert first[0].equals(second[0]) and first[1].equals(second[1]) and first[1].num_rows > 0
