"""Dataset metadata model, eml.xml (GBIF EML profile 1.3), meta.xml and the DwC term table."""

from __future__ import annotations

import pickle
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from lxml import etree

from mobilise.metadata import (
    AGENT_ROLES,
    PRESERVATION_METHODS,
    DatasetMetadata,
    Licence,
    MetadataError,
    UpdateFrequency,
    load_metadata,
    normalise_licence,
)
from mobilise.publishers.eml import (EML_XSD, BatchCoverage, Coverage, InvalidEMLError, batch_coverage, build_eml,
                                     inferred_taxa, merge_coverage, validate_eml as validate_eml_shipped)
from mobilise.publishers.meta import ArchiveFile, build_meta_xml
from mobilise.terms import (
    OCCURRENCE_CORE_IRIS,
    OCCURRENCE_CORE_TERMS,
    UnknownTermError,
    get_term,
    is_occurrence_term,
    term_iri,
)
from tests.xsd import STANDARDS, validate_eml, validate_meta

NOW = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
PKG = "1f6e4a9c-2a35-4b1e-9b0a-3b1c2d3e4f50"
DWC = "http://rs.tdwg.org/dwc/terms/"
TRICKY = 'Tom & Jerry\'s "<herbarium>" — Zürich 北京 \x01\x08\x0c\x1f\ufffe end'
TRICKY_CLEAN = 'Tom & Jerry\'s "<herbarium>" — Zürich 北京  end'

FULL = {
    "title": TRICKY,
    "shortname": "exm-herbarium_2024",
    "abstract": "First paragraph with & and < and ünïcödé,\nhard-wrapped.\n\nSecond paragraph.",
    "language": "en",
    "metadata_language": "de",
    "licence": "CC BY 4.0",
    "creators": [
        {
            "given_name": "Ada",
            "surname": "Lovelace",
            "organisation": "Example Museum",
            "position": "Curator",
            "email": "ada@example.org",
            "phone": "+44 20 0000 0000",
            "url": "https://example.org/ada",
            "orcid": "https://orcid.org/0000-0002-1825-0097",
            "delivery_point": "1 Museum Road",
            "city": "London",
            "administrative_area": "Greater London",
            "postal_code": "SW7 5BD",
            "country": "GB",
        },
        {"organization": "Example Museum", "ror": "ror.org/02MHBDP94"},
    ],
    "contacts": [{"position": "Collections data manager", "organisation": "Example Museum", "email": "data@example.org"}],
    "metadata_providers": [{"given_name": "Grace", "surname": "Hopper"}],
    "associated_parties": [
        {"given_name": "Marie", "surname": "Curie", "role": "curator"},
        {"organisation": "Digitisation Unit", "role": "point of contact"},
    ],
    "publisher": {"name": "Example Museum", "ror": "https://ror.org/02mhbdp94", "url": "https://example.org"},
    "citation": {"text": "Example Museum (2024). Herbarium & co. Version 1.2.", "identifier": "https://doi.org/10.1234/abcd?a=1&b=2"},
    "keywords": [
        {"keywords": ["Specimen"], "thesaurus": "GBIF Dataset Type Vocabulary: http://rs.gbif.org/vocabulary/gbif/dataset_type_2015-07-10.xml"},
        {"keywords": ["Herbarium", "Plantae"]},
    ],
    "update_frequency": "as needed",
    "update_description": "Republished after each digitisation batch.",
    "purpose": "Make the herbarium discoverable.",
    "methods": {
        "steps": ["Specimens databased in Specify.", "Georeferenced with GEOLocate."],
        "quality_control": ["Coordinates checked against country boundaries."],
        "sampling": {"study_extent": "All accessions.", "sampling_description": "Not applicable."},
    },
    "collections": [
        {"collectionName": "Herbarium", "collectionIdentifier": "https://scientific-collections.gbif.org/collection/x", "parentCollectionIdentifier": "EXM"},
        {"collection_name": "Spirit collection"},
    ],
    "specimen_preservation_methods": ["driedAndPressed", "Alcohol"],
    "homepage": "https://example.org/herbarium?lang=en&view=all",
    "download_url": "https://example.org/herbarium/dwca.zip",
    "logo_url": "https://example.org/logo.png",
    "dataset_id": "doi:10.1234/ABCD",
    "doi": "https://doi.org/10.1234/ABCD",  # the same DOI: written once
    "alternate_identifiers": ["https://example.org/ipt/resource?r=exm-herbarium"],
    "additional_info": "Loans on request.",
    "introduction": "How the herbarium grew.",
    "getting_started": "Read occurrence.txt.",
    "acknowledgements": "The volunteers who transcribed the labels.",
    "project": {
        "title": "Herbarium digitisation",
        "identifier": "HD-2024",
        "personnel": [{"given_name": "Ada", "surname": "Lovelace", "orcid": "0000-0002-1825-0097",
                       "role": "principal investigator"}],
        "description": "Digitise every sheet.",
        "funding": "Example Foundation.",
        "awards": [{"funder_name": "Example Foundation", "title": "Sheets for all",
                    "funder_identifiers": ["https://ror.org/02mhbdp94", "10.13039/100000001"],
                    "award_number": "EF-1", "award_url": "https://example.org/award"}],
        "study_area_description": {"value": "Western Europe", "name": "geographic",
                                   "citable_classification_system": False},
        "design_description": "Sheets in cabinet order.",
    },
    "bibliography": ["Lovelace A. (2023). The herbarium.", {"text": "Hopper G. (2024).", "identifier": "10.1234/x"}],
    "curatorial_units": [{"unit_type": "sheets", "count": 120000, "uncertainty": 5000},
                         {"type": "jars", "from": 10, "to": 20}],
    "formation_period": "Holocene",
    "living_time_period": "Recent",
    "coverage": {"max_taxa": 50, "geographic_description": "Europe.", "taxonomic_description": "Vascular plants."},
}
MINIMAL = {
    "title": "Minimal",
    "abstract": "One paragraph.",
    "licence": "cc0",
    "creators": [{"organisation": "Example Museum"}],
    "contacts": [{"surname": "Smith"}],
}
COVERAGE = Coverage(
    west=-10.5,
    east=30.25,
    north=60,
    south=1e-7,
    begin="1890-02",
    end=2023,
    taxa=[("kingdom", "Plantae"), {"rank": "family", "name": "Rosaceae", "common_name": "Rose family"}],
)


