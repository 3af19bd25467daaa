"""Incremental runs, backfills that publish, and deletion reconciliation: the wiring between a run's validated
batches and the staged records of the last publication (publishers/staging.py holds the state and the merge).

A run is one of:

- **full**: every record is read; after the publication its records are staged (:func:`stage_run`).
- **incremental** (``mode="incremental"``, ``mobilise run --incremental``): only the records whose
  ``source.modified_column`` is at or after the staged watermark are read (a bound parameter), mapped and
  validated by the normal steps, then merged into the staged records by key (:func:`merge_batches`) and the
  merged records published: the archive's core file and meta.xml are those a full run on the same source writes.
  A record read now that the dataset's rules exclude (``filters``, ``sensitive.exclude_when``; mappers/rules.py)
  leaves the merged records, as a full run would keep it out: its key is in the catalog's ``excluded`` table
  (``source.<key>``), it counts as excluded by this run and, in the change summary, as removed (``now_excluded``).
- **backfill** (``since``/``until``, not a dry run): the same merge, of the records modified in the window.
- **reconcile deletions** (``reconcile_deletions``): an incremental run that also scans the source's key column
  (:func:`mobilise.extractors.keys.source_keys`) and drops the staged records whose key is gone; the change
  summary counts them as ``deleted`` (and, as every record that left, ``removed``).

An incremental run or a backfill falls back to a full run, saying why (:attr:`Plan.why`), when there are no staged
records of the current version, the config (mapping, vocabularies, Mobilise version) changed since, the config
names no single-column key (``source.key`` or ``partition.column``), the staged records were not in key order, or an
occurrenceID or catalogue-number triplet of a record read now is also a kept staged record's, or was shared by a
staged record read again or deleted (the duplicate checks need the whole table; :class:`NeedsFullRun`).

What an incremental version's report and CSV files say: counts, quarantine and gates are those of the whole
merged dataset (published + quarantined == the records the dataset has), and so is the warnings file; flag
counts, examples, the excluded count and the amendments and excluded files are those of the records this run
read.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mobilise.catalog import CORE, Entry, RunCatalog, batch_name
from mobilise.extractors.base import Window
from mobilise.mappers.mapping import MappingPlan
from mobilise.publishers import staging
from mobilise.publishers.changes import HASH_SCHEMA
from mobilise.publishers.dwca import core_terms, deflate_rows
from mobilise.publishers.eml import batch_coverage
from mobilise.publishers.publication import PublicationDirectory
from mobilise.publishers.publish import ValidatedBatch
from mobilise.publishers.report import ReportFragment, merge_fragments
from mobilise.settings import DatasetConfig
from mobilise.validators.quality import QualitySummary

log = logging.getLogger("mobilise")
MERGED = f"{CORE}.merged"  # the run catalog's table of the merged records (what is published)
MODES = ("full", "incremental")
#: the terms whose duplicates the validate stage flags over the whole table (validators/dataset.py)
DUPLICATE_KEYS = (("occurrenceID",), ("institutionCode", "collectionCode", "catalogNumber"))


class NeedsFullRun(RuntimeError):
    """The merge cannot give what a full run would (the message says why): the flow runs a full run instead."""


@dataclass
class Plan:
    """What a run reads and whether it merges: ``window`` the records to read (None: all), ``manifest`` the
    staged records merged into (None: a full run), ``why`` in words (why a full run, when one was asked not to
    be), ``kind``: full, incremental or backfill."""

    kind: str
    window: Window | None = None
    manifest: staging.StagingManifest | None = None
    reconcile: bool = False
    why: str = ""

    @property
    def merges(self) -> bool:
        return self.manifest is not None


def plan_run(config: DatasetConfig, mode: str = "full", reconcile_deletions: bool = False,
             window: Window | None = None, dry_run: bool = False) -> Plan:
    """The run to make for the flow's parameters. Raises ValueError for an unknown `mode`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if window is not None and dry_run and mode == "full" and not reconcile_deletions:
        return Plan("window", window=window, why="a dry run of the window's records alone")
    wanted = "backfill" if window is not None else (
        "incremental" if mode == "incremental" or reconcile_deletions else "full")
    if wanted == "full":
        return Plan("full")
    manifest, why = usable_staging(config)
    if manifest is None:
        return Plan("full", why=f"a full run instead of the {wanted} run: {why}")
    if window is None:
        if manifest.watermark is None:
            return Plan("full", why=f"a full run instead of the {wanted} run: version {manifest.version} has no "
                                    f"watermark (no {config.source.modified_column} value)")
        window = Window(since=manifest.watermark)
    return Plan(wanted, window=window, manifest=manifest, reconcile=reconcile_deletions)


