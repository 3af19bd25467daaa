"""BDQ core tests for the OTHER information element (record-level and occurrence terms), plus
ISSUE_DATAGENERALIZATIONS_NOTEMPTY and the four aggregate MEASUREs that count other tests' responses.

Authorities are the small vocabularies in ``data/*.tsv`` (see ``data/README-other.md``), loaded once by
:mod:`other_vocab`. A ``sourceAuthority`` we do not hold offline (an unknown name or URL, such as the
``https://invalid/invalidservice`` of the validation data) answers EXTERNAL_PREREQUISITES_NOT_MET, as every
specification here says.

Where the validation data and the specification disagree we follow the specification (``ExpectedResponse``):

* AMENDMENT_OCCURRENCESTATUS_ASSUMEDDEFAULT: dataIDs 566, 567 and 568 expect NOT_AMENDED for a non-empty
  dwc:occurrenceStatus, but the current specification (2024-11-13) answers INTERNAL_PREREQUISITES_NOT_MET then.
  The rows (and the Examples column) predate that clause, so they fail here.
* VALIDATION_DEGREEOFESTABLISHMENT_STANDARD: dataID 1208 expects "spreading" to be COMPLIANT, but it is not a term
  of the Degree of Establishment vocabulary (2022-02-02 nor 2025-07-10), only a word in its definitions; the row
  presumably reflects a lookup of GBIF's live vocabulary server, which we cannot reproduce offline.

Two readings of the specification text:

* VALIDATION_LICENSE_STANDARD: the regular expression printed in AuthoritiesDefaults makes "deed|legalcode"
  mandatory after the version, yet its Notes call the bare IRI ("https://creativecommons.org/licenses/by/4.0/")
  canonical and dataID 157 expects it COMPLIANT; the suffix is optional here, as the Notes intend.
* ISSUE_ANNOTATION_NOTEMPTY: there is no annotation store to query; an annotation that matches the alert criteria
  is passed in as the ``annotationAlertIf`` parameter (the validation data spells the column
  ``bdqval:annotationAlertif``) or ``annotation``. Its prose default is therefore not registered as a parameter
  value: doing so would flag every record.
"""
from __future__ import annotations

import re
from functools import lru_cache

from mobilise.validators.bdq.core import (
    COMPLIANT, NOT_COMPLIANT, NOT_ISSUE, POTENTIAL_ISSUE, Response, Status, amended, bdq_test, compliant,
    external_prerequisites_not_met, filled_in, is_empty, not_amended, not_compliant, prerequisites_not_met,
)
from mobilise.validators.bdq import other_vocab as vocab
from mobilise.validators.bdq.other_vocab import Vocabulary

# Responses are immutable and most comments repeat for every distinct input (batch.run_bdq calls a test once per
# distinct value): the constructors of responses without a proposal hand out one shared Response per comment.
compliant, not_compliant, prerequisites_not_met, external_prerequisites_not_met, not_amended = (
    lru_cache(maxsize=4096)(_make) for _make in (compliant, not_compliant, prerequisites_not_met,
                                                 external_prerequisites_not_met, not_amended))


# --- source authorities ----------------------------------------------------------------------------------------

