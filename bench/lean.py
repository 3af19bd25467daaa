"""The lean flat export of issue 15: a DaRWIN-like table of ~25 terms, exported with `SELECT * FROM flat`.

    .venv/bin/python bench/lean.py [--size 1000000] [--skip-run]

Builds ``bench/work/lean-SIZE.sqlite``: the sample database of SIZE specimens (``mobilise sample-db``, seed 42)
plus a table ``flat`` (the sample query's published-shape rows, 28 columns, materialised once), and a config
``bench/work/lean-SIZE.yaml``: config/sample.yaml with ``SELECT * FROM flat ORDER BY object_id`` as its query and
the mapping of the terms the flat table holds (BDQ on, as shipped). Then measures, each in a child process
(bench/run.py's ``run_child``: wall, CPU of the child and its descendants, peak RSS, peak PSS of all processes):

- ``floor``: the sqlite3 CLI exporting the same query as TSV, then zip (deflate 6);
- ``pipeline, BDQ on`` / ``pipeline, BDQ off``: bench/pipeline.py (the flow's steps on a local Dask cluster of 2
  worker processes, timed per phase, without Prefect);
- ``mobilise run, BDQ on`` / ``mobilise run, BDQ off``: ``mobilise run CONFIG --json``, as a data manager starts it
  (``--skip-run`` leaves these out).

Prints one JSON line per measurement, appends them to bench/work/lean.jsonl, and a markdown table at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from run import PYTHON, ROOT, WORK, database, machine, run_child  # noqa: E402

# column of the flat table -> the expression in the sample query's SELECT (the published shape: one row per specimen)
FLAT = ["object_id", "guid", "basis", "sex", "individual_count", "modified_at", "institution_code", "ror_id",
        "collection_code", "catalog_number", "scientific_name", "authorship", "taxon_rank", "kingdom", "family",
        "type_status", "determined_date", "determiner", "start_date", "end_date", "verbatim_date", "collector",
        "country", "locality_name", "latitude", "longitude", "geodetic_datum", "coordinate_uncertainty_m"]
LOG = WORK / "lean.jsonl"


def lean_database(size: int) -> Path:
    """The sample database of `size` specimens with the table `flat` added (built once)."""
    path = WORK / f"lean-{size}.sqlite"
    if path.exists():
        return path
    os.environ.setdefault("MOBILISE_SAMPLE_URL", "sqlite:///unused")
    from mobilise.settings import load_config

    query = load_config(ROOT / "config" / "sample.yaml").source.query.strip().rstrip(";")
    partial = path.with_suffix(".partial")
    shutil.copyfile(database(size), partial)
    with sqlite3.connect(partial) as connection:
        connection.execute(f"CREATE TABLE flat AS SELECT {', '.join(FLAT)} FROM ({query})")
        connection.execute("CREATE UNIQUE INDEX flat_object ON flat (object_id)")
    partial.rename(path)
    return path


def lean_config(size: int, db: Path, bdq: bool) -> Path:
    """config/sample.yaml reading `SELECT * FROM flat`, mapping only what the flat table holds."""
    from ruamel.yaml import YAML

    yaml = YAML()
    config = yaml.load((ROOT / "config" / "sample.yaml").read_text())
    config["source"]["url"] = f"sqlite:///{db}"
    config["source"]["query"] = "SELECT * FROM flat ORDER BY object_id"
    config["source"]["partition"]["bounds_query"] = "SELECT MIN(object_id), MAX(object_id) FROM flat"
    config["output"]["directory"] = "${MOBILISE_OUTPUT:-" + str(WORK / f"lean-out-{size}") + "}"
    config.setdefault("validation", {}).setdefault("bdq", {})["enabled"] = bdq

    def columns_of(rule) -> list[str]:
        if isinstance(rule, str):
            return [rule]
        if isinstance(rule, list):
            return list(rule)
        if isinstance(rule, dict) and "column" in rule:
            return [rule["column"], *([rule["end"]] if "end" in rule else [])]
        if isinstance(rule, dict) and "template" in rule:
            import re
            return re.findall(r"\{(\w+)\}", rule["template"])
        return []  # constants

    mapping = config["mapping"]
    for term in list(mapping):
        rule = mapping[term]
        wanted = columns_of(rule)
        kept = [c for c in wanted if c in FLAT]
        if wanted and not kept:
            del mapping[term]
        elif isinstance(rule, list) and len(kept) != len(wanted):
            mapping[term] = kept[0] if len(kept) == 1 else kept
    for term in list(config.get("vocabularies") or {}):  # translations of terms no longer mapped
        if term not in mapping:
            del config["vocabularies"][term]
    path = WORK / f"lean-{size}-{'bdq' if bdq else 'nobdq'}.yaml"
    with path.open("w") as handle:
        yaml.dump(config, handle)
    return path


def measure(kind: str, size: int, command, **env) -> dict:
    print(f"{kind} ...", flush=True)
    entry = {"kind": kind, "size": size, "at": dt.datetime.now().isoformat(timespec="seconds"),
             **run_child(command, env=env or None), "load": os.getloadavg()[0]}
    with LOG.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
    print(json.dumps(entry), flush=True)
    return entry


def table(entries: list[dict], rows: int) -> str:
    floor = sum(e["wall"] for e in entries if e["kind"].startswith("floor"))
    lines = ["| what | wall s | CPU s | records/s | x floor | peak PSS all processes MB | load (1 min) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for e in entries:
        lines.append(f"| {e['kind']} | {e['wall']:.1f} | {e['cpu']:.1f} | {rows / e['wall']:,.0f} | "
                     f"{e['wall'] / floor:.1f} | {e['tree_rss_mb']:.0f} | {e['load']:.1f} |")
        phases = (e.get("output") or {}).get("phases")
        if phases:
            previous, parts = 0.0, []
            for phase, at in phases.items():
                parts.append(f"{phase} {at - previous:.1f}")
                previous = at
            lines.append(f"| &nbsp;&nbsp;phases (s) | {'; '.join(parts)} | | | | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--skip-run", action="store_true", help="leave out `mobilise run` (Prefect)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    size = args.size
    db = lean_database(size)
    rows = sqlite3.connect(db).execute("SELECT COUNT(*) FROM flat").fetchone()[0]
    query = WORK / "lean-query.sql"
    query.write_text("SELECT * FROM flat ORDER BY object_id;\n")
    tsv, zipped = WORK / f"lean-floor-{size}.tsv", WORK / f"lean-floor-{size}.zip"
    zipped.unlink(missing_ok=True)
    entries = [measure("floor: sqlite3 export", size, f"sqlite3 -readonly -tabs -header {db} < {query} > {tsv}"),
               measure("floor: zip", size, ["zip", "-q", "-j", str(zipped), str(tsv)])]
    tsv.unlink()
    for bdq in (True, False):
        label = "BDQ on" if bdq else "BDQ off"
        config = lean_config(size, db, bdq)
        output = WORK / f"lean-out-{size}"
        shutil.rmtree(output, ignore_errors=True)
        entries.append(measure(f"pipeline, {label}", size, [PYTHON, str(BENCH / "pipeline.py"), str(db), str(output),
                                                              "--config", str(config), "--runner", "dask"]
                               + (["--bdq"] if bdq else [])))
        if not args.skip_run:
            shutil.rmtree(output, ignore_errors=True)
            entries.append(measure(f"mobilise run, {label}", size,
                                   [str(Path(PYTHON).parent / "mobilise"), "run", str(config), "--json"],
                                   MOBILISE_OUTPUT=str(output)))
    print(f"\n{rows:,} rows x {len(FLAT)} columns (flat), {dt.date.today()}\n")
    print(table(entries, rows))
    print("\n```\n" + machine() + "\n```")


if __name__ == "__main__":
    main()