def usable_staging(config: DatasetConfig) -> tuple[staging.StagingManifest | None, str]:
    """The staged records of the current version if a merge into them gives what a full run would, else
    (None, why not)."""
    if not config.source.modified_column:
        return None, "the config names no source.modified_column (the watermark)"
    if config.core != "occurrence" or config.extensions or config.children:
        # the merge replaces core records only: an extension's or child table's rows of an unchanged record would be
        # judged against this run's records alone
        return None, ("incremental runs merge an occurrence core's records only; a dataset with an Event core, "
                      "extensions or child tables is run in full")
    keys = config.source.record_key
    if len(keys) != 1:
        return None, ("the config names no record key (source.key, or partition.column)" if not keys else
                      f"the record key has {len(keys)} columns ({', '.join(keys)}): incremental runs need one")
    key = keys[0]
    manifest, why = staging.current_staging(PublicationDirectory(config.publication_directory))
    if manifest is None:
        return None, why
    if manifest.config_hash != staging.config_hash(config):
        return None, (f"the config (mapping, vocabularies, validation) or Mobilise changed since version "
                      f"{manifest.version}")
    if manifest.key_column != key:
        return None, f"the record key changed ({manifest.key_column} -> {key})"
    if not manifest.ordered:
        return None, (f"version {manifest.version}'s records were not in strictly increasing {key} order (the "
                      f"query must ORDER BY {key}, and no key may be empty)")
    return manifest, ""


def watermark(catalog: RunCatalog, column: str | None, table: str = CORE) -> str | None:
    """The largest value of `column` in the run's extracted records, as ISO text (a text column's value as it
    is); None when there is none."""
    files = catalog.files(catalog.entries("extracted", table))
    if not column or not files:
        return None
    quoted = '"' + column.replace('"', '""') + '"'
    with duckdb.connect() as connection:
        value = connection.execute(f"SELECT max({quoted}) FROM read_parquet($files, union_by_name = true)",
                                   {"files": files}).fetchall()[0][0]
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def later(a: str | None, b: str | None) -> str | None:
    """The later of two watermarks (ISO text compares in time order); None when both are."""
    return max((v for v in (a, b) if v is not None), default=None)


def _rows_of_batch(catalog: RunCatalog, valid: Entry, key: str) -> tuple[dict[str, pa.Table], pa.Array]:
    """The rows of one validated batch to stage, by kind (:data:`staging.KINDS`: published rows with key and
    record hashes, quarantined rows and warnings rows with key), and every key the batch read."""
    rows = catalog.load(valid)
    read = catalog.load(valid.of("extracted"), columns=[key])[key].combine_chunks()
    quarantine = catalog.load(valid.of("quarantine"))
    quarantined = (pc.cast(quarantine[f"source.{key}"], pa.string()) if quarantine.num_rows
                   else pa.array([], pa.string()))
    published = staging.published_keys(read, quarantined, rows.num_rows)
    hashes = catalog.load(valid.of("record_hashes"))
    warnings = catalog.load(valid.of("warnings"))
    # a warnings row is a published record's, found by its occurrenceID (unique among a batch's published
    # records: a shared one is an error, kept out)
    ids = pc.cast(rows["occurrenceID"], pa.string()) if rows.num_rows else pa.array([], pa.string())
    position = pc.index_in(pc.cast(warnings["occurrenceID"], pa.string()), value_set=ids)
    if position.null_count:
        raise ValueError("a warnings row has no published record with its occurrenceID")
    return ({staging.PUBLISHED: staging.with_hashes(staging.with_key(rows, published), hashes),
             staging.QUARANTINE: staging.with_key(quarantine, staging.cast_keys(quarantined, read.type)),
             staging.WARNINGS: staging.with_key(warnings, published.take(position))}, read)


def _excluded_keys(catalog: RunCatalog, valid: Entry, key: str, like: pa.DataType) -> pa.Array | None:
    """The keys (in the key's type `like`) of the records of a validated batch that the dataset's rules excluded
    (the catalog's ``excluded`` table, ``source.<key>``; mappers/rules.py): read in the window, they replace their
    staged records with nothing, as a full run would leave them out. None when the excluded rows lack the key
    column."""
    entry = valid.of("excluded")
    excluded = catalog.load(entry) if catalog.exists(entry) else None
    if excluded is None or not excluded.num_rows:
        return pa.array([], like)
    column = f"source.{key}"
    if column not in excluded.column_names:
        return None
    return staging.cast_keys(excluded[column].combine_chunks(), like)


