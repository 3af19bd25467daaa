"""A DaRWIN-like zoology collection database (RBINS's DaRWIN: https://github.com/naturalsciences/darwin), the
demo source of config/rbins-darwin.yaml (docs/demo-institutions.md).

``DARWIN``: the tables (SQLAlchemy Core, one definition for SQLite and PostgreSQL), after DaRWIN's own names:

- ``collections`` (id, code, name); ``people`` (id, formated_name, given_name, family_name);
- ``catalogue_levels`` (id, level_name) and ``taxonomy`` (id, name *with* its authorship, as DaRWIN keeps it,
  level_ref, parent_ref: kingdom down to species or subspecies);
- ``gtu`` (gathering: code, gtu_from_date + gtu_from_date_mask, gtu_to_date + gtu_to_date_mask, latitude,
  longitude in decimal degrees WGS84, lat_long_accuracy in metres, elevation in metres) and ``tag_groups``
  (gtu_ref, group_name, sub_group_name ``country`` / ``exact_site``, tag_value: the country as typed, often Dutch);
- ``specimens`` (id, collection_ref, gtu_ref, taxon_ref the current determination, type, sex, stage,
  specimen_count_min, specimen_count_max, restricted_access: true for a specimen not for publication, about 3 %);
- ``codes`` (referenced_relation ``specimens``, record_id, code_category ``main`` / ``secondary``, code_prefix,
  code_prefix_separator, code, code_suffix_separator, code_suffix);
- ``catalogue_people`` (referenced_relation ``specimens`` / ``identifications``, record_id, people_type
  ``collector`` / ``identifier``, order_by, people_ref): the one-to-many people of a record, in order;
- ``identifications`` (referenced_relation ``specimens``, record_id, notion_concerned ``taxonomy``, notion_date +
  notion_date_mask, value_defined, determination_status, order_by: the last one is the current one);
- ``multimedia`` (referenced_relation ``specimens``, record_id, type, title, uri, mime_type, creation_date,
  licence, visible);
- ``properties`` (referenced_relation ``specimens``, record_id, property_type ``body length`` / ``body mass`` /
  ``wingspan``, lower_value as text, property_unit ``mm`` / ``g``, property_method): DaRWIN's measurements.

Dates are timestamps with DaRWIN's FuzzyDateTime masks: 32 the year is known (stored as 1 January), 48 the year
and month (stored as the 1st), 56 the full date, 0 unknown (``0001-01-01``, and ``2038-12-31`` for an unknown
end). ``generate_darwin(specimens, seed)`` yields ``(table, {column: values})`` in dependency order,
deterministic for ``(specimens, seed)`` (restricted_access and properties are drawn from a generator of their
own, so adding them left every other value as it was); ``write_darwin(target, specimens, seed)`` writes them (samples/writing.py).
"""
from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa

from mobilise.samples.generation import point_in_country
from mobilise.samples.reference import COLLECTIONS, COUNTRIES, FAMILY_NAMES, GIVEN_NAMES, TAXA
from mobilise.samples.schema import _REAL
from mobilise.samples.writing import write_database

__all__ = ["DARWIN", "generate_darwin", "write_darwin", "UNKNOWN_FROM", "UNKNOWN_TO"]

DARWIN = sa.MetaData()
UNKNOWN_FROM = datetime(1, 1, 1)
UNKNOWN_TO = datetime(2038, 12, 31)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)


def _ref(name: str, target: str | None = None, nullable: bool = False) -> sa.Column:
    key = [sa.ForeignKey(target)] if target else []
    return sa.Column(name, sa.Integer, *key, nullable=nullable, index=True)


sa.Table("collections", DARWIN, _id(), sa.Column("code", sa.String(32), nullable=False),
         sa.Column("name", sa.String(255), nullable=False))
sa.Table("people", DARWIN, _id(), sa.Column("formated_name", sa.String(255), nullable=False),
         sa.Column("given_name", sa.String(128)), sa.Column("family_name", sa.String(128)))
