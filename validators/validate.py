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


def _differs(values: pa.Array) -> np.ndarray:
    """Per position after the first: does the value differ from the one before it (two nulls are equal)?"""
    before, after = values.slice(0, len(values) - 1), values.slice(1)
    unequal = pc.fill_null(pc.not_equal(before, after), False)
    one_null = pc.not_equal(pc.is_null(before), pc.is_null(after))
    return pc.or_(unequal, one_null).to_numpy(zero_copy_only=False)


def _messages(flags: pa.Array, terms: pa.Array, values: pa.Array) -> pa.Array:
    """describe() of every row, built in Arrow: 'FLAG: term' + (' is empty' | " = 'value'") + ' (description)'."""
    encoded = pc.dictionary_encode(flags)
    descriptions = pa.array([f" ({FLAGS[flag].description})" for flag in encoded.dictionary.to_pylist()],
                            pa.string()).take(encoded.indices)
    empty = pc.fill_null(pc.equal(values, ""), True)  # null or ''
    quoted = pc.binary_join_element_wise(" = '", values, "'", "")
    shown = pc.if_else(empty, pa.scalar(" is empty"), quoted)
    return pc.binary_join_element_wise(flags, ": ", pc.fill_null(terms, "None"), shown, descriptions, "")


def validate_batch(table: pa.Table, mapping_issues: pa.Table, context: CheckContext,
                   severity: Mapping[str, str]) -> tuple[np.ndarray, pa.Table]:
    """(mask of publishable rows, issues with severity and message, one row per row/term/flag)."""
    context.mapping_issues = mapping_issues
    found = pa.concat_tables([mapping_issues, run_checks(table, context)]).combine_chunks()
    # sorted by row, term and flag (a stable sort: of the same row/term/flag the first found is kept)
    order = pc.sort_indices(found, sort_keys=[("row", "ascending"), ("term", "ascending"), ("flag", "ascending")])
    found = found.take(order)
    if found.num_rows > 1:
        keep = np.ones(found.num_rows, dtype=bool)
        keep[1:] = _differs(found["row"].chunk(0)) | _differs(found["term"].chunk(0)) | \
            _differs(found["flag"].chunk(0))
        if not keep.all():
            found = found.filter(pa.array(keep))
    flags = found["flag"].combine_chunks()
    encoded = pc.dictionary_encode(flags)
    levels = pa.array([severity.get(flag) for flag in encoded.dictionary.to_pylist()], pa.string())
    severity_of = levels.take(encoded.indices)
    terms, values = found["term"].combine_chunks(), found["value"].combine_chunks()
    issues = pa.table([found["row"].combine_chunks(), terms, flags, values, severity_of,
                       _messages(flags, terms, values)], schema=REPORT_SCHEMA)
    error_rows = issues["row"].filter(pc.fill_null(pc.equal(severity_of, "error"), False)).to_numpy()
    publishable = np.ones(table.num_rows, dtype=bool)
    publishable[error_rows] = False
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
