"""Checks of extension rows (one batch of one extension, mapped to its terms), as GBIF and DiSSCo read them.

:func:`check_extension_rows` takes the mapped rows of one extension of :data:`mobilise.extensions.EXTENSIONS` (a
:class:`pyarrow.Table` whose columns are term names, prefixed names or IRIs of that extension, all text, null
when empty) and returns one issue row per row and defect, with the issue schema of
:data:`mobilise.mappers.mapping.ISSUE_SCHEMA` (row, term, flag, value). It never raises for a row; it raises
ValueError only for an extension name it does not know. Columns that are not terms of the extension are ignored.
The issue's ``term`` is the table's column name (so that the validate stage removes the value it names), or the
term's name in the extension where the table has no such column.

What is checked (flags and severities in :mod:`mobilise.flags`; ``error`` keeps the row out of the archive):

* media rows, ``multimedia`` (GBIF Simple Multimedia) and ``audubon`` (Audubon/Audiovisual Core):

  - the access URI (``identifier`` / ``accessURI``) is an absolute http(s) URI. With none, GBIF and DiSSCo
    fall back on one other link (Simple Multimedia ``references``, GBIF ``MultimediaInterpreter.checkLinks`` and
    DiSSCo ``AccessURI.DWCA_TERMS``; Audubon Core ``identifier``, DiSSCo's order): a row with neither is refused by
    both (MULTIMEDIA_URI_MISSING, an error); a row with only the fallback is published with
    MULTIMEDIA_ACCESS_URI_MISSING, an invalid access URI beside a usable fallback is removed
    (MULTIMEDIA_ACCESS_URI_INVALID);
  - a format (``format``; Audubon Core also ``dcterms:format``) that is a known MIME type (:data:`MEDIA_TYPES`,
    also written as a ``purl.org/NET/mediatypes`` IRI, parameters ignored): MULTIMEDIA_FORMAT_MISSING,
    MULTIMEDIA_FORMAT_INVALID (removed: GBIF's MediaParser does not read it either);
  - a licence: the row's own (DiSSCo's order: ``license``, ``dcterms:rights``, ``rights``; the first non-empty),
    else the dataset's (``context.dataset_license``). None at all: MULTIMEDIA_LICENSE_MISSING; one DiSSCo would
    not accept (not CC0 1.0 or CC BY 4.0, :func:`mobilise.identifiers.open_licence`):
    DISSCO_MEDIA_LICENSE_NOT_ACCEPTED, on the row's licence term (or on the first licence term when the dataset's
    licence is the one refused). A licence is never removed: it says what users may do;
  - the creation date (``created`` / ``CreateDate``) is ISO 8601: MULTIMEDIA_DATE_INVALID (GBIF's flag; removed).

* ``identification`` (Identification History): a name (``scientificName``, ``verbatimIdentification``,
  ``scientificNameID`` or ``taxonID``): IDENTIFICATION_NAME_MISSING; ``dateIdentified`` in ISO 8601
  (IDENTIFIED_DATE_INVALID) and between 1700 and today (IDENTIFIED_DATE_UNLIKELY), both removed as in the core.
  The mapper interprets dateIdentified in the source's date order (mappers/interpreters.py) where the extension is
  mapped with the interpreters; this check judges the mapped value, which must then be ISO 8601.
* ``measurement_or_fact``, ``extended_measurement_or_fact``: ``measurementType`` (eMoF: or
  ``measurementTypeID``) and ``measurementValue`` (eMoF: or ``measurementValueID``): MEASUREMENT_TYPE_MISSING,
  MEASUREMENT_VALUE_MISSING.
* ``resource_relationship``: ``relatedResourceID`` (RELATED_RESOURCE_ID_MISSING) and ``relationshipOfResource`` or
  ``relationshipOfResourceID`` (RELATIONSHIP_OF_RESOURCE_MISSING).
* ``occurrence`` (as an extension of an Event core): no extension-level checks; its rows are occurrence records.

Only a media row without any link is an error: GBIF indexes every other extension row as given (the extension
definitions' ``required`` is a rule of the IPT's mapping, not of rows), so the rest are warnings, published.

Removed values: the flags with ``removes_value`` (MULTIMEDIA_ACCESS_URI_INVALID, MULTIMEDIA_FORMAT_INVALID,
MULTIMEDIA_DATE_INVALID, IDENTIFIED_DATE_INVALID/UNLIKELY) say the value is wrong and is not published. These
extensions have no verbatim term for them (nor dynamicProperties), so the original is kept where every issue is:
in the issue rows this function returns (the run's warnings and report), not in the archive. A licence is never
removed, whatever its flag.
"""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.extensions import ArchiveClass, extension
from mobilise.identifiers import open_licence
from mobilise.mappers.columns import not_blank, per_distinct_predicate, text
from mobilise.mappers.dates import interpret_date
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.validators.gbif.temporal import _date_outside
from mobilise.validators.registry import CheckContext

__all__ = ["check_extension_rows", "MEDIA_TYPES", "media_type", "is_access_uri"]

