"""The RBINS demo institution (issue 10 item 8, issue 12 item 4): config/rbins-darwin.yaml over the DaRWIN-like
database of samples/darwin.py, published as shipped, on SQLite and on the real PostgreSQL, and read back with
python-dwca-reader and the frictionless library. Checked against the source database itself: the people from the
role table in its order (children:), the media, identification history and measurements (extensions:) of the
right specimens, restricted specimens excluded with their extension rows, protected species generalised to a
10 km grid with no precise point left in any published file, every table's rows accounted for, and the Darwin Core
Data Package valid in every layer, holding the archive's records, identifications, agents and media."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from dwca.read import DwCAReader
from pyproj import Geod

from mobilise.dwcdp import schema_set
from mobilise.samples.darwin import write_darwin
from mobilise.settings import ConfigError, load_config
from mobilise.validators.dwcdp import offline_frictionless, validate_package
from tests.pipeline_helpers import run_stages
from tests.services import postgres_db  # noqa: F401  (fixture)
from tests.test_dwcdp_publish import assert_keys_resolve, assert_same_facts

REPO = Path(__file__).resolve().parents[1]
SPECIMENS = 500
DWC = "http://rs.tdwg.org/dwc/terms/"
DC = "http://purl.org/dc/terms/"
BASE = "https://data.example.org/rbins-darwin-demo/"
ARCHIVE_FILES = ("occurrence.txt", "multimedia.txt", "identification.txt", "measurement_or_fact.txt", "meta.xml")
HALF_DIAGONAL_M = 7072 * 1.002  # of a 10 km UTM square, with the UTM scale factor's margin
GEOD = Geod(ellps="WGS84")


def _layout(root: Path) -> Path:
    """The config and the files beside it (lookups, vocabularies, the sensitive taxa), laid out as in the
    repository: config/rbins-darwin.yaml reads ../data/demo/darwin.sqlite unless RBINS_DARWIN_URL is set."""
    (root / "config").mkdir(parents=True)
    shutil.copy(REPO / "config" / "rbins-darwin.yaml", root / "config" / "rbins-darwin.yaml")
    for folder in ("lookups", "vocabularies", "sensitive"):
        shutil.copytree(REPO / "config" / folder, root / "config" / folder)
    return root / "config" / "rbins-darwin.yaml"


def _publish(config_path: Path, output: Path, url: str | None = None):
    """Run the config as shipped (the source from RBINS_DARWIN_URL when given), BDQ tests off (tested apart)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("RBINS_DARWIN_URL", raising=False)
        if url is not None:
            patch.setenv("RBINS_DARWIN_URL", url)
        patch.setenv("MOBILISE_OUTPUT", str(output))
        config = load_config(config_path)
        config.validation.bdq.enabled = False
        result = run_stages(config)
    assert result.version is not None, result
    return result


def _specimen(sid) -> str:
    return f"{BASE}specimen/{sid}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The DaRWIN-like database (SQLite) with its role table stored against its order (ids negated, so that a
    scan meets a specimen's last collector first: only order_by gives the order), and its publication."""
    root = tmp_path_factory.mktemp("rbins")
    config_path = _layout(root)
    database = root / "data" / "demo" / "darwin.sqlite"
    write_darwin(database, SPECIMENS, 42)
    with sqlite3.connect(database) as db:
        db.execute("UPDATE catalogue_people SET id = -id")
        assert db.execute("SELECT order_by FROM catalogue_people WHERE referenced_relation = 'specimens' "
                          "AND record_id = (SELECT record_id FROM catalogue_people GROUP BY record_id "
                          "HAVING max(order_by) > 1 LIMIT 1)").fetchone()[0] > 1  # the last one first
    result = _publish(config_path, root / "output")
    return root, database, result


