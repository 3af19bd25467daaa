"""The publish stage: the validated batches of a run as the dataset's next archive version, with its quarantine,
warnings, amendments and run report, or, in a dry run or when a gate fails, those files alone.

I/O at the edge: reads the run's batches through the run catalog and writes the files the
:class:`~mobilise.publishers.publication.PublicationDirectory` names; builds no path of its own.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv

from mobilise import processes
from mobilise.catalog import CORE, Entry, RunCatalog
from mobilise.publishers.changes import (ChangeSummary, compare, diagnose, hashes_from_archive, identifier_gate,
                                         metadata_unchanged, write_record_hashes)
from mobilise.publishers.dwca import (EVENT_CORE, OCCURRENCE_CORE, DeflatedRows, ExtensionData, archive_meta_xml,
                                      core_terms, write_archive)
from mobilise.publishers.dwcdp import PackageSummary, write_dataset_package
from mobilise.publishers.eml import BatchCoverage, build_eml, merge_coverage
from mobilise.publishers.feeds import refresh_site
from mobilise.publishers.publication import (Gate, Publication, PublicationDirectory, atomic_path, atomic_write,
                                             evaluate_gates, now_utc, sha256_of)
from mobilise.publishers.report import ReportFragment, RunReport, merge_fragments, untranslated_lines
from mobilise.settings import DatasetConfig
from mobilise.validators.quality import QualitySummary


log = logging.getLogger(__name__)

@dataclass
class ValidatedBatch:
    """What the validate stage hands the publish stage for one batch, in small typed pieces (picklable)."""

    valid: Entry  # the batch's published rows in the run catalog
    quality: QualitySummary
    coverage: BatchCoverage  # for the EML
    fragment: ReportFragment  # for the run report
    part: DeflatedRows  # the published rows as the archive's core-file part


@dataclass
class ExtensionTable:
    """What the extension step (flows/steps.py process_extension) hands the publish stage for one extension: its
    data file (``location``, ``row_type``, ``columns`` with ``coreid`` first, their term ``iris``, the deflated
    ``parts`` of its published rows) and its counts: rows extracted, published, quarantined and excluded with
    their core record by the dataset's rules (extracted == published + quarantined + excluded), ``flags`` rows per
    flag."""

    name: str
    location: str
    row_type: str
    columns: list[str]
    iris: list[str | None]
    parts: list[DeflatedRows] = field(default_factory=list)
    extracted: int = 0
    published: int = 0
    quarantined: int = 0
    excluded: int = 0
    flags: dict[str, int] = field(default_factory=dict)

    @property
    def data(self) -> ExtensionData:
        return ExtensionData(self.location, self.row_type, self.columns, self.iris, self.parts)

    def counts(self) -> dict[str, int]:
        return {"extracted": self.extracted, "published": self.published, "quarantined": self.quarantined,
                "excluded": self.excluded}


class PublicationGateError(RuntimeError):
    """A publication gate failed: nothing was published and the last good version stays current. ``report`` is
    the run report, ``html`` where its page was written (under ``validation/``)."""

    def __init__(self, message: str, report: RunReport | None = None, html: Path | None = None):
        super().__init__(message)
        self.report = report
        self.html = html


class PublishedWithErrors(RuntimeError):
    """The version ``version`` WAS published (committed in publications.json), but a step after the commit failed
    (making it the current dwca.zip/eml.xml, refreshing the site files, removing old versions); the next run
    completes it (PublicationDirectory.recover). ``result`` is the run's result as if all had gone well."""

    def __init__(self, version: str, result: "RunResult", problems: list[str]):
        super().__init__(f"version {version} was published (in publications.json), but " + "; ".join(problems)
                         + ". The next run completes it.")
        self.version = version
        self.result = result
        self.problems = problems

    def __reduce__(self):  # picklable (Prefect and Dask may carry it between processes)
        return type(self), (self.version, self.result, self.problems)


