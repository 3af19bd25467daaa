"""One small interpreter per Darwin Core term that needs one, as GBIF's pipelines have.

An interpreter takes the source text and returns ``(value, flags)``: the value to publish (``None`` when nothing
usable remains) and issue flags from :mod:`mobilise.flags`. It never raises. Terms without an interpreter are
published as the source gives them (trimmed). Where an interpreter changes a value and Darwin Core has a verbatim
term for it, the original goes there.
"""
from __future__ import annotations

from functools import lru_cache, partial
from typing import Callable, Mapping

from mobilise.mappers.coordinates import interpret_coordinate
from mobilise.mappers.countries import interpret_country_code
from mobilise.mappers.dates import DEFAULT_DATE_ORDER, interpret_date, interpret_event_date
from mobilise.mappers.measurements import parse_metres
from mobilise.mappers.vocabularies import VOCABULARY_OF_TERM, Translator

Interpreter = Callable[..., tuple[str | None, tuple[str, ...]]]

#: Darwin Core's verbatim term of each interpreted term that has one (the original as the source gave it).
DWC_VERBATIM_TERM = {
    "eventDate": "verbatimEventDate",
    "decimalLatitude": "verbatimLatitude",
    "decimalLongitude": "verbatimLongitude",
    "minimumElevationInMeters": "verbatimElevation",
    "maximumElevationInMeters": "verbatimElevation",
    "minimumDepthInMeters": "verbatimDepth",
    "maximumDepthInMeters": "verbatimDepth",
    "locality": "verbatimLocality",
}
#: the verbatim terms the mapper fills (with the original, where its interpreter changed the value)
VERBATIM_TERM = {term: DWC_VERBATIM_TERM[term] for term in ("eventDate", "decimalLatitude", "decimalLongitude")}

def _format_number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.3f}".rstrip("0").rstrip(".")


@lru_cache(maxsize=16_384)
def interpret_metres(text: str | None, flag: str, positive: bool = False) -> tuple[str | None, tuple[str, ...]]:
    if text is None or not text.strip():
        return None, ()
    value = parse_metres(text)
    if value is None:
        return None, (flag,)
    if positive and value <= 0:
        return None, (flag,)
    return _format_number(value), ()


@lru_cache(maxsize=4_096)
def interpret_count(text: str | None) -> tuple[str | None, tuple[str, ...]]:
    if text is None or not text.strip():
        return None, ()
    try:
        value = float(text.strip())
    except ValueError:
        return None, ("INDIVIDUAL_COUNT_INVALID",)
    if value < 0 or value != int(value):
        return None, ("INDIVIDUAL_COUNT_INVALID",)
    return str(int(value)), ()


def interpreters(vocabularies: Mapping[str, Mapping[str, str]] | None = None,
                 date_order: str = DEFAULT_DATE_ORDER) -> dict[str, Interpreter]:
    """The interpreter of every term that has one; `vocabularies` are the dataset's own translation tables,
    `date_order` how the source writes non-ISO dates (source.date_order: day-first, month-first, iso-only)."""
    vocabularies = vocabularies or {}
    table: dict[str, Interpreter] = {
        "eventDate": partial(interpret_event_date, order=date_order),
        "decimalLatitude": partial(interpret_coordinate, axis="lat"),
        "decimalLongitude": partial(interpret_coordinate, axis="lon"),
        "countryCode": interpret_country_code,
        "dateIdentified": partial(interpret_date, invalid_flag="IDENTIFIED_DATE_INVALID", order=date_order),
        "modified": partial(interpret_date, invalid_flag="MODIFIED_DATE_INVALID", order=date_order),
        "georeferencedDate": partial(interpret_date, invalid_flag="GEOREFERENCED_DATE_INVALID", order=date_order),
        "individualCount": interpret_count,
        "minimumElevationInMeters": partial(interpret_metres, flag="ELEVATION_NON_NUMERIC"),
        "maximumElevationInMeters": partial(interpret_metres, flag="ELEVATION_NON_NUMERIC"),
        "coordinateUncertaintyInMeters": partial(interpret_metres, flag="COORDINATE_UNCERTAINTY_METERS_INVALID",
                                                 positive=True),
    }
    for term, vocabulary in VOCABULARY_OF_TERM.items():
        table[term] = Translator(vocabulary, vocabularies.get(vocabulary))
    return table
