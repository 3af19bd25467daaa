"""DiSSCo readiness: the records DiSSCo's translator would drop when it harvests the archive.

DiSSCo ingests a Darwin Core Archive with ``dissco-core-translator``. Before a record becomes a Digital Specimen the
translator checks it (``AbstractDataRetrievalService.checkIfSpecimenComplies``) and silently skips it, with only a
line in the job report, when any of these fails:

- a (normalised) physical specimen identifier: ``ods:physicalSpecimenID`` is the first non-empty of
  ``dwc:occurrenceID``, ``dwc:catalogNumber``, ``dwc:materialSampleID``, ``dwc:materialEntityID`` (translator
  ``PhysicalSpecimenID.DWCA_TERMS``; the same four ``ods:physicalSpecimenID`` rows, in that order, in openDS 0.4.0
  ``sssom_dwca.tsv``; ``dwc:otherCatalogNumbers`` does not count, unlike TDWG MIDS);
- an organisation identifier that is a ROR or a Wikidata IRI: ``ods:organisationID`` comes from ``dwc:institutionID``
  and must start with ``https://ror.org/`` or ``https://www.wikidata.org/`` (``getOrganisationName`` throws
  ``OrganisationException`` otherwise, and the name is then looked up at ROR / Wikidata);
- a basisOfRecord in ``ALLOWED_BASIS_OF_RECORD`` (compared after removing spaces, upper-cased);
- a licence that ``LicenseUtils.harmoniseLicense`` maps to CC0 1.0 or CC BY 4.0 (``licenseComplies``); the licence is
  ``dcterms:license``, else ``dc:license``, ``dcterms:rights``, ``dc:rights``, else the dataset's EML licence.

:func:`dissco_issues` reports these as issue rows (same shape as ``mobilise.mappers.mapping.ISSUE_SCHEMA``) so the
pipeline can append them to its issues. Flags are named in the GBIF style; :data:`DISSCO_FLAGS` describes them for
``mobilise/flags.py`` (owned by the pipeline, which also decides whether they fail, warn or are ignored).
See docs/mids-and-dissco.md for the sources and where this module is stricter than the translator.
"""
from __future__ import annotations

import re
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.mapping import ISSUE_SCHEMA

DISSCO_FLAGS: dict[str, str] = {
    "DISSCO_NO_PHYSICAL_SPECIMEN_ID":
        "No physical specimen identifier (occurrenceID, catalogNumber, materialSampleID or materialEntityID): "
        "DiSSCo drops the record.",
    "DISSCO_INSTITUTION_ID_INVALID":
        "institutionID is not a ROR (https://ror.org/0…, valid check digits) or Wikidata (https://www.wikidata.org/"
        "entity/Q…) IRI: DiSSCo cannot resolve the organisation and drops the record.",
    "DISSCO_BASIS_OF_RECORD_NOT_SPECIMEN":
        "basisOfRecord is not a specimen type DiSSCo accepts (PreservedSpecimen, FossilSpecimen, LivingSpecimen, "
        "MaterialSample, rock/mineral/meteorite specimens, …): DiSSCo drops the record.",
    "DISSCO_LICENSE_NOT_ACCEPTED":
        "Licence is not CC0 1.0 or CC BY 4.0 (IRI or SPDX id): DiSSCo drops the record.",
}

#: dissco-core-translator's physical specimen id terms, in the order it reads them (first non-empty wins).
PHYSICAL_SPECIMEN_ID_TERMS = ("occurrenceID", "catalogNumber", "materialSampleID", "materialEntityID")

#: dissco-core-translator ``AbstractDataRetrievalService.ALLOWED_BASIS_OF_RECORD`` (values compared after
#: ``strip().replace(" ", "").toUpperCase()``). Note: MaterialEntity is not in it, "Other" is.
ACCEPTED_BASIS_OF_RECORD = frozenset({
    "PRESERVEDSPECIMEN", "PRESERVED_SPECIMEN", "FOSSIL", "OTHER", "ROCK", "MINERAL", "METEORITE", "FOSSILSPECIMEN",
    "LIVINGSPECIMEN", "MATERIALSAMPLE", "ROCKSPECIMEN", "MINERALSPECIMEN", "METEORITESPECIMEN", "HERBARIUMSHEET",
    "DRIED",
})

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ROR = re.compile(r"^https://ror\.org/(0[0-9a-hjkmnp-tv-z]{6}[0-9]{2})$")
_WIKIDATA = re.compile(r"^https://www\.wikidata\.org/(?:entity|wiki)/Q[1-9][0-9]*$")
_CC_IRI = re.compile(
    r"^https?://(?:www\.)?creativecommons\.org/(?:publicdomain/zero/1\.0|licenses/by/4\.0)"
    r"(?:/(?:legalcode(?:\.[a-z]{2,3}(?:-[a-z]+)?)?|deed(?:\.[a-z]{2,3}(?:-[a-z]+)?)?)?)?/?$")