def _eml(data: dict = FULL, **kw) -> bytes:
    kw.setdefault("package_id", PKG)
    kw.setdefault("version", "1.2")
    kw.setdefault("pub_date", date(2024, 5, 1))
    kw.setdefault("now", NOW)
    return build_eml(load_metadata(data), **kw)


# -------------------------------------------------------------------------------- eml.xml


def test_full_eml_validates_against_gbif_profile_1_3():
    tree = validate_eml(_eml(coverage=COVERAGE))
    root = tree.getroot()
    assert root.tag == "{https://eml.ecoinformatics.org/eml-2.2.0}eml"
    assert root.get("packageId") == f"{PKG}/v1.2"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "de"
    ds = root.find("dataset")
    # profile order of the dataset children that were written
    assert [c.tag for c in ds] == [
        "alternateIdentifier", "alternateIdentifier", "shortName", "title", "creator", "creator",
        "metadataProvider", "associatedParty", "associatedParty", "pubDate", "language", "abstract", "keywordSet",
        "keywordSet", "additionalInfo", "intellectualRights", "licensed", "distribution", "distribution",
        "coverage", "purpose", "introduction", "gettingStarted", "acknowledgements", "maintenance", "contact",
        "publisher", "methods", "project",
    ]
    assert [a.text for a in ds.findall("alternateIdentifier")] == [
        "https://doi.org/10.1234/ABCD", "https://example.org/ipt/resource?r=exm-herbarium"]
    assert ds.findtext("creator/userId") == "0000-0002-1825-0097"
    assert ds.find("creator/userId").get("directory") == "https://orcid.org/"
    organisation = ds.findall("creator")[1]
    assert [(u.get("directory"), u.text) for u in organisation.findall("userId")] == [("https://ror.org/", "02mhbdp94")]
    assert [(u.findtext("online/url"), u.find("online/url").get("function")) for u in ds.findall("distribution")] == [
        ("https://example.org/herbarium?lang=en&view=all", "information"),
        ("https://example.org/herbarium/dwca.zip", "download")]
    assert ds.findtext("additionalInfo/para") == "Loans on request."
    assert ds.findtext("acknowledgements/para") == "The volunteers who transcribed the labels."
    project = ds.find("project")
    assert project.get("id") == "HD-2024" and project.findtext("title") == "Herbarium digitisation"
    assert project.findtext("personnel/userId") == "0000-0002-1825-0097"
    assert project.findtext("personnel/role") == "principalInvestigator"
    assert [f.text for f in project.findall("award/funderIdentifier")] == [
        "https://ror.org/02mhbdp94", "https://doi.org/10.13039/100000001"]
    assert project.find("studyAreaDescription/descriptor").attrib == {
        "name": "geographic", "citableClassificationSystem": "false"}
    assert project.findtext("designDescription/description/para") == "Sheets in cabinet order."
    assert [r.text for r in ds.findall("associatedParty/role")] == ["curator", "pointOfContact"]
    assert ds.findtext("maintenance/maintenanceUpdateFrequency") == "asNeeded"
    assert ds.findtext("publisher/userId") == "02mhbdp94"
    assert ds.findtext("coverage/temporalCoverage/rangeOfDates/beginDate/calendarDate") == "1890-02-01"
    assert ds.findtext("coverage/temporalCoverage/rangeOfDates/endDate/calendarDate") == "2023"
    assert ds.findtext("coverage/geographicCoverage/boundingCoordinates/southBoundingCoordinate") == "0.0000001"
    assert [t.text for t in ds.findall("coverage/taxonomicCoverage/taxonomicClassification/taxonRankValue")] == [
        "Plantae", "Rosaceae"]
    gbif = root.find("additionalMetadata/metadata/gbif")
    assert gbif.findtext("dateStamp") == "2024-05-01T12:30:00+00:00"
    assert gbif.findtext("hierarchyLevel") == "dataset"
    assert gbif.find("citation").get("identifier") == "https://doi.org/10.1234/abcd?a=1&b=2"
    assert [c.findtext("collectionName") for c in gbif.findall("collection")] == ["Herbarium", "Spirit collection"]
    assert [p.text for p in gbif.findall("specimenPreservationMethod")] == ["driedAndPressed", "alcohol"]
    assert [(c.text, c.get("identifier")) for c in gbif.findall("bibliography/citation")] == [
        ("Lovelace A. (2023). The herbarium.", None), ("Hopper G. (2024).", "10.1234/x")]
    assert [c.tag for c in gbif] == [
        "dateStamp", "hierarchyLevel", "citation", "bibliography", "resourceLogoUrl", "collection", "collection",
        "formationPeriod", "specimenPreservationMethod", "specimenPreservationMethod", "livingTimePeriod",
        "jgtiCuratorialUnit", "jgtiCuratorialUnit"]
    units = gbif.findall("jgtiCuratorialUnit")
    assert [u.findtext("jgtiUnitType") for u in units] == ["sheets", "jars"]
    assert units[0].findtext("jgtiUnits") == "120000" and units[0].find("jgtiUnits").get("uncertaintyMeasure") == "5000"
    assert (units[1].findtext("jgtiUnitRange/beginRange"), units[1].findtext("jgtiUnitRange/endRange")) == ("10", "20")


