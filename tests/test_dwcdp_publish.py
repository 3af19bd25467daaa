"""The Darwin Core Data Package published beside each archive version (``output.dwc_dp``, on in the sample config):
the same records and values as the DwC-A, valid in every layer (the frictionless library itself finds no error,
every foreign key resolves), named in the version log, current as ``dwc-dp.zip``, listed by the feeds and served
like the archives; a package broken on purpose stops the whole version and leaves the last good one current."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import httpx
import lxml.etree
import pytest
import rdflib
from dwca.read import DwCAReader

from mobilise.dwcdp import schema_set
from mobilise.publishers import publish as publish_module
from mobilise.publishers.dwcdp import RENAMES
from mobilise.publishers.feeds import IPT_NAMESPACE
from mobilise.publishers.publication import PublicationDirectory, PublicationLog
from mobilise.publishers.publish import PublicationGateError
from mobilise.samples.loading import copy_database
from mobilise.validators.dwcdp import offline_frictionless, validate_package
from tests.conftest import SAMPLE_CONFIG, sample_config
from tests.pipeline_helpers import run_stages
from tests.services import mariadb_db, postgres_db  # noqa: F401  (fixtures)
from tests.test_site import Served

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


def _tables(package: Path) -> dict[str, list[dict]]:
    """Every CSV of a package zip as rows (dicts of text, '' for an empty value)."""
    with zipfile.ZipFile(package) as archive:
        return {name[:-4]: list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8", newline="")))
                for name in archive.namelist() if name.endswith(".csv")}


def assert_same_facts(archive: Path, package: Path) -> int:
    """Each DwC-A core record is the package's occurrence of the same occurrenceID, in the same order, and every
    core value that has a package field (in its occurrence, its event or, for a specimen, its material) is that
    field's value; returns how many values were compared."""
    tables = _tables(package)
    occurrence = {row["occurrence_pk"]: row for row in tables["occurrence"]}
    material = {row["materialEntity_pk"]: row for row in tables.get("material", [])}
    events = {row["event_pk"]: row for row in tables["event"]}
    to_material = {source: name for name, source in RENAMES["material"].items()}
    ids, differences, compared = [], [], 0
    with DwCAReader(str(archive)) as reader:
        for row in reader:
            ids.append(row.id)
            occ = occurrence[row.id]
            places = (occ, events[occ["event_fk"]], material.get(row.id, {}))
            for iri, value in row.data.items():
                term = iri.rsplit("/", 1)[-1]
                for table, name in zip(places, (term, term, to_material.get(term, term))):
                    if name in table:
                        compared += 1
                        if table[name] != value:
                            differences.append((row.id, term, value, table[name]))
    assert ids == [row["occurrence_pk"] for row in tables["occurrence"]]
    assert differences == []
    specimens = [row.id for row in DwCAReader(str(archive)) if row.data[
        "http://rs.tdwg.org/dwc/terms/basisOfRecord"] in ("PreservedSpecimen", "FossilSpecimen", "MaterialSample",
                                                           "LivingSpecimen")]
    assert sorted(material) == sorted(specimens) and specimens
    return compared


def assert_keys_resolve(package: Path, tmp_path: Path) -> int:
    """Every foreign key the descriptor declares resolves to a row of the table it names (checked here in DuckDB
    over the extracted CSVs, apart from the validator); returns how many keys were checked."""
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    connection = duckdb.connect()
    checked = 0
    for resource in descriptor["resources"]:
        for key in resource["schema"].get("foreignKeys", []):
            field, target = key["fields"], key["reference"]
            parent = target["resource"] or resource["name"]
            dangling = connection.execute(
                f"SELECT count(*) FROM read_csv(?, all_varchar=true) c WHERE c.\"{field}\" IS NOT NULL AND "
                f"c.\"{field}\" NOT IN (SELECT p.\"{target['fields']}\" FROM read_csv(?, all_varchar=true) p "
                f"WHERE p.\"{target['fields']}\" IS NOT NULL)",
                [str(folder / resource["path"]), str(folder / f"{parent}.csv")]).fetchone()[0]
            assert dangling == 0, (resource["name"], field, parent)
            checked += 1
    return checked


def _published(config, tmp_path) -> tuple:
    result = run_stages(config)
    directory = PublicationDirectory(config.publication_directory)
    return result, directory


