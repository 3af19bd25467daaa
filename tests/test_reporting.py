"""Report fragments, their merge, publication gates, and the run report built from a run's summaries."""
from __future__ import annotations

import json

import pyarrow as pa

from mobilise.publishers.publication import evaluate_gates
from mobilise.publishers.report import amendments_section, batch_fragment, merge_fragments
from mobilise.settings import GatesConfig
from mobilise.validators.bdq.batch import (apply_amendments, merge_applied, merge_summaries, resolve_tests, run_bdq,
                                           summarise, summarise_applied)
from mobilise.validators.validate import REPORT_SCHEMA


def _published(n: int, year: str = "1901") -> pa.Table:
    return pa.table({"eventDate": [f"{year}-05-0{i % 9 + 1}" for i in range(n)],
                     "decimalLatitude": [str(50 + i / 1000) for i in range(n)],
                     "decimalLongitude": [str(4 + i / 1000) for i in range(n)]})


def test_fragments_count_years_sample_coordinates_and_keep_examples():
    issues = pa.Table.from_pylist(
        [{"row": r, "term": "eventDate", "flag": "RECORDED_DATE_INVALID", "value": f"x{r}", "severity": "error",
          "message": "m"} for r in range(8)], schema=REPORT_SCHEMA)
    ids = pa.array([f"id{r}" for r in range(3000)])
    fragment = batch_fragment(_published(3000), issues, ids)
    assert fragment.years == {"1901": 3000}
    assert 900 <= len(fragment.coordinates) <= 1000
    assert [e["occurrenceID"] for e in fragment.examples["RECORDED_DATE_INVALID"]] == [f"id{r}" for r in range(5)]
    assert fragment.terms == {"eventDate": {"error": 8}}
    merged = merge_fragments([fragment, batch_fragment(_published(10, "1950"), issues, ids)])
    assert merged.years == {"1901": 3000, "1950": 10}
    assert len(merged.examples["RECORDED_DATE_INVALID"]) == 5
    assert merged.terms == {"eventDate": {"error": 16}}


def test_gates_pass_and_fail_with_reasons():
    gates = GatesConfig(max_rejected_share=0.1, max_drop_share=0.2)
    assert all(g.passed for g in evaluate_gates(gates, 1000, 100, 900, previous=1000))
    failed = {g.name: g for g in evaluate_gates(gates, 1000, 101, 700, previous=1000) if not g.passed}
    assert set(failed) == {"max_rejected_share", "max_drop_share"}
    assert failed["max_rejected_share"].detail.startswith("10.1% of 1000 records rejected (limit 10%); if this is")
    assert "quarantine file" in failed["max_rejected_share"].detail
    assert "raise gates.max_drop_share in the config" in failed["max_drop_share"].detail
    assert "700 records against 1000" in failed["max_drop_share"].detail
    # no previous version: no drop gate; an empty source never publishes
    assert [g.name for g in evaluate_gates(gates, 0, 0, 0, previous=None) if not g.passed] == \
        ["records_extracted"]


def test_a_run_with_nothing_to_publish_never_passes_and_says_why():
    """Every record rejected or excluded by rule: no empty version, whatever the configured gates (all off here)."""
    gates = GatesConfig(max_rejected_share=None, max_drop_share=None)
    (failed,) = [g for g in evaluate_gates(gates, 21, 1, 0, previous=None, excluded_by={"not public": 20})
                 if not g.passed]
    assert failed.name == "records_published"
    assert "none of the 21 records extracted can be published: 1 rejected" in failed.detail
    assert "excluded 20 by rule 'not public'" in failed.detail
    assert all(g.passed for g in evaluate_gates(gates, 21, 1, 1, previous=None, excluded_by={"not public": 19}))
    allowed = GatesConfig(max_rejected_share=None, max_drop_share=None, allow_empty=True)
    assert all(g.passed for g in evaluate_gates(allowed, 21, 1, 0, previous=None, excluded_by={"not public": 20}))


# --- the amendments section of the run report, from the BDQ summaries of several batches ----------------------------