sa.Table("catalogue_levels", DARWIN, _id(), sa.Column("level_name", sa.String(32), nullable=False))
sa.Table("taxonomy", DARWIN, _id(), sa.Column("name", sa.String(255), nullable=False),
         _ref("level_ref", "catalogue_levels.id"), _ref("parent_ref", "taxonomy.id", nullable=True))
sa.Table("gtu", DARWIN, _id(), sa.Column("code", sa.String(64)),
         sa.Column("gtu_from_date", sa.DateTime, nullable=False),
         sa.Column("gtu_from_date_mask", sa.Integer, nullable=False),
         sa.Column("gtu_to_date", sa.DateTime, nullable=False),
         sa.Column("gtu_to_date_mask", sa.Integer, nullable=False),
         sa.Column("latitude", _REAL), sa.Column("longitude", _REAL), sa.Column("lat_long_accuracy", _REAL),
         sa.Column("elevation", _REAL))
sa.Table("tag_groups", DARWIN, _id(), _ref("gtu_ref", "gtu.id"), sa.Column("group_name", sa.String(64)),
         sa.Column("sub_group_name", sa.String(64)), sa.Column("tag_value", sa.String(255)))
sa.Table("specimens", DARWIN, _id(), _ref("collection_ref", "collections.id"), _ref("gtu_ref", "gtu.id"),
         _ref("taxon_ref", "taxonomy.id"), sa.Column("type", sa.String(32)), sa.Column("sex", sa.String(32)),
         sa.Column("stage", sa.String(32)), sa.Column("specimen_count_min", sa.Integer),
         sa.Column("specimen_count_max", sa.Integer),
         sa.Column("restricted_access", sa.Boolean, nullable=False))
sa.Table("codes", DARWIN, _id(), sa.Column("referenced_relation", sa.String(64), nullable=False),
         _ref("record_id"), sa.Column("code_category", sa.String(32), nullable=False),
         sa.Column("code_prefix", sa.String(32)), sa.Column("code_prefix_separator", sa.String(8)),
         sa.Column("code", sa.String(64)), sa.Column("code_suffix_separator", sa.String(8)),
         sa.Column("code_suffix", sa.String(32)))
sa.Table("catalogue_people", DARWIN, _id(), sa.Column("referenced_relation", sa.String(64), nullable=False),
         _ref("record_id"), sa.Column("people_type", sa.String(32), nullable=False),
         sa.Column("order_by", sa.Integer, nullable=False), _ref("people_ref", "people.id"))
sa.Table("identifications", DARWIN, _id(), sa.Column("referenced_relation", sa.String(64), nullable=False),
         _ref("record_id"), sa.Column("notion_concerned", sa.String(32), nullable=False),
         sa.Column("notion_date", sa.DateTime, nullable=False),
         sa.Column("notion_date_mask", sa.Integer, nullable=False),
         sa.Column("value_defined", sa.String(255)), sa.Column("determination_status", sa.String(32)),
         sa.Column("order_by", sa.Integer, nullable=False))
sa.Table("multimedia", DARWIN, _id(), sa.Column("referenced_relation", sa.String(64), nullable=False),
         _ref("record_id"), sa.Column("type", sa.String(32)), sa.Column("title", sa.String(255)),
         sa.Column("uri", sa.String(512)), sa.Column("mime_type", sa.String(64)),
         sa.Column("creation_date", sa.DateTime), sa.Column("licence", sa.String(128)),
         sa.Column("visible", sa.Boolean, nullable=False))
sa.Table("properties", DARWIN, _id(), sa.Column("referenced_relation", sa.String(64), nullable=False),
         _ref("record_id"), sa.Column("property_type", sa.String(64), nullable=False),
         sa.Column("lower_value", sa.String(64)), sa.Column("property_unit", sa.String(16)),
         sa.Column("property_method", sa.String(128)))

