"""The validate stage: everything Mobilise knows about one mapped batch's quality, in pure functions.

:func:`validate` judges a batch (:func:`assess`) and summarises it (:class:`QualitySummary`, which adds up over
batches); :func:`quarantine_table` builds its rejected records with their reasons, :func:`warnings_table` its
published records that carry a warning or info flag, with their messages. Checks over a whole table
(duplicate occurrenceIDs; later, across tables) are in :mod:`mobilise.validators.dataset`.

Order matters: the TDWG BDQ tests run on the mapped values and propose amendments; the amendments the dataset
accepts are applied; then the record checks (Mobilise's and GBIF's flags) and DiSSCo's readiness rules judge
the final values, and the MIDS levels of the publishable records are computed.
"""
from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise import timings
from mobilise.flags import FLAGS
from mobilise.mappers.columns import as_text
from mobilise.mappers.interpreters import DWC_VERBATIM_TERM
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.settings import ValidationConfig
from mobilise.validators.dissco import DISSCO_FLAGS, dissco_issues
from mobilise.validators.mids import mids_distribution, mids_levels
from mobilise.validators.registry import CheckContext
from mobilise.validators.validate import quarantine_reasons, validate_batch

if TYPE_CHECKING:
    from mobilise.validators.integrity import JudgedRows


@dataclass
class Assessment:
    table: pa.Table  # the batch after accepted amendments
    publishable: np.ndarray
    issues: pa.Table  # one row per (row, term, flag), with severity and message
    bdq: list[dict] = field(default_factory=list)  # per-test counts of statuses and results
    applied: pa.Table | None = None  # amendments proposed: row, guid, label, term, old, new, conflict, applied, note
    mids: dict[str, dict[int, int]] = field(default_factory=dict)  # variant -> level -> publishable records


def _drop_amended(mapping_issues: pa.Table, applied: pa.Table | None) -> pa.Table:
    """An interpreter's complaint about a value that an accepted amendment replaced no longer applies."""
    if applied is None or applied.num_rows == 0 or mapping_issues.num_rows == 0:
        return mapping_issues
    done = applied.filter(pc.fill_null(applied["applied"], False))
    amended = set(zip(done["row"].to_pylist(), done["term"].to_pylist()))
    keep = [(row, term) not in amended for row, term in
            zip(mapping_issues["row"].to_pylist(), mapping_issues["term"].to_pylist())]
    return mapping_issues.filter(pa.array(keep))


def assess(table: pa.Table, mapping_issues: pa.Table, context: CheckContext, validation: ValidationConfig,
           severity: dict[str, str], dataset_license: str | None = None) -> Assessment:
    bdq: list[dict] = []
    applied = None
    if validation.bdq.enabled:
        from mobilise.validators.bdq.batch import apply_amendments, run_bdq, summarise

        with timings.stage("bdq"):
            results = run_bdq(table, validation.bdq.tests, validation.bdq.parameters, offline=validation.bdq.offline)
            bdq = summarise(results)
            if validation.bdq.amendments:
                table, applied = apply_amendments(table, results, validation.bdq.amendments,
                                                  validation.bdq.parameters)
    prior = _drop_amended(mapping_issues, applied)
    severity = dict(severity)
    if validation.dissco != "ignore":
        with timings.stage("mids_dissco"):
            prior = pa.concat_tables([prior, dissco_issues(table, dataset_license).cast(ISSUE_SCHEMA)])
        for flag in DISSCO_FLAGS:
            severity[flag] = "error" if validation.dissco == "fail" else "warning"
    with timings.stage("gbif_checks"):
        publishable, issues = validate_batch(table, prior, context, severity)
        table = remove_flagged_values(table, issues, publishable)
    with timings.stage("mids_dissco"):
        published = table.filter(pa.array(publishable))
        mids = {variant: mids_distribution(mids_levels(published, validation.discipline, variant, dataset_license))
                for variant in ("tdwg", "dissco")}
    return Assessment(table, publishable, issues, bdq, applied, mids)


