"""End to end from the sample collection database to a Darwin Core Archive, read back by independent readers."""
from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest
from dwca.read import DwCAReader

from mobilise.publishers import dwca as dwca_writer
from mobilise.publishers.publication import PublicationLog
from tests.pipeline_helpers import public_object_count, read_core_with_pandas, read_quarantine, run_stages
from tests.xsd import validate_eml, validate_meta

DWC = "http://rs.tdwg.org/dwc/terms/"


@pytest.fixture
def published(sqlite_config):
    return sqlite_config, run_stages(sqlite_config)


def test_every_record_is_published_or_quarantined(published, sample_db):
    config, result = published
    assert result.extracted == public_object_count(sample_db)
    assert result.records + result.rejected == result.extracted
    assert 0 < result.rejected < result.extracted * 0.25
    quarantine = read_quarantine(result.quarantine)
    assert len(quarantine) == result.rejected
    assert (quarantine["reasons"].str.len() > 0).all()
    # each reason names the flag, the field and the value
    assert quarantine["reasons"].str.contains(r"^[A-Z_]+: \w+ (?:= '.*'|is empty) \(").all()
    assert not quarantine["reasons"].str.contains("'nan'").any()


def test_archive_reads_back_the_same_in_dwca_reader_and_pandas(published):
    config, result = published
    frame = read_core_with_pandas(result.archive)
    with DwCAReader(result.archive) as archive:
        rows = list(archive)
        assert archive.core_file.file_descriptor.represents_corefile
    assert len(rows) == len(frame) == result.records
    assert frame["occurrenceID"].is_unique and (frame["occurrenceID"] != "").all()
    for row, (_, expected) in zip(rows[:500], frame.head(500).iterrows()):
        assert row.id == expected["occurrenceID"]
        for term in ("catalogNumber", "scientificName", "eventDate", "occurrenceRemarks", "locality", "recordedBy"):
            assert row.data[DWC + term] == expected[term]


def test_values_are_those_of_the_source_database(published, sample_db):
    config, result = published
    frame = read_core_with_pandas(result.archive).set_index("occurrenceID")
    with sqlite3.connect(sample_db) as connection:
        source = connection.execute(
            "SELECT o.guid, cn.number, t.full_name, o.remarks FROM collection_object o "
            "JOIN catalog_number cn ON cn.object_id = o.object_id AND cn.is_primary = 1 "
            "JOIN determination d ON d.determination_id = (SELECT max(determination_id) FROM determination "
            "    WHERE object_id = o.object_id AND is_current = 1) "
            "JOIN taxon t ON t.taxon_id = d.taxon_id WHERE o.is_public = 1").fetchall()
    checked = tabs = 0
    for guid, number, name, remarks in source:
        key = f"https://data.example.org/mobilise-sample/specimen/{guid}"
        if key not in frame.index:
            continue  # quarantined
        record = frame.loc[key]
        assert record["catalogNumber"] == number.strip()
        assert record["scientificName"] == name.strip()
        if remarks and ("\t" in remarks or "\n" in remarks):
            tabs += 1
            assert "\t" not in record["occurrenceRemarks"] and "\n" not in record["occurrenceRemarks"]
            assert record["occurrenceRemarks"].split() == remarks.split()
        checked += 1
    assert checked > 1000 and tabs > 0


def test_interpreted_values_are_standard(published):
    config, result = published
    frame = read_core_with_pandas(result.archive)
    assert frame["basisOfRecord"].isin(["PreservedSpecimen", "FossilSpecimen", "LivingSpecimen",
                                        "MaterialSample"]).all()
    dates = frame.loc[frame["eventDate"] != "", "eventDate"]
    assert dates.str.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?").all()
    assert (dates.str.len() == 4).any() and (dates.str.len() == 7).any() and dates.str.contains("/").any()
    codes = frame.loc[frame["countryCode"] != "", "countryCode"]
    assert codes.str.fullmatch(r"[A-Z]{2}").all() and len(codes) > len(frame) * 0.5
    latitude = frame.loc[frame["decimalLatitude"] != "", "decimalLatitude"].astype(float)
    assert latitude.between(-90, 90).all()
    # where the source held degrees-minutes-seconds, the original is kept in verbatimLatitude
    kept = frame["verbatimLatitude"] != ""
    assert (kept & (frame["decimalLatitude"] != "")).any()
    # where the point was wrong (out of range, 0,0, unreadable) it is not published; its original is kept there
    removed = frame[kept & (frame["decimalLatitude"] == "")]
    assert len(removed) > 0 and removed["decimalLongitude"].eq("").all()
    assert frame["sex"].isin(["", "male", "female", "undetermined", "hermaphrodite"]).all()


def test_meta_and_eml_validate_against_the_schemas(published):
    config, result = published
    with zipfile.ZipFile(result.archive) as archive:
        assert sorted(archive.namelist()) == ["eml.xml", "meta.xml", "occurrence.txt"]
        validate_meta(archive.read("meta.xml"))
        eml = archive.read("eml.xml")
    tree = validate_eml(eml)
    assert tree.getroot().get("packageId").endswith("/v1.0")
    assert b"westBoundingCoordinate" in eml and b"beginDate" in eml


