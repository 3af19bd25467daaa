"""Coordinates in decimal degrees or degrees-minutes-seconds text, turned into decimal degrees.

Range is not judged here (a validator does that on the final value); this only reads what was written, exactly or
not at all: a value is read when it has one meaning, and flagged COORDINATE_INVALID otherwise.

Read: ``50.85``, ``50,85``, ``-4.35``; a hemisphere letter (N, S, E, W, any case) before or after the number, with
or without a space (``N 30.7041``, ``30.7041N``, ``6.4531 W``, ``w6.4531``); degrees-minutes-seconds with
``° ' "`` (or ``º ˚``, ``′ ″``, ``’ ”``, ``''``), ``d m s``, colons or spaces between the parts
(``51°19'N``, ``50 51 12 N``, ``51:19:30 S``, ``51d19m30s``). S and W make the value negative.

Flagged: a letter of the other axis (``E`` on a latitude), two letters, a sign that contradicts the letter
(``-30.7 N``, ``+6.4 W``; ``-30.7 S`` agrees and is read), minutes or seconds of 60 or more, decimals on any part
but the last, and anything else.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

_DECIMAL = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_INTEGER = r"\d+"
_NUMBER = r"\d+(?:[.,]\d+)?"
_DEGREE_MARK = r"(?:\s*[°º˚]\s*|\s*d\s*|\s*:\s*|\s+)"
_MINUTE_MARK = r"(?:\s*['′’]\s*|\s*m\s*|\s*:\s*|\s+)"
_SECOND_MARK = r"(?:\s*(?:[\"″”]|''|′′))"
# The parts of the value, in the order tried: letter-style d/m/s first, so that the 's' of '51d19m30s' is seconds
# (with any other style a final 's' is the southern hemisphere: '51 19 30 s', '51°19'30"s').
_BODY = (rf"(?P<d1>{_INTEGER})\s*d\s*(?P<m1>{_INTEGER})\s*m\s*(?P<s1>{_NUMBER})\s*s"
         rf"|(?P<d2>{_INTEGER}){_DEGREE_MARK}(?P<m2>{_INTEGER}){_MINUTE_MARK}(?P<s2>{_NUMBER}){_SECOND_MARK}?"
         rf"|(?P<d3>{_INTEGER}){_DEGREE_MARK}(?P<m3>{_NUMBER})(?:\s*['′’m])?"
         rf"|(?P<d4>{_NUMBER})(?:\s*[°º˚])?")
_COORDINATE = re.compile(rf"^(?P<before>[NSEW])?\s*(?P<sign>[+\-−])?\s*(?:{_BODY})\s*(?P<after>[NSEW])?$",
                         re.IGNORECASE)


def _number(text: str | None) -> float:
    return float(text.replace(",", ".")) if text else 0.0


def parse_coordinate(text: str, axis: str) -> float:
    """One latitude (axis 'lat') or longitude ('lon') in decimal degrees.

    Raises ValueError for text that is not a coordinate or that says two things (see the module docstring).
    """
    text = text.strip()
    if _DECIMAL.match(text):
        return _number(text)
    match = _COORDINATE.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a coordinate")
    parts = match.groupdict()
    letters = [parts[k].upper() for k in ("before", "after") if parts[k]]
    if len(letters) > 1:
        raise ValueError(f"'{text}' names more than one hemisphere")
    style = next(i for i in "1234" if parts[f"d{i}"] is not None)
    degrees, minutes, seconds = (_number(parts.get(f"{k}{style}")) for k in "dms")
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"'{text}': minutes and seconds must be below 60")
    value = degrees + minutes / 60 + seconds / 3600
    sign = parts["sign"]
    negative = sign in ("-", "−")
    if letters:
        hemisphere = letters[0]
        if (axis == "lat") != (hemisphere in "NS"):
            raise ValueError(f"'{text}': hemisphere {hemisphere} does not belong to a {axis}itude")
        if sign and negative != (hemisphere in "SW"):
            raise ValueError(f"'{text}': the sign {sign} contradicts the hemisphere {hemisphere}")
        negative = hemisphere in "SW"
    return -value if negative else value


def format_degrees(value: float) -> str:
    """Decimal degrees with at most 7 decimals (about 1 cm), no trailing zeros."""
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@lru_cache(maxsize=65_536)
def interpret_coordinate(text: str | None, axis: str) -> tuple[str | None, tuple[str, ...]]:
    """(decimal degrees as text, ()) for a readable latitude (axis 'lat') or longitude ('lon'); (None, ()) when
    empty; (None, ('COORDINATE_INVALID',)) when the text is not exactly one coordinate of that axis."""
    if text is None or not text.strip():
        return None, ()
    try:
        value = parse_coordinate(text, axis)
    except ValueError:
        return None, ("COORDINATE_INVALID",)
    return format_degrees(value), ()


# --- other reference systems: projected (UTM, Belgian Lambert 72, ...) or geographic on another datum -------------

WGS84 = "EPSG:4326"
_EPSG_NUMBER = re.compile(r"^\d{4,6}$")


@lru_cache(maxsize=256)
def reference_system(text: str):
    """The pyproj CRS that `text` names: an EPSG code (``EPSG:31370``, ``31370``, ``epsg:32631``) or anything PROJ
    reads exactly (``WGS 84 / UTM zone 31N``, a WKT or PROJ string). Raises ValueError for anything else and for a
    system that is neither geographic nor projected (a vertical or engineering system)."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    name = (text or "").strip()
    if _EPSG_NUMBER.match(name):
        name = f"EPSG:{name}"
    try:
        crs = CRS.from_user_input(name)
    except CRSError:
        raise ValueError(f"'{text}' is not a coordinate reference system PROJ knows (write an EPSG code, e.g. "
                         f"EPSG:31370 for Belgian Lambert 72, EPSG:32631 for WGS 84 / UTM zone 31N)") from None
    if crs.is_compound:
        crs = crs.sub_crs_list[0]
    if not (crs.is_projected or crs.is_geographic):
        raise ValueError(f"'{text}' ({crs.name}) is neither a projected nor a geographic coordinate system")
    return crs