# --- the publication policy: a wrong value is not published, its record is -----------------------------------------

REMOVED_NOTE = "mobilise:removed"  # the key of the dynamicProperties note that keeps the removed originals
_COORDINATE_PAIR = {"decimalLatitude": "decimalLongitude", "decimalLongitude": "decimalLatitude"}
# a term whose original, when published unchanged in this other term, is kept there already (a country name
# mapped to both country and countryCode)
_SAME_VALUE_IN = {"countryCode": "country"}


def remove_flagged_values(table: pa.Table, issues: pa.Table, publishable: np.ndarray) -> pa.Table:
    """The batch with every value a ``removes_value`` flag (mobilise.flags) names emptied in the publishable rows.

    `issues` is validate_batch's (row, term, flag, value, ...); quarantined rows keep their values as found. A
    removed coordinate takes the other one of its pair with it (a point is both). The original is kept once:
    in Darwin Core's verbatim term of the term (``DWC_VERBATIM_TERM``: verbatimLatitude, verbatimEventDate,
    verbatimElevation, ...) where that is empty, else (or where Darwin Core has none) in a JSON object in
    ``dynamicProperties``, ``{"mobilise:removed": {"countryCode": "XX"}}``, merged into the record's own JSON
    object (a dynamicProperties that is not one is kept as ``"mobilise:text"``). Nothing is recorded when the
    verbatim term already holds the original, as the mapper puts it there for the values its interpreters
    could not read (they empty the term themselves; the issue's value is then the original), nor for a
    countryCode whose original is the record's country as published. Columns are added
    only when a row needs them. Pure: the same batch always gives the same table.
    """
    removing = [name for name, flag in FLAGS.items() if flag.removes_value]
    chosen = issues.filter(pc.fill_null(pc.is_in(issues["flag"], pa.array(removing, pa.string())), False))
    if chosen.num_rows == 0:
        return table
    # (row, term) -> the original value, in issue order (one per row and term, whatever the number of flags)
    originals: dict[tuple[int, str], str | None] = {}
    for row, term, value in zip(chosen["row"].to_pylist(), chosen["term"].to_pylist(), chosen["value"].to_pylist()):
        if publishable[row] and term in table.column_names:
            originals.setdefault((row, term), value)
    for row, term in list(originals):
        if _COORDINATE_PAIR.get(term) in table.column_names:
            originals.setdefault((row, _COORDINATE_PAIR[term]), None)
    if not originals:
        return table
    # Python sees only the rows that lose a value (row -> value per column), the rest stays in Arrow
    touched = sorted({row for row, _ in originals})
    at = pa.array(touched, pa.int64())
    columns: dict[str, dict[int, str | None]] = {
        name: dict(zip(touched, table[name].take(at).to_pylist())) for name in
        {term for _, term in originals} | {DWC_VERBATIM_TERM[t] for _, t in originals if t in DWC_VERBATIM_TERM}
        | {_SAME_VALUE_IN[t] for _, t in originals if t in _SAME_VALUE_IN} | {"dynamicProperties"}
        if name in table.column_names}
    notes: dict[int, dict[str, str]] = {}
    for (row, term), flagged in sorted(originals.items()):
        value = columns[term][row]
        original = value if value is not None else flagged
        columns[term][row] = None
        if original is None or original == "":
            continue
        if term in _SAME_VALUE_IN and columns.get(_SAME_VALUE_IN[term], {}).get(row) == original:
            continue
        verbatim = DWC_VERBATIM_TERM.get(term)
        kept = columns.get(verbatim, {}).get(row) if verbatim else None
        if verbatim and kept in (None, ""):
            columns.setdefault(verbatim, {})[row] = original
        elif kept is None or kept.replace(" ", "") != original.replace(" ", ""):
            notes.setdefault(row, {})[term] = original
    if notes:
        properties = columns.setdefault("dynamicProperties", {})
        for row, removed in notes.items():
            properties[row] = _with_note(properties.get(row), removed)
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[touched] = True
    for name, values in columns.items():
        replacement = pa.array([values.get(row) for row in touched], pa.string())
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, pc.replace_with_mask(
                table[name].combine_chunks().cast(pa.string()), pa.array(mask), replacement))
        elif any(value is not None for value in values.values()):
            table = table.append_column(name, pc.replace_with_mask(pa.nulls(table.num_rows, pa.string()),
                                                                   pa.array(mask), replacement))
    return table


