"""A Specify-like herbarium database (Specify 6/7's table and column shapes on MariaDB: lower-case table names,
CamelCase columns), the demo source of config/meise-specify.yaml (docs/demo-institutions.md).

``SPECIFY``: the tables (SQLAlchemy Core, one definition for MariaDB and SQLite):

- ``collection`` (CollectionID, CollectionName, Code: ``BR`` the herbarium, ``LIV`` the living collection, whose
  accessions, every 25th collection object, are not for publication); ``agent`` (AgentID, AgentType 1 a person,
  FirstName, LastName); ``preptype`` (PrepTypeID, Name);
- ``taxon`` (TaxonID, Name the epithet, FullName, Author, RankID: 10 kingdom, 30 division, 60 class, 100 order,
  140 family, 180 genus, 220 species, 230 subspecies; ParentID the parent tree);
- ``geography`` (GeographyID, Name, GeographyCode ISO 3166-1 alpha-2, RankID 200 country);
- ``locality`` (LocalityID, LocalityName, GeographyID, Latitude1 / Longitude1 and ``Datum`` the point's reference
  system: ``EPSG:4326`` decimal degrees for most, ``EPSG:31370`` (Belgian Lambert 72) or ``EPSG:32631`` (UTM
  31N) for some, whose Longitude1 / Latitude1 then hold the easting / northing in metres; LatLongAccuracy metres);
- ``collectingevent`` (CollectingEventID, StartDate + StartDatePrecision: 1 the full date, 2 the year and month,
  3 the year, Specify's PartialDateEnum; StationFieldNumber, LocalityID, VerbatimDate);
- ``collector`` (CollectorID, CollectingEventID, AgentID, OrderNumber, IsPrimary): the one-to-many collectors;
- ``collectionobject`` (CollectionObjectID, CollectionID, CatalogNumber zero-padded to 9 digits, GUID,
  CollectingEventID, CountAmt, Remarks, TimestampModified);
- ``determination`` (DeterminationID, CollectionObjectID, TaxonID, IsCurrent, DeterminedDate +
  DeterminedDatePrecision, DeterminerID, TypeStatusName, Qualifier): the history, one current;
- ``preparation`` (PreparationID, CollectionObjectID, PrepTypeID, CountAmt): one per object, and a seed packet
  besides for every 10th;
- ``attachment`` (AttachmentID, AttachmentLocation, OrigFilename, MimeType, Title, License, CopyrightHolder) and
  ``collectionobjectattachment`` (CollectionObjectAttachmentID, CollectionObjectID, AttachmentID, Ordinal).

``generate_specify(specimens, seed)`` yields ``(table, {column: values})`` in dependency order, deterministic for
``(specimens, seed)``; ``write_specify(target, specimens, seed)`` writes them (samples/writing.py).
"""
from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from datetime import date, datetime

import sqlalchemy as sa
from pyproj import Transformer

from mobilise.samples.generation import point_in_country
from mobilise.samples.reference import COUNTRIES, FAMILY_NAMES, GIVEN_NAMES, TAXA
from mobilise.samples.schema import _MARIADB, _REAL, _fk, _pk
from mobilise.samples.writing import write_database

__all__ = ["SPECIFY", "generate_specify", "write_specify"]

SPECIFY = sa.MetaData()


sa.Table("collection", SPECIFY, _pk("CollectionID"), sa.Column("CollectionName", sa.String(64)),
         sa.Column("Code", sa.String(32)), **_MARIADB)
sa.Table("agent", SPECIFY, _pk("AgentID"), sa.Column("AgentType", sa.SmallInteger, nullable=False),
         sa.Column("FirstName", sa.String(50)), sa.Column("LastName", sa.String(256)), **_MARIADB)
sa.Table("preptype", SPECIFY, _pk("PrepTypeID"), sa.Column("Name", sa.String(64), nullable=False), **_MARIADB)
sa.Table("taxon", SPECIFY, _pk("TaxonID"), sa.Column("Name", sa.String(256), nullable=False),
         sa.Column("FullName", sa.String(512)), sa.Column("Author", sa.String(128)),
         sa.Column("RankID", sa.Integer, nullable=False), _fk("ParentID", "taxon.TaxonID", nullable=True),
         **_MARIADB)
sa.Table("geography", SPECIFY, _pk("GeographyID"), sa.Column("Name", sa.String(128), nullable=False),
         sa.Column("GeographyCode", sa.String(24)), sa.Column("RankID", sa.Integer, nullable=False), **_MARIADB)
