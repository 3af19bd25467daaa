"""GBIF geography flags: country and continent (names, codes, their consistency) and the coordinate-country and
coordinate-continent checks, as GBIF's LocationInterpreter raises them.

Point in polygon tests use the Natural Earth country polygons of :mod:`mobilise.reference.geography` (cut into
one-degree tiles for one shared STRtree), queried once per distinct point; the analysis is shared by the
coordinate/country/continent checks of one batch, and the answers per distinct point are kept across batches."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.columns import per_distinct, per_distinct_np, text, to_mask
from mobilise.mappers.countries import interpret_country_code
from mobilise.reference.geography import CONTINENTS, PARENT_CODE, country_continents, country_index, tiles
from mobilise.validators.gbif.batch import coordinates, name_key
from mobilise.validators.registry import CheckContext, check

# GBIF's geocoder tolerance around a point (its default uncertainty for the reverse-geocode lookup), in degrees.
GEOCODE_TOLERANCE_DEG = 0.05

# GBIF's Continent values, their English, Dutch, French, German and Spanish names and two-letter codes.
_CONTINENT_NAMES = {
    "AFRICA": ["africa", "afrika", "afrique", "af"],
    "ANTARCTICA": ["antarctica", "antarctic", "antarctique", "antarctique", "antarktis", "antartida", "antarctica",
                   "an"],
    "ASIA": ["asia", "azie", "asie", "asien", "as"],
    "EUROPE": ["europe", "europa", "eu"],
    "NORTH_AMERICA": ["north america", "noord amerika", "amerique du nord", "nordamerika", "america del norte",
                      "northamerica", "na", "central america", "midden amerika", "amerique centrale",
                      "mittelamerika", "centroamerica", "america central"],
    "OCEANIA": ["oceania", "oceanie", "ozeanien", "australia", "australasia", "australie", "australien", "oc"],
    "SOUTH_AMERICA": ["south america", "zuid amerika", "amerique du sud", "sudamerika", "america del sur",
                      "southamerica", "sa"],
}


@lru_cache(maxsize=1)
def _continent_index() -> dict[str, str]:
    index = {name_key(c.replace("_", " ")): c for c in CONTINENTS} | {name_key(c): c for c in CONTINENTS}
    for continent, names in _CONTINENT_NAMES.items():
        index.update({name_key(name): continent for name in names})
    return index


@lru_cache(maxsize=4_096)
def interpret_continent(text: str | None) -> str | None:
    """GBIF Continent value, '' when given but not a continent, None when empty."""
    if text is None or not text.strip():
        return None
    return _continent_index().get(name_key(text), "")


def _continent(table: pa.Table) -> pa.Array:
    """Per row: the GBIF continent, '' for an invalid value, null when empty."""
    return per_distinct(text(table, "continent"), interpret_continent, pa.string())


def _continent_ids(table: pa.Table) -> np.ndarray:
    """Per row: position of the continent in CONTINENTS, -1 when empty or invalid."""
    return per_distinct_np(text(table, "continent"),
                            lambda v: CONTINENTS.index(c) if (c := interpret_continent(v)) else -1, -1, np.int64)


def _country_from_name(text: str) -> str | None:
    return interpret_country_code(text)[0]


def _country_names(table: pa.Table) -> pa.Array:
    return per_distinct(text(table, "country"), _country_from_name, pa.string())


def _stated_country(table: pa.Table) -> pa.Array:
    """The country GBIF would interpret: countryCode, else the country name (null when neither)."""
    return pc.coalesce(text(table, "countryCode"), _country_names(table))


@check("COUNTRY_INVALID", "country")
def country_name_invalid(table: pa.Table, context: CheckContext):
    # countryCode's interpreter flags its own value; a separate country column GBIF interprets as well.
    mask = to_mask(pc.and_(pc.is_valid(text(table, "country")),
                         pc.invert(pc.is_valid(per_distinct(text(table, "country"), _country_known, pa.string())))))
    mask[context.flagged_rows("countryCode")] = False  # the same value, usually mapped to both terms
    return mask


def _country_known(text: str) -> str | None:
    value, flags = interpret_country_code(text)
    return value if value or flags else "unknown"  # 'unknown' and the like are no value, not a bad one


@check("COUNTRY_MISMATCH", "country")
def country_mismatch(table: pa.Table, context: CheckContext):
    return pc.not_equal(_country_names(table), text(table, "countryCode"))


@check("CONTINENT_INVALID", "continent")
def continent_invalid(table: pa.Table, context: CheckContext):
    return pc.equal(_continent(table), "")


def _continent_disagrees(key: str) -> bool:
    continent, code = key.split("\x1f")
    known = country_continents().get(code)
    return bool(continent) and known is not None and continent not in known


@check("CONTINENT_COUNTRY_MISMATCH", "continent")
def continent_country_mismatch(table: pa.Table, context: CheckContext):
    key = pc.binary_join_element_wise(_continent(table), _stated_country(table), "\x1f")  # null if either is
    return per_distinct(key, _continent_disagrees, pa.bool_())


@check("CONTINENT_DERIVED_FROM_COUNTRY", "continent")
def continent_derived_from_country(table: pa.Table, context: CheckContext):
    single = pa.array(sorted(k for k, v in country_continents().items() if len(v) == 1))
    from_country = to_mask(pc.and_(pc.is_null(text(table, "continent")),
                                 pc.is_in(_stated_country(table), value_set=single)))
    return from_country & ~coordinates(table)[2]


# --- point in polygon, shared by the coordinate/country/continent checks of one batch -------------------------

@dataclass
class GeoAnalysis:
    on_land: np.ndarray  # the point lies on some country's land
    near_land: np.ndarray  # some country's land lies within the tolerance
    continents: np.ndarray  # rows x CONTINENTS: continents of the countries whose land is within the tolerance
    matched: np.ndarray  # stated country and point agree (land, tolerance or approximated EEZ)
    judged: np.ndarray  # a stated country with polygons and a valid point: mismatch is decidable
    negated_lat: np.ndarray
    negated_lon: np.ndarray
    swapped: np.ndarray
    derived: np.ndarray  # no stated country and the point lies in a country's land or approximated EEZ


_LAST: tuple[pa.Table, GeoAnalysis] | None = None


def _pairs(lat: np.ndarray, lon: np.ndarray, tolerance: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(point position, tile position) pairs: a tile of land within `tolerance` degrees of the point."""
    import shapely

    if lat.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    points = shapely.points(lon, lat)
    if tolerance > 0:
        found = tiles().tree.query(points, predicate="dwithin", distance=tolerance)
    else:
        found = tiles().tree.query(points, predicate="intersects")
    return found[0], found[1]


