"""The run catalog: one object owns a run's folder and names every dataset the run reads and writes.

Kedro's DataCatalog is the model: stages are handed :class:`Entry` keys (small and picklable, so Prefect and Dask
tasks pass them between processes) and load or save through the catalog; no stage builds a path. Every per-batch
dataset is keyed by table as well as batch, so the core (``occurrence``), its extensions and, later, the tables
of a Darwin Core Data Package each have their own batches.

Run folder ``<work directory>/<run id>/``::

    <table>/extracted/<batch>.parquet       source rows as read (one Arrow batch per file), less those excluded
    <table>/excluded/<batch>.parquet        records the dataset's rules exclude: rule, occurrenceID, source key
                                            columns (mappers.rules.excluded_table)
    <table>/mapped/<batch>.parquet          Darwin Core terms as text
    <table>/mapping_issues/<batch>.parquet  what the interpreters flagged (mappers.mapping.ISSUE_SCHEMA)
    <table>/issues/<batch>.parquet          every flag of the batch after validation (validators.validate)
    <table>/valid/<batch>.parquet           the published rows, after accepted amendments
    <table>/quarantine/<batch>.parquet      rejected rows with reasons and source columns
    <table>/warnings/<batch>.parquet        published rows with a warning or info flag, their flags and messages
                                            and source key columns (validators.quality.warnings_table)
    <table>/amendments/<batch>.parquet      amendments applied (only batches that have any)
    <table>/archive_parts/<batch>.deflate   the published rows as deflated archive text (publishers.dwca)
    <table>/record_hashes/<batch>.parquet   occurrenceID and hashes of each published row (publishers.changes); of
                                            an extension, one row per core record: a hash of its extension rows
    <table>/core_keys/<batch>.parquet       the core's records: key, core id and whether published, which
                                            extension rows are joined with (validators.integrity; only when the
                                            dataset has extensions)
    <table>/excluded_keys/<batch>.parquet   the records the rules excluded, as core_keys (key, core id, rule):
                                            their extension rows are excluded with them (only with extensions)
    <table>/duplicates.parquet              ids used by more than one row of the table (whole-table dataset)
    <table>/duplicate_triplets.parquet      institutionCode + collectionCode + catalogNumber used by more than one
                                            row of the table (whole-table dataset)
    child:<name>/extracted/<batch>.parquet  a child table's rows as read (config children:, mappers/children.py)
    <table>/stage_times/<step>.parquet      wall and CPU seconds per stage of one step (mobilise.timings)
    event/dangling_parents.parquet          an Event core's parentEventIDs that name no event (whole-table dataset)
    scratch/<name>/                         working space of a query that spills to disk (DuckDB)
    .alive                                  the live-run marker: flock'd by the process that created the run
                                            as long as it lives (:meth:`RunCatalog.purge_stale`)

Batch names sort in source order: ``000007`` (the seventh batch of a source read whole) or ``p000003-000002``
(the second batch of the third partition).
"""
from __future__ import annotations

import fcntl
import os
import shutil
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from mobilise.settings import DatasetConfig

CORE = "occurrence"  # the core table of an occurrence dataset (Darwin Core class Occurrence)

#: every dataset a run keeps, with its file suffix; a dataset in WHOLE_TABLE has one file per table, not per batch
DATASETS = {"extracted": ".parquet", "mapped": ".parquet", "mapping_issues": ".parquet", "issues": ".parquet",
            "valid": ".parquet", "quarantine": ".parquet", "warnings": ".parquet", "amendments": ".parquet",
            "archive_parts": ".deflate", "duplicates": ".parquet", "duplicate_triplets": ".parquet",
            "record_hashes": ".parquet", "excluded": ".parquet", "core_keys": ".parquet",
            "excluded_keys": ".parquet", "dangling_parents": ".parquet", "stage_times": ".parquet"}
WHOLE_TABLE = frozenset({"duplicates", "duplicate_triplets", "dangling_parents"})
ALIVE = ".alive"  # the live-run marker in a run folder
#: a run folder without a marker (one being created, or left by an older Mobilise) is stale after this long
UNMARKED_STALE_SECONDS = 600
_markers: dict[Path, int] = {}  # run folder -> the open, flock'd marker of a run this process created


@dataclass(frozen=True, order=True)
class Entry:
    """One dataset's file in the catalog: ``dataset`` (a key of :data:`DATASETS`), ``table`` and ``batch``
    (``""`` for a whole-table dataset)."""

    dataset: str
    table: str = CORE
    batch: str = ""

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise KeyError(f"no dataset {self.dataset!r} in the run catalog (known: {', '.join(DATASETS)})")
        if (self.dataset in WHOLE_TABLE) == bool(self.batch):
            raise ValueError(f"{self.dataset} is {'a whole-table' if self.dataset in WHOLE_TABLE else 'a per-batch'}"
                             f" dataset: batch {self.batch!r} does not fit it")

    def of(self, dataset: str) -> "Entry":
        """The same table and batch in another dataset: ``mapped.of("issues")``."""
        return replace(self, dataset=dataset)

    @property
    def partition(self) -> str:
        """The partition the batch was read from (``p000003``), ``""`` for a source read whole."""
        return self.batch.split("-")[0] if "-" in self.batch else ""