sa.Table("locality", SPECIFY, _pk("LocalityID"), sa.Column("LocalityName", sa.String(1024), nullable=False),
         _fk("GeographyID", "geography.GeographyID", nullable=True), sa.Column("Latitude1", _REAL),
         sa.Column("Longitude1", _REAL), sa.Column("Datum", sa.String(50)), sa.Column("LatLongAccuracy", _REAL),
         **_MARIADB)
sa.Table("collectingevent", SPECIFY, _pk("CollectingEventID"), sa.Column("StartDate", sa.Date),
         sa.Column("StartDatePrecision", sa.SmallInteger), sa.Column("VerbatimDate", sa.String(50)),
         sa.Column("StationFieldNumber", sa.String(50)), _fk("LocalityID", "locality.LocalityID", nullable=True),
         **_MARIADB)
sa.Table("collector", SPECIFY, _pk("CollectorID"), _fk("CollectingEventID", "collectingevent.CollectingEventID"),
         _fk("AgentID", "agent.AgentID"), sa.Column("OrderNumber", sa.Integer, nullable=False),
         sa.Column("IsPrimary", sa.Boolean, nullable=False), **_MARIADB)
sa.Table("collectionobject", SPECIFY, _pk("CollectionObjectID"), _fk("CollectionID", "collection.CollectionID"),
         sa.Column("CatalogNumber", sa.String(32)), sa.Column("GUID", sa.String(128)),
         _fk("CollectingEventID", "collectingevent.CollectingEventID", nullable=True),
         sa.Column("CountAmt", sa.Integer), sa.Column("Remarks", sa.Text),
         sa.Column("TimestampModified", sa.DateTime), **_MARIADB)
sa.Table("determination", SPECIFY, _pk("DeterminationID"),
         _fk("CollectionObjectID", "collectionobject.CollectionObjectID"), _fk("TaxonID", "taxon.TaxonID"),
         sa.Column("IsCurrent", sa.Boolean, nullable=False), sa.Column("DeterminedDate", sa.Date),
         sa.Column("DeterminedDatePrecision", sa.SmallInteger),
         _fk("DeterminerID", "agent.AgentID", nullable=True), sa.Column("TypeStatusName", sa.String(50)),
         sa.Column("Qualifier", sa.String(16)), **_MARIADB)
sa.Table("preparation", SPECIFY, _pk("PreparationID"),
         _fk("CollectionObjectID", "collectionobject.CollectionObjectID"), _fk("PrepTypeID", "preptype.PrepTypeID"),
         sa.Column("CountAmt", sa.Integer), **_MARIADB)
sa.Table("attachment", SPECIFY, _pk("AttachmentID"), sa.Column("AttachmentLocation", sa.String(128)),
         sa.Column("OrigFilename", sa.Text), sa.Column("MimeType", sa.String(64)), sa.Column("Title", sa.String(255)),
         sa.Column("License", sa.String(64)), sa.Column("CopyrightHolder", sa.String(64)), **_MARIADB)
sa.Table("collectionobjectattachment", SPECIFY, _pk("CollectionObjectAttachmentID"),
         _fk("CollectionObjectID", "collectionobject.CollectionObjectID"),
         _fk("AttachmentID", "attachment.AttachmentID"), sa.Column("Ordinal", sa.Integer, nullable=False),
         **_MARIADB)

RANKS = {"kingdom": 10, "phylum": 30, "class": 60, "order": 100, "family": 140, "genus": 180, "species": 220,
         "subspecies": 230}
PREP_TYPES = ("Sheet", "Packet", "Spirit", "Wood section", "Seed")
TYPE_STATUS = {None: 92, "Holotype": 1, "Isotype": 4, "Lectotype": 1, "Syntype": 2}
PRECISIONS = {1: 70, 2: 15, 3: 15}
# Belgian localities well inside the country, for Lambert 72 (EPSG:31370) and UTM 31N (EPSG:32631) points
_INNER_BELGIUM = (50.3, 51.0, 3.6, 5.6)
_PROJECTED = {"EPSG:31370": Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True),
              "EPSG:32631": Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)}


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _partial(rng: random.Random, year: int) -> tuple[date, int]:
    precision = _pick(rng, PRECISIONS)
    month = rng.randint(1, 12) if precision <= 2 else 1
    return date(year, month, rng.randint(1, 28) if precision == 1 else 1), precision


