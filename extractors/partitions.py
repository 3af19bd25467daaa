"""Key-range partitions of a source, so that several workers each read their own part of the table.

A partition is the source query wrapped as ``SELECT * FROM (query) AS mobilise_partition WHERE key >= low AND
key < high``. SQLite, PostgreSQL and MariaDB push such a range down into the query to the key's index (for the
sample database's query SQLite reads ``collection_object`` by ``rowid>? AND rowid<?``), so reading all partitions
costs what reading the query once costs, and the partitions can be read at the same time.

No record is lost to the ranges: the first range is open below, the last open above (a bounds query that misses a
key still finds its record), and records whose key is empty make a partition of their own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mobilise.extractors.base import SourceError, check_reachable, mask_secrets, source_error, table_sql
from mobilise.settings import SourceConfig


@dataclass(frozen=True)
class Partition:
    number: int
    low: int | None  # None: open below
    high: int | None  # None: open above
    empty_keys: bool = False  # the records whose key is NULL

    def describe(self, column: str) -> str:
        if self.empty_keys:
            return f"{column} IS NULL"
        parts = ([f"{column} >= {self.low}"] if self.low is not None else []) + \
            ([f"{column} < {self.high}"] if self.high is not None else [])
        return " AND ".join(parts) or f"{column} IS NOT NULL"


class PartitionError(SourceError):
    """The partition settings cannot split this source; the message names the setting to fix."""


_source_sql = table_sql


def _quoted(source: SourceConfig, column: str) -> str:
    return make_url(source.url).get_dialect()().identifier_preparer.quote(column)


def key_bounds(source: SourceConfig) -> tuple[int | None, int | None]:
    """The smallest and largest key, from ``partition.bounds_query`` or MIN/MAX over the query."""
    partition = source.partition
    assert partition is not None
    check_reachable(source)
    sql = partition.bounds_query or (
        f"SELECT MIN({_quoted(source, partition.column)}), MAX({_quoted(source, partition.column)}) "
        f"FROM ({_source_sql(source)}) AS mobilise_bounds")
    from mobilise.extractors.sql import create_engine

    engine = create_engine(source)
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.text(sql)).first()
    except sa.exc.SQLAlchemyError as error:
        failure = source_error(error, source)
        if failure.transient:  # the server, not the settings: worth a retry (stage.plan_partitions)
            raise failure from None
        message = str(error.orig if hasattr(error, 'orig') else error).splitlines()[0]
        raise PartitionError(f"source.partition: the bounds of {partition.column} could not be read: "
                             f"{mask_secrets(message, source)}") from None
    finally:
        engine.dispose()
    if row is None or len(row) < 2:
        raise PartitionError("source.partition.bounds_query must return one row with the smallest and largest key")
    return _integer(row[0], partition.column), _integer(row[1], partition.column)


def _integer(value, column: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (float, Decimal)) and value == int(value):
        return int(value)
    raise PartitionError(f"source.partition.column {column} must hold integers (found {value!r}); "
                         f"partition on the record's integer primary key")


def plan_partitions(source: SourceConfig) -> list[Partition | None]:
    """The partitions to read, in key order; ``[None]`` (the whole source) when no partitioning is configured."""
    if source.partition is None:
        return [None]
    low, high = key_bounds(source)
    width = source.partition.keys
    if low is None:  # no key at all: everything there is has an empty key (or the source is empty)
        return [Partition(1, None, None, empty_keys=True)]
    count = max(1, math.ceil((high - low + 1) / width))
    partitions = [Partition(number + 1,
                            None if number == 0 else low + number * width,
                            None if number == count - 1 else low + (number + 1) * width)
                  for number in range(count)]
    return partitions + [Partition(count + 1, None, None, empty_keys=True)]


def partition_source(source: SourceConfig, partition: Partition | None) -> SourceConfig:
    """The source restricted to one partition: the same config with the range wrapped around its query."""
    if partition is None:
        return source
    assert source.partition is not None
    condition = partition.describe(_quoted(source, source.partition.column))
    return source.model_copy(update={
        "query": f"SELECT * FROM ({_source_sql(source)}) AS mobilise_partition WHERE {condition}", "table": None,
        "partition": None})
