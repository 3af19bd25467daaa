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

:func:`dissco_issues` runs these checks (family ``dissco`` of :mod:`mobilise.validators.registry`) and returns issue
rows (``mobilise.mappers.mapping.ISSUE_SCHEMA``) that the pipeline appends to its issues. Flags are named in the GBIF style; :data:`DISSCO_FLAGS` lists them (described in
``mobilise/flags.py``; the pipeline decides whether they fail, warn or are ignored).
See docs/mids-and-dissco.md for the sources and where this module is stricter than the translator.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from mobilise.flags import FLAGS
from mobilise.identifiers import is_ror_iri, is_wikidata_iri, open_licence
from mobilise.mappers.columns import not_blank, per_distinct_predicate, text
from mobilise.validators.registry import CheckContext, check, run_checks

DISSCO = "dissco"  # the registry family of these checks

#: The DiSSCo readiness flags of a record (defined with their descriptions in mobilise/flags.py) -> description.
DISSCO_FLAGS: dict[str, str] = {name: flag.description for name, flag in FLAGS.items()
                                if name.startswith("DISSCO_") and not name.startswith("DISSCO_MEDIA_")}
#: The DiSSCo readiness flags of a media extension row (mobilise.validators.extensions) -> description.
DISSCO_MEDIA_FLAGS: dict[str, str] = {name: flag.description for name, flag in FLAGS.items()
                                      if name.startswith("DISSCO_MEDIA_")}

#: dissco-core-translator's physical specimen id terms, in the order it reads them (first non-empty wins).
PHYSICAL_SPECIMEN_ID_TERMS = ("occurrenceID", "catalogNumber", "materialSampleID", "materialEntityID")

#: dissco-core-translator ``AbstractDataRetrievalService.ALLOWED_BASIS_OF_RECORD`` (values compared after
#: ``strip().replace(" ", "").toUpperCase()``). Note: MaterialEntity is not in it, "Other" is.
ACCEPTED_BASIS_OF_RECORD = frozenset({
    "PRESERVEDSPECIMEN", "PRESERVED_SPECIMEN", "FOSSIL", "OTHER", "ROCK", "MINERAL", "METEORITE", "FOSSILSPECIMEN",
    "LIVINGSPECIMEN", "MATERIALSAMPLE", "ROCKSPECIMEN", "MINERALSPECIMEN", "METEORITESPECIMEN", "HERBARIUMSHEET",
    "DRIED",
})

def institution_id_accepted(value: str | None) -> bool:
    """A ROR IRI (https://ror.org/0…, valid check digits) or a Wikidata item IRI, surrounding spaces ignored."""
    if value is None:
        return False
    value = value.strip()
    return is_ror_iri(value) or is_wikidata_iri(value)


def basis_of_record_accepted(value: str | None) -> bool:
    return value is not None and value.strip().replace(" ", "").upper() in ACCEPTED_BASIS_OF_RECORD


def license_accepted(value: str | None) -> bool:
    """CC0 1.0 or CC BY 4.0 as an IRI (http/https, www, legalcode/deed suffixes) or an SPDX-like id/name."""
    return open_licence(value) is not None


# --- per batch (shared with mobilise.validators.mids) ----------------------------------------------------------------

def physical_specimen_id_present(table: pa.Table) -> np.ndarray:
    mask = np.zeros(table.num_rows, dtype=bool)
    for term in PHYSICAL_SPECIMEN_ID_TERMS:
        if mask.all():  # every record has one already (usually from occurrenceID)
            break
        mask |= not_blank(text(table, term))
    return mask


def institution_id_ok(table: pa.Table) -> np.ndarray:
    return per_distinct_predicate(text(table, "institutionID"), institution_id_accepted)


def basis_of_record_ok(table: pa.Table) -> np.ndarray:
    return per_distinct_predicate(text(table, "basisOfRecord"), basis_of_record_accepted)


def license_ok(table: pa.Table, dataset_license: str | None = None) -> np.ndarray:
    """The record's licence is accepted; a record without one falls back to the dataset (EML) licence."""
    values = text(table, "license")
    ok = per_distinct_predicate(values, license_accepted)
    if dataset_license is not None and license_accepted(dataset_license):
        ok |= ~not_blank(values)
    return ok


# --- the registered checks (family "dissco") -----------------------------------------------------------------------

@check("DISSCO_NO_PHYSICAL_SPECIMEN_ID", "catalogNumber", family=DISSCO, terms=PHYSICAL_SPECIMEN_ID_TERMS,
       reports_value=False)
def no_physical_specimen_id(table: pa.Table, context: CheckContext) -> np.ndarray:
    return ~physical_specimen_id_present(table)


@check("DISSCO_INSTITUTION_ID_INVALID", "institutionID", family=DISSCO)
def institution_id_invalid(table: pa.Table, context: CheckContext) -> np.ndarray:
    return ~institution_id_ok(table)


@check("DISSCO_BASIS_OF_RECORD_NOT_SPECIMEN", "basisOfRecord", family=DISSCO)
def basis_of_record_not_specimen(table: pa.Table, context: CheckContext) -> np.ndarray:
    return ~basis_of_record_ok(table)


@check("DISSCO_LICENSE_NOT_ACCEPTED", "license", family=DISSCO)
def license_not_accepted(table: pa.Table, context: CheckContext) -> np.ndarray:
    return ~license_ok(table, context.dataset_license)


def dissco_issues(table: pa.Table, dataset_license: str | None = None) -> pa.Table:
    """One issue row (row, term, flag, value) per record and defect that would make DiSSCo drop the record: the
    checks of family ``dissco`` run by the registry.

    ``dataset_license`` is the dataset's EML licence, which DiSSCo uses for records without their own licence.
    """
    return run_checks(table, CheckContext(dataset_license=dataset_license), families=(DISSCO,))
