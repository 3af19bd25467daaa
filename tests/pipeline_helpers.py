"""Run the pipeline's stages in-process (no Prefect) and read archives back, for end-to-end tests."""
from __future__ import annotations

import csv
import io
import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from mobilise.catalog import RunCatalog
from mobilise.extractors.stage import plan_partitions
from mobilise.flows import steps
from mobilise.mappers.mapping import MappingPlan
from mobilise.publishers.publish import RunResult
from mobilise.settings import DatasetConfig


@contextmanager
def staged_run(config: DatasetConfig, dry_run: bool = False, **options: bool
               ) -> Iterator[tuple[RunCatalog, RunResult]]:
    """The flow's steps one after the other in this process: (the run catalog, to look into, and the result);
    the catalog is removed afterwards. `options`: the publish step's (accept_id_changes, force)."""
    plan = MappingPlan.from_config(config)
    catalog = RunCatalog.create(config)
    try:
        extracted = [entry for partition in plan_partitions(config.source)
                     for entry in steps.extract(config, plan, catalog, partition)]
        steps.extract_children(config, plan, catalog)
        mapped = steps.map_batches(plan, catalog, extracted)
        duplicates = steps.find_duplicates(catalog, config.core)
        batches = steps.validate_batches(config, plan, catalog, mapped, duplicates)
        extensions = [steps.process_extension(config, name, catalog) for name in config.extensions]
        yield catalog, steps.publish(config, plan, catalog, batches, dry_run=dry_run, extensions=extensions,
                                     **options)
    finally:
        catalog.remove()


def run_stages(config: DatasetConfig, dry_run: bool = False, **options: bool) -> RunResult:
    """The flow's steps one after the other in this process, on a run catalog removed afterwards."""
    with staged_run(config, dry_run, **options) as (_, result):
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