#: MIME types of the media biodiversity datasets publish (IANA registered, and the x- types in wide use), lower
#: case. A value is compared lower-cased, without parameters (';...') and without a mediatypes IRI prefix.
MEDIA_TYPES = frozenset({
    # still images
    "image/jpeg", "image/png", "image/gif", "image/tiff", "image/bmp", "image/webp", "image/jp2", "image/jpx",
    "image/jpm", "image/svg+xml", "image/heic", "image/heif", "image/avif", "image/x-adobe-dng",
    "image/vnd.microsoft.icon", "image/x-ms-bmp",
    # sound
    "audio/mpeg", "audio/mp4", "audio/wav", "audio/wave", "audio/vnd.wave", "audio/x-wav", "audio/flac",
    "audio/x-flac", "audio/ogg", "audio/opus", "audio/aac", "audio/webm", "audio/aiff", "audio/x-aiff",
    "audio/basic", "audio/3gpp", "audio/midi",
    # moving images
    "video/mp4", "video/mpeg", "video/quicktime", "video/webm", "video/ogg", "video/x-msvideo",
    "video/x-matroska", "video/3gpp",
    # documents, web pages, IIIF manifests, data
    "text/html", "text/plain", "text/csv", "application/pdf", "application/xml", "text/xml", "application/json",
    "application/ld+json", "application/zip",
    # 3D models and scans
    "model/gltf+json", "model/gltf-binary", "model/obj", "model/stl", "model/x3d+xml", "model/vrml", "model/mtl",
    "model/3mf", "application/dicom",
})
_MEDIA_TYPE_IRI = r"^https?://(?:purl\.org/NET/mediatypes/|www\.iana\.org/assignments/media-types/)"

# An absolute http(s) URI: the scheme, a host name of two or more dot-separated labels, an optional port, then a
# path, query or fragment without white space.
_ACCESS_URI = r"^https?://[^\s/?#:@.]+(?:\.[^\s/?#:@.]+)+(?::[0-9]+)?(?:[/?#]\S*)?$"

#: per media extension: (access URI term, fallback link term, format terms, licence terms, creation date term)
_MEDIA = {
    "multimedia": ("identifier", "references", ("format",), ("license",), "created"),
    "audubon": ("accessURI", "identifier", ("format", "dcterms:format"), ("dcterms:rights", "rights"), "CreateDate"),
}


def media_type(value: str | None) -> str | None:
    """The MIME type a format value names ('image/jpeg'), lower-cased and without parameters, when it is one of
    :data:`MEDIA_TYPES`; else None. Also read from ``http://purl.org/NET/mediatypes/image/jpeg``."""
    if value is None:
        return None
    found = re.sub(_MEDIA_TYPE_IRI, "", value.strip(), flags=re.IGNORECASE).split(";", 1)[0].strip().lower()
    return found if found in MEDIA_TYPES else None


def is_access_uri(values: pa.Array) -> np.ndarray:
    """Per value: an absolute http(s) URI (null: False)."""
    return pc.fill_null(pc.match_substring_regex(values, _ACCESS_URI, ignore_case=True), False).to_numpy(
        zero_copy_only=False)


class _Rows:
    """The mapped batch seen through its extension: a term's column by the term's name, and the issues found."""

    def __init__(self, definition: ArchiveClass, table: pa.Table) -> None:
        self.table = table
        self.columns: dict[str, str] = {}  # term name in the extension -> the table's column
        for column in table.column_names:
            name = definition.find_term(column)
            if name is not None:
                self.columns.setdefault(name, column)
        self.found: list[tuple[np.ndarray, str, str, pa.Array]] = []

    def values(self, term: str) -> pa.Array:
        """The term's values as text (all null when the batch does not map it)."""
        return text(self.table, self.columns.get(term, term)) if term in self.columns else \
            pa.nulls(self.table.num_rows, pa.string())

    def given(self, term: str) -> np.ndarray:
        return not_blank(self.values(term))

    def column(self, term: str) -> str:
        return self.columns.get(term, term)

    def flag(self, mask: np.ndarray, term: str, flag: str, values: pa.Array | None = None) -> None:
        """Report `flag` on the rows of `mask`, naming `term`, with `values` (default: the term's values)."""
        rows = np.flatnonzero(mask)
        if rows.size:
            shown = self.values(term) if values is None else values
            self.found.append((rows, self.column(term), flag, shown.take(pa.array(rows))))

    def issues(self) -> pa.Table:
        if not self.found:
            return ISSUE_SCHEMA.empty_table()
        return pa.table({
            "row": pa.array(np.concatenate([rows for rows, _, _, _ in self.found]), pa.int64()),
            "term": pa.array([term for rows, term, _, _ in self.found for _ in range(rows.size)], pa.string()),
            "flag": pa.array([flag for rows, _, flag, _ in self.found for _ in range(rows.size)], pa.string()),
            "value": pa.concat_arrays([values.cast(pa.string()) for _, _, _, values in self.found]),
        }, schema=ISSUE_SCHEMA)


