"""Numbers and measurements with units (depths, elevations, distances), one home for mappers and validators.

- :func:`parse_number` / :func:`numbers`: a decimal number, '1,5' read as 1.5 (decimal comma), NaN/None otherwise;
  '50,800' (a comma before exactly three digits) is read as neither 50.8 nor 50800: it is not a number.
- :data:`UNITS`: every length unit Mobilise reads, with its factor to metres (exact, as text) and whether it is
  metric; the GBIF depth/elevation flags and the TDWG BDQ depth/elevation amendments read the same table.
- :func:`parse_measure`: a depth or elevation as a data manager types it ('10', '10 m', '30 ft', 'ca. 10-20 m')
  -> (low, high) metres and non-metric, as GBIF's interpreters read ``minimumDepthInMeters`` & co.
- :func:`parse_verbatim_range`: ``verbatimDepth``/``verbatimElevation`` as the BDQ amendments read them (units
  required, labelled pairs), in exact decimal metres.
- :func:`parse_metres`: a plain number of metres (an optional metre unit), as the elevation interpreter reads it.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# --- numbers ----------------------------------------------------------------------------------------------------


# '50,800' or '1,500': a comma before exactly three digits, after one to three digits, is as likely a thousands
# separator (50800) as a decimal comma (50.8). Reading it either way would be a guess, so it is no number (and the
# term's interpreter flags it); '0,500', '12,5' and '1,5000' are decimal commas whatever the convention.
_THOUSANDS_OR_DECIMAL = re.compile(r"^\s*[+-]?[1-9]\d{0,2},\d{3}\s*$")


def decimal_text(text: str) -> float:
    """float() of a number that may use a decimal comma ('12,5' -> 12.5); ValueError when it is not one, or when
    its comma could be a thousands separator ('50,800')."""
    if _THOUSANDS_OR_DECIMAL.match(text):
        raise ValueError(f"ambiguous decimal or thousands separator: {text!r}")
    return float(text.replace(",", "."))


def parse_number(text: str | None) -> float | None:
    """A finite decimal number ('12', '-3.5', '1,5', ' 12 ', '1e3'); None otherwise ('inf', 'x', None, and
    '50,800', whose comma may separate thousands or decimals)."""
    try:
        value = decimal_text(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


# Plain decimal numbers: Arrow's cast reads them as float() does (both round correctly), so only the other distinct
# values ('1,5', ' 12 ', '1e3', 'inf', ...) go through parse_number.
_PLAIN_NUMBER = r"^[+-]?[0-9]+(?:\.[0-9]+)?$"


def numbers(values: pa.Array) -> np.ndarray:
    """:func:`parse_number` of every row as float64, NaN where null or not a number; once per distinct value."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary
    result = np.full(len(distinct) + 1, np.nan)  # the last position stands for null rows
    if len(distinct):
        plain = pc.match_substring_regex(distinct, _PLAIN_NUMBER).to_numpy(zero_copy_only=False)
        if plain.any():
            found = pc.cast(distinct.filter(pa.array(plain)), pa.float64()).to_numpy(zero_copy_only=False)
            result[np.flatnonzero(plain)] = np.where(np.isfinite(found), found, np.nan)
        other = np.flatnonzero(~plain)
        if other.size:
            parsed = [parse_number(v) for v in distinct.take(pa.array(other)).to_pylist()]
            result[other] = [np.nan if v is None else v for v in parsed]
    return result[pc.fill_null(encoded.indices, len(distinct)).to_numpy(zero_copy_only=False)]


def format_decimal(value: Decimal) -> str:
    """Plain notation without trailing zeros: Decimal('3.0480') -> '3.048', Decimal('100') -> '100'."""
    written = format(value, "f")
    return written.rstrip("0").rstrip(".") if "." in written else written


# --- units ------------------------------------------------------------------------------------------------------

_METRIC = {"1": ("m", "meter", "meters", "metre", "metres", "mètre", "mètres", "mtr", "mtrs"),
           "1000": ("km", "kilometer", "kilometers", "kilometre", "kilometres"),
           "0.01": ("cm",)}
_NON_METRIC = {"0.3048": ("ft", "feet", "foot", "'", "′"),
               "0.9144": ("yd", "yds", "yard", "yards"),
               "1.8288": ("fm", "fms", "ftm", "fath", "fathom", "fathoms"),
               "0.0254": ("in", "inch", "inches", '"', "″"),
               "1609.344": ("mi", "mile", "miles")}

#: unit (lower-case, without a trailing dot) -> (metres per unit, exact, as text; metric or not)
UNITS: dict[str, tuple[str, bool]] = (
    {unit: (factor, True) for factor, units in _METRIC.items() for unit in units}
    | {unit: (factor, False) for factor, units in _NON_METRIC.items() for unit in units})