@dataclass
class RunResult:
    """What a run did; :meth:`as_dict` is what the flow and ``mobilise run --json`` return."""

    dataset: str
    version: str | None  # None: nothing was published
    archive: str | None
    current: str | None
    records: int
    rejected: int
    extracted: int  # = records + rejected + excluded
    quarantine: str | None
    issues: dict[str, int]  # flag -> records flagged (a record with the same flag on two terms counts once)
    severity: dict[str, str]
    published: str | None = None
    report: str | None = None  # the HTML report; the JSON one sits beside it
    amendments: str | None = None  # CSV of the amendments applied to published records
    warnings: str | None = None  # CSV of the published records that carry a warning or info flag
    gates: list[dict] = field(default_factory=list)
    changes: dict | None = None  # publishers.changes.ChangeSummary against the last version (None: not compared)
    unchanged: bool = False  # nothing new published: data and metadata as in `version`, the current version
    # source values no vocabulary or lookup table translates: {kind, table, file, term, value, records} (report)
    untranslated: list[dict] = field(default_factory=list)
    dwc_dp: str | None = None  # the version's Darwin Core Data Package (output.dwc_dp); None: no package
    excluded: int = 0  # records the dataset's rules kept out (filters, sensitive.exclude_when; mappers/rules.py)
    excluded_by: dict[str, int] = field(default_factory=dict)  # rule label -> records it excluded
    excluded_file: str | None = None  # CSV of the excluded records (None: there were none)
    # per table (the core's, then each extension's): {extracted, published, quarantined}
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    # per extension: its quarantine file (quarantine-<extension>-<version>.csv); its warnings file sits beside it
    # (warnings-<extension>-<version>.csv)
    extension_quarantine: dict[str, str] = field(default_factory=dict)
    run_report: RunReport | None = field(default=None, repr=False, compare=False)  # the report itself

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "run_report"} | {
            "issues": dict(self.issues), "severity": dict(self.severity), "gates": list(self.gates),
            "excluded_by": dict(self.excluded_by)}


def write_quarantine(tables: Iterable[pa.Table], target: Path, empty: str = "reasons",
                     columns: Sequence[str] | None = None) -> int:
    """The quarantined records of all batches as one CSV (RFC 4180 quoting: values are kept exactly), streamed a
    batch at a time; a file with the header `empty` alone when there are no batches. Returns the records written.

    `columns`: the CSV's columns, in order, when batches may differ (a batch whose records needed
    dynamicProperties or a verbatim term another batch did not): a batch's missing columns are written empty.
    Without it, the first batch's columns. The warnings file is written the same way (:func:`write_warnings`)."""
    written = 0
    with atomic_path(target) as temporary:
        writer = schema = None
        for table in tables:
            if columns is not None:
                table = pa.table({name: table[name] if name in table.column_names
                                  else pa.nulls(table.num_rows, pa.string()) for name in columns})
            if writer is None:
                schema = table.schema
                writer = pacsv.CSVWriter(str(temporary), schema)
            writer.write_table(table.cast(schema))
            written += table.num_rows
        if writer is None:
            temporary.write_text(f"{empty}\n", encoding="utf-8")
        else:
            writer.close()
    return written


def write_warnings(tables: Iterable[pa.Table], target: Path, columns: Sequence[str] | None = None) -> int:
    """The published records of all batches that carry a warning or info flag
    (:func:`mobilise.validators.quality.warnings_table`) as one CSV, streamed a batch at a time; the header alone
    when there are none. Returns the records written."""
    return write_quarantine(tables, target, empty="occurrenceID,severity,flags,messages", columns=columns)


def write_amendments(tables: Iterable[pa.Table], target: Path, schema: pa.Schema | None) -> str | None:
    """The applied amendments of all batches as one CSV, streamed a batch at a time (memory bounded by a batch);
    None (and no file) when no batch had any. `schema`: the batches' schemas unified (batches may lack a column or
    hold it as nulls only: ``pa.unify_schemas(..., promote_options="permissive")``), None when there are none."""
    if schema is None:
        return None
    with atomic_path(target) as temporary:
        writer = None
        for table in tables:
            table = pa.table({field.name: table[field.name].cast(field.type) if field.name in table.column_names
                              else pa.nulls(table.num_rows, field.type) for field in schema}, schema=schema)
            if writer is None:
                writer = pacsv.CSVWriter(str(temporary), schema)
            writer.write_table(table)
        writer.close()
    return str(target)


def package_id(config: DatasetConfig) -> str:
    """The EML packageId stem: the dataset's UUID as the IPT uses it, else its short name."""
    try:
        return str(uuid.UUID(str(config.metadata.dataset_id)))
    except ValueError:
        return config.shortname


def _core_parts(catalog: RunCatalog, batches: Sequence[ValidatedBatch], terms: list[str]
                ) -> Iterator[pa.Table | DeflatedRows]:
    """The published batches in order: the part the validate stage deflated, or, when an amendment added a
    column in another batch, the batch's rows again (write_archive leaves the added columns empty)."""
    for batch in batches:
        yield batch.part if batch.part.terms == terms else catalog.load(batch.valid)


