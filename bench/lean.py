"""The lean flat export of issue 15: a DaRWIN-like table of ~25 terms, exported with `SELECT * FROM flat`.

    .venv/bin/python bench/lean.py [--size 1000000]

Builds ``bench/work/lean-SIZE.sqlite``: the sample database of SIZE specimens (``mobilise sample-db``, seed 42)
plus a table ``flat`` (the sample query's published-shape rows, 28 columns, materialised once), and the configs
``bench/work/lean-SIZE-bdq.yaml`` / ``lean-SIZE-nobdq.yaml``: config/sample.yaml with
``SELECT * FROM flat ORDER BY object_id`` as its query and the mapping of the terms the flat table holds, BDQ on
(as shipped) or off. bench/table.py measures it beside the heavy export; bench/cluster.py on a Dask cluster.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from run import ROOT, WORK, database  # noqa: E402

# column of the flat table -> the expression in the sample query's SELECT (the published shape: one row per specimen)
FLAT = ["object_id", "guid", "basis", "sex", "individual_count", "modified_at", "institution_code", "ror_id",
        "collection_code", "catalog_number", "scientific_name", "authorship", "taxon_rank", "kingdom", "family",
        "type_status", "determined_date", "determiner", "start_date", "end_date", "verbatim_date", "collector",
        "country", "locality_name", "latitude", "longitude", "geodetic_datum", "coordinate_uncertainty_m"]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    db = lean_database(args.size)
    for bdq in (True, False):
        print(lean_config(args.size, db, bdq))


if __name__ == "__main__":
    main()