def test_minimal_eml_validates_and_defaults():
    tree = validate_eml(_eml(MINIMAL, package_id="minimal", version="1.0"))
    ds = tree.getroot().find("dataset")
    assert tree.getroot().get("packageId") == "minimal/v1.0"
    assert ds.findtext("language") == "en"
    # metadata providers default to the contacts
    assert ds.findtext("metadataProvider/individualName/surName") == "Smith"
    assert ds.find("coverage") is None and ds.find("maintenance") is None


def test_licence_is_written_as_the_ipt_does():
    ds = validate_eml(_eml(MINIMAL)).getroot().find("dataset")
    para = ds.find("intellectualRights/para")
    ulink = para.find("ulink")
    assert ulink.get("url") == "http://creativecommons.org/publicdomain/zero/1.0/legalcode"
    assert ulink.findtext("citetitle") == "Public Domain (CC0 1.0)"
    assert "dedicated them to the Public Domain (CC0 1.0)" in "".join(para.itertext())
    assert ds.findtext("licensed/identifier") == "CC0-1.0"
    nc = dict(MINIMAL, licence="CC-BY-NC")
    ds = validate_eml(_eml(nc)).getroot().find("dataset")
    assert ds.find("intellectualRights/para/ulink").get("url") == "http://creativecommons.org/licenses/by-nc/4.0/legalcode"
    assert ds.findtext("licensed/identifier") == "CC-BY-NC-4.0"


def test_special_characters_survive_a_parse_round_trip():
    data = dict(FULL, abstract=[TRICKY, "x < y && y > z"], purpose="café \x00\x07 ok")
    data["contacts"] = [{"surname": "O'Brien & Søn <Ltd>", "email": "o@example.org"}]
    raw = _eml(data)
    assert b"\x01" not in raw and b"\x08" not in raw
    root = validate_eml(raw).getroot()
    ds = root.find("dataset")
    assert ds.findtext("title") == TRICKY_CLEAN
    assert [p.text for p in ds.findall("abstract/para")] == [TRICKY_CLEAN, "x < y && y > z"]
    assert ds.findtext("purpose/para") == "café  ok"
    assert ds.findtext("contact/individualName/surName") == "O'Brien & Søn <Ltd>"
    assert ds.findtext("distribution/online/url") == "https://example.org/herbarium?lang=en&view=all"
    # escaped in the bytes, not smuggled as markup
    assert b"&lt;herbarium&gt;" in raw and b"<herbarium>" not in raw