def _first_given(rows: _Rows, terms: tuple[str, ...]) -> tuple[pa.Array, np.ndarray]:
    """(the first non-empty of `terms` per row, the index in `terms` it came from, -1 for none)."""
    chosen = pa.nulls(rows.table.num_rows, pa.string())
    source = np.full(rows.table.num_rows, -1)
    for position, term in enumerate(terms):
        here = rows.given(term) & (source < 0)
        source[here] = position
        chosen = pc.if_else(pa.array(here), rows.values(term), chosen)
    return chosen, source


def _media(rows: _Rows, kind: str, context: CheckContext) -> None:
    access, fallback, formats, licences, created = _MEDIA[kind]
    # the link to the media
    access_given, access_ok = rows.given(access), is_access_uri(rows.values(access))
    fallback_ok = is_access_uri(rows.values(fallback))
    no_link = ~access_ok & ~fallback_ok
    rows.flag(no_link, access, "MULTIMEDIA_URI_MISSING")
    rows.flag(~access_given & fallback_ok, access, "MULTIMEDIA_ACCESS_URI_MISSING")
    rows.flag(access_given & ~access_ok & fallback_ok, access, "MULTIMEDIA_ACCESS_URI_INVALID")
    # the format
    any_format = np.zeros(rows.table.num_rows, dtype=bool)
    for term in formats:
        given = rows.given(term)
        any_format |= given
        known = per_distinct_predicate(rows.values(term), lambda v: media_type(v) is not None)
        rows.flag(given & ~known, term, "MULTIMEDIA_FORMAT_INVALID")
    rows.flag(~any_format, formats[0], "MULTIMEDIA_FORMAT_MISSING")
    # the licence: the row's own, else the dataset's
    own, source = _first_given(rows, licences)
    dataset = context.dataset_license if context.dataset_license and context.dataset_license.strip() else None
    accepted = per_distinct_predicate(own, lambda v: open_licence(v) is not None)
    has_own = source >= 0
    if dataset is None:
        rows.flag(~has_own, licences[0], "MULTIMEDIA_LICENSE_MISSING")
    for position, term in enumerate(licences):
        rows.flag((source == position) & ~accepted, term, "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED")
    if dataset is not None and open_licence(dataset) is None:
        rows.flag(~has_own, licences[0], "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED",
                  pa.array([dataset] * rows.table.num_rows, pa.string()))
    # the creation date
    rows.flag(~per_distinct_predicate(rows.values(created), _iso_date_or_none), created, "MULTIMEDIA_DATE_INVALID")


def _iso_date_or_none(value: str | None) -> bool:
    """No value, or an ISO 8601 date, date-time or interval."""
    return value is None or not value.strip() or interpret_date(value, "INVALID", "iso-only")[0] is not None


def _identification(rows: _Rows, context: CheckContext) -> None:
    named = np.zeros(rows.table.num_rows, dtype=bool)
    for term in ("scientificName", "verbatimIdentification", "scientificNameID", "taxonID"):
        named |= rows.given(term)
    rows.flag(~named, "scientificName", "IDENTIFICATION_NAME_MISSING")
    dates = rows.values("dateIdentified")
    readable = per_distinct_predicate(dates, _iso_date_or_none)
    rows.flag(~readable, "dateIdentified", "IDENTIFIED_DATE_INVALID")
    outside = pc.fill_null(_date_outside(dates, context.today.isoformat(), 1700), False).to_numpy(
        zero_copy_only=False)
    rows.flag(readable & outside, "dateIdentified", "IDENTIFIED_DATE_UNLIKELY")


def _measurement(rows: _Rows, extended: bool) -> None:
    for term, flag in (("measurementType", "MEASUREMENT_TYPE_MISSING"),
                       ("measurementValue", "MEASUREMENT_VALUE_MISSING")):
        given = rows.given(term)
        if extended:
            given |= rows.given(f"{term}ID")
        rows.flag(~given, term, flag)


def _relationship(rows: _Rows) -> None:
    rows.flag(~rows.given("relatedResourceID"), "relatedResourceID", "RELATED_RESOURCE_ID_MISSING")
    rows.flag(~(rows.given("relationshipOfResource") | rows.given("relationshipOfResourceID")),
              "relationshipOfResource", "RELATIONSHIP_OF_RESOURCE_MISSING")


def check_extension_rows(name: str, table: pa.Table, context: CheckContext | None = None) -> pa.Table:
    """Issue rows (ISSUE_SCHEMA: row, term, flag, value) of the mapped rows of extension `name` (a key of
    mobilise.extensions.EXTENSIONS or its rowType); ``row`` is the 0-based row of `table`. `context` gives the
    dataset's licence (media rows without their own) and today (dateIdentified); default CheckContext().
    ValueError for an unknown extension; never raises for a row."""
    definition = extension(name)
    context = context if context is not None else CheckContext()
    rows = _Rows(definition, table)
    if table.num_rows == 0:
        return ISSUE_SCHEMA.empty_table()
    if definition.name in _MEDIA:
        _media(rows, definition.name, context)
    elif definition.name == "identification":
        _identification(rows, context)
    elif definition.name in ("measurement_or_fact", "extended_measurement_or_fact"):
        _measurement(rows, extended=definition.name == "extended_measurement_or_fact")
    elif definition.name == "resource_relationship":
        _relationship(rows)
    return rows.issues()