def test_amendments_section_adds_up_across_batches():
    table = pa.table({"countryCode": ["nl", "nl", "Germany", "XX"], "sex": ["m", None, "female", "x"]})
    accepted = ["AMENDMENT_COUNTRYCODE_STANDARDIZED", "AMENDMENT_SEX_STANDARDIZED"]
    parts, applied_parts = [], []
    for piece in (table.slice(0, 2), table.slice(2)):
        results = run_bdq(piece, accepted + ["AMENDMENT_OCCURRENCESTATUS_ASSUMEDDEFAULT"])
        parts.append(summarise(results))
        applied_parts.append(summarise_applied(apply_amendments(piece, results, accepted)[1]))
    section = amendments_section(merge_summaries(parts), merge_applied(applied_parts))
    proposed = {p.label: p.records for p in section.proposed}
    assert proposed == {"AMENDMENT_COUNTRYCODE_STANDARDIZED": 3, "AMENDMENT_SEX_STANDARDIZED": 2,
                        "AMENDMENT_OCCURRENCESTATUS_ASSUMEDDEFAULT": 4}
    applied = {(a.label, a.term): a.records for a in section.applied}
    assert applied == {("AMENDMENT_COUNTRYCODE_STANDARDIZED", "countryCode"): 3,
                       ("AMENDMENT_SEX_STANDARDIZED", "sex"): 2}


def test_conflicting_amendments_are_counted_and_left_out_of_the_applied():
    table = pa.table({"countryCode": ["XX"]})
    accepted = ["AMENDMENT_COUNTRYCODE_STANDARDIZED", "AMENDMENT_COUNTRYCODE_FROM_COORDINATES"]
    guid = {t.label: t.guid for t in resolve_tests(accepted)}
    proposals = [("AMENDMENT_COUNTRYCODE_FROM_COORDINATES", "FILLED_IN", "AA"),
                 ("AMENDMENT_COUNTRYCODE_STANDARDIZED", "AMENDED", "BB")]
    results = pa.table({"row": pa.array([0, 0], pa.int64()), "guid": [guid[p[0]] for p in proposals],
                        "label": [p[0] for p in proposals], "kind": ["Amendment"] * 2,
                        "status": [p[1] for p in proposals],
                        "result": [json.dumps({"dwc:countryCode": p[2]}) for p in proposals], "comment": ["", ""]})
    _, applied = apply_amendments(table, results, accepted)
    counted = summarise_applied(applied)
    assert sorted((c["label"], c["records"], c["conflicts"]) for c in counted) == [
        ("AMENDMENT_COUNTRYCODE_FROM_COORDINATES", 0, 1), ("AMENDMENT_COUNTRYCODE_STANDARDIZED", 0, 1)]
    assert amendments_section([], counted).applied == []


def test_amendments_are_written_a_batch_at_a_time_as_one_csv(tmp_path):
    """Batches whose amendments differ in columns (one lacks `note`, one holds it as nulls only) stream into one
    CSV, the same bytes as the batches joined in memory would give."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from mobilise.publishers.publish import write_amendments

    batches = [pa.table({"occurrenceID": ["a"], "term": ["country"], "note": pa.nulls(1)}),
               pa.table({"occurrenceID": ["b", "c"], "term": ["month", "day"]}),
               pa.table({"occurrenceID": ["d"], "term": ["year"], "note": ["swapped"]})]
    schema = pa.unify_schemas([b.schema for b in batches], promote_options="permissive")
    target = tmp_path / "amendments.csv"
    assert write_amendments(iter(batches), target, schema) == str(target)
    joined = tmp_path / "joined.csv"
    pacsv.write_csv(pa.concat_tables(batches, promote_options="permissive"), str(joined))
    assert target.read_bytes() == joined.read_bytes()
    assert target.read_text().splitlines()[-1] == '"d","year","swapped"'
    assert write_amendments(iter([]), tmp_path / "none.csv", None) is None and not (tmp_path / "none.csv").exists()
