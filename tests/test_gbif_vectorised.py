"""The vectorised GBIF helpers give what their first, simpler versions gave (kept here as references)."""
from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers import columns, measurements
from mobilise.validators.gbif import temporal
from mobilise.validators.registry import CheckContext


def _old_numbers(values: pa.Array) -> np.ndarray:
    out = columns.per_distinct(values, measurements.parse_number, pa.float64())
    return pc.fill_null(out, np.nan).to_numpy(zero_copy_only=False).astype(np.float64)


def _old_recorded_date_mismatch(table: pa.Table) -> np.ndarray:
    event = columns.text(table, "eventDate")
    start = pc.replace_substring_regex(event, r"/.*$", "")
    end = pc.replace_substring_regex(event, r"^[^/]*/", "")
    y, m, d = (_old_numbers(columns.text(table, t)) for t in ("year", "month", "day"))
    p = temporal._precision(y, m, d)
    p = np.where(p == 3, np.where(np.isnan(m), 1, 3), p)

    def ymd(texts):
        parts = []
        for begin, length in ((0, 4), (5, 2), (8, 2)):
            piece = pc.utf8_slice_codeunits(texts, begin, begin + length)
            piece = pc.if_else(pc.equal(pc.utf8_length(piece), length), piece, pa.scalar(None, pa.string()))
            parts.append(_old_numbers(piece))
        return parts

    sy, sm, sd = ymd(start)
    ey, em, ed = ymd(end)
    with np.errstate(invalid="ignore"):
        k_start = np.minimum(p, temporal._precision(sy, sm, sd))
        k_end = np.minimum(p, temporal._precision(ey, em, ed))
        before = temporal._truncated(y, m, d, k_start) < temporal._truncated(sy, sm, sd, k_start)
        after = temporal._truncated(y, m, d, k_end) > temporal._truncated(ey, em, ed, k_end)
        mismatch = (p > 0) & (k_start > 0) & (before | after)
        start_doy = _old_numbers(columns.text(table, "startDayOfYear"))
        end_doy = _old_numbers(columns.text(table, "endDayOfYear"))
        mismatch |= np.isfinite(start_doy) & np.isfinite(temporal._day_of_year(start)) & \
            (start_doy != temporal._day_of_year(start))
        mismatch |= np.isfinite(end_doy) & np.isfinite(temporal._day_of_year(end)) & (end_doy != temporal._day_of_year(end))
    return mismatch


NUMBER_TEXTS = [None, "", " ", "0", "-0", "-0.0", "+1", "1.5", "1,5", " 12 ", "1e3", "inf", "-inf", "nan", "1_000",
                "52.123456789012345678", "1" + "0" * 320, "-" + "9" * 400 + ".5", "abc", "١٢", "0x10", ".5", "5.",
                "12.30", "-180.0000001", "٣.٥"]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.all(
        (np.isnan(a) & np.isnan(b)) | ((a == b) & (np.signbit(a) == np.signbit(b)))))


def test_numbers_as_float_reads_them():
    rng = random.Random(7)
    texts = NUMBER_TEXTS + [f"{rng.uniform(-200, 200):.{rng.randint(0, 18)}f}" for _ in range(2000)] + \
        [repr(rng.uniform(-1e9, 1e9)) for _ in range(500)] + [str(rng.randint(-10 ** 30, 10 ** 30)) for _ in range(500)]
    values = pa.array(texts, pa.string())
    assert _same(measurements.numbers(values), _old_numbers(values))
    assert _same(measurements.numbers(pa.array([], pa.string())), _old_numbers(pa.array([], pa.string())))
    assert _same(measurements.numbers(pa.nulls(3, pa.string())), _old_numbers(pa.nulls(3, pa.string())))


def test_recorded_date_mismatch_as_before():
    rng = random.Random(11)
    dates = [None, "1887", "1887-05", "1887-05-12", "1887-05-12/1887-06-30", "1887/1890", "2001-02-29", "bad",
             "1990-12-31T10:00:00", "1887-05-12/1887-05"]
    numbers = [None, "", "1887", "1888", "5", "6", "12", "31", "x", "121", "132", "0"]
    rows = [{"eventDate": rng.choice(dates), "year": rng.choice(numbers), "month": rng.choice(numbers),
             "day": rng.choice(numbers), "startDayOfYear": rng.choice(numbers), "endDayOfYear": rng.choice(numbers)}
            for _ in range(3000)]
    full = pa.Table.from_pylist(rows)
    context = CheckContext()
    for columns in (list(full.column_names), ["eventDate"], ["eventDate", "year"], ["eventDate", "startDayOfYear"],
                    ["eventDate", "endDayOfYear"], ["eventDate", "year", "month", "day"]):
        table = full.select(columns)
        got = temporal.recorded_date_mismatch(table, context)
        assert got.tolist() == _old_recorded_date_mismatch(table).tolist(), columns
    assert temporal.recorded_date_mismatch(full, context).any()
