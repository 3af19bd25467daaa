"""The Prefect flow that publishes one dataset: extract -> map -> find duplicates -> validate -> publish.

Wiring only: each task calls a step of flows/steps.py (load from the run catalog, call a stage, save to the
catalog). Tasks pass catalog entries, so Prefect's task results stay small whatever the size of the collection;
the mapping plan is built once per run, in the flow; every task that needs the config re-reads it from its path:
no secret is ever stored as a task parameter in Prefect's database.
"""
from __future__ import annotations

import gc
import logging
import os
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from prefect import flow, get_run_logger, task
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from mobilise import prefect_api, processes, progress, runners, timings
from mobilise.catalog import Entry, RunCatalog
from mobilise.extractors.base import Window, windowed
from mobilise.extractors.partitions import Partition
from mobilise.extractors.stage import plan_partitions
from mobilise.flows import incremental, steps
from mobilise.mappers.mapping import MappingPlan
from mobilise.publishers.publication import PublicationDirectory
from mobilise.publishers.publish import ExtensionTable, PublicationGateError, ValidatedBatch
from mobilise.settings import DatasetConfig, ExecutionConfig, SourceConfig, load_config

log = logging.getLogger("mobilise")

@task(name="plan partitions")
def partitions_task(config_path: str) -> list[Partition | None]:
    return plan_partitions(load_config(config_path).source)


@task(name="extract")
def extract_task(config_path: str, plan: MappingPlan, catalog: RunCatalog,
                 partition: Partition | None = None, window: Window | None = None) -> list[Entry]:
    return steps.extract(load_config(config_path), plan, catalog, partition, window)


@task(name="extract children")
def children_task(config_path: str, plan: MappingPlan, catalog: RunCatalog) -> list[Entry]:
    return steps.extract_children(load_config(config_path), plan, catalog)


@task(name="map")
def map_task(plan: MappingPlan, catalog: RunCatalog, extracted: list[Entry]) -> list[Entry]:
    return steps.map_batches(plan, catalog, extracted)


@task(name="find duplicate occurrenceIDs")
def duplicates_task(catalog: RunCatalog, table: str) -> Entry:
    return steps.find_duplicates(catalog, table)


@task(name="validate")
def validate_task(config_path: str, plan: MappingPlan, catalog: RunCatalog, mapped: list[Entry],
                  duplicates: Entry) -> list[ValidatedBatch]:
    return steps.validate_batches(load_config(config_path), plan, catalog, mapped, duplicates)


@task(name="merge into the staged records")
def merge_task(config_path: str, plan: MappingPlan, catalog: RunCatalog, batches: list[ValidatedBatch],
               run: incremental.Plan) -> incremental.Merged:
    return incremental.merge_batches(load_config(config_path), plan, catalog, batches, run)


@task(name="stage the published records")
def stage_task(config_path: str, catalog: RunCatalog, version: str, run: incremental.Plan,
               merged: incremental.Merged | None = None) -> dict | None:
    manifest = incremental.stage_run(load_config(config_path), catalog, version, run, merged)
    return manifest.model_dump() if manifest is not None else None


@task(name="extension")
def extension_task(config_path: str, name: str, catalog: RunCatalog) -> ExtensionTable:
    return steps.process_extension(load_config(config_path), name, catalog)


@task(name="publish")
def publish_task(config_path: str, plan: MappingPlan, catalog: RunCatalog, batches: list[ValidatedBatch],
                 dry_run: bool, accept_id_changes: bool = False, force: bool = False, window: bool = False,
                 table: str | None = None, deleted: int = 0, extensions: list[ExtensionTable] | None = None) -> dict:
    """Publish, and post the run report to the Prefect UI (from the report itself), whatever the gates said.

    With `window` (a backfill's records only) the gates that compare the count and the occurrenceIDs with the
    whole last version do not apply."""
    config = load_config(config_path)
    if window:
        config.gates = config.gates.model_copy(update={"max_drop_share": None, "max_removed_ids_share": None})
    try:
        result = steps.publish(config, plan, catalog, batches, dry_run=dry_run,
                               accept_id_changes=accept_id_changes, force=force, table=table, deleted=deleted,
                               extensions=extensions, window=window)
    except PublicationGateError as failure:
        if failure.report is not None:
            failure.report.post_artifacts(failure.html)
        raise
    result.run_report.post_artifacts(Path(result.report))
    return result.as_dict()


