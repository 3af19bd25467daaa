"""Record checks as registered functions (the pandera/frictionless model).

A check has a flag name from :mod:`mobilise.flags`, the term it is about and a function from a mapped batch to a
boolean mask of failing rows. Running the checks never raises per record: failures are collected into one issues
table (row, term, flag, value) that reports, quarantine and publication gates read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.flags import FLAGS
from mobilise.mappers.mapping import ISSUE_SCHEMA


class BatchMemo:
    """Values several checks of one batch ask for, computed once. Only the last batch's (keyed by the table object)
    are kept, replaced as one tuple so that a thread never reads another batch's values; each module keeps its own
    memo, so that tables seen by different modules do not evict each other."""

    def __init__(self) -> None:
        self._last: tuple = (None, {})

    def get(self, table: pa.Table, key, compute: Callable):
        last = self._last
        if last[0] is not table:
            last = self._last = (table, {})
        memo = last[1]
        if key not in memo:
            memo[key] = compute()
        return memo[key]


@dataclass
class CheckContext:
    """What a check may know beyond its own batch."""

    duplicate_ids: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    today: date = field(default_factory=date.today)
    earliest_year: int = 1600
    mapping_issues: pa.Table = field(default_factory=ISSUE_SCHEMA.empty_table)

    def flagged_rows(self, term: str) -> np.ndarray:
        """Rows whose `term` an interpreter already flagged (so 'missing' is not reported on top of 'invalid')."""
        issues = self.mapping_issues
        if issues.num_rows == 0:
            return np.array([], dtype=np.int64)
        rows = issues.filter(pc.equal(issues["term"], term))["row"]
        return np.unique(rows.to_numpy())


CheckFunction = Callable[[pa.Table, CheckContext], "np.ndarray | pa.Array | pa.ChunkedArray"]


@dataclass(frozen=True)
class Check:
    flag: str
    term: str
    function: CheckFunction


CHECKS: list[Check] = []


def check(flag: str, term: str) -> Callable[[CheckFunction], CheckFunction]:
    if flag not in FLAGS:
        raise KeyError(f"check flag {flag} is not in mobilise.flags")

    def register(function: CheckFunction) -> CheckFunction:
        CHECKS.append(Check(flag, term, function))
        return function

    return register


def column(table: pa.Table, term: str) -> pa.Array:
    """The term's column, or all-null when the dataset does not map the term."""
    if term in table.column_names:
        return table[term].combine_chunks()
    return pa.nulls(table.num_rows, pa.string())


def run_checks(table: pa.Table, context: CheckContext) -> pa.Table:
    rows: list[np.ndarray] = []
    labels: dict[tuple[str, str], int] = {}  # (term, flag) -> position in the small arrays below
    label_ids: list[np.ndarray] = []
    values: list[pa.Array] = []
    for registered in CHECKS:
        mask = registered.function(table, context)
        if not isinstance(mask, np.ndarray):
            mask = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
        failing = np.flatnonzero(mask)
        if failing.size == 0:
            continue
        rows.append(failing)
        label = labels.setdefault((registered.term, registered.flag), len(labels))
        label_ids.append(np.full(failing.size, label, np.int64))
        found = column(table, registered.term).take(pa.array(failing))
        if not pa.types.is_string(found.type):  # as text, the way pa.array(found.to_pylist(), pa.string()) reads it
            found = pa.array(found.to_pylist(), pa.string())
        values.append(found)
    if not rows:
        return ISSUE_SCHEMA.empty_table()
    ids = pa.array(np.concatenate(label_ids))
    terms = pa.array([term for term, _ in labels], pa.string()).take(ids)
    flags = pa.array([flag for _, flag in labels], pa.string()).take(ids)
    return pa.table({"row": pa.array(np.concatenate(rows), pa.int64()), "term": terms, "flag": flags,
                     "value": pa.concat_arrays(values)}, schema=ISSUE_SCHEMA)
