"""Prefect deployments of the flow ``publish_dataset``, one per dataset config of a folder: what `mobilise serve`
registers and serves.

Each deployment is named ``publish_dataset/<shortname>``; its one default parameter is the config's absolute path
(``config_path``: never the config's contents, so no secret reaches Prefect's database), its schedule is the
config's ``schedule:`` section (mobilise/settings.py ``ScheduleConfig``), and it is tagged
``mobilise:<absolute folder>``, so that serving a folder again updates its deployments in place (Prefect upserts
them by name and replaces their schedules) and deletes those whose config is no longer in the folder, and only
those: deployments served from other folders, or created otherwise, are left alone.
"""
from __future__ import annotations

import datetime
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from mobilise.flows.operations import dataset_configs
from mobilise.settings import ConfigError, DatasetConfig, ScheduleConfig, load_config

log = logging.getLogger("mobilise")

FLOW_NAME = "publish_dataset"
TAG_PREFIX = "mobilise:"
#: what an interval schedule counts from (midnight in the schedule's time zone): every restart of `mobilise serve`
#: keeps the same run times (``interval: PT6H`` runs at 00:00, 06:00, 12:00 and 18:00)
INTERVAL_ANCHOR = datetime.datetime(2000, 1, 1)
NO_SERVER = ("mobilise serve needs a Prefect server: PREFECT_API_URL is not set. Start one and point Prefect at it:\n"
             "  prefect server start                                   # in another terminal; UI at "
             "http://127.0.0.1:4200\n"
             "  prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api")


class ServeError(RuntimeError):
    """Why `mobilise serve` cannot start, phrased for the operator (no Prefect server, no config...)."""


@dataclass(frozen=True)
class DatasetDeployment:
    """One dataset config of the folder: its file, its validated config, and the deployment name it gets."""

    path: Path
    config: DatasetConfig

    @property
    def name(self) -> str:
        """The deployment's name: the dataset's shortname (``publish_dataset/<shortname>`` in full)."""
        return self.config.shortname


def folder_tag(folder: Path) -> str:
    """The tag of every deployment served from `folder`: ``mobilise:/absolute/folder``."""
    return f"{TAG_PREFIX}{Path(folder).resolve()}"


def dataset_deployments(folder: Path) -> list[DatasetDeployment]:
    """Every dataset config of `folder`, loaded and validated, or ConfigError naming every config that is wrong
    (file, line and key), and two configs with the same shortname: nothing is served from a folder with an error,
    so a typo never removes a dataset's deployment."""
    found: list[DatasetDeployment] = []
    errors: list[str] = []
    for path in dataset_configs([Path(folder)]):
        try:
            found.append(DatasetDeployment(path.resolve(), load_config(path)))
        except ConfigError as exc:
            errors.append(str(exc))
    seen: dict[str, Path] = {}
    for dataset in found:
        if dataset.name in seen:
            errors.append(f"{dataset.path}: shortname {dataset.name} is also the shortname of {seen[dataset.name]}: "
                          f"each dataset needs a deployment name (metadata.shortname) of its own")
        seen.setdefault(dataset.name, dataset.path)
    if errors:
        raise ConfigError("\n".join(errors))
    return found


def prefect_schedules(schedule: ScheduleConfig | list[ScheduleConfig] | None) -> list:
    """The config's schedule (or list of schedules, each with its parameters: a nightly incremental run, a weekly
    deletion reconciliation) as Prefect schedules (``prefect.schedules.Cron`` or ``Interval``): [] for none."""
    from prefect.schedules import Cron, Interval

    if schedule is None:
        return []
    if isinstance(schedule, list):
        return [one for entry in schedule for one in prefect_schedules(entry)]
    if schedule.cron is not None:
        return [Cron(schedule.cron, timezone=schedule.timezone, parameters=schedule.parameters)]
    return [Interval(schedule.interval, anchor_date=INTERVAL_ANCHOR, timezone=schedule.timezone,
                     parameters=schedule.parameters)]


def runner_deployment(dataset: DatasetDeployment, tag: str):
    """The Prefect ``RunnerDeployment`` of one dataset: flow ``publish_dataset`` (flows/publish.py; a run loads it
    through this module, which gives it the task runner of the run's config), the config path as its default
    parameter, the config's schedule (an empty list when it has none, so that a schedule removed from the config
    is removed from Prefect too)."""
    from prefect.types.entrypoint import EntrypointType

    from mobilise.flows.publish import publish_dataset

    deployment = publish_dataset.to_deployment(
        name=dataset.name, schedules=prefect_schedules(dataset.config.schedule),
        parameters={"config_path": str(dataset.path)}, tags=[tag],
        description=f"Publish {dataset.config.metadata.title} ({dataset.path})",
        entrypoint_type=EntrypointType.MODULE_PATH)
    deployment.entrypoint = f"{__name__}.{FLOW_NAME}"  # the flow with the config's task runner (__getattr__)
    return deployment