def _taxa() -> tuple[dict[str, list], list[int]]:
    rows: dict[str, list] = {k: [] for k in ("TaxonID", "Name", "FullName", "Author", "RankID", "ParentID")}
    ids: dict[tuple, int] = {}
    leaves = []

    def node(path: tuple, name: str, full: str, rank: str, author=None) -> int:
        if path not in ids:
            ids[path] = len(ids) + 1
            for key, value in (("TaxonID", ids[path]), ("Name", name), ("FullName", full),
                               ("Author", author), ("RankID", RANKS[rank]), ("ParentID", ids.get(path[:-1]))):
                rows[key].append(value)
        return ids[path]

    for taxon in TAXA:
        if taxon["collection"] != "BR":
            continue
        path: tuple = ()
        for rank in ("kingdom", "phylum", "class", "order", "family", "genus"):
            path += (taxon[rank],)
            node(path, taxon[rank], taxon[rank], rank)
        species = f"{taxon['genus']} {taxon['specificEpithet']}"
        path += (species,)
        infra = taxon["infraspecificEpithet"]
        leaf = node(path, taxon["specificEpithet"], species, "species", None if infra else
                    taxon["scientificNameAuthorship"])
        if infra:
            leaf = node(path + (infra,), infra, f"{species} subsp. {infra}", "subspecies",
                        taxon["scientificNameAuthorship"])
        leaves.append(leaf)
    return rows, leaves


