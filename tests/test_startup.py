"""Start-up of a run (issue 15 item 3): ``execution.runner: auto`` picks threads for small sources and Dask for
big ones, from a cheap estimate of the source's size (mobilise/runners.py)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mobilise import runners
from mobilise.settings import ExecutionConfig, SourceConfig
from tests.conftest import SAMPLE_SPECIMENS


def test_auto_is_the_default_and_chooses_by_the_estimate():
    execution = ExecutionConfig()
    assert execution.runner == "auto"
    threshold = execution.auto_dask_records
    assert runners.choose_runner(execution, 10_000) == "threads"
    assert runners.choose_runner(execution, threshold - 1) == "threads"
    assert runners.choose_runner(execution, threshold) == "dask"
    assert runners.choose_runner(execution, None) == "dask"  # unknown: the runner that scales


def test_an_explicit_runner_or_a_scheduler_wins_over_the_estimate():
    assert runners.choose_runner(ExecutionConfig(runner="dask"), 3) == "dask"
    assert runners.choose_runner(ExecutionConfig(runner="threads"), 10**9) == "threads"
    assert runners.choose_runner(ExecutionConfig(), 3, dask_address="tcp://127.0.0.1:8786") == "dask"
    assert runners.choose_runner(ExecutionConfig(auto_dask_records=2), 3) == "dask"


def test_the_sample_is_estimated_from_its_key_bounds_and_runs_on_threads(sqlite_config, sample_db):
    """The shipped sample config partitions on object_id with a bounds query: the estimate is the key span."""
    with sqlite3.connect(sample_db) as connection:
        low, high = connection.execute("SELECT MIN(object_id), MAX(object_id) FROM collection_object").fetchone()
    estimate = runners.estimate_records(sqlite_config.source)
    assert estimate == high - low + 1
    assert estimate >= SAMPLE_SPECIMENS
    assert runners.chosen(sqlite_config.execution, sqlite_config.source) == "threads"
    bigger = sqlite_config.execution.model_copy(update={"auto_dask_records": SAMPLE_SPECIMENS // 2})
    assert runners.chosen(bigger, sqlite_config.source) == "dask"


def test_a_sqlite_or_file_source_without_partition_is_estimated_from_its_size(sample_db, tmp_path):
    source = SourceConfig(url=f"sqlite:///{sample_db}", table="collection_object")
    assert runners.estimate_records(source) == sample_db.stat().st_size // runners.BYTES_PER_RECORD
    csv = tmp_path / "records.csv"
    csv.write_text("id,name\n" + "".join(f"{n},Quercus robur\n" for n in range(1000)))
    assert runners.estimate_records(SourceConfig(path=csv)) == csv.stat().st_size // runners.BYTES_PER_RECORD


@pytest.mark.parametrize("url", ["postgresql://nobody@127.0.0.1:1/none", "sqlite:///:memory:"])
def test_a_source_of_unknown_size_is_none_never_an_error(url):
    assert runners.estimate_records(SourceConfig(url=url, table="specimen")) is None
    assert runners.choose_runner(ExecutionConfig(), runners.estimate_records(SourceConfig(url=url, table="t"))) \
        == "dask"