# Names and addresses each default sourceAuthority goes by in TG2_tests.csv (AuthoritiesDefaults). The first one
# is the registered default; all of them resolve to the bundled vocabulary.
AUTHORITIES = {
    "basisOfRecord": ("Darwin Core basisOfRecord", "https://dwc.tdwg.org/terms/#dwc:basisOfRecord",
                      "https://rs.gbif.org/vocabulary/dwc/basis_of_record.xml"),
    "dcType": ("DCMI Type Vocabulary", "DCMI Type Vocabulary List of Terms", "http://purl.org/dc/terms/DCMIType",
               "https://www.dublincore.org/specifications/dublin-core/dcmi-type-vocabulary/2010-10-11/"),
    "degreeOfEstablishment": ("Degree of Establishment Controlled Vocabulary List of Terms", "https://dwc.tdwg.org/doe/",
                              "https://api.gbif.org/v1/vocabularies/DegreeOfEstablishment/concepts",
                              "https://api.gbif.org/v1/vocabularies/DegreeOfEstablishment"),
    "establishmentMeans": ("Establishment Means Controlled Vocabulary List of Terms", "https://dwc.tdwg.org/em/",
                           "https://api.gbif.org/v1/vocabularies/EstablishmentMeans/concepts",
                           "https://api.gbif.org/v1/vocabularies/EstablishmentMeans"),
    "pathway": ("Pathway Controlled Vocabulary List of Terms", "https://dwc.tdwg.org/pw/",
                "https://api.gbif.org/v1/vocabularies/Pathway/concepts", "https://api.gbif.org/v1/vocabularies/Pathway"),
    "sex": ("GBIF Sex Vocabulary", "https://api.gbif.org/v1/vocabularies/Sex",
            "https://api.gbif.org/v1/vocabularies/Sex/concepts", "dwc:sex vocabulary API"),
    "typeStatus": ("GBIF TypeStatus Vocabulary", "https://api.gbif.org/v1/vocabularies/TypeStatus",
                   "https://api.gbif.org/v1/vocabularies/TypeStatus/concepts", "dwc:typeStatus vocabulary API"),
    "occurrenceStatus": ("Regex present/absent", "^(present|absent)$"),
    "licenseStandard": ("Creative Commons 4.0 Licenses or CC0", "Creative Commons", "https://creativecommons.org/"),
    "licenseStandardized": ("Creative Commons", "Creative Commons 4.0 Licenses or CC0", "https://creativecommons.org/",
                            "Creative Commons licenses", "https://creativecommons.org/about/cclicenses/"),
    "annotationSystem": ("W3C Web Annotation", "https://www.w3.org/annotation/",
                         "https://www.w3.org/TR/annotation-vocab/", "oa:Annotation vocabulary"),
}


def _authority_key(text: str) -> str:
    return re.sub(r"^https?://", "", text.strip().casefold()).rstrip("/")


_KNOWN_AUTHORITIES = {name: frozenset(map(_authority_key, aliases)) for name, aliases in AUTHORITIES.items()}


def _authority_available(name: str, given: str | None) -> bool:
    """True when ``given`` (empty means the default) names the authority we bundle for ``name``."""
    return is_empty(given) or _authority_key(given) in _KNOWN_AUTHORITIES[name]


def _default(name: str) -> dict[str, str]:
    return {"bdqval:sourceAuthority": AUTHORITIES[name][0]}


def _unavailable(given: str) -> Response:
    return external_prerequisites_not_met(f"bdqval:sourceAuthority {given!r} is not available offline")


# --- shared shapes of test -------------------------------------------------------------------------------------

def _not_empty_validation(record, term: str) -> Response:
    if is_empty(record.get(term)):
        return not_compliant(f"{term} is bdqval:Empty")
    return compliant(f"{term} is bdqval:NotEmpty")


def _not_empty_issue(record, term: str) -> Response:
    if is_empty(record.get(term)):
        return Response(Status.RUN_HAS_RESULT, NOT_ISSUE, f"{term} is bdqval:Empty")
    return Response(Status.RUN_HAS_RESULT, POTENTIAL_ISSUE, f"{term} is bdqval:NotEmpty")


def _standard_validation(record, term: str, vocabulary: Vocabulary, authority: str, source: str | None) -> Response:
    """COMPLIANT only for an exact term: case, whitespace and non-printing characters all count."""
    if not _authority_available(authority, source):
        return _unavailable(source)
    value = record.get(term) or ""
    if is_empty(value):
        return prerequisites_not_met(f"{term} is bdqval:Empty")
    if value in vocabulary:
        return compliant(f"{term} found in the bdqval:sourceAuthority")
    return not_compliant(f"{term} {value!r} not found in the bdqval:sourceAuthority")


def _standardized_amendment(record, term: str, vocabulary: Vocabulary, authority: str,
                            source: str | None) -> Response:
    if not _authority_available(authority, source):
        return _unavailable(source)
    value = record.get(term) or ""
    if is_empty(value):
        return prerequisites_not_met(f"{term} is bdqval:Empty")
    if value in vocabulary:
        return not_amended(f"{term} is already a term of the bdqval:sourceAuthority")
    match = vocabulary.interpret(value)
    if match is None:
        return not_amended(f"{term} {value!r} cannot be unambiguously interpreted in the bdqval:sourceAuthority")
    return amended({term: match}, f"{term} {value!r} interpreted as {match!r}")