def test_coverage_partial_dates_and_single_date():
    assert Coverage(begin="2001-02", end="2004-02").end == "2004-02-29"
    assert Coverage(begin=1999, end="1999").begin == "1999"
    ds = validate_eml(_eml(MINIMAL, coverage=Coverage(begin=date(2020, 1, 5)))).getroot().find("dataset")
    assert ds.findtext("coverage/temporalCoverage/singleDateTime/calendarDate") == "2020-01-05"
    # a box across the antimeridian is allowed
    validate_eml(_eml(MINIMAL, coverage=Coverage(west=170, east=-170, north=10, south=-10)))
    with pytest.raises(ValueError, match="after end"):
        Coverage(begin="2020", end="2019-12")
    with pytest.raises(ValueError, match="all four"):
        Coverage(west=1, east=2)
    with pytest.raises(ValueError):
        Coverage(west=1, east=2, north=-5, south=5)


def test_every_eml_is_validated_and_an_invalid_one_is_refused_with_its_line():
    md = load_metadata(FULL)
    md.specimen_preservation_methods = ["   "]  # assignment bypasses the model's checks
    with pytest.raises(InvalidEMLError) as exc:
        build_eml(md, package_id=PKG, version="1.0", pub_date=date(2024, 5, 1), now=NOW)
    (line, message), = exc.value.errors
    assert "specimenPreservationMethod" in message and "pattern" in message
    raw = _eml().decode()  # the same document, valid: the element's line is where the error was reported
    assert raw.splitlines()[line - 1].strip().startswith("<specimenPreservationMethod>")
    assert f"line {line}: Element 'specimenPreservationMethod'" in str(exc.value)
    assert pickle.loads(pickle.dumps(exc.value)).errors == exc.value.errors  # crosses process boundaries whole
    with pytest.raises(InvalidEMLError, match="not well-formed"):
        validate_eml_shipped(b"<eml:eml")


def test_shipped_schemas_are_the_standards_files_and_judge_alike():
    """The product validates with its own copy (mobilise/data), byte for byte the schemas in ../shared/standards,
    and accepts and refuses the same documents as the tests' validator."""
    import mobilise

    shipped = EML_XSD.parent
    assert shipped.is_relative_to(Path(mobilise.__file__).parent)
    for name in ("eml.xsd", "eml-gbif-profile.xsd", "dc.xsd"):
        assert (shipped / name).read_bytes() == (STANDARDS / "eml-gbif-profile" / "1.3" / name).read_bytes()
    assert (shipped / "xml.xsd").read_bytes() == (STANDARDS / "gbif-schema" / "xml.xsd").read_bytes()
    good = _eml(coverage=COVERAGE)
    validate_eml(good)
    validate_eml_shipped(good)
    bad = good.replace(b"<pubDate>", b"<pubDateX>").replace(b"</pubDate>", b"</pubDateX>")
    with pytest.raises(AssertionError, match="pubDateX"):
        validate_eml(bad)
    with pytest.raises(InvalidEMLError, match="pubDateX"):
        validate_eml_shipped(bad)


def _taxa_table(rows: list[tuple]) -> pa.Table:
    names = ["kingdom", "order", "family", "countryCode", "decimalLatitude", "decimalLongitude", "eventDate"]
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


ROWS = [
    ("Animalia", "Coleoptera", "Carabidae", "BE", "50.5", "4.25", "1890-05"),
    ("Animalia", "Coleoptera", "Carabidae", "be", None, None, "1901"),
    ("Animalia", "Lepidoptera", "Nymphalidae", "CD", "-4.5", "15.25", "2001-02-03/2001-02-10"),
    ("Plantae", "Rosales", "Rosaceae", "FR", "45", "-1.5", None),
    ("Plantae", "Rosales", None, " ", "44.5", "2", "1850"),
    ("Plantae", "Rosales", "Rosaceae", None, None, None, "2023-12"),
]


def test_batch_coverage_counts_merge_to_those_of_the_whole_table():
    whole = batch_coverage(_taxa_table(ROWS))
    assert whole.records == 6 and whole.georeferenced == 4
    assert whole.taxa["family"] == {"Carabidae": 2, "Nymphalidae": 1, "Rosaceae": 2}
    assert whole.taxa["order"] == {"Coleoptera": 2, "Lepidoptera": 1, "Rosales": 3}
    assert whole.countries == {"BE": 2, "CD": 1, "FR": 1}
    assert "class" not in whole.taxa  # a term the table lacks
    parts = [batch_coverage(_taxa_table(ROWS[:2])), batch_coverage(_taxa_table(ROWS[2:3])),
             batch_coverage(_taxa_table(ROWS[3:])), BatchCoverage()]
    merged = merge_coverage(parts)
    assert merged == merge_coverage([whole])
    assert (merged.west, merged.east, merged.south, merged.north) == (-1.5, 15.25, -4.5, 50.5)
    assert (merged.begin, merged.end) == ("1850-01-01", "2023-12-31")
    assert merged.records == 6 and merged.georeferenced == 4
    assert merged.taxon_counts["kingdom"] == {"Animalia": 3, "Plantae": 3}