@pytest.fixture(scope="module")
def source(demo) -> dict:
    """What the source database says, read with sqlite3 (not Mobilise)."""
    _, database, _ = demo
    facts: dict = {}
    with sqlite3.connect(database) as db:
        facts["restricted"] = {sid for (sid,) in db.execute("SELECT id FROM specimens WHERE restricted_access")}
        facts["collectors"] = defaultdict(list)
        for sid, name, uri in db.execute(
                "SELECT cp.record_id, p.formated_name, p.id FROM catalogue_people cp JOIN people p "
                "ON p.id = cp.people_ref WHERE cp.referenced_relation = 'specimens' "
                "AND cp.people_type = 'collector' ORDER BY cp.record_id, cp.order_by"):
            facts["collectors"][sid].append((name, f"{BASE}people/{uri}"))
        facts["identifications"] = defaultdict(list)
        for sid, iid, value, who in db.execute(
                "SELECT i.record_id, i.id, i.value_defined, p.formated_name FROM identifications i "
                "JOIN catalogue_people cp ON cp.referenced_relation = 'identifications' AND cp.record_id = i.id "
                "JOIN people p ON p.id = cp.people_ref ORDER BY i.record_id, i.order_by"):
            facts["identifications"][sid].append((f"{BASE}identification/{iid}", value, who))
        facts["media"] = defaultdict(set)
        for sid, uri in db.execute("SELECT record_id, uri FROM multimedia WHERE visible"):
            facts["media"][sid].add(uri)
        facts["hidden_media"] = {uri for (uri,) in db.execute("SELECT uri FROM multimedia WHERE NOT visible")}
        facts["measurements"] = defaultdict(set)
        for sid, kind, value, unit in db.execute(
                "SELECT record_id, property_type, lower_value, property_unit FROM properties"):
            facts["measurements"][sid].add((kind, value, unit))
        facts["points"] = {sid: (lat, lon, accuracy, taxon) for sid, lat, lon, accuracy, taxon in db.execute(
            "SELECT s.id, g.latitude, g.longitude, g.lat_long_accuracy, t.name FROM specimens s "
            "JOIN gtu g ON g.id = s.gtu_ref JOIN taxonomy t ON t.id = s.taxon_ref")}
    with open(REPO / "config" / "sensitive" / "rbins-sensitive-taxa.csv", encoding="utf-8", newline="") as file:
        protected = [row["scientificName"] for row in csv.DictReader(file)]
    facts["protected"] = {sid for sid, (_, _, _, taxon) in facts["points"].items()
                          if any(taxon.startswith(name + " ") for name in protected)}
    return facts


@pytest.fixture(scope="module")
def archive(demo) -> dict:
    """The archive's core rows by occurrenceID (terms by local name) and each row's extension rows by kind."""
    _, _, result = demo
    rows, extensions = {}, defaultdict(lambda: defaultdict(list))
    with DwCAReader(result.archive) as reader:
        # every extension row's coreid is a core id
        assert all(not orphans for orphans in reader.orphaned_extension_rows().values())
        assert len(reader.orphaned_extension_rows()) == 3
        for row in reader:
            rows[row.id] = {term.removeprefix(DWC): value for term, value in row.data.items()}
            for ext in row.extensions:
                kind = ext.rowtype.rsplit("/", 1)[-1]
                extensions[kind][row.id].append({t.rsplit("/", 1)[-1]: v for t, v in ext.data.items()})
    return {"rows": rows, "extensions": extensions}


def _package_tables(package: Path) -> dict[str, list[dict]]:
    with zipfile.ZipFile(package) as bundle:
        return {name[:-4]: list(csv.DictReader(io.TextIOWrapper(bundle.open(name), encoding="utf-8", newline="")))
                for name in bundle.namelist() if name.endswith(".csv")}


# --- the core: people in their order, code parts, dates ----------------------------------------------------------------

def test_people_come_from_the_role_table_in_its_order(demo, source, archive):
    several = 0
    for sid, people in source["collectors"].items():
        if sid in source["restricted"]:
            continue
        row = archive["rows"][_specimen(sid)]
        assert row["recordedBy"] == " | ".join(name for name, _ in people), sid
        assert row["recordedByID"] == " | ".join(uri for _, uri in people), sid
        several += len(people) > 1
        # the determiner of the current identification: the last one of the history
        assert row["identifiedBy"] == source["identifications"][sid][-1][2]
    assert several > 20


