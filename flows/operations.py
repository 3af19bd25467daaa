"""Operating many datasets: publish every dataset config of a folder (`mobilise run-all`) and say where each one
stands (`mobilise status`).

:func:`run_all` runs the datasets one after the other inside one Prefect API (one temporary server for all of
them when none is configured: :func:`mobilise.flows.publish.shared_prefect_api`); one dataset's failure (a config
error, a source that is down, a failed gate, a lock another run holds) is recorded as its :class:`Outcome` and the
next dataset runs. :func:`dataset_status` reads a dataset's publication folder (``publications.json`` and the
``validation/`` report) and, when a Prefect API is configured, its flow runs and its deployment
``publish_dataset/<shortname>``.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from mobilise import processes
from mobilise.settings import ConfigError, DatasetConfig, load_config

log = logging.getLogger("mobilise")

CONFIG_SUFFIXES = (".yaml", ".yml")
#: the deployment of a dataset that `mobilise serve` creates (Prefect's "<flow name>/<deployment name>")
DEPLOYMENT = "publish_dataset/{shortname}"


def dataset_configs(paths: list[Path]) -> list[Path]:
    """The dataset configs among `paths`: a folder's ``*.yaml`` and ``*.yml`` files (not its sub-folders; other
    files, such as vocabulary CSVs, are not configs), a file as given; sorted by name within a folder.
    Raises FileNotFoundError for a path that does not exist."""
    configs: list[Path] = []
    for path in paths:
        if path.is_dir():
            configs += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in CONFIG_SUFFIXES)
        elif path.is_file():
            configs.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return configs


def one_line(error: BaseException) -> str:
    """An error in one line: a config error's first ``file:line: key: message`` (and how many more), else the
    error's class and the first line of its message."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    if isinstance(error, ConfigError):
        more = len([line for line in lines[1:] if not line.startswith(" ")])
        return (lines[0] if lines else str(error)) + (f" (and {more} more)" if more else "")
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


@dataclass
class Outcome:
    """What `mobilise run-all` did with one config: ``result`` is ``published`` (a new ``version``),
    ``unchanged`` (``version`` is the current one), ``validated`` (a dry run) or ``failed`` (``reason``: one
    line; ``version`` set when a version was committed before the failure). ``records`` and ``rejected`` are
    the run's counts (None when it did not get that far)."""

    config: str
    dataset: str
    result: str
    version: str | None = None
    records: int | None = None
    rejected: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def run_all(configs: list[Path], runner: str | None = None, dask_address: str | None = None,
            dry_run: bool = False) -> list[Outcome]:
    """Publish (or with `dry_run` validate) each config in turn, in one shared Prefect API; a failure is that
    dataset's outcome, never the end of the others. A SIGTERM or SIGINT (:class:`mobilise.processes.Interrupted`)
    stops the whole run and propagates."""
    from mobilise.flows.publish import run_publication, shared_prefect_api

    outcomes = []
    with shared_prefect_api():
        for path in configs:
            outcomes.append(_run_one(path, run_publication, runner, dask_address, dry_run))
            log.info("%s: %s", path, outcomes[-1].result)
    return outcomes


def _run_one(path: Path, run_publication, runner: str | None, dask_address: str | None,
             dry_run: bool) -> Outcome:
    from mobilise.publishers.publication import DatasetLockedError, PublicationLog

    try:
        config = load_config(path)
    except ConfigError as error:
        return Outcome(str(path), path.stem, "failed", reason=one_line(error))
    publications = PublicationLog(config.publication_directory)
    before = publications.latest()
    try:
        result = run_publication(str(path), dry_run=dry_run, dask_address=dask_address, runner=runner)
    except processes.Interrupted:
        raise
    except Exception as error:  # noqa: BLE001  (one dataset's failure is its outcome)
        after = publications.latest()
        committed = after.version if after is not None and after != before else None
        if isinstance(error, DatasetLockedError):
            committed = None  # another run's version, not this one's
        reason = one_line(error)
        if committed is not None:
            reason = f"version {committed} was published, then: {reason}"
        return Outcome(str(path), config.shortname, "failed", version=committed, reason=reason)
    if result.get("unchanged"):
        state = "unchanged"
    elif result.get("version"):
        state = "published"
    else:
        state = "validated"
    return Outcome(str(path), config.shortname, state, version=result.get("version"), records=result["records"],
                   rejected=result["rejected"])


# --- status ----------------------------------------------------------------------------------------------------------

def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _excluded(report_path: Path) -> int | None:
    """The records a version's run kept out by rule (its report's ``totals.excluded``: a count, or counts per
    rule), None when the report has none."""
    try:
        excluded = json.loads(report_path.read_text(encoding="utf-8")).get("totals", {}).get("excluded")
    except (OSError, ValueError, AttributeError):
        return None
    if isinstance(excluded, dict):
        return sum(value for value in excluded.values() if isinstance(value, int))
    return excluded if isinstance(excluded, int) else None