# --- completeness: NOTEMPTY validations and issues -------------------------------------------------------------

@bdq_test("ac2b7648-d5f9-48ca-9b07-8ad5879a2536", "VALIDATION_BASISOFRECORD_NOTEMPTY", "Validation",
          acted_upon=("dwc:basisOfRecord",))
def validation_basisofrecord_notempty(record, **params) -> Response:
    return _not_empty_validation(record, "dwc:basisOfRecord")


@bdq_test("374b091a-fc90-4791-91e5-c1557c649169", "VALIDATION_DCTYPE_NOTEMPTY", "Validation", acted_upon=("dc:type",))
def validation_dctype_notempty(record, **params) -> Response:
    return _not_empty_validation(record, "dc:type")


@bdq_test("15f78619-811a-4c6f-997a-a4c7888ad849", "VALIDATION_LICENSE_NOTEMPTY", "Validation",
          acted_upon=("dcterms:license",))
def validation_license_notempty(record, **params) -> Response:
    return _not_empty_validation(record, "dcterms:license")


@bdq_test("c486546c-e6e5-48a7-b286-eba7f5ca56c4", "VALIDATION_OCCURRENCEID_NOTEMPTY", "Validation",
          acted_upon=("dwc:occurrenceID",))
def validation_occurrenceid_notempty(record, **params) -> Response:
    return _not_empty_validation(record, "dwc:occurrenceID")


@bdq_test("eb4a17f6-6bea-4cdd-93dd-d5a7e9d1eccf", "VALIDATION_OCCURRENCESTATUS_NOTEMPTY", "Validation",
          acted_upon=("dwc:occurrenceStatus",))
def validation_occurrencestatus_notempty(record, **params) -> Response:
    return _not_empty_validation(record, "dwc:occurrenceStatus")


@bdq_test("acc8dff2-d8d1-483a-946d-65a02a452700", "ISSUE_ESTABLISHMENTMEANS_NOTEMPTY", "Issue",
          acted_upon=("dwc:establishmentMeans",))
def issue_establishmentmeans_notempty(record, **params) -> Response:
    """Any establishmentMeans hints that the organism may not be wild where it was recorded."""
    return _not_empty_issue(record, "dwc:establishmentMeans")


@bdq_test("13d5a10e-188e-40fd-a22c-dbaa87b91df2", "ISSUE_DATAGENERALIZATIONS_NOTEMPTY", "Issue",
          acted_upon=("dwc:dataGeneralizations",))
def issue_datageneralizations_notempty(record, **params) -> Response:
    """Generalised (e.g. obscured) data may be unfit for a use; any value raises the flag."""
    return _not_empty_issue(record, "dwc:dataGeneralizations")


@bdq_test("fecaa8a3-bbd8-4c5a-a424-13c37c4bb7b1", "ISSUE_ANNOTATION_NOTEMPTY", "Issue", acted_upon=(),
          consulted=("oa:hasTarget",), parameters={"bdqval:annotationSystem": AUTHORITIES["annotationSystem"][0]})
def issue_annotation_notempty(record, annotationSystem: str = "", **params) -> Response:
    """POTENTIAL_ISSUE when an annotation targeting the record matches the alert criteria (see module notes)."""
    if not _authority_available("annotationSystem", annotationSystem):
        return external_prerequisites_not_met(f"bdqval:annotationSystem {annotationSystem!r} is not available")
    annotations = [v for k, v in params.items() if k.casefold() in ("annotationalertif", "annotation")]
    if any(not is_empty(a) for a in annotations):
        return Response(Status.RUN_HAS_RESULT, POTENTIAL_ISSUE, "an annotation matching bdqval:annotationAlertIf exists")
    return Response(Status.RUN_HAS_RESULT, NOT_ISSUE, "no annotation matching bdqval:annotationAlertIf")


# --- conformance against vocabularies --------------------------------------------------------------------------