def _files(directory: PublicationDirectory, version: str | None, amendments: bool,
           excluded: bool = False) -> dict[str, str]:
    """The names of the CSV files beside the report (they sit in the same folder), for its links."""
    files = {"quarantine": directory.quarantine(version).name, "warnings": directory.warnings(version).name}
    if amendments:
        files["amendments"] = directory.amendments(version).name
    if excluded:
        files["excluded"] = directory.excluded(version).name
    return files


def _changes(catalog: RunCatalog, directory: PublicationDirectory, table: str,
             extracted: int, hash_files: list[str]) -> ChangeSummary | None:
    """This run's records against the last version's (None: the last version has no record hashes, as one published
    before they were kept), with the likely causes of removed occurrenceIDs."""
    previous = directory.log.latest()
    hashes = directory.record_hashes(previous.version) if previous is not None else None
    if hashes is not None and not hashes.exists():
        archive = directory.archive(previous.version)
        if not archive.exists():
            return None
        log.warning("version %s has no record hashes (%s); rebuilt from its archive %s", previous.version,
                    hashes.name, archive.name)
        hashes_from_archive(archive, hashes)
    summary = compare(hash_files, hashes,
                      previous.version if previous else None, catalog.scratch("duckdb"),
                      quarantine=catalog.files(catalog.entries("quarantine", table)),
                      excluded=catalog.files(catalog.entries("excluded", table)))
    return diagnose(summary, extracted, previous.records + previous.rejected if previous else None)


def package_tables(catalog: RunCatalog, core: str, terms: Sequence[str] | None = None,
                   extensions: Sequence[str] = ()) -> tuple[Iterator[pa.Table], dict[str, Iterator[pa.Table]]]:
    """The published rows a run's Darwin Core Data Package is derived from, as lazy iterables read one batch at a
    time from the run catalog (bounded memory): the `core` table's ``valid`` batches in batch order (only the
    archive's `terms`, when given, so both formats hold the same columns), and each of the `extensions` tables
    that has ``valid`` batches (by name: multimedia, identification, measurement_or_fact, ...) as
    {name: its batches}. Tables the package has no place for are named in its summary (``not_carried``)."""
    def batches(table: str, columns: Sequence[str] | None) -> Iterator[pa.Table]:
        for entry in catalog.entries("valid", table):
            keep = None if columns is None else [c for c in columns if c in catalog.schema(entry).names]
            yield catalog.load(entry, columns=keep)

    published = set(catalog.tables("valid"))
    return batches(core, terms), {name: batches(name, None) for name in extensions if name in published}


def package_entry(summary: PackageSummary, path: Path) -> dict:
    """The version log's record of a written package (Publication.dwc_dp): file name, checksum, size and what it
    holds (PackageSummary without the per-layer checks)."""
    held = summary.model_dump(mode="json", exclude={"checks", "target"})
    if held.get("validation"):
        held["validation"] = held["validation"].replace(str(path), path.name)  # the folder may move; the name stays
    return {"file": path.name, "sha256": sha256_of(path), "bytes": path.stat().st_size, **held}


def _discard(directory: PublicationDirectory, version: str) -> None:
    """Remove what an attempt at `version` wrote, unless the log committed it (a failure after the commit's rename,
    in the fsync of the folder, keeps the version: it is published). The current version was never touched; the
    number stays reserved (a gap in the versions, never a second, different archive of the same number)."""
    if version not in {entry.version for entry in directory.log.entries()}:
        for path in directory.files(version):
            path.unlink(missing_ok=True)