def test_code_parts_masked_dates_and_translated_countries(demo):
    root, database, result = demo
    with DwCAReader(result.archive) as reader:
        rows = {row.id: {t.removeprefix(DWC): v for t, v in row.data.items()} for row in reader}
    with sqlite3.connect(database) as db:
        sources = db.execute(
            "SELECT s.id, k.code_prefix, k.code_prefix_separator, k.code, k.code_suffix_separator, k.code_suffix, "
            "g.gtu_from_date, g.gtu_from_date_mask, g.gtu_to_date_mask, "
            "(SELECT tag_value FROM tag_groups t WHERE t.gtu_ref = g.id AND t.sub_group_name = 'country') "
            "FROM specimens s JOIN codes k ON k.record_id = s.id AND k.code_category = 'main' "
            "JOIN gtu g ON g.id = s.gtu_ref WHERE NOT s.restricted_access").fetchall()
    assert len(sources) == result.records
    seen = set()
    for sid, prefix, separator, code, suffix_separator, suffix, start, mask, end_mask, country in sources:
        row = rows[_specimen(sid)]
        assert row["catalogNumber"] == "".join(p or "" for p in (prefix, separator, code, suffix_separator, suffix))
        if end_mask == 0:  # no end: the date as precise as its mask
            assert row["eventDate"] == {56: start[:10], 48: start[:7], 32: start[:4], 0: ""}[mask], (sid, mask)
            seen.add(mask)
        if country in ("België", "Belgique", "Belgium"):
            assert row["countryCode"] == "BE" and row["country"] == "Belgium"
            seen.add(country)
    assert {32, 48, 56, 0, "België"} <= seen


# --- the extensions --------------------------------------------------------------------------------------------------

def test_media_identifications_and_measurements_belong_to_the_right_specimens(demo, source, archive):
    published = set(archive["rows"])
    media = archive["extensions"]["Multimedia"]
    identifications = archive["extensions"]["Identification"]
    measurements = archive["extensions"]["MeasurementOrFact"]
    for sid in range(1, SPECIMENS + 1):
        occurrence_id = _specimen(sid)
        if sid in source["restricted"]:
            assert occurrence_id not in published
            continue
        assert {m["identifier"] for m in media.get(occurrence_id, [])} == source["media"].get(sid, set())
        history = [(i["identificationID"], i["verbatimIdentification"], i["identifiedBy"])
                   for i in identifications.get(occurrence_id, [])]
        assert history == source["identifications"][sid]  # oldest first, each with its determiner
        assert {(m["measurementType"], m["measurementValue"], m["measurementUnit"])
                for m in measurements.get(occurrence_id, [])} == source["measurements"].get(sid, set())
    every_media = [m for rows in media.values() for m in rows]
    assert len(every_media) > 100 and not {m["identifier"] for m in every_media} & source["hidden_media"]
    assert {m["license"] for m in every_media} == {
        "http://creativecommons.org/licenses/by/4.0/legalcode",
        "http://creativecommons.org/publicdomain/zero/1.0/legalcode",
        "http://creativecommons.org/licenses/by-nc/4.0/legalcode"}
    assert {m["created"] for m in every_media} == {"2015-01-01"}
    some = next(i for rows in identifications.values() for i in rows if i["scientificNameAuthorship"])
    assert some["scientificNameAuthorship"] not in some["scientificName"]
    _, _, result = demo
    # DiSSCo drops a media object under CC BY-NC: flagged (a warning), published
    assert result.run_report.extension_flags["multimedia"]["DISSCO_MEDIA_LICENSE_NOT_ACCEPTED"] > 0


