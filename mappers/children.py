"""One-to-many in the mapping: a child table's values joined into a core term, per core record, in order.

A child table (``children:`` in the config: collectors, identifications, media...) has many rows per core
record. A term mapped as ``{child: collectors, column: agent_name, separator: " | "}`` gets, per record, the
non-empty values of the child's column, ordered by the child's ``order_by`` and joined with the separator
(Darwin Core's list convention: ``recordedBy: "A. Smith | B. Jones"``). Every term reading the same child is
ordered the same way, so ``recordedByID`` lists the same people in the same order as ``recordedBy``.

The join is DuckDB's ``string_agg(... ORDER BY ...)`` over the child's extracted Parquet files (the run catalog's
``extracted`` batches of table ``child:<name>``), one core batch at a time: out of core, whatever the size of the
child, and the same on every source database, so one config runs unchanged on SQLite, PostgreSQL and MariaDB
(no ``group_concat`` or ``string_agg`` in the source's own dialect).

:func:`join_children` adds to a core batch, for each (child, column), the column ``<child>.<column>`` (the joined
text, null where the record has no non-empty value) and, where one of the record's values holds the separator
itself (it would be split there by whoever reads the term), ``<child>.<column>`` + :data:`SEPARATOR_MARK` with
the first such value, and ``<child>.<column>`` + :data:`UNDECODABLE_MARK` with the first value the extractor
could not decode (extractors/base.py UNDECODABLE_COLUMN, its bytes escaped); the mapper (mappers/mapping.py)
reads the first as an ordinary column and flags LIST_SEPARATOR_IN_VALUE (a warning) and TEXT_ENCODING_INVALID (an
error, as for a core value) on the term.

Keys are compared as trimmed text on both sides (an integer key 17 in the core and '17' in a CSV child match);
order columns compare as numbers when they are numbers (position 10 after 9), else as text; ties, and a child
without ``order_by``, keep the child's source order (its batch and row).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Sequence

import duckdb
import pyarrow as pa

from mobilise.extractors.base import UNDECODABLE_COLUMN


CHILD_TABLE_PREFIX = "child:"  # a child's table in the run catalog: Entry("extracted", "child:collectors", batch)
SEPARATOR_MARK = ":separator_in_value"  # suffix of the column naming a value that holds the separator
UNDECODABLE_MARK = ":undecodable"  # suffix of the column naming a value the extractor could not decode


def child_table(name: str) -> str:
    """The run catalog's table of child `name` (``child:collectors``)."""
    return CHILD_TABLE_PREFIX + name


@dataclass(frozen=True)
class ChildJoin:
    """One joined column: child `child`'s column `column`, its rows matched to the core record by `key` (the
    child's columns, in the order of the core key), ordered by `order_by`, joined with `separator`."""

    child: str
    column: str
    key: tuple[str, ...]
    order_by: tuple[str, ...]
    separator: str

    @property
    def name(self) -> str:
        """The column added to the core batch (``collectors.agent_name``)."""
        return f"{self.child}.{self.column}"

    @property
    def child_columns(self) -> set[str]:
        """The child table's columns this join reads."""
        return {self.column, *self.key, *self.order_by}


class ChildJoinError(ValueError):
    """A child table lacks a column its joins read (a wrong name in the config): stop before any work."""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check_child_columns(child: str, joins: Sequence[ChildJoin], columns: Sequence[str]) -> None:
    """Raise ChildJoinError naming ``children.<child>`` when the child's `columns` lack one its joins read."""
    needed = set().union(*(join.child_columns for join in joins if join.child == child))
    missing = sorted(needed - set(columns))
    if missing:
        present = [column for column in columns if column != UNDECODABLE_COLUMN]
        raise ChildJoinError(f"children.{child}: column(s) {', '.join(missing)} not in the child table (it has: "
                             f"{', '.join(present)})")


def _text(expression: str) -> str:
    """SQL: `expression` as trimmed text, an empty one as NULL (what the mapper's as_text does in Arrow)."""
    return f"NULLIF(trim(CAST({expression} AS VARCHAR)), '')"


