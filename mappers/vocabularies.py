"""Controlled vocabularies (basisOfRecord, sex, lifeStage, typeStatus, occurrenceStatus) and their synonyms.

A value is matched case-, space- and accent-insensitively against every label GBIF gives a concept (all
languages), Mobilise's own synonyms and the dataset's `vocabularies:` table from the config, which wins.
"""
from __future__ import annotations

import csv
import difflib
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


# --- translation tables kept beside a config (vocabularies: {sex: vocabularies/sex.csv}; lookups) -----------------

class TableError(ValueError):
    """A translation table that cannot be used; ``line`` is the CSV line (1 = the header), or None."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _table_rows(path, key: str, value: str):
    """(line, key, value) per row of a CSV translation table (see read_table)."""
    from pathlib import Path

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TableError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise TableError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}): save it as UTF-8") from None
    header = text.splitlines()[0] if text.strip() else ""
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    columns = [c.strip() for c in (reader.fieldnames or [])]
    for needed in (key, value):
        if needed not in columns:
            raise TableError(f"{path}:1: no column '{needed}' (the header has: {', '.join(columns) or 'nothing'})",
                             1)
    for row in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        source, target = row.get(key, ""), row.get(value, "")
        if not source or source.startswith("#"):
            continue
        if not target:
            raise TableError(f"{path}:{reader.line_num}: '{source}' has no {value}", reader.line_num)
        yield reader.line_num, source, target


def read_table(path, key: str, value: str) -> dict[str, str]:
    """{key column's value: value column's value} from a CSV file (UTF-8, optionally with a BOM, a header row;
    ``,`` ``;`` or tab as delimiter, whichever the header holds most of).

    Keys and values are trimmed; rows whose key is empty or starts with ``#`` are skipped. Raises TableError
    (naming file and line) for a missing file or column, an empty value, or a key given twice with different
    values (the same key twice with the same value is allowed)."""
    table: dict[str, str] = {}
    for line, source, target in _table_rows(path, key, value):
        if table.get(source, target) != target:
            raise TableError(f"{path}:{line}: '{source}' is given twice, as '{table[source]}' and '{target}'", line)
        table[source] = target
    return table


def read_vocabulary_file(path, name: str) -> dict[str, str]:
    """A dataset's own translations for vocabulary `name` from a CSV file with the columns ``source`` and
    ``concept``; raises TableError (naming file and line) for a concept that is not one of the vocabulary's."""
    known = concepts(name)
    for line, source, concept in _table_rows(path, "source", "concept"):
        if concept not in known:
            close = difflib.get_close_matches(concept, sorted(known), n=1)
            raise TableError(f"{path}:{line}: '{source}' -> '{concept}' is not a {name} concept"
                             + (f" (did you mean '{close[0]}'?)" if close else "")
                             + f"; the concepts are {', '.join(sorted(known))}", line)
    return read_table(path, "source", "concept")
