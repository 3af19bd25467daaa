"""BDQ core tests for the NAME information element (22 single-record tests of TG2_tests.csv).

Tests that consult a taxonomic authority take it from bdqval:sourceAuthority: the GBIF Backbone Taxonomy by
default, WoRMS ("marinespecies.org"), IRMNG ("irmng.org"), or the path of a local Darwin Core checklist file
(see name_authority.py and docs/bdq-authorities-name.md). The taxonRank tests use the GBIF TaxonRank vocabulary
shipped in data/taxon_rank.tsv. Internal prerequisites are checked before the authority is consulted, as the
validation data expects (dataID 344).
"""
from __future__ import annotations

import functools
import re
from typing import Callable
from urllib.parse import urlsplit

from mobilise.validators.bdq.core import (
    Response, amended, bdq_test, compliant, external_prerequisites_not_met, filled_in, is_empty, not_amended,
    not_compliant, prerequisites_not_met,
)
from mobilise.validators.bdq.name_authority import (
    RANKS, AuthorityUnavailable, NameAuthority, Taxon, resolve_authority,
)
from mobilise.validators.bdq.name_parse import authorship_compatible, parse_name
from mobilise.validators.bdq.name_vocab import DEFAULT_RANK_AUTHORITY, resolve_rank_vocabulary

# Responses are immutable and most comments repeat for every distinct input (batch.run_bdq calls a test once per
# distinct value): the constructors of responses without a proposal hand out one shared Response per comment.
compliant, not_compliant, prerequisites_not_met, external_prerequisites_not_met, not_amended = (
    functools.lru_cache(maxsize=4096)(_make) for _make in (compliant, not_compliant, prerequisites_not_met,
                                                 external_prerequisites_not_met, not_amended))


SOURCE_AUTHORITY = "bdqval:sourceAuthority"
GBIF_BACKBONE = {SOURCE_AUTHORITY: "GBIF Backbone Taxonomy"}
GBIF_TAXON_RANK = {SOURCE_AUTHORITY: DEFAULT_RANK_AUTHORITY}

TAXON_TERMS = tuple(f"dwc:{t}" for t in (
    "taxonID", "scientificNameID", "acceptedNameUsageID", "parentNameUsageID", "originalNameUsageID",
    "taxonConceptID", "scientificName", "higherClassification", "kingdom", "phylum", "class", "order",
    "superfamily", "family", "subfamily", "tribe", "subtribe", "genus", "genericName", "subgenus",
    "infragenericEpithet", "specificEpithet", "infraspecificEpithet", "vernacularName", "cultivarEpithet"))
CLASSIFICATION_TERMS = tuple(f"dwc:{rank}" for rank in RANKS)
# Terms that identify a name by themselves (prerequisite of the unambiguous/amendment tests).
NAME_PARTS = ("dwc:scientificName", "dwc:genericName", "dwc:specificEpithet", "dwc:infraspecificEpithet",
              "dwc:scientificNameAuthorship", "dwc:cultivarEpithet")
# Terms used only to choose between homonyms.
DISAMBIGUATION_TERMS = ("dwc:taxonID", "dwc:acceptedNameUsageID", "dwc:originalNameUsageID", "dwc:taxonConceptID",
                        "dwc:higherClassification", *CLASSIFICATION_TERMS, "dwc:subgenus", "dwc:taxonRank",
                        "dwc:vernacularName")


def _value(record, term: str) -> str:
    return record.get(term) or ""


def _consults_authority(function: Callable[..., Response]) -> Callable[..., Response]:
    """Turn an unavailable or misbehaving authority into EXTERNAL_PREREQUISITES_NOT_MET: tests never raise."""

    @functools.wraps(function)
    def wrapper(record, **params) -> Response:
        try:
            return function(record, **params)
        except AuthorityUnavailable as exc:
            return external_prerequisites_not_met(f"bdqval:sourceAuthority is not available: {exc}")
        except Exception as exc:  # an authority answer of unexpected shape; not the record's fault
            return external_prerequisites_not_met(f"bdqval:sourceAuthority gave an unusable answer: {exc!r}")

    return wrapper


def _authority(source: str | None) -> NameAuthority:
    authority = resolve_authority(source)
    if authority is None:
        raise AuthorityUnavailable(f"{source!r} is not a supported taxonomic authority "
                                   "(GBIF Backbone Taxonomy, WoRMS, IRMNG or a checklist file path)")
    return authority


