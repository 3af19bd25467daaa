"""Coordinates in decimal degrees or degrees-minutes-seconds text, turned into decimal degrees.

Range is not judged here (a validator does that on the final value); this only reads what was written.
"""
from __future__ import annotations

import re
from functools import lru_cache

_DECIMAL = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_HEMISPHERE = re.compile(r"[NSEWnsew]")
_NUMBERS = re.compile(r"\d+(?:[.,]\d+)?")
_DMS_SHAPE = re.compile(r"^[NSEWnsew]?\s*[+-]?\d+(?:[.,]\d+)?\s*(?:[°º˚d:]|\s)\s*(?:\d+(?:[.,]\d+)?\s*"
                        r"(?:['′’m:]|\s)?\s*(?:\d+(?:[.,]\d+)?\s*(?:[\"″”]|''|′′|s)?)?)?\s*[NSEWnsew]?$")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def parse_coordinate(text: str, axis: str) -> float:
    """One latitude (axis 'lat') or longitude ('lon'). Raises ValueError for text that is not a coordinate."""
    text = text.strip()
    if _DECIMAL.match(text):
        return _number(text)
    if not _DMS_SHAPE.match(text):
        raise ValueError(f"'{text}' is not a coordinate")
    hemispheres = _HEMISPHERE.findall(text)
    if len(hemispheres) > 1:
        raise ValueError(f"'{text}' names more than one hemisphere")
    numbers = [_number(n) for n in _NUMBERS.findall(text)]
    degrees, minutes, seconds = (numbers + [0.0, 0.0])[:3]
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"'{text}': minutes and seconds must be below 60")
    value = degrees + minutes / 60 + seconds / 3600
    negative = text.lstrip().startswith("-")
    if hemispheres:
        hemisphere = hemispheres[0].upper()
        if (axis == "lat") != (hemisphere in "NS"):
            raise ValueError(f"'{text}': hemisphere {hemisphere} does not belong to a {axis}itude")
        negative = hemisphere in "SW"
    return -value if negative else value


def format_degrees(value: float) -> str:
    """Decimal degrees with at most 7 decimals (about 1 cm), no trailing zeros."""
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@lru_cache(maxsize=65_536)
def interpret_coordinate(text: str | None, axis: str) -> tuple[str | None, tuple[str, ...]]:
    if text is None or not text.strip():
        return None, ()
    try:
        value = parse_coordinate(text, axis)
    except ValueError:
        return None, ("COORDINATE_INVALID",)
    return format_degrees(value), ()