def task_runner(execution: ExecutionConfig, dask_address: str | None = None, source: SourceConfig | None = None):
    """The task runner for the per-batch tasks: a Dask cluster (given, or local) or threads; ``runner: auto``
    chooses by the size of `source` (mobilise/runners.py; no source: Dask)."""
    address = dask_address or execution.dask_address
    workers = execution.workers or os.cpu_count() or 1
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    if runners.chosen(execution, source) == "dask":
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(cluster_class=_local_cluster,
                              cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None, "preload": ["mobilise.processes"]})
    return ThreadsTaskRunner(max_workers=workers)


def _local_cluster(**kwargs):
    """A ``distributed.LocalCluster`` that, when the run is stopping, kills its worker processes at once.

    Its own close asks each worker to finish its task and kills it 4 s later; a task inside a slow query never
    finishes. The workers run in sessions of their own (``preload``: mobilise.processes.dask_setup), so a
    Ctrl-C or SIGTERM to the process group does not kill them under their nanny, which would start new ones.
    Their Arrow buffers come from malloc (``ARROW_DEFAULT_MEMORY_POOL=system``, unless the environment says
    otherwise), which gives freed memory back; mimalloc, Arrow's default, kept ~150 MB per worker after its
    tasks, for the same CPU (bench/results.md, issue 15 item 4).
    """
    import dask
    from distributed import LocalCluster

    class Cluster(LocalCluster):
        mobilise_local = True  # what _close_local_workers may close

        async def _close(self):
            if processes.stop_signal() is not None:
                for nanny in list(self.workers.values()):
                    nanny.close_gracefully(reason="the run is stopping")  # no new worker for the killed one
                    if getattr(nanny, "pid", None):
                        processes.kill(nanny.pid)
            await super()._close()

    with dask.config.set({"distributed.nanny.pre-spawn-environ.ARROW_DEFAULT_MEMORY_POOL": "system"}):
        return Cluster(**kwargs)


def _close_local_workers(timeout: float = 30.0) -> int:
    """Close the worker processes of the run's local Dask cluster (:func:`_local_cluster`), once every task is
    done: the write step runs in the flow's process, and idle workers would hold their memory through it (~0.5 GB
    each at 1M records; bench/results.md, issue 15 item 4). A cluster given by address is the user's and is left
    as it is; so is a threads runner. Returns the number of workers closed (0 when there was nothing to close)."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    cluster = getattr(getattr(context, "task_runner", None), "_cluster", None)
    if cluster is None or not getattr(cluster, "mobilise_local", False):
        return 0
    workers = len(cluster.workers)
    # the tasks' futures went with the flow's lists (some in reference cycles): once the scheduler has forgotten
    # their results, closing a worker loses nothing it would want to compute again
    gc.collect()
    deadline = time.monotonic() + 5.0
    while getattr(cluster.scheduler, "tasks", None) and time.monotonic() < deadline:
        time.sleep(0.05)
    cluster.scale(0)
    deadline = time.monotonic() + timeout
    while cluster.scheduler_info.get("workers") and time.monotonic() < deadline:
        time.sleep(0.1)
    return workers


class ThreadsTaskRunner(ThreadPoolTaskRunner):
    """Prefect's thread pool, except that stopping it does not wait for the tasks still running.

    Prefect's waits for them: an interrupted run whose extraction thread is inside a slow query would wait for the
    query. Threads cannot be killed; the command line exits without waiting for them (mobilise/cli.py).
    """

    def cancel_all(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        super().cancel_all()


@contextmanager
def shared_prefect_api():
    """One Prefect API for the flow and the worker processes of a local Dask cluster.

    With no Prefect server configured, every process that runs a task would otherwise start a temporary API
    server of its own (10-20 s each, and the flow's API would never see the workers' task runs). One temporary
    server is started here when none is configured (:mod:`mobilise.prefect_api`), and its address is handed to
    the workers through the environment they inherit.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    before = os.environ.get("PREFECT_API_URL")
    server = None
    url = PREFECT_API_URL.value()
    try:
        if not url:
            server = prefect_api.temporary_api()  # launched early by the command line, or not yet
            server.start()
            url = server.api_url
        else:
            prefect_api.discard_early()
        os.environ["PREFECT_API_URL"] = url
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
        if server is not None:
            if server.running:
                _drain_prefect_queues(timeout=2 if processes.stop_signal() else 10)
            server.stop()