def _child_query(joins: list[ChildJoin], core_key: int, text_columns: set[str], marked: bool) -> str:
    """SQL joining the registered core keys (``core_keys``: __row, __k0...) to one child's files (the parameter
    ``$files``, never pasted into the SQL). `text_columns`: the child's columns stored as text, whose order
    values are compared as numbers where they are numbers (other types keep their own order); `marked`: the
    files have the extractor's UNDECODABLE_COLUMN."""
    first = joins[0]
    keys = " AND ".join(f"k.__k{i} = c.__k{i}" for i in range(core_key))
    core = ", ".join(["__row"] + [f"{_text(f'__k{i}')} AS __k{i}" for i in range(core_key)])
    inner = [f"{_text(_quoted(column))} AS __k{i}" for i, column in enumerate(first.key)]
    columns = sorted({join.column for join in joins})
    value_of = {column: f"__v{i}" for i, column in enumerate(columns)}
    inner += [f"{_text(_quoted(column))} AS {value_of[column]}" for column in columns]
    if marked:
        inner.append(f"{_quoted(UNDECODABLE_COLUMN)} AS __u")
    order = []
    for i, column in enumerate(first.order_by):
        inner.append(f"{_quoted(column)} AS __o{i}")
        if column in text_columns:
            order += [f"TRY_CAST(c.__o{i} AS DOUBLE) NULLS LAST", f"c.__o{i} NULLS LAST"]
        else:
            order.append(f"c.__o{i} NULLS LAST")
    # the child's source order: its batches (files, in batch order) and rows
    position = "(c.file_index::BIGINT << 40) + c.file_row_number"
    order.append(position)
    outer = []
    for join in joins:
        value = f"c.{value_of[join.column]}"
        outer.append(f"string_agg({value}, {_literal(join.separator)} ORDER BY {', '.join(order)}) "
                     f"FILTER (WHERE {value} IS NOT NULL) AS {_quoted(join.name)}")
        outer.append(f"arg_min({value}, {position}) FILTER (WHERE contains({value}, {_literal(join.separator)})) "
                     f"AS {_quoted(join.name + SEPARATOR_MARK)}")
        undecodable = f"contains(c.__u, {_literal(json.dumps(join.column, ensure_ascii=False))})" if marked \
            else "false"
        outer.append(f"arg_min({value}, {position}) FILTER (WHERE {undecodable}) "
                     f"AS {_quoted(join.name + UNDECODABLE_MARK)}")
    return (f"SELECT k.__row, {', '.join(outer)} FROM (SELECT {core} FROM core_keys) k LEFT JOIN "
            f"(SELECT {', '.join(inner)}, file_index, file_row_number FROM read_parquet($files, "
            f"union_by_name = true, file_row_number = true)) c ON {keys} GROUP BY k.__row ORDER BY k.__row")


def join_children(core: pa.Table, key: Sequence[str], joins: Sequence[ChildJoin],
                  files: Mapping[str, Sequence[str]], connection: duckdb.DuckDBPyConnection) -> pa.Table:
    """`core` (one batch of core records, any column types) with the joined columns of `joins` added (text, one
    value per core row, core row order kept) and, for each join, its ``SEPARATOR_MARK`` column.

    `key`: the core's key column(s) (``source.key``); `files`: per child name, the Parquet files of its rows (the
    run catalog's ``extracted`` batches of :func:`child_table`; a child with no files has no rows); `connection`:
    a DuckDB connection (its memory limit and spill folder are the caller's). Reads the files, writes nothing.
    Raises ChildJoinError when a child's files lack a column a join reads, KeyError when `core` lacks a key column.
    """
    columns: dict[str, pa.Array] = {}
    rows = pa.array(range(core.num_rows), pa.int64())
    keys = pa.table({"__row": rows, **{f"__k{i}": core[name] for i, name in enumerate(key)}})
    by_child: dict[str, list[ChildJoin]] = {}
    for join in joins:
        by_child.setdefault(join.child, []).append(join)
    for child, child_joins in by_child.items():
        if len({(j.key, j.order_by) for j in child_joins}) != 1:
            raise ValueError(f"children.{child}: every join of one child has its key and order")
        child_files = list(files.get(child, ()))
        if not child_files or core.num_rows == 0:
            for join in child_joins:
                for name in (join.name, join.name + SEPARATOR_MARK, join.name + UNDECODABLE_MARK):
                    columns[name] = pa.nulls(core.num_rows, pa.string())
            continue
        schema = connection.sql("SELECT * FROM read_parquet($files, union_by_name = true) LIMIT 0",
                                params={"files": child_files})
        check_child_columns(child, child_joins, schema.columns)
        text_columns = {name for name, kind in zip(schema.columns, schema.types) if str(kind) == "VARCHAR"}
        marked = UNDECODABLE_COLUMN in schema.columns
        connection.register("core_keys", keys)
        try:
            joined = connection.sql(_child_query(child_joins, len(key), text_columns, marked),
                                    params={"files": child_files}).to_arrow_table()
        finally:
            connection.unregister("core_keys")
        for join in child_joins:
            for name in (join.name, join.name + SEPARATOR_MARK, join.name + UNDECODABLE_MARK):
                columns[name] = joined[name].cast(pa.string()).combine_chunks()
    for name, values in columns.items():
        core = core.append_column(name, values) if name not in core.column_names else \
            core.set_column(core.column_names.index(name), name, values)
    return core
