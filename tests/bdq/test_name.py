"""BDQ NAME tests: the official validation rows, the local-checklist authority and the unreachable-service path.

Remote services are marked unreachable for the whole module so the results do not depend on this machine's network.
"""
from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest

from mobilise.validators.bdq import REGISTRY, Status, run_test
from mobilise.validators.bdq import name_authority
from mobilise.validators.bdq.conformance import run_conformance

STANDARDS = Path(__file__).resolve().parents[2].parent / "shared" / "standards"
BDQ = STANDARDS / "bdq"
VALIDATION_FILES = [BDQ / "TG2_test_validation_data.csv", BDQ / "TG2_test_validation_data_nonprintingchars.csv"]
CHECKLIST = Path(__file__).resolve().parent / "data" / "name_checklist.tsv"


def _name_guids() -> dict[str, str]:
    with open(BDQ / "derived_bdq_tests_offline_classification.csv", encoding="utf-8", newline="") as handle:
        return {r["GUID"]: r["Label"] for r in csv.DictReader(handle) if r["InformationElement"] == "NAME"}


NAME_GUIDS = _name_guids()
GUID = {label: guid for guid, label in NAME_GUIDS.items()}


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Every remote authority counts as unreachable; cached responses are forgotten before and after."""
    name_authority.reset_reachability()
    for base in (name_authority.GBIF_API, name_authority.WORMS_API, name_authority.IRMNG_API):
        monkeypatch.setitem(name_authority._REACHABLE, base, False)
    yield
    name_authority.reset_reachability()


def run(label: str, record: dict, **params):
    return run_test(GUID[label], record, {f"bdqval:{k}": v for k, v in params.items()})


def local(label: str, record: dict):
    return run(label, record, sourceAuthority=str(CHECKLIST))


# --- official validation data ---------------------------------------------------------------------------------------

def test_all_22_name_tests_registered_with_tg2_defaults():
    assert len(NAME_GUIDS) == 22
    assert set(NAME_GUIDS) <= set(REGISTRY)
    with open(BDQ / "TG2_tests.csv", encoding="utf-8", newline="") as handle:
        spec = {r["term_localName"]: r for r in csv.DictReader(handle)}
    for guid in NAME_GUIDS:
        test = REGISTRY[guid]
        assert test.kind == spec[guid]["Type"]
        assert set(test.acted_upon) == {t.strip() for t in spec[guid]["InformationElement:ActedUpon"].split(",")}
        if spec[guid]["Parameters"]:
            assert test.parameters["bdqval:sourceAuthority"] in spec[guid]["AuthoritiesDefaults"]
        assert test.needs_network == ("Backbone" in spec[guid]["AuthoritiesDefaults"])


def test_official_rows_have_no_failures():
    result = run_conformance(VALIDATION_FILES)
    entries = [e for e in result["tests"] if e["guid"] in NAME_GUIDS]
    assert len(entries) == 22
    failures = [(e["label"], r) for e in entries for r in e["reasons"] if r["reason"] != "remote authority unreachable"]
    assert failures == []
    assert sum(e["failed"] for e in entries) == 0
    assert sum(e["rows"] for e in entries) == 283
    assert sum(e["passed"] for e in entries) == 181
    # rows not run are only those of GBIF-backbone tests that expect the backbone's answer
    assert all(REGISTRY[e["guid"]].needs_network for e in entries if e["not_run"])


# --- local checklist authority ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("Puma concolor", "COMPLIANT"),
    ("Puma concolor (Linnaeus, 1771)", "COMPLIANT"),
    ("Puma concolor (L., 1771)", "COMPLIANT"),
    ("Felis concolor", "COMPLIANT"),  # synonyms are names of the authority too
    ("Hakea decurrens ssp. physocarpa", "COMPLIANT"),
    ("Puma concolor Smith, 1900", "NOT_COMPLIANT"),  # wrong authorship
    ("Puma concolour", "NOT_COMPLIANT"),
])
def test_checklist_scientificname_found(name, expected):
    response = local("VALIDATION_SCIENTIFICNAME_FOUND", {"dwc:scientificName": name})
    assert (response.status, response.result) == (Status.RUN_HAS_RESULT, expected)


@pytest.mark.parametrize("label, value, expected", [
    ("VALIDATION_GENUS_FOUND", "Puma", "COMPLIANT"),  # only in the genus column of its species
    ("VALIDATION_GENUS_FOUND", "Aotus", "COMPLIANT"),
    ("VALIDATION_FAMILY_FOUND", "Felidae", "COMPLIANT"),
    ("VALIDATION_ORDER_FOUND", "Lepidoptera", "COMPLIANT"),
    ("VALIDATION_CLASS_FOUND", "Magnoliopsida", "COMPLIANT"),
    ("VALIDATION_PHYLUM_FOUND", "Magnoliophyta", "COMPLIANT"),  # a synonym row at rank phylum
    ("VALIDATION_KINGDOM_FOUND", "Plantae", "COMPLIANT"),
    ("VALIDATION_KINGDOM_FOUND", "Metazoa", "NOT_COMPLIANT"),
    ("VALIDATION_FAMILY_FOUND", "Puma", "NOT_COMPLIANT"),  # a genus, not a family
])
def test_checklist_higher_taxon_found(label, value, expected):
    term = "dwc:" + label.split("_")[1].lower()
    assert local(label, {term: value}).result == expected


def test_checklist_ambiguous_homonym_and_its_disambiguation():
    ambiguous = local("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificName": "Aotus"})
    assert ambiguous.result == "NOT_COMPLIANT" and "ambiguous" in ambiguous.comment
    assert local("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificName": "Aotus", "dwc:kingdom": "Plantae"}).result \
        == "COMPLIANT"
    assert local("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificName": "Aotus Illiger, 1811"}).result == "COMPLIANT"
    assert local("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:genericName": "Aotus", "dwc:specificEpithet": "ericoides"}
                 ).result == "COMPLIANT"
    assert local("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificName": "Aotus", "dwc:kingdom": "Fungi"}).result \
        == "NOT_COMPLIANT"


def test_checklist_taxon_unambiguous_by_identifier():
    assert local("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificNameID": "checklist:4"}).result == "COMPLIANT"
    assert local("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificNameID": "checklist:999"}).result == "NOT_COMPLIANT"


def test_checklist_scientificnameid_from_taxon():
    filled = local("AMENDMENT_SCIENTIFICNAMEID_FROM_TAXON", {"dwc:scientificName": "Quercus robur L."})
    assert (filled.status, filled.result) == (Status.FILLED_IN, {"dwc:scientificNameID": "checklist:6"})
    homonym = local("AMENDMENT_SCIENTIFICNAMEID_FROM_TAXON", {"dwc:scientificName": "Aotus"})
    assert homonym.status == Status.NOT_AMENDED and "ambiguous" in homonym.comment
    resolved = local("AMENDMENT_SCIENTIFICNAMEID_FROM_TAXON", {"dwc:scientificName": "Aotus", "dwc:class": "Mammalia"})
    assert resolved.result == {"dwc:scientificNameID": "checklist:7"}


def test_checklist_scientificname_from_scientificnameid():
    filled = local("AMENDMENT_SCIENTIFICNAME_FROM_SCIENTIFICNAMEID", {"dwc:scientificNameID": "checklist:13"})
    assert (filled.status, filled.result) == (Status.FILLED_IN, {"dwc:scientificName": "Harpullia pendula F.Muell."})
    assert local("AMENDMENT_SCIENTIFICNAME_FROM_SCIENTIFICNAMEID", {"dwc:scientificNameID": "gbif:8102122"}
                 ).status == Status.NOT_AMENDED


@pytest.mark.parametrize("classification, expected", [
    ({"dwc:kingdom": "Animalia", "dwc:family": "Felidae", "dwc:genus": "Puma"}, "COMPLIANT"),
    ({"dwc:kingdom": "Plantae", "dwc:phylum": "Magnoliophyta", "dwc:family": "Myrtaceae"}, "COMPLIANT"),  # synonym
    ({"dwc:order": "Fabales", "dwc:genus": "Aotus"}, "COMPLIANT"),  # one of the two homonyms fits
    ({"dwc:order": "Primates", "dwc:genus": "Aotus"}, "COMPLIANT"),
    ({"dwc:kingdom": "Plantae", "dwc:genus": "Puma"}, "NOT_COMPLIANT"),
    ({"dwc:order": "Carnivora", "dwc:genus": "Aotus"}, "NOT_COMPLIANT"),
    ({"dwc:class": "Magnoliopsida", "dwc:family": "Felidae"}, "NOT_COMPLIANT"),
    ({"dwc:kingdom": "Animalia", "dwc:genus": "Nonexistentia"}, "NOT_COMPLIANT"),
])
def test_checklist_classification_consistent(classification, expected):
    assert local("VALIDATION_CLASSIFICATION_CONSISTENT", classification).result == expected


def test_checklist_as_csv_with_dwc_prefixed_columns(tmp_path):
    with open(CHECKLIST, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    path = tmp_path / "checklist.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([[f"dwc:{c}" for c in rows[0]], *rows[1:]])
    response = run("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificName": "Lycaena dispar"}, sourceAuthority=str(path))
    assert response.result == "COMPLIANT"


def test_missing_checklist_file_is_an_external_prerequisite(tmp_path):
    response = run("VALIDATION_GENUS_FOUND", {"dwc:genus": "Puma"}, sourceAuthority=str(tmp_path / "absent.tsv"))
    assert response.status == Status.EXTERNAL_PREREQUISITES_NOT_MET


def test_internal_prerequisites_are_checked_before_the_authority():
    response = run("VALIDATION_GENUS_FOUND", {"dwc:genus": " "}, sourceAuthority="https://invalid/invalidservice")
    assert response.status == Status.INTERNAL_PREREQUISITES_NOT_MET


# --- remote services unreachable ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("label, record", [
    ("VALIDATION_SCIENTIFICNAME_FOUND", {"dwc:scientificName": "Puma concolor"}),
    ("VALIDATION_KINGDOM_FOUND", {"dwc:kingdom": "Animalia"}),
    ("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificName": "Graphis"}),
    ("VALIDATION_CLASSIFICATION_CONSISTENT", {"dwc:kingdom": "Animalia", "dwc:genus": "Puma"}),
    ("AMENDMENT_SCIENTIFICNAMEID_FROM_TAXON", {"dwc:scientificName": "Puma concolor"}),
    ("AMENDMENT_SCIENTIFICNAME_FROM_SCIENTIFICNAMEID", {"dwc:scientificNameID": "gbif:2435099"}),
])
def test_unreachable_default_authority_gives_external_prerequisites_not_met(label, record):
    response = run(label, record)
    assert response.status == Status.EXTERNAL_PREREQUISITES_NOT_MET and response.comment


def test_unreachable_service_is_probed_once_per_process(monkeypatch):
    """A refused connection marks the service unreachable; later records do not try again."""
    closed_port = "http://127.0.0.1:9/v1"
    monkeypatch.setattr(name_authority, "GBIF_API", closed_port)
    calls = []
    real_get = httpx.get

    def counting_get(*args, **kwargs):
        calls.append(args[0])
        return real_get(*args, **kwargs)

    monkeypatch.setattr(name_authority.httpx, "get", counting_get)
    first = run("VALIDATION_GENUS_FOUND", {"dwc:genus": "Puma"})
    second = run("VALIDATION_FAMILY_FOUND", {"dwc:family": "Felidae"})
    assert first.status == second.status == Status.EXTERNAL_PREREQUISITES_NOT_MET
    assert len(calls) == 1 and name_authority._REACHABLE[closed_port] is False


def test_identifier_of_another_namespace_is_decided_without_the_service():
    """dataIDs 511/537: an identifier GBIF cannot have issued needs no lookup."""
    assert run("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificNameID": "https://id.biodiversity.org.au/112570"}
               ).result == "NOT_COMPLIANT"
    assert run("AMENDMENT_SCIENTIFICNAME_FROM_SCIENTIFICNAMEID", {"dwc:scientificNameID": "gbif:8a"}
               ).status == Status.NOT_AMENDED


def test_unsupported_authority_is_external():
    response = run("VALIDATION_SCIENTIFICNAME_FOUND", {"dwc:scientificName": "Puma concolor"},
                   sourceAuthority="https://api.biodiversity.org.au/name/check?dataset=APNI")
    assert response.status == Status.EXTERNAL_PREREQUISITES_NOT_MET


# --- offline tests: taxonRank vocabulary, polynomial, identifiers ---------------------------------------------------

@pytest.mark.parametrize("rank, standard, amended_to", [
    ("species", "COMPLIANT", None),
    ("especie", "COMPLIANT", "species"),
    ("Species", "NOT_COMPLIANT", "species"),
    (" species", "NOT_COMPLIANT", "species"),
    ("subsp.", "NOT_COMPLIANT", "subspecies"),
    ("var.", "NOT_COMPLIANT", "variety"),
    ("sic.", "NOT_COMPLIANT", None),
])
def test_taxonrank_standard_and_standardized(rank, standard, amended_to):
    assert run("VALIDATION_TAXONRANK_STANDARD", {"dwc:taxonRank": rank}).result == standard
    response = run("AMENDMENT_TAXONRANK_STANDARDIZED", {"dwc:taxonRank": rank})
    if amended_to is None:
        assert response.status == Status.NOT_AMENDED
    else:
        assert (response.status, response.result) == (Status.AMENDED, {"dwc:taxonRank": amended_to})


def test_taxonrank_local_vocabulary_file(tmp_path):
    path = tmp_path / "ranks.tsv"
    path.write_text("concept\tlabel\tlabel_type\nspecies\tspecies\tidentifier\nspecies\tsp.\tabbreviation\n",
                    encoding="utf-8")
    assert run("VALIDATION_TAXONRANK_STANDARD", {"dwc:taxonRank": "genus"}, sourceAuthority=str(path)).result \
        == "NOT_COMPLIANT"
    assert run("AMENDMENT_TAXONRANK_STANDARDIZED", {"dwc:taxonRank": "SP."}, sourceAuthority=str(path)).result \
        == {"dwc:taxonRank": "species"}


def test_polynomial_with_authorship_between_epithets():
    record = {"dwc:scientificName": "Quercus robur L. subsp. pedunculiflora (K.Koch) Menitsky",
              "dwc:genericName": "Quercus", "dwc:specificEpithet": "robur",
              "dwc:infraspecificEpithet": "pedunculiflora"}
    assert run("VALIDATION_POLYNOMIAL_CONSISTENT", record).result == "COMPLIANT"
    record["dwc:infraspecificEpithet"] = "robur"
    assert run("VALIDATION_POLYNOMIAL_CONSISTENT", record).result == "NOT_COMPLIANT"


@pytest.mark.parametrize("value, expected", [
    ("gbif:2435099", "COMPLIANT"),
    ("urn:lsid:ipni.org:names:68749-2", "COMPLIANT"),
    ("https://www.gbif.org/species/2435099", "COMPLIANT"),
    ("https://www.gbif.org/", "NOT_COMPLIANT"),
    ("dwc:genus", "NOT_COMPLIANT"),
    ("Puma concolor", "NOT_COMPLIANT"),
])
def test_scientificnameid_complete(value, expected):
    assert run("VALIDATION_SCIENTIFICNAMEID_COMPLETE", {"dwc:scientificNameID": value}).result == expected


# --- GBIF code path with canned answers (shape of api.gbif.org responses; keys from validation rows 360/363/526) ---

GRAPHIS_USAGES = {"results": [
    {"key": 2602041, "scientificName": "Graphis Adans.", "canonicalName": "Graphis", "authorship": "Adans. ",
     "rank": "GENUS", "taxonomicStatus": "ACCEPTED", "kingdom": "Fungi", "phylum": "Ascomycota",
     "class": "Lecanoromycetes", "order": "Ostropales", "family": "Graphidaceae"},
    {"key": 2300979, "scientificName": "Graphis Jeffreys, 1867", "canonicalName": "Graphis",
     "authorship": "Jeffreys, 1867", "rank": "GENUS", "taxonomicStatus": "ACCEPTED", "kingdom": "Animalia",
     "phylum": "Mollusca", "class": "Gastropoda"},
]}
HARPULLIA = {"key": 8102122, "scientificName": "Harpullia pendula F.Muell.", "canonicalName": "Harpullia pendula",
             "rank": "SPECIES", "taxonomicStatus": "ACCEPTED", "kingdom": "Plantae"}


@pytest.fixture
def canned_gbif(monkeypatch):
    def fake_get(url, params=None, **_kwargs):
        request = httpx.Request("GET", url, params=params)
        if url.endswith("/species") and (params or {}).get("name") == "Graphis":
            return httpx.Response(200, json=GRAPHIS_USAGES, request=request)
        if url.endswith("/species/8102122"):
            return httpx.Response(200, json=HARPULLIA, request=request)
        if url.endswith("/species"):
            return httpx.Response(200, json={"results": []}, request=request)
        return httpx.Response(404, request=request)

    monkeypatch.setitem(name_authority._REACHABLE, name_authority.GBIF_API, True)
    monkeypatch.setattr(name_authority.httpx, "get", fake_get)


def test_gbif_path_homonyms_and_identifiers(canned_gbif):
    assert run("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificName": "Graphis"}).result == "NOT_COMPLIANT"
    assert run("VALIDATION_TAXON_UNAMBIGUOUS", {"dwc:scientificName": "Graphis", "dwc:kingdom": "Animalia"}
               ).result == "COMPLIANT"
    assert run("AMENDMENT_SCIENTIFICNAMEID_FROM_TAXON", {"dwc:scientificName": "Graphis",
                                                         "dwc:class": "Lecanoromycetes"}
               ).result == {"dwc:scientificNameID": "gbif:2602041"}
    assert run("AMENDMENT_SCIENTIFICNAMEID_FROM_TAXON", {"dwc:scientificName": "Graphis Jeffreys, 1867"}
               ).result == {"dwc:scientificNameID": "gbif:2300979"}
    assert run("AMENDMENT_SCIENTIFICNAME_FROM_SCIENTIFICNAMEID", {"dwc:scientificNameID": "gbif:8102122"}
               ).result == {"dwc:scientificName": "Harpullia pendula F.Muell."}
    assert run("VALIDATION_GENUS_FOUND", {"dwc:genus": "Graphis"}).result == "COMPLIANT"
    assert run("VALIDATION_FAMILY_FOUND", {"dwc:family": "Graphis"}).result == "NOT_COMPLIANT"
    assert run("VALIDATION_SCIENTIFICNAME_FOUND", {"dwc:scientificName": "Capulus intort"}).result == "NOT_COMPLIANT"