# --- NOTEMPTY tests (no authority) -------------------------------------------------------------------------------

def _not_empty(term: str) -> Callable[..., Response]:
    def test(record, **_params) -> Response:
        if is_empty(record.get(term)):
            return not_compliant(f"{term} is bdqval:Empty")
        return compliant(f"{term} is bdqval:NotEmpty")

    test.__name__ = f"validation_{term.split(':')[1].lower()}_notempty"
    test.__doc__ = f"COMPLIANT if {term} is bdqval:NotEmpty (any non-blank text, even 'null')."
    return test


for _guid, _label, _term in (
        ("7c4b9498-a8d9-4ebb-85f1-9f200c788595", "VALIDATION_SCIENTIFICNAME_NOTEMPTY", "dwc:scientificName"),
        ("401bf207-9a55-4dff-88a5-abcd58ad97fa", "VALIDATION_SCIENTIFICNAMEID_NOTEMPTY", "dwc:scientificNameID"),
        ("14da5b87-8304-4b2b-911d-117e3c29e890", "VALIDATION_TAXONRANK_NOTEMPTY", "dwc:taxonRank"),
        ("36ed36c9-b1a7-40b2-b5e2-0d012e772098", "VALIDATION_KINGDOM_NOTEMPTY", "dwc:kingdom"),
        ("49f1d386-5bed-43ae-bd43-deabf7df64fc", "VALIDATION_SCIENTIFICNAMEAUTHORSHIP_NOTEMPTY",
         "dwc:scientificNameAuthorship"),
        ("ff59f77d-71e9-4eb1-aac9-8bd05c50ff70", "VALIDATION_NAMEPUBLISHEDINYEAR_NOTEMPTY", "dwc:namePublishedInYear"),
):
    globals()[_label.lower()] = bdq_test(_guid, _label, "Validation", acted_upon=(_term,))(_not_empty(_term))


@bdq_test("06851339-843f-4a43-8422-4e61b9a00e75", "VALIDATION_TAXON_NOTEMPTY", "Validation", acted_upon=TAXON_TERMS)
def validation_taxon_notempty(record, **_params) -> Response:
    """COMPLIANT if any term that can identify the taxon has a value."""
    filled = [term for term in TAXON_TERMS if not is_empty(record.get(term))]
    if filled:
        return compliant(f"{', '.join(filled)} bdqval:NotEmpty")
    return not_compliant("all taxon terms are bdqval:Empty")


# --- local checks ------------------------------------------------------------------------------------------------

@bdq_test("17f03f1f-f74d-40c0-8071-2927cfc9487b", "VALIDATION_POLYNOMIAL_CONSISTENT", "Validation",
          acted_upon=("dwc:scientificName", "dwc:genericName", "dwc:specificEpithet", "dwc:infraspecificEpithet"))
def validation_polynomial_consistent(record, **_params) -> Response:
    """Do the atomic name parts repeat the words of dwc:scientificName (terminal infraspecific epithet, no marker)?"""
    name = _value(record, "dwc:scientificName")
    parts = {term: _value(record, term) for term in ("dwc:genericName", "dwc:specificEpithet",
                                                     "dwc:infraspecificEpithet")}
    if is_empty(name):
        return prerequisites_not_met("dwc:scientificName is bdqval:Empty")
    if all(is_empty(v) for v in parts.values()):
        return prerequisites_not_met("dwc:genericName, dwc:specificEpithet and dwc:infraspecificEpithet are "
                                     "bdqval:Empty")
    parsed = parse_name(name)
    in_name = {"dwc:genericName": parsed.generic, "dwc:specificEpithet": parsed.specific,
               "dwc:infraspecificEpithet": parsed.infraspecific}
    differing = [term for term, value in parts.items() if not is_empty(value) and value.strip() != in_name[term]]
    if differing:
        return not_compliant(f"dwc:scientificName {name!r} is inconsistent with {', '.join(differing)}")
    return compliant(f"dwc:scientificName {name!r} is consistent with its atomic parts")


