"""The steps of a run, wiring only: each loads its inputs from the run catalog, calls a stage function and saves
what it returns to the catalog (Kedro's runner model). The Prefect tasks (flows/publish.py) call these, and so do
bench/pipeline.py and the tests, so a run is the same with or without Prefect.

Steps take and return catalog entries (:class:`mobilise.catalog.Entry`), small and picklable, never frames; the
mapping plan is built once per run by the caller and handed to every step.
"""
from __future__ import annotations

from datetime import date

import duckdb

from mobilise.catalog import CORE, Entry, RunCatalog, batch_name
from mobilise.extractors.base import Window, windowed
from mobilise.extractors.partitions import Partition
from mobilise.extractors.stage import extract_partition
from mobilise.flags import severities
from mobilise.mappers.children import check_child_columns, child_table, join_children
from mobilise.mappers.mapping import MappingPlan, map_records
from mobilise.mappers.rules import withhold_source
from mobilise.publishers.changes import record_hashes
from mobilise.publishers.dwca import core_terms, deflate_rows
from mobilise.publishers.eml import batch_coverage
from mobilise.publishers.publish import RunResult, ValidatedBatch
from mobilise.publishers.publish import publish as publish_stage
from mobilise.publishers.report import batch_fragment
from mobilise.settings import DatasetConfig
from mobilise.validators.dataset import MEMORY_LIMIT, duplicate_ids, duplicate_triplets, triplet_keys
from mobilise.validators.quality import quarantine_table, warnings_table
from mobilise.validators.quality import validate as validate_stage
from mobilise.validators.registry import CheckContext


def task_groups(entries: list[Entry], partitions: list[Partition | None]) -> list[list[Entry]]:
    """The batches one map or validate task takes: a partition's batches together (each task costs the
    orchestrator a few hundred milliseconds), or one batch per task when the source is read as a whole."""
    if partitions == [None]:
        return [[entry] for entry in entries]
    groups: dict[str, list[Entry]] = {}
    for entry in sorted(entries):
        groups.setdefault(entry.partition, []).append(entry)
    return list(groups.values())


def extract(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog,
            partition: Partition | None = None, window: Window | None = None) -> list[Entry]:
    """extracted/<batch> of the core for each batch of the source (or of one partition of it; of the records
    modified in `window`, a backfill's, when given)."""
    number = partition.number if partition is not None else None
    # a retried partition is read again from its first batch, whose entries replace the failed attempt's
    return extract_partition(windowed(config.source, window), partition,
                             lambda n, table: catalog.save(Entry("extracted", CORE, batch_name(n, number)), table),
                             plan.check_columns)


def extract_children(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog) -> list[Entry]:
    """extracted/<batch> of table ``child:<name>`` for each child table the mapping reads (config ``children:``,
    read whole from its own source or the core's database); the first batch of each is checked for the columns
    its joins read (mappers/children.py ChildJoinError otherwise). Must run before map_batches."""
    entries: list[Entry] = []
    for name in dict.fromkeys(join.child for join in plan.children):
        source = config.children[name].source_of(config.source)
        entries += extract_partition(
            source, None, lambda n, table, name=name: catalog.save(Entry("extracted", child_table(name),
                                                                         batch_name(n)), table),
            lambda columns, name=name: check_child_columns(name, plan.children, columns))
    return entries


def map_batches(plan: MappingPlan, catalog: RunCatalog, extracted: list[Entry]) -> list[Entry]:
    """extracted/<batch> (with the child columns the mapping reads joined in: mappers/children.py, over the
    children's extracted batches) -> mapped/<batch>, mapping_issues/<batch> and excluded/<batch> (the records the
    rules exclude; extracted/<batch> is then saved again with the kept records only, so that row numbers stay those
    of mapped/<batch>, and without the source values of sensitive records that feed hidden terms, so that the
    quarantine never shows them); returns the mapped entries."""
    files = {join.child: catalog.files(catalog.entries("extracted", child_table(join.child)))
             for join in plan.children}
    connection = duckdb.connect(config={"memory_limit": MEMORY_LIMIT,
                                        "temp_directory": str(catalog.scratch("duckdb"))}) if files else None
    mapped = []
    try:
        for entry in extracted:
            source = catalog.load(entry)
            joined = source
            if connection is not None:
                joined = join_children(source, plan.core_key, plan.children, files, connection)
            outcome = map_records(joined, plan)
            # a map run again over a batch it filtered finds nothing to exclude: it keeps the first run's exclusions
            if outcome.excluded.num_rows or not catalog.exists(entry.of("excluded")):
                catalog.save(entry.of("excluded"), outcome.excluded)
            if outcome.excluded.num_rows or outcome.sensitive.any():
                # the un-joined source, so that extracted/<batch> keeps the source's columns
                catalog.save(entry, withhold_source(source.take(outcome.kept), outcome.sensitive,
                                                    plan.sensitive_columns))
            catalog.save(entry.of("mapping_issues"), outcome.issues)
            mapped.append(catalog.save(entry.of("mapped"), outcome.table))
    finally:
        if connection is not None:
            connection.close()
    return mapped