def test_inferred_taxa_take_the_finest_rank_that_fits():
    counts = {"family": {"A": 5, "B": 1, "C": 3}, "order": {"X": 6, "Y": 3}, "kingdom": {"K": 9}}
    assert inferred_taxa(counts, 3) == ("family", [("A", 5), ("B", 1), ("C", 3)], 3)
    assert inferred_taxa(counts, 2) == ("order", [("X", 6), ("Y", 3)], 2)
    assert inferred_taxa({"family": counts["family"]}, 2) == ("family", [("A", 5), ("C", 3)], 3)  # cut, most first
    assert inferred_taxa({}, 5) == (None, [], 0)


def test_inferred_coverage_is_written_with_its_summary():
    data = dict(MINIMAL, coverage={"max_taxa": 2, "geographic_description": "Mostly Belgium."})
    coverage = merge_coverage([batch_coverage(_taxa_table(ROWS))])
    ds = validate_eml(_eml(data, coverage=coverage)).getroot().find("dataset/coverage")
    # three families do not fit in two: the orders? three too; the kingdoms do
    assert [(t.findtext("taxonRankName"), t.findtext("taxonRankValue")) for t in
            ds.findall("taxonomicCoverage/taxonomicClassification")] == [("kingdom", "Animalia"), ("kingdom", "Plantae")]
    general = ds.findtext("taxonomicCoverage/generalTaxonomicCoverage")
    assert general == ("Inferred from the higher classification of the 6 published records: 2 kingdoms, 3 orders, "
                       "3 families. Published records per kingdom: Animalia 3; Plantae 3.")
    geographic = ds.findtext("geographicCoverage/geographicDescription")
    assert geographic == ("Mostly Belgium. Bounding box of the 4 georeferenced records of the 6 published. Published "
                          "records per country (countryCode): Belgium (BE) 2; Congo, The Democratic Republic of the "
                          "(CD) 1; France (FR) 1.")
    ds = validate_eml(_eml(MINIMAL, coverage=coverage)).getroot().find("dataset/coverage")
    assert [t.findtext("taxonRankValue") for t in ds.findall("taxonomicCoverage/taxonomicClassification")] == [
        "Carabidae", "Nymphalidae", "Rosaceae"]
    assert "1 of them name no family." in ds.findtext("taxonomicCoverage/generalTaxonomicCoverage")


# -------------------------------------------------------------------------------- metadata model


def test_new_metadata_keys_are_checked():
    def problems(**changes) -> str:
        with pytest.raises(MetadataError) as exc:
            load_metadata(dict(MINIMAL, **changes))
        return "\n".join(exc.value.problems)

    assert "metadata.creators[0]: ror '02mhbdp94' identifies an organisation" in problems(
        creators=[{"surname": "Lovelace", "ror": "02mhbdp94"}])
    assert "metadata.contacts[0].ror: ROR id" in problems(contacts=[{"organisation": "M", "ror": "02mhbdp95"}])
    assert "metadata.doi: doi 'abcd' is not a DOI" in problems(doi="abcd")
    assert "either 'count'" in problems(curatorial_units=[{"unit_type": "jars", "count": 3, "from": 1, "to": 4}])
    assert "range 'from' (5) is above 'to' (4)" in problems(curatorial_units=[{"unit_type": "jars", "from": 5, "to": 4}])
    project = {"title": "P", "personnel": [{"surname": "S", "role": "boss"}],
               "awards": [{"funder_name": "F", "title": "T", "funder_identifiers": ["https://ror.org/02mhbdp95"]}],
               "study_area_description": {"value": "v", "name": "geografic"}}
    text = problems(project=project)
    assert "metadata.project.personnel[0].role: role 'boss' is not one of" in text
    assert "metadata.project.awards[0].funder_identifiers: ROR id" in text
    assert "metadata.project.study_area_description.name: study area descriptor name 'geografic'" in text
    assert "Did you mean 'geographic'" in text
    assert "metadata.coverage.max_taxon: unknown key (did you mean 'max_taxa'?)" in problems(coverage={"max_taxon": 3})
    md = load_metadata(dict(MINIMAL, doi="doi:10.1234/X", citation="Museum (2024). Herbarium."))
    assert md.citation.identifier == "https://doi.org/10.1234/X"  # the DOI, when the citation names none
    assert md.alternate_ids == ["https://doi.org/10.1234/X"]



