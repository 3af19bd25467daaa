"""The fixed cost of a run (issue 15 item 3): `mobilise run` of small sample datasets, start-up included.

    .venv/bin/python bench/startup.py [--specimens 10000 3] [--repeats 5]      # make bench-startup

Builds the sample collection databases in bench/work/startup/, then times, each `--repeats` times (wall, from
the parent; best and median, since the machine is shared): `mobilise run config/sample.yaml --json` as shipped
(``runner: auto`` and a temporary Prefect API), with ``--runner dask``, and against a Prefect API that is already
running (``PREFECT_API_URL``, as for scheduled runs; started here once, not timed). The parts of the fixed cost
are timed on their own: the import of the command line and the flow module (``python -c``), and the boot of the
temporary Prefect API (mobilise/prefect_api.py: launch to ``/health``). The value caches' line of the last run's
log (mobilise/caches.py) is printed too. Prints a Markdown section for bench/results.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
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


def timed(command: list[str], env: dict) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, done.stderr


def run_times(database: Path, repeats: int, extra: list[str], env: dict) -> tuple[list[float], str]:
    walls, log = [], ""
    for _ in range(repeats):
        output = WORK / "output"
        shutil.rmtree(output, ignore_errors=True)
        wall, log = timed([*MOBILISE, "run", str(REPO / "config" / "sample.yaml"), "--json", *extra],
                          {**env, "MOBILISE_SAMPLE_URL": f"sqlite:///{database}", "MOBILISE_OUTPUT": str(output)})
        walls.append(wall)
    return walls, log


def api_boot(repeats: int) -> list[float]:
    from mobilise.prefect_api import TemporaryAPI

    walls = []
    for _ in range(repeats):
        server = TemporaryAPI()
        started = time.monotonic()
        server.start()
        walls.append(time.monotonic() - started)
        server.stop()
    return walls


def row(what: str, walls: list[float]) -> str:
    return f"| {what} | {min(walls):.1f} | {statistics.median(walls):.1f} | {len(walls)} |"


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
    lines.append(row("temporary Prefect API: launch to /health", api_boot(args.repeats)))
    caches = ""
    for specimens in args.specimens:
        database = WORK / f"sample-{specimens}.sqlite"
        if not database.exists():
            subprocess.run([*MOBILISE, "sample-db", str(database), "--specimens", str(specimens), "--seed", "42"],
                           check=True, capture_output=True)
        walls, log = run_times(database, args.repeats, [], env)
        runner = re.search(r"runner: auto chose (\w+)", log)
        lines.append(row(f"{specimens:,} specimens: `mobilise run` as shipped (auto: "
                         f"{runner.group(1) if runner else '?'}, temporary API)", walls))
        found = re.search(r"value caches \(.*", log)
        caches = caches or (found.group(0) if found and specimens == args.specimens[0] else "")
        walls, _ = run_times(database, args.repeats, ["--runner", "dask"], env)
        lines.append(row(f"{specimens:,} specimens: `--runner dask` (temporary API)", walls))
        load.append(os.getloadavg()[0])
    from mobilise.prefect_api import TemporaryAPI

    server = TemporaryAPI()  # a Prefect API already running, as `prefect server start` for scheduled runs
    server.start()
    try:
        for specimens in args.specimens:
            walls, _ = run_times(WORK / f"sample-{specimens}.sqlite", args.repeats, [],
                                 {**env, "PREFECT_API_URL": server.api_url})
            lines.append(row(f"{specimens:,} specimens: as shipped, `PREFECT_API_URL` of a running server", walls))
    finally:
        server.stop()
    load.append(os.getloadavg()[0])
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), Python "
          f"{platform.python_version()}, load average (1 min) {min(load):.1f}-{max(load):.1f} (shared machine).\n")
    print("| what | best s | median s | runs |\n| --- | ---: | ---: | ---: |")
    print("\n".join(lines))
    if caches:
        print(f"\nValue caches after the {args.specimens[0]:,}-specimen run (its log): {caches}")


if __name__ == "__main__":
    main()
