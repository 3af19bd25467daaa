"""GBIF temporal flags: modified, dateIdentified and georeferencedDate out of range or unreadable, and eventDate
against year, month, day and the days of the year, as GBIF's TemporalInterpreter raises them."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.columns import text
from mobilise.mappers.measurements import numbers
from mobilise.validators.gbif.batch import term_numbers
from mobilise.validators.registry import CheckContext, check

def _date_outside(values: pa.Array, today: str, earliest_year: int):
    start = pc.utf8_slice_codeunits(values, 0, 10)
    return pc.or_(pc.greater(start, today), pc.less(pc.utf8_slice_codeunits(start, 0, 4), f"{earliest_year:04d}"))


@check("MODIFIED_DATE_UNLIKELY", "modified")
def modified_date_unlikely(table: pa.Table, context: CheckContext):
    return _date_outside(text(table, "modified"), context.today.isoformat(), 1970)


@check("IDENTIFIED_DATE_UNLIKELY", "dateIdentified")
def identified_date_unlikely(table: pa.Table, context: CheckContext):
    return _date_outside(text(table, "dateIdentified"), context.today.isoformat(), 1700)


@check("GEOREFERENCED_DATE_UNLIKELY", "georeferencedDate")
def georeferenced_date_unlikely(table: pa.Table, context: CheckContext):
    # GEOREFERENCED_DATE_INVALID is the mapper's (mappers/interpreters.py), read in the source's date order
    return _date_outside(text(table, "georeferencedDate"), context.today.isoformat(), 1700)


def _ymd(texts: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) floats of ISO dates of any precision, NaN where absent."""
    parts = []
    for start, length in ((0, 4), (5, 2), (8, 2)):
        piece = pc.utf8_slice_codeunits(texts, start, start + length)
        piece = pc.if_else(pc.equal(pc.utf8_length(piece), length), piece, pa.scalar(None, pa.string()))
        parts.append(numbers(piece))
    return tuple(parts)


def _truncated(y, m, d, precision):
    """y*10000 + m*100 + d, keeping only the first `precision` parts (1 year, 2 month, 3 day)."""
    return (y * 10_000 + np.where(precision >= 2, np.nan_to_num(m) * 100, 0)
            + np.where(precision >= 3, np.nan_to_num(d), 0))


def _precision(y, m, d):
    return np.where(np.isnan(y), 0, np.where(np.isnan(m), 1, np.where(np.isnan(d), 2, 3)))


def _day_of_year(texts: pa.Array) -> np.ndarray:
    dates = pc.strptime(pc.utf8_slice_codeunits(texts, 0, 10), format="%Y-%m-%d", unit="s", error_is_null=True)
    return pc.fill_null(pc.cast(pc.day_of_year(dates), pa.float64()), np.nan).to_numpy(zero_copy_only=False)


@check("RECORDED_DATE_MISMATCH", "eventDate")
def recorded_date_mismatch(table: pa.Table, context: CheckContext):
    event = text(table, "eventDate")
    y, m, d = (term_numbers(table, t) for t in ("year", "month", "day"))
    p = _precision(y, m, d)
    p = np.where(p == 3, np.where(np.isnan(m), 1, 3), p)  # a day without a month says nothing comparable
    start_doy, end_doy = term_numbers(table, "startDayOfYear"), term_numbers(table, "endDayOfYear")
    mismatch = np.zeros(table.num_rows, bool)
    # each part only when the batch has values to compare (most datasets map no year/month/day or day of year)
    with_parts, with_start_doy, with_end_doy = (p > 0).any(), np.isfinite(start_doy).any(), np.isfinite(end_doy).any()
    if with_parts or with_start_doy:
        start = pc.replace_substring_regex(event, r"/.*$", "")
    if with_parts or with_end_doy:
        end = pc.replace_substring_regex(event, r"^[^/]*/", "")  # the start again for a single date
    with np.errstate(invalid="ignore"):
        if with_parts:
            sy, sm, sd = _ymd(start)
            ey, em, ed = _ymd(end)
            k_start = np.minimum(p, _precision(sy, sm, sd))
            k_end = np.minimum(p, _precision(ey, em, ed))
            before = _truncated(y, m, d, k_start) < _truncated(sy, sm, sd, k_start)
            after = _truncated(y, m, d, k_end) > _truncated(ey, em, ed, k_end)
            mismatch |= (p > 0) & (k_start > 0) & (before | after)
        if with_start_doy:
            start_day = _day_of_year(start)
            mismatch |= np.isfinite(start_doy) & np.isfinite(start_day) & (start_doy != start_day)
        if with_end_doy:
            end_day = _day_of_year(end)
            mismatch |= np.isfinite(end_doy) & np.isfinite(end_day) & (end_doy != end_day)
    return mismatch
