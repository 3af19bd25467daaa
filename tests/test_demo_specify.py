"""The Specify-like herbarium demo (config/meise-specify.yaml, samples/specify.py; issue 10 item 8, issue 12 item 4):
collectors and preparations joined from child tables, the determination history and the images as extensions,
the living collection excluded by a filter, protected orchids generalised, a DwC-DP beside the archive; the same
config on SQLite and on the real MariaDB publishes the same archive."""
from __future__ import annotations

import sqlite3
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from mobilise.samples.specify import write_specify
from tests.demo_helpers import assert_counts_add_up, assert_valid_package, demo_folder, publish
from tests.services import mariadb_db  # noqa: F401  (fixture)

CONFIG = "meise-specify.yaml"
SPECIMENS = 500
ORCHIDS = {"Ophrys apifera", "Orchis mascula", "Dactylorhiza maculata"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = demo_folder(tmp_path_factory.mktemp("specify"), CONFIG)
    write_specify(root / "data" / "demo" / "specify.sqlite", SPECIMENS, 42)
    return root


@pytest.fixture(scope="module")
def published(demo, tmp_path_factory):
    with pytest.MonkeyPatch.context() as monkeypatch:
        return publish(demo, CONFIG, tmp_path_factory.mktemp("out"), monkeypatch)


def _source(demo: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(demo / "data" / "demo" / "specify.sqlite") as db:
        return db.execute(sql).fetchall()


def test_every_table_is_accounted_for_and_the_living_collection_is_excluded(demo, published):
    result, core, extensions = published
    assert_counts_add_up(result)
    living = {guid for (guid,) in _source(demo, "SELECT GUID FROM collectionobject co JOIN collection c "
                                                "ON c.CollectionID = co.CollectionID WHERE c.Code = 'LIV'")}
    assert living and result.excluded == len(living) and result.rejected == 0
    assert result.excluded_by == {"the living collection is not published": len(living)}
    assert set(core) == {f"urn:uuid:{guid}" for (guid,) in _source(demo, "SELECT GUID FROM collectionobject")} \
        - {f"urn:uuid:{guid}" for guid in living}
    # the extension rows of the excluded objects are excluded with them: counted, not quarantined as orphans
    [(determinations,)] = _source(demo, "SELECT count(*) FROM determination")
    [(living_determinations,)] = _source(demo, "SELECT count(*) FROM determination d JOIN collectionobject co "
                                               "ON co.CollectionObjectID = d.CollectionObjectID "
                                               "WHERE co.CollectionID = 5")
    assert result.tables["identification"] == {"extracted": determinations, "excluded": living_determinations,
                                               "quarantined": 0, "published": determinations - living_determinations}
    [(images,)] = _source(demo, "SELECT count(*) FROM collectionobjectattachment")
    assert result.tables["multimedia"]["extracted"] == images
    assert result.tables["multimedia"]["excluded"] > 0
    assert len(extensions["Identification"]) == result.tables["identification"]["published"]
    assert len(extensions["Multimedia"]) == result.tables["multimedia"]["published"]


def test_collectors_and_preparations_come_joined_in_their_order(demo, published):
    _, core, _ = published
    collectors = defaultdict(list)
    for guid, order, first, last, agent in _source(
            demo, "SELECT co.GUID, c.OrderNumber, a.FirstName, a.LastName, a.AgentID FROM collectionobject co "
                  "JOIN collector c ON c.CollectingEventID = co.CollectingEventID "
                  "JOIN agent a ON a.AgentID = c.AgentID"):
        collectors[f"urn:uuid:{guid}"].append((order, f"{first} {last}", agent))
    several = 0
    for occurrence_id, row in core.items():
        people = sorted(collectors[occurrence_id])
        assert row["recordedBy"] == " | ".join(name for _, name, _ in people)
        assert row["recordedByID"] == " | ".join(
            f"https://data.example.org/meise-specify-demo/agent/{agent}" for _, _, agent in people)
        several += len(people) > 1
    assert several > 10
    preparations = defaultdict(list)
    for guid, name in _source(demo, "SELECT co.GUID, pt.Name FROM preparation p JOIN preptype pt ON "
                                    "pt.PrepTypeID = p.PrepTypeID JOIN collectionobject co ON "
                                    "co.CollectionObjectID = p.CollectionObjectID ORDER BY p.PreparationID"):
        preparations[f"urn:uuid:{guid}"].append(name)
    assert all(row["preparations"] == " | ".join(preparations[i]) for i, row in core.items())
    assert sum(" | Seed" in row["preparations"] for row in core.values()) > 10


def test_the_accepted_identification_is_the_core_name_and_the_history_is_whole(demo, published):
    _, core, extensions = published
    by_record = defaultdict(list)
    for occurrence_id, row in extensions["Identification"]:
        by_record[occurrence_id].append(row)
    history = defaultdict(list)
    for guid, name, current in _source(demo, "SELECT co.GUID, t.FullName, d.IsCurrent FROM determination d "
                                             "JOIN taxon t ON t.TaxonID = d.TaxonID JOIN collectionobject co ON "
                                             "co.CollectionObjectID = d.CollectionObjectID"):
        history[f"urn:uuid:{guid}"].append((name, "accepted" if current else "superseded"))
    for occurrence_id, row in core.items():
        rows = by_record[occurrence_id]
        assert sorted((r["scientificName"], r["identificationVerificationStatus"]) for r in rows) == \
            sorted(history[occurrence_id])
        accepted = [r for r in rows if r["identificationVerificationStatus"] == "accepted"]
        assert len(accepted) == 1 and accepted[0]["scientificName"] == row["scientificName"]
        assert accepted[0]["identifiedBy"] == row["identifiedBy"]
    assert sum(len(rows) > 1 for rows in by_record.values()) > 50


def test_images_are_published_with_their_links_and_protected_orchids_are_generalised(published):
    result, core, extensions = published
    media = extensions["Multimedia"]
    assert media and all(r["identifier"].startswith("https://images.example.org/meise/") and
                         r["format"] == "image/jpeg" and r["license"] for _, r in media)
    orchids = [row for row in core.values() if row["scientificName"] in ORCHIDS]
    located = [row for row in orchids if row["decimalLatitude"]]
    assert located and result.issues["COORDINATES_GENERALISED"] == len(located)
    for row in located:
        assert len(row["decimalLatitude"].partition(".")[2]) <= 1
        assert len(row["decimalLongitude"].partition(".")[2]) <= 1
        assert row["locality"] == "" and row["verbatimCoordinates"] == ""
        assert "protected orchids" in row["dataGeneralizations"] and float(row["coordinateUncertaintyInMeters"]) > 5000
    others = [row for row in core.values() if row["scientificName"] not in ORCHIDS and row["decimalLatitude"]]
    assert all(row["locality"] and not row["dataGeneralizations"] for row in others)
    assert any(len(row["decimalLatitude"].partition(".")[2]) > 1 for row in others)


def test_the_package_is_valid_and_holds_the_archive_facts(published, tmp_path):
    result, core, extensions = published
    tables = assert_valid_package(result, tmp_path)
    assert {row["materialEntity_pk"] for row in tables["material"]} == set(core)
    # every determination is an identification of its material; collectors and determiners are agents in roles
    assert len(tables["identification"]) == len(extensions["Identification"])
    assert all(row["materialEntity_fk"] in core for row in tables["identification"])
    assert len(tables["material-agent-role"]) == sum(len(row["recordedBy"].split(" | ")) for row in core.values()
                                                     if row["recordedBy"])
    assert len(tables["media"]) == len(tables["material-media"]) == len(extensions["Multimedia"])


def test_the_same_config_on_mariadb_publishes_the_same_archive(demo, published, mariadb_db, tmp_path,  # noqa: F811
                                                               monkeypatch):
    write_specify(mariadb_db, SPECIMENS, 42)
    result, core, extensions = publish(demo, CONFIG, tmp_path / "mariadb", monkeypatch, "MEISE_SPECIFY_URL",
                                       mariadb_db)
    on_sqlite, core_sqlite, extensions_sqlite = published
    assert result.tables == on_sqlite.tables and result.excluded_by == on_sqlite.excluded_by
    assert core == core_sqlite
    assert extensions == extensions_sqlite
    with zipfile.ZipFile(result.archive) as mariadb, zipfile.ZipFile(on_sqlite.archive) as sqlite:
        for name in ("occurrence.txt", "identification.txt", "multimedia.txt", "meta.xml"):
            assert mariadb.read(name) == sqlite.read(name), name
    assert_valid_package(result, tmp_path)


def test_lambert_72_is_converted_and_partial_dates_stay_partial(demo, published):
    result, rows, _ = published
    sources = _source(demo, "SELECT co.GUID, l.Datum, e.StartDate, e.StartDatePrecision FROM collectionobject co "
                            "JOIN collectingevent e ON e.CollectingEventID = co.CollectingEventID "
                            "JOIN locality l ON l.LocalityID = e.LocalityID")
    lambert, partial = 0, 0
    for guid, datum, start, precision in sources:
        row = rows.get(f"urn:uuid:{guid}")
        if row is None:  # a living collection accession, excluded
            continue
        if datum == "EPSG:31370":  # Belgian Lambert 72 metres: a point in Belgium, its system kept
            lambert += 1
            assert 49.5 < float(row["decimalLatitude"]) < 51.5 and 2.5 < float(row["decimalLongitude"]) < 6.4
            assert row["geodeticDatum"] == "EPSG:4326" and row["countryCode"] == "BE"
            assert row["verbatimSRS"] == "EPSG:31370" or row["dataGeneralizations"]
        if start is not None:
            assert row["eventDate"] == {1: start[:10], 2: start[:7], 3: start[:4]}[precision]
            partial += precision != 1
    assert lambert > 5 and partial > 20
    assert "COUNTRY_COORDINATE_MISMATCH" not in result.issues
