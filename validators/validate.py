"""Judge a mapped batch: interpreter flags and check failures, with severities, into one issues table.

A row with any error-severity issue is not published; it goes to quarantine with the messages as reasons.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import mobilise.validators.occurrence  # noqa: F401  (registers the occurrence checks)
import mobilise.validators.gbif  # noqa: F401  (registers the GBIF offline issue checks)
from mobilise.flags import FLAGS
from mobilise.validators.registry import CheckContext, run_checks

REPORT_SCHEMA = pa.schema([("row", pa.int64()), ("term", pa.string()), ("flag", pa.string()),
                           ("value", pa.string()), ("severity", pa.string()), ("message", pa.string())])


def describe(flag: str, term: str, value: str | None) -> str:
    """'RECORDED_DATE_INVALID: eventDate = '1887-02-30' (…)' — names the field and the value to fix."""
    shown = " is empty" if value is None or value != value or value == "" else f" = '{value}'"  # NaN != NaN
    return f"{flag}: {term}{shown} ({FLAGS[flag].description})"


def _describe_all(flags: list, terms: list, values: list) -> list[str]:
    """describe() for many rows, with the text around the value built once per flag and term."""
    around: dict[tuple, tuple[str, str]] = {}
    messages = []
    for flag, term, value in zip(flags, terms, values):
        parts = around.get((flag, term))
        if parts is None:
            parts = around[(flag, term)] = (f"{flag}: {term}", f" ({FLAGS[flag].description})")
        shown = " is empty" if value is None or value != value or value == "" else f" = '{value}'"  # NaN != NaN
        messages.append(f"{parts[0]}{shown}{parts[1]}")
    return messages


def validate_batch(table: pa.Table, mapping_issues: pa.Table, context: CheckContext,
                   severity: Mapping[str, str]) -> tuple[np.ndarray, pa.Table]:
    """(mask of publishable rows, issues with severity and message, one row per row/term/flag)."""
    context.mapping_issues = mapping_issues
    found = pa.concat_tables([mapping_issues, run_checks(table, context)])
    frame = found.to_pandas().drop_duplicates(["row", "term", "flag"]).sort_values(["row", "term", "flag"])
    frame["severity"] = frame["flag"].map(severity)
    frame["message"] = _describe_all(frame["flag"].tolist(), frame["term"].tolist(), frame["value"].tolist())
    issues = pa.Table.from_pandas(frame, schema=REPORT_SCHEMA, preserve_index=False)
    error_rows = frame.loc[frame["severity"] == "error", "row"].unique()
    publishable = np.ones(table.num_rows, dtype=bool)
    publishable[error_rows.astype(np.int64)] = False
    return publishable, issues


def quarantine_reasons(issues: pa.Table) -> dict[int, str]:
    """row -> '; '-joined error messages, for the quarantine file."""
    errors = issues.filter(pc.equal(issues["severity"], "error"))
    rows = errors["row"].to_numpy()
    messages = errors["message"].to_pylist()
    grouped: dict[int, list[str]] = {}
    for position in np.argsort(rows, kind="stable").tolist():  # by row, in the order found within a row
        grouped.setdefault(int(rows[position]), []).append(messages[position])
    return {row: "; ".join(found) for row, found in grouped.items()}