def _in_country(code_ids: np.ndarray, lat: np.ndarray, lon: np.ndarray, tolerance: float) -> np.ndarray:
    """Per point: does land of country code_ids[i] (position in tiles().codes) lie within tolerance?"""
    result = np.zeros(lat.size, bool)
    points, found = _pairs(lat, lon, tolerance)
    result[points[tiles().code_ids[found] == code_ids[points]]] = True
    return result


@lru_cache(maxsize=65_536)
def _jurisdiction(lat: float, lon: float) -> bool:
    codes, _ = country_index().jurisdiction(lat, lon)
    return codes != {"XZ"}


# Per distinct (latitude, longitude, stated country position): the answers of _analyse_points packed into bits,
# kept across batches of the process (coordinates repeat: one locality for several specimens, in several batches).
_POINT_BITS: dict[tuple[float, float, int], int] = {}
_POINT_BITS_LIMIT = 2_000_000
_ON_LAND, _NEAR, _MATCHED, _NEG_LAT, _NEG_LON, _SWAPPED, _DERIVED = (1 << i for i in range(7))
_CONTINENT_SHIFT = 7


def _analyse_points(d_lat: np.ndarray, d_lon: np.ndarray, d_target: np.ndarray) -> np.ndarray:
    """Per distinct point: the bits of _POINT_BITS (each point is judged on its own)."""
    grid = tiles()
    # land and continents at the point (within GBIF's tolerance)
    points, found = _pairs(d_lat, d_lon, GEOCODE_TOLERANCE_DEG)
    d_continents = np.zeros((d_lat.size, len(CONTINENTS)), bool)
    np.logical_or.at(d_continents, points, grid.continents[found])
    d_near = np.zeros(d_lat.size, bool)
    d_near[points] = True
    strict_points, _ = _pairs(d_lat, d_lon)
    d_on_land = np.zeros(d_lat.size, bool)
    d_on_land[strict_points] = True

    # the stated country: land within tolerance, else (at sea) the approximated EEZ of CountryIndex
    judged_d = d_target >= 0
    d_matched = np.zeros(d_lat.size, bool)
    d_matched[points[grid.code_ids[found] == d_target[points]]] = True
    at_sea = np.flatnonzero(judged_d & ~d_matched & ~d_on_land)
    if at_sea.size:  # CountryIndex.consistent for all of them in one go (the same answers, vectorised)
        d_matched[at_sea] = country_index().consistent_many([grid.codes[t] for t in d_target[at_sea].tolist()],
                                                             d_lat[at_sea], d_lon[at_sea], 0.0)

    # GBIF's alternatives for a mismatch, in its order: negated latitude, negated longitude, both, swapped
    d_neg_lat, d_neg_lon, d_swapped = (np.zeros(d_lat.size, bool) for _ in range(3))
    todo = judged_d & ~d_matched
    for flip_lat, flip_lon, swap in ((True, False, False), (False, True, False), (True, True, False),
                                     (False, False, True)):
        candidates = np.flatnonzero(todo)
        if candidates.size == 0:
            break
        t_lat, t_lon = d_lat[candidates], d_lon[candidates]
        if swap:
            t_lat, t_lon = t_lon, t_lat
            inside = np.abs(t_lat) <= 90
            candidates, t_lat, t_lon = candidates[inside], t_lat[inside], t_lon[inside]
        else:
            t_lat = -t_lat if flip_lat else t_lat
            t_lon = -t_lon if flip_lon else t_lon
        hit = candidates[_in_country(d_target[candidates], t_lat, t_lon, GEOCODE_TOLERANCE_DEG)]
        d_neg_lat[hit] |= flip_lat
        d_neg_lon[hit] |= flip_lon
        d_swapped[hit] |= swap
        todo[hit] = False

    # no stated country: GBIF derives one where the point is on land or within 200 nautical miles of it
    d_derived = np.zeros(d_lat.size, bool)
    for i in np.flatnonzero(d_target == -1):
        d_derived[i] = d_on_land[i] or _jurisdiction(float(d_lat[i]), float(d_lon[i]))

    bits = np.zeros(d_lat.size, np.int64)
    for flag, values in ((_ON_LAND, d_on_land), (_NEAR, d_near), (_MATCHED, d_matched), (_NEG_LAT, d_neg_lat),
                         (_NEG_LON, d_neg_lon), (_SWAPPED, d_swapped), (_DERIVED, d_derived)):
        bits[values] |= flag
    for position in range(len(CONTINENTS)):
        bits[d_continents[:, position]] |= 1 << (_CONTINENT_SHIFT + position)
    return bits