def batch_name(number: int, partition: int | None = None) -> str:
    """The name of the `number`-th batch (from 1) of a source, or of its partition `partition`."""
    return (f"p{partition:06d}-" if partition is not None else "") + f"{number:06d}"


@dataclass(frozen=True)
class RunCatalog:
    """The datasets of one run, in the folder ``folder`` (picklable: a path and nothing else)."""

    folder: Path

    @classmethod
    def create(cls, config: "DatasetConfig") -> "RunCatalog":
        """A new, empty run folder under the config's ``work_directory``, named by the UTC time and a random
        suffix, e.g. ``20260601T120000Z-3fa2c1``."""
        run_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        folder = config.work_directory / run_id
        folder.mkdir(parents=True)
        # held (shared flock) until remove() or this process ends, however it ends: purge_stale() leaves the
        # folder of a live run alone
        marker = os.open(folder / ALIVE, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(marker, fcntl.LOCK_SH)
        _markers[folder] = marker
        return cls(folder)

    @staticmethod
    def purge_stale(work_directory: Path) -> list[Path]:
        """Remove the run folders under `work_directory` whose run is no longer alive (killed, or crashed before
        its clean-up); returns them. A live run's folder is never removed: its marker is flock'd by the process
        that created it (:meth:`create`), wherever in the folder tree that run is. A folder without a marker is
        removed only when older than :data:`UNMARKED_STALE_SECONDS`."""
        removed = []
        work_directory = Path(work_directory)
        if not work_directory.is_dir():
            return removed
        for folder in sorted(work_directory.iterdir()):
            if not folder.is_dir() or folder in _markers:
                continue
            try:
                fd = os.open(folder / ALIVE, os.O_RDWR)
            except FileNotFoundError:
                if time.time() - folder.stat().st_mtime > UNMARKED_STALE_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held: the run is alive
                continue
            finally:
                os.close(fd)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        return removed

    # --- where ---------------------------------------------------------------------------------------------------

    def path(self, entry: Entry) -> Path:
        """The file of `entry` (its folder is created, so a writer that takes a path can write it)."""
        suffix = DATASETS[entry.dataset]
        if entry.dataset in WHOLE_TABLE:
            path = self.folder / entry.table / f"{entry.dataset}{suffix}"
        else:
            path = self.folder / entry.table / entry.dataset / f"{entry.batch}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def scratch(self, name: str) -> Path:
        """A working folder of the run for a tool that spills to disk (removed with the run)."""
        path = self.folder / "scratch" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # --- what ----------------------------------------------------------------------------------------------------

    def entries(self, dataset: str, table: str = CORE) -> list[Entry]:
        """The batches of a dataset of `table` that exist, in batch (= source) order."""
        if dataset in WHOLE_TABLE:
            entry = Entry(dataset, table)
            return [entry] if self.exists(entry) else []
        folder = self.folder / table / dataset
        suffix = DATASETS[dataset]
        return sorted(Entry(dataset, table, path.name[:-len(suffix)]) for path in folder.glob(f"*{suffix}"))

    def tables(self, dataset: str) -> list[str]:
        """The tables that have batches (or, for a whole-table dataset, the file) of `dataset`, by name: the core
        and each extension a run wrote it for."""
        if not self.folder.is_dir():
            return []
        return sorted(folder.name for folder in self.folder.iterdir()
                      if folder.is_dir() and folder.name != "scratch" and self.entries(dataset, folder.name))

    def exists(self, entry: Entry) -> bool:
        suffix = DATASETS[entry.dataset]
        if entry.dataset in WHOLE_TABLE:
            return (self.folder / entry.table / f"{entry.dataset}{suffix}").exists()
        return (self.folder / entry.table / entry.dataset / f"{entry.batch}{suffix}").exists()

    def files(self, entries: list[Entry]) -> list[str]:
        """The files of `entries`, for a reader that takes a list of files (DuckDB's read_parquet)."""
        return [str(self.path(entry)) for entry in entries]

    # --- Arrow tables --------------------------------------------------------------------------------------------

    def save(self, entry: Entry, table: pa.Table) -> Entry:
        """Write `table` as `entry` (Parquet; zstd for large batches, snappy for small ones) and return `entry`."""
        if DATASETS[entry.dataset] != ".parquet":
            raise ValueError(f"{entry.dataset} is not a table dataset")
        pq.write_table(table, self.path(entry), compression="zstd" if table.num_rows > 10_000 else "snappy")
        return entry

    def load(self, entry: Entry, columns: list[str] | None = None) -> pa.Table:
        """The table of `entry`, or only its `columns` (read from the file alone, so a few are cheap)."""
        return pq.read_table(self.path(entry), columns=columns)

    def rows(self, entries: list[Entry]) -> int:
        """The rows of `entries` together, from their Parquet footers (no row is read)."""
        return sum(pq.read_metadata(self.path(entry)).num_rows for entry in entries)

    def schema(self, entry: Entry) -> pa.Schema:
        """The columns of `entry` without reading its rows."""
        return pq.read_schema(self.path(entry))

    def remove(self) -> None:
        """Delete the run folder and everything in it, and release its live-run marker."""
        shutil.rmtree(self.folder, ignore_errors=True)
        marker = _markers.pop(self.folder, None)
        if marker is not None:
            os.close(marker)
