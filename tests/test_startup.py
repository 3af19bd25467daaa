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


# --- the caches that grow with the data (issue 15 item 4) --------------------------------------------------------

def test_every_data_cache_is_bounded_and_reported():
    """Every registered cache of the modules a run imports has a finite bound, and cache_stats names it."""
    import mobilise.mappers.coordinates  # noqa: F401  (the modules a run imports)
    import mobilise.mappers.countries  # noqa: F401
    import mobilise.mappers.dates  # noqa: F401
    import mobilise.validators.gbif.geography  # noqa: F401
    from mobilise import caches

    stats = caches.cache_stats()
    assert {"dates.interpret_event_date", "coordinates.interpret_coordinate",
            "countries.interpret_country_code"} <= set(stats)
    for name, figures in stats.items():
        assert figures["maxsize"] is not None and figures["maxsize"] > 0, name
        assert figures["size"] <= figures["maxsize"], name


def test_a_cache_keeps_its_bound_when_the_data_has_more_distinct_values_and_reports_its_hits():
    from mobilise import caches
    from mobilise.mappers.countries import interpret_country_code

    interpret_country_code.cache_clear()
    bound = interpret_country_code.cache_info().maxsize
    for n in range(bound + 500):  # more distinct values than the bound
        interpret_country_code(f"not a country {n}")
    for _ in range(3):
        assert interpret_country_code("Belgium") == ("BE", ())
    figures = caches.cache_stats()["countries.interpret_country_code"]
    assert figures["size"] == bound
    assert figures["hits"] == 2 and figures["misses"] == bound + 501
    assert figures["hit_rate"] == round(2 / (bound + 503), 3)


def test_the_country_index_counts_its_answers_and_clears_at_its_bound(monkeypatch):
    from mobilise.reference import geography

    index = geography.country_index()
    if index is None:
        pytest.skip("the Natural Earth geodata package is not installed")
    monkeypatch.setattr(geography, "CACHE_SIZE", 5)
    index._cache.clear()
    index.hits = index.misses = 0
    lats, lons = [50.85, 50.85, 48.85, 52.37], [4.35, 4.35, 2.35, 4.9]  # Brussels twice, Paris, Amsterdam
    assert index.consistent_many(["BE", "BE", "FR", "NL"], lats, lons, 0) == [True, True, True, True]
    assert (index.hits, index.misses) == (0, 4)
    assert index.consistent_many(["BE"], [50.85], [4.35], 0) == [True]
    assert (index.hits, index.misses) == (1, 4)
    index.consistent_many(["FR", "FR"], [45.0, 46.0], [1.0, 2.0], 0)  # 3 answers cached + 2 >= 5: cleared first
    assert len(index._cache) <= 5


def test_partition_bounds_are_read_only_from_a_bounds_query(sqlite_config, sample_db):
    """MIN/MAX over the whole query would cost a pass over the source: without a bounds query, the file's size."""
    partition = sqlite_config.source.partition.model_copy(update={"bounds_query": None})
    source = sqlite_config.source.model_copy(update={"partition": partition})
    assert runners.estimate_records(source) == sample_db.stat().st_size // runners.BYTES_PER_RECORD


def test_the_temporary_api_skips_block_registration_unless_the_environment_asks_for_it(monkeypatch):
    from mobilise import prefect_api

    launched = []

    class Launched:
        def __init__(self, command, env, **kwargs):
            launched.append(env)

        def poll(self):
            return None

    monkeypatch.setattr(prefect_api.subprocess, "Popen", Launched)
    monkeypatch.delenv("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", raising=False)
    server = prefect_api.TemporaryAPI()
    server.launch()
    server.process = None  # nothing to stop
    monkeypatch.setenv("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "true")
    again = prefect_api.TemporaryAPI()
    again.launch()
    again.process = None
    assert launched[0]["PREFECT_SERVER_REGISTER_BLOCKS_ON_START"] == "false"
    assert launched[0]["PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION"] == "false"
    assert launched[1]["PREFECT_SERVER_REGISTER_BLOCKS_ON_START"] == "true"  # the user's setting wins
    assert launched[0]["PREFECT__SERVER_EPHEMERAL"] == "1"