def generate_specify(specimens: int = 2000, seed: int = 42) -> Iterator[tuple[str, dict[str, list]]]:
    """The rows of a Specify-like herbarium with ``specimens`` collection objects, table by table."""
    rng = random.Random(seed)
    # the herbarium (BR) is published; the living collection's accessions (LIV, every 25th object) are not
    yield "collection", {"CollectionID": [4, 5], "CollectionName": ["Herbarium", "Living collection"],
                         "Code": ["BR", "LIV"]}
    agents = 150
    yield "agent", {"AgentID": list(range(1, agents + 1)), "AgentType": [1] * agents,
                    "FirstName": [rng.choice(GIVEN_NAMES) for _ in range(agents)],
                    "LastName": [rng.choice(FAMILY_NAMES) for _ in range(agents)]}
    yield "preptype", {"PrepTypeID": list(range(1, len(PREP_TYPES) + 1)), "Name": list(PREP_TYPES)}
    taxa, leaves = _taxa()
    yield "taxon", taxa
    yield "geography", {"GeographyID": list(range(1, len(COUNTRIES) + 1)),
                        "Name": [max(c.labels, key=lambda label: (len(label) > 2, c.labels[label])) for c in COUNTRIES],
                        "GeographyCode": [c.code for c in COUNTRIES], "RankID": [200] * len(COUNTRIES)}

    localities = max(1, specimens // 4)
    loc: dict[str, list] = {k: [] for k in ("LocalityID", "LocalityName", "GeographyID", "Latitude1", "Longitude1",
                                            "Datum", "LatLongAccuracy")}
    weights = {i: (6.0 if c.code == "BE" else c.weight) for i, c in enumerate(COUNTRIES, 1)}
    for lid in range(1, localities + 1):
        gid = _pick(rng, weights)
        country = COUNTRIES[gid - 1]
        system, x, y = None, None, None
        if country.code == "BE" and rng.random() < 0.5:
            lat0, lat1, lon0, lon1 = _INNER_BELGIUM
            system = rng.choice(list(_PROJECTED))
            x, y = _PROJECTED[system].transform(rng.uniform(lon0, lon1), rng.uniform(lat0, lat1))
            x, y = round(x), round(y)
        elif rng.random() < 0.85:
            lat, lon = point_in_country(rng, country.code, country.box)
            system, x, y = "EPSG:4326", round(lon, 5), round(lat, 5)
        for key, value in (("LocalityID", lid), ("LocalityName", rng.choice(country.places)), ("GeographyID", gid),
                           ("Latitude1", y), ("Longitude1", x), ("Datum", system),
                           ("LatLongAccuracy", rng.choice([50, 250, 1000]) if system else None)):
            loc[key].append(value)
    yield "locality", loc

    events = max(1, specimens // 2)
    event: dict[str, list] = {k: [] for k in ("CollectingEventID", "StartDate", "StartDatePrecision", "VerbatimDate",
                                              "StationFieldNumber", "LocalityID")}
    collectors: dict[str, list] = {k: [] for k in ("CollectorID", "CollectingEventID", "AgentID", "OrderNumber",
                                                   "IsPrimary")}
    for eid in range(1, events + 1):
        dated = rng.random() < 0.95
        start, precision = _partial(rng, rng.randint(1830, 2023)) if dated else (None, None)
        for key, value in (("CollectingEventID", eid), ("StartDate", start), ("StartDatePrecision", precision),
                           ("VerbatimDate", start.strftime("%d.%m.%Y") if start and precision == 1 else None),
                           ("StationFieldNumber", f"{rng.choice(FAMILY_NAMES)} {rng.randint(1, 9999)}"),
                           ("LocalityID", rng.randint(1, localities))):
            event[key].append(value)
        for order in range(rng.choice([1, 1, 1, 2, 3])):
            for key, value in (("CollectorID", len(collectors["CollectorID"]) + 1), ("CollectingEventID", eid),
                               ("AgentID", rng.randint(1, agents)), ("OrderNumber", order),
                               ("IsPrimary", order == 0)):
                collectors[key].append(value)
    yield "collectingevent", event
    yield "collector", collectors

    objects: dict[str, list] = {k: [] for k in ("CollectionObjectID", "CollectionID", "CatalogNumber", "GUID",
                                                "CollectingEventID", "CountAmt", "Remarks", "TimestampModified")}
    dets: dict[str, list] = {k: [] for k in ("DeterminationID", "CollectionObjectID", "TaxonID", "IsCurrent",
                                             "DeterminedDate", "DeterminedDatePrecision", "DeterminerID",
                                             "TypeStatusName", "Qualifier")}
    preps: dict[str, list] = {k: [] for k in ("PreparationID", "CollectionObjectID", "PrepTypeID", "CountAmt")}
    attachments: dict[str, list] = {k: [] for k in ("AttachmentID", "AttachmentLocation", "OrigFilename", "MimeType",
                                                    "Title", "License", "CopyrightHolder")}
    links: dict[str, list] = {k: [] for k in ("CollectionObjectAttachmentID", "CollectionObjectID", "AttachmentID",
                                              "Ordinal")}
    namespace = uuid.UUID(int=seed)
    for oid in range(1, specimens + 1):
        for key, value in (("CollectionObjectID", oid), ("CollectionID", 5 if oid % 25 == 0 else 4),
                           ("CatalogNumber", f"{oid:09d}"),
                           ("GUID", str(uuid.uuid5(namespace, f"specify:{oid}"))),
                           ("CollectingEventID", rng.randint(1, events)), ("CountAmt", 1),
                           ("Remarks", rng.choice([None] * 8 + ["Duplicate sent to K", "Ex herb. Crépin"])),
                           ("TimestampModified", datetime(2024, 1, 1, 12) if oid % 2 else datetime(2025, 6, 1, 9))):
            objects[key].append(value)
        history = rng.choice([1, 1, 2, 3])
        for number in range(history):
            when, precision = _partial(rng, rng.randint(1900, 2024))
            for key, value in (("DeterminationID", len(dets["DeterminationID"]) + 1), ("CollectionObjectID", oid),
                               ("TaxonID", rng.choice(leaves)), ("IsCurrent", number == history - 1),
                               ("DeterminedDate", when), ("DeterminedDatePrecision", precision),
                               ("DeterminerID", rng.randint(1, agents)),
                               ("TypeStatusName", _pick(rng, TYPE_STATUS) if number == history - 1 else None),
                               ("Qualifier", rng.choice([None, None, None, None, "cf."]))):
                dets[key].append(value)
        for key, value in (("PreparationID", oid), ("CollectionObjectID", oid),
                           ("PrepTypeID", rng.choices([1, 2, 3, 4, 5], [80, 8, 5, 2, 5])[0]), ("CountAmt", 1)):
            preps[key].append(value)
        if oid % 10 == 0:  # a seed packet beside the sheet: two preparations
            for key, value in (("PreparationID", specimens + oid), ("CollectionObjectID", oid), ("PrepTypeID", 5),
                               ("CountAmt", 1)):
                preps[key].append(value)
        if rng.random() < 0.6:  # most sheets are imaged
            aid = len(attachments["AttachmentID"]) + 1
            for key, value in (("AttachmentID", aid), ("AttachmentLocation", f"{uuid.uuid5(namespace, str(aid))}.jpg"),
                               ("OrigFilename", f"BR{oid:013d}.jpg"), ("MimeType", "image/jpeg"),
                               ("Title", f"BR{oid:013d}"), ("License", rng.choice(["CC BY-SA 4.0", "CC0 1.0"])),
                               ("CopyrightHolder", "Meise Botanic Garden")):
                attachments[key].append(value)
            for key, value in (("CollectionObjectAttachmentID", aid), ("CollectionObjectID", oid),
                               ("AttachmentID", aid), ("Ordinal", 0)):
                links[key].append(value)
    yield "collectionobject", objects
    yield "determination", dets
    yield "preparation", preps
    yield "attachment", attachments
    yield "collectionobjectattachment", links


def write_specify(target: str | os.PathLike, specimens: int = 2000, seed: int = 42) -> str:
    """Write the Specify-like database to ``target``: a SQLite file or a MariaDB URL (its database, e.g.
    ``mysql+pymysql://root@127.0.0.1:3306/demo_specify``, created when missing). Returns the target written."""
    return write_database(SPECIFY, generate_specify(specimens, seed), target, "demo_specify")
