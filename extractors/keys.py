"""The key scan of a deletion reconciliation: every record key the source has now, and nothing else.

The source's SQL (:func:`~mobilise.extractors.base.table_sql`) is wrapped as a subquery and only its key column
(an identifier the dialect quotes) is selected, so the database reads little more than the key's index. A
transient failure is retried as any read is (:func:`~mobilise.extractors.base.with_retries`).
"""
from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa

from mobilise.extractors.base import check_reachable, source_error, table_sql, with_retries
from mobilise.settings import SourceConfig

CHUNK_ROWS = 100_000


def key_statement(source: SourceConfig, column: str):
    """``SELECT key FROM (source SQL) AS mobilise_keys``."""
    subquery = sa.text(table_sql(source)).columns().subquery("mobilise_keys")
    return sa.select(sa.column(column)).select_from(subquery)


def source_keys(source: SourceConfig, column: str) -> pa.Array:
    """Every value of `column` in the source's records, as an Arrow array (the driver's types; nulls kept).

    Raises :class:`~mobilise.extractors.base.SourceError` (password masked) when the source cannot be read."""
    from mobilise.extractors.sql import create_engine

    check_reachable(source)

    def read() -> pa.Array:
        engine = create_engine(source)
        try:
            values: list = []
            with engine.connect() as connection:
                result = connection.execute(key_statement(source, column),
                                            execution_options={"stream_results": True, "yield_per": CHUNK_ROWS})
                for rows in result.partitions(CHUNK_ROWS):
                    values.extend(row[0] for row in rows)
            return pa.array(values)
        except Exception as error:  # noqa: BLE001  (every driver's errors, one class)
            raise source_error(error, source) from None
        finally:
            engine.dispose()

    return with_retries(source, read, "scanning the source's keys")
