"""Extensions with referential integrity (issue 10, item 1): a core with media, identification history and
measurements, each from its own table, mapped, checked and joined with the core records; orphans and the rows of a
quarantined core record go to the extension's quarantine file with reasons; the archive reads back with
python-dwca-reader with no orphan; counts per table; the same config on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from dwca.read import DwCAReader
from lxml import etree

from mobilise.settings import ConfigError, load_config
from tests.pipeline_helpers import read_quarantine, run_stages
from tests.services import mariadb_db, postgres_db  # noqa: F401  (fixtures)

DWC = "http://rs.tdwg.org/dwc/terms/"
MEDIA_ROW_TYPE = "http://rs.gbif.org/terms/1.0/Multimedia"
IDENTIFICATION_ROW_TYPE = "http://rs.tdwg.org/dwc/terms/Identification"
MOF_ROW_TYPE = "http://rs.tdwg.org/dwc/terms/MeasurementOrFact"

SPECIMENS = [  # id, catalogue number, name, basis of record
    (1, "EX-1", "Carabus auratus", "PreservedSpecimen"),
    (2, "EX-2", "Carabus nemoralis", "PreservedSpecimen"),
    (3, "EX-3", "Cicindela campestris", "PreservedSpecimen"),
    (4, "EX-4", "Dytiscus marginalis", "a jar on the shelf"),  # not a basisOfRecord: the record is quarantined
    (5, "EX-5", "Lucanus cervus", "PreservedSpecimen"),
]
MEDIA = [  # media id, specimen id, url, format, licence
    (10, 1, "https://media.example.org/1.jpg", "image/jpg", "CC-BY-4.0"),  # no MIME type: removed, published
    (11, 2, "https://media.example.org/2.jpg", "image/jpeg", "All rights reserved"),  # DiSSCo would drop it
    (12, 2, None, "image/jpeg", "CC0-1.0"),  # no link at all: MULTIMEDIA_URI_MISSING, an error
    (13, 4, "https://media.example.org/4.jpg", "image/jpeg", "CC0-1.0"),  # its core record is quarantined
    (14, 99, "https://media.example.org/99.jpg", "image/png", "CC0-1.0"),  # no specimen 99: an orphan
]
IDENTIFICATIONS = [  # id, specimen id, name, date
    (20, 1, "Carabus sp.", "1950-05-01"),
    (21, 1, "Carabus auratus", "1987-03-12"),
    (22, 3, "Cicindela campestris", "2001"),
    (23, 4, "Dytiscus sp.", "1999-01-01"),  # core quarantined
    (24, 77, "Bombus terrestris", "2010-01-01"),  # orphan
]
MEASUREMENTS = [  # id, specimen id, type, value, unit
    (30, 1, "body length", "27", "mm"),
    (31, 2, "body length", None, "mm"),  # no value: a warning, published
    (32, 98, "body length", "30", "mm"),  # orphan
]

CONFIG = """\
source:
  url: {url}
  query: SELECT id, catalog, name, basis FROM ext_specimen
metadata:
  title: Example beetles
  shortname: ext-beetles
  abstract: Beetles with images, determinations and measurements.
  licence: CC-BY-4.0
  creators: [{{organisation: Example Museum}}]
  contacts: [{{surname: Smith}}]
output:
  directory: {out}
validation:
  dissco: {dissco}
mapping:
  occurrenceID: {{template: "urn:example:specimen:{{id}}"}}
  catalogNumber: catalog
  scientificName: name
  basisOfRecord: basis
extensions:
  multimedia:
    table: ext_media
    core_key: specimen_id
    mapping:
      identifier: url
      format: format
      license: licence
      type: {{constant: StillImage}}
  identification:
    query: SELECT id, specimen_id, name, identified_on FROM ext_identification ORDER BY id
    core_key: specimen_id
    mapping:
      identificationID: {{template: "urn:example:identification:{{id}}"}}
      scientificName: name
      dateIdentified: identified_on
  measurement_or_fact:
    table: ext_measurement
    core_key: [specimen_id]
    mapping:
      measurementType: type
      measurementValue: value
      measurementUnit: unit
