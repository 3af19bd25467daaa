"""The reference lists the sample generator draws from, read once from ``data/`` (see ``data/README.md``).

- ``INSTITUTIONS`` (``institutions.csv``) and ``COLLECTIONS`` (``collections.csv``): the rows of the
  ``institution`` and ``collection`` tables; a collection also carries its share of the specimens and the prefix
  of its catalog numbers.
- ``TAXA`` (``taxa.csv``): one row per species or subspecies, with the collection that holds it, its higher
  classification (``HIGHER_RANKS``) and its authorship, in Darwin Core column names (``specificEpithet``,
  ``infraspecificEpithet``, ``scientificNameAuthorship``; None when empty).
- ``GIVEN_NAMES`` and ``FAMILY_NAMES`` (``people.json``): combined at random into collectors and determiners.
- ``COUNTRIES`` (``countries.json``): per true country (ISO 3166-1 alpha-2 code) its share of the localities, the
  labels a CMS holds for it with their weights, its bounding box, provinces and places; ``UNKNOWN_COUNTRIES`` the
  labels that name no country.
- ``vocabularies.json``: ``HABITATS``, ``SAMPLING_PROTOCOLS``, ``REMARKS``, ``NOT_PUBLIC_REMARKS``, per collection
  code ``BASIS``, ``SEX``, ``LIFE_STAGE`` and ``PREPARATIONS``, and ``MONTH_NAMES`` (en, fr, nl).

Weighted vocabularies are ``{value: weight}`` dictionaries in file order (the order matters: the generator draws
indexes into them); a value may be None (SQL NULL) or ``''``.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import NamedTuple

DATA = Path(__file__).with_name("data")

HIGHER_RANKS = ("kingdom", "phylum", "class", "order", "family")


class Institution(NamedTuple):
    institution_id: int
    code: str
    name: str
    ror_id: str


class Collection(NamedTuple):
    collection_id: int
    institution_id: int
    code: str
    name: str
    discipline: str
    share: float  # of the specimens
    catalog_prefix: str


class Country(NamedTuple):
    code: str  # ISO 3166-1 alpha-2
    weight: float  # share of the localities
    labels: dict[str, float]  # the country as typed -> weight
    box: tuple[float, float, float, float]  # latitude min, latitude max, longitude min, longitude max (degrees)
    provinces: list[str]
    places: list[str]


def _csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _json(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _weights(pairs: list[list]) -> dict:
    """[[value, weight], ...] (JSON keys cannot be null) -> {value: weight} in the same order."""
    return {value: weight for value, weight in pairs}


INSTITUTIONS = [Institution(int(row["institution_id"]), row["code"], row["name"], row["ror_id"])
                for row in _csv("institutions.csv")]
COLLECTIONS = [Collection(int(row["collection_id"]), int(row["institution_id"]), row["code"], row["name"],
                          row["discipline"], float(row["share"]), row["catalog_prefix"])
               for row in _csv("collections.csv")]
TAXA = [{key: value or None for key, value in row.items()} for row in _csv("taxa.csv")]

_people = _json("people.json")
GIVEN_NAMES: list[str] = _people["given_names"]
FAMILY_NAMES: list[str] = _people["family_names"]

_countries = _json("countries.json")
COUNTRIES = [Country(c["code"], c["weight"], c["labels"], (*c["latitude"], *c["longitude"]), c["provinces"],
                     c["places"]) for c in _countries["countries"]]
UNKNOWN_COUNTRIES: list[str] = _countries["unknown"]

_vocabularies = _json("vocabularies.json")
HABITATS: list[str] = _vocabularies["habitats"]
SAMPLING_PROTOCOLS = _weights(_vocabularies["sampling_protocols"])
REMARKS: list[str] = _vocabularies["remarks"]
NOT_PUBLIC_REMARKS: list[str] = _vocabularies["not_public_remarks"]
BASIS = {code: _weights(pairs) for code, pairs in _vocabularies["basis"].items()}
SEX = {code: _weights(pairs) for code, pairs in _vocabularies["sex"].items()}
LIFE_STAGE = {code: _weights(pairs) for code, pairs in _vocabularies["life_stage"].items()}
PREPARATIONS = {code: _weights(pairs) for code, pairs in _vocabularies["preparations"].items()}
MONTH_NAMES: dict[str, list[str]] = _vocabularies["month_names"]
