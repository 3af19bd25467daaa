"""Report fragments, their merge, and publication gates."""
from __future__ import annotations

import pyarrow as pa

from mobilise.flows.reporting import batch_fragment, evaluate_gates, merge_fragments
from mobilise.settings import GatesConfig
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
    assert fragment["years"] == {"1901": 3000}
    assert 900 <= len(fragment["coordinates"]) <= 1000
    assert [e["occurrenceID"] for e in fragment["examples"]["RECORDED_DATE_INVALID"]] == [f"id{r}" for r in range(5)]
    assert fragment["terms"] == {"eventDate": {"error": 8}}
    merged = merge_fragments([fragment, batch_fragment(_published(10, "1950"), issues, ids)])
    assert merged["years"] == {"1901": 3000, "1950": 10}
    assert len(merged["examples"]["RECORDED_DATE_INVALID"]) == 5
    assert merged["terms"] == {"eventDate": {"error": 16}}


def test_gates_pass_and_fail_with_reasons():
    gates = GatesConfig(max_rejected_share=0.1, max_drop_share=0.2)
    assert all(g["passed"] for g in evaluate_gates(gates, 1000, 100, 900, previous=1000))
    failed = {g["name"]: g for g in evaluate_gates(gates, 1000, 101, 700, previous=1000) if not g["passed"]}
    assert set(failed) == {"max_rejected_share", "max_drop_share"}
    assert "10.1% of 1000 records rejected (limit 10%)" == failed["max_rejected_share"]["detail"]
    assert "700 records against 1000" in failed["max_drop_share"]["detail"]
    # no previous version: no drop gate; an empty source never publishes
    assert [g["name"] for g in evaluate_gates(gates, 0, 0, 0, previous=None) if not g["passed"]] == \
        ["records_extracted"]