def _collisions(fresh_mapped: list[str], staged_files: list[str], read_keys: list[str], deleted_keys: list[str],
                spill: Path) -> str | None:
    """Why the duplicate checks (occurrenceID, the catalogue-number triplet; over the whole table, ignoring
    case) could flag differently from a full run, in words; None when they cannot: a record read now shares a
    value with a staged record that is kept, or a staged record read again or deleted shared one with another
    staged record (whose flag may now go)."""
    if not staged_files:
        return None
    with duckdb.connect(config={"temp_directory": str(spill)}) as connection:
        gone = [*read_keys, *deleted_keys]
        connection.read_parquet(staged_files, union_by_name=True).create_view("staged")
        if gone:
            connection.read_parquet(gone, union_by_name=True).create_view("gone")
        else:
            connection.execute(f"CREATE TEMP VIEW gone AS SELECT {staging.KEY} FROM staged WHERE false")
        connection.execute(f"CREATE TEMP VIEW kept AS SELECT * FROM staged WHERE {staging.KEY} NOT IN "
                           f"(SELECT {staging.KEY} FROM gone)")
        staged_columns = {row[0] for row in connection.execute("DESCRIBE staged").fetchall()}
        fresh_columns: set[str] = set()
        if fresh_mapped:
            connection.read_parquet(fresh_mapped, union_by_name=True).create_view("fresh")
            fresh_columns = {row[0] for row in connection.execute("DESCRIBE fresh").fetchall()}
        for terms in DUPLICATE_KEYS:
            if not set(terms) <= staged_columns:
                continue
            columns = ", ".join(f'lower(CAST("{t}" AS VARCHAR))' for t in terms)  # ids compare ignoring case
            present = " AND ".join(f'"{t}" IS NOT NULL' for t in terms)
            what = " + ".join(terms)
            if set(terms) <= fresh_columns:
                found = connection.execute(f"SELECT {columns} FROM fresh WHERE {present} INTERSECT "
                                           f"SELECT {columns} FROM kept WHERE {present}").fetchmany(1)
                if found:
                    return f"{what} {' / '.join(map(str, found[0]))} of a record read now is also a staged record's"
            found = connection.execute(
                f"SELECT {columns} FROM staged WHERE {present} AND {staging.KEY} IN (SELECT {staging.KEY} FROM gone) "
                f"INTERSECT SELECT {columns} FROM kept WHERE {present}").fetchmany(1)
            if found:
                return (f"{what} {' / '.join(map(str, found[0]))} was shared by staged records, one of which was read "
                        f"again or deleted")
    return None


@dataclass
class Merged:
    """The merged records as the run catalog's :data:`MERGED` table, and what the staging of the next version
    takes from them."""

    batches: list[ValidatedBatch]
    counts: dict[str, int]
    folder: Path  # <kind>.parquet of each staging.KINDS (with keys; published with hashes), ordered by key


def merge_batches(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog, batches: list[ValidatedBatch],
                  run: Plan) -> Merged:
    """The run's validated batches (of the records read) merged into the staged records of ``run.manifest``,
    saved as the catalog's :data:`MERGED` table (valid, archive_parts, record_hashes, quarantine, and this run's
    warnings, amendments and excluded records) in key order; returns the merged batches for the publish step.
    The staged records of the keys read again are dropped, among them those the rules now exclude.

    Raises :class:`NeedsFullRun` when a record read now shares an occurrenceID or catalogue-number triplet with
    a staged record (the duplicate checks need the whole table) or the excluded records lack the key, and
    :class:`~mobilise.extractors.base.SourceError` when the key scan fails."""
    from mobilise.extractors.keys import source_keys

    manifest = run.manifest
    key = manifest.key_column
    directory = PublicationDirectory(config.publication_directory)
    work = catalog.scratch("incremental")
    (work / "mapped_ids").mkdir(parents=True, exist_ok=True)
    fresh: dict[str, list[str]] = {kind: [] for kind in staging.KINDS}
    read_keys, mapped_ids = [], []
    for batch in sorted(batches, key=lambda b: b.valid):
        rows, read = _rows_of_batch(catalog, batch.valid, key)
        excluded = _excluded_keys(catalog, batch.valid, key, read.type)
        if excluded is None:
            raise NeedsFullRun(f"a full run instead of the {run.kind} run: the records the rules excluded in batch "
                               f"{batch.valid.batch} do not carry the record key {key}")
        name = f"{batch.valid.batch}.parquet"
        # the records the rules now exclude were read too: their staged records leave the dataset
        read_now = pa.table({staging.KEY: pa.concat_arrays([read, excluded])})
        for kind, table in [*rows.items(), ("read_keys", read_now)]:
            (work / kind).mkdir(parents=True, exist_ok=True)
            pq.write_table(table, work / kind / name)
            (fresh[kind] if kind in fresh else read_keys).append(str(work / kind / name))
        mapped = catalog.load(batch.valid.of("mapped"))
        terms = [t for t in dict.fromkeys(t for group in DUPLICATE_KEYS for t in group) if t in mapped.column_names]
        pq.write_table(mapped.select(terms), work / "mapped_ids" / name)
        mapped_ids.append(str(work / "mapped_ids" / name))
    staged = {kind: staging.staged_files(directory, manifest.version, CORE, kind) for kind in staging.KINDS}
    records = staged[staging.PUBLISHED] + staged[staging.QUARANTINE]
    deleted: list[str] = []
    if run.reconcile:
        present = source_keys(config.source, key)
        target = work / "deleted.parquet"
        staging.gone_keys(records, present, target, work / "spill")
        deleted = [str(target)]
    collision = _collisions(mapped_ids, records, read_keys, deleted, work / "spill")
    if collision:
        raise NeedsFullRun(f"a full run instead of the {run.kind} run: {collision} (the duplicate checks need "
                           f"the whole table)")
    counts = staging.merge(staged, fresh, read_keys, deleted, work / "merged", work / "spill")
    merged = _as_batches(config, plan, catalog, batches, work / "merged")
    return Merged(merged, counts, work / "merged")