_LSID = re.compile(r"^urn:lsid:[A-Za-z0-9][\w.\-]*:[\w.\-]+:[^\s:]+(:[^\s:]+)?$", re.I)
_URN = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9\-]{0,31}:\S+$", re.I)
_SCOPED = re.compile(r"^[A-Za-z][A-Za-z0-9._\-]*:[^\s/][^\s]*$")
# A CURIE in a term-vocabulary namespace names a term, not a name record ("dwc:scientificName", dataID 1159).
TERM_NAMESPACES = {"dwc", "dwciri", "dc", "dcterms", "bdqval", "bdq", "bdqffdq", "rdf", "rdfs", "owl", "xsd",
                   "skos", "schema"}


@bdq_test("6eeac3ed-f691-457f-a42e-eaa9c8a71ce8", "VALIDATION_SCIENTIFICNAMEID_COMPLETE", "Validation",
          acted_upon=("dwc:scientificNameID",))
def validation_scientificnameid_complete(record, **_params) -> Response:
    """Is dwc:scientificNameID shaped like an identifier (LSID, URN, scope:value, URI with a path)?"""
    value = _value(record, "dwc:scientificNameID")
    if is_empty(value):
        return prerequisites_not_met("dwc:scientificNameID is bdqval:Empty")
    if _LSID.match(value):
        return compliant("dwc:scientificNameID is a validly formed LSID")
    if _URN.match(value):
        return compliant("dwc:scientificNameID is a URN with NID and NSS")
    parts = urlsplit(value)
    if parts.scheme.lower() in ("http", "https", "ftp"):
        if parts.netloc and parts.path not in ("", "/") and not re.search(r"\s", value):
            return compliant("dwc:scientificNameID is a URI with host and path")
        return not_compliant("dwc:scientificNameID is a URI without a host or a path")
    if _SCOPED.match(value) and value.split(":", 1)[0].lower() not in TERM_NAMESPACES:
        return compliant("dwc:scientificNameID is in the form scope:value")
    return not_compliant("dwc:scientificNameID is not an LSID, URN, scope:value or URI with a path")


# --- taxonRank against the GBIF TaxonRank vocabulary (bundled) ----------------------------------------------------

@bdq_test("7bdb13a4-8a51-4ee5-be7f-20693fdb183e", "VALIDATION_TAXONRANK_STANDARD", "Validation",
          acted_upon=("dwc:taxonRank",), parameters=GBIF_TAXON_RANK)
def validation_taxonrank_standard(record, sourceAuthority: str = DEFAULT_RANK_AUTHORITY, **_params) -> Response:
    """Exact match with a rank name or label; surrounding whitespace makes it NOT_COMPLIANT (test notes)."""
    rank = _value(record, "dwc:taxonRank")
    if is_empty(rank):
        return prerequisites_not_met("dwc:taxonRank is bdqval:Empty")
    vocabulary = resolve_rank_vocabulary(sourceAuthority)
    if vocabulary is None:
        return external_prerequisites_not_met(f"bdqval:sourceAuthority {sourceAuthority!r} is not available")
    if rank in vocabulary.standard:
        return compliant(f"dwc:taxonRank {rank!r} is in the bdqval:sourceAuthority")
    return not_compliant(f"dwc:taxonRank {rank!r} is not in the bdqval:sourceAuthority")


@bdq_test("e39098df-ef46-464c-9aef-bcdeee2a88cb", "AMENDMENT_TAXONRANK_STANDARDIZED", "Amendment",
          acted_upon=("dwc:taxonRank",), parameters=GBIF_TAXON_RANK)
def amendment_taxonrank_standardized(record, sourceAuthority: str = DEFAULT_RANK_AUTHORITY, **_params) -> Response:
    """Propose the vocabulary's concept name for a label, translation or abbreviation of exactly one rank."""
    rank = _value(record, "dwc:taxonRank")
    if is_empty(rank):
        return prerequisites_not_met("dwc:taxonRank is bdqval:Empty")
    vocabulary = resolve_rank_vocabulary(sourceAuthority)
    if vocabulary is None:
        return external_prerequisites_not_met(f"bdqval:sourceAuthority {sourceAuthority!r} is not available")
    if rank in vocabulary.concepts:
        return not_amended(f"dwc:taxonRank {rank!r} is already a value of the bdqval:sourceAuthority")
    concepts = vocabulary.concepts_for(rank)
    if len(concepts) == 1:
        (concept,) = concepts
        return amended({"dwc:taxonRank": concept}, f"dwc:taxonRank {rank!r} standardized to {concept!r}")
    if concepts:
        return not_amended(f"dwc:taxonRank {rank!r} could mean any of {sorted(concepts)}")
    return not_amended(f"dwc:taxonRank {rank!r} has no match in the bdqval:sourceAuthority")


