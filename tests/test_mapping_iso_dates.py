"""The Arrow fast path for ISO dates accepts exactly what its first version (a strftime round trip) accepted."""
from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers import mapping
from mobilise.mappers.dates import interpret_date, interpret_event_date


def _reference(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    date_only = pc.fill_null(pc.match_substring_regex(values, mapping._ISO_DATE), False)
    date_time = pc.fill_null(pc.match_substring_regex(values, mapping._ISO_DATE_TIME), False)
    candidate = pc.or_(date_only, date_time)
    if not pc.any(candidate).as_py():
        return np.zeros(len(values), dtype=bool), values
    day = pc.utf8_slice_codeunits(values, 0, 10)
    full = pc.equal(pc.utf8_length(day), 10)
    parsed = pc.strptime(pc.if_else(full, day, pa.scalar(None, pa.string())), format="%Y-%m-%d", unit="s",
                         error_is_null=True)
    real_day = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), day)
    ok = pc.fill_null(pc.and_(candidate, pc.or_(pc.invert(full), pc.fill_null(real_day, False))), False)
    iso = pc.if_else(date_time, pc.binary_join_element_wise(day, pc.utf8_slice_codeunits(values, 11), "T"), values)
    return ok.to_numpy(zero_copy_only=False), iso


EDGES = [None, "", "1887", "1887-02", "1887-02-28", "1887-02-29", "1888-02-29", "1900-02-29", "2000-02-29",
         "1887-02-30", "1887-04-31", "1887-12-31", "1887-01-00", "1887-00-10", "1887-13-01", "0999-01-01",
         "1000-01-01", "9999-12-31", "1887-02-30T10:00", "1887-02-28T10:00:00Z", "1887-02-28 10:00:00.5+01:00",
         "1887-2-3", "12.05.1887", "1887-05-12/1887-06-01", "1887-05-12T25:99", "abcd-ef-gh"]


def test_iso_dates_as_before():
    rng = random.Random(3)
    texts = EDGES + [f"{rng.randint(1000, 2100)}-{rng.randint(1, 12):02d}-{rng.randint(0, 32):02d}"
                     + rng.choice(["", "T12:00:00", " 08:15", "T00:00:00+02:00"]) for _ in range(5000)]
    values = pa.array(texts, pa.string())
    ok, iso = mapping._iso_dates(values)
    expected_ok, expected_iso = _reference(values)
    assert ok.dtype == expected_ok.dtype and ok.tolist() == expected_ok.tolist()
    assert iso.equals(expected_iso)
    assert mapping._iso_dates(pa.array(["x", None], pa.string()))[0].tolist() == [False, False]


def test_fast_path_agrees_with_the_interpreters():
    values = pa.array(EDGES, pa.string())
    ok, iso = mapping._iso_dates(values)
    for text, fast, value in zip(EDGES, ok.tolist(), iso.to_pylist()):
        if fast:
            assert interpret_event_date(text) == (value, ()), text
            assert interpret_date(text, "X") == (value, ()), text