def _as_batches(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog, read: list[ValidatedBatch],
                folder: Path) -> list[ValidatedBatch]:
    """The merged Parquet files as the catalog's MERGED table, ``source.batch_size`` records a batch."""
    columns = [name for name in pq.ParquetFile(folder / "published.parquet").schema_arrow.names
               if name != staging.KEY and name not in staging.HASHES]
    terms = core_terms(plan.terms, columns)
    quarantined = pq.ParquetFile(folder / "quarantine.parquet").metadata.num_rows
    for kind in (staging.QUARANTINE, staging.WARNINGS):
        for number, rows in enumerate(staging.read_parts(folder / f"{kind}.parquet", config.source.batch_size), 1):
            catalog.save(Entry(kind, MERGED, batch_name(number)), staging.split(rows)[0])
    for kind in ("amendments", "excluded"):  # this run's records' (neither is staged)
        for entry in catalog.entries(kind, CORE):
            catalog.save(Entry(kind, MERGED, entry.batch), catalog.load(entry))
    summary = QualitySummary.combine(b.quality for b in sorted(read, key=lambda b: b.valid))
    merged: list[ValidatedBatch] = []
    for number, rows in enumerate(staging.read_parts(folder / "published.parquet", config.source.batch_size), 1):
        record, _, hashes = staging.split(rows)
        entry = catalog.save(Entry("valid", MERGED, batch_name(number)), record)
        catalog.save(entry.of("record_hashes"), HASH_SCHEMA.empty_table() if hashes is None  # nothing published
                     else hashes.cast(HASH_SCHEMA))
        full = pa.table({t: record[t] if t in record.column_names else pa.nulls(record.num_rows, pa.string())
                         for t in terms})
        part = deflate_rows(full, terms, catalog.path(entry.of("archive_parts")))
        merged.append(ValidatedBatch(valid=entry, quality=QualitySummary(records=record.num_rows,
                                                                         published=record.num_rows),
                                     coverage=batch_coverage(record), fragment=ReportFragment(), part=part))
    published = sum(b.quality.published for b in merged)
    merged[0].quality = replace(summary, records=published + quarantined, published=published,
                                rejected=quarantined, added_terms=sorted(set(columns) - set(plan.terms)))
    merged[0].fragment = merge_fragments(b.fragment for b in sorted(read, key=lambda b: b.valid))
    return merged


def stage_run(config: DatasetConfig, catalog: RunCatalog, version: str, run: Plan,
              merged: Merged | None = None) -> staging.StagingManifest | None:
    """Keep `version`'s records as the staged records (after its commit): from the run catalog's core table
    (a full run) or from the merge (`merged`). None when the config names no record key. The watermark is the
    largest modified value read (a full or incremental run), or the staged one (a backfill, which may read
    records older than it). None, and nothing kept, for a dataset no incremental run could merge into
    (:func:`usable_staging`: no watermark column, an Event core, extensions or child tables)."""
    keys = config.source.record_key
    if len(keys) != 1 or not config.source.modified_column or config.core != "occurrence" or config.extensions \
            or config.children:
        return None
    key = keys[0]
    directory = PublicationDirectory(config.publication_directory)
    writer = staging.StagingWriter(directory, version)
    try:
        if merged is None:
            for entry in catalog.entries("valid", CORE):
                for kind, rows in _rows_of_batch(catalog, entry, key)[0].items():
                    writer.add(CORE, kind, rows)
        else:
            for kind in staging.KINDS:
                for rows in staging.read_parts(merged.folder / f"{kind}.parquet", config.source.batch_size):
                    writer.add(CORE, kind, rows)
        seen = watermark(catalog, config.source.modified_column)
        previous = run.manifest.watermark if run.manifest is not None else None
        mark = previous if run.kind == "backfill" else later(previous, seen)
        return writer.commit(key, mark, staging.config_hash(config))
    except BaseException:
        writer.discard()
        raise