@pytest.mark.parametrize("source", ["sqlite", "postgresql", "mariadb"])
def test_the_sample_publishes_a_package_with_the_archive_facts(source, sample_db, tmp_path, monkeypatch, request):
    """The sample collection from each kind of source: dwc-dp-<version>.zip beside dwca-<version>.zip, valid for
    the frictionless library with no error and in every layer of validate_package, its keys resolving, the same
    records and values as the archive; logged with its checksum and summary; current as dwc-dp.zip."""
    url = f"sqlite:///{sample_db}"
    if source != "sqlite":
        url = request.getfixturevalue("postgres_db" if source == "postgresql" else "mariadb_db")
        copy_database(sample_db, url)
    config = sample_config(url, tmp_path / "output", monkeypatch)
    assert config.output.dwc_dp.enabled  # on for the sample
    result, directory = _published(config, tmp_path)
    package = directory.package(result.version)
    assert result.dwc_dp == str(package) and package.is_file()
    assert os.path.samefile(directory.current_package, package)

    from frictionless import validate

    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "frictionless")
    with offline_frictionless(schema_set()):  # the frictionless library itself (profile, keys), no network
        report = validate(str(tmp_path / "frictionless" / "datapackage.json"))
    assert report.valid and report.stats["errors"] == 0, report.flatten(["resourceName", "rowNumber", "note"])
    validation = validate_package(package)
    assert validation.valid and validation.failed_layers() == [], validation.summary()
    assert assert_keys_resolve(package, tmp_path) >= 5
    assert assert_same_facts(Path(result.archive), package) > 20 * result.records

    entry = PublicationLog(directory.directory).latest()
    assert entry.dwc_dp["file"] == package.name and entry.dwc_dp["bytes"] == package.stat().st_size
    assert entry.dwc_dp["sha256"] == publish_module.sha256_of(package) and entry.dwc_dp["valid"] is True
    assert entry.dwc_dp["tables"]["occurrence"] == result.records == entry.records
    assert entry.dwc_dp["validation"].startswith(f"DwC-DP {package.name}: valid")
    with zipfile.ZipFile(package) as archive, zipfile.ZipFile(result.archive) as dwca:
        assert archive.read("eml.xml") == dwca.read("eml.xml")  # the same metadata in both formats
        descriptor = json.loads(archive.read("datapackage.json"))
    assert descriptor["version"] == result.version and descriptor["profile"] == entry.dwc_dp["profile"]