LEVELS = ("kingdom", "phylum", "class", "order", "family", "genus", "species", "sub_species")
ZOOLOGY = ("ENT", "VERT", "MOLL")
TYPES = {"specimen": 90, "holotype": 2, "paratype": 5, "syntype": 2, "lectotype": 1}
SEXES = {"male": 35, "female": 35, "undefined": 15, "unknown": 10, "not stated": 5}
STAGES = {"adult": 70, "larva": 10, "juvenile": 10, "undefined": 10}
#: per collection, the measurements DaRWIN's properties hold: (type, unit, low, high, decimals, method)
PROPERTIES = {"ENT": (("wingspan", "mm", 8, 120, 1, "calliper"), ("body length", "mm", 2, 80, 1, "calliper")),
              "VERT": (("body length", "mm", 40, 900, 0, "ruler"), ("body mass", "g", 5, 4000, 0, "balance")),
              "MOLL": (("shell length", "mm", 3, 150, 1, "calliper"),)}
# DaRWIN's masks as found: mostly full dates, many to the month or year only, some unknown
MASKS = {56: 60, 48: 20, 32: 15, 0: 5}


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _masked(rng: random.Random, year: int) -> tuple[datetime, int]:
    mask = _pick(rng, MASKS)
    if mask == 0:
        return UNKNOWN_FROM, 0
    month = rng.randint(1, 12) if mask >= 48 else 1
    day = rng.randint(1, 28) if mask == 56 else 1
    return datetime(year, month, day), mask


def _taxonomy(collections: set[str]) -> tuple[dict[str, list], dict[str, list[tuple[int, str]]]]:
    """The taxonomy tree of the reference taxa held by ``collections``; returns the rows and, per collection
    code, its species and subspecies as (id, name with authorship)."""
    rows: dict[str, list] = {"id": [], "name": [], "level_ref": [], "parent_ref": []}
    ids: dict[tuple, int] = {}
    leaves: dict[str, list[tuple[int, str]]] = {code: [] for code in collections}

    def node(path: tuple, name: str, level: str) -> int:
        if path not in ids:
            ids[path] = len(ids) + 1
            rows["id"].append(ids[path])
            rows["name"].append(name)
            rows["level_ref"].append(LEVELS.index(level) + 1)
            rows["parent_ref"].append(ids.get(path[:-1]))
        return ids[path]

    for taxon in TAXA:
        if taxon["collection"] not in collections:
            continue
        path: tuple = ()
        for level in ("kingdom", "phylum", "class", "order", "family", "genus"):
            path += (taxon[level],)
            node(path, taxon[level], level)
        species = f"{taxon['genus']} {taxon['specificEpithet']}"
        level, name = "species", species
        if taxon["infraspecificEpithet"]:
            path += (species,)
            node(path, species, "species")
            level, name = "sub_species", f"{species} {taxon['infraspecificEpithet']}"
        author = taxon["scientificNameAuthorship"]
        full = f"{name} {author}" if author else name
        leaves[taxon["collection"]].append((node(path + (name,), full, level), full))
    return rows, leaves


def _person(rng: random.Random) -> tuple[str, str, str]:
    given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
    return f"{family} {given[0]}.", given, family