@pytest.mark.parametrize(
    "spelling, expected",
    [
        ("CC0", Licence.CC0), ("cc0 1.0", Licence.CC0), ("CC0-1.0", Licence.CC0),
        ("https://creativecommons.org/publicdomain/zero/1.0/legalcode", Licence.CC0),
        ("CC BY 4.0", Licence.CC_BY), ("cc-by", Licence.CC_BY), ("CC-BY-4.0", Licence.CC_BY),
        ("Creative Commons Attribution (CC-BY) 4.0 License", Licence.CC_BY),
        ("http://creativecommons.org/licenses/by/4.0/", Licence.CC_BY),
        ("CC BY-NC 4.0", Licence.CC_BY_NC), ("cc-by-nc", Licence.CC_BY_NC),
        ("Attribution-NonCommercial 4.0 International", Licence.CC_BY_NC),
    ],
)
def test_licence_spellings_are_normalised(spelling, expected):
    assert normalise_licence(spelling) is expected
    assert load_metadata(dict(MINIMAL, licence=spelling)).licence is expected


@pytest.mark.parametrize("bad, hint", [
    ("CC-BY-SA-4.0", "ShareAlike"), ("CC BY 3.0", "version 4.0"), ("MIT", "GBIF accepts only"),
])
def test_licence_error_is_clear(bad, hint):
    with pytest.raises(MetadataError) as exc:
        load_metadata(dict(MINIMAL, licence=bad))
    msg = str(exc.value)
    assert "metadata.licence" in msg and "CC0-1.0, CC-BY-4.0 or CC-BY-NC-4.0" in msg and hint in msg


def test_metadata_errors_are_readable():
    bad = dict(MINIMAL, titel="typo", shortname="my dataset!", update_frequency="sometimes")
    bad["creators"] = [{"given_name": "Ada", "surname": "L", "orcid": "0000-0002-1825-0098", "emial": "a@b.org"}]
    bad["contacts"] = [{"email": "x@example.org"}]
    with pytest.raises(MetadataError) as exc:
        load_metadata(bad)
    problems = exc.value.problems
    text = "\n".join(problems)
    assert "metadata.titel: unknown key (did you mean 'title'?)" in problems
    assert "metadata.creators[0].emial: unknown key (did you mean 'email'?)" in problems
    assert "metadata.creators[0].orcid: ORCID iD '0000-0002-1825-0098' has a wrong check digit" in text
    assert "metadata.contacts[0]: each person/organisation needs at least a surname" in text
    assert "metadata.shortname: shortname 'my dataset!' may contain only letters, digits" in text
    assert "metadata.update_frequency: update frequency 'sometimes' is not one of" in text
    assert "Value error" not in text


def test_metadata_model_rejects_unknown_keys_and_reads_config():
    with pytest.raises(MetadataError, match="no 'metadata:' section"):
        DatasetMetadata.from_config({"source": {}})
    md = DatasetMetadata.from_config({"metadata": MINIMAL, "source": {}})
    assert md.licence is Licence.CC0 and md.metadata_language == "en"
    with pytest.raises(MetadataError, match=r"collections\[0\]\.colour: unknown key \(allowed: "):
        load_metadata(dict(MINIMAL, collections=[{"collection_name": "C", "colour": "red"}]))


def test_metadata_normalisation():
    md = load_metadata(FULL)
    assert md.creators[0].orcid == "0000-0002-1825-0097"
    assert md.publisher.ror == "02mhbdp94"
    assert md.abstract == ["First paragraph with & and < and ünïcödé, hard-wrapped.", "Second paragraph."]
    assert md.update_frequency is UpdateFrequency.asNeeded
    assert md.associated_parties[1].role == "pointOfContact"
    assert md.collections[0].parent_collection_identifier == "EXM"
    assert load_metadata(dict(MINIMAL, dataset_id="1F6E4A9C-2A35-4B1E-9B0A-3B1C2D3E4F50")).dataset_id == PKG
    assert load_metadata(dict(MINIMAL, update_frequency="unkown")).update_frequency is UpdateFrequency.unknown
    assert load_metadata(dict(MINIMAL, language="ENG")).language == "eng"
    with pytest.raises(MetadataError, match="ISO 639"):
        load_metadata(dict(MINIMAL, language="xx"))
    with pytest.raises(MetadataError, match="surname"):
        load_metadata(dict(MINIMAL, contacts=[{"given_name": "Ada"}]))


def _vocab(rel: str) -> list[str]:
    root = etree.parse(str(STANDARDS / "gbif-vocabularies" / rel)).getroot()
    return [c.get("{http://purl.org/dc/terms/}identifier") for c in root.iter("{http://rs.gbif.org/thesaurus/}concept")]


