"""The fixed cost of a run (issue 15 item 3): `mobilise run` of small sample datasets, start-up included.

    .venv/bin/python bench/startup.py [--specimens 10000 3] [--repeats 5]      # make bench-startup

Builds the sample collection databases in bench/work/startup/, then times, each `--repeats` times (wall, and CPU:
user + sys of the process tree, from the parent; best and median, since the machine is shared): `mobilise run
config/sample.yaml --json` as shipped (``runner: auto`` and a temporary Prefect API), with ``--runner dask``, and
against a Prefect API that is already running (``PREFECT_API_URL``, as for scheduled runs; started here once, not
timed). The parts of the fixed cost are timed on their own: the import of the command line and the flow module
(``python -c``), and the boot of the temporary Prefect API (mobilise/prefect_api.py: launch to ``/health``). The
value caches' line of the last run's log (mobilise/caches.py) is printed too. Prints a Markdown section for
bench/results.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "work" / "startup"
MOBILISE = [sys.executable, "-m", "mobilise.cli"]


def timed(command: list[str], env: dict) -> tuple[tuple[float, float], str]:
    """(wall s, CPU s: user + sys of the command and every process it waited for) and its stderr."""
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    wall, after = time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return (wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), done.stderr


def run_times(database: Path, repeats: int, extra: list[str], env: dict) -> tuple[list[tuple[float, float]], str]:
    times, log = [], ""
    for _ in range(repeats):
        output = WORK / "output"
        shutil.rmtree(output, ignore_errors=True)
        spent, log = timed([*MOBILISE, "run", str(REPO / "config" / "sample.yaml"), "--json", *extra],
                           {**env, "MOBILISE_SAMPLE_URL": f"sqlite:///{database}", "MOBILISE_OUTPUT": str(output)})
        times.append(spent)
    return times, log


def api_boot(repeats: int) -> list[tuple[float, float]]:
    """(wall s from launch to /health, CPU s of the server from launch to its stop), `repeats` times."""
    from mobilise.prefect_api import TemporaryAPI

    times = []
    for _ in range(repeats):
        server = TemporaryAPI()
        before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
        server.start(timeout=300)  # the machine is shared: Prefect's default timeout is not always enough
        wall = time.monotonic() - started
        server.stop()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append((wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
    return times


def row(what: str, times: list[tuple[float, float] | float]) -> str:
    """A table row: best and median wall s, and, for commands, best and median CPU s (the machine is shared:
    CPU varies less with its load than wall)."""
    walls = [t[0] if isinstance(t, tuple) else t for t in times]
    cpus = [t[1] for t in times if isinstance(t, tuple)]
    cpu = f"{min(cpus):.1f} | {statistics.median(cpus):.1f}" if cpus else "- | -"
    return f"| {what} | {min(walls):.1f} | {statistics.median(walls):.1f} | {cpu} | {len(walls)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specimens", type=int, nargs="+", default=[10_000, 3])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    load = [os.getloadavg()[0]]
    lines = []
    imports = [timed([sys.executable, "-c", "import mobilise.cli, mobilise.flows.publish"], env)[0]
               for _ in range(args.repeats)]
    lines.append(row("import of the command line and the flow module (python -c)", imports))
    lines.append(row("temporary Prefect API: launch to /health (CPU: the server, launch to stop)",
                     api_boot(args.repeats)))
    caches = ""
    for specimens in args.specimens:
        database = WORK / f"sample-{specimens}.sqlite"
        if not database.exists():
            subprocess.run([*MOBILISE, "sample-db", str(database), "--specimens", str(specimens), "--seed", "42"],
                           check=True, capture_output=True)
        times, log = run_times(database, args.repeats, [], env)
        runner = re.search(r"runner: auto chose (\w+)", log)
        lines.append(row(f"{specimens:,} specimens: `mobilise run` as shipped (auto: "
                         f"{runner.group(1) if runner else '?'}, temporary API)", times))
        found = re.search(r"value caches \(.*", log)
        caches = caches or (found.group(0) if found and specimens == args.specimens[0] else "")
        times, _ = run_times(database, args.repeats, ["--runner", "dask"], env)
        lines.append(row(f"{specimens:,} specimens: `--runner dask` (temporary API)", times))
        load.append(os.getloadavg()[0])
    from mobilise.prefect_api import TemporaryAPI

    server = TemporaryAPI()  # a Prefect API already running, as `prefect server start` for scheduled runs
    server.start(timeout=300)
    try:
        for specimens in args.specimens:
            times, _ = run_times(WORK / f"sample-{specimens}.sqlite", args.repeats, [],
                                 {**env, "PREFECT_API_URL": server.api_url})
            lines.append(row(f"{specimens:,} specimens: as shipped, `PREFECT_API_URL` of a running server", times))
    finally:
        server.stop()
    load.append(os.getloadavg()[0])
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), Python "
          f"{platform.python_version()}, load average (1 min) {min(load):.1f}-{max(load):.1f} (shared machine).\n")
    print("| what | best s | median s | best CPU s | median CPU s | runs |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(lines))
    if caches:
        print(f"\nValue caches after the {args.specimens[0]:,}-specimen run (its log): {caches}")


if __name__ == "__main__":
    main()
