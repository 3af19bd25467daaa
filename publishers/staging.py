"""Staged records: what an incremental run or a backfill merges its records into, so that the dataset is
republished from the records that changed without reading the whole source again (issue 13 items 3 and 4).

After each publication the run keeps, in the publication directory's ``.state/staged-<version>/``
(:meth:`PublicationDirectory.staged`), per table (the core ``occurrence``; extensions later)::

    <table>/published/<part>.parquet   the version's published rows in archive order (the archive's values, as
                                       the validate stage left them), each with its source key (:data:`KEY`) and
                                       its record hashes (:data:`HASHES`, publishers.changes.HASH_SCHEMA)
    <table>/quarantine/<part>.parquet  the version's quarantined rows (reasons, terms, source columns) with KEY,
                                       so that a record fixed in the source comes back when it is next changed
    <table>/warnings/<part>.parquet    the version's warnings rows (validators.quality.warnings_table) with KEY
    manifest.json                      :class:`StagingManifest`: the watermark (the largest
                                       ``source.modified_column`` value the records came with), the config hash
                                       (a changed mapping needs a full run), the key column, the counts

**Order.** A full run publishes the records in the order the source returns them: batch by batch, partition by
partition (key ranges, ascending; the records with an empty key last), each partition in the order of the query.
A merge orders by the key, so both agree only when the query returns its records in key order (``ORDER BY
key``). That is checked when a version is staged (:attr:`StagingManifest.ordered`, keys strictly increasing and
never empty); when it does not hold, incremental runs fall back to full runs and say why.

The merge itself (:func:`merge`) is DuckDB over these Parquet files (out of core): the staged rows whose key was
read again (changed: published or quarantined now) or is gone from the source (a deletion scan) are dropped, the
new rows added, and everything ordered by the key. I/O at the edge: only the flow (flows/incremental.py) calls it.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib.metadata import PackageNotFoundError, version as package_version
from pathlib import Path
from typing import Iterator, Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from mobilise.publishers.changes import MEMORY_LIMIT
from mobilise.publishers.publication import PublicationDirectory

KEY = "__mobilise_key"  # the record's source key, in the source's type
HASHES = ("__mobilise_hash.occurrenceID", "__mobilise_hash.record_hash", "__mobilise_hash.content_hash")
MANIFEST = "manifest.json"
KEEP_STAGED = 3  # staged versions kept (the newest ones)
PUBLISHED, QUARANTINE, WARNINGS = "published", "quarantine", "warnings"
KINDS = (PUBLISHED, QUARANTINE, WARNINGS)
WRITING = ".writing"  # the suffix of a staged folder being written


class TableCounts(BaseModel):
    published: int = 0
    quarantined: int = 0


class StagingManifest(BaseModel):
    """What a staged version holds (``manifest.json``)."""

    version: str
    key_column: str
    watermark: str | None = None  # the largest source.modified_column value seen, as the source wrote it (ISO)
    config_hash: str
    tables: dict[str, TableCounts] = Field(default_factory=dict)
    ordered: bool = True  # the published records are in strictly increasing key order, none without a key


def config_hash(config) -> str:
    """A digest of everything that decides the published values: the config without its scheduling, execution,
    gates, output and metadata sections (the licence counts) and the source's connection settings (its URL
    counts, password masked), the vocabulary/lookup files it reads, and Mobilise's version. A change means
    the staged records are not what a run would now produce (a full run is needed)."""
    document = config.model_dump(mode="json", exclude={
        "schedule": True, "execution": True, "gates": True, "output": True, "metadata": True,
        "source": {"url", "connect_timeout", "statement_timeout", "retries", "retry_wait", "engine"}})
    document["source_url"] = config.source.safe_url  # the database read, its password masked
    document["licence"] = config.metadata.licence.info.url  # the dataset's licence: DiSSCo checks read it
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode("utf-8"))
    for name, path in sorted(config.vocabulary_files.items()):
        digest.update(name.encode("utf-8"))
        digest.update(Path(path).read_bytes() if Path(path).exists() else b"")
    try:
        digest.update(package_version("mobilise").encode("utf-8"))
    except PackageNotFoundError:
        pass
    return digest.hexdigest()


def with_key(rows: pa.Table, keys: pa.Array) -> pa.Table:
    """`rows` with the key column :data:`KEY` appended (`keys` one per row) and null-typed columns as text (so
    that parts whose columns were all empty still merge with the others)."""
    columns = {name: (rows[name].cast(pa.string()) if pa.types.is_null(rows[name].type) else rows[name])
               for name in rows.column_names}
    return pa.table({**columns, KEY: keys})


def published_keys(extracted_keys: pa.Array, quarantined_keys: pa.Array, published_rows: int) -> pa.Array:
    """The keys of a batch's published rows: the extracted rows' keys (in order) without the quarantined ones
    (``source.<key>`` of the quarantine, text). Raises ValueError when they do not match the published count (a
    key used twice in the batch)."""
    text = pc.cast(extracted_keys, pa.string())
    kept = extracted_keys.filter(pc.invert(pc.fill_null(pc.is_in(text, value_set=quarantined_keys), False)))
    if len(kept) != published_rows:
        raise ValueError(f"the key column does not identify the records of a batch ({len(kept)} keys for "
                         f"{published_rows} published records): is it unique?")
    return kept


def cast_keys(keys: pa.Array, like: pa.DataType) -> pa.Array:
    """Keys read as text (the quarantine's ``source.<key>``, a deletion scan) in the key's type."""
    if keys.type == like:
        return keys
    return pc.cast(keys, like)


class StagingWriter:
    """Writes a version's staged records part by part into a hidden temporary folder; :meth:`commit` writes the
    manifest and renames the folder to ``staged-<version>`` (one rename), then prunes old staged versions."""

    def __init__(self, directory: PublicationDirectory, version: str):
        self.directory = directory
        self.version = version
        self.target = directory.staged(version)
        # not a ".partial" name: PublicationDirectory.recover removes those as files; prune() removes this
        self.folder = self.target.with_name(f".{self.target.name}.{os.getpid()}{WRITING}")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.counts: dict[str, TableCounts] = {}
        self.ordered = True
        self._last: dict[str, pa.Scalar | None] = {}
        self._parts = 0

    def add(self, table: str, kind: str, rows: pa.Table) -> None:
        """Append `rows` (with :data:`KEY`) to `table`'s records of `kind` (one of :data:`KINDS`)."""
        counts = self.counts.setdefault(table, TableCounts())
        if kind == PUBLISHED:
            counts.published += rows.num_rows
            self._check_order(table, rows[KEY].combine_chunks())
        elif kind == QUARANTINE:
            counts.quarantined += rows.num_rows
        if not rows.num_rows:
            return
        self._parts += 1
        path = self.folder / table / kind / f"{self._parts:06d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(rows, path)

    def _check_order(self, table: str, keys: pa.Array) -> None:
        if not self.ordered or not len(keys):
            return
        if keys.null_count:
            self.ordered = False
            return
        previous = self._last.get(table)
        chain = pa.concat_arrays([pa.array([previous.as_py()], keys.type), keys]) if previous is not None else keys
        if len(chain) > 1 and not pc.all(pc.less(chain[:-1], chain[1:])).as_py():
            self.ordered = False
        self._last[table] = keys[-1]

    def commit(self, key_column: str, watermark: str | None, digest: str,
               keep: int = KEEP_STAGED) -> StagingManifest:
        manifest = StagingManifest(version=self.version, key_column=key_column, watermark=watermark,
                                   config_hash=digest, tables=self.counts, ordered=self.ordered)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        shutil.rmtree(self.target, ignore_errors=True)
        os.replace(self.folder, self.target)
        prune(self.directory, keep)
        return manifest

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def prune(directory: PublicationDirectory, keep: int = KEEP_STAGED) -> list[str]:
    """Remove all but the newest `keep` staged versions (and any a removed version left); returns those removed."""
    live = {entry.version for entry in directory.log.live()}
    versions = directory.staged_versions()
    dropped = [v for v in versions[:-keep] if keep > 0] + [v for v in versions[-keep:] if v not in live]
    for version in dropped:
        shutil.rmtree(directory.staged(version), ignore_errors=True)
    for partial in (directory.directory / ".state").glob(f".staged-*{WRITING}"):
        shutil.rmtree(partial, ignore_errors=True)
    return dropped


def current_staging(directory: PublicationDirectory) -> tuple[StagingManifest | None, str]:
    """The staged records of the current version and their manifest, or (None, why there are none)."""
    latest = directory.log.latest()
    if latest is None:
        return None, "nothing has been published yet"
    path = directory.staged(latest.version) / MANIFEST
    if not path.exists():
        return None, f"version {latest.version} has no staged records (.state/staged-{latest.version}/)"
    return StagingManifest.model_validate_json(path.read_text(encoding="utf-8")), ""


def staged_files(directory: PublicationDirectory, version: str, table: str, kind: str) -> list[str]:
    folder = directory.staged(version) / table / kind
    return sorted(str(p) for p in folder.glob("*.parquet")) if folder.is_dir() else []


def _view(connection: duckdb.DuckDBPyConnection, name: str, files: Sequence[str], key_type: str) -> None:
    if files:
        connection.read_parquet(list(files), union_by_name=True).create_view(name)
    else:
        connection.execute(f"CREATE TEMP TABLE {name} ({KEY} {key_type})")


def merge(staged: dict[str, Sequence[str]], fresh: dict[str, Sequence[str]], read_keys: Sequence[str],
          deleted_keys: Sequence[str], target: Path, spill_directory: Path) -> dict[str, int]:
    """Merge a run's rows into the staged ones, kind by kind (:data:`KINDS`; `staged` and `fresh` map a kind to
    its Parquet files, all with the :data:`KEY` column) and write ``target/<kind>.parquet``, each ordered by the
    key: the staged rows whose key was read again or is gone are dropped, the fresh rows added.

    `read_keys`: files of the keys of every record the run read (published or quarantined now: they replace
    the staged record of the same key, wherever it was); `deleted_keys`: files of keys gone from the source (a
    deletion scan). Returns the counts: ``published``, ``quarantined``, ``deleted`` (staged records dropped
    because their key is gone), ``replaced`` (staged records read again)."""
    target.mkdir(parents=True, exist_ok=True)
    spill_directory.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill_directory),
                                        "preserve_insertion_order": True})
    try:
        key_type = "BIGINT"  # the key's type as staged (an empty merge: any)
        for files in [*staged.values(), *fresh.values()]:
            if files:
                key_type = connection.execute(
                    f"SELECT typeof({KEY}) FROM read_parquet($files, union_by_name = true) LIMIT 1",
                    {"files": list(files)}).fetchall()[0][0]
                break
        for kind in KINDS:
            _view(connection, f"staged_{kind}", staged.get(kind, ()), key_type)
            _view(connection, f"fresh_{kind}", fresh.get(kind, ()), key_type)
        _view(connection, "read_keys", read_keys, key_type)
        _view(connection, "deleted_keys", deleted_keys, key_type)
        gone = f"(SELECT {KEY} FROM read_keys UNION SELECT {KEY} FROM deleted_keys)"
        counts = {}
        for kind in KINDS:
            connection.execute(
                f"COPY (SELECT * FROM (SELECT * FROM staged_{kind} WHERE {KEY} NOT IN {gone} "
                f"UNION ALL BY NAME SELECT * FROM fresh_{kind}) ORDER BY {KEY}) "
                f"TO $target (FORMAT parquet)", {"target": str(target / f"{kind}.parquet")})
            counts[kind] = pq.ParquetFile(target / f"{kind}.parquet").metadata.num_rows
        counts["quarantined"] = counts.pop(QUARANTINE)
        records = f"(SELECT {KEY} FROM staged_{PUBLISHED} UNION ALL SELECT {KEY} FROM staged_{QUARANTINE})"
        counts["deleted"] = connection.execute(
            f"SELECT count(*) FROM {records} WHERE {KEY} IN (SELECT {KEY} FROM deleted_keys) "
            f"AND {KEY} NOT IN (SELECT {KEY} FROM read_keys)").fetchall()[0][0]
        counts["replaced"] = connection.execute(
            f"SELECT count(*) FROM {records} WHERE {KEY} IN (SELECT {KEY} FROM read_keys)").fetchall()[0][0]
        return counts
    finally:
        connection.close()