def _with_note(properties: str | None, removed: dict[str, str]) -> str:
    """`properties` (a record's dynamicProperties) with `removed` under "mobilise:removed", as compact JSON."""
    try:
        merged = json.loads(properties) if properties else {}
    except ValueError:
        merged = None
    if not isinstance(merged, dict):
        merged = {"mobilise:text": properties}
    merged[REMOVED_NOTE] = {**merged.get(REMOVED_NOTE, {}), **removed}
    return json.dumps(merged, ensure_ascii=False, separators=(",", ":"))


# --- the validate stage -------------------------------------------------------------------------------------------

@dataclass
class QualitySummary:
    """What validation found in one batch, or (:meth:`combine`) in all of them: the counts the report, the gates
    and the publication log need. Small and picklable: it travels from the validate task to the publish task."""

    records: int = 0  # rows validated (= extracted - excluded)
    published: int = 0
    rejected: int = 0
    flags: dict[str, int] = field(default_factory=dict)  # flag -> records flagged (a record counts once per flag)
    flagged: dict[str, int] = field(default_factory=dict)  # severity -> records with at least one flag of it
    dissco_flagged: int = 0  # records with at least one DiSSCo readiness flag
    severity_of: dict[str, str] = field(default_factory=dict)  # flag -> error / warning / info, as applied
    # columns the batch gained in validation (accepted amendments; a removed value kept in a verbatim term or in
    # dynamicProperties): the archive and the quarantine take their union over batches
    added_terms: list[str] = field(default_factory=list)
    bdq: list[dict] = field(default_factory=list)  # validators.bdq.batch.summarise
    applied: list[dict] = field(default_factory=list)  # validators.bdq.batch.summarise_applied
    mids: dict[str, dict[int, int]] = field(default_factory=dict)  # variant -> MIDS level -> published records
    excluded: int = 0  # records the dataset's rules kept out before validation (mappers/rules.py)
    excluded_by: dict[str, int] = field(default_factory=dict)  # rule label -> records it excluded

    @property
    def extracted(self) -> int:
        """Records the source gave: validated (published + rejected) and excluded by rule."""
        return self.records + self.excluded

    def count_excluded(self, excluded: pa.Table) -> None:
        """Count the batch's records excluded by rule (a table with a ``rule`` column, one row per record)."""
        self.excluded = excluded.num_rows
        self.excluded_by = dict(Counter(excluded["rule"].to_pylist()))

    @classmethod
    def combine(cls, summaries: Iterable["QualitySummary"]) -> "QualitySummary":
        """The run's summary from its batches' (in batch order: the BDQ tests keep their first-seen order)."""
        from mobilise.validators.bdq.batch import merge_applied, merge_summaries

        summaries = list(summaries)
        flags: Counter = Counter()
        flagged: Counter = Counter()
        excluded_by: Counter = Counter()
        mids: dict[str, Counter] = {variant: Counter() for variant in ("tdwg", "dissco")}
        for summary in summaries:  # batches hold different records, so records add up
            flags.update(summary.flags)
            flagged.update(summary.flagged)
            excluded_by.update(summary.excluded_by)
            for variant, counter in mids.items():
                counter.update(summary.mids.get(variant, {}))
        return cls(records=sum(s.records for s in summaries), published=sum(s.published for s in summaries),
                   rejected=sum(s.rejected for s in summaries), flags=dict(flags), flagged=dict(flagged),
                   dissco_flagged=sum(s.dissco_flagged for s in summaries),
                   severity_of={flag: severity for s in summaries for flag, severity in s.severity_of.items()},
                   added_terms=sorted({t for s in summaries for t in s.added_terms}),
                   bdq=merge_summaries(s.bdq for s in summaries), applied=merge_applied(s.applied for s in summaries),
                   mids={variant: dict(counter) for variant, counter in mids.items()},
                   excluded=sum(s.excluded for s in summaries), excluded_by=dict(excluded_by))


