"""`mobilise serve FOLDER` against the session's real Prefect server: one deployment per dataset config with its
schedule, upserted (never doubled) across restarts, deleted with its config, and a run started through Prefect's
API that publishes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import SAMPLE_CONFIG

SPECIMENS = 300
SERVING = "Your deployments are being served"  # what prefect.serve prints once every deployment is registered


def write_config(target: Path, database: Path, output: Path, shortname: str, schedule: dict | None) -> Path:
    """The shipped sample config for `database`, as dataset `shortname`: BDQ off, threads, `schedule`."""
    yaml = YAML()
    document = yaml.load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    document["source"]["url"] = f"sqlite:///{database}"
    document["output"]["directory"] = str(output)
    document["metadata"]["shortname"] = shortname
    document["validation"]["bdq"]["enabled"] = False
    document["execution"] = {"runner": "threads", "workers": 2}
    if schedule is not None:
        document["schedule"] = schedule
    with open(target, "w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    return target


class Serve:
    """`mobilise serve FOLDER` in a session of its own, its output collected; stop() ends it, whatever it does."""

    def __init__(self, folder: Path, api_url: str):
        env = {**os.environ, "PREFECT_API_URL": api_url}
        self.lines: list[str] = []
        self.started = datetime.now(timezone.utc)
        self.process = subprocess.Popen([sys.executable, "-m", "mobilise.cli", "serve", str(folder)], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_serving(self, folder: Path, names: list[str], timeout: float = 60) -> None:
        """Until Prefect's runner polls for the runs of deployments `names` (then a SIGTERM pauses them)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"mobilise serve ended ({self.process.returncode}):\n{self.output}"
            assert time.monotonic() < deadline, f"mobilise serve not serving after {timeout} s:\n{self.output}"
            if any(SERVING in line for line in self.lines):
                found = served(folder)
                if all(name in found and found[name].last_polled is not None
                       and found[name].last_polled >= self.started for name in names):
                    return
            time.sleep(0.3)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        """SIGTERM (Prefect's runner pauses the schedules and ends), then SIGKILL to the whole session."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # and any flow run it started
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)


@pytest.fixture(scope="module")
def api_url(prefect_api) -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def served(folder: Path) -> dict[str, object]:
    """The deployments of flow publish_dataset tagged as served from `folder`, by name."""
    from mobilise.flows.deployments import served_deployments

    return {deployment.name: deployment for deployment in served_deployments(folder)}


def schedules(deployment) -> list[tuple]:
    """(kind, cron or interval seconds, time zone, parameters) of each of a deployment's schedules."""
    found = []
    for entry in deployment.schedules:
        schedule = entry.schedule
        value = getattr(schedule, "cron", None) or schedule.interval.total_seconds()
        found.append((type(schedule).__name__, value, schedule.timezone, entry.parameters))
    return found