def served_deployments(folder: Path) -> list:
    """The deployments of flow publish_dataset tagged as served from `folder` (Prefect ``DeploymentResponse``s,
    with their schedules), by name."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags, FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import DeploymentSort

    page, found = 200, []  # the server's largest page
    with get_client(sync_client=True) as client:
        while True:
            batch = client.read_deployments(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
                deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[folder_tag(folder)])),
                sort=DeploymentSort.NAME_ASC, limit=page, offset=len(found))
            found.extend(batch)
            if len(batch) < page:
                return found


def remove_stale(folder: Path, keep: list[str]) -> list[str]:
    """Delete the deployments of flow publish_dataset tagged as served from `folder` whose name is not in `keep`
    (their config was removed or renamed); their names, sorted."""
    from prefect.client.orchestration import get_client

    stale = [deployment for deployment in served_deployments(folder) if deployment.name not in keep]
    with get_client(sync_client=True) as client:
        for deployment in stale:
            client.delete_deployment(deployment.id)
    return sorted(deployment.name for deployment in stale)


def check_server() -> str:
    """The configured Prefect API's URL, or ServeError saying how to start one (or that it does not answer)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise ServeError(NO_SERVER)
    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        raise ServeError(f"mobilise serve: the Prefect server at {url} (PREFECT_API_URL) does not answer: {failure}"
                         f"\nIs it running? `prefect server start` starts one.")
    return url


def serve(folder: Path) -> None:
    """Register one deployment per dataset config of `folder`, delete those of configs no longer there, and
    serve them until SIGTERM or Ctrl-C (then Prefect pauses their schedules: a schedule nobody serves leaves no
    pile of late runs; the next `mobilise serve` resumes them). Raises ServeError or ConfigError before it
    registers anything."""
    import prefect

    folder = Path(folder)
    if not folder.is_dir():
        raise ServeError(f"mobilise serve: no such folder: {folder}")
    datasets = dataset_deployments(folder)  # config errors stop here, before the server is touched
    check_server()
    tag = folder_tag(folder)
    for name in remove_stale(folder, [dataset.name for dataset in datasets]):
        log.warning("deleted the deployment %s/%s: its config is no longer in %s", FLOW_NAME, name,
                    folder.resolve())
    if not datasets:
        raise ServeError(f"mobilise serve: no dataset config (*.yaml, *.yml) in {folder}")
    deployments = [runner_deployment(dataset, tag) for dataset in datasets]
    # Prefect's runner handles SIGTERM (pausing the schedules) only once it has started: until then, a SIGTERM
    # (systemd, docker stop) stops it as Ctrl+C does, which prefect.serve handles the same way
    signal.signal(signal.SIGTERM, _interrupt)
    prefect.serve(*deployments)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def __getattr__(name: str):
    """``publish_dataset``: the flow of flows/publish.py with the task runner its run's config asks for
    (``execution``: a local Dask cluster, the cluster at ``dask_address``, or threads), as `mobilise run` runs
    it. Prefect's engine loads a deployment's flow by its entrypoint (``mobilise.flows.deployments.publish_dataset``)
    in the process of the flow run, whose id is in ``PREFECT__FLOW_RUN_ID``; the config path is that run's
    parameter. Elsewhere, or when the config cannot be read (the flow then fails on it, saying why), the flow as
    it is. In a flow run's process it also sets up the run log as `mobilise run` does (mobilise/runlog.py
    ``configure``, and ``protect`` for the config's source: its password masked on every handler)."""
    if name != FLOW_NAME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from mobilise.flows.publish import publish_dataset, task_runner

    flow_run_id = os.environ.get("PREFECT__FLOW_RUN_ID")
    if not flow_run_id:
        return publish_dataset
    from mobilise import runlog

    try:  # the run log of `mobilise run` (mobilise/runlog.py): Prefect's and Dask's chatter at WARNING
        runlog.configure()
    except ValueError as exc:  # a MOBILISE_LOG_LEVEL that is no level: the run goes on with Prefect's log
        log.warning("publish_dataset: %s", exc)
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            config_path = client.read_flow_run(flow_run_id).parameters["config_path"]
        config = load_config(config_path)
    except Exception as exc:  # the flow run will say what is wrong with its config
        log.warning("publish_dataset: running with Prefect's default task runner: %s", exc)
        return publish_dataset
    runlog.protect(config.source)  # the source's password never in the run's log, console or Prefect API
    return publish_dataset.with_options(task_runner=task_runner(config.execution, source=config.source))
