"""Controlled vocabularies (basisOfRecord, sex, lifeStage, typeStatus, occurrenceStatus) and their synonyms.

A value is matched case-, space- and accent-insensitively against every label GBIF gives a concept (all
languages), Mobilise's own synonyms and the dataset's `vocabularies:` table from the config, which wins.
"""
from __future__ import annotations

import csv
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Mapping

VOCABULARY_OF_TERM = {"basisOfRecord": "basisOfRecord", "sex": "sex", "lifeStage": "lifeStage",
                      "typeStatus": "typeStatus", "occurrenceStatus": "occurrenceStatus"}
# GBIF has a flag of its own for an unmatched value of these; other vocabularies get VOCABULARY_UNMATCHED.
UNMATCHED_FLAG = {"basisOfRecord": "BASIS_OF_RECORD_INVALID", "typeStatus": "TYPE_STATUS_INVALID"}


def vocabulary_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "_-")


def _rows(filename: str):
    with resources.files("mobilise.mappers").joinpath("data", "vocabularies", filename).open(
            encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter="\t")


@lru_cache(maxsize=None)
def builtin_vocabulary(name: str) -> Mapping[str, str]:
    """label key -> concept for one vocabulary, from the shipped GBIF tables and Mobilise's synonyms."""
    table = {vocabulary_key(row["label"]): row["concept"] for row in _rows(f"{name}.tsv")}
    for row in _rows("mobilise_synonyms.tsv"):
        if row["vocabulary"] == name:
            table.setdefault(vocabulary_key(row["label"]), row["concept"])
    return table


def concepts(name: str) -> frozenset[str]:
    return frozenset(builtin_vocabulary(name).values())


def available() -> list[str]:
    return sorted(VOCABULARY_OF_TERM.values())


class Translator:
    """Source value -> concept, for one vocabulary with the dataset's own additions."""

    def __init__(self, name: str, extra: Mapping[str, str] | None = None):
        if name not in available():
            raise KeyError(f"unknown vocabulary '{name}' (available: {', '.join(available())})")
        self.name = name
        self.unmatched_flag = UNMATCHED_FLAG.get(name, "VOCABULARY_UNMATCHED")
        self.table = dict(builtin_vocabulary(name))
        self.table.update({vocabulary_key(k): v for k, v in (extra or {}).items()})

    def __call__(self, text: str | None) -> tuple[str | None, tuple[str, ...]]:
        if text is None or not text.strip():
            return None, ()
        concept = self.table.get(vocabulary_key(text))
        if concept is None:
            return text.strip(), (self.unmatched_flag,)
        return concept, ()