# --- higher taxa found at their rank -----------------------------------------------------------------------------

def _found_at_rank(term: str, rank: str) -> Callable[..., Response]:
    @_consults_authority
    def test(record, sourceAuthority: str | None = None, **_params) -> Response:
        value = _value(record, term)
        if is_empty(value):
            return prerequisites_not_met(f"{term} is bdqval:Empty")
        authority = _authority(sourceAuthority)
        if any(taxon.canonical == value for taxon in authority.at_rank(value, rank)):
            return compliant(f"{term} {value!r} is found at rank {rank} in {authority.label}")
        return not_compliant(f"{term} {value!r} is not found at rank {rank} in {authority.label}")

    test.__name__ = f"validation_{rank}_found"
    test.__doc__ = f"COMPLIANT if {term} is a name at rank {rank} in the source authority (any status)."
    return test


for _guid, _rank in (("125b5493-052d-4a0d-a3e1-ed5bf792689e", "kingdom"),
                     ("eaad41c5-1d46-4917-a08b-4fd1d7ff5c0f", "phylum"),
                     ("2cd6884e-3d14-4476-94f7-1191cfff309b", "class"),
                     ("81cc974d-43cc-4c0f-a5e0-afa23b455aa3", "order"),
                     ("3667556d-d8f5-454c-922b-af8af38f613c", "family"),
                     ("f2ce7d55-5b1d-426a-b00e-6d4efe3058ec", "genus")):
    _label = f"VALIDATION_{_rank.upper()}_FOUND"
    globals()[_label.lower()] = bdq_test(_guid, _label, "Validation", acted_upon=(f"dwc:{_rank}",),
                                         parameters=GBIF_BACKBONE, needs_network=True)(
        _found_at_rank(f"dwc:{_rank}", _rank))


# --- scientific name lookups ---------------------------------------------------------------------------------------

def _query(record) -> tuple[str, str]:
    """(canonical name, authorship) the record gives: from dwc:scientificName, else from its atomic parts."""
    authorship = _value(record, "dwc:scientificNameAuthorship").strip()
    name = _value(record, "dwc:scientificName")
    if not is_empty(name):
        parsed = parse_name(name)
        return parsed.canonical, parsed.authorship or authorship
    words = [_value(record, t).strip() for t in ("dwc:genericName", "dwc:specificEpithet",
                                                  "dwc:infraspecificEpithet")]
    cultivar = _value(record, "dwc:cultivarEpithet").strip()
    if cultivar and not cultivar.startswith(("'", "\u2018")):
        cultivar = f"'{cultivar}'"
    if not words[0]:
        return "", authorship
    return " ".join(w for w in (*words, cultivar) if w), authorship


def _matching_names(authority: NameAuthority, record) -> list[Taxon]:
    canonical, authorship = _query(record)
    if not canonical:
        return []
    return [t for t in authority.by_name(canonical) if authorship_compatible(authorship, t.authorship)]


def _disambiguate(authority: NameAuthority, candidates: list[Taxon], record) -> list[Taxon]:
    """Narrow homonyms with the record's other taxon terms; used only while more than one candidate is left."""
    if len(candidates) > 1 and any(t.accepted for t in candidates):
        candidates = [t for t in candidates if t.accepted]
    for term in DISAMBIGUATION_TERMS:
        value = _value(record, term).strip()
        if len(candidates) <= 1 or not value:
            continue
        field = term.split(":", 1)[1]
        if field in RANKS or field == "subgenus":
            candidates = [t for t in candidates
                          if t.classification.get(field, "").casefold() in ("", value.casefold())]
        elif field == "taxonRank":
            candidates = [t for t in candidates if t.rank == value.casefold()] or candidates
        elif field == "higherClassification":
            names = {n.strip().casefold() for n in re.split(r"[|;,]", value) if n.strip()}
            candidates = [t for t in candidates
                          if names & {n.casefold() for n in t.classification.values()}] or candidates
        elif field != "vernacularName":  # identifiers of the usage or its accepted name
            key = authority.parse_id(value)
            candidates = [t for t in candidates if key in (t.key, t.name_id)] or candidates
    return candidates


