"""Checks over a whole table (or, later, across tables) rather than one batch: what no single batch can see.

Today: the identifiers that more than one record of the table uses (GBIF's OCCURRENCE_ID_NOT_UNIQUE is then flagged
batch by batch from this list), and the catalogue numbers that more than one record uses within one
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

from mobilise.mappers.columns import text

# DuckDB spills to disk beyond this (about as fast here): with 512MB the publishing process's peak RSS grew from
# 411 MB at 1M to 669 MB at 5M; over 5M occurrenceIDs alone 608 MB -> 271 MB
MEMORY_LIMIT = "128MB"


def duplicate_ids(files: list[str], spill_directory: Path, column: str = "occurrenceID") -> pa.Table:
    """The non-null values of `column` that occur in more than one row over all `files` (Parquet), as a table of
    that one column (string), in no particular order; empty when there are no files."""
    if not files:
        return pa.table({column: pa.array([], pa.string())})
    with duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill_directory)}) as connection:
        quoted = '"' + column.replace('"', '""') + '"'
        return connection.sql(f"SELECT {quoted} FROM read_parquet($files) WHERE {quoted} IS NOT NULL "
                              f"GROUP BY {quoted} HAVING count(*) > 1", params={"files": files}).to_arrow_table()


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