def test_serve_keeps_one_deployment_per_config_and_runs_it_through_the_api(api_url, tmp_path_factory,
                                                                           monkeypatch):
    from mobilise.samples import build_sample_database

    root = tmp_path_factory.mktemp("serve")
    folder, output = root / "configs", root / "output"
    folder.mkdir()
    alpha_db = build_sample_database(root / "alpha.sqlite", specimens=SPECIMENS, seed=11)
    beta_db = build_sample_database(root / "beta.sqlite", specimens=SPECIMENS, seed=12)
    write_config(folder / "alpha.yaml", alpha_db, output, "alpha",
                 {"cron": "0 2 * * *", "timezone": "Europe/Brussels", "parameters": {"dry_run": True}})
    beta = write_config(folder / "beta.yaml", beta_db, output, "beta", {"interval": "PT6H"})

    serve = Serve(folder, api_url)
    try:
        serve.wait_serving(folder, ["alpha", "beta"])
        found = served(folder)
        assert sorted(found) == ["alpha", "beta"]
        assert schedules(found["alpha"]) == [("CronSchedule", "0 2 * * *", "Europe/Brussels", {"dry_run": True})]
        assert schedules(found["beta"]) == [("IntervalSchedule", 6 * 3600, "UTC", {})]
        # the config's path is the one parameter: the config's content (its source URL) is not in Prefect
        assert found["alpha"].parameters == {"config_path": str((folder / "alpha.yaml").resolve())}
        assert not found["alpha"].paused
        serve.stop()
        assert served(folder)["alpha"].paused, serve.output  # Prefect pauses a schedule nobody serves

        # restart: the same deployments, one schedule each, resumed
        serve = Serve(folder, api_url)
        serve.wait_serving(folder, ["alpha", "beta"])
        again = served(folder)
        assert sorted(again) == ["alpha", "beta"]
        assert {name: deployment.id for name, deployment in again.items()} == \
               {name: deployment.id for name, deployment in found.items()}
        assert [len(deployment.schedules) for deployment in again.values()] == [1, 1]
        assert not again["alpha"].paused
        serve.stop()

        # a config removed and a schedule changed: its deployment is deleted, the other's schedule replaced
        beta.unlink()
        write_config(folder / "alpha.yaml", alpha_db, output, "alpha", {"interval": 86400})
        serve = Serve(folder, api_url)
        serve.wait_serving(folder, ["alpha"])
        last = served(folder)
        assert sorted(last) == ["alpha"]
        assert schedules(last["alpha"]) == [("IntervalSchedule", 86400, "UTC", {})]

        # a run started through Prefect's API, as `prefect deployment run publish_dataset/alpha` does
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import ArtifactFilter, FlowRunFilter, FlowRunFilterId, TaskRunFilter
        from prefect.client.schemas.sorting import ArtifactSort
        from prefect.deployments import run_deployment

        run = run_deployment("publish_dataset/alpha", parameters={"force": True}, timeout=120)
        assert run.state.is_completed(), f"{run.state}\n{serve.output}"
        log = json.loads((output / "alpha" / "publications.json").read_text("utf-8"))
        assert (output / "alpha" / "dwca.zip").is_file()
        assert log  # the version the run committed
        with get_client(sync_client=True) as client:  # the run report, as the Prefect UI shows it with the run
            artifacts = client.read_artifacts(  # prefect's sync client sends None for what is not given
                artifact_filter=ArtifactFilter(), flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                task_run_filter=TaskRunFilter(), sort=ArtifactSort.KEY_DESC, limit=50, offset=0)
        assert "alpha-run-report" in {artifact.key for artifact in artifacts}

        # a dry run started with Prefect's command line: validated, nothing published
        assert not (output / "alpha" / "validation").exists()
        env = {**os.environ, "PREFECT_API_URL": api_url}
        started = subprocess.run([str(Path(sys.executable).parent / "prefect"), "deployment", "run",
                                  "publish_dataset/alpha", "--param", "dry_run=true", "--watch",
                                  "--watch-timeout", "120"], env=env, capture_output=True, text=True, timeout=180)
        assert started.returncode == 0, f"{started.stdout}{started.stderr}\n{serve.output}"
        assert json.loads((output / "alpha" / "publications.json").read_text("utf-8")) == log
        assert (output / "alpha" / "validation").is_dir()

        # the served run's flow, as Prefect's engine loads it in the run's process: the config's task runner
        from mobilise.flows import deployments
        from mobilise.flows.publish import ThreadsTaskRunner

        assert last["alpha"].entrypoint == "mobilise.flows.deployments.publish_dataset"
        monkeypatch.setenv("PREFECT__FLOW_RUN_ID", str(run.id))
        assert isinstance(deployments.publish_dataset.task_runner, ThreadsTaskRunner)
    finally:
        serve.stop()


# --- the schedule: section (mobilise/settings.py ScheduleConfig), checked when the config is loaded --------------

CRON_HELP = "(five fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * *' for 02:00 every day)"
SCHEDULE_ERRORS = [
    ('schedule:\n  cron: "0 25 * * *"\n', 1, "schedule.cron", f'Invalid cron string: "0 25 * * *" {CRON_HELP}'),
    ('schedule:\n  cron: "H 2 * * *"\n', 1, "schedule.cron", f'Invalid cron string: "H 2 * * *" {CRON_HELP}'),
    ("schedule:\n  interval: 3600\n  timezone: Europe/Brusels\n", 2, "schedule.timezone",
     "unknown time zone 'Europe/Brusels' (did you mean 'Europe/Brussels'?) (an IANA name such as Europe/Brussels "
     "or UTC)"),
    ("schedule:\n  interval: 0\n", 1, "schedule.interval", "Input should be greater than 0 seconds"),
    ("schedule:\n  interval: P1D\n  cron: '0 2 * * *'\n", 0, "schedule",
     "give exactly one of 'cron' (e.g. '0 2 * * *') or 'interval' (seconds, or P1D)"),
    ("schedule:\n  cronn: '0 2 * * *'\n", 1, "schedule.cronn", "unknown key (did you mean 'cron'?)"),
    ("schedule:\n  interval: 60\n  parameters:\n    dryrun: true\n", 2, "schedule.parameters",
     "publish_dataset has no parameter 'dryrun' (did you mean 'dry_run'?); its parameters are dry_run, "
     "keep_run_files, accept_id_changes, force"),
    ("schedule:\n  interval: 60\n  parameters:\n    dry_run: maybe\n", 2, "schedule.parameters",
     "dry_run: Input should be a valid boolean, unable to interpret input (got 'maybe')"),
    ("schedule:\n  interval: 60\n  parameters:\n    config_path: other.yaml\n", 2, "schedule.parameters",
     "config_path is not a schedule's: every run of the deployment reads this config"),
    ("schedule:\n  - interval: 60\n  - cron: '0 25 * * *'\n", 2, "schedule[1].cron",
     f'Invalid cron string: "0 25 * * *" {CRON_HELP}'),
    ("schedule:\n  - interval: 60\n    parameters: {mode: 7}\n", 2, "schedule[0].parameters",
     "mode: Input should be a valid string (got 7)"),
]


