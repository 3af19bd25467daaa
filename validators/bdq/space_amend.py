"""When an accepted coordinate amendment may be applied: never to a point the stated country already accounts for,
never across continents.

BDQ's AMENDMENT_COORDINATES_TRANSPOSED proposes the sign change or transposition that puts a point in its stated
country, whatever the point was. Applied blindly it moves a point just across a border (latitude 51.315691,
longitude 6.352771, in Germany, with the country France) to 6.352771, -51.315691 off French Guiana. Mobilise keeps
the BDQ response as the standard defines it (the report lists the proposal) but does not apply a coordinate
amendment when :func:`refusal` gives a reason:

- the original point lies within the configured buffer of the stated country (``bdqval:spatialBufferInMeters`` of
  VALIDATION_COORDINATESCOUNTRYCODE_CONSISTENT, 3000 m by default), on its land or in its approximated EEZ: the
  point already agrees with the country, nothing is transposed;
- the original point lies on a continent of the stated country and the amended one on another continent: a point
  that may be right is never moved across the world. (A truly transposed point, e.g. Belgium's 50.43, 6.02 written
  6.02, 50.43 in the Indian Ocean off Somalia, lies on no continent of its country, and is amended.)

The continent of a point is the GBIF continent of the country whose land or approximated EEZ holds it (see
geography.CountryIndex.jurisdiction); for a country on several continents (France, the USA, Russia...) it is the
continent of the nearest land of a country on one continent (French Guiana's waters: Suriname, South America). A
point on the high seas has no continent. Countries' continents: validators/data/gbif_country_continents.tsv.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from mobilise.reference import geography
from mobilise.validators.bdq.space_parse import number

CONSISTENCY_TEST = "VALIDATION_COORDINATESCOUNTRYCODE_CONSISTENT"
BUFFER_PARAMETER = "bdqval:spatialBufferInMeters"
_SEARCH_RADII_M = (500_000.0, 1_500_000.0, 4_000_000.0)  # nearest single-continent land, searched outwards


def spatial_buffer(parameters: Mapping[str, Mapping[str, str]] | None = None) -> float:
    """The configured bdqval:spatialBufferInMeters of VALIDATION_COORDINATESCOUNTRYCODE_CONSISTENT (by label or
    GUID in ``parameters``, as ``validation.bdq.parameters`` gives them), else that test's default, in metres."""
    from mobilise.validators.bdq.batch import resolve_tests

    [test] = resolve_tests([CONSISTENCY_TEST])
    given = {**dict((parameters or {}).get(test.label) or {}), **dict((parameters or {}).get(test.guid) or {})}
    value = given.get(BUFFER_PARAMETER) or test.parameters[BUFFER_PARAMETER]
    return float(value)


def _country_continents() -> dict[str, frozenset[str]]:
    from mobilise.reference.geography import country_continents

    return country_continents()


@lru_cache(maxsize=16_384)
def point_continents(lat: float, lon: float) -> frozenset[str]:
    """GBIF continents of the point (usually one); empty on the high seas, outside the ranges or without geodata."""
    index = geography.country_index()
    if index is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return frozenset()
    continents = _country_continents()
    codes, _how = index.jurisdiction(lat, lon)
    found = frozenset().union(*(continents.get(code, frozenset()) for code in codes if code != "XZ"))
    if len(found) <= 1:
        return found
    for radius in _SEARCH_RADII_M:  # a country on several continents: the nearest land of a one-continent country
        near = [(distance, continents[code]) for code, distance in index.distances(lat, lon, radius).items()
                if len(continents.get(code, ())) == 1 and continents[code] <= found]
        if near:
            nearest = min(distance for distance, _ in near)
            return frozenset().union(*(c for distance, c in near if distance <= nearest + 1.0))
    return found


def refusal(old_lat: str | None, old_lon: str | None, new_lat: str | None, new_lon: str | None,
            country_code: str | None, buffer_m: float) -> str | None:
    """Why an accepted amendment from (old_lat, old_lon) to (new_lat, new_lon) is not applied, or None to apply it.

    Values are the batch's text (decimal degrees); only a move of a numeric point with a stated country is judged.
    """
    points = [number(v or "") for v in (old_lat, old_lon, new_lat, new_lon)]
    if None in points or not country_code:
        return None
    lat, lon, to_lat, to_lon = points
    if (lat, lon) == (to_lat, to_lon):
        return None
    index = geography.country_index()
    if index is None or not index.has_polygon(country_code):
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180 and index.consistent(country_code, lat, lon, buffer_m):
        return (f"not applied: the original point lies within {buffer_m:g} m of {country_code} "
                "(bdqval:spatialBufferInMeters) or in its waters")
    before, after = point_continents(lat, lon), point_continents(to_lat, to_lon)
    stated = _country_continents().get(country_code, frozenset())
    if before & stated and after and not after & before:
        return (f"not applied: it moves the point from {'/'.join(sorted(before))} to {'/'.join(sorted(after))}, "
                f"and {country_code} lies on {'/'.join(sorted(before & stated))} too")
    return None
