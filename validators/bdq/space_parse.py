"""Parsing of numbers, verbatim coordinates and verbatim depths/elevations for the SPACE tests."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def number(text: str | None) -> float | None:
    """A plain decimal number ('12', '-3.5', '1e3'); None for anything else ('41.0554 N', 'x', 'NaN')."""
    if text is None:
        return None
    value = text.strip()
    return float(value) if _NUMBER.fullmatch(value) else None


def format_decimal(value: Decimal) -> str:
    """Plain notation without trailing zeros: Decimal('3.0480') -> '3.048', Decimal('100') -> '100'."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


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


# --- verbatim depth / elevation -------------------------------------------------------------------------------

UNIT_TO_METRES = {
    "m": "1", "meter": "1", "meters": "1", "metre": "1", "metres": "1", "mtrs": "1",
    "km": "1000", "kilometer": "1000", "kilometers": "1000", "kilometre": "1000", "kilometres": "1000",
    "ft": "0.3048", "feet": "0.3048", "foot": "0.3048", "'": "0.3048",
    "yd": "0.9144", "yds": "0.9144", "yard": "0.9144", "yards": "0.9144",
    "fm": "1.8288", "ftm": "1.8288", "fms": "1.8288", "fathom": "1.8288", "fathoms": "1.8288",
}
_NUM = r"[-+]?\d+(?:\.\d+)?"
_UNIT = r"[A-Za-z']+\.?"
_LABEL = r"(?P<label>min(?:imum)?|max(?:imum)?)?\.?\s*(?:depth|elevation|elev|altitude|alt)?\.?\s*[:=]?\s*"
_RANGE = re.compile(rf"^{_LABEL}(?P<a>{_NUM})\s*(?P<ua>{_UNIT})?\s*(?:-|–|—|to)\s*(?P<b>{_NUM})\s*(?P<ub>{_UNIT})$",
                    re.IGNORECASE)
_SINGLE = re.compile(rf"^{_LABEL}(?P<a>{_NUM})\s*(?P<ua>{_UNIT})$", re.IGNORECASE)


def _metres(value: str, unit: str | None) -> Decimal | None:
    factor = UNIT_TO_METRES.get((unit or "").lower().rstrip(".") or "-", None)
    if factor is None:
        return None
    try:
        return Decimal(value) * Decimal(factor)  # exact: no rounding beyond the conversion factor's digits
    except InvalidOperation:
        return None


def parse_verbatim_range(text: str) -> tuple[str, str] | None:
    """(minimum, maximum) in metres from a verbatim depth or elevation; units must be stated.

    Accepts '100 m', '10 feet', '25.8-34.9m', '1500 to 1800 ft', 'Minimum Elevation 100m' and labelled pairs such
    as 'Mindepth 10m, maxdepth=100m'. A lone maximum ('Max depth 100m') is a bound, not a value: None.
    """
    value = text.strip()
    match = _RANGE.match(value)
    if match and not match.group("label"):
        low = _metres(match.group("a"), match.group("ua") or match.group("ub"))
        high = _metres(match.group("b"), match.group("ub"))
        return _ordered(low, high)
    parts = [p for p in re.split(r"[,;]", value)]
    singles = [_SINGLE.match(p.strip()) for p in parts]
    if None in singles:
        return None
    if len(singles) == 1:
        label = (singles[0].group("label") or "").lower()
        if label.startswith("max"):
            return None
        metres = _metres(singles[0].group("a"), singles[0].group("ua"))
        return _ordered(metres, metres)
    if len(singles) == 2:
        labelled = {(m.group("label") or "").lower()[:3]: _metres(m.group("a"), m.group("ua")) for m in singles}
        if set(labelled) == {"min", "max"}:
            return _ordered(labelled["min"], labelled["max"])
    return None


def _ordered(low: Decimal | None, high: Decimal | None) -> tuple[str, str] | None:
    if low is None or high is None or low > high:
        return None
    return format_decimal(low), format_decimal(high)
