"""Checks over a whole table (or, later, across tables) rather than one batch: what no single batch can see.

Today: the identifiers that more than one record of the table uses, compared as the archive writes them and ignoring
case (:func:`id_keys`; GBIF's OCCURRENCE_ID_NOT_UNIQUE is then flagged batch by batch from this list), and the catalogue numbers that more than one record uses within one
institutionCode + collectionCode (GBIF's "triplet", the key it falls back on to recognise a specimen; DiSSCo's
physical specimen id when there is no occurrenceID), flagged CATALOG_NUMBER_DUPLICATED through :func:`triplet_keys`.
Referential integrity between the core and its extensions belongs here too.

The table may be larger than memory, so these are DuckDB queries over the batches' Parquet files (the run
catalog's entries); the files are given as a parameter, never pasted into the SQL.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mobilise.mappers.columns import per_distinct, text
from mobilise.publishers.dwca import fold_structural

# DuckDB spills to disk beyond this (about as fast here): with 512MB the publishing process's peak RSS grew from
# 411 MB at 1M to 669 MB at 5M; over 5M occurrenceIDs alone 608 MB -> 271 MB
MEMORY_LIMIT = "128MB"


# Java's String.equalsIgnoreCase, the IPT's comparison of core ids, also equates the Turkish dotless ı and dotted İ
# with i (their upper or lower case is I or i); Unicode case folding does not
_JAVA_CASELESS_I = str.maketrans({"\u0131": "i", "\u0130": "i"})


def _fold(value: str) -> str:
    """Java's ``equalsIgnoreCase`` key: per character its simple (one-character) upper case, then that one's simple
    lower case, so 'ß' stays 'ß' (Java does not equate 'straße' with 'STRASSE', whose lengths differ) and 'ǅ', 'ǆ'
    and 'Ǆ' share one key; Python's full mappings that give several characters ('ß'.upper() is 'SS') are not
    Java's char-level ones and are left out."""
    key = []
    for character in value.translate(_JAVA_CASELESS_I):
        upper = character.upper()
        upper = upper if len(upper) == 1 else character
        lower = upper.lower()
        key.append(lower if len(lower) == 1 else upper)
    return "".join(key)


def id_keys(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Identifiers (text) as compared for uniqueness, one per value (null stays null): as the archive writes them
    (tabs and line breaks folded to a space, :func:`mobilise.publishers.dwca.fold_structural`) and case-folded, so that
    ids that differ only in case have one key. The IPT fails an archive whose core ids are equal ignoring case
    (``CASE-abc-0001`` and ``case-ABC-0001``; Java's ``equalsIgnoreCase``) and no others: GBIF refuses no record
    for an id the IPT accepts ('straße' and 'STRASSE' are two ids to both). ASCII values are lowered in Arrow; the
    others are keyed in Python (:func:`_fold`) once per distinct value."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    values = fold_structural(values)
    lowered = pc.utf8_lower(values)
    unusual = pc.invert(pc.fill_null(pc.string_is_ascii(values), True))
    if not pc.any(unusual).as_py():
        return lowered
    return pc.replace_with_mask(lowered, unusual, per_distinct(values.filter(unusual), _fold, pa.string()))


def duplicate_ids(files: list[str], spill_directory: Path, column: str = "occurrenceID") -> pa.Table:
    """Every value of `column` (as mapped) whose :func:`id_keys` more than one row has over all `files` (Parquet):
    each spelling of an id that more than one record uses (``X-1`` used twice; ``CASE-abc-0001`` and
    ``case-ABC-0001``, both), so that an exact lookup of a batch's values finds every record involved. A table of
    that one column (string), in no particular order, without nulls; empty when there are no files."""
    if not files:
        return pa.table({column: pa.array([], pa.string())})
    with duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill_directory)}) as connection:
        connection.create_function("id_key", id_keys, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR"),
                                   type="arrow")
        quoted = '"' + column.replace('"', '""') + '"'
        found = connection.sql(
            f"SELECT DISTINCT {quoted} FROM (SELECT {quoted}, count(*) OVER (PARTITION BY id_key({quoted})) AS uses "
            f"FROM read_parquet($files) WHERE {quoted} IS NOT NULL) WHERE uses > 1",
            params={"files": files}).to_arrow_table()
    return found.cast(pa.schema([(column, pa.string())]))


#: GBIF's occurrence triplet (institutionCode, collectionCode, catalogNumber), in that order
TRIPLET = ("institutionCode", "collectionCode", "catalogNumber")
_SEPARATOR = "\x1f"  # ASCII unit separator: never in a code, so a key is never two triplets


def duplicate_triplets(files: list[str], spill_directory: Path) -> pa.Table:
    """The (institutionCode, collectionCode, catalogNumber) triplets that more than one row uses over all `files`
    (Parquet), as a table of those three string columns, in no particular order.

    A record without catalogNumber (null or empty) has no triplet; an empty institutionCode or collectionCode is
    one value, '' (a dataset of one collection often leaves collectionCode out, and its catalogue numbers must
    still be unique). Empty when there are no files or no catalogNumber column."""
    empty = pa.table({term: pa.array([], pa.string()) for term in TRIPLET})
    if not files:
        return empty
    names = set().union(*(pq.read_schema(file).names for file in files))
    if "catalogNumber" not in names:
        return empty
    terms = {term: ('"' + term + '"' if term in names else "CAST(NULL AS VARCHAR)") for term in TRIPLET}
    with duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill_directory)}) as connection:
        found = connection.sql(
            f"SELECT coalesce(CAST({terms['institutionCode']} AS VARCHAR), '') AS institutionCode, "
            f"coalesce(CAST({terms['collectionCode']} AS VARCHAR), '') AS collectionCode, "
            f"CAST({terms['catalogNumber']} AS VARCHAR) AS catalogNumber "
            f"FROM read_parquet($files, union_by_name = true) "
            f"WHERE CAST({terms['catalogNumber']} AS VARCHAR) <> '' GROUP BY ALL HAVING count(*) > 1",
            params={"files": files}).to_arrow_table()
    return found.cast(empty.schema)


def triplet_keys(table: pa.Table) -> pa.Array:
    """One string per row of `table` (mapped Darwin Core terms, or :func:`duplicate_triplets`' table) naming its
    triplet, null where catalogNumber is; equal keys are equal triplets (an empty code counts as '')."""
    institution, collection = (pc.fill_null(text(table, term), "") for term in TRIPLET[:2])
    return pc.binary_join_element_wise(institution, collection, text(table, "catalogNumber"), _SEPARATOR)