def gone_keys(staged: Sequence[str], source_keys: pa.Array, target: Path, spill_directory: Path) -> int:
    """Write to `target` (Parquet, column :data:`KEY`) the keys of the `staged` files (published and quarantined)
    that `source_keys` (every key the source has now, from a key scan) lacks; returns how many."""
    spill_directory.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill_directory)})
    try:
        present = pa.table({KEY: source_keys})  # noqa: F841  (read by DuckDB by name)
        connection.register("present", present)
        if not staged:
            pq.write_table(pa.table({KEY: pa.array([], source_keys.type)}), target)
            return 0
        connection.execute(
            f"COPY (SELECT DISTINCT {KEY} FROM read_parquet($files, union_by_name = true) WHERE {KEY} NOT IN "
            f"(SELECT {KEY} FROM present) ORDER BY {KEY}) TO $target (FORMAT parquet)",
            {"files": list(staged), "target": str(target)})
        return pq.ParquetFile(target).metadata.num_rows
    finally:
        connection.close()


def read_parts(path: Path, rows: int) -> Iterator[pa.Table]:
    """The rows of a merged Parquet file in order, `rows` at a time (at least one table, maybe empty)."""
    handle = pq.ParquetFile(path)
    empty = True
    for batch in handle.iter_batches(batch_size=rows):
        empty = False
        yield pa.Table.from_batches([batch])
    if empty:
        yield handle.schema_arrow.empty_table()


def split(rows: pa.Table) -> tuple[pa.Table, pa.Array, pa.Table | None]:
    """A staged or merged table as (the record columns, the keys, the record hashes (HASH_SCHEMA) or None)."""
    keys = rows[KEY].combine_chunks()
    hashes = None
    if all(name in rows.column_names for name in HASHES):
        hashes = pa.table({name.split(".", 1)[1]: rows[name] for name in HASHES})
    record = rows.drop_columns([name for name in (KEY, *HASHES) if name in rows.column_names])
    return record, keys, hashes


def with_hashes(rows: pa.Table, hashes: pa.Table) -> pa.Table:
    """`rows` with the record-hash columns :data:`HASHES` (`hashes` one row per row, HASH_SCHEMA)."""
    return rows.append_column(HASHES[0], hashes["occurrenceID"]).append_column(
        HASHES[1], hashes["record_hash"]).append_column(HASHES[2], hashes["content_hash"])
