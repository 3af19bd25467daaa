"""GBIF location flags: coordinates (rounding, precision, uncertainty), the geodetic datum and reprojection (pyproj,
offline with its bundled proj.db), and the footprint (WKT, SRS), as GBIF's LocationInterpreter raises them."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.columns import given, per_distinct, per_distinct_np, text
from mobilise.validators.gbif.batch import coordinates, name_key, per_batch, term_numbers
from mobilise.validators.registry import CheckContext, check

SUSPICIOUS_SHIFT_DEG = 0.1
UNCERTAINTY_UPPER_BOUND_M = 5_000_000

def _more_than_5_decimals(table: pa.Table, term: str):
    return pc.match_substring_regex(text(table, term), r"\.\d{6,}")


@check("COORDINATE_ROUNDED", "decimalLatitude")
def latitude_rounded(table: pa.Table, context: CheckContext):
    return _more_than_5_decimals(table, "decimalLatitude")


@check("COORDINATE_ROUNDED", "decimalLongitude")
def longitude_rounded(table: pa.Table, context: CheckContext):
    return _more_than_5_decimals(table, "decimalLongitude")


@check("COORDINATE_PRECISION_INVALID", "coordinatePrecision")
def coordinate_precision_invalid(table: pa.Table, context: CheckContext):
    precision = term_numbers(table, "coordinatePrecision")
    with np.errstate(invalid="ignore"):
        ok = (precision >= 0) & (precision <= 1)
    return given(table, "coordinatePrecision") & ~ok


@check("COORDINATE_UNCERTAINTY_METERS_INVALID", "coordinateUncertaintyInMeters")
def coordinate_uncertainty_unlikely(table: pa.Table, context: CheckContext):
    # The interpreter flags what is not a positive number; GBIF also rejects 5,000 km and more as very unlikely.
    with np.errstate(invalid="ignore"):
        return term_numbers(table, "coordinateUncertaintyInMeters") >= UNCERTAINTY_UPPER_BOUND_M


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
    if text is None or not text.strip() or name_key(text) in NOT_RECORDED:
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
    return per_batch(table, ("datum",), lambda: _datum_status_of(table))


def _datum_status_of(table: pa.Table) -> tuple[np.ndarray, pa.Array]:
    values = text(table, "geodeticDatum")
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
    return coordinates(table)[2] & np.isin(status, ["absent", "invalid"])


def _reprojection(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reprojected: the point moves, failed, shift > 0.1 degree) for rows with a valid non-WGS84 datum."""
    return per_batch(table, ("reprojection",), lambda: _reprojection_of(table))


def _reprojection_of(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = table.num_rows
    moved, failed, suspicious = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    lat, lon, valid = coordinates(table)
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
    return per_distinct(text(table, "footprintSRS"), lambda v: _crs(v) is None, pa.bool_())


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
    wkt, srs = text(table, "footprintWKT"), text(table, "footprintSRS")
    key = pc.binary_join_element_wise(wkt, pc.fill_null(srs, ""), "\x1f")  # null where the WKT is null

    def read(text: str):
        shape, crs = text.split("\x1f", 1)
        return _footprint(shape, crs or None)

    return per_distinct_np(key, read, None, object)


@check("FOOTPRINT_WKT_INVALID", "footprintWKT")
def footprint_wkt_invalid(table: pa.Table, context: CheckContext):
    wkt = text(table, "footprintWKT")
    return per_distinct(wkt, lambda v: _footprint(v, None) is False, pa.bool_())


@check("FOOTPRINT_WKT_MISMATCH", "footprintWKT")
def footprint_wkt_mismatch(table: pa.Table, context: CheckContext):
    import shapely

    lat, lon, valid = coordinates(table)
    rows = valid & given(table, "footprintWKT")
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