def test_every_table_accounts_for_its_rows_and_restricted_specimens_leave_with_theirs(demo, source):
    root, database, result = demo
    with sqlite3.connect(database) as db:
        counts = {"occurrence": "SELECT count(*) FROM specimens",
                  "multimedia": "SELECT count(*) FROM multimedia WHERE visible",
                  "identification": "SELECT count(*) FROM identifications",
                  "measurement_or_fact": "SELECT count(*) FROM properties"}
        extracted = {table: db.execute(sql).fetchone()[0] for table, sql in counts.items()}
    restricted = source["restricted"]
    assert restricted
    excluded = {"occurrence": len(restricted),
                "multimedia": sum(len(source["media"].get(sid, ())) for sid in restricted),
                "identification": sum(len(source["identifications"][sid]) for sid in restricted),
                "measurement_or_fact": sum(len(source["measurements"].get(sid, ())) for sid in restricted)}
    assert excluded["multimedia"] and excluded["identification"]
    for table, counted in result.tables.items():
        assert counted["extracted"] == extracted[table], table
        assert counted["published"] + counted["quarantined"] + counted["excluded"] == counted["extracted"], table
        assert counted["excluded"] == excluded[table], table  # the rows of restricted specimens, no orphans
        assert counted["quarantined"] == 0, table
    assert result.excluded == len(restricted) and result.records + result.rejected + result.excluded == SPECIMENS
    with open(result.excluded_file, encoding="utf-8", newline="") as file:
        listed = list(csv.DictReader(file))
    assert {row["occurrenceID"] for row in listed} == {_specimen(sid) for sid in restricted}
    assert {row["rule"] for row in listed} == {"not for publication (DaRWIN restricted access)"}
    # a restricted specimen's rows are in no published or quarantine file
    folder = Path(result.archive).parent
    for path in [*folder.glob("quarantine-*.csv"), *folder.glob("warnings-*.csv")]:
        with open(path, encoding="utf-8", newline="") as file:
            ids = {row.get("source.specimen_id") for row in csv.DictReader(file)}
        assert not ids & {str(sid) for sid in restricted}, path.name


# --- sensitive data --------------------------------------------------------------------------------------------------

def _shown(value: float) -> re.Pattern:
    """The number as a published file would show it, not inside a longer number."""
    return re.compile(rf"(?<![\d.]){re.escape(repr(value))}(?!\d)")


def test_protected_species_are_generalised_to_10_km_with_no_precise_point_anywhere(demo, source, archive):
    _, _, result = demo
    protected = source["protected"] - source["restricted"]
    generalised = exact = 0
    hidden = []
    for sid, (lat, lon, accuracy, _) in source["points"].items():
        if sid in source["restricted"]:
            continue
        row = archive["rows"][_specimen(sid)]
        if lat is None:
            continue
        published = float(row["decimalLatitude"]), float(row["decimalLongitude"])
        if sid not in protected:  # everything else keeps its point
            assert published == (lat, lon) and float(row["coordinateUncertaintyInMeters"]) == accuracy
            assert not row["dataGeneralizations"] and row["locality"]
            exact += 1
            continue
        _, _, moved = GEOD.inv(lon, lat, published[1], published[0])
        uncertainty = float(row["coordinateUncertaintyInMeters"])
        assert published != (lat, lon) and moved <= HALF_DIAGONAL_M, (sid, moved)
        assert accuracy + moved <= uncertainty <= accuracy + HALF_DIAGONAL_M  # widened, never narrowed
        assert "10 km" in row["dataGeneralizations"] and row["informationWithheld"] and not row["locality"]
        assert not row["verbatimLatitude"] and not row["verbatimLongitude"]
        hidden.append((lat, lon))
        generalised += 1
    assert generalised >= 5 and exact > 300
    # a point another specimen of the same gathering publishes is that specimen's; the others must not show
    public = {(lat, lon) for sid, (lat, lon, _, _) in source["points"].items()
              if sid not in source["protected"] and sid not in source["restricted"]}
    hidden = [_shown(value) for point in set(hidden) - public for value in point if len(repr(value)) >= 7]
    assert len(hidden) >= 5
    # no file anyone can download holds a protected specimen's point: the archive, the package, the run files
    folder = Path(result.archive).parent
    texts = {}
    for bundle in (result.archive, result.dwc_dp):
        with zipfile.ZipFile(bundle) as opened:
            texts.update({f"{Path(bundle).name}/{n}": opened.read(n).decode("utf-8") for n in opened.namelist()})
    for path in folder.iterdir():
        if path.suffix in (".csv", ".json", ".html", ".xml"):
            texts[path.name] = path.read_text(encoding="utf-8")
    leaks = [(name, pattern.pattern) for name, text in texts.items() for pattern in hidden if pattern.search(text)]
    assert leaks == []


