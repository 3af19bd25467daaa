"""One registry of record checks (the pandera/frictionless model): every family of checks runs through it.

A :class:`Check` has a flag name from :mod:`mobilise.flags` (which gives its default severity), the term its issue
row names, the terms it reads, its family and a function from a mapped batch to a boolean mask of failing rows.
Families of checks:

- ``record``: the checks of an Occurrence core (:mod:`.occurrence`) and GBIF's offline issue flags
  (:mod:`.gbif`); :func:`mobilise.validators.validate.validate_batch` runs them on every batch;
- ``dissco``: DiSSCo readiness (:mod:`.dissco`), run when ``validation.dissco`` is not ``ignore``;
- bridged families, whose own engine judges a whole batch and returns issue rows: ``mids`` (the MIDS elements a
  record lacks, :mod:`.mids`) and ``bdq`` (TDWG BDQ validations and issues, :mod:`.bdq.issues`), registered with
  :func:`bridge`.

:func:`run_checks` never raises per record: it collects the failures of the families asked for into one issues
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
from mobilise.mappers.columns import column
from mobilise.mappers.mapping import ISSUE_SCHEMA


class BatchMemo:
    """Values several checks of one batch ask for, computed once. Only the last batch's (keyed by the table object)
    are kept, replaced as one tuple so that a thread never reads another batch's values; each module keeps its own
    memo, so that tables seen by different modules do not evict each other. :func:`forget_batches` empties them
    all when a task is done, so that an idle worker does not hold its last batch."""

    def __init__(self) -> None:
        self._last: tuple = (None, {})
        _MEMOS.append(self)

    def get(self, table: pa.Table, key, compute: Callable):
        last = self._last
        if last[0] is not table:
            last = self._last = (table, {})
        memo = last[1]
        if key not in memo:
            memo[key] = compute()
        return memo[key]


_MEMOS: list[BatchMemo] = []


def forget_batches() -> None:
    """Drop the last batch (its table and the values computed from it) from every :class:`BatchMemo`. Safe while
    another thread validates: its checks compute that batch's values again, as when two batches alternate."""
    for memo in _MEMOS:
        memo._last = (None, {})


@dataclass
class CheckContext:
    """What a check may know beyond its own batch."""

    duplicate_ids: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    #: the triplets more than one record of the dataset uses, as keys (mobilise.validators.dataset.triplet_keys)
    duplicate_triplets: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    today: date = field(default_factory=date.today)
    earliest_year: int = 1600
    mapping_issues: pa.Table = field(default_factory=ISSUE_SCHEMA.empty_table)
    dataset_license: str | None = None  # the EML licence, for records without their own (DiSSCo, MIDS)
    discipline: str = "biology"  # MIDS discipline (validation.discipline)

    def flagged_rows(self, term: str) -> np.ndarray:
        """Rows whose `term` an interpreter already flagged (so 'missing' is not reported on top of 'invalid')."""
        issues = self.mapping_issues
        if issues.num_rows == 0:
            return np.array([], dtype=np.int64)
        rows = issues.filter(pc.equal(issues["term"], term))["row"]
        return np.unique(rows.to_numpy())


CheckFunction = Callable[[pa.Table, CheckContext], "np.ndarray | pa.Array | pa.ChunkedArray"]
FamilyFunction = Callable[[pa.Table, CheckContext], pa.Table]
RECORD = "record"


@dataclass(frozen=True)
class Check:
    flag: str
    term: str  # the term the issue row names; its value is reported (unless reports_value is False)
    function: CheckFunction
    family: str = RECORD
    terms: tuple[str, ...] = ()  # the terms the check reads
    reports_value: bool = True

    @property
    def severity(self) -> str:
        """The flag's default severity (mobilise.flags); a dataset overrides it under validation.severity."""
        return FLAGS[self.flag].severity


CHECKS: list[Check] = []
#: bridged families: name -> function(batch, context) -> issue rows (ISSUE_SCHEMA)
FAMILIES: dict[str, FamilyFunction] = {}


def check(flag: str, term: str, *, family: str = RECORD, terms: tuple[str, ...] | None = None,
          reports_value: bool = True) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check of `flag` (a name in mobilise.flags) whose issue rows name `term`."""
    if flag not in FLAGS:
        raise KeyError(f"check flag {flag} is not in mobilise.flags")

    def register(function: CheckFunction) -> CheckFunction:
        CHECKS.append(Check(flag, term, function, family, tuple(terms) if terms else (term,), reports_value))
        return function

    return register


def bridge(family: str) -> Callable[[FamilyFunction], FamilyFunction]:
    """Register a family whose own engine judges a batch (MIDS, BDQ) and returns issue rows (ISSUE_SCHEMA)."""
    def register(function: FamilyFunction) -> FamilyFunction:
        if family in FAMILIES or any(c.family == family for c in CHECKS):
            raise ValueError(f"check family {family} registered twice")
        FAMILIES[family] = function
        return function

    return register


def run_checks(table: pa.Table, context: CheckContext, families: tuple[str, ...] = (RECORD,)) -> pa.Table:
    """The failures of every check of the given families, as issue rows (ISSUE_SCHEMA): first the registered
    checks (in registration order), then the bridged families (in the order given)."""
    rows: list[np.ndarray] = []
    labels: dict[tuple[str, str], int] = {}  # (term, flag) -> position in the small arrays below
    label_ids: list[np.ndarray] = []
    values: list[pa.Array] = []
    for registered in CHECKS:
        if registered.family not in families:
            continue
        mask = registered.function(table, context)
        if not isinstance(mask, np.ndarray):
            mask = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
        failing = np.flatnonzero(mask)
        if failing.size == 0:
            continue
        rows.append(failing)
        label = labels.setdefault((registered.term, registered.flag), len(labels))
        label_ids.append(np.full(failing.size, label, np.int64))
        if not registered.reports_value:
            values.append(pa.nulls(failing.size, pa.string()))
            continue
        found = column(table, registered.term).take(pa.array(failing))
        if not pa.types.is_string(found.type):  # as text, the way pa.array(found.to_pylist(), pa.string()) reads it
            found = pa.array(found.to_pylist(), pa.string())
        values.append(found)
    bridged = [FAMILIES[name](table, context) for name in families if name in FAMILIES]
    if not rows:
        return pa.concat_tables(bridged) if bridged else ISSUE_SCHEMA.empty_table()
    ids = pa.array(np.concatenate(label_ids))
    terms = pa.array([term for term, _ in labels], pa.string()).take(ids)
    flags = pa.array([flag for _, flag in labels], pa.string()).take(ids)
    found = pa.table({"row": pa.array(np.concatenate(rows), pa.int64()), "term": terms, "flag": flags,
                      "value": pa.concat_arrays(values)}, schema=ISSUE_SCHEMA)
    return pa.concat_tables([found, *bridged]) if bridged else found
