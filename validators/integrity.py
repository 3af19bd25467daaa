"""Extension rows judged against their core: referential integrity, their own checks, and what is published.

An extension row belongs to the core record whose key (``source.key``, default the columns the core id is made
from) equals the row's ``core_key`` columns, compared as text (:func:`key_values`: trimmed, several columns joined
with U+001F). The validate stage of the core keeps, per batch, every core record's key, its core id and whether it
was published, and the keys of the records the dataset's rules excluded (filters, ``sensitive.exclude_when``:
:func:`core_keys`, the run catalog's ``core_keys``); :func:`resolve_core_ids` joins an extension batch with them in
DuckDB over the Parquet files (out of core, whatever the size of the core), giving each row its core id (the
archive's coreid column) or the reason it has none:

* EXTENSION_ORPHANED: no core record has the key (or the row has no key at all);
* EXTENSION_CORE_REJECTED: the core records with the key were all quarantined (or some excluded, some quarantined).

A row whose core record the dataset's rules excluded (filters, ``sensitive.exclude_when``: mappers/rules.py) is no
orphan: the map stage keeps the excluded records' keys (``excluded_keys``, the core_keys schema with the rule that
excluded each), :func:`resolve_core_ids` says EXCLUDED for it, and the extension step excludes the row with its
core record (counted as excluded, listed with the rule and its identifying columns, not its values, in
``excluded-<extension>-<version>.csv``), never quarantined.

Both are errors by default (an orphan breaks the archive: GBIF drops it, python-dwca-reader cannot attach it), so
the row goes to the extension's quarantine file with its reasons and source columns: nothing is dropped silently.

:func:`judge_extension` is the validate stage of one batch of an extension other than ``occurrence`` (pure): the
mapping issues, the integrity issues and :func:`mobilise.validators.extensions.check_extension_rows`, with the
dataset's severities (``validation.dissco: ignore`` drops the DiSSCo media flags, ``fail`` makes them errors, as
for the core's DiSSCo flags); values whose flag ``removes_value`` are emptied (these extensions have no verbatim
term: the original stays in the issue rows and the report).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.flags import FLAGS
from mobilise.mappers.columns import as_text
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.validators.dataset import MEMORY_LIMIT
from mobilise.validators.dissco import DISSCO_MEDIA_FLAGS
from mobilise.validators.extensions import check_extension_rows
from mobilise.validators.registry import CheckContext
from mobilise.validators.validate import REPORT_SCHEMA, _differs, _messages

KEY_SEPARATOR = "\x1f"
CORE_KEYS_SCHEMA = pa.schema([("key", pa.string()), ("id", pa.string()), ("published", pa.bool_()),
                              ("rule", pa.string())])
COREID = "coreid"  # the extension's first column: the core id of the row's core record (meta.xml <coreid>)
PUBLISHED, ORPHANED, CORE_REJECTED, EXCLUDED = 0, 1, 2, 3  # what resolve_core_ids says of a row


def key_values(table: pa.Table, columns: Sequence[str]) -> pa.Array:
    """Per row, the key made of `columns` as text (trimmed; several joined with U+001F); null when a column is
    empty. ValueError when `columns` is empty (a core id that is a constant has no key: set source.key)."""
    if not columns:
        raise ValueError("no key columns: set source.key (the core record's key columns)")
    texts = [as_text(table[name]) for name in columns]
    return texts[0] if len(texts) == 1 else pc.binary_join_element_wise(*texts, KEY_SEPARATOR)


def core_keys(keys: pa.Array, ids: pa.Array, published: np.ndarray, rules: pa.Array | None = None) -> pa.Table:
    """The core_keys table of one core batch: key (:func:`key_values`), id (the core id, text), published and
    rule: the label of the rule that excluded the record (``excluded_keys``), null for the records validated."""
    rules = pa.nulls(len(keys), pa.string()) if rules is None else rules.cast(pa.string())
    return pa.table([keys.cast(pa.string()), ids.cast(pa.string()), pa.array(published, pa.bool_()), rules],
                    schema=CORE_KEYS_SCHEMA)


@dataclass
class CoreIds:
    """What :func:`resolve_core_ids` says of each row of an extension batch: ``ids`` (the core id: of the published
    core record, or of the excluded one; null otherwise), ``status`` (PUBLISHED, ORPHANED, CORE_REJECTED or
    EXCLUDED) and ``rules`` (the label of the rule that excluded the core record; null unless EXCLUDED)."""

    ids: pa.Array
    status: np.ndarray
    rules: pa.Array


def resolve_core_ids(keys: pa.Array, core_key_files: Sequence[str], spill_directory: Path) -> CoreIds:
    """Each extension row's core record, joining `keys` (:func:`key_values` of the extension batch) with the
    core_keys (and excluded_keys) Parquet files in DuckDB. A key several core records share takes a published one
    (the smallest id); else, when one of them was quarantined, CORE_REJECTED; else, when the rules excluded one,
    EXCLUDED; a key no core record has is ORPHANED."""
    rows = pa.table({"pos": pa.array(np.arange(len(keys)), pa.int64()), "key": keys.cast(pa.string())})
    if not core_key_files:
        return CoreIds(pa.nulls(len(keys), pa.string()), np.full(len(keys), ORPHANED),
                       pa.nulls(len(keys), pa.string()))
    with duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill_directory),
                                "threads": 1}) as connection:
        connection.register("ext", rows)
        found = connection.sql(
            "WITH core AS (SELECT key, bool_or(published) AS published, "
            "bool_or(NOT published AND rule IS NULL) AS rejected, min(id) FILTER (WHERE published) AS id, "
            "min(id) FILTER (WHERE rule IS NOT NULL) AS excluded_id, min(rule) AS rule "
            "FROM read_parquet($files, union_by_name = true) WHERE key IS NOT NULL GROUP BY key) "
            "SELECT core.id, core.published, core.rejected, core.excluded_id, core.rule "
            "FROM ext LEFT JOIN core ON core.key = ext.key ORDER BY ext.pos",
            params={"files": list(core_key_files)}).to_arrow_table()

    def flag(column: int) -> np.ndarray:
        return pc.fill_null(found.column(column).combine_chunks(), False).to_numpy(zero_copy_only=False)

    missing = pc.is_null(found.column(1).combine_chunks()).to_numpy(zero_copy_only=False)
    status = np.select([missing, flag(1), flag(2)], [ORPHANED, PUBLISHED, CORE_REJECTED], EXCLUDED)
    excluded = pa.array(status == EXCLUDED)
    ids = pc.if_else(excluded, found.column(3).combine_chunks().cast(pa.string()),
                     found.column(0).combine_chunks().cast(pa.string()))
    rules = pc.if_else(excluded, found.column(4).combine_chunks().cast(pa.string()), pa.scalar(None, pa.string()))
    return CoreIds(ids, status, rules)


def without_rows(rows: np.ndarray, table: pa.Table, issues: pa.Table) -> tuple[pa.Table, pa.Table]:
    """`table` less the row numbers `rows`, and its `issues` (a ``row`` column) less theirs, renumbered to the
    rows kept."""
    keep = np.ones(table.num_rows, dtype=bool)
    keep[rows] = False
    position = np.cumsum(keep) - 1  # a kept row's number among the kept ones
    numbers = issues["row"].to_numpy().astype(np.int64)
    kept_issues = issues.filter(pa.array(keep[numbers], pa.bool_()))
    renumbered = pa.array(position[numbers[keep[numbers]]], pa.int64()).cast(issues.schema.field("row").type)
    kept_issues = kept_issues.set_column(kept_issues.schema.get_field_index("row"), "row", renumbered)
    return table.filter(pa.array(keep)), kept_issues


def integrity_issues(keys: pa.Array, status: np.ndarray) -> pa.Table:
    """Issue rows (ISSUE_SCHEMA) of the rows with no published core record (but those excluded with theirs), on the
    ``coreid`` term with the key as value (several columns shown joined with ' | ')."""
    rows = np.flatnonzero((status != PUBLISHED) & (status != EXCLUDED))
    shown = pc.replace_substring(keys.cast(pa.string()), KEY_SEPARATOR, " | ").take(pa.array(rows, pa.int64()))
    flags = ["EXTENSION_ORPHANED" if status[row] == ORPHANED else "EXTENSION_CORE_REJECTED" for row in rows]
    return pa.table({"row": pa.array(rows, pa.int64()), "term": pa.array([COREID] * rows.size, pa.string()),
                     "flag": pa.array(flags, pa.string()), "value": shown}, schema=ISSUE_SCHEMA)


@dataclass
class JudgedRows:
    """One extension batch judged: ``table`` (coreid first, then the terms; removed values emptied), ``publishable``
    (per row), ``issues`` (REPORT_SCHEMA: row, term, flag, value, severity, message)."""

    table: pa.Table
    publishable: np.ndarray
    issues: pa.Table

    @property
    def rejected(self) -> np.ndarray:
        return np.flatnonzero(~self.publishable)


def judge(table: pa.Table, found: pa.Table, severity: dict[str, str]) -> JudgedRows:
    """Issue rows `found` (ISSUE_SCHEMA) of `table` with severities and messages, deduplicated by row, term and flag;
    rows with an error are not publishable; values whose flag ``removes_value`` emptied in publishable rows."""
    found = found.combine_chunks()
    order = pc.sort_indices(found, sort_keys=[("row", "ascending"), ("term", "ascending"), ("flag", "ascending")])
    found = found.take(order).combine_chunks()
    if found.num_rows > 1:
        keep = np.ones(found.num_rows, dtype=bool)
        keep[1:] = _differs(found["row"].chunk(0)) | _differs(found["term"].chunk(0)) | \
            _differs(found["flag"].chunk(0))
        found = found.filter(pa.array(keep))
    flags, terms, values = (found[name].combine_chunks() for name in ("flag", "term", "value"))
    levels = pa.array([severity.get(flag, FLAGS[flag].severity) for flag in flags.to_pylist()], pa.string())
    issues = pa.table([found["row"].combine_chunks(), terms, flags, values, levels, _messages(flags, terms, values)],
                      schema=REPORT_SCHEMA)
    publishable = np.ones(table.num_rows, dtype=bool)
    publishable[issues["row"].filter(pc.equal(levels, "error")).to_numpy()] = False
    removing = sorted(flag for flag in set(flags.to_pylist()) if FLAGS[flag].removes_value)
    removed = issues.filter(pc.is_in(issues["flag"], pa.array(removing, pa.string()))) if removing else None
    for term in set(removed["term"].to_pylist()) if removed is not None else ():
        if term not in table.column_names:
            continue
        mask = np.zeros(table.num_rows, dtype=bool)
        mask[removed.filter(pc.equal(removed["term"], term))["row"].to_numpy()] = True
        column = table[term].combine_chunks()
        emptied = pc.if_else(pa.array(mask), pa.scalar(None, column.type), column)
        table = table.set_column(table.column_names.index(term), term, emptied)
    return JudgedRows(table, publishable, issues)


def judge_extension(name: str, mapped: pa.Table, mapping_issues: pa.Table, core_ids: pa.Array, keys: pa.Array,
                    status: np.ndarray, context: CheckContext, severity: dict[str, str], dissco: str) -> JudgedRows:
    """The validate stage of one batch of extension `name` (not ``occurrence``, whose rows are occurrence records):
    `mapped` (the mapping's terms), `mapping_issues`, the rows' core ids and status (:func:`resolve_core_ids`).
    `dissco` is ``validation.dissco`` (fail, warn, ignore). Returns the rows with the coreid column first."""
    checked = check_extension_rows(name, mapped, context)
    severity = dict(severity)
    if dissco == "ignore":
        checked = checked.filter(pc.invert(pc.is_in(checked["flag"], pa.array(sorted(DISSCO_MEDIA_FLAGS)))))
    else:
        for flag in DISSCO_MEDIA_FLAGS:
            severity[flag] = "error" if dissco == "fail" else "warning"
    found = pa.concat_tables([mapping_issues.cast(ISSUE_SCHEMA), integrity_issues(keys, status),
                              checked.cast(ISSUE_SCHEMA)])
    table = mapped.add_column(0, COREID, core_ids)
    return judge(table, found, severity)
