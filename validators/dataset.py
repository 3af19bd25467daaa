"""Checks over a whole table (or, later, across tables) rather than one batch: what no single batch can see.

Today: the identifiers that more than one record of the table uses (GBIF's OCCURRENCE_ID_NOT_UNIQUE is then flagged
batch by batch from this list). Referential integrity between the core and its extensions belongs here too.

The table may be larger than memory, so these are DuckDB queries over the batches' Parquet files (the run
catalog's entries); the files are given as a parameter, never pasted into the SQL.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

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