def _tables(report_path: Path) -> dict[str, dict[str, int]]:
    """A version's counts per table (its report's ``tables``: extracted, published, quarantined and excluded of
    the core and of each extension); {} when the report has none (a dataset without extensions)."""
    try:
        tables = json.loads(report_path.read_text(encoding="utf-8")).get("tables") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(name): {key: value for key, value in counts.items() if isinstance(value, int)}
            for name, counts in tables.items() if isinstance(counts, dict)} if isinstance(tables, dict) else {}


def folder_status(config: DatasetConfig) -> dict:
    """_folder_status with the last failed run (``.state/last-failure.json``) when it is newer: a run that
    failed before it published anything (a source down, a crash) leaves no version and no report."""
    from mobilise.publishers.publication import PublicationDirectory

    status = _folder_status(config)
    failure = PublicationDirectory(config.publication_directory).last_failure()
    if failure is not None:
        failed_at = _parse_time(failure.get("time"))
        shown = status["last_run"]
        shown_at = _parse_time(shown["time"]) if shown is not None else None
        if failed_at is not None and (shown_at is None or failed_at > shown_at):
            status["last_run"] = {"time": failure["time"], "state": "failed: nothing published", "failed": True,
                                  "failure": failure.get("error"), "duration_seconds": failure.get("duration_seconds"),
                                  "from": str(PublicationDirectory(config.publication_directory).last_failure_file)}
    return status


def _folder_status(config: DatasetConfig) -> dict:
    """What the publication folder says of a dataset: ``version``, ``published``, ``records``, ``rejected``,
    ``excluded`` (kept out by rule, when the version's report counts them), ``tables`` (the version's counts per
    table, with the extension rows excluded with their core record; {} without extensions), ``dwc_dp`` (the
    path of the version's Darwin Core Data Package, None when it has none), ``rejected_share`` (of the records
    the current version's run extracted) and ``last_run``: the newer of the
    current version's publication and the ``validation/`` report (a run that published nothing: a dry run, an
    unchanged run, or a failed gate, whose verdicts ``failure`` names)."""
    from mobilise.publishers.publication import PublicationDirectory

    directory = PublicationDirectory(config.publication_directory)
    latest = directory.log.latest()
    status: dict = {"version": None, "published": None, "records": None, "rejected": None, "excluded": None,
                    "tables": {}, "dwc_dp": None, "rejected_share": None, "last_run": None}
    if latest is not None:
        excluded = _excluded(directory.report(latest.version)[0])
        status.update(tables=_tables(directory.report(latest.version)[0]),
                      dwc_dp=str(directory.package(latest.version)) if latest.dwc_dp else None)
        total = latest.records + latest.rejected + (excluded or 0)
        status.update(version=latest.version, published=latest.published, records=latest.records,
                      rejected=latest.rejected, excluded=excluded,
                      rejected_share=round(latest.rejected / total, 4) if total else 0.0)
        status["last_run"] = {"time": latest.published, "state": f"published {latest.version}", "failed": False,
                              "failure": None, "duration_seconds": None, "from": "publications.json"}
    report_path = directory.report(None)[0]
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return status
    generated = _parse_time(report.get("generated"))
    published = _parse_time(latest.published) if latest is not None else None
    if generated is None or (published is not None and generated <= published):
        return status  # the validation report is older than the current version
    failed = [gate for gate in report.get("gates", []) if not gate.get("passed", True)]
    if failed:
        state = "gate failed: nothing published"
    elif report.get("unchanged"):
        state = f"unchanged since {latest.version}" if latest is not None else "unchanged"
    else:
        state = "dry run: nothing published"
    status["last_run"] = {"time": report["generated"], "state": state, "failed": bool(failed),
                          "failure": "; ".join(f"{g['name']}: {g['detail']}" for g in failed) or None,
                          "duration_seconds": None, "from": str(report_path)}
    return status


class PrefectUnavailable(RuntimeError):
    """No Prefect API is configured, or the configured one does not answer."""


