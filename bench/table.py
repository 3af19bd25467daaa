"""The table of issue 15: `mobilise run` on the heavy and the lean export, BDQ on (as shipped) and off, per stage,
against the floor of the same query, all in one go.

    .venv/bin/python bench/table.py [--sizes 1000000 5000000] [--exports heavy lean] [--bdq on off]

For each SIZE, on two exports of the same specimens:

- ``heavy``: config/sample.yaml's query (its joins) on ``bench/work/sample-SIZE.sqlite`` (bench/run.py
  ``database``);
- ``lean``: ``SELECT * FROM flat`` on ``bench/work/lean-SIZE.sqlite`` (bench/lean.py: 28 columns, ~25 terms);

measures, each in a child process (bench/run.py ``run_child``: wall, CPU of the child and the descendants it
waited for, peak PSS summed over all its processes):

- ``floor``: the sqlite3 CLI exporting the same query as TSV, then zip (deflate 6); the two children add up;
- ``BDQ on``: ``mobilise run CONFIG --json`` with the config as shipped; ``BDQ off``: the same with
  ``validation.bdq.enabled: false``; with the wall and CPU seconds of each stage that the run reports
  (mobilise/timings.py: summed over batches and worker processes, so a stage's wall can exceed the run's).

Appends one JSON line per measurement to bench/work/table.jsonl and prints, per size, the markdown table (records/s,
x floor in wall and CPU), the machine, the load and the commands.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from lean import lean_config, lean_database  # noqa: E402
from run import PYTHON, WORK, database, machine, prefect_config, query_file, run_child  # noqa: E402
from mobilise.timings import STAGES  # noqa: E402

LOG = WORK / "table.jsonl"
MOBILISE = str(Path(PYTHON).parent / "mobilise")


def measure(size: int, export: str, what: str, command: list[str] | str, **env: str) -> dict:
    """`command` run and timed by run_child, appended to bench/work/table.jsonl with the machine's load."""
    print(f"{size:,} {export}: {what} ...", flush=True)
    entry = {"size": size, "export": export, "what": what, "at": dt.datetime.now(dt.timezone.utc).isoformat(
        timespec="seconds"), "load": os.getloadavg()[0], "command": command,
        **run_child(command, env=env or None)}
    with LOG.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
    return entry


def floor(size: int, export: str, db: Path, query: Path) -> dict:
    """The sqlite3 CLI export of `query` as TSV, then zip: one entry, wall and CPU of the two added."""
    tsv, zipped = WORK / f"floor-{export}-{size}.tsv", WORK / f"floor-{export}-{size}.zip"
    zipped.unlink(missing_ok=True)
    exported = measure(size, export, "floor: sqlite3", f"sqlite3 -readonly -tabs -header {db} < {query} > {tsv}")
    compressed = measure(size, export, "floor: zip", ["zip", "-q", "-j", str(zipped), str(tsv)])
    tsv.unlink()
    zipped.unlink()
    return {"what": "floor", "wall": exported["wall"] + compressed["wall"], "cpu": exported["cpu"] + compressed["cpu"],
            "tree_rss_mb": max(exported["tree_rss_mb"], compressed["tree_rss_mb"]),
            "load": exported["load"], "commands": [exported["command"], compressed["command"]]}


def runs(size: int, export: str, configs: dict[bool, Path]) -> list[dict]:
    """`mobilise run CONFIG --json` with BDQ on, then off (those `configs` holds), each into an empty output
    directory."""
    entries = []
    for bdq in [b for b in (True, False) if b in configs]:
        output = WORK / f"table-out-{export}-{size}"
        shutil.rmtree(output, ignore_errors=True)
        entry = measure(size, export, "BDQ on" if bdq else "BDQ off", [MOBILISE, "run", str(configs[bdq]), "--json"],
                        MOBILISE_OUTPUT=str(output))
        entries.append({**entry, "commands": [entry["command"]]})
        shutil.rmtree(output, ignore_errors=True)
    return entries


def table(rows: dict[str, list[dict]]) -> str:
    """The markdown table: one row per export and measurement, x floor of the export's floor row."""
    seen = {stage for entries in rows.values() for e in entries for stage in (e.get("output") or {}).get("stages", {})}
    stages = [stage for stage in STAGES if stage in seen]
    lines = ["| export | run | records | wall s | CPU s (all processes) | records/s | x floor (wall) | x floor (CPU) "
             "| peak PSS all processes MB | load | CPU s in no stage | "
             + " | ".join(f"{s} wall/CPU s" for s in stages) + " |",
             "| --- | --- |" + " ---: |" * (9 + len(stages))]
    for export, entries in rows.items():
        base = entries[0]
        records = next(e["output"]["extracted"] for e in entries if e.get("output"))
        for e in entries:
            times = (e.get("output") or {}).get("stages", {})
            cells = [f"{times[s]['wall_s']:.1f}/{times[s]['cpu_s']:.1f}" if s in times else "" for s in stages]
            rest = f"{e['cpu'] - sum(t['cpu_s'] for t in times.values()):.1f}" if times else ""
            lines.append(f"| {export} | {e['what']} | {records:,} | {e['wall']:.1f} | {e['cpu']:.1f} | "
                         f"{records / e['wall']:,.0f} | {e['wall'] / base['wall']:.1f} | "
                         f"{e['cpu'] / base['cpu']:.1f} | {e['tree_rss_mb']:,.0f} | {e['load']:.1f} | {rest} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def bench(size: int, exports: list[str] = ("heavy", "lean"), bdq_settings: tuple[bool, ...] = (True, False)) -> str:
    """`exports` at `size`: floor, BDQ on, BDQ off (those in `bdq_settings`); returns the markdown section."""
    WORK.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc)
    rows = {}
    if "heavy" in exports:
        rows["heavy"] = [floor(size, "heavy", database(size), query_file())]
        rows["heavy"] += runs(size, "heavy", {bdq: prefect_config(size, None, bdq) for bdq in bdq_settings})
    if "lean" in exports:
        lean = lean_database(size)
        lean_query = WORK / "lean-query.sql"
        lean_query.write_text("SELECT * FROM flat ORDER BY object_id;\n")
        rows["lean"] = [floor(size, "lean", lean, lean_query)]
        rows["lean"] += runs(size, "lean", {bdq: lean_config(size, lean, bdq) for bdq in bdq_settings})
    commands = [" ".join(c) if isinstance(c, list) else c for entries in rows.values() for e in entries
                for c in e["commands"]]
    return (f"#### {size:,} specimens, {started:%Y-%m-%d %H:%M} UTC (`bench/table.py --sizes {size}`)\n\n"
            + table(rows) + "\n\nStages (mobilise/timings.py) are summed over batches and worker processes (a stage's "
            "wall can exceed the run's); CPU s of a run: the run and every process it waited for; in no stage: "
            "start-up, Prefect, Dask.\n\n```\n" + machine() + "\n```\n\n"
            "Commands:\n\n```\n" + "\n".join(commands) + "\n```\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--exports", nargs="+", choices=["heavy", "lean"], default=["heavy", "lean"])
    parser.add_argument("--bdq", nargs="+", choices=["on", "off"], default=["on", "off"],
                        help="the runs to measure besides the floor (default both)")
    args = parser.parse_args()
    for size in args.sizes:
        print("\n" + bench(size, args.exports, tuple(b == "on" for b in args.bdq)), flush=True)


if __name__ == "__main__":
    main()
