"""Run the official BDQ validation data against the registered tests and count what conforms.

Comparison follows the Implementer's Guide: look the test up by GUID (never by label); status must match exactly;
result must match exactly (amendment JSON compared as objects) unless the expected status is a
*_PREREQUISITES_NOT_MET, where the result is empty; the comment is never compared.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from mobilise.validators.bdq.core import REGISTRY, Response

INPUT_PREFIXES = ("dc:", "dcterms:", "dwc:")
PARAMETER_PREFIX = "bdqval:"


def read_rows(path: str | Path) -> list[dict[str, str]]:
    # newline='' and no stripping: the non-printing-characters file relies on the raw cell content.
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _record(row: dict[str, str]) -> dict[str, str]:
    return {k: (v or "") for k, v in row.items() if k.startswith(INPUT_PREFIXES)}


def _parameters(row: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items() if k.startswith(PARAMETER_PREFIX) and v not in (None, "")}


def _expected_result(text: str) -> str | dict | None:
    text = (text or "").strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text or None


def compare(row: dict[str, str], response: Response) -> str | None:
    """None when the response conforms, otherwise a short reason."""
    expected_status = row["Response.status"].strip()
    if response.status.value != expected_status:
        return f"status {response.status.value} != expected {expected_status}"
    if expected_status.endswith("PREREQUISITES_NOT_MET") or expected_status == "NOT_AMENDED":
        return None
    expected = _expected_result(row["Response.result"])
    actual = response.result
    if isinstance(expected, dict) and isinstance(actual, dict):
        if {k: str(v) for k, v in expected.items()} == {k: str(v) for k, v in actual.items()}:
            return None
    elif (expected or "") == (actual if isinstance(actual, str) else response.result_text()):
        return None
    return f"result {response.result_text()!r} != expected {row['Response.result'].strip()!r}"


def run_conformance(paths: Iterable[str | Path]) -> dict:
    totals = {"rows": 0, "passed": 0, "failed": 0, "not_run": 0}
    per_test: dict[str, dict] = defaultdict(lambda: {"label": "", "rows": 0, "passed": 0, "failed": 0,
                                                      "not_run": 0, "reasons": []})
    for path in paths:
        for row in read_rows(path):
            guid = row["GUID"].strip()
            entry = per_test[guid]
            entry["label"] = REGISTRY[guid].label if guid in REGISTRY else row["Label"].strip()
            entry["rows"] += 1
            totals["rows"] += 1
            test = REGISTRY.get(guid)
            if test is None:
                entry["not_run"] += 1
                totals["not_run"] += 1
                continue
            try:
                response = test(_record(row), **_parameters(row))
                reason = compare(row, response)
            except Exception as exc:  # a test must never raise; count it as a failure with the reason
                response, reason = None, f"raised {type(exc).__name__}: {exc}"
            if (reason is not None and test.needs_network and response is not None
                    and response.status.value == "EXTERNAL_PREREQUISITES_NOT_MET"):
                # The remote authority was unreachable: the row could not be run here, which is not a pass.
                entry["not_run"] += 1
                totals["not_run"] += 1
                entry["reasons"].append({"dataID": row["dataID"], "reason": "remote authority unreachable"})
                continue
            if reason is None:
                entry["passed"] += 1
                totals["passed"] += 1
            else:
                entry["failed"] += 1
                totals["failed"] += 1
                entry["reasons"].append({"dataID": row["dataID"], "reason": reason})
    tests = [{"guid": guid, **entry} for guid, entry in sorted(per_test.items(), key=lambda kv: kv[1]["label"])]
    return {**totals, "tests": tests}