def _drain_prefect_queues(timeout: float) -> None:
    """Send the logs and events still queued before the temporary API stops: at exit they would be retried
    against a server that is gone, for over a minute."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=timeout)


def _mark_cancelled(flow_run_name: str, message: str) -> None:
    """Set the flow run named `flow_run_name`, and its task runs still pending or running, to CANCELLED.

    Prefect marks a run stopped by SIGTERM as CRASHED or FAILED (or leaves it RUNNING when the signal came
    before its flow body), and its tasks on killed workers stay RUNNING. A flow run already COMPLETED is left so.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterId, FlowRunFilterName, TaskRunFilter,
                                                TaskRunFilterState, TaskRunFilterStateType)
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort
    from prefect.states import Cancelled

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[flow_run_name])),
                                     sort=FlowRunSort.ID_DESC, limit=10)
        for run in runs:
            if run.state is not None and run.state.is_completed():  # stopped after it had finished its work
                continue
            unfinished = TaskRunFilter(state=TaskRunFilterState(type=TaskRunFilterStateType(
                any_=[StateType.PENDING, StateType.RUNNING, StateType.SCHEDULED])))
            for task_run in client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                                                  task_run_filter=unfinished, sort=TaskRunSort.ID_DESC,
                                                  limit=200):
                client.set_task_run_state(task_run.id, Cancelled(message=message), force=True)
            client.set_flow_run_state(run.id, Cancelled(message=message), force=True)


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def run_publication(config_path: str, dry_run: bool = False, dask_address: str | None = None,
                    runner: str | None = None, accept_id_changes: bool = False, force: bool = False,
                    since: datetime | str | None = None, until: datetime | str | None = None,
                    mode: str = "full", reconcile_deletions: bool = False) -> dict:
    """Run the flow with the task runner the config (or the caller) chooses; what `mobilise run` calls.

    Inside :func:`mobilise.processes.stop_on_signals` a SIGTERM or SIGINT stops the run: the task runner stops
    (a local Dask cluster's workers are killed), the flow run is set to CANCELLED, the temporary API (if one was
    started) stops and the run folder is removed, in that order; :class:`~mobilise.processes.Interrupted` is
    raised. A failed run's folder is removed the same way, once its workers have stopped.
    """
    config = load_config(config_path)
    execution = config.execution
    if runner:
        execution = execution.model_copy(update={"runner": runner})
    name = f"{config.shortname}-{uuid.uuid4().hex[:8]}"  # to find the flow run if the run is stopped
    configured = publish_dataset.with_options(task_runner=task_runner(execution, dask_address, config.source),
                                               flow_run_name=name)
    started = datetime.now(timezone.utc)
    with processes.clean_up_on_failure(), shared_prefect_api():
        try:
            return configured(config_path, dry_run=dry_run, accept_id_changes=accept_id_changes, force=force,
                              since=_iso(since), until=_iso(until), mode=mode,
                              reconcile_deletions=reconcile_deletions)
        except BaseException as error:
            stopped = processes.stop_signal()
            if stopped is None:
                _record_failure(config, started, error)
                raise
            message = f"interrupted ({stopped.name}): the run was cancelled"
            try:
                _mark_cancelled(name, message)
            except Exception as failure:  # the run is stopping: say so, and go on
                log.warning("could not mark the flow run cancelled: %s", failure)
            if isinstance(error, processes.Interrupted):
                raise
            raise processes.Interrupted(stopped) from error


def _record_failure(config: DatasetConfig, started: datetime, error: BaseException) -> None:
    """Keep the failed run in the publication directory (PublicationDirectory.record_failure), its error in one
    line with the source's secrets masked, for `mobilise status`; a gate that stopped the run is in the validation
    report already, and a run refused by the dataset lock is another run's business."""
    from mobilise.extractors.base import mask_secrets
    from mobilise.publishers.publication import DatasetLockedError
    from mobilise.publishers.publish import PublicationGateError

    if isinstance(error, (PublicationGateError, DatasetLockedError)) or not isinstance(error, Exception):
        return
    first = (str(error).strip().splitlines() or [""])[0]
    try:
        PublicationDirectory(config.publication_directory).record_failure(
            started, mask_secrets(f"{type(error).__name__}: {first}".rstrip(": "), config.source))
    except OSError as failure:
        log.warning("could not record the failed run in %s: %s", config.publication_directory, failure)


