"""The pipeline's stages as plain functions over files in a run folder, so they can run in a Prefect task,
a Dask worker or a test alike. Stages hand each other file paths, never large frames.

Run folder ``<work>/<run id>/``: ``extracted/``, ``mapped/``, ``mapping_issues/``, ``valid/``, ``issues/`` and
``quarantine/`` hold one Parquet file per batch, named by batch number; ``duplicates.parquet`` holds the
occurrenceIDs that occur more than once in the whole dataset.
"""
from __future__ import annotations

import logging
import shutil
import threading
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mobilise.extractors import sql  # noqa: F401  (registers the SQL backends)
from mobilise.extractors.base import extract_batches
from mobilise.extractors.partitions import Partition, partition_source
from mobilise.extractors.partitions import plan_partitions as plan_partitions_of
from mobilise.flags import severities
from mobilise.mappers.mapping import MappingPlan, as_text, map_batch
from mobilise.publishers.dwca import DeflatedRows, deflate_rows, write_archive
from mobilise.flows.reporting import batch_fragment, build_report, evaluate_gates, merge_counts, merge_fragments
from mobilise.publishers.eml import Coverage, build_eml
from mobilise.publishers.publication import (CURRENT_ARCHIVE, Publication, PublicationLog, atomic_path, now_utc,
                                             promote, sha256_of)
from mobilise.publishers.report import write_reports
from mobilise.settings import DatasetConfig
from mobilise.validators.dissco import DISSCO_FLAGS
from mobilise.validators.quality import assess
from mobilise.validators.registry import CheckContext
from mobilise.validators.validate import quarantine_reasons

log = logging.getLogger("mobilise")


def new_run_directory(config: DatasetConfig) -> Path:
    run_id = f"{now_utc():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    directory = config.work_directory / run_id
    directory.mkdir(parents=True)
    return directory


def _sibling(path: str | Path, stage: str) -> Path:
    """The same batch's file in another stage folder."""
    path = Path(path)
    return path.parent.parent / stage / path.name


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd" if table.num_rows > 10_000 else "snappy")


# --- extract ---------------------------------------------------------------------------------------------------

def plan_partitions(config: DatasetConfig) -> list[Partition | None]:
    """The parts of the source to extract, each on its own worker; ``[None]``: the source read as a whole."""
    partitions = plan_partitions_of(config.source)
    if len(partitions) > 1:
        log.info("source split into %d partitions of %d %s values", len(partitions) - 1,
                 config.source.partition.keys, config.source.partition.column)
    return partitions


def task_groups(paths: list[str], partitions: list[Partition | None]) -> list[list[str]]:
    """The batches one map or validate task takes: a partition's batches together (each task costs the
    orchestrator a few hundred milliseconds), or one batch per task when the source is read as a whole."""
    if partitions == [None]:
        return [[path] for path in paths]
    groups: dict[str, list[str]] = {}
    for path in sorted(paths):
        groups.setdefault(Path(path).stem.split("-")[0], []).append(path)
    return list(groups.values())


def extract(config: DatasetConfig, run: Path, partition: Partition | None = None) -> list[str]:
    """Stream the source (or one partition of it) into one Parquet file per batch.

    Fails on the first batch if a mapped column is missing. File names sort in source order: ``000007.parquet``,
    or ``p000003-000002.parquet`` for the second batch of the third partition.
    """
    plan = MappingPlan.from_config(config)
    source = partition_source(config.source, partition)
    prefix = f"p{partition.number:06d}-" if partition is not None else ""
    paths = []
    for number, batch in enumerate(extract_batches(source), start=1):
        if number == 1:
            plan.check_columns(batch.schema.names)
        path = run / "extracted" / f"{prefix}{number:06d}.parquet"
        _write(pa.Table.from_batches([batch]), path)
        paths.append(str(path))
    where = f" ({partition.describe(config.source.partition.column)})" if partition is not None else ""
    log.info("extracted %d batch(es) from %s%s", len(paths), config.source.safe_url, where)
    return paths


