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

import re
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
