"""interpret() with the Arrow date fast paths gives, row for row, what the date interpreters give."""
from __future__ import annotations

import random
from functools import partial

import pyarrow as pa
import pytest

from mobilise.mappers.dates import DATE_ORDERS, interpret_date, interpret_event_date
from mobilise.mappers.mapping import interpret


def _random_date(rng: random.Random) -> str | None:
    y, m, d = rng.randint(990, 2100), rng.randint(0, 13), rng.randint(0, 32)
    sep = rng.choice(".-/")
    forms = [f"{y}-{m:02d}-{d:02d}", f"{y}-{m:02d}", f"{y}", f"{d:02d}{sep}{m:02d}{sep}{y}", f"{d}{sep}{m}{sep}{y}",
             f"{d}.{m}/{y}", f"{d:02d}.{m:02d}.{y:04d}", f"{y}-{m}-{d}", f"{y}/{m:02d}/{d:02d}",
             f"{y}-{m:02d}-{d:02d}T10:00:00", f"{y}-{m:02d}-{d:02d}/{y + 1}-01-01", f"{d}.xii.{y}", "s.d.", "?",
             "unknown", "1887-02-29", "1888-02-29", "29.02.1900", "29.02.2000", "31/04/1990", "0.1.1990",
             "01.01.0999", "١٢.٠٥.١٨٨٧", None,
             # ISO forms the fast paths leave to the interpreters, and times they take or must refuse
             f"{y}-{m:02d}-{d:02d}/{d:02d}", f"{y}-{m:02d}/{m:02d}", f"/{y}", f"{y}/", f"{y}-W{d:02d}-{m % 8}",
             f"{y}-{d:03d}", f"{y}-{m:02d}-{d:02d}T{d:02d}:{m * 5:02d}Z", f"{y}-{m:02d}-{d:02d} {d:02d}:30+0{m % 3}:00",
             f"{y}-{m:02d}-{d:02d}T10:00/12:00", f"{y}-{m:02d}-{d:02d}T10:00:00,5"]
    return rng.choice(forms)


def _check(values: list, ends: list | None, interpreter, term: str) -> None:
    array = pa.array(values, pa.string())
    end = None if ends is None else pa.array(ends, pa.string())
    interpreted, issues = interpret(array, interpreter, term, end)
    expected_values, expected_issues = [], []
    for row, value in enumerate(values):
        result = interpreter(value) if ends is None else interpreter(value, ends[row])
        expected_values.append(result[0])
        original = value if ends is None else (f"{value or ''} / {ends[row]}" if ends[row] else value or "").strip()
        expected_issues.extend((row, term, flag, original) for flag in result[1])
    assert interpreted.to_pylist() == expected_values
    assert sorted(issues) == sorted(expected_issues)


@pytest.mark.parametrize("order", DATE_ORDERS)
def test_event_dates_with_and_without_end(order):
    rng = random.Random(5)
    starts = [_random_date(rng) for _ in range(6000)]
    ends = [_random_date(rng) if rng.random() < 0.5 else None for _ in starts]
    # pairs of full dates in both orders and equal
    for i in range(0, 6000, 3):
        y, m, d = rng.randint(1800, 2000), rng.randint(1, 12), rng.randint(1, 28)
        starts[i] = f"{d:02d}.{m:02d}.{y}" if rng.random() < 0.5 else f"{y}-{m:02d}-{d:02d}"
        ends[i] = rng.choice([starts[i], f"{y}-{m:02d}-{min(d + 1, 28):02d}", f"{y - 1}-{m:02d}-{d:02d}",
                              f"{d}/{m}/{y + 1}", f"{d:02d}.{m:02d}.{y}"])
    interpreter = interpret_event_date if order == "day-first" else partial(interpret_event_date, order=order)
    _check(starts, ends, interpreter, "eventDate")
    _check(starts, None, interpreter, "eventDate")


@pytest.mark.parametrize("order", DATE_ORDERS)
def test_single_dates(order):
    rng = random.Random(9)
    values = [_random_date(rng) for _ in range(6000)]
    _check(values, None, partial(interpret_date, invalid_flag="IDENTIFIED_DATE_INVALID", order=order),
           "dateIdentified")