@contextmanager
def exclusive_run(config: DatasetConfig, keep_run_files: bool = False):
    """The run's catalog, under the dataset lock: what a killed run left is repaired first (the publication
    folder recovered, stale run folders purged); the run folder is removed when the run ends, or, when it fails
    or is stopped, by :func:`mobilise.processes.on_failure` once its workers have stopped."""
    logger = get_run_logger()
    directory = PublicationDirectory(config.publication_directory)
    with directory.lock(config.execution.lock_wait_seconds):
        for line in directory.recover(config.output.base_url):
            logger.warning("recovered from an earlier run: %s", line)
        for folder in RunCatalog.purge_stale(config.work_directory):
            logger.warning("removed the run folder %s of a run that is no longer alive", folder)
        catalog = RunCatalog.create(config)
        processes.on_failure(catalog.remove)  # when the run fails or is stopped, once its workers have stopped
        yield catalog
        if not keep_run_files:
            catalog.remove()


@flow(name="publish_dataset", log_prints=True)
@processes.stops_on_signals  # Prefect's SIGTERM handler would let the body's tasks run on (run_publication)
def publish_dataset(config_path: str, dry_run: bool = False, keep_run_files: bool = False,
                    accept_id_changes: bool = False, force: bool = False, since: str | None = None,
                    until: str | None = None, mode: str = "full",
                    reconcile_deletions: bool = False) -> dict:
    """Publish the dataset described by the YAML config at `config_path` as the next archive version.

    ``accept_id_changes`` lets this run through the identifier gate (gates.max_removed_ids_share); ``force``
    publishes a new version even when data and metadata are unchanged.

    With ``dry_run`` nothing is published: the records are extracted, mapped and validated, and the quarantine
    file and counts are produced, as a data manager wants before the real run.

    ``mode="incremental"`` reads only the records whose ``source.modified_column`` is at or after the watermark
    of the last publication's staged records and merges them into those (flows/incremental.py); the archive's
    core file and meta.xml are those of a full run. ``reconcile_deletions`` also scans the source's key column
    and drops the staged records whose key is gone (implies incremental). ``since`` / ``until`` (a backfill; ISO
    8601 dates or date-times, ``until`` excluded) read only the records whose ``source.modified_column`` lies in
    that window (bound parameters: :class:`~mobilise.extractors.base.Window`) and merge them the same way; with
    ``dry_run`` alone they validate the window's records only. Each falls back to a full run, saying why, when a
    merge cannot give what a full run would (the result's ``full_because``). Raises ValueError for a value that
    is not a date or an unknown mode.
    """
    config_path = str(Path(config_path).resolve())
    config = load_config(config_path)  # fail here, before any work, on a config error
    window = Window.parse(since, until) if since is not None or until is not None else None
    windowed(config.source, window)  # a window without source.modified_column, or an empty one: fail now
    incremental.plan_run(config, mode, reconcile_deletions, window, dry_run)  # an unknown mode: fail now
    with exclusive_run(config, keep_run_files) as catalog:
        run = incremental.plan_run(config, mode, reconcile_deletions, window, dry_run)  # under the lock
        try:
            return _publish(config_path, config, catalog, dry_run, accept_id_changes, force, run)
        except incremental.NeedsFullRun as why:
            get_run_logger().warning("%s", why)
            full = RunCatalog.create(config)
            processes.on_failure(full.remove)
            try:
                return _publish(config_path, config, full, dry_run, accept_id_changes, force,
                                incremental.Plan("full", why=str(why)))
            finally:
                if not keep_run_files:
                    full.remove()


def _succeeded(futures: list) -> Iterator:
    """The results of `futures` as their tasks end, for progress; a task that failed is left out here, and its
    error raised where the results are collected, once every task has ended."""
    for done in as_completed(futures):
        try:
            result = done.result()
        except Exception:  # noqa: BLE001  (raised by the caller's own future.result())
            if processes.stop_signal() is not None:
                raise  # the run is stopping (processes.Interrupted, or what the stop made a task raise)
            continue
        yield result


