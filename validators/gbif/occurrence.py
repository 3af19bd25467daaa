"""GBIF occurrence flags: occurrenceStatus against individualCount and basisOfRecord, suspected types, the
references URI and the associatedMedia URIs, as GBIF's BasicInterpreter raises them."""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.columns import given, per_distinct_predicate, text, to_mask
from mobilise.mappers.vocabularies import concepts
from mobilise.validators.gbif.batch import term_numbers
from mobilise.validators.registry import CheckContext, check

SPECIMEN_BASIS = ("PreservedSpecimen", "FossilSpecimen", "LivingSpecimen", "MaterialSample")

_UNCERTAIN = (r"(?i)(\?|\b(possible|possibly|potential|potentially|maybe|perhaps|probable|probably|presumed|"
              r"presumably|putative|doubtful|questionable)\b)")


@check("SUSPECTED_TYPE", "typeStatus")
def suspected_type(table: pa.Table, context: CheckContext):
    return pc.match_substring_regex(text(table, "typeStatus"), _UNCERTAIN)


# GBIF reads a URI with a scheme as given and tries 'http://' in front of a bare host name; spaces never parse.
_URI = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+|[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+(?:[/?#][^\s]*)?)$"


@check("REFERENCES_URI_INVALID", "references")
def references_uri_invalid(table: pa.Table, context: CheckContext):
    return pc.invert(pc.match_substring_regex(text(table, "references"), _URI))


_URI_LIST_SEPARATOR = re.compile(r"\s*[|,]\s*")


def _uri_list_invalid(value: str | None) -> bool:
    """associatedMedia: some of its URIs (separated by '|' or ',') is not a URI."""
    if value is None:
        return False
    return any(not re.match(_URI, part) for part in _URI_LIST_SEPARATOR.split(value.strip()) if part)


@check("MULTIMEDIA_URI_INVALID", "associatedMedia")
def multimedia_uri_invalid(table: pa.Table, context: CheckContext):
    return per_distinct_predicate(text(table, "associatedMedia"), _uri_list_invalid)


def _status(table: pa.Table) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(occurrenceStatus, given but not a concept, no usable status) per row."""
    status = text(table, "occurrenceStatus")
    known = to_mask(pc.is_in(status, value_set=pa.array(sorted(concepts("occurrenceStatus")))))
    stated = given(table, "occurrenceStatus")
    return status, stated & ~known, ~known


@check("OCCURRENCE_STATUS_UNPARSABLE", "occurrenceStatus")
def occurrence_status_unparsable(table: pa.Table, context: CheckContext):
    return _status(table)[1]


@check("INDIVIDUAL_COUNT_CONFLICTS_WITH_OCCURRENCE_STATUS", "individualCount")
def individual_count_conflicts(table: pa.Table, context: CheckContext):
    status, _, _ = _status(table)
    absent, present = to_mask(pc.equal(status, "absent")), to_mask(pc.equal(status, "present"))
    count = term_numbers(table, "individualCount")
    with np.errstate(invalid="ignore"):
        return ((count > 0) & absent) | ((count == 0) & present)


@check("OCCURRENCE_STATUS_INFERRED_FROM_INDIVIDUAL_COUNT", "occurrenceStatus")
def occurrence_status_inferred_from_count(table: pa.Table, context: CheckContext):
    return _status(table)[2] & np.isfinite(term_numbers(table, "individualCount"))


@check("OCCURRENCE_STATUS_INFERRED_FROM_BASIS_OF_RECORD", "occurrenceStatus")
def occurrence_status_inferred_from_basis(table: pa.Table, context: CheckContext):
    no_status = _status(table)[2]
    specimen = to_mask(pc.is_in(text(table, "basisOfRecord"), value_set=pa.array(SPECIMEN_BASIS)))
    return no_status & ~np.isfinite(term_numbers(table, "individualCount")) & specimen
