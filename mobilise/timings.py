"""Where a run's time goes: wall and CPU seconds per stage, summed over batches and worker processes.

A step of the run (flows/steps.py) runs inside :func:`step`, which saves its stages' times in the run catalog
(``<table>/stage_times/<step>.parquet``: stage, wall_s, cpu_s) when it ends; code inside it marks a part of the
work as another stage with :func:`stage` (the BDQ tests in validators/quality.py), which is then left out of the
enclosing stage's time, so the stages never count a second twice. :func:`run_stages` adds them up for the run
(``mobilise run --json``: ``stages``). Outside a step, :func:`stage` does nothing.

CPU seconds are those of the process when it runs one task at a time (a Dask worker of one thread: Arrow's and
DuckDB's threads count), else of the thread that runs the step (the threads runner, the flow's own process).
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Callable, Iterator

import pyarrow as pa

from mobilise.catalog import CORE, Entry

if TYPE_CHECKING:
    from mobilise.catalog import RunCatalog

#: the stages, in run order: extract (core and children), map, duplicates (over the whole table), gbif_checks
#: (the record checks, GBIF's flags and the publication policy), bdq (the TDWG BDQ tests and their amendments),
#: mids_dissco (DiSSCo's readiness rules and the MIDS levels), validate (the rest of the validate step: loading,
#: quarantine, warnings, record hashes), extensions (an extension's own steps, less the stages above), write
#: (the archive parts deflated in the validate step and the publish step)
STAGES = ("extract", "map", "duplicates", "gbif_checks", "bdq", "mids_dissco", "validate", "extensions", "write")


class _Clock:
    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}  # stage -> [wall s, CPU s], its nested stages left out
        self.nested: list[list[float]] = []  # per open stage: [wall s, CPU s] of the stages inside it


_clock: ContextVar[_Clock | None] = ContextVar("mobilise_stage_clock", default=None)


def _cpu_clock() -> Callable[[], float]:
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            if distributed.get_worker().state.nthreads == 1:
                return time.process_time
        except ValueError:  # not in a Dask worker
            pass
    return time.thread_time


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Count the time of the block as stage `name` (one of :data:`STAGES`) of the step it runs in, and not as
    the enclosing stage's; nothing outside a :func:`step`."""
    clock = _clock.get()
    if clock is None:
        yield
        return
    cpu = _cpu_clock()
    clock.nested.append([0.0, 0.0])
    wall_start, cpu_start = time.perf_counter(), cpu()
    try:
        yield
    finally:
        wall, used = time.perf_counter() - wall_start, cpu() - cpu_start
        inner = clock.nested.pop()
        total = clock.totals.setdefault(name, [0.0, 0.0])
        total[0] += wall - inner[0]
        total[1] += used - inner[1]
        if clock.nested:
            clock.nested[-1][0] += wall
            clock.nested[-1][1] += used


@contextmanager
def step(catalog: "RunCatalog", name: str, stage_name: str, table: str = CORE) -> Iterator[None]:
    """Time one step of a run as stage `stage_name` and, when it succeeds, save its stages' times as
    ``stage_times/<name>`` of `table` (`name` unique per task: a retried task replaces its times). Inside another
    step (an extension's map), only a :func:`stage` of it."""
    if _clock.get() is not None:
        with stage(stage_name):
            yield
        return
    clock = _Clock()
    token = _clock.set(clock)
    try:
        with stage(stage_name):
            yield
    finally:
        _clock.reset(token)
    names = [s for s in STAGES if s in clock.totals]
    catalog.save(Entry("stage_times", table, name), pa.table({
        "stage": pa.array(names, pa.string()), "wall_s": [clock.totals[s][0] for s in names],
        "cpu_s": [clock.totals[s][1] for s in names]}))


def run_stages(catalog: "RunCatalog") -> dict[str, dict[str, float]]:
    """{stage: {"wall_s", "cpu_s"}} summed over every step saved in `catalog`, in :data:`STAGES` order; a stage
    no step ran (bdq with the BDQ tests off) is absent. Wall seconds add up over processes working in parallel."""
    sums: dict[str, list[float]] = {}
    for table in catalog.tables("stage_times"):
        for entry in catalog.entries("stage_times", table):
            times = catalog.load(entry).to_pydict()
            for name, wall, cpu in zip(times["stage"], times["wall_s"], times["cpu_s"]):
                total = sums.setdefault(name, [0.0, 0.0])
                total[0] += wall
                total[1] += cpu
    return {name: {"wall_s": round(sums[name][0], 3), "cpu_s": round(sums[name][1], 3)}
            for name in STAGES if name in sums}


def describe(stages: dict[str, dict[str, float]]) -> str:
    """One line for the run log: ``extract 1.2/1.0 s, map ...`` (wall/CPU seconds per stage)."""
    return ", ".join(f"{name} {times['wall_s']:.1f}/{times['cpu_s']:.1f}" for name, times in stages.items())
