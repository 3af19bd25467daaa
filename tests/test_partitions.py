"""Key-range partitions: every record read exactly once, in order, whatever the bounds say; clear errors."""
from __future__ import annotations

import sqlite3
import zipfile

import pyarrow as pa
import pytest

from mobilise.extractors import sql  # noqa: F401  (registers the SQL backends)
from mobilise.extractors.base import UNDECODABLE_COLUMN, extract_batches
from mobilise.extractors.partitions import PartitionError, partition_source, plan_partitions
from mobilise.settings import PartitionConfig, SourceConfig
from tests.conftest import sample_config
from tests.pipeline_helpers import run_stages


def _rows(source: SourceConfig) -> list[tuple]:
    tables = [pa.Table.from_batches([b]) for b in extract_batches(source)]
    if not tables:
        return []
    table = pa.concat_tables(tables).drop_columns([UNDECODABLE_COLUMN])
    return list(zip(*(table[c].to_pylist() for c in table.column_names)))


@pytest.fixture
def specimens(tmp_path):
    """A table whose keys have gaps, go beyond what the bounds query reports, and are sometimes empty."""
    path = tmp_path / "keys.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE specimen (specimen_key INTEGER, name TEXT)")
        keys = [3, 4, 5, 17, 18, 19, 20, 21, 40, 41, 99, None, None, 250]
        connection.executemany("INSERT INTO specimen VALUES (?, ?)", [(k, f"n{i}") for i, k in enumerate(keys)])
    return path


def _source(path, **partition) -> SourceConfig:
    return SourceConfig(url=f"sqlite:///{path}", batch_size=4,
                        query="SELECT specimen_key, name FROM specimen ORDER BY specimen_key",
                        partition=PartitionConfig(column="specimen_key", **partition) if partition else None)


@pytest.mark.parametrize("engine", ["sqlalchemy", "adbc"])
def test_partitions_read_every_record_once_even_outside_the_reported_bounds(specimens, engine):
    whole = _source(specimens).model_copy(update={"engine": engine})
    # the bounds query is wrong on purpose: it misses keys 3-4 below and 99, 250 above
    split = _source(specimens, keys=10, bounds_query="SELECT 5, 41").model_copy(update={"engine": engine})
    partitions = plan_partitions(split)
    assert [(p.low, p.high, p.empty_keys) for p in partitions] == [
        (None, 15, False), (15, 25, False), (25, 35, False), (35, None, False), (None, None, True)]
    rows = [row for p in partitions for row in _rows(partition_source(split, p))]
    expected = _rows(whole)
    # the same records, in the same order, the records without a key last (SQLite sorts NULL first)
    assert rows == [r for r in expected if r[0] is not None] + [r for r in expected if r[0] is None]
    assert max(len(b) for p in partitions for b in extract_batches(partition_source(split, p))) <= 4


def test_bounds_default_to_min_max_over_the_query(specimens):
    partitions = plan_partitions(_source(specimens, keys=100))
    assert [(p.low, p.high) for p in partitions[:-1]] == [(None, 103), (103, 203), (203, None)]
    assert sum(len(_rows(partition_source(_source(specimens, keys=100), p))) for p in partitions) == 14


def test_a_source_without_keys_is_one_partition_of_empty_keys(tmp_path):
    path = tmp_path / "empty.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE specimen (specimen_key INTEGER, name TEXT)")
        connection.execute("INSERT INTO specimen VALUES (NULL, 'x')")
    partitions = plan_partitions(_source(path, keys=10))
    assert len(partitions) == 1 and partitions[0].empty_keys
    assert _rows(partition_source(_source(path, keys=10), partitions[0])) == [(None, "x")]


def test_a_key_that_is_not_an_integer_is_named(tmp_path):
    path = tmp_path / "text.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE specimen (specimen_key TEXT, name TEXT)")
        connection.execute("INSERT INTO specimen VALUES ('BR0000013', 'x')")
    with pytest.raises(PartitionError, match=r"source.partition.column specimen_key must hold integers "
                                             r"\(found 'BR0000013'\)"):
        plan_partitions(_source(path, keys=10))


def test_a_broken_bounds_query_is_reported_as_such(specimens):
    with pytest.raises(PartitionError, match=r"source.partition: the bounds of specimen_key could not be read: "
                                             r"no such table: nowhere"):
        plan_partitions(_source(specimens, keys=10, bounds_query="SELECT MIN(k), MAX(k) FROM nowhere"))


def test_a_partitioned_run_publishes_the_same_archive_byte_for_byte(sample_db, tmp_path, monkeypatch):
    partitioned = sample_config(f"sqlite:///{sample_db}", tmp_path / "split", monkeypatch)
    assert partitioned.source.partition is not None  # the shipped sample config partitions
    partitioned.source.partition.keys = 1_500  # several partitions on the small test database
    split = run_stages(partitioned)
    whole_config = sample_config(f"sqlite:///{sample_db}", tmp_path / "whole", monkeypatch)
    whole_config.source.partition = None
    whole = run_stages(whole_config)
    assert (split.records, split.rejected, split.extracted) == (whole.records, whole.rejected, whole.extracted)
    with zipfile.ZipFile(split.archive) as a, zipfile.ZipFile(whole.archive) as b:
        assert a.read("occurrence.txt") == b.read("occurrence.txt")
    assert open(split.quarantine, "rb").read() == open(whole.quarantine, "rb").read()