def _distinct_points(lat: np.ndarray, lon: np.ndarray, target: np.ndarray):
    """(latitudes, longitudes, targets, inverse) of the distinct triples, sorted, as np.unique(axis=0) gives them."""
    if lat.size == 0:
        return np.empty(0), np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64)
    u_lat, i_lat = np.unique(lat, return_inverse=True)
    u_lon, i_lon = np.unique(lon, return_inverse=True)
    u_target, i_target = np.unique(target, return_inverse=True)
    code = (i_lat.reshape(-1).astype(np.int64) * u_lon.size + i_lon.reshape(-1)) * u_target.size + i_target.reshape(-1)
    distinct, inverse = np.unique(code, return_inverse=True)
    distinct, target_of = np.divmod(distinct, u_target.size)
    lat_of, lon_of = np.divmod(distinct, u_lon.size)
    return u_lat[lat_of], u_lon[lon_of], u_target[target_of].astype(np.int64), inverse.reshape(-1)


def geo_analysis(table: pa.Table) -> GeoAnalysis | None:
    """The polygon answers for this batch (computed once per batch), or None without the polygon package."""
    global _LAST
    if _LAST is not None and _LAST[0] is table:
        return _LAST[1]
    grid = tiles()
    if grid is None:
        return None
    n = table.num_rows
    lat, lon, valid = coordinates(table)
    stated = _stated_country(table)
    # -1: no stated country; -2: a country Natural Earth draws no polygon for (cannot be judged)
    target = per_distinct_np(stated, lambda c: grid.code_id(PARENT_CODE.get(c, c)), -1, np.int64)

    # distinct valid points, with the stated country
    rows = np.flatnonzero(valid)
    d_lat, d_lon, d_target, inverse = _distinct_points(lat[rows], lon[rows], target[rows])

    # answers already known from earlier batches; the others computed once and remembered
    point_keys = list(zip(d_lat.tolist(), d_lon.tolist(), d_target.tolist()))
    known = _POINT_BITS.get
    bits = np.array([known(k, -1) for k in point_keys], np.int64)
    missing = np.flatnonzero(bits < 0)
    if missing.size:
        bits[missing] = _analyse_points(d_lat[missing], d_lon[missing], d_target[missing])
        if len(_POINT_BITS) + missing.size > _POINT_BITS_LIMIT:
            _POINT_BITS.clear()
        _POINT_BITS.update(zip((point_keys[i] for i in missing.tolist()), bits[missing].tolist()))
    judged_d = d_target >= 0

    def spread(values: np.ndarray) -> np.ndarray:
        result = np.zeros(n, bool)
        result[rows] = values[inverse]
        return result

    def spread_bit(flag: int) -> np.ndarray:
        return spread((bits & flag) != 0)

    d_continents = ((bits[:, None] >> (_CONTINENT_SHIFT + np.arange(len(CONTINENTS)))) & 1).astype(bool)
    continents = np.zeros((n, len(CONTINENTS)), bool)
    continents[rows] = d_continents[inverse]
    analysis = GeoAnalysis(on_land=spread_bit(_ON_LAND), near_land=spread_bit(_NEAR), continents=continents,
                           matched=spread_bit(_MATCHED), judged=spread(judged_d), negated_lat=spread_bit(_NEG_LAT),
                           negated_lon=spread_bit(_NEG_LON), swapped=spread_bit(_SWAPPED),
                           derived=spread_bit(_DERIVED))
    _LAST = (table, analysis)
    return analysis


