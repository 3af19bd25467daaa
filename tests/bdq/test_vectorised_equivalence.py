"""The vectorised BDQ tests (validators/bdq/vector.py) give the same responses as their row-by-row reference
functions: status, result and comment, for every input of the official validation data (the 1,304 rows of
TG2_test_validation_data*.csv, each with its own parameters) and of a generated sample mixing those values with
dates, numbers and blanks of every shape the tests distinguish."""
from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest

from mobilise.validators.bdq import REGISTRY
from mobilise.validators.bdq.batch import run_bdq, term_key
from mobilise.validators.bdq.conformance import INPUT_PREFIXES, PARAMETER_PREFIX, read_rows
from mobilise.validators.bdq.vector import VECTORISED, cache_stats

BDQ = Path(__file__).resolve().parents[2] / ".." / "shared" / "standards" / "bdq"
VALIDATION_FILES = ("TG2_test_validation_data.csv", "TG2_test_validation_data_nonprintingchars.csv")
VECTORISED_LABELS = sorted(REGISTRY[guid].label for guid in VECTORISED)


def _plain(results: pa.Table) -> list[tuple]:
    columns = [results.column(n).cast(pa.string()).to_pylist() for n in ("row", "guid", "status", "result",
                                                                            "comment")]
    return list(zip(*columns))


def _both(table: pa.Table, guids: list[str], parameters=None) -> tuple[list[tuple], list[tuple]]:
    return (_plain(run_bdq(table, guids, parameters, vectorised=True)),
            _plain(run_bdq(table, guids, parameters, vectorised=False)))


def _differences(vectorised: list[tuple], reference: list[tuple], table: pa.Table) -> list[str]:
    rows = table.to_pylist()
    return [f"row {ref[0]} {REGISTRY[ref[1]].label}: vectorised {vec[2:]} != reference {ref[2:]} "
            f"on {{{', '.join(f'{k}: {v!r}' for k, v in rows[int(ref[0])].items() if v)}}}"
            for vec, ref in zip(vectorised, reference) if vec != ref]


def test_the_heavy_tests_are_vectorised():
    """The tests with the most distinct inputs on real batches (eventDate, dateIdentified, coordinates)."""
    for label in ("AMENDMENT_EVENT_FROM_EVENTDATE", "VALIDATION_EVENTDATE_INRANGE", "VALIDATION_DATEIDENTIFIED_INRANGE",
                  "MEASURE_EVENTDATE_DURATIONINSECONDS", "VALIDATION_EVENT_CONSISTENT",
                  "VALIDATION_EVENTTEMPORAL_NOTEMPTY", "VALIDATION_LOCATION_NOTEMPTY",
                  "VALIDATION_COORDINATES_NOTZERO", "VALIDATION_OCCURRENCEID_NOTEMPTY"):
        assert label in VECTORISED_LABELS


# --- the official validation data -----------------------------------------------------------------------------------

def _validation_rows() -> list[dict[str, str]]:
    return [row for name in VALIDATION_FILES for row in read_rows(BDQ / name)]


def test_official_validation_data():
    rows = _validation_rows()
    assert len(rows) == 1304
    by_test: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        guid = row["GUID"].strip()
        if guid in VECTORISED:
            parameters = tuple(sorted((k, v) for k, v in row.items() if k.startswith(PARAMETER_PREFIX) and v))
            by_test[guid, parameters].append(row)
    compared, problems = 0, []
    for (guid, parameters), group in by_test.items():
        terms = sorted({k for row in group for k in row if k.startswith(INPUT_PREFIXES) and term_key(
            k.split(":", 1)[1]) == k})
        table = pa.table({t.split(":", 1)[1]: pa.array([row.get(t) or "" for row in group], pa.string())
                          for t in terms})
        vectorised, reference = _both(table, [guid], {guid: dict(parameters)} if parameters else None)
        problems += _differences(vectorised, reference, table)
        compared += len(reference)
    assert not problems, "\n".join(problems[:20])
    assert {guid for guid, _ in by_test} == set(VECTORISED), "every vectorised test has validation rows"
    assert compared > 300


# --- a generated sample -----------------------------------------------------------------------------------------------

def _dates(rng: random.Random) -> str:
    y, m, d = rng.choice([1, 1582, 1600, 1753, 1900, 1999, 2000, 2004, 2023, 2100, 9999]), rng.randint(1, 13), \
        rng.randint(1, 31)
    shapes = [f"{y:04d}", f"{y:04d}-{m:02d}", f"{y:04d}-{m:02d}-{d:02d}", f"{y:04d}-{m:02d}-{d:02d}/{d:02d}",
              f"{y:04d}-{m:02d}-{d:02d}/{y + 1:04d}-01-05", f"{y:04d}-{m:02d}-{d:02d}T10:3{d % 10}Z",
              f"{y:04d}-{m:02d}-{d:02d}T23:59:59.5+0{d % 10}:00", f"{y:04d}-{rng.randint(1, 366):03d}",
              f"{y:04d}{m:02d}{d:02d}", f"{d}/{m}/{y}", f"{y}-{m}-{d}", f" {y:04d}", "1887-02-29", "2000-02-29",
              f"{y:04d}/{y - 1:04d}", "", "\t", "x", "1999-12-31/2000-01-01", "T10:00/T12:00"]
    return rng.choice(shapes)