def _validated(config_path: str, config: DatasetConfig, plan: MappingPlan, catalog: RunCatalog,
               window: Window | None, watched: "progress.RunProgress") -> list[ValidatedBatch]:
    """Extract (the records of `window`, or all), map, find duplicates and validate, in the flow run; progress is
    counted here, from the tasks' results as they come back (mobilise/progress.py)."""
    # Each partition of the source is extracted on a worker of its own; a partition's batches are mapped, and
    # later validated, together by one task as soon as it is extracted, while other partitions are still being
    # read. A source read as a whole has its batches mapped and validated by one task each, in parallel.
    partitions = partitions_task(config_path)
    # the child tables (children:) are read beside the core; every map task joins them, so maps wait for them
    children = children_task.submit(config_path, plan, catalog) if plan.children else None
    watched.start("read")
    extracted = [extract_task.submit(config_path, plan, catalog, partition, window) for partition in partitions]
    if children is not None:
        children.result()
    watched.start("mapped")  # each partition's batches are mapped as soon as it is read
    mapped_futures = []
    for done in as_completed(extracted):
        watched.add("read", catalog.rows(done.result()))
        mapped_futures += [map_task.submit(plan, catalog, group) for group in steps.task_groups(done.result(),
                                                                                                partitions)]
    watched.finish("read")
    for entries in _succeeded(mapped_futures):
        watched.add("mapped", catalog.rows(entries))
    mapped = sorted(entry for future in mapped_futures for entry in future.result())
    watched.finish("mapped")
    watched.start("validated")
    duplicates = duplicates_task(catalog, config.core)
    validated_futures = [validate_task.submit(config_path, plan, catalog, group, duplicates)
                         for group in steps.task_groups(mapped, partitions)]
    for validated in _succeeded(validated_futures):
        watched.add("validated", sum(batch.quality.records for batch in validated))
    batches = [batch for future in validated_futures for batch in future.result()]
    watched.finish("validated")
    return batches


def _publish(config_path: str, config: DatasetConfig, catalog: RunCatalog, dry_run: bool, accept_id_changes: bool,
             force: bool, run: incremental.Plan) -> dict:
    """The flow's stages on `catalog`, in the flow run: a full run, a window's dry run, or a run merged into the
    staged records (`run`); the records published are staged after the commit."""
    logger = get_run_logger()
    plan = MappingPlan.from_config(config)  # once per run: every task is handed it
    logger.info("run folder %s; source %s", catalog.folder, config.source.safe_url)
    if run.why:
        logger.warning("%s: %s", config.shortname, run.why)
    if run.window is not None:
        logger.info("%s run: the records with %s", run.kind, run.window.describe(config.source.modified_column))
    watched = progress.for_run(config.shortname)
    batches = _validated(config_path, config, plan, catalog, run.window, watched)
    # each extension once the core is validated (its rows are joined with the core's records), in parallel
    extension_futures = [extension_task.submit(config_path, name, catalog) for name in config.extensions]
    extensions = [future.result() for future in extension_futures]
    if closed := _close_local_workers():  # every task is done: the rest runs here
        logger.info("closed the local Dask cluster's %d worker processes before writing", closed)
    merged = None
    if run.merges:
        merged = merge_task(config_path, plan, catalog, batches, run)
        logger.info("merged into version %s's staged records: %s", run.manifest.version, merged.counts)
    published = merged.batches if merged else batches
    watched.publishable(sum(batch.quality.published for batch in published))
    watched.start("written")
    result = publish_task(config_path, plan, catalog, published, dry_run,
                          accept_id_changes, force, run.kind == "window",
                          table=incremental.MERGED if merged else config.core,
                          deleted=merged.counts["deleted"] if merged else 0, extensions=extensions)
    wrote = result["version"] is not None and not result.get("unchanged")
    watched.add("written", result["records"] if wrote else 0)
    watched.finish("written", "" if wrote else "unchanged: nothing new written" if result.get("unchanged")
                   else "dry run: nothing written")
    result.update(mode=run.kind, full_because=run.why or None,
                  merge=merged.counts if merged else None, stages=timings.run_stages(catalog))
    logger.info("stages, wall/CPU seconds summed over batches and processes: %s", timings.describe(result["stages"]))
    if result["version"] is not None and not dry_run and run.kind != "window":
        # an unchanged run's records are the current version's: staged again with the new watermark
        try:
            stage_task(config_path, catalog, result["version"], run, merged)
        except Exception as failure:  # noqa: BLE001 - the version is published; the next run is a full one
            logger.warning("%s: version %s is published, but its records were not staged (%s: %s): the next "
                           "incremental run will be a full one", config.shortname, result["version"],
                           type(failure).__name__, failure)
    if result.get("unchanged"):
        logger.info("%s: unchanged since version %s, nothing new published (%s records, %s rejected)",
                    result["dataset"], result["version"], result["records"], result["rejected"])
    elif result["version"] is None:
        logger.info("%s: validated, nothing published: %s records publishable, %s rejected", result["dataset"],
                    result["records"], result["rejected"])
    else:
        logger.info("%s: %s records published, %s rejected, version %s", result["dataset"], result["records"],
                    result["rejected"], result["version"])
    return result