"""


def _load(url: str) -> None:
    """The sample tables in the database at `url` (the same DDL on SQLite, PostgreSQL and MariaDB)."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    text = sa.String(200)
    tables = {
        "ext_specimen": (sa.Table("ext_specimen", metadata, sa.Column("id", sa.Integer, primary_key=True),
                                  sa.Column("catalog", text), sa.Column("name", text), sa.Column("basis", text)),
                         SPECIMENS),
        "ext_media": (sa.Table("ext_media", metadata, sa.Column("media_id", sa.Integer, primary_key=True),
                               sa.Column("specimen_id", sa.Integer), sa.Column("url", text),
                               sa.Column("format", text), sa.Column("licence", text)), MEDIA),
        "ext_identification": (sa.Table("ext_identification", metadata, sa.Column("id", sa.Integer, primary_key=True),
                                        sa.Column("specimen_id", sa.Integer), sa.Column("name", text),
                                        sa.Column("identified_on", text)), IDENTIFICATIONS),
        "ext_measurement": (sa.Table("ext_measurement", metadata, sa.Column("id", sa.Integer, primary_key=True),
                                     sa.Column("specimen_id", sa.Integer), sa.Column("type", text),
                                     sa.Column("value", text), sa.Column("unit", text)), MEASUREMENTS),
    }
    metadata.create_all(engine)
    with engine.begin() as connection:
        for table, rows in tables.values():
            names = [column.name for column in table.columns]
            connection.execute(table.insert(), [dict(zip(names, row)) for row in rows])
    engine.dispose()


def _config(folder: Path, url: str, dissco: str = "warn") -> Path:
    path = folder / "beetles.yaml"
    path.write_text(CONFIG.format(url=url, out=folder / "out", dissco=dissco), encoding="utf-8")
    return path


def _sqlite(folder: Path) -> str:
    url = f"sqlite:///{folder / 'beetles.sqlite'}"
    _load(url)
    return url