@dataclass
class ValidatedBatch:
    """One batch after validation: ``table`` (after accepted amendments), ``valid`` (its publishable rows),
    ``issues`` (one row per row, term and flag), ``rejected`` (row numbers), ``amendments`` (the amendments
    applied, occurrenceID first; None when there were none) and the batch's :class:`QualitySummary`."""

    table: pa.Table
    valid: pa.Table
    issues: pa.Table
    rejected: np.ndarray
    amendments: pa.Table | None
    quality: QualitySummary


# The checks share GEOS prepared geometries (country polygons) and PROJ objects, which must not be used from two
# threads at once (a 1M benchmark run with two validate threads died of heap corruption). Batches are therefore
# validated one at a time per process; the Dask runner gives each worker process its own copies, so validation
# still runs in parallel across processes, and mapping across threads.
_VALIDATE_LOCK = threading.Lock()


def validate(mapped: pa.Table, mapping_issues: pa.Table, context: CheckContext, validation: ValidationConfig,
             severity: dict[str, str], dataset_license: str | None = None) -> ValidatedBatch:
    """Validate one mapped batch (:func:`assess`, one batch per process at a time) and summarise it."""
    from mobilise.validators.bdq.batch import summarise_applied

    with _VALIDATE_LOCK:
        assessment = assess(mapped, mapping_issues, context, validation, severity, dataset_license)
    table, issues, publishable = assessment.table, assessment.issues, assessment.publishable
    valid = table.filter(pa.array(publishable))
    rejected = np.flatnonzero(~publishable)
    amendments = None
    applied: list[dict] = []
    if assessment.applied is not None and assessment.applied.num_rows:
        frame = assessment.applied.to_pandas()
        occurrence_ids = table["occurrenceID"].combine_chunks()
        frame.insert(0, "occurrenceID", occurrence_ids.take(pa.array(frame["row"].to_numpy())).to_pylist())
        amendments = pa.Table.from_pandas(frame, preserve_index=False)
        applied = summarise_applied(assessment.applied)
    flags = issues["flag"].to_pylist()
    dissco = issues.filter(pc.is_in(issues["flag"], pa.array(sorted(DISSCO_FLAGS), pa.string())))
    quality = QualitySummary(records=mapped.num_rows, published=valid.num_rows, rejected=int(rejected.size),
                             flags=records_per(issues, "flag"), flagged=records_per(issues, "severity"),
                             dissco_flagged=len(set(dissco["row"].to_pylist())),
                             severity_of=dict(zip(flags, issues["severity"].to_pylist())),
                             added_terms=[c for c in table.column_names if c not in mapped.column_names],
                             bdq=assessment.bdq, applied=applied, mids=assessment.mids)
    return ValidatedBatch(table, valid, issues, rejected, amendments, quality)


def records_per(issues: pa.Table, column: str) -> dict[str, int]:
    """Distinct records (``row``) per value of `column` of an issues table (``flag`` or ``severity``): a record
    with the same flag on two terms counts once. {} when there are no issues."""
    if not issues.num_rows:
        return {}
    pairs = issues.select([column, "row"]).group_by([column, "row"], use_threads=False).aggregate([])
    counts = pairs.group_by(column, use_threads=False).aggregate([("row", "count")])
    return dict(zip(counts[column].to_pylist(), counts["row_count"].to_pylist()))


WARNING_SEVERITIES = ("warning", "info")  # the flags a published record can carry


def quarantine_table(batch: ValidatedBatch, source: pa.Table) -> pa.Table:
    """The rejected records whole: ``reasons``, the Darwin Core values and every column of `source` (the
    extracted batch; only its schema is read when nothing was rejected) as ``source.<column>`` text."""
    return quarantine_rows(batch.table, batch.issues, batch.rejected, source)


