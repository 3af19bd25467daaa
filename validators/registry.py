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
    terms, flags, values = [], [], []
    for registered in CHECKS:
        mask = registered.function(table, context)
        if not isinstance(mask, np.ndarray):
            mask = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
        failing = np.flatnonzero(mask)
        if failing.size == 0:
            continue
        rows.append(failing)
        terms.extend([registered.term] * failing.size)
        flags.extend([registered.flag] * failing.size)
        values.extend(column(table, registered.term).take(pa.array(failing)).to_pylist())
    if not rows:
        return ISSUE_SCHEMA.empty_table()
    return pa.table({"row": pa.array(np.concatenate(rows), pa.int64()), "term": terms, "flag": flags,
                     "value": pa.array(values, pa.string())}, schema=ISSUE_SCHEMA)
