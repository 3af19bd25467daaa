"""The steps of a run, wiring only: each loads its inputs from the run catalog, calls a stage function and saves
what it returns to the catalog (Kedro's runner model). The Prefect tasks (flows/publish.py) call these, and so do
bench/pipeline.py and the tests, so a run is the same with or without Prefect.

Steps take and return catalog entries (:class:`mobilise.catalog.Entry`), small and picklable, never frames; the
mapping plan is built once per run by the caller and handed to every step.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise import timings
from mobilise.caches import log_cache_stats
from mobilise.catalog import CORE, Entry, RunCatalog, batch_name
from mobilise.extensions import extension
from mobilise.extractors.base import Window, windowed
from mobilise.extractors.partitions import Partition
from mobilise.extractors.stage import extract_partition
from mobilise.flags import severities
from mobilise.mappers.children import check_child_columns, child_table, join_children
from mobilise.mappers.mapping import ISSUE_SCHEMA, MappingPlan, map_records
from mobilise.mappers.columns import as_text
from mobilise.mappers.rules import RuleOutcome, withhold_source
from mobilise.processes import release_memory
from mobilise.publishers.changes import extension_hashes, extension_row_hashes, record_hashes
from mobilise.publishers.dwca import core_terms, deflate_rows
from mobilise.publishers.eml import batch_coverage
from mobilise.publishers.publish import ExtensionTable, RunResult, ValidatedBatch
from mobilise.publishers.publish import publish as publish_stage
from mobilise.publishers.report import batch_fragment
from mobilise.settings import DatasetConfig
from mobilise.terms import term_iri
from mobilise.validators.dataset import MEMORY_LIMIT, duplicate_ids, duplicate_triplets, triplet_keys
from mobilise.validators.events import dangling_parents, event_issues
from mobilise.validators.integrity import (COREID, EXCLUDED, CoreIds, JudgedRows, core_keys, integrity_issues,
                                           judge, judge_extension, key_values, resolve_core_ids, without_rows)
from mobilise.validators.quality import (QualitySummary, quarantine_rows, quarantine_table, records_per,
                                         warnings_table)
from mobilise.validators.quality import validate as validate_stage
from mobilise.validators.registry import CheckContext, forget_batches


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
    with timings.step(catalog, f"extract-{batch_name(0, number)}", "extract", config.core):
        entries = extract_partition(windowed(config.source, window), partition,
                                    lambda n, table: catalog.save(Entry("extracted", config.core,
                                                                        batch_name(n, number)), table),
                                    plan.check_columns)
    release_memory()  # the batches are saved: the worker gives their memory back (mobilise/processes.py)
    return entries


def extract_children(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog) -> list[Entry]:
    """extracted/<batch> of table ``child:<name>`` for each child table the mapping reads (config ``children:``,
    read whole from its own source or the core's database); the first batch of each is checked for the columns
    its joins read (mappers/children.py ChildJoinError otherwise). Must run before map_batches."""
    entries: list[Entry] = []
    with timings.step(catalog, "extract-children", "extract", config.core):
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
    with timings.step(catalog, f"map-{extracted[0].batch if extracted else ''}", "map",
                      extracted[0].table if extracted else CORE):
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
                if outcome.excluded.num_rows and plan.record_key:  # their extension rows are excluded with them
                    catalog.save(entry.of("excluded_keys"), excluded_keys(source, outcome, list(plan.record_key)))
                if outcome.excluded.num_rows or outcome.sensitive.any():
                    # the un-joined source, so that extracted/<batch> keeps the source's columns
                    catalog.save(entry, withhold_source(source.take(outcome.kept), outcome.sensitive,
                                                        plan.sensitive_columns))
                catalog.save(entry.of("mapping_issues"), outcome.issues)
                mapped.append(catalog.save(entry.of("mapped"), outcome.table))
        finally:
            if connection is not None:
                connection.close()
    release_memory()
    return mapped


def excluded_keys(source: pa.Table, outcome: RuleOutcome, key: list[str]) -> pa.Table:
    """The records of `source` (a core batch as extracted) that the rules excluded (`outcome`), as core_keys rows
    (validators/integrity.py): their `key` columns' values, their occurrenceID and the rule that excluded each."""
    rows = np.setdiff1d(np.arange(source.num_rows), outcome.kept)
    excluded = source.take(pa.array(rows, pa.int64()))
    return core_keys(key_values(excluded, key), outcome.excluded["occurrenceID"].combine_chunks(),
                     np.zeros(rows.size, dtype=bool), outcome.excluded["rule"].combine_chunks())


def find_duplicates(catalog: RunCatalog, table: str = CORE) -> Entry:
    """mapped/* of `table` -> duplicates (the occurrenceIDs more than one record uses; of an Event core, ``event``,
    the eventIDs) and duplicate_triplets (the institutionCode + collectionCode + catalogNumber more than one record
    uses), over the whole table; of an Event core also dangling_parents (validators.events); returns the
    duplicates entry (its ``.of("duplicate_triplets")`` is the other)."""
    with timings.step(catalog, "duplicates", "duplicates", table):
        files = catalog.files(catalog.entries("mapped", table))
        if table == "event":
            catalog.save(Entry("dangling_parents", table), dangling_parents(files, catalog.scratch("duckdb")))
        catalog.save(Entry("duplicate_triplets", table), duplicate_triplets(files, catalog.scratch("duckdb")))
        return catalog.save(Entry("duplicates", table), duplicate_ids(
            files, catalog.scratch("duckdb"), "eventID" if table == "event" else "occurrenceID"))


def validate_batches(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog, mapped: list[Entry],
                     duplicates: Entry, today: date | None = None) -> list[ValidatedBatch]:
    """mapped/<batch>, mapping_issues/<batch> (and extracted/<batch>: its key columns, and all of it when records
    are rejected) -> valid, issues, quarantine, warnings, amendments (when any) and archive_parts of each batch;
    returns what the publish step needs. An Event core's batches: :func:`validate_events`."""
    with timings.step(catalog, f"validate-{mapped[0].batch if mapped else ''}", "validate", config.core):
        if config.core == "event":
            return validate_events(config, plan, catalog, mapped, duplicates)
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
            with timings.stage("write"):
                part = deflate_rows(checked.valid, terms, catalog.path(entry.of("archive_parts")))
            # a stable hash per published record: what the next version's change summary compares
            catalog.save(entry.of("record_hashes"), record_hashes(checked.valid, terms))
            if config.extensions:  # every core record's key, id and fate: what extension rows are joined with
                published = np.ones(checked.table.num_rows, dtype=bool)
                published[checked.rejected] = False
                catalog.save(entry.of("core_keys"), core_keys(
                    key_values(catalog.load(extracted, columns=config.core_key), config.core_key),
                    checked.table[config.core_id].combine_chunks(), published))
            results.append(ValidatedBatch(
                valid=valid, quality=checked.quality, coverage=batch_coverage(checked.valid), part=part,
                fragment=batch_fragment(checked.valid, checked.issues, checked.table["occurrenceID"].combine_chunks())))
        log_cache_stats()  # this process's value caches so far: bounded, and how well they serve (mobilise/caches.py)
    forget_batches()  # the checks' memos of the last batch: an idle worker holds no batch
    release_memory()
    return results


def validate_events(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog, mapped: list[Entry],
                    duplicates: Entry) -> list[ValidatedBatch]:
    """The validate step of an Event core: mapped/<batch> and mapping_issues/<batch> -> valid, issues, quarantine,
    warnings, archive_parts, record_hashes and core_keys of each batch, judged by validators.events (EVENT_ID_MISSING,
    EVENT_ID_NOT_UNIQUE, PARENT_EVENT_ID_DANGLING over the whole table) and the mapping's flags; the occurrence
    record checks are for the occurrence extension's rows."""
    duplicate_values = catalog.load(duplicates)["eventID"].combine_chunks()
    dangling = catalog.load(duplicates.of("dangling_parents"))["parentEventID"].combine_chunks()
    severity = severities(config.validation.severity)
    results = []
    for entry in mapped:
        table = catalog.load(entry)
        found = pa.concat_tables([catalog.load(entry.of("mapping_issues")).cast(ISSUE_SCHEMA),
                                  event_issues(table, duplicate_values, dangling)])
        judged = judge(table, found, severity)
        valid_rows = judged.table.filter(pa.array(judged.publishable))
        valid = catalog.save(entry.of("valid"), valid_rows)
        catalog.save(entry.of("issues"), judged.issues)
        extracted = entry.of("extracted")
        source = catalog.load(extracted) if judged.rejected.size else catalog.schema(extracted).empty_table()
        catalog.save(entry.of("quarantine"), quarantine_rows(judged.table, judged.issues, judged.rejected, source))
        keys = list(plan.sources["eventID"].columns)  # the source columns the eventID is made from
        catalog.save(entry.of("warnings"), warnings_table(judged, catalog.load(extracted, columns=keys), "eventID"))
        terms = core_terms(plan.terms, judged.table.column_names)
        part = deflate_rows(valid_rows, terms, catalog.path(entry.of("archive_parts")))
        # hashed as an occurrence core's records are, the eventID in the id's place (publishers.changes)
        as_id = {"eventID": "occurrenceID"}
        hashed = valid_rows.rename_columns([as_id.get(c, c) for c in valid_rows.column_names])
        catalog.save(entry.of("record_hashes"), record_hashes(hashed, [as_id.get(t, t) for t in terms]))
        if config.extensions:
            catalog.save(entry.of("core_keys"), core_keys(
                key_values(catalog.load(extracted, columns=config.core_key), config.core_key),
                judged.table["eventID"].combine_chunks(), judged.publishable))
        flags = judged.issues["flag"].to_pylist()
        quality = QualitySummary(records=table.num_rows, published=valid_rows.num_rows,
                                 rejected=int(judged.rejected.size), flags=records_per(judged.issues, "flag"),
                                 flagged=records_per(judged.issues, "severity"),
                                 severity_of=dict(zip(flags, judged.issues["severity"].to_pylist())))
        if catalog.exists(entry.of("excluded")):  # the events the rules kept out of this batch, counted
            quality.count_excluded(catalog.load(entry.of("excluded"), columns=["rule"]))
        results.append(ValidatedBatch(
            valid=valid, quality=quality, coverage=batch_coverage(valid_rows), part=part,
            fragment=batch_fragment(valid_rows, judged.issues, judged.table["eventID"].combine_chunks())))
    return results


def process_extension(config: DatasetConfig, name: str, catalog: RunCatalog,
                      today: date | None = None) -> ExtensionTable:
    """Extension `name` of the config, once the core is validated (its core_keys saved): extracted/<batch> of the
    extension's source, mapped/ and mapping_issues/ with its own mapping plan, then judged
    (validators.integrity: its row checks and referential integrity against the core's records, joined in DuckDB
    over core_keys) into valid/, issues/, quarantine/ (reasons, the row's terms and its source columns), warnings/
    (published rows with a warning or info flag), archive_parts/ (coreid first) and record_hashes/ (one hash per
    core record of its rows); the rows whose core record the rules excluded (the core's excluded_keys) go to
    excluded/ with the rule, out of extracted/ and of the counts' published and quarantined; returns its counts
    and archive parts. The occurrence extension of an Event core
    gets the occurrence record checks (validators.quality.validate, with its occurrenceIDs' duplicates over the
    whole extension) instead of check_extension_rows."""
    with timings.step(catalog, f"extension-{name}", "extensions", name):
        plan = MappingPlan.for_extension(config, name)
        definition = extension(name)
        source = config.extensions[name].source_of(config.source)
        extracted = extract_partition(source, None, lambda n, table: catalog.save(Entry("extracted", name,
                                                                                         batch_name(n)), table),
                                      plan.check_columns)
        mapped = map_batches(plan, catalog, extracted)
        # the core's records, and those the rules excluded (their rows are excluded with them, not orphaned)
        core_key_files = catalog.files(catalog.entries("core_keys", config.core)
                                       + catalog.entries("excluded_keys", config.core))
        if name == "occurrence":
            duplicate_values = catalog.load(find_duplicates(catalog, name))["occurrenceID"].combine_chunks()
        severity = severities(config.validation.severity)
        context = CheckContext(today=today or date.today(), earliest_year=config.validation.earliest_year,
                               dataset_license=config.metadata.licence.info.url)
        columns = [COREID] + plan.terms
        result = ExtensionTable(name=name, location=f"{name}.txt", row_type=definition.row_type, columns=columns,
                                iris=[None] + [definition.terms[term] for term in plan.terms])
        row_hashes = []
        for entry in mapped:
            table = catalog.load(entry)
            result.extracted += table.num_rows
            mapping_issues = catalog.load(entry.of("mapping_issues"))
            keys = key_values(catalog.load(entry.of("extracted"), columns=plan.key), plan.key)
            core = resolve_core_ids(keys, core_key_files, catalog.scratch("duckdb"))
            ids, status = core.ids, core.status
            if (status == EXCLUDED).any():  # rows of core records the rules excluded: excluded with them
                rows = np.flatnonzero(status == EXCLUDED)
                extracted = catalog.load(entry.of("extracted"))
                catalog.save(entry.of("excluded"), excluded_rows(extracted, core, rows, plan))
                kept = pa.array(np.flatnonzero(status != EXCLUDED), pa.int64())
                catalog.save(entry.of("extracted"), extracted.take(kept))  # row numbers stay those of the table
                table, mapping_issues = without_rows(rows, table, mapping_issues)
                keys, ids, status = keys.take(kept), ids.take(kept), status[kept.to_numpy()]
                result.excluded += int(rows.size)
            if name == "occurrence":
                judged = _judge_occurrences(config, table, mapping_issues, ids, keys, status,
                                            replace(context, duplicate_ids=duplicate_values), severity)
            else:
                judged = judge_extension(name, table, mapping_issues, ids, keys, status,
                                         context, severity, config.validation.dissco)
            valid = judged.table.filter(pa.array(judged.publishable))
            catalog.save(entry.of("valid"), valid)
            catalog.save(entry.of("issues"), judged.issues)
            source_rows = catalog.load(entry.of("extracted"))  # without the excluded rows: row numbers match
            catalog.save(entry.of("quarantine"), quarantine_rows(
                judged.table, judged.issues, judged.rejected,
                source_rows if judged.rejected.size else source_rows.schema.empty_table()))
            # the published rows with a warning or info flag, with their source columns to find them by
            catalog.save(entry.of("warnings"), warnings_table(judged, source_rows, COREID))
            result.parts.append(deflate_rows(valid, columns, catalog.path(entry.of("archive_parts"))))
            row_hashes.append(catalog.save(Entry("record_hashes", f"{name}.rows", entry.batch),
                                           extension_row_hashes(valid, name)))
            result.published += valid.num_rows
            result.quarantined += int(judged.rejected.size)
            for flag, rows in records_per(judged.issues, "flag").items():
                result.flags[flag] = result.flags.get(flag, 0) + rows
        catalog.save(Entry("record_hashes", name, batch_name(0)),
                     extension_hashes(catalog.files(row_hashes), catalog.scratch("duckdb")))
        # terms the validation added to some batch (the occurrence checks' dynamicProperties note of removed values,
        # accepted amendments): a column of the data file, empty in the batches without it, so nothing is lost
        added = sorted({column for entry in mapped for column in catalog.schema(entry.of("valid")).names}
                       - set(columns))
        if added:
            result.columns = columns + added
            result.iris += [definition.terms[term] if term in definition.terms else term_iri(term) for term in added]
            result.parts = []
            for entry in mapped:
                valid = catalog.load(entry.of("valid"))
                for term in result.columns:
                    if term not in valid.column_names:
                        valid = valid.append_column(term, pa.nulls(valid.num_rows, pa.string()))
                result.parts.append(deflate_rows(valid, result.columns, catalog.path(entry.of("archive_parts"))))
        return result


def excluded_rows(extracted: pa.Table, core: CoreIds, rows: np.ndarray, plan: MappingPlan) -> pa.Table:
    """The extension rows `rows` of a batch (`extracted`: its source rows) whose core record the rules excluded
    (`core`, :func:`resolve_core_ids`), as the excluded file lists them: ``rule``, ``coreid`` (the excluded core
    record's id) and, as ``source.<column>`` text, the columns that identify the row (its core key, the columns
    of its ``...ID`` terms, those no term reads), never the values it would have published: a record not for
    publication does not leave through its images' links or its measurements (the file is served with the
    archive)."""
    published = {column for term, source in plan.sources.items() if not term.endswith("ID")
                 for column in source.columns} - set(plan.key)
    taken = pa.array(rows, pa.int64())
    columns = {"rule": core.rules.take(taken), COREID: core.ids.take(taken)}
    for name in extracted.column_names:
        if name not in published:
            columns[f"source.{name}"] = as_text(extracted[name].combine_chunks().take(taken))
    return pa.table(columns)


def _judge_occurrences(config: DatasetConfig, table: pa.Table, mapping_issues: pa.Table, ids: pa.Array,
                       keys: pa.Array, status: np.ndarray, context: CheckContext, severity: dict[str, str]
                       ) -> JudgedRows:
    """One batch of an Event core's occurrence extension: the occurrence record checks (validators.quality
    validate, as for an occurrence core) with the referential integrity issues among the mapping's."""
    found = pa.concat_tables([mapping_issues.cast(ISSUE_SCHEMA), integrity_issues(keys, status)])
    checked = validate_stage(table, found, context, config.validation, severity,
                             dataset_license=config.metadata.licence.info.url)
    # A term the event gives (eventDate, the location...) and the row does not map is the event's: GBIF reads the
    # occurrence with its event's terms, so a flag for it missing here (RECORDED_DATE_MISSING on every row) is no
    # defect of the row. Any other flag on it comes from the event core's own values and checks.
    events_terms = sorted(set(config.mapping) - set(table.column_names))
    issues = checked.issues.filter(pc.invert(pc.is_in(checked.issues["term"], pa.array(events_terms, pa.string()))))
    publishable = np.ones(checked.table.num_rows, dtype=bool)
    publishable[issues["row"].filter(pc.equal(issues["severity"], "error")).to_numpy()] = False
    return JudgedRows(checked.table.add_column(0, COREID, ids), publishable, issues)


def publish(config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog, batches: list[ValidatedBatch],
            dry_run: bool = False, accept_id_changes: bool = False, force: bool = False, table: str | None = None,
            deleted: int = 0, extensions: list[ExtensionTable] | None = None, window: bool = False) -> RunResult:
    """valid, archive_parts, quarantine, amendments and record_hashes of every batch (of `table`: the core,
    config.core, or an incremental run's merged records) and of every extension -> the publication directory (in
    batch order, whatever order the validate tasks finished in)."""
    with timings.step(catalog, "publish", "write", table or config.core):
        return publish_stage(config, catalog, sorted(batches, key=lambda b: b.valid), plan.terms,
                             dry_run=dry_run, table=table or config.core, accept_id_changes=accept_id_changes,
                             force=force, deleted=deleted, extensions=extensions or [], window=window)