def publish(config: DatasetConfig, catalog: RunCatalog, batches: Sequence[ValidatedBatch], mapped_terms: list[str],
            dry_run: bool = False, table: str = CORE, accept_id_changes: bool = False,
            force: bool = False, deleted: int = 0, extensions: Sequence[ExtensionTable] = (),
            window: bool = False) -> RunResult:
    """Write the archive as the next version and make it current, unless a gate fails or it is a dry run.

    Records are compared with the last version's (publishers.changes): when none was added, removed or changed and
    the metadata are the same, nothing new is published (``unchanged``, the current version stays, no file of it
    is touched; this run's report and CSV files go to ``validation/``) unless `force`. The identifier gate
    (``gates.max_removed_ids_share``) fails when too many of the last version's occurrenceIDs are gone, unless
    `accept_id_changes`.

    `deleted`: records an incremental run's deletion scan dropped (the change summary's ``deleted``). `window`: the
    records of a backfill window only (a dry run): the change summary compares them alone, so nothing counts as
    removed (the records outside the window were not read).
    `batches` in batch order; `mapped_terms` the mapping's terms (MappingPlan.terms), the archive's first columns;
    `table` the core's table in the run catalog (``occurrence``, or ``event`` for an Event core, whose archive has
    ``event.txt``; an incremental run's merged records, ``occurrence.merged``). `extensions` (flows/steps.py
    process_extension) are written as data files of their own with their core ids, each with its quarantine and
    warnings files (``quarantine-<extension>-<version>.csv``, ``warnings-<extension>-<version>.csv``);
    RunResult.tables and the report count every table.
    The quarantine, warnings and amendments files and the reports are written in every case, under
    ``validation/`` when nothing is published, so the data manager can always see why. Raises
    :class:`PublicationGateError` when a gate fails; a failure while writing removes what this attempt wrote and
    leaves the current version as it was. With ``output.dwc_dp`` on, the version's Darwin Core Data Package is
    derived from the same published rows and EML (:func:`package_tables`) and validated before the commit; an
    invalid one stops the whole version like a failed gate (``dwc_dp``, the report naming the problems table by
    table). The version is committed by one write of publications.json (see
    :mod:`mobilise.publishers.publication`); a failure after that raises :class:`PublishedWithErrors`, which
    says the version was published.
    """
    quality = QualitySummary.combine(b.quality for b in batches)
    fragment = merge_fragments(b.fragment for b in batches)
    directory = PublicationDirectory(config.publication_directory)
    previous = directory.log.latest()
    gates = evaluate_gates(config.gates, quality.extracted, quality.rejected, quality.published,
                           previous.records if previous else None, quality.excluded_by)
    # the core's record hashes, and per extension one per core record with rows in it: an extension row added,
    # removed or changed shows as a changed record
    hash_files = catalog.files(catalog.entries("record_hashes", table)) + [
        path for ext in extensions for path in catalog.files(catalog.entries("record_hashes", ext.name))]
    changes = _changes(catalog, directory, table, quality.extracted, hash_files)
    if changes is not None:
        changes.deleted = deleted
        if window:  # the records outside the window were not read: not removed
            changes = changes.model_copy(update={
                "removed": 0, "removed_ids": [], "removed_share": 0.0, "renamed": 0, "renamed_examples": [],
                "now_rejected": 0, "now_excluded": 0,
                "causes": ["a backfill window: only its records are compared, those outside it were not read"]})
    core_file = EVENT_CORE if config.core == "event" else OCCURRENCE_CORE
    tables = {config.core: {"extracted": quality.extracted, "published": quality.published,
                            "quarantined": quality.rejected, "excluded": quality.excluded}} | {
        ext.name: ext.counts() for ext in extensions}
    extension_files: dict[str, str] = {}  # per extension, the quarantine file written
    if previous is not None and changes is None and config.gates.max_removed_ids_share is not None:
        gates.append(Gate(name="max_removed_ids_share", passed=True,
                          detail=f"version {previous.version} has no record hashes: changes are counted from this "
                                 f"version on"))
    elif (id_gate := identifier_gate(config.gates.max_removed_ids_share, changes, accept_id_changes)) is not None:
        gates.append(id_gate)
    published = now_utc()
    failed = [gate for gate in gates if not gate.passed]

    def batches_of(dataset: str) -> Iterator[pa.Table]:
        return (catalog.load(e) for e in catalog.entries(dataset, table))

    def columns_of(dataset: str, of: str = table) -> list[str]:
        """Every column any batch of `dataset` (of the table `of`) has, in the order they first appear (batches may
        differ), the source columns (``source.*``) last."""
        names: dict[str, None] = {}
        for entry in catalog.entries(dataset, of):
            names.update(dict.fromkeys(catalog.schema(entry).names))
        return sorted(names, key=lambda name: name.startswith("source."))  # stable: first appearance within each

    excluded_file: dict[str, str] = {}  # where write_run_files wrote the excluded records, when there were any

    def write_run_files(version: str | None, unchanged: bool = False) -> tuple[RunReport, Path, str | None]:
        """The quarantine, warnings, amendments and excluded files and the reports of `version` (None:
        validation/)."""
        write_quarantine(batches_of("quarantine"), directory.quarantine(version), columns=columns_of("quarantine"))
        for ext in extensions:
            target = directory.extension_quarantine(version, ext.name)
            write_quarantine((catalog.load(e) for e in catalog.entries("quarantine", ext.name)), target,
                             columns=columns_of("quarantine", ext.name) or None)
            extension_files[ext.name] = str(target)
            write_warnings((catalog.load(e) for e in catalog.entries("warnings", ext.name)),
                           directory.extension_warnings(version, ext.name),
                           columns=columns_of("warnings", ext.name) or None)
            if ext.excluded:  # its rows excluded with their core record, with the rule (no file when none)
                write_quarantine((catalog.load(e) for e in catalog.entries("excluded", ext.name)),
                                 directory.extension_excluded(version, ext.name),
                                 columns=columns_of("excluded", ext.name))
            elif version is None:
                directory.extension_excluded(None, ext.name).unlink(missing_ok=True)
        write_warnings(batches_of("warnings"), directory.warnings(version), columns=columns_of("warnings"))
        amended = catalog.entries("amendments", table)
        amendments = write_amendments(batches_of("amendments"), directory.amendments(version), pa.unify_schemas(
            [catalog.schema(e) for e in amended], promote_options="permissive") if amended else None)
        if quality.excluded:  # the records the rules kept out, with the rule (no file when there are none)
            write_quarantine(batches_of("excluded"), directory.excluded(version), columns=columns_of("excluded"))
            excluded_file["path"] = str(directory.excluded(version))
        elif version is None:  # validation/ is rewritten by every such run: no list left from an earlier one
            directory.excluded(None).unlink(missing_ok=True)
        files = _files(directory, version, amendments is not None, quality.excluded > 0)
        for ext in extensions:
            files[f"quarantine-{ext.name}"] = directory.extension_quarantine(version, ext.name).name
            files[f"warnings-{ext.name}"] = directory.extension_warnings(version, ext.name).name
            if ext.excluded:
                files[f"excluded-{ext.name}"] = directory.extension_excluded(version, ext.name).name
        report = RunReport.build(config, version=version, generated=published.isoformat(), gates=gates,
                                 quality=quality, fragment=fragment, files=files, changes=changes,
                                 unchanged=unchanged, tables=tables,
                                 extension_flags={ext.name: ext.flags for ext in extensions})
        json_path, html = directory.report(version)
        report.write(json_path, html)
        for line in untranslated_lines(report.untranslated):
            log.warning("%s: %s", config.shortname, line)
        return report, html, amendments

    def result(version: str | None, run_report: RunReport, records: int, **published_files) -> RunResult:
        return RunResult(config.shortname, version, records=records, rejected=quality.rejected,
                         extracted=quality.extracted, excluded=quality.excluded,
                         excluded_by=dict(quality.excluded_by), excluded_file=excluded_file.get("path"),
                         issues=quality.flags, severity=quality.severity_of,
                         gates=[g.model_dump() for g in gates], run_report=run_report,
                         untranslated=[row.model_dump() for row in run_report.untranslated],
                         changes=changes.model_dump(mode="json") if changes is not None else None, tables=tables,
                         extension_quarantine=dict(extension_files), **published_files)

    if dry_run or failed:
        quarantine = directory.quarantine(None)
        report, html, amendments = write_run_files(None)
        if failed:
            raise PublicationGateError("; ".join(f"{g.name}: {g.detail}" for g in failed)
                                       + f". Nothing was published; see {html}", report=report, html=html)
        return result(None, report, quality.published, archive=None, current=None, quarantine=str(quarantine),
                      report=str(html), amendments=amendments, warnings=str(directory.warnings(None)))

    terms = core_terms(mapped_terms, quality.added_terms)
    coverage = merge_coverage(b.coverage for b in batches)
    if previous is not None and changes is not None and changes.data_unchanged:
        changes.metadata_changed = not metadata_unchanged(
            directory.current_archive, meta=archive_meta_xml(terms, [ext.data for ext in extensions], core_file),
            eml=build_eml(config.metadata, package_id=package_id(config), version=previous.version,
                          pub_date=published.date(), coverage=coverage, now=published))
    wanted = config.output.dwc_dp
    package_missing = wanted.enabled and previous is not None and not previous.dwc_dp  # switched on since
    if not force and previous is not None and changes is not None and changes.data_unchanged \
            and not changes.metadata_changed and not package_missing:
        # Nothing new to publish: the current version and its files stay as they are (a harvester's conditional
        # request keeps getting 304); what this run found is under validation/.
        report, html, amendments = write_run_files(None, unchanged=True)
        return result(previous.version, report, previous.records, archive=str(directory.archive(previous.version)),
                      current=str(directory.current_archive), quarantine=str(directory.quarantine(None)),
                      published=previous.published, report=str(html), amendments=amendments,
                      warnings=str(directory.warnings(None)), unchanged=True,
                      dwc_dp=str(directory.package(previous.version)) if previous.dwc_dp else None)

    version = directory.reserve()  # before anything of it is written: never handed out twice
    archive = directory.archive(version)
    package: PackageSummary | None = None
    try:
        eml = build_eml(config.metadata, package_id=package_id(config), version=version,
                        pub_date=published.date(), coverage=coverage, now=published)
        with atomic_path(archive) as temporary:
            written = write_archive(temporary, terms, _core_parts(catalog, batches, terms), eml,
                                    extensions=[ext.data for ext in extensions], core=core_file)
        atomic_write(directory.eml(version), eml)
        if wanted.enabled:  # the same published rows and EML as the archive; validated before it is written
            core_rows, extension_rows = package_tables(catalog, table, terms, [ext.name for ext in extensions])
            package = write_dataset_package(config.core, core_rows, extension_rows, eml, directory.package(version),
                                            schema_version=wanted.schema_version,
                                            package_id=config.metadata.doi or package_id(config), version=version,
                                            created=published)
        if package is None or package.valid:
            report, html, amendments = write_run_files(version)
            write_record_hashes(hash_files, directory.record_hashes(version))
    except BaseException:
        _discard(directory, version)
        raise
    if package is not None and not package.valid:
        # Publication policy: a package GBIF's validator would refuse is not published, and neither is the
        # archive it was derived with (the formats never disagree on what a version is): the version fails as a
        # gate does, the last good version stays current, and the report says why, table by table.
        _discard(directory, version)
        gates.append(Gate(name="dwc_dp", passed=False,
                          detail=f"the Darwin Core Data Package of version {version} is not valid: "
                                 f"{package.validation}"))
        report, html, _ = write_run_files(None)
        raise PublicationGateError(f"dwc_dp: the Darwin Core Data Package is not valid, so version {version} was "
                                   f"not published (its number is never reused):\n{package.validation}\n"
                                   f"Nothing was published; see {html}", report=report, html=html)
    # From the commit to the rebuilt feeds, a SIGTERM or Ctrl-C is held until the end (processes.critical_section):
    # a stop never leaves the current copies or the feeds a version behind the log. After a kill -9 there, the next
    # run's PublicationDirectory.recover() completes what is missing (and serve-archives answers from the log).
    with processes.critical_section():
        try:  # the commit point: the version exists from this rename of publications.json on
            directory.log.append(Publication(
                version=version, published=published.isoformat(), records=written.records,
                rejected=quality.rejected, archive=archive.name, sha256=sha256_of(archive), bytes=written.bytes,
                changes=changes.model_dump(mode="json") if changes is not None else None,
                eml=directory.eml(version).name,
                dwc_dp=package_entry(package, directory.package(version)) if package is not None else None))
        except BaseException:
            _discard(directory, version)
            raise
        done = result(version, report, written.records, archive=str(archive), current=str(directory.current_archive),
                      quarantine=str(directory.quarantine(version)), published=published.isoformat(),
                      report=str(html), amendments=amendments, warnings=str(directory.warnings(version)),
                      dwc_dp=str(directory.package(version)) if package is not None else None)
        # Derived from the log from here on: a failure leaves the version published, and the next run's
        # PublicationDirectory.recover() completes what is missing.
        problems = []
        for step, action in (("making it current", lambda: directory.promote(version)),
                             ("removing old versions", lambda: directory.retain(config.output.keep_versions))):
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - reported below, with the version that was published
                problems.append(f"{step} failed: {type(exc).__name__}: {exc}")
        try:  # the site indexes (rss.xml, dcat.ttl, inventory.json, index.html) are derived from the logs
            refresh_site(config.output.directory, config.output.base_url)
        except Exception:  # rebuilt by the next run; the version itself is committed
            log.warning("the version is published but the site indexes were not refreshed", exc_info=True)
    if problems:
        raise PublishedWithErrors(version, done, problems)
    return done
