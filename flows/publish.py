"""The Prefect flow that publishes one dataset: extract -> map -> find duplicates -> validate -> publish.

Wiring only: each task calls a step of flows/steps.py (load from the run catalog, call a stage, save to the
catalog). Tasks pass catalog entries, so Prefect's task results stay small whatever the size of the collection;
the mapping plan is built once per run, in the flow; every task that needs the config re-reads it from its path:
no secret is ever stored as a task parameter in Prefect's database.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.futures import as_completed, wait
from prefect.task_runners import ThreadPoolTaskRunner

from mobilise.catalog import Entry, RunCatalog
from mobilise.extractors.partitions import Partition
from mobilise.extractors.stage import plan_partitions
from mobilise.flows import steps
from mobilise.mappers.mapping import MappingPlan
from mobilise.publishers.publication import PublicationDirectory
from mobilise.publishers.publish import PublicationGateError, ValidatedBatch
from mobilise.settings import DatasetConfig, ExecutionConfig, load_config


@task(name="plan partitions")
def partitions_task(config_path: str) -> list[Partition | None]:
    return plan_partitions(load_config(config_path).source)


@task(name="extract")
def extract_task(config_path: str, plan: MappingPlan, catalog: RunCatalog,
                 partition: Partition | None = None) -> list[Entry]:
    return steps.extract(load_config(config_path), plan, catalog, partition)


@task(name="map")
def map_task(plan: MappingPlan, catalog: RunCatalog, extracted: list[Entry]) -> list[Entry]:
    return steps.map_batches(plan, catalog, extracted)


@task(name="find duplicate occurrenceIDs")
def duplicates_task(catalog: RunCatalog) -> Entry:
    return steps.find_duplicates(catalog)


@task(name="validate")
def validate_task(config_path: str, plan: MappingPlan, catalog: RunCatalog, mapped: list[Entry],
                  duplicates: Entry) -> list[ValidatedBatch]:
    return steps.validate_batches(load_config(config_path), plan, catalog, mapped, duplicates)


@task(name="publish")
def publish_task(config_path: str, plan: MappingPlan, catalog: RunCatalog, batches: list[ValidatedBatch],
                 dry_run: bool, accept_id_changes: bool = False, force: bool = False) -> dict:
    """Publish, and post the run report to the Prefect UI (from the report itself), whatever the gates said."""
    try:
        result = steps.publish(load_config(config_path), plan, catalog, batches, dry_run=dry_run,
                               accept_id_changes=accept_id_changes, force=force)
    except PublicationGateError as failure:
        if failure.report is not None:
            failure.report.post_artifacts(failure.html)
        raise
    result.run_report.post_artifacts(Path(result.report))
    return result.as_dict()


def task_runner(execution: ExecutionConfig, dask_address: str | None = None):
    """The task runner for the per-batch tasks: a Dask cluster (given, or local) or threads."""
    address = dask_address or execution.dask_address
    workers = execution.workers or os.cpu_count() or 1
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    if execution.runner == "dask":
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(cluster_class="distributed.LocalCluster",
                              cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    return ThreadPoolTaskRunner(max_workers=workers)


@contextmanager
def shared_prefect_api():
    """One Prefect API for the flow and the worker processes of a local Dask cluster.

    With no Prefect server configured, every process that runs a task would otherwise start a temporary API
    server of its own (10-20 s each, and the flow's API would never see the workers' task runs). One temporary
    server is started here when none is configured, and its address is handed to the workers through the
    environment they inherit.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    before = os.environ.get("PREFECT_API_URL")
    server = None
    url = PREFECT_API_URL.value()
    if not url:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        server.start()
        url = server.api_url
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
        if server is not None:
            _drain_prefect_queues()
            server.stop()


def _drain_prefect_queues() -> None:
    """Send the logs and events still queued before the temporary API stops: at exit they would be retried
    against a server that is gone, for over a minute."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=10)


def run_publication(config_path: str, dry_run: bool = False, dask_address: str | None = None,
                    runner: str | None = None, accept_id_changes: bool = False, force: bool = False) -> dict:
    """Run the flow with the task runner the config (or the caller) chooses; what `mobilise run` calls."""
    execution = load_config(config_path).execution
    if runner:
        execution = execution.model_copy(update={"runner": runner})
    configured = publish_dataset.with_options(task_runner=task_runner(execution, dask_address))
    with shared_prefect_api():
        return configured(config_path, dry_run=dry_run, accept_id_changes=accept_id_changes, force=force)


@contextmanager
def exclusive_run(config: DatasetConfig, keep_run_files: bool = False):
    """The run's catalog, under the dataset lock: what a killed run left is repaired first (the publication
    folder recovered, stale run folders purged), and the run folder is removed however the run ends."""
    logger = get_run_logger()
    directory = PublicationDirectory(config.publication_directory)
    with directory.lock(config.execution.lock_wait_seconds):
        for line in directory.recover(config.output.base_url):
            logger.warning("recovered from an earlier run: %s", line)
        for folder in RunCatalog.purge_stale(config.work_directory):
            logger.warning("removed the run folder %s of a run that is no longer alive", folder)
        catalog = RunCatalog.create(config)
        try:
            yield catalog
        finally:
            if not keep_run_files:
                catalog.remove()


@flow(name="publish_dataset", log_prints=True)
def publish_dataset(config_path: str, dry_run: bool = False, keep_run_files: bool = False,
                    accept_id_changes: bool = False, force: bool = False) -> dict:
    """Publish the dataset described by the YAML config at `config_path` as the next archive version.

    ``accept_id_changes`` lets this run through the identifier gate (gates.max_removed_ids_share); ``force``
    publishes a new version even when data and metadata are unchanged.

    With ``dry_run`` nothing is published: the records are extracted, mapped and validated, and the quarantine
    file and counts are produced, as a data manager wants before the real run.
    """
    config_path = str(Path(config_path).resolve())
    config = load_config(config_path)  # fail here, before any work, on a config error
    with exclusive_run(config, keep_run_files) as catalog:
        return _publish(config_path, config, catalog, dry_run, accept_id_changes, force)


def _publish(config_path: str, config: DatasetConfig, catalog: RunCatalog, dry_run: bool, accept_id_changes: bool,
             force: bool) -> dict:
    """The flow's stages on `catalog`, in the flow run."""
    logger = get_run_logger()
    plan = MappingPlan.from_config(config)  # once per run: every task is handed it
    logger.info("run folder %s; source %s", catalog.folder, config.source.safe_url)
    # Each partition of the source is extracted on a worker of its own; a partition's batches are mapped, and
    # later validated, together by one task as soon as it is extracted, while other partitions are still being
    # read. A source read as a whole has its batches mapped and validated by one task each, in parallel.
    partitions = partitions_task(config_path)
    extracted = [extract_task.submit(config_path, plan, catalog, partition) for partition in partitions]
    mapped_futures = [map_task.submit(plan, catalog, group)
                      for done in as_completed(extracted) for group in steps.task_groups(done.result(), partitions)]
    wait(mapped_futures)
    mapped = sorted(entry for future in mapped_futures for entry in future.result())
    duplicates = duplicates_task(catalog)
    validated_futures = [validate_task.submit(config_path, plan, catalog, group, duplicates)
                         for group in steps.task_groups(mapped, partitions)]
    batches = [batch for future in validated_futures for batch in future.result()]
    result = publish_task(config_path, plan, catalog, batches, dry_run, accept_id_changes, force)
    logger.info("%s: %s records published, %s rejected, version %s", result["dataset"], result["records"],
                result["rejected"], result["version"])
    return result
