"""The fixed vocabulary of issue flags that interpreters and validators raise.

Names follow GBIF's OccurrenceIssue enum where GBIF has one, so that what a data manager sees before publishing
is what GBIF would show after indexing. Flags GBIF has no name for (it refuses such records outright or never
sees them) use the same style. ``error`` keeps a record out of the archive (it goes to quarantine with its
reasons); ``warning`` and ``info`` are reported and published. Every default can be changed per dataset under
``validation.severity`` in the config.
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


_FLAGS = [
    # identifiers and required terms: GBIF's IPT refuses to publish without these
    Flag("OCCURRENCE_ID_MISSING", "error", "occurrenceID is empty: GBIF cannot track the record across versions", False),
    Flag("OCCURRENCE_ID_NOT_UNIQUE", "error", "occurrenceID is shared with another record of this dataset", False),
    Flag("BASIS_OF_RECORD_MISSING", "error", "basisOfRecord is empty", False),
    Flag("BASIS_OF_RECORD_INVALID", "error", "basisOfRecord is not a Darwin Core basisOfRecord concept", True),
    Flag("SCIENTIFIC_NAME_MISSING", "error", "scientificName is empty", False),
    Flag("RECORDED_DATE_MISSING", "error", "eventDate is empty", False),
    # dates
    Flag("RECORDED_DATE_INVALID", "error", "eventDate could not be interpreted as a date or interval", True),
    Flag("RECORDED_DATE_UNLIKELY", "error", "eventDate lies in the future or before validation.earliest_year", True),
    Flag("IDENTIFIED_DATE_INVALID", "warning", "dateIdentified could not be interpreted", True),
    Flag("MODIFIED_DATE_INVALID", "warning", "modified could not be interpreted", True),
    # coordinates
    Flag("COORDINATE_INVALID", "warning", "a coordinate is given but could not be interpreted", True),
    Flag("COORDINATE_OUT_OF_RANGE", "error", "latitude beyond ±90 or longitude beyond ±180", True),
    Flag("ZERO_COORDINATE", "warning", "coordinates are exactly 0,0, often a stand-in for 'unknown'", True),
    Flag("COORDINATE_UNCERTAINTY_METERS_INVALID", "warning", "coordinateUncertaintyInMeters is not a positive number", True),
    # country
    Flag("COUNTRY_INVALID", "warning", "the country could not be resolved to an ISO 3166-1 alpha-2 code", True),
    # other terms
    Flag("TYPE_STATUS_INVALID", "warning", "typeStatus is not in GBIF's type status vocabulary", True),
    Flag("INDIVIDUAL_COUNT_INVALID", "warning", "individualCount is not a whole number of zero or more", True),
    Flag("ELEVATION_NON_NUMERIC", "warning", "elevation could not be read as a number of metres", True),
    Flag("ELEVATION_MIN_MAX_SWAPPED", "warning", "minimum elevation is greater than maximum elevation", True),
    Flag("VOCABULARY_UNMATCHED", "info", "value kept as given: no concept in the vocabulary matched it", False),
]

FLAGS: dict[str, Flag] = {flag.name: flag for flag in _FLAGS}

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
