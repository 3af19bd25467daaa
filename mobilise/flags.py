"""The fixed vocabulary of issue flags that interpreters and validators raise.

Names follow GBIF's OccurrenceIssue enum where GBIF has one, so that what a data manager sees before publishing
is what GBIF would show after indexing. Flags GBIF has no name for (it refuses such records outright or never
sees them) use the same style. ``error`` keeps a record out of the archive (it goes to quarantine with its
reasons); ``warning`` and ``info`` are reported and published. By default only what would break the archive is
an error (no or a duplicate occurrenceID; no basisOfRecord or one outside the Darwin Core Type Vocabulary, which
the IPT refuses): GBIF indexes the rest. A flag with ``removes_value`` says the value is wrong, so it is not
published in its term (the record is). Every default can be changed per dataset under ``validation.severity``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Flag:
    name: str
    severity: str  # error, warning, info
    description: str
    gbif: bool  # True when GBIF's OccurrenceIssue has this exact name
    # True when the flag means "this value is wrong": it is not published in its term (the validate stage,
    # mobilise.validators.quality.remove_flagged_values, moves it to the verbatim term or a dynamicProperties note;
    # for the interpreters' flags the interpreter has already emptied the term).
    removes_value: bool = False


_FLAGS = [
    # identifiers and required terms: GBIF's IPT refuses to publish without these
    Flag("OCCURRENCE_ID_MISSING", "error", "occurrenceID is empty: GBIF cannot track the record across versions", False),
    Flag("OCCURRENCE_ID_NOT_UNIQUE", "error", "occurrenceID is shared with another record of this dataset, or "
         "differs from another's only in case (ABC-1, abc-1): GBIF's IPT compares ids ignoring case", False),
    Flag("BASIS_OF_RECORD_MISSING", "error", "basisOfRecord is empty", False),
    Flag("BASIS_OF_RECORD_INVALID", "error", "basisOfRecord is not a Darwin Core basisOfRecord concept", True),
    Flag("SCIENTIFIC_NAME_MISSING", "warning", "scientificName is empty", False),
    Flag("RECORDED_DATE_MISSING", "warning", "eventDate is empty", False),
    # text as stored in the source (extractors/base.py decode_text; mappers/mapping.py)
    Flag("TEXT_ENCODING_INVALID", "error", "the source value is not valid UTF-8 (nor in source.encoding): its "
         "undecodable bytes are shown escaped (\\xe8); set source.encoding or fix the value", False),
    Flag("CONTROL_CHARACTERS_REMOVED", "warning", "the value held control characters (NUL, BEL, ESC, DEL, other "
         "C0/C1 controls): removed, the archive has the value without them", False),
    # dates
    Flag("RECORDED_DATE_INVALID", "warning", "eventDate could not be interpreted as a date or interval", True, removes_value=True),
    Flag("RECORDED_DATE_UNLIKELY", "warning", "eventDate lies in the future or before validation.earliest_year", True, removes_value=True),
    Flag("IDENTIFIED_DATE_INVALID", "warning", "dateIdentified could not be interpreted", True, removes_value=True),
    Flag("MODIFIED_DATE_INVALID", "warning", "modified could not be interpreted", True, removes_value=True),
    # coordinates
    Flag("COORDINATE_INVALID", "warning", "a coordinate is given but could not be interpreted", True, removes_value=True),
    Flag("COORDINATE_OUT_OF_RANGE", "warning", "latitude beyond ±90 or longitude beyond ±180", True, removes_value=True),
    Flag("ZERO_COORDINATE", "warning", "coordinates are exactly 0,0, often a stand-in for 'unknown'", True, removes_value=True),
    Flag("COORDINATE_UNCERTAINTY_METERS_INVALID", "warning", "coordinateUncertaintyInMeters is not a positive number", True, removes_value=True),
    # country
    Flag("COUNTRY_INVALID", "warning", "the country could not be resolved to an ISO 3166-1 alpha-2 code", True, removes_value=True),
    # other terms
    Flag("TYPE_STATUS_INVALID", "warning", "typeStatus is not in GBIF's type status vocabulary", True),
    Flag("INDIVIDUAL_COUNT_INVALID", "warning", "individualCount is not a whole number of zero or more", True, removes_value=True),
    Flag("ELEVATION_NON_NUMERIC", "warning", "elevation could not be read as a number of metres", True, removes_value=True),
    Flag("ELEVATION_MIN_MAX_SWAPPED", "warning", "minimum elevation is greater than maximum elevation", True),
    Flag("TEMPLATE_EMPTY", "warning", "the term's template gave no value: the columns shown are empty (an "
         "identifier term's template gives none when any column outside an optional [group] is)", False),
    Flag("VOCABULARY_UNMATCHED", "info", "value kept as given: no concept in the vocabulary matched it", False),
    # mapping helpers (mappers/mapping.py, mappers/dates.py, mappers/coordinates.py, mappers/names.py)
    Flag("DATE_INVALID", "warning", "a date term other than eventDate, dateIdentified, modified and "
         "georeferencedDate could not be interpreted (assembled from its parts or read as a date)", False,
         removes_value=True),
    Flag("REGEX_NO_MATCH", "warning", "the term's regular expression did not match the source value (or its first "
         "group took no part): no value published, the source value kept", False, removes_value=True),
    Flag("LOOKUP_NO_MATCH", "warning", "the source value is not in the term's lookup table: no value published, the "
         "source value kept (the run report counts these values, so the table can be extended)", False,
         removes_value=True),
    Flag("LIST_SEPARATOR_IN_VALUE", "warning", "a value joined from a child table into the term (one collector of "
         "recordedBy) holds the list separator itself, so whoever splits the term splits that value too: the "
         "value shown; published as joined (change the separator or the value)", False),
    Flag("NAME_AUTHORSHIP_UNSPLIT", "warning", "GBIF's name parser could not read the name (a virus, a formula, "
         "text it leaves unparsed) or its authorship differs from the text: no authorship split off, the name "
         "kept whole", False),
    Flag("COORDINATE_OUTSIDE_CRS_AREA", "warning", "the point converted from its reference system lies outside that "
         "system's area of use (EPSG): not published, never moved; the original is in verbatimCoordinates", False),
    # sensitive data (mappers/rules.py): the record is published, its point coarser or some terms empty on purpose
    Flag("COORDINATES_GENERALISED", "info", "a sensitive record: its point was generalised to a grid cell or fewer "
         "decimals (WGS84), coordinateUncertaintyInMeters widened to cover the cell, the verbatim coordinates "
         "withheld; dataGeneralizations says how", False),
    Flag("INFORMATION_WITHHELD", "info", "a sensitive record: terms named by the dataset's sensitive rules were left "
         "empty; informationWithheld names them", False),
    # record checks GBIF has no flag for (validators/occurrence.py; docs/gbif-issue-flags.md)
    Flag("CATALOG_NUMBER_DUPLICATED", "warning", "another record of this dataset has the same catalogNumber within the "
         "same institutionCode and collectionCode (GBIF's occurrence triplet): two specimens share a label, or one "
         "specimen is published twice", False),
    Flag("RECORDED_BY_ID_INVALID", "warning", "recordedByID holds an ORCID iD (https://orcid.org/… or 16 digits) in the "
         "wrong form or with a wrong check digit (ISO 7064 MOD 11-2)", False),
    Flag("IDENTIFIED_BY_ID_INVALID", "warning", "identifiedByID holds an ORCID iD (https://orcid.org/… or 16 digits) "
         "in the wrong form or with a wrong check digit (ISO 7064 MOD 11-2)", False),
    Flag("ELEVATION_SENTINEL", "warning", "an elevation is a number databases use for 'unknown' (9999, -9999, 99999, "
         "…: only nines, four or more): it is no elevation", False, removes_value=True),
    Flag("DEPTH_SENTINEL", "warning", "a depth is a number databases use for 'unknown' (9999, -9999, 99999, …: only "
         "nines, four or more): it is no depth", False, removes_value=True),
    # GBIF occurrence issues a publisher can check offline (validators/gbif/; docs/gbif-issue-flags.md)
    Flag("COORDINATE_ROUNDED", "info", "a coordinate has more than 5 decimals: GBIF rounds it to 5", True),
    Flag("GEODETIC_DATUM_INVALID", "warning", "geodeticDatum could not be read as a datum or EPSG code", True),
    Flag("GEODETIC_DATUM_ASSUMED_WGS84", "info", "coordinates without a usable geodeticDatum: GBIF assumes WGS84", True),
    Flag("COORDINATE_REPROJECTED", "info", "the datum is not WGS84: GBIF reprojects the coordinates to WGS84", True),
    Flag("COORDINATE_REPROJECTION_FAILED", "warning", "the coordinates cannot be reprojected from the given datum to WGS84", True),
    Flag("COORDINATE_REPROJECTION_SUSPICIOUS", "warning", "reprojecting from the given datum shifts the point by more than 0.1 degree", True),
    Flag("COORDINATE_PRECISION_INVALID", "warning", "coordinatePrecision is not a number between 0 and 1", True, removes_value=True),
    Flag("FOOTPRINT_SRS_INVALID", "warning", "footprintSRS could not be read as a coordinate reference system", True, removes_value=True),
    Flag("FOOTPRINT_WKT_INVALID", "warning", "footprintWKT is not valid Well-Known Text", True, removes_value=True),
    Flag("FOOTPRINT_WKT_MISMATCH", "warning", "the coordinates lie outside the footprintWKT geometry", True),
    Flag("PRESUMED_SWAPPED_COORDINATE", "warning", "latitude and longitude appear swapped: swapped, the point lies in the stated country", True),
    Flag("PRESUMED_NEGATED_LATITUDE", "warning", "latitude appears negated: negated, the point lies in the stated country", True),
    Flag("PRESUMED_NEGATED_LONGITUDE", "warning", "longitude appears negated: negated, the point lies in the stated country", True),
    Flag("COUNTRY_COORDINATE_MISMATCH", "warning", "the coordinates lie outside the stated country (land or 200 nautical miles sea)", True),
    Flag("COUNTRY_MISMATCH", "warning", "country and countryCode name different countries", True),
    Flag("COUNTRY_DERIVED_FROM_COORDINATES", "warning", "no country given: GBIF derives it from the coordinates", True),
    Flag("CONTINENT_INVALID", "warning", "continent is not one of GBIF's seven continents", True, removes_value=True),
    Flag("CONTINENT_COUNTRY_MISMATCH", "warning", "the stated country does not lie on the stated continent", True),
    Flag("CONTINENT_COORDINATE_MISMATCH", "warning", "the coordinates lie on land outside the stated continent", True),
    Flag("CONTINENT_DERIVED_FROM_COORDINATES", "warning", "no continent given: GBIF derives it from the coordinates", True),
    Flag("CONTINENT_DERIVED_FROM_COUNTRY", "warning", "no continent or coordinates given: GBIF derives the continent from the country", True),
    Flag("RECORDED_DATE_MISMATCH", "warning", "eventDate contradicts year, month, day, startDayOfYear or endDayOfYear, or is an interval with only a start or only an end (/1967-06-17), which GBIF does not read either", True),
    Flag("MODIFIED_DATE_UNLIKELY", "warning", "modified lies in the future or before 1970", True, removes_value=True),
    Flag("IDENTIFIED_DATE_UNLIKELY", "warning", "dateIdentified lies in the future or before 1700", True, removes_value=True),
    Flag("GEOREFERENCED_DATE_INVALID", "warning", "georeferencedDate could not be interpreted", True, removes_value=True),
    Flag("GEOREFERENCED_DATE_UNLIKELY", "warning", "georeferencedDate lies in the future or before 1700", True, removes_value=True),
    Flag("DEPTH_NON_NUMERIC", "warning", "depth could not be read as a number (with a unit)", True, removes_value=True),
    Flag("DEPTH_NOT_METRIC", "warning", "depth is given in feet, fathoms or another non-metric unit", True),
    Flag("DEPTH_UNLIKELY", "warning", "depth is negative or more than 11,000 m", True, removes_value=True),
    Flag("DEPTH_MIN_MAX_SWAPPED", "warning", "minimum depth is greater than maximum depth", True),
    Flag("ELEVATION_NOT_METRIC", "warning", "elevation is given in feet or another non-metric unit (GBIF converts it)", True),
    Flag("ELEVATION_UNLIKELY", "warning", "elevation is above 17,000 m or below -11,000 m", True, removes_value=True),
    Flag("SUSPECTED_TYPE", "warning", "typeStatus contains words expressing uncertainty ('?', possible, probable, ...)", True),
    Flag("REFERENCES_URI_INVALID", "warning", "references is not a valid URI", True, removes_value=True),
    Flag("MULTIMEDIA_URI_INVALID", "warning", "a URI in associatedMedia (several separated by '|' or ',') is not a "
         "valid URI", True),
    Flag("OCCURRENCE_STATUS_UNPARSABLE", "warning", "occurrenceStatus is neither present nor absent", True, removes_value=True),
    Flag("INDIVIDUAL_COUNT_CONFLICTS_WITH_OCCURRENCE_STATUS", "warning", "individualCount contradicts occurrenceStatus (0 and present, or more and absent)", True),
    Flag("OCCURRENCE_STATUS_INFERRED_FROM_INDIVIDUAL_COUNT", "warning", "no usable occurrenceStatus: GBIF infers it from individualCount", True),
    Flag("OCCURRENCE_STATUS_INFERRED_FROM_BASIS_OF_RECORD", "warning", "no usable occurrenceStatus or individualCount: GBIF infers present from the specimen basisOfRecord", True),
    Flag("EON_OR_EONOTHEM_RANK_MISMATCH", "info", "the eon/eonothem term holds a unit of another rank (ICS chart)", True),
    Flag("ERA_OR_ERATHEM_RANK_MISMATCH", "info", "the era/erathem term holds a unit of another rank (ICS chart)", True),
    Flag("PERIOD_OR_SYSTEM_RANK_MISMATCH", "info", "the period/system term holds a unit of another rank (ICS chart)", True),
    Flag("EPOCH_OR_SERIES_RANK_MISMATCH", "info", "the epoch/series term holds a unit of another rank (ICS chart)", True),
    Flag("AGE_OR_STAGE_RANK_MISMATCH", "info", "the age/stage term holds a unit of another rank (ICS chart)", True),
    Flag("EON_OR_EONOTHEM_INVALID_RANGE", "info", "the earliest eon/eonothem is younger than the latest", True),
    Flag("ERA_OR_ERATHEM_INVALID_RANGE", "info", "the earliest era/erathem is younger than the latest", True),
    Flag("PERIOD_OR_SYSTEM_INVALID_RANGE", "info", "the earliest period/system is younger than the latest", True),
    Flag("EPOCH_OR_SERIES_INVALID_RANGE", "info", "the earliest epoch/series is younger than the latest", True),
    Flag("AGE_OR_STAGE_INVALID_RANGE", "info", "the earliest age/stage is younger than the latest", True),
    Flag("EON_OR_EONOTHEM_AND_ERA_OR_ERATHEM_MISMATCH", "info", "the era/erathem does not belong to the eon/eonothem (ICS chart)", True),
    Flag("ERA_OR_ERATHEM_AND_PERIOD_OR_SYSTEM_MISMATCH", "info", "the period/system does not belong to the era/erathem (ICS chart)", True),
    Flag("PERIOD_OR_SYSTEM_AND_EPOCH_OR_SERIES_MISMATCH", "info", "the epoch/series does not belong to the period/system (ICS chart)", True),
    Flag("EPOCH_OR_SERIES_AND_AGE_OR_STAGE_MISMATCH", "info", "the age/stage does not belong to the epoch/series (ICS chart)", True),
]

# Extension rows (validators/extensions.py check_extension_rows). A media row with no link to its media at all is
# the one extension row GBIF and DiSSCo refuse; every other defect is reported and the row published.
_EXTENSION_FLAGS = [
    Flag("MULTIMEDIA_URI_MISSING", "error", "a media row has no link to its media: the access URI (Simple Multimedia "
         "identifier, Audubon Core accessURI) is empty or not an absolute http(s) URI, and so is the link GBIF and "
         "DiSSCo fall back on (Simple Multimedia references, Audubon Core identifier). GBIF skips such a Simple "
         "Multimedia row (MULTIMEDIA_URI_INVALID) and shows no media for an Audubon Core one; DiSSCo's translator "
         "refuses both ('no accessURI'): the row is kept out of the archive", False),
    Flag("MULTIMEDIA_ACCESS_URI_MISSING", "warning", "a media row has no access URI (Simple Multimedia identifier, "
         "Audubon Core accessURI): GBIF and DiSSCo link to its other URI (references / identifier) instead, often "
         "a web page rather than the media file", False),
    Flag("MULTIMEDIA_ACCESS_URI_INVALID", "warning", "the access URI (Simple Multimedia identifier, Audubon Core "
         "accessURI) is not an absolute http(s) URI: GBIF drops it (MULTIMEDIA_URI_INVALID); the row keeps its "
         "other link", False, removes_value=True),
    Flag("MULTIMEDIA_FORMAT_MISSING", "warning", "a media row has no format (a MIME type such as image/jpeg): GBIF "
         "guesses it from the file name's extension, DiSSCo has none", False),
    Flag("MULTIMEDIA_FORMAT_INVALID", "warning", "format is not a known MIME type (type/subtype such as image/jpeg "
         "or audio/x-wav; image/jpg is not one): GBIF does not read it", False, removes_value=True),
    Flag("MULTIMEDIA_DATE_INVALID", "warning", "the media's creation date (Simple Multimedia created, Audubon Core "
         "CreateDate) is not an ISO 8601 date or date-time", True, removes_value=True),
    Flag("MULTIMEDIA_LICENSE_MISSING", "warning", "a media row has no licence (Simple Multimedia license or rights, "
         "Audubon Core dcterms:rights or rights) and the dataset's licence is not known", False),
    Flag("IDENTIFICATION_NAME_MISSING", "warning", "an identification row names no taxon: scientificName, "
         "verbatimIdentification, scientificNameID and taxonID are all empty", False),
    Flag("MEASUREMENT_TYPE_MISSING", "warning", "a measurement or fact row has no measurementType (nor, in OBIS eMoF, "
         "measurementTypeID): what was measured is unknown", False),
    Flag("MEASUREMENT_VALUE_MISSING", "warning", "a measurement or fact row has no measurementValue (nor, in OBIS "
         "eMoF, measurementValueID)", False),
    Flag("RELATED_RESOURCE_ID_MISSING", "warning", "a resource relationship row has no relatedResourceID: it relates "
         "the record to nothing", False),
    Flag("RELATIONSHIP_OF_RESOURCE_MISSING", "warning", "a resource relationship row has neither "
         "relationshipOfResource nor relationshipOfResourceID: the kind of relationship is unknown", False),
    # referential integrity (validators/integrity.py): an extension row must point at a published core record, or
    # the archive holds an orphan (GBIF drops it; python-dwca-reader and the IPT cannot attach it)
    Flag("EXTENSION_ORPHANED", "error", "the extension row's core key (extensions.<name>.core_key) matches no "
         "core record of the source: the row would be an orphan in the archive", False),
    # an Event core (validators/events.py): eventID is the core id; parentEventID builds the event hierarchy
    Flag("EVENT_ID_MISSING", "error", "the event has no eventID: the core id of an Event core, which its "
         "occurrences and measurements point at; the IPT refuses an archive with an empty core id", False),
    Flag("EVENT_ID_NOT_UNIQUE", "error", "another event of the dataset has the same eventID (compared as the "
         "archive writes it, ignoring case, as the IPT does): the IPT refuses an archive whose core ids repeat",
         False),
    Flag("PARENT_EVENT_ID_DANGLING", "warning", "parentEventID names no event of the dataset: the event hierarchy is "
         "broken here (GBIF shows the event without its parent)", False),
    Flag("EXTENSION_CORE_REJECTED", "error", "the extension row's core record was quarantined (see the core's "
         "quarantine file): the row would be an orphan in the archive", False),
]

# DiSSCo readiness (what DiSSCo's translator would drop; validators/dissco.py): the dataset's `validation.dissco`
# policy decides whether they are errors, warnings or not reported.
_DISSCO_FLAGS = [
    Flag("DISSCO_NO_PHYSICAL_SPECIMEN_ID", "warning",
         "No physical specimen identifier (occurrenceID, catalogNumber, materialSampleID or materialEntityID): "
         "DiSSCo drops the record.", False),
    Flag("DISSCO_INSTITUTION_ID_INVALID", "warning",
         "institutionID is not a ROR (https://ror.org/0…, valid check digits) or Wikidata (https://www.wikidata.org/"
         "entity/Q…) IRI: DiSSCo cannot resolve the organisation and drops the record.", False),
    Flag("DISSCO_BASIS_OF_RECORD_NOT_SPECIMEN", "warning",
         "basisOfRecord is not a specimen type DiSSCo accepts (PreservedSpecimen, FossilSpecimen, LivingSpecimen, "
         "MaterialSample, rock/mineral/meteorite specimens, …): DiSSCo drops the record.", False),
    Flag("DISSCO_LICENSE_NOT_ACCEPTED", "warning",
         "Licence is not CC0 1.0 or CC BY 4.0 (IRI or SPDX id): DiSSCo drops the record.", False),
    Flag("DISSCO_MEDIA_LICENSE_NOT_ACCEPTED", "warning",
         "The licence of a media row (its own, else the dataset's) is not CC0 1.0 or CC BY 4.0 (IRI or SPDX id): "
         "DiSSCo drops the media object (the specimen stays). The licence is published as given: a licence is "
         "never removed or changed.", False),
]

# Families bridged through the check registry (validators/registry.py), reported only when asked for: the MIDS
# elements a record lacks and the TDWG BDQ validations/issues it fails.
_BRIDGED_FLAGS = [
    Flag("MIDS_ELEMENT_MISSING", "info", "the record lacks a MIDS information element of level 0 or 1 (TDWG MIDS)",
         False),
    Flag("BDQ_NOT_COMPLIANT", "info", "a TDWG BDQ validation answered NOT_COMPLIANT", False),
    Flag("BDQ_POTENTIAL_ISSUE", "info", "a TDWG BDQ issue answered POTENTIAL_ISSUE", False),
]

FLAGS: dict[str, Flag] = {flag.name: flag for flag in _FLAGS + _EXTENSION_FLAGS + _DISSCO_FLAGS + _BRIDGED_FLAGS}

ERROR, WARNING, INFO = "error", "warning", "info"


def severities(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Effective severity per flag: defaults, then the dataset's overrides (unknown names are rejected)."""
    result = {name: flag.severity for name, flag in FLAGS.items()}
    for name, severity in (overrides or {}).items():
        if name not in FLAGS:
            import difflib

            close = difflib.get_close_matches(name, FLAGS, n=1)
            raise KeyError(f"unknown flag '{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        result[name] = severity
    return result