def _publish_and_check(folder: Path, url: str) -> None:
    """One run of the config on the database at `url`, and everything the archive and the files must show."""
    result = run_stages(load_config(_config(folder, url)))
    assert result.version is not None
    # every row of every table is accounted for
    assert result.tables == {
        "occurrence": {"extracted": 5, "published": 4, "quarantined": 1, "excluded": 0},
        "multimedia": {"extracted": 5, "published": 2, "quarantined": 3, "excluded": 0},
        "identification": {"extracted": 5, "published": 3, "quarantined": 2, "excluded": 0},
        "measurement_or_fact": {"extracted": 3, "published": 2, "quarantined": 1, "excluded": 0},
    }
    with DwCAReader(result.archive) as archive:
        assert archive.orphaned_extension_rows() == {
            "multimedia.txt": {}, "identification.txt": {}, "measurement_or_fact.txt": {}}
        core = {row.id: row for row in archive}
        assert sorted(core) == [f"urn:example:specimen:{n}" for n in (1, 2, 3, 5)]
        first = core["urn:example:specimen:1"]
        by_type = {}
        for row in first.extensions:
            by_type.setdefault(row.rowtype, []).append(row)
        assert [(row.data["http://purl.org/dc/terms/identifier"], row.data["http://purl.org/dc/terms/format"])
                for row in by_type[MEDIA_ROW_TYPE]] == [("https://media.example.org/1.jpg", "")]
        assert sorted(row.data[DWC + "scientificName"] for row in by_type[IDENTIFICATION_ROW_TYPE]) == [
            "Carabus auratus", "Carabus sp."]
        assert [row.data[DWC + "measurementValue"] for row in by_type[MOF_ROW_TYPE]] == ["27"]
        second = core["urn:example:specimen:2"]
        media = [row for row in second.extensions if row.rowtype == MEDIA_ROW_TYPE]
        # the licence DiSSCo would refuse is published as given (and flagged); the row without a link is out
        assert [(row.data["http://purl.org/dc/terms/identifier"], row.data["http://purl.org/dc/terms/license"])
                for row in media] == [("https://media.example.org/2.jpg", "All rights reserved")]
        assert [row.data[DWC + "measurementValue"] for row in second.extensions if row.rowtype == MOF_ROW_TYPE] \
            == [""]
        assert core["urn:example:specimen:5"].extensions == []
    # meta.xml: each extension with its rowType, the coreid column at 0 and full term IRIs
    with zipfile.ZipFile(result.archive) as bundle:
        meta = etree.fromstring(bundle.read("meta.xml"))
    ns = {"a": "http://rs.tdwg.org/dwc/text/"}
    media_file = meta.find("a:extension[@rowType='%s']" % MEDIA_ROW_TYPE, ns)
    assert media_file.find("a:files/a:location", ns).text == "multimedia.txt"
    assert media_file.find("a:coreid", ns).get("index") == "0"
    assert [(f.get("index"), f.get("term")) for f in media_file.findall("a:field", ns)] == [
        ("1", "http://purl.org/dc/terms/identifier"), ("2", "http://purl.org/dc/terms/format"),
        ("3", "http://purl.org/dc/terms/license"), ("4", "http://purl.org/dc/terms/type")]
    # the quarantine files: the reasons and the source columns of every row kept out
    media_out = read_quarantine(result.extension_quarantine["multimedia"])
    assert Path(result.extension_quarantine["multimedia"]).name == f"quarantine-multimedia-{result.version}.csv"
    reasons = dict(zip(media_out["source.media_id"], media_out["reasons"]))
    assert sorted(reasons) == ["12", "13", "14"]
    assert reasons["12"].startswith("MULTIMEDIA_URI_MISSING: identifier is empty")
    assert reasons["13"].startswith("EXTENSION_CORE_REJECTED: coreid = '4'")
    assert reasons["14"].startswith("EXTENSION_ORPHANED: coreid = '99'")
    assert list(media_out["source.specimen_id"]) == ["2", "4", "99"]
    identifications_out = read_quarantine(result.extension_quarantine["identification"])
    assert dict(zip(identifications_out["source.id"], (r.split(":")[0] for r in identifications_out["reasons"]))) \
        == {"23": "EXTENSION_CORE_REJECTED", "24": "EXTENSION_ORPHANED"}
    assert list(read_quarantine(result.extension_quarantine["measurement_or_fact"])["source.id"]) == ["32"]
    # the published rows with a warning, with their source columns
    media_warned = read_quarantine(Path(result.extension_quarantine["multimedia"]).with_name(
        f"warnings-multimedia-{result.version}.csv"))
    assert list(zip(media_warned["coreid"], media_warned["flags"], media_warned["source.media_id"])) == [
        ("urn:example:specimen:1", "MULTIMEDIA_FORMAT_INVALID", "10"),
        ("urn:example:specimen:2", "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED", "11")]
    # the removed value is kept in the message
    assert media_warned["messages"][0].startswith("MULTIMEDIA_FORMAT_INVALID: format = 'image/jpg'")
    assert media_warned["messages"][1].startswith("DISSCO_MEDIA_LICENSE_NOT_ACCEPTED: license = 'All rights reserved'")
    core_out = read_quarantine(result.quarantine)
    assert list(core_out["occurrenceID"]) == ["urn:example:specimen:4"]
    # the report counts every table and its flags
    report = result.run_report
    assert report.tables == result.tables
    assert report.extension_flags["multimedia"]["DISSCO_MEDIA_LICENSE_NOT_ACCEPTED"] == 1
    assert report.extension_flags["measurement_or_fact"]["MEASUREMENT_VALUE_MISSING"] == 1
    html = Path(result.report).read_text(encoding="utf-8")
    assert "quarantine-multimedia-" in html and "EXTENSION_ORPHANED" in html
    # the site's inventory (the IPT's /inventory/dataset) counts the records of each row type
    inventory = json.loads((folder / "out" / "inventory.json").read_text(encoding="utf-8"))
    assert inventory["registeredResources"][0]["recordsByExtension"] == {
        DWC + "Occurrence": 4, MEDIA_ROW_TYPE: 2, IDENTIFICATION_ROW_TYPE: 3, MOF_ROW_TYPE: 2}


def test_extensions_published_with_referential_integrity_on_sqlite(tmp_path):
    _publish_and_check(tmp_path, _sqlite(tmp_path))


def test_extensions_on_postgresql(tmp_path, postgres_db):  # noqa: F811
    _load(postgres_db)
    _publish_and_check(tmp_path, postgres_db)


def test_extensions_on_mariadb(tmp_path, mariadb_db):  # noqa: F811
    _load(mariadb_db)
    _publish_and_check(tmp_path, mariadb_db)


def test_dissco_ignored_drops_the_media_licence_flag(tmp_path):
    result = run_stages(load_config(_config(tmp_path, _sqlite(tmp_path), dissco="ignore")), dry_run=True)
    flags = result.run_report.extension_flags["multimedia"]
    assert "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED" not in flags and flags["MULTIMEDIA_URI_MISSING"] == 1
    assert result.tables["multimedia"] == {"extracted": 5, "published": 2, "quarantined": 3, "excluded": 0}
    # a dry run writes the extension's quarantine under validation/
    assert Path(result.extension_quarantine["multimedia"]).parent.name == "validation"