# --- map ----------------------------------------------------------------------------------------------------------

def map_file(config: DatasetConfig, extracted: str) -> str:
    table, issues = map_batch(pq.read_table(extracted), MappingPlan.from_config(config))
    mapped = _sibling(extracted, "mapped")
    _write(table, mapped)
    _write(issues, _sibling(extracted, "mapping_issues"))
    return str(mapped)


def find_duplicate_ids(run: Path) -> str:
    """occurrenceIDs used by more than one record across all batches, found by DuckDB on disk."""
    target = run / "duplicates.parquet"
    pattern = str(run / "mapped" / "*.parquet")
    with duckdb.connect() as connection:
        # DuckDB spills to disk beyond this (about as fast here): with 512MB the publishing process's peak RSS
        # grew from 411 MB at 1M to 669 MB at 5M; over 5M occurrenceIDs alone 608 MB -> 271 MB
        connection.execute("SET memory_limit='128MB'")
        connection.execute(f"SET temp_directory='{run / 'duckdb.tmp'}'")
        if not list((run / "mapped").glob("*.parquet")):
            duplicates = pa.table({"occurrenceID": pa.array([], pa.string())})
        else:
            duplicates = connection.sql(
                "SELECT occurrenceID FROM read_parquet($pattern) WHERE occurrenceID IS NOT NULL "
                "GROUP BY occurrenceID HAVING count(*) > 1", params={"pattern": pattern}).to_arrow_table()
    _write(duplicates, target)
    return str(target)


# --- validate -----------------------------------------------------------------------------------------------------

@dataclass
class BatchSummary:
    """What one validated batch contributes to the run's totals, the report and the EML coverage."""

    batch: str
    records: int = 0
    published: int = 0
    rejected: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    severity_of: dict[str, str] = field(default_factory=dict)
    west: float | None = None
    east: float | None = None
    south: float | None = None
    north: float | None = None
    first_date: str | None = None
    last_date: str | None = None
    kingdoms: list[str] = field(default_factory=list)
    added_terms: list[str] = field(default_factory=list)  # columns filled by accepted amendments
    bdq: list[dict] = field(default_factory=list)
    amendments_applied: dict[str, int] = field(default_factory=dict)  # "label|term" -> records
    mids: dict[str, dict[int, int]] = field(default_factory=dict)
    report: dict = field(default_factory=dict)  # flows.reporting.batch_fragment
    core: DeflatedRows | None = None  # the published rows as the archive's core-file part


def _quarantine_table(mapped: pa.Table, source: pa.Table, rows: np.ndarray, reasons: dict[int, str]) -> pa.Table:
    """Rejected records whole: reasons, the Darwin Core values and every source column (as text)."""
    indices = pa.array(rows, pa.int64())
    columns = {"reasons": pa.array([reasons.get(int(r), "") for r in rows], pa.string())}
    for name in mapped.column_names:
        columns[name] = mapped[name].combine_chunks().take(indices)
    for name in source.column_names:
        columns[f"source.{name}"] = as_text(source[name].take(indices))
    return pa.table(columns)


def _coverage(table: pa.Table, summary: BatchSummary) -> None:
    if "decimalLatitude" in table.column_names and "decimalLongitude" in table.column_names:
        latitude = pc.cast(table["decimalLatitude"], pa.float64())
        longitude = pc.cast(table["decimalLongitude"], pa.float64())
        summary.south, summary.north = pc.min(latitude).as_py(), pc.max(latitude).as_py()
        summary.west, summary.east = pc.min(longitude).as_py(), pc.max(longitude).as_py()
    if "eventDate" in table.column_names:
        dates = table["eventDate"]
        starts = pc.utf8_slice_codeunits(dates, 0, 10)
        ends = pc.utf8_slice_codeunits(pc.replace_substring_regex(dates, "^[^/]*/", ""), 0, 10)
        summary.first_date, summary.last_date = pc.min(starts).as_py(), pc.max(ends).as_py()
    if "kingdom" in table.column_names:
        summary.kingdoms = sorted(k for k in pc.unique(table["kingdom"]).to_pylist() if k)


