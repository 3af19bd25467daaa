"""The record checks of an Occurrence core, named as GBIF names its issue flags (or, where GBIF has none, in the
same style: CATALOG_NUMBER_DUPLICATED, RECORDED_BY_ID_INVALID, IDENTIFIED_BY_ID_INVALID, ELEVATION_SENTINEL,
DEPTH_SENTINEL)."""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.identifiers import normalise_orcid
from mobilise.mappers.countries import ISO_CODES
from mobilise.mappers.vocabularies import concepts
from mobilise.mappers.columns import column, per_distinct_predicate, text
from mobilise.validators.dataset import TRIPLET, triplet_keys
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
    # context.duplicate_ids holds every spelling of a duplicated id (validators.dataset.duplicate_ids compares them
    # as written and ignoring case), so an exact lookup finds the records that differ only in case too
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


def _half_point(table: pa.Table, context: CheckContext, given: str, other: str) -> np.ndarray:
    """`given` has a value and `other` none, and not because an interpreter already flagged `other` (whose removal
    takes the pair anyway): half a point, which no map can place."""
    half = pc.and_(pc.invert(_missing(table, given)), _missing(table, other)).to_numpy(zero_copy_only=False)
    half[context.flagged_rows(other)] = False
    return half


@check("COORDINATE_INVALID", "decimalLatitude")
def latitude_without_longitude(table: pa.Table, context: CheckContext):
    return _half_point(table, context, "decimalLatitude", "decimalLongitude")


@check("COORDINATE_INVALID", "decimalLongitude")
def longitude_without_latitude(table: pa.Table, context: CheckContext):
    return _half_point(table, context, "decimalLongitude", "decimalLatitude")


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


@check("CATALOG_NUMBER_DUPLICATED", "catalogNumber", terms=TRIPLET)
def catalog_number_duplicated(table: pa.Table, context: CheckContext):
    """Another record of the whole dataset has the same triplet (found by mobilise.validators.dataset)."""
    return pc.is_in(triplet_keys(table), value_set=context.duplicate_triplets)


# --- agent identifiers ---------------------------------------------------------------------------------------------

_ORCID_LIKE = re.compile(r"orcid\.org/|^\d{4}-?\d{4}-?\d{4}-?\d{3}[\dXx]$", re.IGNORECASE)


def orcid_list_invalid(value: str | None) -> bool:
    """Some of the ids in `value` (separated by '|', as Darwin Core recommends for lists) is meant as an ORCID iD
    (it names orcid.org or is 16 digits) but is not one: wrong form or wrong check digit. Other ids (Wikidata,
    VIAF, local ids) are not judged."""
    if value is None:
        return False
    for part in value.split("|"):
        part = part.strip()
        if part and _ORCID_LIKE.search(part):
            try:
                normalise_orcid(part)
            except ValueError:
                return True
    return False


@check("RECORDED_BY_ID_INVALID", "recordedByID")
def recorded_by_id_invalid(table: pa.Table, context: CheckContext):
    return per_distinct_predicate(text(table, "recordedByID"), orcid_list_invalid)


@check("IDENTIFIED_BY_ID_INVALID", "identifiedByID")
def identified_by_id_invalid(table: pa.Table, context: CheckContext):
    return per_distinct_predicate(text(table, "identifiedByID"), orcid_list_invalid)


# --- sentinel numbers in elevation and depth ---------------------------------------------------------------------

#: a number of four or more nines (either sign, '.0' allowed) alone or within a range or unit: 9999, -9999,
#: 99999 m, 10-9999; not 999 (a real elevation or depth), 1999 or 9999.5
SENTINEL = r"(?:^|[^\d.])9{4,}(?:\.0*)?(?:$|[^\d.])"


def _sentinel(table: pa.Table, term: str) -> pa.Array:
    return pc.match_substring_regex(text(table, term), SENTINEL)


def _register_sentinel(flag: str, term: str) -> None:
    @check(flag, term)
    def sentinel(table: pa.Table, context: CheckContext):
        return _sentinel(table, term)


for _term in ("minimumElevationInMeters", "maximumElevationInMeters"):
    _register_sentinel("ELEVATION_SENTINEL", _term)
for _term in ("minimumDepthInMeters", "maximumDepthInMeters"):
    _register_sentinel("DEPTH_SENTINEL", _term)
