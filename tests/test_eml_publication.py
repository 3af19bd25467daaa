"""eml.xml as the sample's publication writes it: every part of the GBIF EML profile 1.3 the sample config gives,
the coverage inferred from the records in occurrence.txt, valid against the shipped and the standards' XSD; an
eml.xml that is not valid stops the publication before anything is written."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from mobilise.publishers.eml import InvalidEMLError
from mobilise.publishers.eml import validate_eml as validate_eml_shipped
from mobilise.publishers.publication import PublicationDirectory
from tests.conftest import sample_config
from tests.pipeline_helpers import read_core_with_pandas, run_stages
from tests.xsd import validate_eml


@pytest.fixture(scope="module")
def published(sample_db, tmp_path_factory):
    """(the run's result, eml.xml's root, occurrence.txt) of one publication of the sample."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        config = sample_config(f"sqlite:///{sample_db}", tmp_path_factory.mktemp("eml") / "output", monkeypatch)
        result = run_stages(config)
    finally:
        monkeypatch.undo()
    with zipfile.ZipFile(result.archive) as archive:
        eml = archive.read("eml.xml")
    validate_eml_shipped(eml)
    return result, validate_eml(eml).getroot(), read_core_with_pandas(result.archive)


def _per_name(text: str, heading: str) -> dict[str, int]:
    """'… Published records per family: Apidae 3; Canidae 1,204.' -> {'Apidae': 3, 'Canidae': 1204}."""
    listed = text.split(heading, 1)[1].rstrip(".")
    return {name: int(n.replace(",", "")) for name, n in (item.rsplit(" ", 1) for item in listed.split("; "))}


def test_taxonomic_coverage_lists_the_families_of_the_published_records(published):
    _, root, core = published
    taxonomic = root.find("dataset/coverage/taxonomicCoverage")
    listed = [(t.findtext("taxonRankName"), t.findtext("taxonRankValue"))
              for t in taxonomic.findall("taxonomicClassification")]
    families = core.loc[core["family"] != "", "family"]
    assert listed == [("family", name) for name in sorted(families.unique())]
    general = taxonomic.findtext("generalTaxonomicCoverage")
    assert general.startswith("Insects, vertebrates, molluscs, fossils and vascular plants. ")  # the config's
    assert _per_name(general, "Published records per family: ") == families.value_counts().to_dict()
    assert f"the {len(core):,} published records" in general
    assert f"{(core['family'] == '').sum():,} of them name no family." in general


def test_geographic_coverage_is_the_box_of_the_published_coordinates(published):
    _, root, core = published
    geographic = root.find("dataset/coverage/geographicCoverage")
    latitude = pd.to_numeric(core["decimalLatitude"].replace("", None))
    longitude = pd.to_numeric(core["decimalLongitude"].replace("", None))
    box = {side: float(geographic.findtext(f"boundingCoordinates/{side}BoundingCoordinate"))
           for side in ("west", "east", "north", "south")}
    assert box == {"west": longitude.min(), "east": longitude.max(), "north": latitude.max(), "south": latitude.min()}
    description = geographic.findtext("geographicDescription")
    assert description.startswith("Worldwide, most of the specimens from Belgium and Central Africa. ")
    assert f"Bounding box of the {latitude.notna().sum():,} georeferenced records of the {len(core):,}" in description
    countries = _per_name(description, "Published records per country (countryCode): ")
    codes = core.loc[core["countryCode"] != "", "countryCode"].value_counts().to_dict()
    assert {name[-3:-1]: n for name, n in countries.items()} == codes
    assert "Belgium (BE)" in countries


def test_temporal_coverage_spans_the_published_event_dates(published):
    _, root, core = published
    begin = root.findtext("dataset/coverage/temporalCoverage/rangeOfDates/beginDate/calendarDate")
    end = root.findtext("dataset/coverage/temporalCoverage/rangeOfDates/endDate/calendarDate")
    days = core["eventDate"].str.extract(r"^(\d{4}-\d{2}-\d{2})")[0].dropna()
    years = core["eventDate"].str.extract(r"^(\d{4})")[0].dropna()
    assert begin <= days.min() and end >= days.max()
    assert begin[:4] == years.min() and len(begin) == len(end) == 10


