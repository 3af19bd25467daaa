"""Numbers as collection databases write them: a decimal comma is read, a comma that may separate thousands is
not guessed at (mappers/measurements.py, the one home of number parsing)."""
import math

import pyarrow as pa
import pytest

from mobilise.mappers.measurements import numbers, parse_measure, parse_metres, parse_number


@pytest.mark.parametrize("text, expected", [("12,5", 12.5), ("0,500", 0.5), ("1,5000", 1.5), ("-3,25", -3.25),
                                            ("1234,567", 1234.567), ("50.800", 50.8), ("50800", 50800.0)])
def test_a_decimal_comma_is_read(text, expected):
    assert parse_number(text) == expected
    assert parse_metres(text) == expected
    assert parse_measure(text)[:2] == (expected, expected)


@pytest.mark.parametrize("text", ["50,800", "1,500", " -12,000 ", "+999,999"])
def test_a_comma_before_three_digits_is_neither_thousands_nor_decimals(text):
    # 50,800 is 50.8 in Brussels and 50800 in London: no reading is exact, so the value is not a number
    assert parse_number(text) is None
    assert parse_metres(text) is None and parse_metres(text + " m") is None
    assert parse_measure(text + " m") is None and parse_measure("10-" + text.strip() + " m") is None
    assert math.isnan(numbers(pa.array([text]))[0])


def test_numbers_reads_each_value_as_parse_number():
    texts = ["12,5", "50,800", "7", None, "x"]
    found = numbers(pa.array(texts, pa.string())).tolist()
    assert found[0] == 12.5 and found[2] == 7.0
    assert all(math.isnan(v) for v in (found[1], found[3], found[4]))