def test_vocabularies_match_rs_gbif_org():
    assert [f.value for f in UpdateFrequency] == [v for v in _vocab("eml/update_frequency_2_2.xml") if v != "unkown"]
    assert list(AGENT_ROLES) == _vocab("gbif/agent_role.xml")
    assert list(PRESERVATION_METHODS) == _vocab("gbif/preservation_method.xml")


# -------------------------------------------------------------------------------- meta.xml

CORE = ArchiveFile(
    row_type=DWC + "Occurrence",
    location="occurrence.txt",
    terms=[term_iri(t) for t in ("occurrenceID", "basisOfRecord", "scientificName", "eventDate", "license")],
    defaults={term_iri("country"): "Sweden & Norway"},
)
MOF = ArchiveFile(
    row_type=DWC + "MeasurementOrFact",
    location="measurementorfact.txt",
    terms=[None, term_iri("measurementType"), term_iri("measurementValue"), term_iri("measurementUnit")],
)


def test_meta_xml_core_alone_validates():
    root = validate_meta(build_meta_xml(CORE)).getroot()
    ns = {"a": "http://rs.tdwg.org/dwc/text/"}
    assert root.get("metadata") == "eml.xml"
    core = root.find("a:core", ns)
    assert core.get("fieldsTerminatedBy") == "\\t" and core.get("linesTerminatedBy") == "\\n"
    assert core.get("fieldsEnclosedBy") == "" and core.get("ignoreHeaderLines") == "1"
    assert core.get("encoding") == "UTF-8" and core.get("rowType") == DWC + "Occurrence"
    assert core.find("a:id", ns).get("index") == "0"
    fields = core.findall("a:field", ns)
    assert [(f.get("index"), f.get("term")) for f in fields[:2]] == [("0", DWC + "occurrenceID"), ("1", DWC + "basisOfRecord")]
    assert fields[4].get("term") == "http://purl.org/dc/terms/license"
    assert fields[-1].get("default") == "Sweden & Norway" and fields[-1].get("index") is None


def test_meta_xml_core_and_extension_validates():
    root = validate_meta(build_meta_xml(CORE, [MOF])).getroot()
    ns = {"a": "http://rs.tdwg.org/dwc/text/"}
    ext = root.find("a:extension", ns)
    assert ext.find("a:coreid", ns).get("index") == "0"
    assert [f.get("index") for f in ext.findall("a:field", ns)] == ["1", "2", "3"]


def test_meta_xml_rejects_bad_descriptions():
    with pytest.raises(ValueError, match="not a term IRI"):
        build_meta_xml(ArchiveFile(row_type=DWC + "Occurrence", location="o.txt", terms=["occurrenceID"]))
    with pytest.raises(ValueError, match="more than one column"):
        build_meta_xml(ArchiveFile(row_type=DWC + "Occurrence", location="o.txt", terms=[DWC + "a", DWC + "a"]))
    with pytest.raises(ValueError, match="id_index"):
        build_meta_xml(ArchiveFile(row_type=DWC + "Occurrence", location="o.txt", terms=[DWC + "a"], id_index=3))
    with pytest.raises(ValueError, match="share a location"):
        build_meta_xml(CORE, [ArchiveFile(row_type=DWC + "X", location="occurrence.txt", terms=[None, DWC + "a"])])


def test_validation_helper_accepts_valid_and_rejects_invalid_examples():
    for name in ("meta_archive-dwc.xml", "meta_multi-extension.xml"):
        validate_meta((STANDARDS / "examples" / "valid" / name).read_bytes())
    with pytest.raises(AssertionError, match="location"):
        validate_meta((STANDARDS / "examples" / "invalid" / "meta_file-location-missing.xml").read_bytes())
    with pytest.raises(AssertionError, match="not well-formed"):
        validate_eml(b"<eml:eml")
    with pytest.raises(AssertionError, match="creator"):
        validate_eml(_eml(MINIMAL).replace(b"<creator>", b"<creatorX>").replace(b"</creator>", b"</creatorX>"))