def find_duplicates(catalog: RunCatalog, table: str = CORE) -> Entry:
    """mapped/* of `table` -> duplicates (the occurrenceIDs more than one record uses) and duplicate_triplets (the
    institutionCode + collectionCode + catalogNumber more than one record uses), over the whole table; returns
    the duplicates entry (its ``.of("duplicate_triplets")`` is the other)."""
    files = catalog.files(catalog.entries("mapped", table))
    catalog.save(Entry("duplicate_triplets", table), duplicate_triplets(files, catalog.scratch("duckdb")))
    return catalog.save(Entry("duplicates", table), duplicate_ids(files, catalog.scratch("duckdb")))


def validate_batches(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog, mapped: list[Entry],
                     duplicates: Entry, today: date | None = None) -> list[ValidatedBatch]:
    """mapped/<batch>, mapping_issues/<batch> (and extracted/<batch>: its key columns, and all of it when records
    are rejected) -> valid, issues, quarantine, warnings, amendments (when any) and archive_parts of each batch;
    returns what the publish step needs."""
    duplicate_values = catalog.load(duplicates)["occurrenceID"].combine_chunks()
    duplicated_triplets = triplet_keys(catalog.load(duplicates.of("duplicate_triplets")))
    severity = severities(config.validation.severity)
    results = []
    for entry in mapped:
        context = CheckContext(duplicate_ids=duplicate_values, duplicate_triplets=duplicated_triplets,
                               today=today or date.today(),
                               earliest_year=config.validation.earliest_year)
        checked = validate_stage(catalog.load(entry), catalog.load(entry.of("mapping_issues")), context,
                                 config.validation, severity, dataset_license=config.metadata.licence.info.url)
        if catalog.exists(entry.of("excluded")):  # the records the rules kept out of this batch, counted
            checked.quality.count_excluded(catalog.load(entry.of("excluded"), columns=["rule"]))
        valid = catalog.save(entry.of("valid"), checked.valid)
        catalog.save(entry.of("issues"), checked.issues)
        extracted = entry.of("extracted")
        # the source columns are only needed for rejected records; an empty table keeps the quarantine's columns
        source = catalog.load(extracted) if checked.rejected.size else catalog.schema(extracted).empty_table()
        catalog.save(entry.of("quarantine"), quarantine_table(checked, source))
        # the source columns the occurrenceID is made from, so a data manager finds a warned record in the source
        keys = list(plan.sources["occurrenceID"].columns) if "occurrenceID" in plan.sources else []
        catalog.save(entry.of("warnings"), warnings_table(checked, catalog.load(extracted, columns=keys)))
        if checked.amendments is not None:
            catalog.save(entry.of("amendments"), checked.amendments)
        # the archive's part for this batch, deflated here so that workers share the compression
        terms = core_terms(plan.terms, checked.table.column_names)
        part = deflate_rows(checked.valid, terms, catalog.path(entry.of("archive_parts")))
        # a stable hash per published record: what the next version's change summary compares
        catalog.save(entry.of("record_hashes"), record_hashes(checked.valid, terms))
        results.append(ValidatedBatch(
            valid=valid, quality=checked.quality, coverage=batch_coverage(checked.valid), part=part,
            fragment=batch_fragment(checked.valid, checked.issues, checked.table["occurrenceID"].combine_chunks())))
    return results


def publish(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog, batches: list[ValidatedBatch],
            dry_run: bool = False, accept_id_changes: bool = False, force: bool = False, table: str = CORE,
            deleted: int = 0) -> RunResult:
    """valid, archive_parts, quarantine, amendments and record_hashes of every batch (of `table`: the core, or an
    incremental run's merged records) -> the publication directory (in batch order, whatever order the validate
    tasks finished in)."""
    return publish_stage(config, catalog, sorted(batches, key=lambda b: b.valid), plan.terms, dry_run=dry_run,
                         table=table, accept_id_changes=accept_id_changes, force=force, deleted=deleted)