def test_versions_follow_each_other_and_stay_on_disk(published):
    config, first = published
    second = run_stages(config, force=True)  # the same data: without force nothing new would be published
    assert (first.version, second.version) == ("1.0", "1.1")
    log = PublicationLog(config.publication_directory)
    assert [p.version for p in log.entries()] == ["1.0", "1.1"]
    assert log.latest().records == second.records
    current = config.publication_directory / "dwca.zip"
    assert current.read_bytes() == (config.publication_directory / "dwca-1.1.zip").read_bytes()
    assert (config.publication_directory / "dwca-1.0.zip").exists()
    # identifiers are stable across runs
    assert read_core_with_pandas(first.archive)["occurrenceID"].tolist() == \
        read_core_with_pandas(second.archive)["occurrenceID"].tolist()


# deflating a batch (before the version is reserved); writing the archive (after)
@pytest.mark.parametrize(("step", "reserved"), [("text_lines", "1.0"), ("_copy_part", "1.1")])
def test_a_crash_while_writing_leaves_the_last_publication_untouched(published, monkeypatch, step, reserved):
    config, first = published
    directory = config.publication_directory
    before = {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(dwca_writer, step, crash)
    with pytest.raises(OSError, match="disk full"):
        run_stages(config, force=True)  # the same data: without force nothing would be written
    after = {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}
    log_before, log_after = (json.loads(files.pop(Path("publications.json"))) for files in (before, after))
    assert after == before  # no partial file left, current archive unchanged
    assert log_after["versions"] == log_before["versions"]  # nothing committed
    assert log_after["reserved"] == reserved  # a failed attempt's number is not handed out again


def test_dry_run_publishes_nothing(sqlite_config):
    result = run_stages(sqlite_config, dry_run=True)
    assert result.version is None and result.archive is None
    assert not (sqlite_config.publication_directory / "dwca.zip").exists()
    assert len(read_quarantine(result.quarantine)) == result.rejected > 0


def test_quarantine_keeps_the_source_record(published):
    config, result = published
    quarantine = read_quarantine(result.quarantine)
    assert {"source.guid", "source.start_date", "source.basis", "occurrenceID"} <= set(quarantine.columns)
    # what keeps a sample record out by default: no basisOfRecord, or one the IPT would refuse
    assert len(quarantine) > 0 and quarantine["reasons"].str.contains("BASIS_OF_RECORD_").all()
    missing = quarantine[quarantine["reasons"].str.contains("BASIS_OF_RECORD_MISSING")]
    assert len(missing) > 0 and (missing["source.basis"] == "").all()


def test_quality_reports_bdq_mids_dissco_and_amendments(sample_db, tmp_path, monkeypatch):
    """One run with the BDQ tests on: the reports carry every part, and accepted amendments are applied."""
    from tests.conftest import sample_config

    config = sample_config(f"sqlite:///{sample_db}", tmp_path / "output", monkeypatch, bdq=True)
    result = run_stages(config)
    report = json.loads(open(result.report.replace(".html", ".json"), encoding="utf-8").read())
    assert report["version"] == "1.0" and report["totals"]["published"] == result.records
    labels = {test["label"] for test in report["bdq"]}
    assert {"VALIDATION_COUNTRYCODE_STANDARD", "AMENDMENT_EVENTDATE_STANDARDIZED"} <= labels
    country = next(t for t in report["bdq"] if t["label"] == "VALIDATION_COUNTRYCODE_STANDARD")
    assert sum(country["status"].values()) == result.extracted
    assert sum(report["mids"]["tdwg"].values()) == result.records
    assert set(report["dissco"]["flags"]) >= {"DISSCO_LICENSE_NOT_ACCEPTED", "DISSCO_NO_PHYSICAL_SPECIMEN_ID"}
    assert all(g["passed"] for g in report["gates"])
    dated = (read_core_with_pandas(result.archive)["eventDate"] != "").sum()
    assert sum(report["years"].values()) == dated and 0 < result.records - dated < result.records * 0.25
    # the amendments the sample config accepts are applied to the published records, and only those
    applied = read_quarantine(result.amendments)
    accepted = set(config.validation.bdq.amendments)
    assert {"AMENDMENT_COORDINATES_TRANSPOSED", "AMENDMENT_GEODETICDATUM_STANDARDIZED"} <= set(applied["label"])
    assert set(applied["label"]) <= accepted
    archive = read_core_with_pandas(result.archive).set_index("occurrenceID")
    done = applied[~applied["conflict"].str.lower().eq("true") & applied["occurrenceID"].isin(archive.index)]
    for term in ("decimalLatitude", "geodeticDatum"):
        rows = done[done["term"] == term]
        assert len(rows) > 0
        assert (archive.loc[rows["occurrenceID"], term].values == rows["new"].values).all()
    not_conflicting = applied[~applied["conflict"].str.lower().eq("true")]
    assert {a["label"] for a in report["amendments"]["applied"]} == set(not_conflicting["label"])
    html = open(result.report, encoding="utf-8").read()
    assert "<svg" in html and "VALIDATION_COUNTRYCODE_STANDARD" in html


def test_a_failed_gate_publishes_nothing_and_says_why(published, monkeypatch):
    from mobilise.publishers.publish import PublicationGateError

    config, first = published
    config.gates.max_rejected_share = 0.001
    with pytest.raises(PublicationGateError, match=r"max_rejected_share: .* rejected \(limit 0%\)"):
        run_stages(config)
    assert PublicationLog(config.publication_directory).latest().version == "1.0"
    report = json.loads((config.publication_directory / "validation" / "report.json").read_text())
    assert [g["passed"] for g in report["gates"] if g["name"] == "max_rejected_share"] == [False]
