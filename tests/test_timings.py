"""A run's time per stage (mobilise/timings.py): every stage timed, within the run's CPU, BDQ's only with BDQ on."""
from __future__ import annotations

import resource
import time

import pytest

from mobilise import timings
from mobilise.catalog import RunCatalog
from tests.conftest import sample_config
from tests.pipeline_helpers import staged_run


def _spin(cpu_seconds: float) -> None:
    until = time.thread_time() + cpu_seconds
    while time.thread_time() < until:
        pass


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_a_stage_inside_a_step_is_left_out_of_the_step_stage(tmp_path):
    catalog = RunCatalog(tmp_path)
    with timings.stage("bdq"):  # outside a step: not counted anywhere
        _spin(0.05)
    with timings.step(catalog, "validate-000001", "validate"):
        _spin(0.05)
        with timings.stage("bdq"):
            _spin(0.1)
        with timings.step(catalog, "map-000001", "map"):  # a step inside a step is a stage of it
            _spin(0.02)
    with timings.step(catalog, "validate-000002", "validate"):
        with timings.stage("bdq"):
            _spin(0.1)
    stages = timings.run_stages(catalog)
    assert list(stages) == ["map", "bdq", "validate"]  # in run order
    assert 0.2 <= stages["bdq"]["cpu_s"] < 0.25
    assert 0.05 <= stages["validate"]["cpu_s"] < 0.07
    assert 0.02 <= stages["map"]["cpu_s"] < 0.04
    assert all(times["wall_s"] >= times["cpu_s"] for times in stages.values())


@pytest.mark.parametrize("bdq", [True, False])
def test_every_stage_of_a_run_is_timed_within_its_cpu(sample_db, tmp_path, monkeypatch, bdq):
    config = sample_config(f"sqlite:///{sample_db}", tmp_path / "output", monkeypatch, bdq=bdq)
    cpu, wall = _cpu(), time.perf_counter()
    with staged_run(config) as (catalog, result):
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
        stages = timings.run_stages(catalog)
    assert result.records > 0
    expected = ["extract", "map", "duplicates", "gbif_checks", "bdq", "mids_dissco", "validate", "write"]
    assert list(stages) == [stage for stage in expected if bdq or stage != "bdq"]
    assert all(times["wall_s"] > 0 and times["cpu_s"] > 0 for times in stages.values())
    # in one thread, one after the other: the stages never count a second twice
    assert sum(times["cpu_s"] for times in stages.values()) <= cpu
    assert sum(times["wall_s"] for times in stages.values()) <= wall