# --- the Darwin Core Data Package ------------------------------------------------------------------------------------

def test_the_package_validates_and_holds_the_archive_facts(demo, archive, tmp_path):
    _, _, result = demo
    package = Path(result.dwc_dp)
    from frictionless import validate

    with zipfile.ZipFile(package) as bundle:
        bundle.extractall(tmp_path / "package")
    with offline_frictionless(schema_set()):  # the frictionless library itself (profile, keys), no network
        report = validate(str(tmp_path / "package" / "datapackage.json"))
    assert report.valid and report.stats["errors"] == 0, report.flatten(["resourceName", "rowNumber", "note"])
    validation = validate_package(package)
    assert validation.valid and validation.failed_layers() == [], validation.summary()
    descriptor = json.loads((tmp_path / "package" / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["profile"] == "http://rs.tdwg.org/dwc-dp/1.0/dwc-dp-profile.json"
    assert assert_keys_resolve(package, tmp_path) >= 10
    assert assert_same_facts(Path(result.archive), package) > 20 * result.records
    tables = _package_tables(package)
    assert {"event", "occurrence", "material", "identification", "agent", "material-agent-role",
            "identification-agent-role", "media", "material-media", "agent-identifier",
            "material-assertion"} <= set(tables)
    assert len(tables["material"]) == result.records

    # the identification history: the extension's rows, the same values
    from_archive = {i["identificationID"]: (core_id, i) for core_id, rows in
                    archive["extensions"]["Identification"].items() for i in rows}
    assert {row["identificationID"] for row in tables["identification"]} == set(from_archive)
    agents = {row["agent_pk"]: row for row in tables["agent"]}
    determiners = defaultdict(list)
    for role in tables["identification-agent-role"]:
        assert role["agentRole"] == "determiner"
        determiners[role["identification_fk"]].append(agents[role["agent_fk"]])
    for row in tables["identification"]:
        core_id, expected = from_archive[row["identificationID"]]
        assert row["occurrence_fk"] == row["materialEntity_fk"] == core_id
        for term in ("scientificName", "scientificNameAuthorship", "dateIdentified", "identifiedBy",
                     "identifiedByID", "verbatimIdentification"):
            assert row.get(term, "") == expected[term], (row["identificationID"], term)
        assert [(a["preferredAgentName"], a["agentID"]) for a in determiners[row["identification_pk"]]] == [
            (expected["identifiedBy"], expected["identifiedByID"])]

    # the collectors: agents in the collector role, in recordedBy's order, with their ids
    collectors = defaultdict(list)
    for role in tables["material-agent-role"]:
        assert role["agentRole"] == "collector"
        collectors[role["materialEntity_fk"]].append((int(role["agentRoleOrder"]), agents[role["agent_fk"]]))
    for occurrence_id, row in archive["rows"].items():
        people = [agent for _, agent in sorted(collectors[occurrence_id], key=lambda pair: pair[0])]
        assert " | ".join(a["preferredAgentName"] for a in people) == row["recordedBy"]
        assert " | ".join(a["agentID"] for a in people) == row["recordedByID"]
    assert {row["agent_fk"] for row in tables["agent-identifier"]} == {a for a in agents if agents[a]["agentID"]}

    # the media: the archive's, each linked to its specimen
    media = {row["media_pk"]: row for row in tables["media"]}
    linked = {(media[link["media_fk"]]["accessURI"], link["materialEntity_fk"]) for link in tables["material-media"]}
    assert linked == {(m["identifier"], core_id) for core_id, rows in archive["extensions"]["Multimedia"].items()
                      for m in rows}
    assert len(linked) == len(media)


# --- one config, two databases ---------------------------------------------------------------------------------------

def test_the_same_config_on_postgresql_publishes_the_same_archive_and_package(demo, postgres_db, tmp_path):  # noqa: F811
    root, _, on_sqlite = demo
    write_darwin(postgres_db, SPECIMENS, 42)
    on_postgres = _publish(root / "config" / "rbins-darwin.yaml", tmp_path / "postgres", postgres_db)
    assert on_postgres.tables == on_sqlite.tables and on_postgres.excluded == on_sqlite.excluded
    with zipfile.ZipFile(on_sqlite.archive) as first, zipfile.ZipFile(on_postgres.archive) as second:
        for name in ARCHIVE_FILES:
            assert first.read(name) == second.read(name), name
    with zipfile.ZipFile(on_sqlite.dwc_dp) as first, zipfile.ZipFile(on_postgres.dwc_dp) as second:
        names = [n for n in first.namelist() if n.endswith(".csv")]
        assert names == [n for n in second.namelist() if n.endswith(".csv")] and len(names) >= 10
        for name in names:
            assert first.read(name) == second.read(name), name


# --- the config ------------------------------------------------------------------------------------------------------

def test_an_extension_lookup_table_is_read_beside_the_config_and_a_missing_one_is_named(tmp_path):
    config_path = _layout(tmp_path)
    config = load_config(config_path)
    table = config.extensions["multimedia"].mapping["license"].lookup.table
    assert table == (tmp_path / "config" / "lookups" / "darwin-licences.csv").resolve()
    (tmp_path / "config" / "lookups" / "darwin-licences.csv").unlink()
    line = next(number for number, text in enumerate(config_path.read_text().splitlines(), start=1)
                if "license: {lookup:" in text)
    with pytest.raises(ConfigError, match=rf"rbins-darwin.yaml:{line}: extensions.multimedia.mapping.license"
                                          r".*file not found"):
        load_config(config_path)


def test_rows_of_excluded_records_are_excluded_not_orphaned(tmp_path):
    """resolve_core_ids: a key only excluded records have is EXCLUDED (no issue: the row leaves with its record);
    one shared with a quarantined record stays CORE_REJECTED, an unknown one ORPHANED."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mobilise.validators.integrity import (CORE_REJECTED, EXCLUDED, ORPHANED, PUBLISHED, core_keys,
                                               integrity_issues, resolve_core_ids)

    kept = core_keys(pa.array(["1", "2", "4"]), pa.array(["s1", "s2", "s4"]), np.array([True, False, False]))
    excluded = core_keys(pa.array(["3", "4"]), pa.array(["s3", "s4"]), np.zeros(2, dtype=bool),
                         rules=pa.array(["restricted", "restricted"]))
    pq.write_table(kept, tmp_path / "a.parquet")
    pq.write_table(excluded, tmp_path / "b.parquet")
    keys = pa.array(["1", "2", "3", "4", "5"])
    core = resolve_core_ids(keys, [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")], tmp_path)
    status = core.status
    assert status.tolist() == [PUBLISHED, CORE_REJECTED, EXCLUDED, CORE_REJECTED, ORPHANED]
    assert core.ids.to_pylist() == ["s1", None, "s3", None, None]  # an excluded row keeps its record's id
    assert core.rules.to_pylist() == [None, None, "restricted", None, None]
    issues = integrity_issues(keys, status)
    assert list(zip(issues["row"].to_pylist(), issues["flag"].to_pylist())) == [
        (1, "EXTENSION_CORE_REJECTED"), (3, "EXTENSION_CORE_REJECTED"), (4, "EXTENSION_ORPHANED")]
