"""Checks of an Event core (``core: event``): the events of a sampling-event dataset, mapped to Darwin Core terms.

* EVENT_ID_MISSING (error): no eventID, the core id.
* EVENT_ID_NOT_UNIQUE (error): an eventID more than one event uses, compared as the IPT compares core ids
  (:func:`mobilise.validators.dataset.id_keys`), found over the whole table by
  :func:`mobilise.validators.dataset.duplicate_ids` (DuckDB, out of core) and flagged batch by batch.
* PARENT_EVENT_ID_DANGLING (warning): a parentEventID that is no eventID of the table, found over the whole table
  by :func:`dangling_parents` (DuckDB over the mapped batches' Parquet files) and flagged batch by batch.

:func:`event_issues` returns issue rows (:data:`mobilise.mappers.mapping.ISSUE_SCHEMA`); it never raises for a row.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.columns import not_blank, text
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.validators.dataset import MEMORY_LIMIT, id_keys


def dangling_parents(files: Sequence[str], spill_directory: Path) -> pa.Table:
    """The parentEventID values of the mapped event batches (Parquet `files`) that no row's eventID equals (exact
    text, trimmed), as a one-column table ``parentEventID``; empty without files or without that column."""
    empty = pa.table({"parentEventID": pa.array([], pa.string())})
    if not files:
        return empty
    with duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill_directory)}) as connection:
        columns = connection.sql("SELECT * FROM read_parquet($files) LIMIT 0",
                                 params={"files": list(files)}).columns
        if "parentEventID" not in columns:
            return empty
        found = connection.sql(
            "SELECT DISTINCT trim(p.parentEventID) AS parentEventID FROM read_parquet($files) AS p "
            "WHERE nullif(trim(p.parentEventID), '') IS NOT NULL AND trim(p.parentEventID) NOT IN "
            "(SELECT trim(eventID) FROM read_parquet($files) WHERE eventID IS NOT NULL)",
            params={"files": list(files)}).to_arrow_table()
    return found.cast(empty.schema)


def _flag(rows: np.ndarray, term: str, flag: str, values: pa.Array) -> pa.Table:
    return pa.table({"row": pa.array(rows, pa.int64()), "term": pa.array([term] * rows.size, pa.string()),
                     "flag": pa.array([flag] * rows.size, pa.string()),
                     "value": values.take(pa.array(rows, pa.int64())).cast(pa.string())}, schema=ISSUE_SCHEMA)


def event_issues(table: pa.Table, duplicates: pa.Array, dangling: pa.Array) -> pa.Table:
    """Issue rows of one batch of mapped events: `duplicates` the eventIDs more than one event uses and `dangling`
    the parentEventIDs that name no event (both over the whole table)."""
    ids = text(table, "eventID")
    missing = ~not_blank(ids)
    repeated = pc.fill_null(pc.is_in(id_keys(ids), id_keys(duplicates)), False).to_numpy(zero_copy_only=False)
    found = [_flag(np.flatnonzero(missing), "eventID", "EVENT_ID_MISSING", ids),
             _flag(np.flatnonzero(repeated & ~missing), "eventID", "EVENT_ID_NOT_UNIQUE", ids)]
    if "parentEventID" in table.column_names:
        parents = text(table, "parentEventID")
        broken = pc.fill_null(pc.is_in(pc.utf8_trim_whitespace(parents), dangling), False).to_numpy(
            zero_copy_only=False)
        found.append(_flag(np.flatnonzero(broken), "parentEventID", "PARENT_EVENT_ID_DANGLING", parents))
    return pa.concat_tables(found)
