"""Relational sources through SQLAlchemy: server-side cursors, ``yield_per`` partitions, one Arrow batch each.

With ``source.engine`` set to ``adbc`` or ``connectorx`` the same sources are read Arrow-natively instead
(:mod:`mobilise.extractors.arrow_native`).
"""
from __future__ import annotations

from contextlib import closing
from typing import Iterator

import pyarrow as pa
import sqlalchemy as sa

from mobilise.extractors.base import register
from mobilise.settings import SourceConfig


def _query(source: SourceConfig) -> sa.TextClause | sa.Select:
    if source.query:
        return sa.text(source.query)
    return sa.select(sa.text("*")).select_from(sa.table(source.table))


def _column(values: list, name: str) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed types in one column (SQLite is dynamically typed): keep every value, as text.
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def rows_to_batch(columns: list[str], rows: list) -> pa.RecordBatch:
    """Transpose a partition of DB-API rows into Arrow columns, inferring each column's type."""
    if not rows:
        return pa.RecordBatch.from_pydict({name: pa.array([], pa.string()) for name in columns})
    values = list(zip(*rows))
    return pa.RecordBatch.from_arrays([_column(list(v), name) for name, v in zip(columns, values)], names=columns)


@register("sqlite", "postgresql", "mysql", "mariadb", "mssql", "oracle")
def extract_sql(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    if getattr(source, "engine", "sqlalchemy") != "sqlalchemy":
        from mobilise.extractors.arrow_native import extract_native

        yield from extract_native(source)
        return
    engine = sa.create_engine(source.url)
    try:
        with engine.connect() as connection:
            result = connection.execute(_query(source), execution_options={
                "stream_results": True, "yield_per": source.batch_size})
            with closing(result):
                columns = list(result.keys())
                for partition in result.partitions(source.batch_size):
                    yield rows_to_batch(columns, partition)
    finally:
        engine.dispose()