def _resolve_taxon(authority: NameAuthority, record) -> tuple[Taxon | None, str]:
    """The single usage the record's name terms point to, or None with the reason."""
    candidates = _matching_names(authority, record)
    if not candidates:
        return None, f"no match for {_query(record)[0]!r} in {authority.label}"
    candidates = _disambiguate(authority, candidates, record)
    if len(candidates) == 1:
        return candidates[0], f"matched {candidates[0].scientific_name!r} in {authority.label}"
    if not candidates:
        return None, f"no match in {authority.label} is consistent with the record's higher taxa"
    names = ", ".join(sorted({t.scientific_name for t in candidates}))
    return None, f"ambiguous in {authority.label}: {names}"


@bdq_test("3f335517-f442-4b98-b149-1e87ff16de45", "VALIDATION_SCIENTIFICNAME_FOUND", "Validation",
          acted_upon=("dwc:scientificName",), parameters=GBIF_BACKBONE, needs_network=True)
@_consults_authority
def validation_scientificname_found(record, sourceAuthority: str | None = None, **_params) -> Response:
    """COMPLIANT if the name (and its authorship, when given) exists in the authority, ambiguous or not."""
    name = _value(record, "dwc:scientificName")
    if is_empty(name):
        return prerequisites_not_met("dwc:scientificName is bdqval:Empty")
    authority = _authority(sourceAuthority)
    parsed = parse_name(name)
    matches = [t for t in (authority.by_name(parsed.canonical) if parsed.canonical else [])
               if authorship_compatible(parsed.authorship, t.authorship)]
    if matches:
        return compliant(f"dwc:scientificName {name!r} found in {authority.label}")
    return not_compliant(f"dwc:scientificName {name!r} not found in {authority.label}")


@bdq_test("4c09f127-737b-4686-82a0-7c8e30841590", "VALIDATION_TAXON_UNAMBIGUOUS", "Validation",
          acted_upon=("dwc:scientificName", "dwc:scientificNameID"),
          consulted=tuple(t for t in (*TAXON_TERMS, "dwc:scientificNameAuthorship", "dwc:taxonRank")
                          if t not in ("dwc:scientificName", "dwc:scientificNameID", "dwc:parentNameUsageID")),
          parameters=GBIF_BACKBONE, needs_network=True)
@_consults_authority
def validation_taxon_unambiguous(record, sourceAuthority: str | None = None, **_params) -> Response:
    """COMPLIANT if scientificNameID, else the name, else its atomic parts, resolve to one usage."""
    name_id = _value(record, "dwc:scientificNameID")
    if is_empty(name_id) and all(is_empty(record.get(t)) for t in NAME_PARTS):
        return prerequisites_not_met("dwc:scientificNameID and all name terms are bdqval:Empty")
    authority = _authority(sourceAuthority)
    if not is_empty(name_id):
        key = authority.parse_id(name_id)
        if key is None:  # decided without a lookup: the identifier is not one of this authority's
            return not_compliant(f"dwc:scientificNameID {name_id!r} is not an identifier of {authority.label}")
        usages = authority.by_id(key)
        if len(usages) == 1:
            return compliant(f"dwc:scientificNameID references {usages[0].scientific_name!r} in {authority.label}")
        return not_compliant(f"dwc:scientificNameID {name_id!r} references {len(usages)} records in "
                             f"{authority.label}")
    taxon, reason = _resolve_taxon(authority, record)
    return compliant(reason) if taxon else not_compliant(reason)


@bdq_test("431467d6-9b4b-48fa-a197-cd5379f5e889", "AMENDMENT_SCIENTIFICNAMEID_FROM_TAXON", "Amendment",
          acted_upon=("dwc:scientificNameID",),
          consulted=("dwc:taxonID", "dwc:acceptedNameUsageID", "dwc:originalNameUsageID", "dwc:taxonConceptID",
                     "dwc:scientificName", "dwc:higherClassification", *CLASSIFICATION_TERMS, "dwc:genericName",
                     "dwc:subgenus", "dwc:specificEpithet", "dwc:infraspecificEpithet", "dwc:cultivarEpithet",
                     "dwc:vernacularName", "dwc:scientificNameAuthorship", "dwc:taxonRank"),
          parameters=GBIF_BACKBONE, needs_network=True)
