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


def validate_batch(table: pa.Table, mapping_issues: pa.Table, context: CheckContext,
                   severity: Mapping[str, str]) -> tuple[np.ndarray, pa.Table]:
    """(mask of publishable rows, issues with severity and message, one row per row/term/flag)."""
    context.mapping_issues = mapping_issues
    found = pa.concat_tables([mapping_issues, run_checks(table, context)])
    frame = found.to_pandas().drop_duplicates(["row", "term", "flag"]).sort_values(["row", "term", "flag"])
    frame["severity"] = frame["flag"].map(severity)
    frame["message"] = [describe(f, t, v) for f, t, v in zip(frame["flag"], frame["term"], frame["value"])]
    issues = pa.Table.from_pandas(frame, schema=REPORT_SCHEMA, preserve_index=False)
    error_rows = frame.loc[frame["severity"] == "error", "row"].unique()
    publishable = np.ones(table.num_rows, dtype=bool)
    publishable[error_rows.astype(np.int64)] = False
    return publishable, issues


def quarantine_reasons(issues: pa.Table) -> dict[int, str]:
    """row -> '; '-joined error messages, for the quarantine file."""
    errors = issues.filter(pc.equal(issues["severity"], "error")).to_pandas()
    return errors.groupby("row")["message"].agg("; ".join).to_dict()