# The checks share GEOS prepared geometries (country polygons) and PROJ objects, which must not be used from two
# threads at once (a 1M benchmark run with two validate threads died of heap corruption). Batches are therefore
# validated one at a time per process; the Dask runner gives each worker process its own copies, so validation
# still runs in parallel across processes, and mapping across threads.
_VALIDATE_LOCK = threading.Lock()


def validate_file(config: DatasetConfig, mapped_path: str, duplicates_path: str,
                  today: date | None = None) -> BatchSummary:
    with _VALIDATE_LOCK:
        return _validate_file(config, mapped_path, duplicates_path, today)


def _validate_file(config: DatasetConfig, mapped_path: str, duplicates_path: str,
                   today: date | None) -> BatchSummary:
    mapped = pq.read_table(mapped_path)
    mapping_issues = pq.read_table(_sibling(mapped_path, "mapping_issues"))
    context = CheckContext(duplicate_ids=pq.read_table(duplicates_path)["occurrenceID"].combine_chunks(),
                           today=today or date.today(), earliest_year=config.validation.earliest_year)
    severity = severities(config.validation.severity)
    assessment = assess(mapped, mapping_issues, context, config.validation, severity,
                        dataset_license=config.metadata.licence.info.url)
    table, issues, publishable = assessment.table, assessment.issues, assessment.publishable
    valid = table.filter(pa.array(publishable))
    _write(valid, _sibling(mapped_path, "valid"))
    plan_terms = MappingPlan.from_config(config).terms
    core_terms = plan_terms + sorted(set(table.column_names) - set(plan_terms))
    # The archive's part for this batch, deflated here so that workers share the compression (publish copies it)
    core = deflate_rows(valid, core_terms, _sibling(mapped_path, "core").with_suffix(".deflate"))
    _write(issues, _sibling(mapped_path, "issues"))
    rejected_rows = np.flatnonzero(~publishable)
    extracted = _sibling(mapped_path, "extracted")
    # the source columns are only needed for rejected records; an empty table keeps the quarantine's columns
    source = pq.read_table(extracted) if rejected_rows.size else pq.read_schema(extracted).empty_table()
    _write(_quarantine_table(table, source, rejected_rows, quarantine_reasons(issues)),
           _sibling(mapped_path, "quarantine"))
    occurrence_ids = table["occurrenceID"].combine_chunks()
    applied: dict[str, int] = {}
    if assessment.applied is not None and assessment.applied.num_rows:
        frame = assessment.applied.to_pandas()
        frame.insert(0, "occurrenceID", occurrence_ids.take(pa.array(frame["row"].to_numpy())).to_pylist())
        _write(pa.Table.from_pandas(frame, preserve_index=False), _sibling(mapped_path, "amendments"))
        done = frame[frame["applied"].fillna(False).astype(bool)]
        applied = {f"{label}|{term}": int(n) for (label, term), n in done.groupby(["label", "term"]).size().items()}
    flags = issues["flag"].to_pylist()
    summary = BatchSummary(batch=Path(mapped_path).stem, records=mapped.num_rows, published=valid.num_rows,
                           rejected=int(rejected_rows.size), flags=dict(Counter(flags)),
                           severity_of=dict(zip(flags, issues["severity"].to_pylist())),
                           added_terms=[c for c in table.column_names if c not in mapped.column_names],
                           bdq=assessment.bdq, amendments_applied=applied, mids=assessment.mids,
                           report=batch_fragment(valid, issues, occurrence_ids), core=core)
    _coverage(valid, summary)
    return summary


# --- publish ------------------------------------------------------------------------------------------------------