@bdq_test("42408a00-bf71-4892-a399-4325e2bc1fb8", "VALIDATION_BASISOFRECORD_STANDARD", "Validation",
          acted_upon=("dwc:basisOfRecord",), parameters=_default("basisOfRecord"))
def validation_basisofrecord_standard(record, sourceAuthority: str = "", **params) -> Response:
    return _standard_validation(record, "dwc:basisOfRecord", vocab.BASIS_OF_RECORD, "basisOfRecord", sourceAuthority)


@bdq_test("07c28ace-561a-476e-a9b9-3d5ad6e35933", "AMENDMENT_BASISOFRECORD_STANDARDIZED", "Amendment",
          acted_upon=("dwc:basisOfRecord",), parameters=_default("basisOfRecord"))
def amendment_basisofrecord_standardized(record, sourceAuthority: str = "", **params) -> Response:
    return _standardized_amendment(record, "dwc:basisOfRecord", vocab.BASIS_OF_RECORD, "basisOfRecord",
                                   sourceAuthority)


# dc:type tests are not parameterised (Parameters is empty), but a caller may still name an authority.
@bdq_test("cdaabb0d-a863-49d0-bc0f-738d771acba5", "VALIDATION_DCTYPE_STANDARD", "Validation", acted_upon=("dc:type",))
def validation_dctype_standard(record, sourceAuthority: str = "", **params) -> Response:
    return _standard_validation(record, "dc:type", vocab.DCMI_TYPE, "dcType", sourceAuthority)


@bdq_test("bd385eeb-44a2-464b-a503-7abe407ef904", "AMENDMENT_DCTYPE_STANDARDIZED", "Amendment",
          acted_upon=("dc:type",))
def amendment_dctype_standardized(record, sourceAuthority: str = "", **params) -> Response:
    """Also turns DCMI type IRIs (http://purl.org/dc/dcmitype/Event) into the literal dc:type expects."""
    return _standardized_amendment(record, "dc:type", vocab.DCMI_TYPE, "dcType", sourceAuthority)


@bdq_test("060e7734-607d-4737-8b2c-bfa17788bf1a", "VALIDATION_DEGREEOFESTABLISHMENT_STANDARD", "Validation",
          acted_upon=("dwc:degreeOfEstablishment",), parameters=_default("degreeOfEstablishment"))
def validation_degreeofestablishment_standard(record, sourceAuthority: str = "", **params) -> Response:
    return _standard_validation(record, "dwc:degreeOfEstablishment", vocab.DEGREE_OF_ESTABLISHMENT,
                                "degreeOfEstablishment", sourceAuthority)


@bdq_test("74ef1034-e289-4596-b5b0-cde73796697d", "AMENDMENT_DEGREEOFESTABLISHMENT_STANDARDIZED", "Amendment",
          acted_upon=("dwc:degreeOfEstablishment",), parameters=_default("degreeOfEstablishment"))
def amendment_degreeofestablishment_standardized(record, sourceAuthority: str = "", **params) -> Response:
    return _standardized_amendment(record, "dwc:degreeOfEstablishment", vocab.DEGREE_OF_ESTABLISHMENT,
                                   "degreeOfEstablishment", sourceAuthority)


@bdq_test("4eb48fdf-7299-4d63-9d08-246902e2857f", "VALIDATION_ESTABLISHMENTMEANS_STANDARD", "Validation",
          acted_upon=("dwc:establishmentMeans",), parameters=_default("establishmentMeans"))
def validation_establishmentmeans_standard(record, sourceAuthority: str = "", **params) -> Response:
    return _standard_validation(record, "dwc:establishmentMeans", vocab.ESTABLISHMENT_MEANS, "establishmentMeans",
                                sourceAuthority)


@bdq_test("15d15927-7a22-43f8-88d6-298f5eb45c4c", "AMENDMENT_ESTABLISHMENTMEANS_STANDARDIZED", "Amendment",
          acted_upon=("dwc:establishmentMeans",), parameters=_default("establishmentMeans"))
def amendment_establishmentmeans_standardized(record, sourceAuthority: str = "", **params) -> Response:
    return _standardized_amendment(record, "dwc:establishmentMeans", vocab.ESTABLISHMENT_MEANS,
                                   "establishmentMeans", sourceAuthority)


