"""MIDS levels (TDWG and DiSSCo variants), mids_missing and the DiSSCo readiness flags."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow as pa
import pytest

from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.validators import mids as mids_module
from mobilise.validators.dissco import DISSCO_FLAGS, dissco_issues, institution_id_accepted, license_accepted
from mobilise.validators.mids import mids_distribution, mids_levels, mids_missing

REPO = Path(__file__).resolve().parents[1]
STANDARDS = REPO.parent / "shared" / "standards"
ROR = "https://ror.org/02y22ws83"
WIKIDATA = "https://www.wikidata.org/entity/Q1542405"

# One record per step; each dict adds what the next level needs.
MIDS0 = {"catalogNumber": "RBINS-123", "institutionCode": "RBINS"}
MIDS1 = {**MIDS0, "scientificName": "Carabus auratus", "preparations": "pinned",
         "license": "http://creativecommons.org/licenses/by/4.0/legalcode", "modified": "2024-05-01"}
BIO2 = {**MIDS1, "locality": "Brussels", "decimalLatitude": "50.84", "decimalLongitude": "4.36",
        "recordedBy": "A. Collector", "eventDate": "1887-05-01", "fieldNumber": "AC-12",
        "associatedMedia": "https://media.example.org/1.jpg"}
BIO3 = {**BIO2, "institutionID": ROR, "recordedByID": "https://orcid.org/0000-0002-1825-0097",
        "scientificNameID": "urn:lsid:example.org:names:1", "identifiedByID": "https://orcid.org/0000-0002-1825-0097",
        "geodeticDatum": "EPSG:4326", "coordinateUncertaintyInMeters": "30", "coordinatePrecision": "0.01",
        "gbif:Multimedia/dcterms:identifier": "https://media.example.org/1.jpg"}
GEO1 = {**MIDS0, "verbatimIdentification": "Quartz", "materialEntityType": "hand specimen",
        "license": "CC0-1.0", "modified": "2024-05-01"}
GEO2 = {**GEO1, "country": "Belgium", "locationID": "https://sws.geonames.org/2800866/", "formation": "Rupel"}
GEO3 = {**GEO2, "institutionID": ROR, "scientificNameID": "https://www.mindat.org/min-3337.html",
        "identifiedByID": "https://orcid.org/0000-0002-1825-0097",
        "ac:Multimedia/dcterms:identifier": "https://media.example.org/q.jpg"}
PAL1 = {**GEO1, "scientificName": "Iguanodon bernissartensis", "earliestAgeOrLowestStage": "Barremian"}
PAL2 = {**PAL1, "country": "Belgium", "footprintWKT": "POINT(3.8 50.4)", "member": "Sainte-Barbe Clays"}
PAL3 = {**PAL2, "institutionID": WIKIDATA, "scientificNameID": "urn:lsid:example.org:names:2",
        "identifiedByID": "https://orcid.org/0000-0002-1825-0097", "footprintSRS": "EPSG:4326",
        "recordedByID": "https://orcid.org/0000-0002-1825-0097",
        "gbif:Multimedia/dcterms:identifier": "https://media.example.org/i.jpg"}


def table(*records: dict) -> pa.Table:
    names = sorted({name for record in records for name in record})
    return pa.table({name: pa.array([record.get(name) for record in records], pa.string()) for name in names})


def levels(*records: dict, discipline: str = "biology", variant: str = "tdwg") -> list[int]:
    return mids_levels(table(*records), discipline, variant).to_pylist()


def without(record: dict, *names: str) -> dict:
    return {k: v for k, v in record.items() if k not in names}


# --- shipped tables -------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not (STANDARDS / "mids").is_dir(), reason="standards folder not beside the repository")
@pytest.mark.parametrize("discipline", ["biology", "geology", "palaeontology"])
def test_shipped_tables_match_the_generator(discipline):
    spec = importlib.util.spec_from_file_location("build_mids", REPO / "validators" / "data" / "build_mids.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    shipped = (REPO / "validators" / "data" / f"mids_{discipline}.tsv").read_text(encoding="utf-8")
    assert shipped == build.render(discipline, STANDARDS), "run validators/data/build_mids.py"


def test_tables_have_the_mids_elements():
    names = {(e.level, e.name) for e in mids_module.tdwg_elements("biology")}
    assert {(0, "PhysicalSpecimenID"), (0, "Organization"), (1, "License"), (2, "CollectingNumber"),
            (3, "MediaID")} <= names
    palaeo = {(e.level, e.name) for e in mids_module.tdwg_elements("palaeontology")}
    assert (1, "Chronostratigraphy") in palaeo and (2, "StratigraphicContext") in palaeo
    assert not any(name == "CollectingAgentID" for _, name in
                   ((e.level, e.name) for e in mids_module.tdwg_elements("geology")))


# --- TDWG levels at each boundary -----------------------------------------------------------------------------------

@pytest.mark.parametrize("discipline, steps", [
    ("biology", [MIDS0, MIDS1, BIO2, BIO3]),
    ("geology", [MIDS0, GEO1, GEO2, GEO3]),
    ("palaeontology", [MIDS0, PAL1, PAL2, PAL3]),
])
def test_each_level_boundary(discipline, steps):
    below = without(MIDS0, "catalogNumber")
    assert levels(below, *steps, discipline=discipline) == [-1, 0, 1, 2, 3]


def test_one_missing_element_drops_the_record_to_the_level_below():
    assert levels(without(BIO3, "identifiedByID"), without(BIO2, "fieldNumber"), without(MIDS1, "modified"),
                  without(MIDS0, "institutionCode")) == [2, 1, 0, -1]
    # a record that has everything of MIDS2 but lacks a MIDS1 element is at MIDS0
    assert levels(without(BIO3, "license")) == [0]


def test_alternatives_satisfy_an_element():
    assert levels({**without(MIDS0, "catalogNumber"), "otherCatalogNumbers": "old 17"},
                  {**without(MIDS0, "catalogNumber"), "materialEntityID": "urn:uuid:1"},
                  {"occurrenceID": "x", "ownerInstitutionCode": "RBINS"},
                  {"occurrenceID": "x", "institutionID": ROR}) == [0, 0, 0, 0]
    name_alternatives = [{**without(MIDS1, "scientificName"), term: value} for term, value in
                         [("vernacularName", "gold beetle"), ("scientificNameID", "urn:x"), ("taxonKey", "4470"),
                          ("organismName", "Goldie")]]
    assert levels(*name_alternatives) == [1, 1, 1, 1]
    assert levels({**without(MIDS1, "preparations"), "materialEntityType": "whole organism"}) == [1]
    # recordNumber instead of fieldNumber, year instead of eventDate, locationID instead of coordinates
    assert levels({**without(BIO2, "fieldNumber", "eventDate", "decimalLatitude", "decimalLongitude"),
                   "recordNumber": "12", "year": "1887", "locationID": "https://sws.geonames.org/2800866/"}) == [2]


def test_intersections_need_every_term():
    half = without(BIO2, "decimalLongitude")
    assert levels(half) == [1]
    verbatim = {**without(BIO2, "locality"), "verbatimLatitude": "50°50'N", "verbatimLongitude": "4°21'E"}
    assert levels(verbatim, without(verbatim, "verbatimLatitude")) == [2, 1]
    assert levels(without(BIO3, "coordinatePrecision")) == [2]
    assert levels({**without(BIO3, "coordinatePrecision"), "footprintWKT": "POINT(4.36 50.84)",
                   "footprintSRS": "EPSG:4326"}) == [3]


def test_removed_values_do_not_count():
    assert levels({**MIDS0, "catalogNumber": "unknown:undigitized"}) == [-1]
    assert levels({**MIDS1, "scientificName": "Incertae sedis"}, {**MIDS1, "scientificName": "  "}) == [0, 0]
    assert levels({**BIO3, "scientificNameID": "0"}) == [2]
    # incertae sedis is removed for biology's scientificName only
    assert levels({**GEO1, "verbatimIdentification": None, "scientificName": "incertae sedis"},
                  discipline="geology") == [1]


def test_disciplines_differ():
    # geology and palaeontology need no collector, date, collecting number or media at MIDS2 but stratigraphy
    assert levels({**GEO2, "scientificName": "Quartz"}, discipline="biology") == [1]
    # verbatimIdentification is a Name for geology and palaeontology only
    assert levels(GEO2, discipline="biology") == [0]
    assert levels(without(GEO2, "formation"), discipline="geology") == [1]
    # palaeontology needs chronostratigraphy already at MIDS1
    assert levels(without(PAL1, "earliestAgeOrLowestStage"), discipline="palaeontology") == [0]
    assert levels(without(PAL1, "earliestAgeOrLowestStage"), discipline="geology") == [1]
    # geology has no MIDS3 CollectingAgentID, palaeontology has
    assert levels(without(GEO3, "recordedByID"), discipline="geology") == [3]
    assert levels(without(PAL3, "recordedByID"), discipline="palaeontology") == [2]
    assert mids_levels(table(MIDS0), "paleontology").to_pylist() == [0]
    with pytest.raises(ValueError):
        mids_levels(table(MIDS0), "astronomy")


def test_levels_type_and_distribution():
    result = mids_levels(table(MIDS0, MIDS1, BIO2, BIO2, BIO3, without(MIDS0, "catalogNumber")))
    assert result.type == pa.int8()
    assert mids_distribution(result) == {-1: 1, 0: 1, 1: 1, 2: 2, 3: 1}
    assert mids_distribution(mids_levels(table(MIDS0).slice(0, 0))) == {-1: 0, 0: 0, 1: 0, 2: 0, 3: 0}


# --- DiSSCo variant -------------------------------------------------------------------------------------------------

DS1 = {**MIDS1, "occurrenceID": "https://data.example.org/1", "institutionID": ROR,
       "basisOfRecord": "PreservedSpecimen", "kingdom": "Animalia"}
DS2 = {**DS1, **without(BIO2, *MIDS1)}
DS3 = {**DS2, **without(BIO3, *BIO2)}


def test_dissco_variant_levels():
    assert levels(without(DS1, "institutionID"), without(DS1, "modified"), DS1, DS2, DS3,
                  variant="dissco") == [-1, 0, 1, 2, 3]


def test_dissco_variant_is_stricter_where_dissco_is():
    cases = [
        # otherCatalogNumbers is a physical specimen id for TDWG, not for the translator
        ({**without(DS1, "catalogNumber", "occurrenceID"), "otherCatalogNumbers": "old 17"}, 1, -1),
        # institutionCode is an Organization for TDWG; DiSSCo needs a ROR/Wikidata institutionID
        ({**DS1, "institutionID": "RBINS"}, 1, -1),
        # a MaterialEntity or an observation is not ingested at all
        ({**DS1, "basisOfRecord": "MaterialEntity"}, 1, -1),
        ({**DS1, "basisOfRecord": "HumanObservation"}, 1, -1),
        # a CC BY-NC licence is a licence for TDWG, DiSSCo drops the record
        ({**DS1, "license": "http://creativecommons.org/licenses/by-nc/4.0/legalcode"}, 1, -1),
        # materialEntityType is an ObjectType for TDWG; DiSSCo reads preparations only
        ({**without(DS1, "preparations"), "materialEntityType": "pinned"}, 1, 0),
        # recordNumber is a collecting number for TDWG, DiSSCo reads fieldNumber only
        ({**without(DS2, "fieldNumber"), "recordNumber": "12"}, 2, 1),
        # DiSSCo cannot classify a record without kingdom (or a geo basisOfRecord): MIDS1 at most
        (without(DS3, "kingdom"), 3, 1),
        # TDWG's MIDS3 needs a Multimedia extension identifier; DiSSCo's does not
        (without(DS3, "gbif:Multimedia/dcterms:identifier"), 2, 3),
    ]
    records = [record for record, _, _ in cases]
    assert levels(*records) == [tdwg for _, tdwg, _ in cases]
    assert levels(*records, variant="dissco") == [dissco for _, _, dissco in cases]


def test_dissco_variant_derives_the_discipline_per_record():
    fossil = {**without(DS1, "kingdom"), "basisOfRecord": "FossilSpecimen", "country": "Belgium",
              "decimalLatitude": "50.4", "decimalLongitude": "3.8", "typeStatus": "holotype",
              "formation": "Sainte-Barbe Clays"}
    assert levels(fossil, without(fossil, "formation"), without(fossil, "typeStatus"), variant="dissco") == [2, 1, 1]
    # numeric coordinates: DiSSCo parses decimalLatitude/Longitude as numbers
    assert levels({**DS2, "decimalLatitude": "50°50'N"}, variant="dissco") == [1]
    assert levels({**DS2, "decimalLatitude": "unknown"}, variant="dissco") == [1]


def test_dissco_variant_uses_the_dataset_licence_for_records_without_one():
    record = table(without(DS1, "license"))
    assert mids_levels(record, variant="dissco").to_pylist() == [-1]
    assert mids_levels(record, variant="dissco", dataset_license="CC-BY-4.0").to_pylist() == [1]


def test_unknown_variant():
    with pytest.raises(ValueError):
        mids_levels(table(MIDS0), variant="gbif")


# --- mids_missing ---------------------------------------------------------------------------------------------------

def test_mids_missing_names_the_missing_element():
    batch = table(BIO2, without(BIO2, "fieldNumber"), without(MIDS1, "license"), without(MIDS0, "catalogNumber"))
    missing = mids_missing(batch, "biology", 2)
    assert missing.schema.names == ["row", "element", "terms"]
    by_row = {}
    for row, element, terms in zip(*(missing[name].to_pylist() for name in missing.schema.names)):
        by_row.setdefault(row, {})[element] = terms
    assert 0 not in by_row  # at MIDS2 already
    assert by_row[1] == {"CollectingNumber": "fieldNumber | recordNumber"}
    assert "License" in by_row[2] and by_row[2]["License"] == "license"
    assert "QualitativeLocation" in by_row[2] and "PhysicalSpecimenID" not in by_row[2]
    assert by_row[3]["PhysicalSpecimenID"].startswith("materialSampleID | catalogNumber")
    assert list(by_row[3])[0] == "PhysicalSpecimenID"  # most basic gap first
    assert "decimalLatitude+decimalLongitude" in by_row[2]["QuantitativeLocation"]
    assert mids_missing(batch, "biology", 0).column("row").to_pylist() == [3]


def test_mids_missing_dissco_variant():
    missing = mids_missing(table({**DS1, "basisOfRecord": "MaterialEntity"}), level=1, variant="dissco")
    assert missing["element"].to_pylist() == ["BasisOfRecord"]
    with pytest.raises(ValueError):
        mids_missing(table(MIDS0), level=4)


# --- DiSSCo readiness flags -----------------------------------------------------------------------------------------

GOOD = {"occurrenceID": "https://data.example.org/1", "catalogNumber": "RBINS-1", "institutionID": ROR,
        "basisOfRecord": "PreservedSpecimen", "license": "http://creativecommons.org/licenses/by/4.0/legalcode"}


def flags_of(*records: dict, **kwargs) -> list[tuple[int, str, str, str | None]]:
    issues = dissco_issues(table(*records), **kwargs)
    assert issues.schema.equals(ISSUE_SCHEMA)
    return sorted(zip(*(issues[name].to_pylist() for name in ("row", "flag", "term", "value"))))


def test_valid_records_raise_no_flag():
    assert flags_of(GOOD, {**GOOD, "institutionID": WIKIDATA, "license": "CC0-1.0",
                           "basisOfRecord": "FossilSpecimen"},
                    {**without(GOOD, "occurrenceID", "catalogNumber"), "materialEntityID": "urn:uuid:1",
                     "basisOfRecord": "LivingSpecimen",
                     "license": "https://creativecommons.org/publicdomain/zero/1.0/"},
                    {**without(GOOD, "occurrenceID", "catalogNumber"), "materialSampleID": "s-1",
                     "basisOfRecord": "MaterialSample", "license": "CC-BY-4.0"}) == []
    assert set(DISSCO_FLAGS) == {"DISSCO_NO_PHYSICAL_SPECIMEN_ID", "DISSCO_INSTITUTION_ID_INVALID",
                                 "DISSCO_BASIS_OF_RECORD_NOT_SPECIMEN", "DISSCO_LICENSE_NOT_ACCEPTED"}


def test_each_flag_fires_on_its_defect():
    assert flags_of(without(GOOD, "occurrenceID", "catalogNumber"),
                    {**GOOD, "catalogNumber": " ", "occurrenceID": None},
                    {**without(GOOD, "occurrenceID", "catalogNumber"), "otherCatalogNumbers": "x"}) == [
        (0, "DISSCO_NO_PHYSICAL_SPECIMEN_ID", "catalogNumber", None),
        (1, "DISSCO_NO_PHYSICAL_SPECIMEN_ID", "catalogNumber", None),
        (2, "DISSCO_NO_PHYSICAL_SPECIMEN_ID", "catalogNumber", None)]
    bad_institutions = ["https://ror.org/02y22ws84", "https://ror.org/02y22ws8", "ror.org/02y22ws83",
                        "http://ror.org/02y22ws83", "RBINS", "https://www.wikidata.org/entity/P31",
                        "https://grscicoll.org/institution/abc", None]
    found = flags_of(*[{**GOOD, "institutionID": value} for value in bad_institutions])
    assert found == [(row, "DISSCO_INSTITUTION_ID_INVALID", "institutionID", value)
                     for row, value in enumerate(bad_institutions)]
    bad_basis = ["MaterialEntity", "HumanObservation", "Occurrence", "MaterialCitation", None]
    assert [flag[3] for flag in flags_of(*[{**GOOD, "basisOfRecord": b} for b in bad_basis])] == bad_basis
    bad_licences = ["http://creativecommons.org/licenses/by-nc/4.0/legalcode", "CC-BY-SA-4.0",
                    "http://creativecommons.org/licenses/by/3.0/", "All rights reserved", None]
    found = flags_of(*[{**GOOD, "license": value} for value in bad_licences])
    assert [(flag, term, value) for _, flag, term, value in found] == [
        ("DISSCO_LICENSE_NOT_ACCEPTED", "license", value) for value in bad_licences]


def test_missing_licence_falls_back_to_the_dataset_licence():
    record = without(GOOD, "license")
    assert flags_of(record, dataset_license="CC-BY-4.0") == []
    assert flags_of(record, dataset_license="CC-BY-NC-4.0")[0][1] == "DISSCO_LICENSE_NOT_ACCEPTED"
    # a record's own licence wins over the dataset's
    assert len(flags_of({**GOOD, "license": "CC-BY-NC-4.0"}, dataset_license="CC0-1.0")) == 1


@pytest.mark.parametrize("value", [ROR, WIKIDATA, "https://www.wikidata.org/wiki/Q1542405",
                                   " https://ror.org/05gq02987 "])
def test_accepted_institution_ids(value):
    assert institution_id_accepted(value)


@pytest.mark.parametrize("value", [
    "http://creativecommons.org/publicdomain/zero/1.0/legalcode", "https://creativecommons.org/licenses/by/4.0/",
    "https://creativecommons.org/licenses/by/4.0/deed.en", "CC0_1_0", "CC_BY_4_0", "cc0", "CC BY 4.0",
    "Creative Commons Attribution 4.0 International"])
def test_accepted_licences(value):
    assert license_accepted(value)


def test_missing_columns_are_treated_as_empty():
    issues = dissco_issues(table({"scientificName": "x"}))
    assert sorted(set(issues["flag"].to_pylist())) == sorted(DISSCO_FLAGS)
    assert dissco_issues(table(GOOD).slice(0, 0)).num_rows == 0


# --- the sample dataset ---------------------------------------------------------------------------------------------

def test_sample_dataset_distribution(tmp_path, monkeypatch):
    from mobilise.extractors.stage import extract
    from mobilise.mappers.mapping import MappingPlan, map_batch
    from mobilise.samples import build_sample_database
    from mobilise.settings import load_config

    database = build_sample_database(tmp_path / "sample.sqlite", specimens=2000, seed=11)
    monkeypatch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "output"))
    config = load_config(REPO / "config" / "sample.yaml")
    plan = MappingPlan.from_config(config)
    mapped = pa.concat_tables([map_batch(batch, plan)[0] for batch in extract(config.source)])
    records = mapped.num_rows
    assert records > 0
    for variant in ("tdwg", "dissco"):
        result = mids_levels(mapped, "biology", variant)
        assert len(result) == records
        distribution = mids_distribution(result)
        assert set(distribution) == {-1, 0, 1, 2, 3}
        assert all(count >= 0 for count in distribution.values())
        assert sum(distribution.values()) == records
    tdwg = mids_distribution(mids_levels(mapped, "biology"))
    assert tdwg[3] == 0  # core-only archive: TDWG's MediaID needs a Multimedia extension
    assert tdwg[0] + tdwg[1] + tdwg[2] > 0
    issues = dissco_issues(mapped)
    assert issues.schema.equals(ISSUE_SCHEMA)
    assert set(issues["flag"].to_pylist()) <= set(DISSCO_FLAGS)
    missing = mids_missing(mapped, "biology", 2)
    assert set(missing["row"].to_pylist()) == {i for i, v in enumerate(mids_levels(mapped).to_pylist()) if v < 2}


def test_one_registry_runs_dissco_mids_and_bdq_families():
    """DiSSCo readiness is a family of registered checks; MIDS and BDQ are bridged families of the same registry,
    collected by one runner into one issues table."""
    import mobilise.validators.bdq  # noqa: F401  (registers the bdq family)
    from mobilise.validators.registry import CHECKS, CheckContext, run_checks

    table = pa.table({"occurrenceID": ["a", "b"], "basisOfRecord": ["PreservedSpecimen", "HumanObservation"],
                      "institutionID": [ROR, "https://ror.org/02y22ws84"], "license": ["CC0-1.0", None],
                      "scientificName": ["Abies alba", None], "eventDate": ["2020-01-01", "2020-13-01"]})
    dissco_checks = [c for c in CHECKS if c.family == "dissco"]
    assert {c.flag for c in dissco_checks} == set(DISSCO_FLAGS)
    assert all(c.severity == "warning" for c in dissco_checks)
    found = run_checks(table, CheckContext(), families=("dissco", "mids", "bdq"))
    by_flag = {}
    for row, flag in zip(found["row"].to_pylist(), found["flag"].to_pylist()):
        by_flag.setdefault(flag, set()).add(row)
    assert by_flag["DISSCO_INSTITUTION_ID_INVALID"] == {1}  # wrong ROR check digits
    assert by_flag["DISSCO_BASIS_OF_RECORD_NOT_SPECIMEN"] == {1}
    assert by_flag["DISSCO_LICENSE_NOT_ACCEPTED"] == {1}
    assert 1 in by_flag["MIDS_ELEMENT_MISSING"]  # no scientificName: not MIDS1
    assert 1 in by_flag["BDQ_NOT_COMPLIANT"]  # month 13
    assert run_checks(table, CheckContext(), families=("dissco",)).equals(dissco_issues(table))
