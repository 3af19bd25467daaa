"""Everything Mobilise knows about one mapped batch's quality, in one pure function.

Order matters: the TDWG BDQ tests run on the mapped values and propose amendments; the amendments the dataset
accepts are applied; then the record checks (Mobilise's and GBIF's flags) and DiSSCo's readiness rules judge
the final values, and the MIDS levels of the publishable records are computed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.settings import ValidationConfig
from mobilise.validators.dissco import DISSCO_FLAGS, dissco_issues
from mobilise.validators.mids import mids_distribution, mids_levels
from mobilise.validators.registry import CheckContext
from mobilise.validators.validate import validate_batch


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

        results = run_bdq(table, validation.bdq.tests, validation.bdq.parameters, offline=validation.bdq.offline)
        bdq = summarise(results)
        if validation.bdq.amendments:
            table, applied = apply_amendments(table, results, validation.bdq.amendments, validation.bdq.parameters)
    prior = _drop_amended(mapping_issues, applied)
    severity = dict(severity)
    if validation.dissco != "ignore":
        prior = pa.concat_tables([prior, dissco_issues(table, dataset_license).cast(ISSUE_SCHEMA)])
        for flag in DISSCO_FLAGS:
            severity[flag] = "error" if validation.dissco == "fail" else "warning"
    publishable, issues = validate_batch(table, prior, context, severity)
    published = table.filter(pa.array(publishable))
    mids = {variant: mids_distribution(mids_levels(published, validation.discipline, variant, dataset_license))
            for variant in ("tdwg", "dissco")}
    return Assessment(table, publishable, issues, bdq, applied, mids)