def generate_darwin(specimens: int = 2000, seed: int = 42) -> Iterator[tuple[str, dict[str, list]]]:
    """The rows of a DaRWIN-like database with ``specimens`` specimens, table by table in dependency order."""
    rng = random.Random(seed)
    collections = [c for c in COLLECTIONS if c.code in ZOOLOGY]
    yield "collections", {"id": [c.collection_id for c in collections], "code": [c.code for c in collections],
                          "name": [c.name for c in collections]}
    people = [_person(rng) for _ in range(120)]
    yield "people", {"id": list(range(1, len(people) + 1)), "formated_name": [p[0] for p in people],
                     "given_name": [p[1] for p in people], "family_name": [p[2] for p in people]}
    yield "catalogue_levels", {"id": list(range(1, len(LEVELS) + 1)), "level_name": list(LEVELS)}
    taxonomy, by_collection = _taxonomy(set(ZOOLOGY))
    yield "taxonomy", taxonomy

    gtus = max(1, specimens // 3)
    gtu: dict[str, list] = {k: [] for k in ("id", "code", "gtu_from_date", "gtu_from_date_mask", "gtu_to_date",
                                            "gtu_to_date_mask", "latitude", "longitude", "lat_long_accuracy",
                                            "elevation")}
    tags: dict[str, list] = {k: [] for k in ("id", "gtu_ref", "group_name", "sub_group_name", "tag_value")}
    countries = {c.code: c for c in COUNTRIES}
    weights = {code: (6.0 if code == "BE" else c.weight) for code, c in countries.items()}
    for gid in range(1, gtus + 1):
        country = countries[_pick(rng, weights)]
        start, mask = _masked(rng, rng.randint(1880, 2023))
        end, end_mask = UNKNOWN_TO, 0
        if mask and rng.random() < 0.1:  # an expedition of some months: an interval
            end, end_mask = _masked(rng, start.year + rng.randint(0, 1))
            if end_mask == 0 or end < start:
                end, end_mask = UNKNOWN_TO, 0
        located = rng.random() < 0.85
        lat, lon = point_in_country(rng, country.code, country.box)
        gtu["id"].append(gid)
        gtu["code"].append(f"{country.code}-{gid:05d}")
        gtu["gtu_from_date"].append(start)
        gtu["gtu_from_date_mask"].append(mask)
        gtu["gtu_to_date"].append(end)
        gtu["gtu_to_date_mask"].append(end_mask)
        gtu["latitude"].append(round(lat, 5) if located else None)
        gtu["longitude"].append(round(lon, 5) if located else None)
        gtu["lat_long_accuracy"].append(rng.choice([10, 100, 1000, 5000]) if located else None)
        gtu["elevation"].append(rng.choice([None, rng.randint(0, 2500)]))
        for sub, value in (("country", _pick(rng, country.labels)), ("exact_site", rng.choice(country.places))):
            tags["id"].append(len(tags["id"]) + 1)
            tags["gtu_ref"].append(gid)
            tags["group_name"].append("administrative area" if sub == "country" else "populated place")
            tags["sub_group_name"].append(sub)
            tags["tag_value"].append(value)
    yield "gtu", gtu
    yield "tag_groups", tags

    spec: dict[str, list] = {k: [] for k in ("id", "collection_ref", "gtu_ref", "taxon_ref", "type", "sex", "stage",
                                             "specimen_count_min", "specimen_count_max", "restricted_access")}
    codes: dict[str, list] = {k: [] for k in ("id", "referenced_relation", "record_id", "code_category",
                                              "code_prefix", "code_prefix_separator", "code",
                                              "code_suffix_separator", "code_suffix")}
    roles: dict[str, list] = {k: [] for k in ("id", "referenced_relation", "record_id", "people_type", "order_by",
                                              "people_ref")}
    idents: dict[str, list] = {k: [] for k in ("id", "referenced_relation", "record_id", "notion_concerned",
                                               "notion_date", "notion_date_mask", "value_defined",
                                               "determination_status", "order_by")}
    media: dict[str, list] = {k: [] for k in ("id", "referenced_relation", "record_id", "type", "title", "uri",
                                              "mime_type", "creation_date", "licence", "visible")}
    props: dict[str, list] = {k: [] for k in ("id", "referenced_relation", "record_id", "property_type",
                                              "lower_value", "property_unit", "property_method")}
    shares = {c: c.share for c in collections}
    own = random.Random(f"darwin-restricted-and-properties-{seed}")  # leaves `rng`'s draws as they were

    def role(relation: str, record: int, kind: str, order: int) -> None:
        roles["id"].append(len(roles["id"]) + 1)
        roles["referenced_relation"].append(relation)
        roles["record_id"].append(record)
        roles["people_type"].append(kind)
        roles["order_by"].append(order)
        roles["people_ref"].append(rng.randint(1, len(people)))

    def code(record: int, category: str, prefix, separator, number, suffix_separator, suffix) -> None:
        codes["id"].append(len(codes["id"]) + 1)
        for key, value in (("referenced_relation", "specimens"), ("record_id", record), ("code_category", category),
                           ("code_prefix", prefix), ("code_prefix_separator", separator), ("code", number),
                           ("code_suffix_separator", suffix_separator), ("code_suffix", suffix)):
            codes[key].append(value)

    for sid in range(1, specimens + 1):
        collection = _pick(rng, shares)
        taxon_id, taxon_name = rng.choice(by_collection[collection.code])
        gid = rng.randint(1, gtus)
        count = rng.choice([1, 1, 1, 1, 2, 3, 5, 12])
        for key, value in (("id", sid), ("collection_ref", collection.collection_id), ("gtu_ref", gid),
                           ("taxon_ref", taxon_id), ("type", _pick(rng, TYPES)), ("sex", _pick(rng, SEXES)),
                           ("stage", _pick(rng, STAGES)), ("specimen_count_min", count),
                           ("specimen_count_max", count), ("restricted_access", own.random() < 0.03)):
            spec[key].append(value)
        if own.random() < 0.3:
            for kind, unit, low, high, decimals, method in PROPERTIES[collection.code]:
                props["id"].append(len(props["id"]) + 1)
                for key, value in (("referenced_relation", "specimens"), ("record_id", sid), ("property_type", kind),
                                   ("lower_value", f"{own.uniform(low, high):.{decimals}f}"),
                                   ("property_unit", unit), ("property_method", method)):
                    props[key].append(value)
        # the main code: IG numbers (RBINS's general inventory), a collection number, sometimes a suffix
        suffix = rng.choice([None] * 6 + ["A", "B", "bis"])
        code(sid, "main", collection.code, ".", str(10000 + sid), "/" if suffix else None, suffix)
        if rng.random() < 0.3:
            code(sid, "secondary", "IG", " ", str(rng.randint(1000, 34000)), None, None)
        for order in range(1, rng.choice([1, 1, 1, 2, 2, 3]) + 1):
            role("specimens", sid, "collector", order)
        # the identification history, oldest first; the last one is the specimen's taxon
        history = rng.choice([1, 1, 2, 3])
        for order in range(1, history + 1):
            iid = len(idents["id"]) + 1
            when, mask = _masked(rng, rng.randint(1900, 2024))
            name = taxon_name if order == history else rng.choice(by_collection[collection.code])[1]
            for key, value in (("id", iid), ("referenced_relation", "specimens"), ("record_id", sid),
                               ("notion_concerned", "taxonomy"), ("notion_date", when), ("notion_date_mask", mask),
                               ("value_defined", name), ("determination_status", rng.choice(["", "", "", "cf."])),
                               ("order_by", order)):
                idents[key].append(value)
            role("identifications", iid, "identifier", 1)
        if rng.random() < 0.4:
            for view in rng.sample(["habitus dorsal", "habitus ventral", "label"], rng.randint(1, 2)):
                mid = len(media["id"]) + 1
                for key, value in (("id", mid), ("referenced_relation", "specimens"), ("record_id", sid),
                                   ("type", "image"), ("title", view),
                                   ("uri", f"https://images.example.org/darwin/{sid}/{mid}.jpg"),
                                   ("mime_type", "image/jpeg"),
                                   ("creation_date", datetime(2015, 1, 1)),
                                   ("licence", rng.choice(["CC BY 4.0", "CC0 1.0", "CC BY-NC 4.0"])),
                                   ("visible", rng.random() < 0.95)):
                    media[key].append(value)
    yield "specimens", spec
    yield "codes", codes
    yield "catalogue_people", roles
    yield "identifications", idents
    yield "multimedia", media
    yield "properties", props


def write_darwin(target: str | os.PathLike, specimens: int = 2000, seed: int = 42) -> str:
    """Write the DaRWIN-like database to ``target``: a SQLite file, or a PostgreSQL URL (schema ``demo_darwin``
    unless the URL's search_path names one). Returns the target written (password masked)."""
    return write_database(DARWIN, generate_darwin(specimens, seed), target, "demo_darwin")