@bdq_test("5424e933-bee7-4125-839e-d8743ea69f93", "VALIDATION_PATHWAY_STANDARD", "Validation",
          acted_upon=("dwc:pathway",), parameters=_default("pathway"))
def validation_pathway_standard(record, sourceAuthority: str = "", **params) -> Response:
    return _standard_validation(record, "dwc:pathway", vocab.PATHWAY, "pathway", sourceAuthority)


@bdq_test("f9205977-f145-44f5-8cb9-e3e2e35ce908", "AMENDMENT_PATHWAY_STANDARDIZED", "Amendment",
          acted_upon=("dwc:pathway",), parameters=_default("pathway"))
def amendment_pathway_standardized(record, sourceAuthority: str = "", **params) -> Response:
    return _standardized_amendment(record, "dwc:pathway", vocab.PATHWAY, "pathway", sourceAuthority)


@bdq_test("88d8598b-3318-483d-9475-a5acf9887404", "VALIDATION_SEX_STANDARD", "Validation",
          acted_upon=("dwc:sex",), parameters=_default("sex"))
def validation_sex_standard(record, sourceAuthority: str = "", **params) -> Response:
    return _standard_validation(record, "dwc:sex", vocab.SEX, "sex", sourceAuthority)


@bdq_test("33c45ae1-e2db-462a-a59e-7169bb01c5d6", "AMENDMENT_SEX_STANDARDIZED", "Amendment",
          acted_upon=("dwc:sex",), parameters=_default("sex"))
def amendment_sex_standardized(record, sourceAuthority: str = "", **params) -> Response:
    return _standardized_amendment(record, "dwc:sex", vocab.SEX, "sex", sourceAuthority)


@bdq_test("7af25f1e-a4e2-4ff4-b161-d1f25a5c3e47", "VALIDATION_OCCURRENCESTATUS_STANDARD", "Validation",
          acted_upon=("dwc:occurrenceStatus",), parameters=_default("occurrenceStatus"))
def validation_occurrencestatus_standard(record, sourceAuthority: str = "", **params) -> Response:
    """^(present|absent)$: lower case only, as Darwin Core recommends (GBIF capitalises)."""
    return _standard_validation(record, "dwc:occurrenceStatus", vocab.OCCURRENCE_STATUS, "occurrenceStatus",
                                sourceAuthority)


@bdq_test("f8f3a093-042c-47a3-971a-a482aaaf3b75", "AMENDMENT_OCCURRENCESTATUS_STANDARDIZED", "Amendment",
          acted_upon=("dwc:occurrenceStatus",), parameters=_default("occurrenceStatus"))
def amendment_occurrencestatus_standardized(record, sourceAuthority: str = "", **params) -> Response:
    """'Present', ' absent', 1 and 0 become present/absent."""
    return _standardized_amendment(record, "dwc:occurrenceStatus", vocab.OCCURRENCE_STATUS, "occurrenceStatus",
                                   sourceAuthority)


@bdq_test("96667a0a-ae59-446a-bbb0-b7f2b0ca6cf5", "AMENDMENT_OCCURRENCESTATUS_ASSUMEDDEFAULT", "Amendment",
          acted_upon=("dwc:occurrenceStatus",), consulted=("dwc:individualCount", "dwc:organismQuantity"),
          parameters={"bdqval:defaultOccurrenceStatus": "present"})
def amendment_occurrencestatus_assumeddefault(record, defaultOccurrenceStatus: str = "present",
                                              **params) -> Response:
    """A record that says nothing about quantity is assumed to report presence."""
    if not is_empty(record.get("dwc:occurrenceStatus")):
        return prerequisites_not_met("dwc:occurrenceStatus is bdqval:NotEmpty")
    if is_empty(record.get("dwc:individualCount")) and is_empty(record.get("dwc:organismQuantity")):
        return filled_in({"dwc:occurrenceStatus": defaultOccurrenceStatus},
                         f"dwc:occurrenceStatus is bdqval:Empty; assumed {defaultOccurrenceStatus!r}")
    return not_amended("dwc:individualCount or dwc:organismQuantity has a value; no default assumed")