def test_a_changed_extension_row_changes_its_record(tmp_path):
    url = _sqlite(tmp_path)
    config = _config(tmp_path, url)
    first = run_stages(load_config(config))
    unchanged = run_stages(load_config(config))
    assert unchanged.unchanged and unchanged.version == first.version
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE ext_identification SET name = 'Carabus auratus auratus' WHERE id = 21"))
    engine.dispose()
    second = run_stages(load_config(config))
    assert second.version != first.version
    assert second.changes["changed"] == 1 and second.changes["changed_ids"] == ["urn:example:specimen:1"]
    assert second.changes["added"] == second.changes["removed"] == 0
    # without the version's hashes (a folder copied without .state/) they are rebuilt from its archive, extension
    # files included, the same as the run made them: nothing shows as changed
    state = tmp_path / "out" / "ext-beetles" / ".state" / f"record-hashes-{second.version}.parquet"
    state.unlink()
    third = run_stages(load_config(config))
    assert state.exists() and third.unchanged and third.changes["changed"] == 0


@pytest.mark.parametrize("extensions, line, key, message", [
    ("  multimedia:\n    table: ext_media\n    core_key: specimen_id\n    mapping:\n      accessURI: url\n",
     5, "extensions.multimedia.mapping.accessURI", "has no term 'accessURI'"),
    ("  multimedium:\n    table: ext_media\n    core_key: specimen_id\n    mapping: {identifier: url}\n",
     1, "extensions.multimedium", "unknown extension 'multimedium' (did you mean 'multimedia'?)"),
    ("  multimedia:\n    core_key: specimen_id\n    mapping: {identifier: url}\n",
     1, "extensions.multimedia", "give exactly one of 'query', 'table'"),
    ("  occurrence:\n    table: ext_media\n    core_key: specimen_id\n    mapping: {occurrenceID: url}\n",
     1, "extensions.occurrence", "the occurrence extension belongs to an event core"),
    ("  multimedia:\n    source: {url: 'sqlite:///m.sqlite', table: media, partition: {column: id}}\n"
     "    core_key: specimen_id\n    mapping: {identifier: url}\n",
     2, "extensions.multimedia.source.partition", "'partition' applies to the dataset's source"),
    ("  multimedia:\n    table: ext_media\n    core_key: specimen_id\n    mapping: {identifier: url}\n",
     -4, "mapping.occurrenceID", "occurrenceID is made from no column, so extension rows cannot name their core"),
])
def test_extension_config_errors_name_their_line(tmp_path, extensions, line, key, message):
    """`line`: the problem's line counted from the line of `extensions:`."""
    text = CONFIG.format(url="sqlite:///x.sqlite", out="out", dissco="warn")
    text = text[:text.index("extensions:")] + "extensions:\n" + extensions
    if "no column" in message:  # an occurrenceID that is a constant
        text = text.replace('occurrenceID: {template: "urn:example:specimen:{id}"}', "occurrenceID: {constant: x}")
    line += text[:text.index("extensions:")].count("\n") + 1
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    found = [line_ for line_ in str(caught.value).splitlines() if f"{path}:" in line_ and key + ":" in line_]
    assert found and message in found[0], str(caught.value)
    assert found[0].strip().startswith(f"{path}:{line}: {key}:"), str(caught.value)


def test_an_extension_from_a_csv_file_keyed_by_source_key(tmp_path):
    """source.key names the core's key (here the catalogue number, not the id the occurrenceID is made from), and an
    extension reads a CSV file of its own (relative to the config), keyed by catalogue number."""
    url = _sqlite(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "relations.csv").write_text(
        "catalogue,related,relation\n"
        "EX-1,https://example.org/specimen/EX-2,same collecting event\n"
        "EX-3,,duplicate of\n"  # no related resource: a warning, published
        "EX-9,https://example.org/specimen/EX-1,part of\n",  # no EX-9: an orphan
        encoding="utf-8")
    text = CONFIG.format(url=url, out=tmp_path / "out", dissco="warn")
    text = text.replace("  query: SELECT", "  key: catalog\n  query: SELECT", 1)
    text = text[:text.index("extensions:")] + (
        "extensions:\n"
        "  resource_relationship:\n"
        "    source: {path: data/relations.csv}\n"
        "    core_key: catalogue\n"
        "    mapping:\n"
        "      relatedResourceID: related\n"
        "      relationshipOfResource: relation\n")
    path = tmp_path / "relations.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_stages(load_config(path))
    assert result.tables["resource_relationship"] == {"extracted": 3, "published": 2, "quarantined": 1, "excluded": 0}
    assert result.run_report.extension_flags["resource_relationship"] == {
        "EXTENSION_ORPHANED": 1, "RELATED_RESOURCE_ID_MISSING": 1}
    with DwCAReader(result.archive) as archive:
        assert archive.orphaned_extension_rows() == {"resource_relationship.txt": {}}
        related = {row.id: [ext.data[DWC + "relationshipOfResource"] for ext in row.extensions] for row in archive}
    assert related == {"urn:example:specimen:1": ["same collecting event"], "urn:example:specimen:2": [],
                       "urn:example:specimen:3": ["duplicate of"], "urn:example:specimen:5": []}
    out = read_quarantine(result.extension_quarantine["resource_relationship"])
    assert list(out["source.catalogue"]) == ["EX-9"] and out["reasons"][0].startswith("EXTENSION_ORPHANED")


