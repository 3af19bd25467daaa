"""Run the pipeline's stages in-process (no Prefect) and read archives back, for end-to-end tests."""
from __future__ import annotations

import csv
import io
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd

from mobilise.flows import stages
from mobilise.settings import DatasetConfig


def run_stages(config: DatasetConfig, dry_run: bool = False) -> stages.RunResult:
    run = stages.new_run_directory(config)
    extracted = [path for partition in stages.plan_partitions(config)
                 for path in stages.extract(config, run, partition)]
    mapped = [stages.map_file(config, path) for path in extracted]
    duplicates = stages.find_duplicate_ids(run)
    summaries = [stages.validate_file(config, path, duplicates) for path in mapped]
    result = stages.publish(config, run, summaries, dry_run=dry_run)
    stages.clean_up(run)
    return result


def read_core_with_pandas(archive: str | Path) -> pd.DataFrame:
    with zipfile.ZipFile(archive) as handle:
        data = handle.read("occurrence.txt")
    return pd.read_csv(io.BytesIO(data), sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False,
                       encoding="utf-8")


def read_quarantine(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def public_object_count(sqlite_path: Path) -> int:
    with sqlite3.connect(sqlite_path) as connection:
        return connection.execute("SELECT count(*) FROM collection_object WHERE is_public = 1").fetchone()[0]
