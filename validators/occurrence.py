"""The record checks of an Occurrence core, named as GBIF names its issue flags."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.countries import ISO_CODES
from mobilise.mappers.vocabularies import concepts
from mobilise.mappers.columns import column
from mobilise.validators.registry import CheckContext, check


def _missing(table: pa.Table, term: str) -> pa.Array:
    return pc.is_null(column(table, term))


def _not_in(table: pa.Table, term: str, allowed) -> pa.Array:
    values = column(table, term)
    return pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=pa.array(sorted(allowed)))))


def _number(table: pa.Table, term: str) -> pa.Array:
    return pc.cast(column(table, term), pa.float64())


@check("OCCURRENCE_ID_MISSING", "occurrenceID")
def occurrence_id_missing(table: pa.Table, context: CheckContext):
    return _missing(table, "occurrenceID")


@check("OCCURRENCE_ID_NOT_UNIQUE", "occurrenceID")
def occurrence_id_not_unique(table: pa.Table, context: CheckContext):
    return pc.is_in(column(table, "occurrenceID"), value_set=context.duplicate_ids)


@check("BASIS_OF_RECORD_MISSING", "basisOfRecord")
def basis_of_record_missing(table: pa.Table, context: CheckContext):
    return _missing(table, "basisOfRecord")


@check("BASIS_OF_RECORD_INVALID", "basisOfRecord")
def basis_of_record_invalid(table: pa.Table, context: CheckContext):
    return _not_in(table, "basisOfRecord", concepts("basisOfRecord"))


@check("SCIENTIFIC_NAME_MISSING", "scientificName")
def scientific_name_missing(table: pa.Table, context: CheckContext):
    return _missing(table, "scientificName")


@check("RECORDED_DATE_MISSING", "eventDate")
def recorded_date_missing(table: pa.Table, context: CheckContext):
    mask = _missing(table, "eventDate").to_numpy(zero_copy_only=False).copy()
    mask[context.flagged_rows("eventDate")] = False  # already reported as invalid
    return mask


@check("RECORDED_DATE_UNLIKELY", "eventDate")
def recorded_date_unlikely(table: pa.Table, context: CheckContext):
    # ISO dates of any precision compare correctly as text against today's date: '2031' > '2026-11-22'.
    start = pc.utf8_slice_codeunits(column(table, "eventDate"), 0, 10)
    future = pc.greater(start, context.today.isoformat())
    too_early = pc.less(pc.utf8_slice_codeunits(start, 0, 4), f"{context.earliest_year:04d}")
    return pc.or_(future, too_early)


@check("COORDINATE_OUT_OF_RANGE", "decimalLatitude")
def coordinate_out_of_range(table: pa.Table, context: CheckContext):
    latitude, longitude = _number(table, "decimalLatitude"), _number(table, "decimalLongitude")
    return pc.or_(pc.greater(pc.abs(latitude), 90), pc.greater(pc.abs(longitude), 180))


@check("ZERO_COORDINATE", "decimalLatitude")
def zero_coordinate(table: pa.Table, context: CheckContext):
    return pc.and_(pc.equal(_number(table, "decimalLatitude"), 0), pc.equal(_number(table, "decimalLongitude"), 0))


@check("COUNTRY_INVALID", "countryCode")
def country_invalid(table: pa.Table, context: CheckContext):
    return _not_in(table, "countryCode", ISO_CODES)


@check("TYPE_STATUS_INVALID", "typeStatus")
def type_status_invalid(table: pa.Table, context: CheckContext):
    return _not_in(table, "typeStatus", concepts("typeStatus"))


@check("ELEVATION_MIN_MAX_SWAPPED", "minimumElevationInMeters")
def elevation_min_max_swapped(table: pa.Table, context: CheckContext):
    return pc.greater(_number(table, "minimumElevationInMeters"), _number(table, "maximumElevationInMeters"))