@_consults_authority
def amendment_scientificnameid_from_taxon(record, sourceAuthority: str | None = None, **_params) -> Response:
    """Fill in dwc:scientificNameID when the name terms resolve to a single usage ("gbif:{key}" for GBIF)."""
    if not is_empty(record.get("dwc:scientificNameID")):
        return prerequisites_not_met("dwc:scientificNameID is bdqval:NotEmpty")
    if all(is_empty(record.get(t)) for t in NAME_PARTS):
        return prerequisites_not_met(f"{', '.join(NAME_PARTS)} are bdqval:Empty")
    authority = _authority(sourceAuthority)
    taxon, reason = _resolve_taxon(authority, record)
    if taxon is None:
        return not_amended(reason)
    if not taxon.name_id:
        return not_amended(f"{reason}, but it has no identifier to propose")
    return filled_in({"dwc:scientificNameID": taxon.name_id}, reason)


@bdq_test("f01fb3f9-2f7e-418b-9f51-adf50f202aea", "AMENDMENT_SCIENTIFICNAME_FROM_SCIENTIFICNAMEID", "Amendment",
          acted_upon=("dwc:scientificName",), consulted=("dwc:scientificNameID",), parameters=GBIF_BACKBONE,
          needs_network=True)
@_consults_authority
def amendment_scientificname_from_scientificnameid(record, sourceAuthority: str | None = None,
                                                   **_params) -> Response:
    """Fill in dwc:scientificName from the usage the identifier references."""
    name_id = _value(record, "dwc:scientificNameID")
    if is_empty(name_id):
        return prerequisites_not_met("dwc:scientificNameID is bdqval:Empty")
    if not is_empty(record.get("dwc:scientificName")):
        return prerequisites_not_met("dwc:scientificName is bdqval:NotEmpty")
    authority = _authority(sourceAuthority)
    key = authority.parse_id(name_id)
    if key is None:  # not one of this authority's identifiers: nothing to look up
        return not_amended(f"dwc:scientificNameID {name_id!r} is not interpretable in {authority.label}")
    usages = authority.by_id(key)
    if len(usages) != 1 or not usages[0].scientific_name:
        return not_amended(f"dwc:scientificNameID {name_id!r} does not reference a single record in "
                           f"{authority.label}")
    return filled_in({"dwc:scientificName": usages[0].scientific_name},
                     f"dwc:scientificName from {name_id!r} in {authority.label}")


# --- classification ------------------------------------------------------------------------------------------------

def _same_taxon(authority: NameAuthority, rank: str, value: str, in_lineage: str) -> bool:
    """Does the record's value at this rank denote the lineage's taxon (directly or as a synonym)?"""
    if value.casefold() == in_lineage.casefold():
        return True
    return in_lineage.casefold() in {n.casefold() for n in authority.accepted_names_at_rank(value, rank)}


@bdq_test("2750c040-1d4a-4149-99fe-0512785f2d5f", "VALIDATION_CLASSIFICATION_CONSISTENT", "Validation",
          acted_upon=CLASSIFICATION_TERMS, parameters=GBIF_BACKBONE, needs_network=True)
@_consults_authority
def validation_classification_consistent(record, sourceAuthority: str | None = None, **_params) -> Response:
    """Find the lowest given rank in the authority; every higher value given must sit on one of its lineages.

    A rank the authority does not record for that lineage (e.g. tribe in the GBIF backbone) cannot contradict it.
    """
    given = {rank: record[f"dwc:{rank}"].strip() for rank in RANKS if not is_empty(record.get(f"dwc:{rank}"))}
    if not given:
        return prerequisites_not_met("all of dwc:kingdom … dwc:genus are bdqval:Empty")
    authority = _authority(sourceAuthority)
    lowest = [rank for rank in RANKS if rank in given][-1]
    matches = authority.at_rank(given[lowest], lowest)
    if not matches:
        return not_compliant(f"dwc:{lowest} {given[lowest]!r} is not found at rank {lowest} in {authority.label}")
    for taxon in matches:
        lineage = authority.lineage(taxon)
        if all(rank not in lineage or _same_taxon(authority, rank, value, lineage[rank])
               for rank, value in given.items() if rank != lowest):
            return compliant(f"the classification is consistent with {taxon.scientific_name!r} in "
                             f"{authority.label}")
    return not_compliant(f"the classification terms contradict every match of dwc:{lowest} {given[lowest]!r} in "
                         f"{authority.label}")