def prefect_client():
    """A synchronous client of the configured Prefect API (``PREFECT_API_URL``), checked to answer; never
    Prefect's ephemeral in-process server. Raises :class:`PrefectUnavailable`."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise PrefectUnavailable("no Prefect API configured (PREFECT_API_URL)")
    client = get_client(sync_client=True)
    client.__enter__()
    failure = client.api_healthcheck()
    if failure is not None:
        client.__exit__(None, None, None)
        raise PrefectUnavailable(f"the Prefect API at {url} does not answer: {one_line(failure)}")
    return client


def _run_view(run) -> dict:
    state = run.state
    duration = run.total_run_time.total_seconds() if run.total_run_time else None
    if duration is not None and not duration and run.start_time and run.end_time:
        duration = (run.end_time - run.start_time).total_seconds()
    failed = state is not None and (state.is_failed() or state.is_crashed())
    return {"time": (run.start_time or run.expected_start_time).isoformat() if (run.start_time or
                                                                                run.expected_start_time) else None,
            "state": state.name if state is not None else "unknown", "failed": failed,
            "failure": (state.message or None) if failed else None,
            "duration_seconds": round(duration, 1) if duration is not None else None,
            "from": f"Prefect flow run {run.name}"}


def prefect_status(client, shortname: str) -> dict:
    """What the Prefect API says of a dataset: ``last_run`` (its latest flow run of ``publish_dataset``, started
    by `mobilise run` (named ``<shortname>-<8 hex>``) or by its deployment), ``deployment`` and ``next_run``
    (the next scheduled run of deployment ``publish_dataset/<shortname>``) and ``schedule`` (in words)."""
    from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterId, FlowFilter, FlowFilterName,
                                                FlowRunFilter, FlowRunFilterName, FlowRunFilterState,
                                                FlowRunFilterStateType)
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound

    named = re.compile(rf"^{re.escape(shortname)}-[0-9a-f]{{8}}$")
    runs = [run for run in client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=["publish_dataset"])),
        flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_=f"{shortname}-")),
        sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=50) if named.match(run.name)]
    status: dict = {"deployment": None, "next_run": None, "schedule": "not scheduled"}
    try:
        deployment = client.read_deployment_by_name(DEPLOYMENT.format(shortname=shortname))
    except ObjectNotFound:
        deployment = None
    if deployment is not None:
        status["deployment"] = DEPLOYMENT.format(shortname=shortname)
        by_deployment = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
        runs += client.read_flow_runs(deployment_filter=by_deployment, sort=FlowRunSort.START_TIME_DESC, limit=5)
        scheduled = client.read_flow_runs(
            deployment_filter=by_deployment,
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
                any_=[StateType.SCHEDULED]))),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=1)
        if scheduled:
            status["next_run"] = scheduled[0].expected_start_time.isoformat()
            status["schedule"] = "scheduled"
        else:
            status["schedule"] = "paused" if getattr(deployment, "paused", False) else "no run scheduled"
    started = [run for run in runs if run.start_time is not None or (run.state and not run.state.is_scheduled())]
    if started:
        latest = max(started, key=lambda run: run.start_time or run.expected_start_time)
        status["last_run"] = _run_view(latest)
    return status


def dataset_status(path: Path, client=None, prefect_note: str | None = None) -> dict:
    """One dataset's status (see :func:`folder_status` and :func:`prefect_status`) as a JSON-ready dict:
    ``config``, ``dataset``, ``title``, ``error`` (a config that does not load: its one-line message), the
    current ``version`` with its counts, ``last_run`` {time, state, failed, failure, duration_seconds, from},
    ``next_run``, ``schedule`` and ``deployment``. With `client` (a Prefect API) the last run is Prefect's when
    it has one; a run that published nothing newer than Prefect's record (a gate) still shows from the folder."""
    status: dict = {"config": str(path), "dataset": path.stem, "title": None, "error": None, "version": None,
                    "published": None, "records": None, "rejected": None, "excluded": None, "tables": {},
                    "dwc_dp": None, "rejected_share": None, "last_run": None,
                    "next_run": None, "deployment": None,
                    "schedule": prefect_note or "not scheduled"}
    try:
        config = load_config(path)
    except ConfigError as error:
        status["error"] = one_line(error)
        return status
    status.update(dataset=config.shortname, title=config.metadata.title)
    status.update(folder_status(config))
    if client is not None:
        try:
            from_prefect = prefect_status(client, config.shortname)
        except Exception as error:  # noqa: BLE001  (the folder's view stands)
            status["schedule"] = f"unknown: the Prefect API failed ({one_line(error)})"
            return status
        folder_run = status["last_run"]
        prefect_run = from_prefect.pop("last_run", None)
        status.update(from_prefect)
        if prefect_run is not None:
            if folder_run is not None and folder_run["failed"]:  # the gate's reasons, from the report
                prefect_run["failure"] = folder_run["failure"] or prefect_run["failure"]
            status["last_run"] = prefect_run
    return status


def statuses(configs: list[Path]) -> tuple[list[dict], str | None]:
    """The status of each config, and a note when the Prefect API was not used (why)."""
    note = None
    client = None
    try:
        client = prefect_client()
    except PrefectUnavailable as why:
        note = str(why)
    except Exception as error:  # noqa: BLE001
        note = f"the Prefect API could not be used: {one_line(error)}"
    try:
        schedule = "unknown (no Prefect API)" if client is None else None
        return [dataset_status(path, client, schedule) for path in configs], note
    finally:
        if client is not None:
            client.__exit__(None, None, None)
