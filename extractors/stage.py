"""The extract stage: the source (or one key-range partition of it) as Arrow tables, one per batch.

I/O at the edge: the source is read here and nowhere else; the caller saves each table in the run catalog.
"""
from __future__ import annotations

import logging
from typing import Callable, Iterator, TypeVar

import pyarrow as pa

from mobilise.extractors import sql  # noqa: F401  (registers the SQL backends)
from mobilise.extractors.base import extract_batches, with_retries
from mobilise.extractors.partitions import Partition, partition_source
from mobilise.extractors.partitions import plan_partitions as _plan_partitions
from mobilise.settings import SourceConfig

log = logging.getLogger("mobilise")
Saved = TypeVar("Saved")


def plan_partitions(source: SourceConfig) -> list[Partition | None]:
    """The parts of the source to extract, each on its own worker; ``[None]``: the source read as a whole.

    Raises :class:`~mobilise.extractors.partitions.PartitionError` when the partition settings cannot split it.
    """
    partitions = with_retries(source, lambda: _plan_partitions(source), "reading the key bounds")
    if len(partitions) > 1:
        log.info("source split into %d partitions of %d %s values", len(partitions) - 1, source.partition.keys,
                 source.partition.column)
    return partitions


def extract(source: SourceConfig, partition: Partition | None = None,
            check_columns: Callable[[list[str]], None] | None = None) -> Iterator[pa.Table]:
    """Stream the source (or one partition of it) as tables of at most ``source.batch_size`` rows, in source order.

    `check_columns` is called with the first batch's column names before anything is yielded (the mapping's
    check: it raises on a mapped column the source lacks), so a wrong mapping fails on the first batch.
    """
    count = 0
    for batch in extract_batches(partition_source(source, partition)):
        if count == 0 and check_columns is not None:
            check_columns(batch.schema.names)
        count += 1
        yield pa.Table.from_batches([batch])
    where = f" ({partition.describe(source.partition.column)})" if partition is not None else ""
    log.info("extracted %d batch(es) from %s%s", count, source.safe_url, where)


def extract_partition(source: SourceConfig, partition: Partition | None, save: Callable[[int, pa.Table], Saved],
                      check_columns: Callable[[list[str]], None] | None = None) -> list[Saved]:
    """Extract the source (or one partition of it) as a unit: ``save(n, table)`` for its n-th batch (from 1),
    returning what `save` returned, in order.

    A transient failure (:func:`~mobilise.extractors.base.with_retries`: a refused or reset connection, a
    terminated backend, a timeout) reads the partition again from its start, up to ``source.retries`` times: the
    batches are numbered again from 1, so `save` (which must replace what it saved under the same number)
    replaces the batches of the failed attempt instead of adding to them, and the records are those of one clean
    read. Raises :class:`~mobilise.extractors.base.SourceError` naming the source (password masked) when the
    last attempt fails or the failure is not transient."""
    def read() -> list[Saved]:
        return [save(number, table) for number, table in enumerate(extract(source, partition, check_columns),
                                                                   start=1)]

    what = (f"reading partition {partition.number} ({partition.describe(source.partition.column)})"
            if partition is not None else "reading the source")
    return with_retries(source, read, what)