_CC_NAMES = frozenset({
    # SPDX ids and GBIF/IPT spellings, with spaces, hyphens and underscores removed and lower-cased
    "cc0", "cc01.0", "cc010", "cc01.0universal", "cc0universal", "cc01.0universalpublicdomaindedication",
    "creativecommonszero1.0universal", "publicdomaincc01.0",
    "ccby4.0", "ccby40", "ccby4.0international", "creativecommonsattribution4.0international",
    "creativecommonsattribution4.0", "ccattribution4.0international",
})


def ror_checksum_ok(ror_id: str) -> bool:
    """ROR ids are '0' + 6 Crockford base32 characters + 2 check digits (ISO 7064 mod 97-10 of the 6 characters)."""
    number = 0
    for character in ror_id[1:7]:
        number = number * 32 + _CROCKFORD.index(character)
    return int(ror_id[7:9]) == 98 - (number * 100) % 97


def institution_id_accepted(value: str | None) -> bool:
    if value is None:
        return False
    value = value.strip()
    match = _ROR.match(value)
    if match:
        return ror_checksum_ok(match.group(1))
    return _WIKIDATA.match(value) is not None


def basis_of_record_accepted(value: str | None) -> bool:
    return value is not None and value.strip().replace(" ", "").upper() in ACCEPTED_BASIS_OF_RECORD


def license_accepted(value: str | None) -> bool:
    """CC0 1.0 or CC BY 4.0 as an IRI (http/https, www, legalcode/deed suffixes) or an SPDX-like id/name."""
    if value is None:
        return False
    value = value.strip()
    if _CC_IRI.match(value.lower()):
        return True
    return re.sub(r"[\s_\-()]", "", value.lower()) in _CC_NAMES


# --- vectorised helpers (shared with mobilise.validators.mids) -------------------------------------------------------

def text_column(table: pa.Table, name: str) -> pa.Array:
    """The column as strings, all-null when the batch does not have it."""
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    values = table[name].combine_chunks()
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    return values


def present(values: pa.Array) -> np.ndarray:
    """Not null and not blank."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    mask = pc.and_(pc.is_valid(values), pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0))
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def per_distinct(values: pa.Array, predicate: Callable[[str | None], bool]) -> np.ndarray:
    """Apply a Python predicate once per distinct value (identifiers and vocabularies repeat a lot)."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    encoded = pc.dictionary_encode(values)
    verdicts = np.array([predicate(v) for v in encoded.dictionary.to_pylist()] + [predicate(None)], dtype=bool)
    indices = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return verdicts[indices]


def physical_specimen_id_present(table: pa.Table) -> np.ndarray:
    mask = np.zeros(table.num_rows, dtype=bool)
    for term in PHYSICAL_SPECIMEN_ID_TERMS:
        if mask.all():  # every record has one already (usually from occurrenceID)
            break
        mask |= present(text_column(table, term))
    return mask


def institution_id_ok(table: pa.Table) -> np.ndarray:
    return per_distinct(text_column(table, "institutionID"), institution_id_accepted)


def basis_of_record_ok(table: pa.Table) -> np.ndarray:
    return per_distinct(text_column(table, "basisOfRecord"), basis_of_record_accepted)


def license_ok(table: pa.Table, dataset_license: str | None = None) -> np.ndarray:
    """The record's licence is accepted; a record without one falls back to the dataset (EML) licence."""
    values = text_column(table, "license")
    ok = per_distinct(values, license_accepted)
    if dataset_license is not None and license_accepted(dataset_license):
        ok |= ~present(values)
    return ok


def dissco_issues(table: pa.Table, dataset_license: str | None = None) -> pa.Table:
    """One issue row (row, term, flag, value) per record and defect that would make DiSSCo drop the record.

    ``dataset_license`` is the dataset's EML licence, which DiSSCo uses for records without their own licence.
    """
    checks = [
        ("DISSCO_NO_PHYSICAL_SPECIMEN_ID", "catalogNumber", None, physical_specimen_id_present(table)),
        ("DISSCO_INSTITUTION_ID_INVALID", "institutionID", "institutionID", institution_id_ok(table)),
        ("DISSCO_BASIS_OF_RECORD_NOT_SPECIMEN", "basisOfRecord", "basisOfRecord", basis_of_record_ok(table)),
        ("DISSCO_LICENSE_NOT_ACCEPTED", "license", "license", license_ok(table, dataset_license)),
    ]
    parts = []
    for flag, term, value_column, ok in checks:
        failing = np.flatnonzero(~ok)
        if failing.size == 0:
            continue
        if value_column is None:
            values = pa.nulls(failing.size, pa.string())
        else:
            values = text_column(table, value_column).take(pa.array(failing))
        parts.append(pa.table({"row": pa.array(failing, pa.int64()),
                               "term": pa.array([term] * failing.size, pa.string()),
                               "flag": pa.array([flag] * failing.size, pa.string()),
                               "value": values}, schema=ISSUE_SCHEMA))
    if not parts:
        return ISSUE_SCHEMA.empty_table()
    return pa.concat_tables(parts)