def _geo_mask(table: pa.Table, attribute: str) -> np.ndarray:
    analysis = geo_analysis(table)
    return np.zeros(table.num_rows, bool) if analysis is None else getattr(analysis, attribute)


@check("COUNTRY_COORDINATE_MISMATCH", "decimalLatitude")
def country_coordinate_mismatch(table: pa.Table, context: CheckContext):
    analysis = geo_analysis(table)
    if analysis is None:
        return np.zeros(table.num_rows, bool)
    explained = analysis.negated_lat | analysis.negated_lon | analysis.swapped
    return analysis.judged & ~analysis.matched & ~explained


@check("PRESUMED_NEGATED_LATITUDE", "decimalLatitude")
def presumed_negated_latitude(table: pa.Table, context: CheckContext):
    return _geo_mask(table, "negated_lat")


@check("PRESUMED_NEGATED_LONGITUDE", "decimalLongitude")
def presumed_negated_longitude(table: pa.Table, context: CheckContext):
    return _geo_mask(table, "negated_lon")


@check("PRESUMED_SWAPPED_COORDINATE", "decimalLatitude")
def presumed_swapped_coordinate(table: pa.Table, context: CheckContext):
    return _geo_mask(table, "swapped")


@check("COUNTRY_DERIVED_FROM_COORDINATES", "countryCode")
def country_derived_from_coordinates(table: pa.Table, context: CheckContext):
    return _geo_mask(table, "derived")


@check("CONTINENT_COORDINATE_MISMATCH", "continent")
def continent_coordinate_mismatch(table: pa.Table, context: CheckContext):
    analysis = geo_analysis(table)
    if analysis is None:
        return np.zeros(table.num_rows, bool)
    ids = _continent_ids(table)
    stated = ids >= 0
    on_it = np.zeros(table.num_rows, bool)
    on_it[stated] = analysis.continents[np.flatnonzero(stated), ids[stated]]
    return stated & analysis.near_land & ~on_it


@check("CONTINENT_DERIVED_FROM_COORDINATES", "continent")
def continent_derived_from_coordinates(table: pa.Table, context: CheckContext):
    analysis = geo_analysis(table)
    if analysis is None:
        return np.zeros(table.num_rows, bool)
    return pc.is_null(text(table, "continent")).to_numpy(zero_copy_only=False) & analysis.on_land