def test_configured_metadata_is_written(published):
    _, root, _ = published
    ds = root.find("dataset")
    assert [a.text for a in ds.findall("alternateIdentifier")] == [
        "https://doi.org/10.5072/mobilise-sample", "6f2a4c1e-8d3b-4f5a-9c7e-2b1d0e9f8a76",
        "https://data.example.org/mobilise-sample"]
    ids = {(u.get("directory"), u.text) for tag in ("creator", "metadataProvider", "contact", "publisher",
                                                    "associatedParty") for u in ds.iterfind(f"{tag}/userId")}
    assert ids == {("https://orcid.org/", "0000-0002-1825-0097"), ("https://ror.org/", "02y22ws83"),
                   ("https://ror.org/", "01h1jbk91")}
    assert [r.text for r in ds.findall("associatedParty/role")] == ["curator", "owner"]
    assert [k.findtext("keyword") for k in ds.findall("keywordSet")][:2] == ["Occurrence", "Specimen"]
    assert ds.findtext("licensed/identifier") == "CC-BY-4.0"
    assert ds.find("intellectualRights/para/ulink").get("url") == "http://creativecommons.org/licenses/by/4.0/legalcode"
    assert ds.findtext("maintenance/maintenanceUpdateFrequency") == "monthly"
    assert len(ds.findall("methods/methodStep")) == 2 and ds.find("methods/sampling/studyExtent") is not None
    assert ds.findtext("methods/qualityControl/description/para").startswith("Mobilise checks every record")
    assert ds.findtext("project/title") == "Mobilise demonstration"
    assert ds.findtext("project/personnel/role") == "pointOfContact"
    gbif = root.find("additionalMetadata/metadata/gbif")
    assert gbif.find("citation").get("identifier") == "https://doi.org/10.5072/mobilise-sample"
    assert gbif.findtext("hierarchyLevel") == "dataset"
    assert [(c.findtext("collectionName"), c.findtext("parentCollectionIdentifier")) for c in gbif.iter("collection")][
        -1] == ("Herbarium", "https://ror.org/01h1jbk91")
    assert [p.text for p in gbif.findall("specimenPreservationMethod")] == ["pinned", "driedAndPressed", "alcohol",
                                                                          "dried"]
    assert gbif.findtext("jgtiCuratorialUnit/jgtiUnits") == "10000"


def test_python_dwca_reader_reads_the_metadata(published):
    from dwca.read import DwCAReader

    result, _, core = published
    with DwCAReader(str(result.archive)) as dwca:
        assert dwca.metadata.findtext("dataset/title") == "Sample natural history collection (Mobilise demonstration data)"
        assert len(dwca.metadata.findall("dataset/coverage/taxonomicCoverage/taxonomicClassification")) == \
            core.loc[core["family"] != "", "family"].nunique()
        assert dwca.metadata.find("dataset/creator/userId").get("directory") == "https://orcid.org/"
    # the eml.xml served beside the archive is the archive's
    beside = Path(result.current).with_name("eml.xml")
    with zipfile.ZipFile(result.archive) as archive:
        assert beside.read_bytes() == archive.read("eml.xml")


def test_a_publication_with_an_invalid_eml_fails_and_publishes_nothing(sample_db, tmp_path, monkeypatch):
    config = sample_config(f"sqlite:///{sample_db}", tmp_path / "output", monkeypatch)
    first = run_stages(config)
    directory = PublicationDirectory(config.publication_directory)
    before = {p: p.read_bytes() for p in directory.directory.rglob("*") if p.is_file()}
    config.metadata.specimen_preservation_methods = ["dried", " "]  # bypasses the model: an empty element
    with pytest.raises(InvalidEMLError) as exc:
        run_stages(config)
    assert "line " in str(exc.value) and "Element 'specimenPreservationMethod'" in str(exc.value)
    assert [e.version for e in directory.log.entries()] == [first.version]
    assert not [p for p in directory.files(directory.log.next_version()) if p.exists()]
    assert {p: p.read_bytes() for p in directory.directory.rglob("*") if p.is_file()} == before  # nothing changed