def test_query_or_table_need_a_database_as_the_dataset_source(tmp_path):
    text = CONFIG.format(url="sqlite:///x.sqlite", out="out", dissco="warn").replace(
        "  url: sqlite:///x.sqlite\n  query: SELECT id, catalog, name, basis FROM ext_specimen\n",
        "  path: specimens.csv\n")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "extensions.multimedia.table: query and table read the dataset's database, and the dataset's source is " \
           "a file" in str(caught.value)
    assert "extensions.identification.query: query and table" in str(caught.value)


@pytest.mark.prefect
def test_mobilise_run_json_counts_every_table(tmp_path):
    """The command line runs the flow (extensions on the Dask workers) and --json gives the counts per table."""
    config = _config(tmp_path, _sqlite(tmp_path))
    completed = subprocess.run([sys.executable, "-m", "mobilise.cli", "run", str(config), "--json"],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout)
    assert result["tables"] == {
        "occurrence": {"extracted": 5, "published": 4, "quarantined": 1, "excluded": 0},
        "multimedia": {"extracted": 5, "published": 2, "quarantined": 3, "excluded": 0},
        "identification": {"extracted": 5, "published": 3, "quarantined": 2, "excluded": 0},
        "measurement_or_fact": {"extracted": 3, "published": 2, "quarantined": 1, "excluded": 0},
    }
    with DwCAReader(result["archive"]) as archive:
        assert sum(len(row.extensions) for row in archive) == 2 + 3 + 2


def test_a_source_key_the_source_lacks_stops_the_run_naming_it(tmp_path):
    text = CONFIG.format(url=_sqlite(tmp_path), out=tmp_path / "out", dissco="warn").replace(
        "  query: SELECT", "  key: [catalog, drawer]\n  query: SELECT", 1)
    path = tmp_path / "beetles.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Exception, match=r"source.key: column\(s\) drawer not in the source"):
        run_stages(load_config(path))


def test_an_extension_column_the_source_lacks_stops_the_run_naming_the_extension(tmp_path):
    """A typo in an extension's mapping or core_key names the extension's key in the config, not the core's."""
    text = CONFIG.format(url=_sqlite(tmp_path), out=tmp_path / "out", dissco="warn").replace(
        "      identifier: url\n", "      identifier: ulr\n", 1)
    path = tmp_path / "beetles.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Exception, match=r"extensions\.multimedia\.mapping\.identifier: column\(s\) ulr not in"):
        run_stages(load_config(path))
    path.write_text(text.replace("ulr", "url").replace("    core_key: specimen_id\n", "    core_key: specimen\n", 1),
                    encoding="utf-8")
    with pytest.raises(Exception, match=r"extensions\.multimedia\.core_key: column\(s\) specimen not in"):
        run_stages(load_config(path))


def test_an_empty_extension_gives_its_header_and_zero_counts(tmp_path):
    text = CONFIG.format(url=_sqlite(tmp_path), out=tmp_path / "out", dissco="warn").replace(
        "ORDER BY id", "WHERE 1 = 0")
    path = tmp_path / "beetles.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_stages(load_config(path))
    assert result.tables["identification"] == {"extracted": 0, "published": 0, "quarantined": 0, "excluded": 0}
    with zipfile.ZipFile(result.archive) as bundle:
        assert bundle.read("identification.txt").decode() == (
            "coreid\tidentificationID\tscientificName\tdateIdentified\n")
    with DwCAReader(result.archive) as archive:
        assert archive.orphaned_extension_rows()["identification.txt"] == {}