@lru_cache(maxsize=256)
def _transformer(crs_text: str):
    from pyproj import Transformer

    return Transformer.from_crs(reference_system(crs_text), WGS84, always_xy=True)


def _srs_name(crs) -> str:
    """The system as verbatimSRS gives it: its EPSG code when it has one, else its name."""
    code = crs.to_epsg(min_confidence=90)
    return f"EPSG:{code}" if code else crs.name


def _system_kind(crs) -> str:
    """verbatimCoordinateSystem of a projected system: UTM for UTM zones, else the projection method's name."""
    if crs.utm_zone:
        return "UTM"
    operation = crs.coordinate_operation
    return operation.method_name if operation is not None else crs.name


@dataclass(frozen=True)
class Converted:
    """Per row (numpy arrays / lists of one length): WGS84 latitude and longitude as text (None where not
    converted), verbatimSRS, verbatimCoordinates and verbatimCoordinateSystem (None where x and y are empty), and
    the flag of each row (None where converted or empty)."""

    latitude: list
    longitude: list
    srs: list
    verbatim: list
    system: list
    flags: list


def convert_points(xs: list, ys: list, systems: list) -> Converted:
    """WGS84 decimal degrees of points given as x (easting or longitude) and y (northing or latitude) text in the
    reference system each row names (text for :func:`reference_system`).

    Projected x and y are metres (``153000``, ``153000.5``, ``153000,5``); geographic ones decimal degrees or
    degrees-minutes-seconds (:func:`parse_coordinate`). Points of one system are transformed together (pyproj,
    best available operation, axis order x/y). A row is flagged, and gets no coordinates, when:
    x or y is missing or unreadable (COORDINATE_INVALID), its system is unknown or the transformation fails
    (COORDINATE_REPROJECTION_FAILED), or the converted point lies outside the system's area of use
    (COORDINATE_OUTSIDE_CRS_AREA): never moved to the nearest valid place.
    """
    size = len(xs)
    out = Converted([None] * size, [None] * size, [None] * size, [None] * size, [None] * size, [None] * size)
    groups: dict[str, list[int]] = {}
    for row, (x, y, system) in enumerate(zip(xs, ys, systems)):
        if x is None and y is None:
            continue
        out.verbatim[row] = f"{x or ''}, {y or ''}"
        if system is None or x is None or y is None:
            out.flags[row] = "COORDINATE_REPROJECTION_FAILED" if system is None else "COORDINATE_INVALID"
            out.srs[row] = system
            continue
        groups.setdefault(system, []).append(row)
    for system, rows in groups.items():
        try:
            crs = reference_system(system)
        except ValueError:
            for row in rows:
                out.flags[row], out.srs[row] = "COORDINATE_REPROJECTION_FAILED", system
            continue
        srs = _srs_name(crs)
        readable, px, py = [], [], []
        for row in rows:
            out.srs[row] = srs
            try:
                if crs.is_geographic:
                    px.append(parse_coordinate(xs[row], "lon"))
                    py.append(parse_coordinate(ys[row], "lat"))
                    out.system[row] = ("decimal degrees" if _DECIMAL.match(xs[row]) and _DECIMAL.match(ys[row])
                                       else "degrees minutes seconds")
                    out.verbatim[row] = f"{ys[row]}, {xs[row]}"  # latitude first, as Darwin Core's examples
                else:
                    if not (_DECIMAL.match(xs[row]) and _DECIMAL.match(ys[row])):
                        raise ValueError("not metres")
                    px.append(_number(xs[row]))
                    py.append(_number(ys[row]))
                    out.system[row] = _system_kind(crs)
            except ValueError:
                out.flags[row] = "COORDINATE_INVALID"
                continue
            readable.append(row)
        if not readable:
            continue
        import numpy as np

        lon, lat = _transformer(system).transform(np.array(px, dtype=float), np.array(py, dtype=float),
                                                  errcheck=False)
        area = crs.area_of_use
        for row, a, b in zip(readable, lon.tolist(), lat.tolist()):
            if not (math.isfinite(a) and math.isfinite(b)) or abs(b) > 90 or abs(a) > 180:
                out.flags[row] = "COORDINATE_REPROJECTION_FAILED"
            elif area is not None and not _within(area, a, b):
                out.flags[row] = "COORDINATE_OUTSIDE_CRS_AREA"
            else:
                out.latitude[row], out.longitude[row] = format_degrees(b), format_degrees(a)
    return out


def _within(area, lon: float, lat: float) -> bool:
    """Is the point inside the area of use (west, south, east, north in degrees; west > east crosses 180°)?"""
    if not area.south <= lat <= area.north:
        return False
    if area.west <= area.east:
        return area.west <= lon <= area.east
    return lon >= area.west or lon <= area.east
