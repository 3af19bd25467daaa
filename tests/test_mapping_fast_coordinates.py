"""interpret() reads plain decimal degrees in Arrow; row for row it gives what interpret_coordinate gives."""
from __future__ import annotations

import random
from functools import partial

import pyarrow as pa

from mobilise.mappers.coordinates import interpret_coordinate
from mobilise.mappers.mapping import _plain_coordinates, interpret


def _random_degrees(rng: random.Random) -> str:
    sign = rng.choice(["", "", "-", "+"])
    whole = str(rng.randint(0, 999)).zfill(rng.randint(1, 3))
    if rng.random() < 0.2:
        return sign + whole
    return sign + whole + rng.choice(".,") + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 8)))


def test_plain_degrees_as_interpret_coordinate():
    rng = random.Random(13)
    values = [_random_degrees(rng) for _ in range(50_000)] + ["0", "-0", "+0", "-0.0000000", "000.0000000",
                                                              "-000,0000001", "999.9999999", "-999,9999999"]
    known = _plain_coordinates(pa.array(values, pa.string()))
    for position, value in enumerate(values):
        if position in known:
            assert known[position] == interpret_coordinate(value, "lat")[0], value
    assert len(known) > 40_000


def test_interpret_coordinates_row_for_row():
    rng = random.Random(17)
    other = [None, "", 'N 51° 12\' 30"', '51°12\'30"S', "1e-05", "12.345678912", "1234.5", "abc", "٥١.٢",
             "5 E", "-", "+-1", ".5", "5.", "51 12 30 N", "N 30.7041", "30.7041N", "6.4531 W", "w 6.4531",
             "-30.7041 N", "-6.4531 W", "51°19'n", "−6.4531"]
    values = [_random_degrees(rng) if rng.random() < 0.7 else rng.choice(other) for _ in range(5000)]
    for axis in ("lat", "lon"):
        interpreter = partial(interpret_coordinate, axis=axis)
        interpreted, issues = interpret(pa.array(values, pa.string()), interpreter, "decimalLatitude")
        expected = [interpreter(v) for v in values]
        assert interpreted.to_pylist() == [e[0] for e in expected]
        assert sorted(issues) == sorted((row, "decimalLatitude", flag, v) for row, (v, e) in
                                        enumerate(zip(values, expected)) for flag in e[1])