def unit_of(text: str | None) -> tuple[str, bool] | None:
    """(metres per unit as text, metric) for a unit as written ('m', 'Ft.', 'fathoms'), None when unknown."""
    return UNITS.get((text or "").lower().rstrip(".") or "-")


# --- depth and elevation as typed -------------------------------------------------------------------------------

_NUMBER = r"[+-]?\d+(?:[.,]\d+)?"
_MEASURE = re.compile(rf"^\s*(?:ca\.?|c\.|about|approx\.?|~|±)?\s*({_NUMBER})\s*(?:(?:-|–|to|a|tot|bis)\s*({_NUMBER}))?"
                      r"\s*([a-zA-Zèé'′\"″]+\.?)?\s*$", re.IGNORECASE)


@lru_cache(maxsize=16_384)
def parse_measure(text: str) -> tuple[float, float, bool] | None:
    """'10', '10 m', '30 ft', '10-20 m' -> (low metres, high metres, non-metric); None when not a measure.

    A number without a unit is in metres (the unit of ``…InMeters`` terms); 'ca.', 'about', '~' are ignored."""
    match = _MEASURE.match(text)
    if not match:
        return None
    unit = unit_of(match.group(3) or "m")
    if unit is None:
        return None
    factor = float(unit[0])
    try:
        first = decimal_text(match.group(1))
        second = decimal_text(match.group(2)) if match.group(2) else first
    except ValueError:  # '50,800 m': thousands or decimals, unknown
        return None
    return min(first, second) * factor, max(first, second) * factor, not unit[1]


_METRES = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*([^\s\d]+)?\s*$")


def parse_metres(text: str) -> float | None:
    """A number of metres with an optional metre unit ('1200', '1200 m', '12,5 metres'); None otherwise (no
    other unit, no range: a value in feet is not silently converted)."""
    match = _METRES.match(text)
    if not match or (match.group(2) is not None and unit_of(match.group(2)) != ("1", True)):
        return None
    try:
        return decimal_text(match.group(1))
    except ValueError:  # '1,200 m': thousands or decimals, unknown
        return None


# --- verbatim depth / elevation (TDWG BDQ amendments) ----------------------------------------------------------

_NUM = r"[-+]?\d+(?:\.\d+)?"
_UNIT = r"[A-Za-z']+\.?"
_LABEL = r"(?P<label>min(?:imum)?|max(?:imum)?)?\.?\s*(?:depth|elevation|elev|altitude|alt)?\.?\s*[:=]?\s*"
_RANGE = re.compile(rf"^{_LABEL}(?P<a>{_NUM})\s*(?P<ua>{_UNIT})?\s*(?:-|–|—|to)\s*(?P<b>{_NUM})\s*(?P<ub>{_UNIT})$",
                    re.IGNORECASE)
_SINGLE = re.compile(rf"^{_LABEL}(?P<a>{_NUM})\s*(?P<ua>{_UNIT})$", re.IGNORECASE)


def _exact_metres(value: str, unit: str | None) -> Decimal | None:
    found = unit_of(unit)
    if found is None:
        return None
    try:
        return Decimal(value) * Decimal(found[0])  # exact: no rounding beyond the conversion factor's digits
    except InvalidOperation:
        return None


def parse_verbatim_range(text: str) -> tuple[str, str] | None:
    """(minimum, maximum) in metres, as exact decimal text, from a verbatim depth or elevation; units must be stated.

    Accepts '100 m', '10 feet', '25.8-34.9m', '1500 to 1800 ft', 'Minimum Elevation 100m' and labelled pairs such
    as 'Mindepth 10m, maxdepth=100m'. A lone maximum ('Max depth 100m') is a bound, not a value: None.
    """
    value = text.strip()
    match = _RANGE.match(value)
    if match and not match.group("label"):
        low = _exact_metres(match.group("a"), match.group("ua") or match.group("ub"))
        high = _exact_metres(match.group("b"), match.group("ub"))
        return _ordered(low, high)
    parts = [p for p in re.split(r"[,;]", value)]
    singles = [_SINGLE.match(p.strip()) for p in parts]
    if None in singles:
        return None
    if len(singles) == 1:
        label = (singles[0].group("label") or "").lower()
        if label.startswith("max"):
            return None
        metres = _exact_metres(singles[0].group("a"), singles[0].group("ua"))
        return _ordered(metres, metres)
    if len(singles) == 2:
        labelled = {(m.group("label") or "").lower()[:3]: _exact_metres(m.group("a"), m.group("ua")) for m in singles}
        if set(labelled) == {"min", "max"}:
            return _ordered(labelled["min"], labelled["max"])
    return None


def _ordered(low: Decimal | None, high: Decimal | None) -> tuple[str, str] | None:
    if low is None or high is None or low > high:
        return None
    return format_decimal(low), format_decimal(high)