def test_the_feeds_and_the_page_link_the_package_and_it_is_served_like_the_archive(sample_db, tmp_path,
                                                                                 monkeypatch):
    output = tmp_path / "output"
    output.mkdir()
    with Served(output) as served, httpx.Client(timeout=30) as http:
        config = sample_config(f"sqlite:///{sample_db}", output, monkeypatch)
        config.output.base_url = served.url
        result, directory = _published(config, tmp_path)
        shortname = config.shortname
        versioned = f"{served.url}{shortname}/dwc-dp-{result.version}.zip"
        current = f"{served.url}{shortname}/dwc-dp.zip"

        rss = lxml.etree.fromstring(http.get(served.url + "rss.xml").content)
        (item,) = rss.findall("channel/item")
        assert item.findtext(f"{{{IPT_NAMESPACE}}}archive") == versioned
        assert item.findtext(f"{{{IPT_NAMESPACE}}}dwca") == f"{served.url}{shortname}/dwca-{result.version}.zip"
        (entry,) = http.get(served.url + "inventory.json").json()["registeredResources"]
        assert entry["dwcdp"] == current and entry["dwca"] == f"{served.url}{shortname}/dwca.zip"
        graph = rdflib.Graph().parse(data=http.get(served.url + "dcat.ttl").text, format="turtle")
        packages = {str(node) for node in graph.subjects(rdflib.namespace.DCTERMS["format"], rdflib.Literal("dwc-dp"))}
        assert packages == {versioned, current}
        assert (rdflib.URIRef(current), DCAT.downloadURL, rdflib.URIRef(current)) in graph
        page = http.get(served.url).text
        assert f'href="{shortname}/dwc-dp.zip"' in page and f'href="{shortname}/dwc-dp-{result.version}.zip"' in page

        first = http.get(current)
        assert first.status_code == 200 and first.headers["content-type"] == "application/zip"
        assert first.content == directory.package(result.version).read_bytes()
        unchanged = http.get(current, headers={"If-Modified-Since": first.headers["last-modified"]})
        assert unchanged.status_code == 304 and unchanged.content == b""
        assert http.get(current, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
        assert http.get(versioned).content == first.content


def test_a_package_broken_on_purpose_stops_the_version_and_the_previous_stays_current(sample_db, tmp_path,
                                                                                       monkeypatch):
    """The publication policy: a package GBIF's validator would refuse is not published, and neither is the
    archive of that version; the last good version, its archive and its package stay current, and the report
    (validation/) names the failing layer table by table."""
    config = sample_config(f"sqlite:///{sample_db}", tmp_path / "output", monkeypatch)
    first, directory = _published(config, tmp_path)
    before = {path.name: path.read_bytes() for path in directory.directory.iterdir() if path.is_file()}

    real = publish_module.package_tables

    def duplicated(catalog, core, terms=None, extensions=()):
        """The real published rows with the core's batches given twice: every occurrenceID twice, which the
        package's primary keys refuse (the archive's rows are untouched)."""
        rows, extensions = real(catalog, core, terms, extensions)
        again, _ = real(catalog, core, terms)
        return (table for batches in (rows, again) for table in batches), extensions

    monkeypatch.setattr(publish_module, "package_tables", duplicated)
    with pytest.raises(PublicationGateError) as failure:
        run_stages(config, force=True)
    message = str(failure.value)
    assert "dwc_dp" in message and "NOT valid (failed: keys)" in message and "    occurrence: " in message
    assert PublicationLog(directory.directory).latest().version == first.version
    after = {path.name: path.read_bytes() for path in directory.directory.iterdir() if path.is_file()
             and path.name != "publications.json"}  # the log only reserved the failed number
    assert after == {name: data for name, data in before.items() if name != "publications.json"}
    assert os.path.samefile(directory.current_package, directory.package(first.version))
    assert not list(directory.directory.glob(".dwcdp-*"))
    report = json.loads(directory.report(None)[0].read_text(encoding="utf-8"))
    (gate,) = [g for g in report["gates"] if g["name"] == "dwc_dp"]
    assert gate["passed"] is False and "keys: failed" in gate["detail"] and "occurrence:" in gate["detail"]

    monkeypatch.setattr(publish_module, "package_tables", real)  # repaired: the next version is published
    second = run_stages(config, force=True)
    assert second.version != first.version and os.path.samefile(directory.current_package,
                                                                directory.package(second.version))


def test_switched_on_later_switched_off_again(sample_db, tmp_path, monkeypatch):
    """Switching the package on publishes a version even when the records are unchanged (the version it would
    stand for has no package); switched off, a new version has none and dwc-dp.zip is no longer offered."""
    config = sample_config(f"sqlite:///{sample_db}", tmp_path / "output", monkeypatch)
    config.output.dwc_dp.enabled = False
    first, directory = _published(config, tmp_path)
    assert first.dwc_dp is None and not directory.current_package.exists()
    assert not directory.package(first.version).exists() and PublicationLog(directory.directory).latest().dwc_dp is None

    config.output.dwc_dp.enabled = True
    second = run_stages(config)  # same records and metadata: published only because the package is wanted
    assert not second.unchanged and second.version != first.version
    assert os.path.samefile(directory.current_package, directory.package(second.version))
    assert run_stages(config).unchanged  # and then nothing new

    config.output.dwc_dp.enabled = False
    third = run_stages(config, force=True)
    assert third.dwc_dp is None and not directory.current_package.exists()
    assert directory.package(second.version).exists()  # the older version keeps its package


def test_recover_makes_the_current_package_that_of_the_latest_version(sample_db, tmp_path, monkeypatch):
    """After a kill between the commit and the swap (here: dwc-dp.zip gone, a half-derived package folder left),
    the next run's recover() rolls forward."""
    config = sample_config(f"sqlite:///{sample_db}", tmp_path / "output", monkeypatch)
    result, directory = _published(config, tmp_path)
    directory.current_package.unlink()
    (directory.directory / ".dwcdp-killed" / "package").mkdir(parents=True)
    orphan = directory.package("9.9")  # a killed attempt's package, not in the log
    orphan.write_bytes(b"PK")
    done = directory.recover()
    assert os.path.samefile(directory.current_package, directory.package(result.version))
    assert not (directory.directory / ".dwcdp-killed").exists() and not orphan.exists()
    assert any("dwc-dp.zip" in line for line in done)


def test_config_switch_and_schema_version(tmp_path):
    from mobilise.settings import ConfigError, load_config

    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    assert "\n  dwc_dp: true\n" in text
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(text.replace("\n  dwc_dp: true\n", "\n  dwc_dp: {enabled: true, schema_version: 0.1}\n"),
                      encoding="utf-8")
    assert load_config(pinned).output.dwc_dp.schema_version == "0.1"
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(text.replace("\n  dwc_dp: true\n", "\n  dwc_dp:\n    schema_version: '7.0'\n"),
                       encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(unknown)
    assert "7.0" in str(error.value) and "0.1" in str(error.value)


def test_run_json_names_the_package(sample_db, tmp_path):
    """`mobilise run --json` gains dwc_dp: the package's path."""
    environment = {**os.environ, "MOBILISE_SAMPLE_URL": f"sqlite:///{sample_db}",
                   "MOBILISE_OUTPUT": str(tmp_path / "output")}
    completed = subprocess.run([sys.executable, "-m", "mobilise.cli", "run", str(SAMPLE_CONFIG), "--json",
                                "--runner", "threads"], capture_output=True, text=True, env=environment, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    printed = json.loads(completed.stdout.strip().splitlines()[-1])
    assert printed["dwc_dp"] == str(tmp_path / "output" / printed["dataset"] / f"dwc-dp-{printed['version']}.zip")
    assert validate_package(printed["dwc_dp"]).valid


def test_extension_tables_of_the_run_catalog_plug_into_the_package(sqlite_config):
    """Every extension of the run with published (``valid``) batches in the run catalog goes to the package by
    its name: here a multimedia table as an extension stage would save it (coreid, then its terms)."""
    from mobilise.catalog import Entry, RunCatalog
    from mobilise.extractors.stage import plan_partitions
    from mobilise.flows import steps
    from mobilise.mappers.mapping import MappingPlan
    import pyarrow as pa

    plan = MappingPlan.from_config(sqlite_config)
    catalog = RunCatalog.create(sqlite_config)
    try:
        extracted = [entry for partition in plan_partitions(sqlite_config.source)
                     for entry in steps.extract(sqlite_config, plan, catalog, partition)]
        batches = steps.validate_batches(sqlite_config, plan, catalog, steps.map_batches(plan, catalog, extracted),
                                         steps.find_duplicates(catalog))
        ids = catalog.load(sorted(b.valid for b in batches)[0], columns=["occurrenceID"])["occurrenceID"]
        ids = ids.slice(0, 3).to_pylist()
        catalog.save(Entry("valid", "multimedia", "000001"), pa.table({
            "coreid": ids, "type": ["StillImage"] * 3, "format": ["image/jpeg"] * 3,
            "identifier": [f"https://img.example.org/{n}.jpg" for n in range(3)]}))
        assert catalog.tables("valid") == ["multimedia", "occurrence"]
        from mobilise.extensions import extension
        from mobilise.publishers.publish import ExtensionTable
        media = extension("multimedia")
        columns = ["coreid", "type", "format", "identifier"]
        # the extension as the extension step hands it over (its archive parts empty here: only the package reads
        # the catalog's valid/ batches)
        result = steps.publish(sqlite_config, plan, catalog, batches, extensions=[ExtensionTable(
            name="multimedia", location="multimedia.txt", row_type=media.row_type, columns=columns,
            iris=[None] + [media.terms[c] for c in columns[1:]])])
    finally:
        catalog.remove()
    tables = _tables(Path(result.dwc_dp))
    assert [row["accessURI"] for row in tables["media"]] == [f"https://img.example.org/{n}.jpg" for n in range(3)]
    media_of = {row["media_fk"]: row["materialEntity_fk"] for row in tables["material-media"]}
    assert sorted(media_of.values()) == sorted(ids)
    assert validate_package(result.dwc_dp).valid