def quarantine_rows(table: pa.Table, issues: pa.Table, rejected: np.ndarray, source: pa.Table) -> pa.Table:
    """The `rejected` rows (row numbers) of `table` whole: ``reasons`` (from `issues`, with severity and message),
    the Darwin Core values and every column of `source` as ``source.<column>`` text (of a core batch or an
    extension's)."""
    indices = pa.array(rejected, pa.int64())
    reasons = quarantine_reasons(issues)
    columns = {"reasons": pa.array([reasons.get(int(r), "") for r in rejected], pa.string())}
    for name in table.column_names:
        columns[name] = table[name].combine_chunks().take(indices)
    for name in source.column_names:
        columns[f"source.{name}"] = as_text(source[name].take(indices))
    return pa.table(columns)


def warnings_table(batch: ValidatedBatch | JudgedRows, keys: pa.Table, id_column: str = "occurrenceID") -> pa.Table:
    """The batch's published records that carry a warning or info flag, one row each in batch order:
    ``occurrenceID`` (`id_column`: an Event core's ``eventID``, an extension's ``coreid``); ``severity``
    (``warning`` when any flag is a warning, else ``info``); ``flags`` (each flag once, ``; ``-joined, in the
    order of the issues: by term, then flag); ``messages`` (one per flag and term,
    naming the term and the value as :func:`mobilise.validators.validate.describe` does, ``; ``-joined, as the
    quarantine's reasons); then every column of `keys` (the batch's source key columns, all its rows; none is
    fine) as ``source.<column>`` text. The columns are the same for every batch, so an empty batch keeps them."""
    issues = batch.issues
    published = np.ones(batch.table.num_rows, dtype=bool)
    published[batch.rejected] = False
    wanted = pc.fill_null(pc.is_in(issues["severity"], pa.array(WARNING_SEVERITIES, pa.string())), False)
    chosen = issues.filter(pc.and_(wanted, pa.array(published[issues["row"].to_numpy()], pa.bool_())))
    order = np.argsort(chosen["row"].to_numpy(), kind="stable")  # by row; each row's issues in issue order
    chosen = chosen.take(pa.array(order, pa.int64())).combine_chunks()
    row = chosen["row"].to_numpy().astype(np.int64)
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if row.size else np.zeros(0, np.int64)
    flag = chosen["flag"].dictionary_encode().combine_chunks()
    # a flag's first issue in its row (row and flag code as one number)
    first = np.zeros(row.size, dtype=bool)
    first[np.unique(row * len(flag.dictionary) + flag.indices.to_numpy(), return_index=True)[1]] = True
    warning = pc.equal(chosen["severity"], "warning").to_numpy(zero_copy_only=False)
    indices = pa.array(row[starts], pa.int64())
    columns = {
        id_column: batch.table[id_column].combine_chunks().take(indices).cast(pa.string()),
        "severity": pa.array(np.where(_per_row(np.logical_or, warning, starts), "warning", "info"), pa.string()),
        "flags": _joined(chosen["flag"].filter(pa.array(first)), _per_row(np.add, first.astype(np.int64), starts)),
        "messages": _joined(chosen["message"], np.diff(np.append(starts, row.size)))}
    for name in keys.column_names:
        columns[f"source.{name}"] = as_text(keys[name].take(indices))
    return pa.table(columns)


def _per_row(ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """`ufunc` reduced over each run of `values` that begins at one of `starts` (ascending; none: empty)."""
    return ufunc.reduceat(values, starts) if starts.size else np.zeros(0, values.dtype)


def _joined(texts: pa.ChunkedArray, counts: np.ndarray) -> pa.Array:
    """`texts` cut into consecutive runs of `counts` values, each run ``; ``-joined into one string."""
    offsets = pa.array(np.r_[0, np.cumsum(counts)], pa.int32())
    return pc.binary_join(pa.ListArray.from_arrays(offsets, texts.combine_chunks()), "; ")