# --- dwc:typeStatus: the first word of each "|"-delimited portion ----------------------------------------------

def _type_status_portions(value: str) -> list[tuple[str, str]]:
    """'Holotype of Aus bus | paratype' -> [('Holotype', ' of Aus bus'), ('paratype', '')]."""
    portions = []
    for portion in value.split("|"):
        word, _, rest = portion.strip().partition(" ")
        portions.append((word, " " + rest if rest else ""))
    return portions


@bdq_test("4833a522-12eb-4fe0-b4cf-7f7a337a6048", "VALIDATION_TYPESTATUS_STANDARD", "Validation",
          acted_upon=("dwc:typeStatus",), parameters=_default("typeStatus"))
def validation_typestatus_standard(record, sourceAuthority: str = "", **params) -> Response:
    if not _authority_available("typeStatus", sourceAuthority):
        return _unavailable(sourceAuthority)
    value = record.get("dwc:typeStatus") or ""
    if is_empty(value):
        return prerequisites_not_met("dwc:typeStatus is bdqval:Empty")
    if value != value.strip():
        return not_compliant("dwc:typeStatus has leading or trailing whitespace")
    unknown = [word for word, _ in _type_status_portions(value) if word not in vocab.TYPE_STATUS]
    if unknown:
        return not_compliant(f"dwc:typeStatus {unknown!r} not found in the bdqval:sourceAuthority")
    return compliant("the first word of each portion of dwc:typeStatus is in the bdqval:sourceAuthority")


@bdq_test("b3471c65-b53e-453b-8282-abfa27bf1805", "AMENDMENT_TYPESTATUS_STANDARDIZED", "Amendment",
          acted_upon=("dwc:typeStatus",), parameters=_default("typeStatus"))
def amendment_typestatus_standardized(record, sourceAuthority: str = "", **params) -> Response:
    """Standardise only the first word of each portion; the rest ('of Aus bus Smith, 1900') is kept."""
    if not _authority_available("typeStatus", sourceAuthority):
        return _unavailable(sourceAuthority)
    value = record.get("dwc:typeStatus") or ""
    if is_empty(value):
        return prerequisites_not_met("dwc:typeStatus is bdqval:Empty")
    portions, changed = [], False
    for word, rest in _type_status_portions(value):
        match = word if word in vocab.TYPE_STATUS else vocab.TYPE_STATUS.interpret(word)
        changed |= match is not None and match != word
        portions.append((match or word) + rest)
    if not changed and value == value.strip():
        return not_amended("dwc:typeStatus cannot be unambiguously interpreted or is already standard")
    proposed = " | ".join(portions) if changed else value.strip()
    return amended({"dwc:typeStatus": proposed}, f"dwc:typeStatus {value!r} interpreted as {proposed!r}")


# --- dcterms:license --------------------------------------------------------------------------------------------

# The default authority of VALIDATION_LICENSE_STANDARD: CC 4.0 licences and CC0 1.0, optionally followed by
# deed|legalcode and a translation (see the module notes on the optional suffix).
_LANGS = "id|eu|da|de|en|es|fr|fy|hr|it|lv|lt|{mi}ni|no|pl|pt|ro|si|fi|sv|tr|cs|el|ru|uk|ar|jp|zh-hans|zh-hant|ko"
CC_LICENSE = re.compile(
    r"^https?://creativecommons\.org/(?:"
    r"licenses/(?:by|by-sa|by-nc|by-nc-sa|by-nd|by-nc-nd)/4\.0/(?:(?:deed|legalcode)(?:\.(?:" + _LANGS.format(mi="mi|")
    + r"))?)?"
    r"|publicdomain/zero/1\.0/(?:(?:deed|legalcode)(?:\.(?:" + _LANGS.format(mi="") + r"))?)?"
    r")$")


@bdq_test("3136236e-04b6-49ea-8b34-a65f25e3aba1", "VALIDATION_LICENSE_STANDARD", "Validation",
          acted_upon=("dcterms:license",), parameters=_default("licenseStandard"))
