"""Parsing of numbers and verbatim coordinates for the SPACE tests (verbatim depths/elevations and exact decimal
formatting: :mod:`mobilise.mappers.measurements`)."""
from __future__ import annotations

import re
from functools import lru_cache

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


@lru_cache(maxsize=65536)  # the SPACE tests ask about the same coordinate texts many times per batch
def number(text: str | None) -> float | None:
    """A plain decimal number ('12', '-3.5', '1e3'); None for anything else ('41.0554 N', 'x', 'NaN')."""
    if text is None:
        return None
    value = text.strip()
    return float(value) if _NUMBER.fullmatch(value) else None


def negate(text: str) -> str:
    """Flip the sign of a numeric string without reformatting it ('70' -> '-70', '-25.46' -> '25.46')."""
    value = text.strip().lstrip("+")
    return value[1:] if value.startswith("-") else "-" + value


# --- verbatim coordinates -------------------------------------------------------------------------------------

_HEMISPHERE_WORD = re.compile(r"\b(north|south|east|west)\b", re.IGNORECASE)
_HEMISPHERE_LETTER = re.compile(r"(?<![A-Za-z])([NSEW])(?![A-Za-z])")
_UNITS = re.compile(r"degrees?|deg|minutes?|mins?|seconds?|secs?|[°º˚'′’\"″”]", re.IGNORECASE)
_HEMI_SIGN = {"N": ("lat", 1), "S": ("lat", -1), "E": ("lon", 1), "W": ("lon", -1)}


def _hemispheres(text: str) -> list[re.Match]:
    return sorted([*_HEMISPHERE_WORD.finditer(text), *_HEMISPHERE_LETTER.finditer(text)], key=lambda m: m.start())


def parse_coordinate(text: str) -> tuple[float, str | None] | None:
    """One coordinate in decimal degrees, DMS or DDM, with optional hemisphere: (value, 'lat'|'lon'|None)."""
    hemis = _hemispheres(text)
    if len(hemis) > 1:
        return None
    axis, sign = (None, 1)
    rest = text
    if hemis:
        axis, sign = _HEMI_SIGN[hemis[0].group(1)[0].upper()]
        rest = text[:hemis[0].start()] + " " + text[hemis[0].end():]
    rest = _UNITS.sub(" ", rest)
    parts = rest.split()
    if not 1 <= len(parts) <= 3 or not all(_NUMBER.fullmatch(p) for p in parts):
        return None
    values = [float(p) for p in parts]
    if any(v < 0 for v in values[1:]) or any(v >= 60 for v in values[1:]):
        return None
    if any("." in p for p in parts[:-1]):  # only the last component may carry decimals
        return None
    degrees = abs(values[0]) + sum(v / 60 ** i for i, v in enumerate(values[1:], start=1))
    negative = parts[0].startswith("-")
    if negative and hemis and sign > 0:
        return None  # '-23 N' contradicts itself
    return (-degrees if negative or sign < 0 else degrees), axis


def _split_pair(text: str) -> list[str] | None:
    for separator in (",", ";", "/", "|"):
        if separator in text:
            parts = text.split(separator)
            return parts if len(parts) == 2 else None
    hemis = _hemispheres(text)
    if len(hemis) == 2:
        if text[:hemis[0].start()].strip() == "":  # prefix style 'S 23 42 E 140 30'
            return [text[:hemis[1].start()], text[hemis[1].start():]]
        return [text[:hemis[0].end()], text[hemis[0].end():]]
    words = text.split()
    return words if len(words) == 2 else None


def parse_coordinate_pair(text: str) -> tuple[float, float] | None:
    """(latitude, longitude) from dwc:verbatimCoordinates, when both can be told apart unambiguously."""
    parts = _split_pair(text)
    if not parts:
        return None
    parsed = [parse_coordinate(p) for p in parts]
    if None in parsed:
        return None
    (a, axis_a), (b, axis_b) = parsed
    if axis_a and axis_b:
        if axis_a == axis_b:
            return None
        lat, lon = (a, b) if axis_a == "lat" else (b, a)
    elif axis_a:
        lat, lon = (a, b) if axis_a == "lat" else (b, a)
    elif axis_b:
        lat, lon = (b, a) if axis_b == "lat" else (a, b)
    elif abs(a) > 90 >= abs(b):
        lat, lon = b, a  # only longitude may exceed 90
    else:
        lat, lon = a, b  # the conventional order
    if abs(lat) > 90 or abs(lon) > 180:
        return None
    return lat, lon


def format_degrees(value: float) -> str:
    text = f"{round(value, 7):.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