def _sample(rows: int = 2500, seed: int = 42) -> pa.Table:
    rng = random.Random(seed)
    official: dict[str, list[str]] = defaultdict(list)
    for row in _validation_rows():
        for key, value in row.items():
            if key.startswith(INPUT_PREFIXES) and value:
                official[key].append(value)
    numbers = ["0", "0.0", "-0", "1", "52.1", "-52.1", "90", "90.0001", "-180", "180.5", "1e2", "NaN", "inf",
               " 5", "5,1", "x", "", "\x00"]
    integers = ["", "1", "12", "13", "0", "29", "31", "365", "366", "01", " 7", "x", "-1", "2000", "1999", "2004"]
    generated = {
        "dwc:eventDate": lambda: _dates(rng), "dwc:dateIdentified": lambda: _dates(rng),
        "dwc:verbatimEventDate": lambda: rng.choice(["", "", "12.V.1887", "3 May 1902", "x", "1887"]),
        "dwc:year": lambda: rng.choice(integers), "dwc:month": lambda: rng.choice(integers),
        "dwc:day": lambda: rng.choice(integers), "dwc:startDayOfYear": lambda: rng.choice(integers),
        "dwc:endDayOfYear": lambda: rng.choice(integers),
        "dwc:decimalLatitude": lambda: rng.choice(numbers), "dwc:decimalLongitude": lambda: rng.choice(numbers),
        "dwc:coordinateUncertaintyInMeters": lambda: rng.choice(["", "10", "x"]),
        "dwc:geodeticDatum": lambda: rng.choice(["", "EPSG:4326", "WGS84", " "]),
    }
    terms = sorted({t for guid in VECTORISED for t in REGISTRY[guid].acted_upon + REGISTRY[guid].consulted})
    blank = {row for row in range(rows) if rng.random() < 0.03}  # records with nothing at all
    columns = {}
    for term in terms:
        pool = official.get(term, []) + ["", " ", "\u00a0"]
        draw = generated.get(term)
        columns[term.split(":", 1)[1]] = pa.array(
            [(draw() if draw and rng.random() < 0.7 else rng.choice(pool))
             if rng.random() < 0.8 and row not in blank else None for row in range(rows)], pa.string())
    return pa.table(columns)


def test_generated_sample():
    table = _sample()
    vectorised, reference = _both(table, sorted(VECTORISED))
    assert len(reference) == table.num_rows * len(VECTORISED)
    assert not (problems := _differences(vectorised, reference, table)), "\n".join(problems[:20])
    # the sample reaches the branches: every test gives at least two kinds of answer, most three or more
    statuses = defaultdict(set)
    for _, guid, status, result, _ in reference:
        statuses[guid].add((status, result if result is None or not result[:1].isdigit() else "VALUE"))
    assert all(len(found) >= 2 for found in statuses.values())
    assert sum(len(found) >= 3 for found in statuses.values()) >= 15


@pytest.mark.parametrize("parameters", [
    {"VALIDATION_EVENTDATE_INRANGE": {"bdqval:earliestValidDate": "1900", "bdqval:latestValidDate": "2000-06"}},
    {"VALIDATION_EVENTDATE_INRANGE": {"bdqval:earliestValidDate": "x"}},
    {"VALIDATION_DATEIDENTIFIED_INRANGE": {"bdqval:includeEventDate": "false"}},
    {"AMENDMENT_GEODETICDATUM_ASSUMEDDEFAULT": {"bdqval:defaultGeodeticDatum": "EPSG:4269"}},
])
def test_generated_sample_with_parameters(parameters):
    table = _sample(1500, seed=7)
    guids = [next(g for g in VECTORISED if REGISTRY[g].label == label) for label in parameters]
    vectorised, reference = _both(table, guids, parameters)
    assert not (problems := _differences(vectorised, reference, table)), "\n".join(problems[:20])


def test_caches_are_bounded_and_report_hit_rates():
    _both(_sample(300, seed=3), sorted(VECTORISED))
    stats = cache_stats()
    assert stats and all(entry["maxsize"] is not None for entry in stats.values())
    assert stats["time_iso.parse_interval"]["hits"] > 0 and 0 < stats["time_iso.parse_interval"]["hit_rate"] <= 1