def validation_license_standard(record, sourceAuthority: str = "", **params) -> Response:
    if not _authority_available("licenseStandard", sourceAuthority):
        return _unavailable(sourceAuthority)
    value = record.get("dcterms:license") or ""
    if is_empty(value):
        return prerequisites_not_met("dcterms:license is bdqval:Empty")
    if CC_LICENSE.match(value):
        return compliant("dcterms:license is a Creative Commons 4.0 licence or CC0 IRI")
    return not_compliant(f"dcterms:license {value!r} is not in the bdqval:sourceAuthority")


@bdq_test("dcbe5bd2-42a0-4aab-bb4d-8f148c6490f8", "AMENDMENT_LICENSE_STANDARDIZED", "Amendment",
          acted_upon=("dcterms:license",), parameters=_default("licenseStandardized"))
def amendment_license_standardized(record, sourceAuthority: str = "", **params) -> Response:
    """'CC0', 'CC BY 4.0', 'creativecommons.org/licenses/by/4.0' -> the licence's legalcode IRI.
    No INTERNAL_PREREQUISITES branch in this specification: an empty licence is simply NOT_AMENDED."""
    if not _authority_available("licenseStandardized", sourceAuthority):
        return _unavailable(sourceAuthority)
    value = record.get("dcterms:license") or ""
    if is_empty(value):
        return not_amended("dcterms:license is bdqval:Empty")
    if CC_LICENSE.match(value):
        return not_amended("dcterms:license is already a Creative Commons IRI")
    match = vocab.LICENSES.interpret(value)
    if match is None:
        return not_amended(f"dcterms:license contains uninterpretable value {value!r}")
    return amended({"dcterms:license": match}, f"dcterms:license {value!r} interpreted as {match!r}")


# --- aggregate MEASUREs over the responses of other tests on one record ----------------------------------------
# Not registered: they take responses, not a record. Pass the responses of the VALIDATION tests run on one record
# (for the three validation measures) or of any tests (AMENDMENTS_PROPOSED counts AMENDED and FILLED_IN only).

MEASURE_VALIDATIONTESTS_COMPLIANT = "45fb49eb-4a1b-4b49-876f-15d5034dfc73"
MEASURE_VALIDATIONTESTS_NOTCOMPLIANT = "453844ae-9df4-439f-8e24-c52498eca84a"
MEASURE_VALIDATIONTESTS_PREREQUISITESNOTMET = "49a94636-a562-4e6b-803c-665c80628a3d"
MEASURE_AMENDMENTS_PROPOSED = "03049fe5-a575-404f-b564-ae63f5a1cf8b"

_NOT_RUN = (Status.INTERNAL_PREREQUISITES_NOT_MET, Status.EXTERNAL_PREREQUISITES_NOT_MET)


def _count(count: int, comment: str) -> Response:
    return Response(Status.RUN_HAS_RESULT, str(count), comment)


def measure_validationtests_compliant(responses: list[Response]) -> Response:
    if not responses:
        return prerequisites_not_met("no VALIDATION tests were attempted")
    return _count(sum(r.status == Status.RUN_HAS_RESULT and r.result == COMPLIANT for r in responses),
                  "number of VALIDATION tests that were COMPLIANT")


def measure_validationtests_notcompliant(responses: list[Response]) -> Response:
    if not responses:
        return prerequisites_not_met("no VALIDATION tests were attempted")
    return _count(sum(r.status == Status.RUN_HAS_RESULT and r.result == NOT_COMPLIANT for r in responses),
                  "number of VALIDATION tests that were NOT_COMPLIANT")


def measure_validationtests_prerequisitesnotmet(responses: list[Response]) -> Response:
    if not responses:
        return prerequisites_not_met("no VALIDATION tests were run")
    return _count(sum(r.status in _NOT_RUN for r in responses),
                  "number of VALIDATION tests whose prerequisites were not met")


def measure_amendments_proposed(responses: list[Response]) -> Response:
    """No prerequisite in the specification: zero responses give 0."""
    return _count(sum(r.status in (Status.AMENDED, Status.FILLED_IN) for r in responses),
                  "number of AMENDMENT tests that proposed a change (AMENDED or FILLED_IN)")