def test_archive_reads_back_with_python_dwca_reader(tmp_path: Path):
    from dwca.read import DwCAReader

    header = ["occurrenceID", "basisOfRecord", "scientificName", "eventDate", "license"]
    row = ["occ-1", "PreservedSpecimen", "Rosa canina L.", "1890-05-01", "CC-BY-4.0"]
    path = tmp_path / "dwca.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("meta.xml", build_meta_xml(CORE, [MOF]))
        z.writestr("eml.xml", _eml(MINIMAL))
        z.writestr("occurrence.txt", "\t".join(header) + "\n" + "\t".join(row) + "\n")
        z.writestr("measurementorfact.txt", "coreid\ttype\tvalue\tunit\nocc-1\tlength\t12\tcm\n")
    with DwCAReader(str(path)) as dwca:
        rows = list(dwca)
        assert len(rows) == 1
        assert rows[0].id == "occ-1"
        assert rows[0].data[DWC + "scientificName"] == "Rosa canina L."
        assert rows[0].data[DWC + "country"] == "Sweden & Norway"
        assert rows[0].extensions[0].data[DWC + "measurementValue"] == "12"
        assert dwca.metadata.find("dataset/title").text == "Minimal"


# -------------------------------------------------------------------------------- terms


def test_term_lookup():
    assert term_iri("recordedBy") == DWC + "recordedBy"
    assert term_iri("dwc:recordedBy") == DWC + "recordedBy"
    assert term_iri("dwciri:recordedBy") == "http://rs.tdwg.org/dwc/iri/recordedBy"
    assert term_iri("license") == "http://purl.org/dc/terms/license"
    assert term_iri("modified") == "http://purl.org/dc/terms/modified"
    assert term_iri("language") == "http://purl.org/dc/elements/1.1/language"  # the core's choice
    assert term_iri("dcterms:language") == "http://purl.org/dc/terms/language"
    assert term_iri(DWC + "eventDate") == DWC + "eventDate"
    assert term_iri("Occurrence") == DWC + "Occurrence"
    assert get_term("decimalLatitude").group == "Location"


def test_term_typo_suggestions():
    with pytest.raises(KeyError) as exc:
        term_iri("scientificname")
    assert isinstance(exc.value, UnknownTermError)
    assert exc.value.suggestions[0] == "scientificName"
    assert "did you mean 'scientificName'" in str(exc.value)
    with pytest.raises(KeyError, match="decimalLatitude"):
        term_iri("decimalLatitde")
    with pytest.raises(KeyError) as exc:
        term_iri("xyzzy")
    assert exc.value.suggestions == []


def test_occurrence_core_terms():
    assert len(OCCURRENCE_CORE_TERMS) == 198
    assert OCCURRENCE_CORE_TERMS[:4] == ("type", "modified", "language", "license")
    assert list(OCCURRENCE_CORE_IRIS) == list(OCCURRENCE_CORE_TERMS)
    assert OCCURRENCE_CORE_IRIS["license"] == "http://purl.org/dc/terms/license"
    assert is_occurrence_term("catalogNumber") and is_occurrence_term("dcterms:modified")
    assert is_occurrence_term(DWC + "occurrenceID")
    assert not is_occurrence_term("dwciri:recordedBy")
    assert not is_occurrence_term("measurementType")  # MeasurementOrFact extension only
    assert not is_occurrence_term("nonsense")


def test_shipped_term_table_is_up_to_date():
    from mobilise.data import build_terms

    text = build_terms.render(build_terms.build_rows(STANDARDS))
    shipped = (Path(build_terms.__file__).parent / "dwc_terms.tsv").read_text(encoding="utf-8")
    assert shipped == text, "rerun: .venv/bin/python mobilise/data/build_terms.py"


def test_documented_yaml_example_is_valid():
    import mobilise.metadata as metadata_module
    from ruamel.yaml import YAML

    block = metadata_module.__doc__.split("Example (YAML)::\n\n", 1)[1]
    config = YAML(typ="safe").load("\n".join(line[4:] for line in block.splitlines()))
    md = DatasetMetadata.from_config(config)
    assert md.licence is Licence.CC_BY and md.creators[0].orcid == "0000-0002-1825-0097"
    validate_eml(build_eml(md, package_id=PKG, version="1.0", pub_date=date(2024, 1, 1), now=NOW))


def test_ror_ids_need_valid_check_digits():
    """A ROR id's last two digits are ISO 7064 MOD 97-10 of its 6 base32 characters (ror.readme.io): the EML
    metadata and the DiSSCo readiness check read ROR ids with the same rule (mobilise.identifiers)."""
    from mobilise.identifiers import is_ror_iri, normalise_ror

    assert normalise_ror("https://ror.org/02mhbdp94") == "02mhbdp94"
    assert normalise_ror("ROR.org/02Y22WS83") == "02y22ws83"
    with pytest.raises(ValueError, match="ROR id"):
        normalise_ror("02mhbdp95")  # one check digit off
    with pytest.raises(MetadataError, match="ROR id"):
        load_metadata(dict(MINIMAL, publisher={"name": "Example Museum", "ror": "https://ror.org/02mhbdp95"}))
    assert is_ror_iri("https://ror.org/02mhbdp94") and not is_ror_iri("https://ror.org/02mhbdp95")
