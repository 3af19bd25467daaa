"""One pipeline run (partitions extracted -> mapped -> duplicates -> validated -> published) through the steps of
flows/steps.py, on a local Dask cluster (the `mobilise run` default) or in threads, without Prefect.

    .venv/bin/python bench/pipeline.py DB OUTPUT [--config config/sample.yaml] [--workers 2] [--engine E]
        [--runner dask|threads] [--profile FILE.html]

The tasks are those of the Prefect flow (flows/publish.py) in the same order and with the same overlap (a
partition's batches are mapped as soon as it is extracted); Prefect itself is left out so that the stages can be
timed, and `bench/run.py` measures `mobilise run` beside this. Prints one JSON object with the phase times (seconds
from the start at which each phase ended) and the counts.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _executor(runner: str, workers: int):
    """submit/as_completed/close of a local Dask cluster (worker processes), a thread pool, or inline."""
    if runner == "dask":
        import distributed

        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()

        return client.submit, distributed.as_completed, close
    if runner == "inline":  # everything in the main thread, where a profiler sees it
        def submit(function, *args):
            future = concurrent.futures.Future()
            future.set_result(function(*args))
            return future

        return submit, iter, lambda: None
    pool = concurrent.futures.ThreadPoolExecutor(workers)
    return pool.submit, concurrent.futures.as_completed, pool.shutdown


def map_group(plan, catalog, entries: list) -> list:  # as flows/publish.py's map task
    from mobilise.flows import steps

    return steps.map_batches(plan, catalog, entries)


def validate_group(config, plan, catalog, entries: list, duplicates) -> list:  # as flows/publish.py's validate task
    from mobilise.flows import steps

    return steps.validate_batches(config, plan, catalog, entries, duplicates)


def run(db: Path, output: Path, config_path: Path, workers: int, engine: str | None, bdq: bool,
        runner: str) -> dict:
    os.environ["MOBILISE_SAMPLE_URL"] = f"sqlite:///{db.resolve()}"
    os.environ["MOBILISE_OUTPUT"] = str(output.resolve())
    from mobilise.catalog import RunCatalog
    from mobilise.extractors.stage import plan_partitions
    from mobilise.flows import steps
    from mobilise.mappers.mapping import MappingPlan
    from mobilise.settings import load_config

    config = load_config(config_path)
    if engine:
        config.source = config.source.model_copy(update={"engine": engine})
    if not bdq:
        # The TDWG BDQ batch tests are measured apart (see bench/results.md).
        config.validation.bdq.enabled = False
    times: dict[str, float] = {}
    start = time.perf_counter()

    def mark(phase: str) -> None:
        times[phase] = time.perf_counter() - start

    submit, as_completed, close = _executor(runner, workers)
    mark("workers started")
    try:
        plan = MappingPlan.from_config(config)
        catalog = RunCatalog.create(config)
        partitions = plan_partitions(config.source)
        steps.extract_children(config, plan, catalog)  # the child tables (children:) every map joins
        extracts = [submit(steps.extract, config, plan, catalog, partition) for partition in partitions]
        maps = []
        for done in as_completed(extracts):
            maps += [submit(map_group, plan, catalog, group) for group in steps.task_groups(done.result(), partitions)]
        mark("extract")
        mapped = sorted(entry for future in maps for entry in future.result())
        mark("map")
        duplicates = steps.find_duplicates(catalog, config.core)
        mark("duplicates")
        validations = [submit(validate_group, config, plan, catalog, group, duplicates)
                       for group in steps.task_groups(mapped, partitions)]
        batches = [batch for future in validations for batch in future.result()]
        mark("validate")
    finally:
        close()
    extensions = [steps.process_extension(config, name, catalog) for name in config.extensions]
    result = steps.publish(config, plan, catalog, batches, extensions=extensions)
    mark("publish")
    catalog.remove()
    mark("total")
    return {"phases": times, "runner": runner, "workers": workers, "partitions": len(partitions),
            "main_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "records": result.records, "rejected": result.rejected, "extracted": result.extracted,
            "archive": result.archive, "quarantine": result.quarantine, "batches": len(mapped)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "sample.yaml")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engine", default=None, help="source.engine override (sqlalchemy, adbc, connectorx)")
    parser.add_argument("--bdq", action="store_true", help="run the TDWG BDQ tests as the config says")
    parser.add_argument("--runner", choices=["dask", "threads", "inline"], default="dask",
                        help="inline: one after the other in the main thread (what --profile uses)")
    parser.add_argument("--profile", type=Path, default=None, help="write a pyinstrument HTML profile here")
    args = parser.parse_args()
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
        result = run(args.db, args.output, args.config, args.workers, args.engine, args.bdq, "inline")
        profiler.stop()
        args.profile.write_text(profiler.output_html(), encoding="utf-8")
        args.profile.with_suffix(".txt").write_text(profiler.output_text(unicode=False, color=False),
                                                    encoding="utf-8")
    else:
        result = run(args.db, args.output, args.config, args.workers, args.engine, args.bdq, args.runner)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