@pytest.mark.parametrize("more, offset, key, message", SCHEDULE_ERRORS, ids=[case[2] for case in SCHEDULE_ERRORS])
def test_a_schedule_that_prefect_could_not_honour_is_a_config_error_with_file_line_and_key(tmp_path, more, offset,
                                                                                          key, message):
    from tests.test_config_promise import FIRST_FREE_LINE, _problems, _write

    path = _write(tmp_path, more)
    problems = _problems(path).splitlines()
    if "parameters are" in message:  # the flow's parameters: whatever flows/publish.py has now
        from mobilise.flows.publish import publish_dataset

        known = [name for name in publish_dataset.parameters.properties if name != "config_path"]
        message = message.split("; its parameters are")[0] + f"; its parameters are {', '.join(known)}"
    assert f"  {path}:{FIRST_FREE_LINE + offset}: {key}: {message}" in problems


def test_a_schedule_becomes_prefect_schedules_in_its_time_zone_with_its_parameters(tmp_path):
    from tests.test_config_promise import _write

    from mobilise.flows.deployments import INTERVAL_ANCHOR, prefect_schedules
    from mobilise.settings import load_config

    cron = load_config(_write(tmp_path, "schedule:\n  cron: '30 1 * * 1-5'\n  timezone: Europe/Brussels\n"
                                        "  parameters: {dry_run: 'true'}\n")).schedule
    [schedule] = prefect_schedules(cron)
    assert (schedule.cron, schedule.timezone, schedule.parameters) == ("30 1 * * 1-5", "Europe/Brussels",
                                                                      {"dry_run": True})
    every_six_hours = load_config(_write(tmp_path, "schedule:\n  interval: PT6H\n")).schedule
    [schedule] = prefect_schedules(every_six_hours)
    assert (schedule.interval.total_seconds(), schedule.anchor_date, schedule.timezone) == (6 * 3600,
                                                                                           INTERVAL_ANCHOR, "UTC")
    assert prefect_schedules(load_config(_write(tmp_path, "schedule:\n  interval: 86400\n")).schedule
                             )[0].interval.total_seconds() == 86400
    assert prefect_schedules(None) == []
    several = load_config(_write(tmp_path, "schedule:\n  - cron: '0 2 * * *'\n    parameters: {mode: incremental}\n"
                                           "  - interval: P7D\n    parameters: {reconcile_deletions: true}\n")).schedule
    nightly, weekly = prefect_schedules(several)
    assert (nightly.cron, nightly.parameters) == ("0 2 * * *", {"mode": "incremental"})
    assert (weekly.interval.total_seconds(), weekly.parameters) == (7 * 86400, {"reconcile_deletions": True})


def test_serve_says_how_to_start_a_prefect_server_and_names_a_config_error_before_touching_prefect(tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from mobilise.cli import app
    from tests.test_config_promise import FIRST_FREE_LINE, _write

    _write(tmp_path, "schedule:\n  interval: 3600\n")
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(app, ["serve", str(tmp_path)])
    assert result.exit_code == 2
    assert "PREFECT_API_URL is not set" in result.output
    assert "prefect server start" in result.output
    assert "prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api" in result.output

    bad = _write(tmp_path, "schedule:\n  cron: '0 2 * *'\n")
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(app, ["serve", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{bad}:{FIRST_FREE_LINE + 1}: schedule.cron: Invalid cron string" in result.output
