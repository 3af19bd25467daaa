"""GBIF depth and elevation flags (non-numeric, not metric, unlikely, min/max swapped), as GBIF's
LocationInterpreter raises them; the values are read by :func:`mobilise.mappers.measurements.parse_measure`."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.columns import text
from mobilise.mappers.measurements import parse_measure
from mobilise.validators.gbif.batch import per_batch, term_numbers
from mobilise.validators.registry import CheckContext, check

MAX_DEPTH_M = 11_000
MAX_ELEVATION_M, MIN_ELEVATION_M = 17_000, -11_000

def _measures(table: pa.Table, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, non-metric, non-numeric) per row for a raw depth/elevation term (once per batch and term)."""
    return per_batch(table, ("measures", term), lambda: _measures_of(table, term))


def _measures_of(table: pa.Table, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    encoded = pc.dictionary_encode(text(table, term))
    parsed = [parse_measure(v) for v in encoded.dictionary.to_pylist()]
    low = np.array([p[0] if p else np.nan for p in parsed] + [np.nan])
    high = np.array([p[1] if p else np.nan for p in parsed] + [np.nan])
    non_metric = np.array([bool(p and p[2]) for p in parsed] + [False])
    non_numeric = np.array([p is None for p in parsed] + [False])
    indices = pc.fill_null(encoded.indices, len(parsed)).to_numpy(zero_copy_only=False)
    return low[indices], high[indices], non_metric[indices], non_numeric[indices]


def _register_depth(term: str) -> None:
    @check("DEPTH_NON_NUMERIC", term)
    def depth_non_numeric(table: pa.Table, context: CheckContext):
        return _measures(table, term)[3].copy()

    @check("DEPTH_NOT_METRIC", term)
    def depth_not_metric(table: pa.Table, context: CheckContext):
        return _measures(table, term)[2].copy()

    @check("DEPTH_UNLIKELY", term)
    def depth_unlikely(table: pa.Table, context: CheckContext):
        low, high, _, _ = _measures(table, term)
        with np.errstate(invalid="ignore"):
            return (low < 0) | (high > MAX_DEPTH_M)


for _term in ("minimumDepthInMeters", "maximumDepthInMeters"):
    _register_depth(_term)


@check("DEPTH_MIN_MAX_SWAPPED", "minimumDepthInMeters")
def depth_min_max_swapped(table: pa.Table, context: CheckContext):
    with np.errstate(invalid="ignore"):
        return _measures(table, "minimumDepthInMeters")[0] > _measures(table, "maximumDepthInMeters")[1]


def _register_elevation(term: str) -> None:
    @check("ELEVATION_UNLIKELY", term)
    def elevation_unlikely(table: pa.Table, context: CheckContext):
        value = term_numbers(table, term)
        with np.errstate(invalid="ignore"):
            return (value > MAX_ELEVATION_M) | (value < MIN_ELEVATION_M)

    @check("ELEVATION_NOT_METRIC", term)
    def elevation_not_metric(table: pa.Table, context: CheckContext):
        # The elevation interpreter reads metres only and flags '300 ft' ELEVATION_NON_NUMERIC (the value is then
        # empty); GBIF converts feet. The original text is in the interpreter's issue rows.
        issues = context.mapping_issues
        mask = np.zeros(table.num_rows, bool)
        if issues.num_rows == 0:
            return mask
        mine = issues.filter(pc.and_(pc.equal(issues["term"], term), pc.equal(issues["flag"], "ELEVATION_NON_NUMERIC")))
        for row, value in zip(mine["row"].to_pylist(), mine["value"].to_pylist()):
            parsed = parse_measure(value) if value else None
            if parsed and parsed[2] and 0 <= row < table.num_rows:
                mask[row] = True
        return mask


for _term in ("minimumElevationInMeters", "maximumElevationInMeters"):
    _register_elevation(_term)