class PublicationGateError(RuntimeError):
    """A publication gate failed: nothing was published and the last good version stays current."""

    def __init__(self, message: str, report: str | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class RunResult:
    dataset: str
    version: str | None
    archive: str | None
    current: str | None
    records: int
    rejected: int
    extracted: int
    quarantine: str | None
    issues: dict[str, int]
    severity: dict[str, str]
    published: str | None = None
    report: str | None = None  # the HTML report; the JSON one sits beside it
    amendments: str | None = None  # CSV of the amendments applied to published records
    gates: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _merge_coverage(summaries: list[BatchSummary]) -> Coverage | None:
    def pick(values, function):
        values = [v for v in values if v is not None]
        return function(values) if values else None

    west, east = pick([s.west for s in summaries], min), pick([s.east for s in summaries], max)
    south, north = pick([s.south for s in summaries], min), pick([s.north for s in summaries], max)
    first, last = pick([s.first_date for s in summaries], min), pick([s.last_date for s in summaries], max)
    kingdoms = sorted({k for s in summaries for k in s.kingdoms})
    return Coverage(west=west, east=east, south=south, north=north, begin=first, end=last,
                    taxa=[("kingdom", k) for k in kingdoms])


def write_quarantine(run: Path, target: Path) -> int:
    """All batches' quarantined records into one CSV (RFC 4180 quoting: values are kept exactly)."""
    files = sorted((run / "quarantine").glob("*.parquet"))
    written = 0
    with atomic_path(target) as temporary:
        writer = schema = None
        for path in files:
            table = pq.read_table(path)
            if writer is None:
                schema = table.schema
                writer = pacsv.CSVWriter(str(temporary), schema)
            writer.write_table(table.cast(schema))
            written += table.num_rows
        if writer is None:
            temporary.write_text("reasons\n", encoding="utf-8")
        else:
            writer.close()
    return written


def _package_id(config: DatasetConfig) -> str:
    """The EML packageId stem: the dataset's UUID as the IPT uses it, else its short name."""
    try:
        return str(uuid.UUID(str(config.metadata.dataset_id)))
    except ValueError:
        return config.shortname


def write_amendments(run: Path, target: Path) -> str | None:
    files = sorted((run / "amendments").glob("*.parquet"))
    if not files:
        return None
    with atomic_path(target) as temporary:
        tables = [pq.read_table(path) for path in files]
        pacsv.write_csv(pa.concat_tables(tables, promote_options="permissive"), str(temporary))
    return str(target)


def _core_parts(run: Path, terms: list[str], summaries: list[BatchSummary]):
    """Published batches in order: the part the validate stage deflated, or, when an amendment added a column
    in another batch, the batch again with every archive column (the added ones empty here)."""
    deflated = {s.batch: s.core for s in summaries if s.core is not None}
    for path in sorted((run / "valid").glob("*.parquet")):
        part = deflated.get(path.stem)
        if part is not None and part.terms == terms:
            yield part
            continue
        table = pq.read_table(path)
        for term in terms:
            if term not in table.column_names:
                table = table.append_column(term, pa.nulls(table.num_rows, pa.string()))
        yield table


def _report(config: DatasetConfig, summaries: list[BatchSummary], version: str | None, generated: str,
            gates: list[dict], totals: dict, issues: dict, severity_of: dict) -> dict:
    from mobilise.validators.bdq.batch import merge_summaries

    mids = {variant: merge_counts(s.mids.get(variant, {}) for s in summaries) for variant in ("tdwg", "dissco")}
    dissco_flags = {flag: issues.get(flag, 0) for flag in DISSCO_FLAGS}
    applied = merge_counts(s.amendments_applied for s in summaries)
    bdq = merge_summaries([s.bdq for s in summaries if s.bdq]) if any(s.bdq for s in summaries) else []
    proposed = [{"guid": t["guid"], "label": t["label"],
                 "records": sum(t.get("status", {}).get(k, 0) for k in ("AMENDED", "FILLED_IN"))}
                for t in bdq if t.get("kind") == "Amendment"]
    return build_report(
        config, version=version, generated=generated, totals=totals, gates=gates, flags=issues,
        severity_of=severity_of, fragment=merge_fragments(s.report for s in summaries if s.report),
        mids={variant: {str(k): v for k, v in counts.items()} for variant, counts in mids.items()},
        dissco={"policy": config.validation.dissco, "flags": dissco_flags,
                "records_dropped": sum(dissco_flags.values())},
        bdq=bdq, amendments={"proposed": [p for p in proposed if p["records"]],
                             "applied": [{"label": key.split("|")[0], "term": key.split("|")[1], "records": n}
                                         for key, n in sorted(applied.items())]})


def publish(config: DatasetConfig, run: Path, summaries: list[BatchSummary], dry_run: bool = False) -> RunResult:
    """Write the archive as the next version and make it current, unless a gate fails or it is a dry run.

    The quarantine file and the reports are written in every case, under ``validation/`` when nothing is
    published, so the data manager can always see why.
    """
    issues = merge_counts(s.flags for s in summaries)
    severity_of = {flag: severity for s in summaries for flag, severity in s.severity_of.items()}
    records = sum(s.published for s in summaries)
    rejected = sum(s.rejected for s in summaries)
    extracted = sum(s.records for s in summaries)
    totals = {"extracted": extracted, "published": records, "rejected": rejected}
    directory = config.publication_directory
    log_book = PublicationLog(directory)
    previous = log_book.latest()
    gates = evaluate_gates(config.gates, extracted, rejected, records, previous.records if previous else None)
    published = now_utc()
    failed = [gate for gate in gates if not gate["passed"]]
    if dry_run or failed:
        target, version, stem = directory / "validation", None, "report"  # replaced each time
        quarantine, amendments = target / "quarantine.csv", target / "amendments.csv"
        write_quarantine(run, quarantine)
        amendments = write_amendments(run, amendments)
        report = _report(config, summaries, None, published.isoformat(), gates, totals, issues, severity_of)
        html = write_reports(report, target, stem)[1]
        result = RunResult(config.shortname, None, None, None, records, rejected, extracted, str(quarantine),
                           issues, severity_of, report=str(html), amendments=amendments, gates=gates)
        if failed:
            raise PublicationGateError("; ".join(f"{g['name']}: {g['detail']}" for g in failed)
                                       + f". Nothing was published; see {html}", report=str(html))
        return result

    version = log_book.next_version()
    archive = directory / f"dwca-{version}.zip"
    quarantine = directory / f"quarantine-{version}.csv"
    written_files = [archive, quarantine, directory / f"amendments-{version}.csv",
                     directory / f"report-{version}.json", directory / f"report-{version}.html"]
    try:
        eml = build_eml(config.metadata, package_id=_package_id(config), version=version,
                        pub_date=published.date(), coverage=_merge_coverage(summaries), now=published)
        plan_terms = MappingPlan.from_config(config).terms
        terms = plan_terms + sorted({t for s in summaries for t in s.added_terms} - set(plan_terms))
        with atomic_path(archive) as temporary:
            written = write_archive(temporary, terms, _core_parts(run, terms, summaries), eml)
        write_quarantine(run, quarantine)
        amendments = write_amendments(run, written_files[2])
        report = _report(config, summaries, version, published.isoformat(), gates, totals, issues, severity_of)
        html = write_reports(report, directory, f"report-{version}")[1]
    except BaseException:
        # A version is all or nothing: remove what this attempt wrote; the current one was never touched.
        for path in written_files:
            path.unlink(missing_ok=True)
        raise
    promote(directory, archive, eml)
    log_book.append(Publication(version=version, published=published.isoformat(), records=written.records,
                                rejected=rejected, archive=archive.name, sha256=sha256_of(archive),
                                bytes=written.bytes))
    return RunResult(config.shortname, version, str(archive), str(directory / CURRENT_ARCHIVE), written.records,
                     rejected, extracted, str(quarantine), issues, severity_of, published.isoformat(),
                     report=str(html), amendments=amendments, gates=gates)


def clean_up(run: Path) -> None:
    shutil.rmtree(run, ignore_errors=True)
