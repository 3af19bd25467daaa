"""One in-process pipeline run (extract -> map -> duplicates -> validate -> publish) through flows/stages.py.

    .venv/bin/python bench/pipeline.py DB OUTPUT [--config config/sample.yaml] [--workers 2] [--engine E]
        [--profile FILE.html]

The per-batch map and validate stages run in a thread pool of ``--workers`` threads, as the Prefect flow does
with the ``threads`` runner; Prefect itself is not involved (its ephemeral API server's start-up would dominate a
benchmark). Prints one JSON object with the stage wall times and the counts on standard output.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Inline:
    map = staticmethod(map)


def run(db: Path, output: Path, config_path: Path, workers: int, engine: str | None, bdq: bool) -> dict:
    os.environ["MOBILISE_SAMPLE_URL"] = f"sqlite:///{db.resolve()}"
    os.environ["MOBILISE_OUTPUT"] = str(output.resolve())
    from mobilise.flows import stages
    from mobilise.settings import load_config

    config = load_config(config_path)
    if engine:
        config.source = config.source.model_copy(update={"engine": engine})
    if not bdq and hasattr(config.validation, "bdq"):
        # The TDWG BDQ batch tests are benchmarked apart (see bench/results.md): at this writing they cost far
        # more than the rest of the pipeline together.
        config.validation.bdq.enabled = False
    times: dict[str, float] = {}
    peak: dict[str, float] = {}  # the process's peak RSS (MB) so far, after each stage

    def mark(stage: str, started: float) -> None:
        times[stage] = time.perf_counter() - started
        peak[stage] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    start = time.perf_counter()
    run_dir = stages.new_run_directory(config)
    t = time.perf_counter()
    extracted = stages.extract(config, run_dir)
    mark("extract", t)
    with ThreadPoolExecutor(workers) as executor:
        pool = executor if workers > 1 else Inline()  # one worker: in the main thread, where a profiler sees it
        t = time.perf_counter()
        mapped = list(pool.map(lambda path: stages.map_file(config, path), extracted))
        mark("map", t)
        t = time.perf_counter()
        duplicates = stages.find_duplicate_ids(run_dir)
        mark("duplicates", t)
        t = time.perf_counter()
        summaries = list(pool.map(lambda path: stages.validate_file(config, path, duplicates), mapped))
        mark("validate", t)
    t = time.perf_counter()
    result = stages.publish(config, run_dir, summaries)
    mark("publish", t)
    t = time.perf_counter()
    stages.clean_up(run_dir)
    mark("clean_up", t)
    times["total"] = time.perf_counter() - start
    return {"stages": times, "peak_rss_mb": peak, "records": result.records, "rejected": result.rejected,
            "extracted": result.extracted, "archive": result.archive, "quarantine": result.quarantine,
            "batches": len(extracted)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "sample.yaml")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engine", default=None, help="source.engine override (sqlalchemy, adbc, connectorx)")
    parser.add_argument("--bdq", action="store_true", help="run the TDWG BDQ tests as the config says")
    parser.add_argument("--profile", type=Path, default=None, help="write a pyinstrument HTML profile here")
    args = parser.parse_args()
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
        result = run(args.db, args.output, args.config, args.workers, args.engine, args.bdq)
        profiler.stop()
        args.profile.write_text(profiler.output_html(), encoding="utf-8")
        args.profile.with_suffix(".txt").write_text(profiler.output_text(unicode=False, color=False),
                                                    encoding="utf-8")
    else:
        result = run(args.db, args.output, args.config, args.workers, args.engine, args.bdq)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
