"""Progress a person can watch and a run log a person can read (issue 13 item 7): mobilise/progress.py and
mobilise/runlog.py, on their own, through `mobilise run --progress` and as Prefect progress artifacts."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys

import pytest

from mobilise.progress import STAGES, RunProgress, StageCount
from mobilise.runlog import KEPT, QuietInternals, Redact, log_level
from tests.conftest import SAMPLE_CONFIG


class Recorder:
    """A progress sink that keeps every update it is told."""

    def __init__(self):
        self.updates: list[tuple[str, str, StageCount]] = []

    def update(self, dataset: str, stage: str, count: StageCount) -> None:
        self.updates.append((dataset, stage, count))

    def last(self, stage: str) -> StageCount:
        return [count for _, s, count in self.updates if s == stage][-1]


# --- the accounting -------------------------------------------------------------------------------------------------

def test_counts_and_totals_flow_from_stage_to_stage():
    sink = Recorder()
    run = RunProgress("ds", [sink])
    run.start("read")
    assert sink.last("read").total is None and sink.last("read").percent is None  # indeterminate
    run.add("read", 1200)
    run.add("read", 300)
    assert sink.last("read").describe("read") == "1,500 records read so far"
    run.add("mapped", 1200)
    run.finish("read")
    assert sink.last("read").total == 1500 and sink.last("read").finished
    assert sink.last("mapped").total == 1500  # the next stage's total is what was read
    assert sink.last("mapped").percent == pytest.approx(80.0)
    run.add("mapped", 300)
    run.finish("mapped")
    assert sink.last("validated").total == 1500
    run.add("validated", 1500)
    run.finish("validated")
    run.publishable(1490)
    assert sink.last("written").total == 1490
    run.add("written", 1490)
    run.finish("written")
    counts = run.counts()
    assert [counts[s]["done"] for s in STAGES] == [1500, 1500, 1500, 1490]
    assert all(counts[s]["finished"] and counts[s]["total"] == counts[s]["done"] for s in STAGES)
    assert re.fullmatch(r"1,490 of 1,490 records written in \d+\.\d s", sink.last("written").describe("written"))
    assert {dataset for dataset, _, _ in sink.updates} == {"ds"}


def test_a_stage_that_wrote_nothing_says_why_and_is_complete():
    sink = Recorder()
    run = RunProgress("ds", [sink])
    run.publishable(10)
    run.start("written")
    run.finish("written", "dry run: nothing written")
    last = sink.last("written")
    assert last.done == 0 and last.total == 0 and last.percent == 100.0
    assert last.describe("written").endswith("(dry run: nothing written)")


def test_wrong_events_are_refused():
    run = RunProgress("ds")
    with pytest.raises(ValueError):
        run.add("read", -1)
    with pytest.raises(KeyError, match="known: read, mapped, validated, written"):
        run.add("published", 1)


def test_a_failing_display_is_dropped_and_the_run_goes_on(caplog):
    class Broken:
        def update(self, *args):
            raise RuntimeError("terminal gone")

    sink = Recorder()
    run = RunProgress("ds", [Broken(), sink])
    with caplog.at_level(logging.WARNING, logger="mobilise"):
        run.add("read", 5)
        run.add("read", 5)
    assert sink.last("read").done == 10
    assert [r.getMessage() for r in caplog.records].count(
        "progress display Broken failed and is switched off: terminal gone") == 1


def test_stage_ends_are_logged_with_counts_and_durations(caplog):
    run = RunProgress("ds")
    with caplog.at_level(logging.INFO, logger="mobilise"):
        run.start("read")
        run.add("read", 42)
        run.finish("read")
    messages = [r.getMessage() for r in caplog.records]
    assert "ds: reading started" in messages
    assert any(re.fullmatch(r"ds: 42 of 42 records read in \d+\.\d s", m) for m in messages), messages


# --- the run log ------------------------------------------------------------------------------------------------------

def _record(name: str, level: int, message: str, pathname: str = "/x/site-packages/lib/mod.py") -> logging.LogRecord:
    return logging.LogRecord(name, level, pathname, 1, message, None, None)


def test_internal_chatter_is_kept_to_warnings():
    quiet = QuietInternals()
    assert not quiet.filter(_record("distributed.worker", logging.INFO, "Start worker at tcp://..."))
    assert not quiet.filter(_record("prefect.task_runs", logging.INFO, "Finished in state Completed()"))
    assert not quiet.filter(_record("httpx", logging.DEBUG, "HTTP Request: POST ..."))
    assert quiet.filter(_record("distributed.worker", logging.WARNING, "worker memory high"))
    assert quiet.filter(_record("mobilise", logging.INFO, "ds: 3 of 3 records read in 0.1 s"))
    # the flow's run logger is Prefect's, but the line is Mobilise's
    from mobilise.flows import publish

    assert quiet.filter(_record("prefect.flow_runs", logging.INFO, "run folder ...", pathname=publish.__file__))
    assert quiet.filter(_record("prefect.flow_runs", logging.INFO, "Beginning flow run 'ds-1234abcd' for flow"))


def test_log_level_from_the_environment(monkeypatch):
    monkeypatch.delenv("MOBILISE_LOG_LEVEL", raising=False)
    assert log_level() == logging.INFO
    assert log_level(verbose=True) == logging.DEBUG
    monkeypatch.setenv("MOBILISE_LOG_LEVEL", "debug")
    assert log_level() == logging.DEBUG
    monkeypatch.setenv("MOBILISE_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="MOBILISE_LOG_LEVEL='LOUD' is not a logging level"):
        log_level()


def test_passwords_are_masked_in_messages_and_tracebacks(tmp_path, monkeypatch):
    from mobilise.settings import SourceConfig

    password = "p@ss:w/rd#1"
    from urllib.parse import quote

    source = SourceConfig(url=f"postgresql+psycopg://reader:{quote(password, safe='')}@db/collection",
                          table="specimens")
    redact = Redact()
    redact.add(source)
    record = _record("mobilise", logging.ERROR, "connecting to %s with %s failed")
    record.args = (source.url, password)
    try:
        raise RuntimeError(f"refused: {source.url}")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert redact.filter(record)
    text = record.getMessage() + (record.exc_text or "")
    assert password not in text and quote(password, safe="") not in text
    assert source.safe_url in record.getMessage() and "***" in record.getMessage()


# --- a real run -------------------------------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BAR = re.compile(r"^(?P<dataset>\S+) (?P<stage>read|mapped|validated|written)\s.*?\s(?P<done>\d+)/(?P<total>\d+|\?) "
                 r"records")
#: lines Dask, distributed and Prefect log at INFO when nobody keeps them quiet
CHATTER = re.compile(r"\| (DEBUG|INFO) +\| (distributed|dask|prefect|httpx|urllib3)|Finished in state|"
                     r"Created task run|Submitting task|Start worker|Starting worker|Scheduler at")


def _final_bars(stderr: str, dataset: str = "mobilise-sample") -> dict[str, tuple[int, str]]:
    """The last drawing of each of `dataset`'s stage bars: stage -> (done, total)."""
    bars = {}
    for line in ANSI.sub("", stderr).replace("\r", "\n").split("\n"):
        match = BAR.match(line.strip())
        if match and match["dataset"] == dataset:
            bars[match["stage"]] = (int(match["done"]), match["total"])
    return bars


def _mobilise(*args: str, env: dict) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    environment.pop("MOBILISE_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "mobilise.cli", *args], capture_output=True, text=True,
                          env=environment, timeout=300)


def test_cli_progress_bars_end_at_the_run_counts_and_the_log_is_quiet(sample_db, tmp_path):
    env = {"MOBILISE_SAMPLE_URL": f"sqlite:///{sample_db}", "MOBILISE_OUTPUT": str(tmp_path)}
    # the local Dask cluster: its scheduler and workers are the chattiest
    completed = _mobilise("run", str(SAMPLE_CONFIG), "--json", "--progress", "--runner", "dask", env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout)
    bars = _final_bars(completed.stderr)
    assert bars == {"read": (result["extracted"], str(result["extracted"])),
                    "mapped": (result["extracted"], str(result["extracted"])),
                    "validated": (result["extracted"], str(result["extracted"])),
                    "written": (result["records"], str(result["records"]))}, completed.stderr[-3000:]
    log = ANSI.sub("", completed.stderr)
    chatter = [line for line in log.splitlines() if CHATTER.search(line) and not any(k in line for k in KEPT)]
    assert not chatter, chatter[:5]
    assert log.count("Starting temporary server") == 1  # what is kept of Prefect's: where its API is
    # Mobilise's own lines: each stage's end with its counts and duration
    assert re.search(rf"mobilise-sample: {result['extracted']:,} of {result['extracted']:,} records validated "
                     rf"in \d+\.\d s", log)
    assert re.search(rf"mobilise-sample: {result['records']:,} of {result['records']:,} records written", log)


def test_cli_without_a_terminal_draws_no_bars_and_verbose_shows_the_internals(sample_db, tmp_path):
    env = {"MOBILISE_SAMPLE_URL": f"sqlite:///{sample_db}", "MOBILISE_OUTPUT": str(tmp_path)}
    completed = _mobilise("validate", str(SAMPLE_CONFIG), "--runner", "threads", "--verbose", env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert _final_bars(completed.stderr) == {}  # standard error is a pipe: no bars unless --progress
    assert "Finished in state Completed()" in completed.stderr  # --verbose: Prefect's own lines too
    assert "records written in" in completed.stderr and "(dry run: nothing written)" in completed.stderr


def test_run_all_draws_each_datasets_bars(tmp_path):
    from mobilise.samples import build_sample_database
    from tests.test_operations import write_config

    folder = tmp_path / "configs"
    folder.mkdir()
    for name, seed in (("alpha", 1), ("beta", 2)):
        db = build_sample_database(tmp_path / f"{name}.sqlite", specimens=200, seed=seed)
        write_config(folder / f"{name}.yaml", name, f"sqlite:///{db}", tmp_path / "output")
    completed = _mobilise("run-all", str(folder), "--runner", "threads", "--progress", "--json", env={})
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcomes = json.loads(completed.stdout.strip().splitlines()[-1])["datasets"]
    for outcome in outcomes:
        extracted = outcome["records"] + outcome["rejected"]
        assert _final_bars(completed.stderr, outcome["dataset"]) == {
            "read": (extracted, str(extracted)), "mapped": (extracted, str(extracted)),
            "validated": (extracted, str(extracted)), "written": (outcome["records"], str(outcome["records"]))}


# --- the Prefect progress artifacts ------------------------------------------------------------------------------------

@pytest.mark.prefect
def test_prefect_progress_artifacts_after_a_flow_run(prefect_api, sample_db, tmp_path, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import Artifact

    from mobilise.flows.publish import publish_dataset

    monkeypatch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{sample_db}")
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path))
    state = publish_dataset(str(SAMPLE_CONFIG), return_state=True)
    result = state.result()
    run_id = str(state.state_details.flow_run_id)
    with get_client(sync_client=True) as client:  # the raw endpoint: see tests/test_report.py
        response = client.request("POST", "/artifacts/filter", json={
            "artifacts": {"flow_run_id": {"any_": [run_id]}, "type": {"any_": ["progress"]}}, "limit": 50,
            "offset": 0, "sort": "CREATED_DESC"})
        artifacts = {a.key: a for a in (Artifact.model_validate(item) for item in response.json())}
    assert set(artifacts) == {f"mobilise-sample-progress-{stage}" for stage in STAGES}
    for stage in STAGES:
        artifact = artifacts[f"mobilise-sample-progress-{stage}"]
        assert float(artifact.data) == 100.0
        done = result["records"] if stage == "written" else result["extracted"]
        assert artifact.description.startswith(f"mobilise-sample: {done:,} of {done:,} records {stage} in ")


# --- mobilise status: the records a version kept out by rule ---------------------------------------------------------

def test_status_counts_the_records_excluded_by_rule(sqlite_config, monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from mobilise.cli import app
    from mobilise.flows.operations import folder_status
    from mobilise.publishers.publication import PublicationDirectory
    from tests.pipeline_helpers import run_stages

    result = run_stages(sqlite_config)
    status = folder_status(sqlite_config)
    assert status["excluded"] == 0  # this run's report counts none
    assert status["rejected_share"] == round(result.rejected / (result.records + result.rejected), 4)
    report_path = PublicationDirectory(sqlite_config.publication_directory).report(status["version"])[0]
    report = json.loads(report_path.read_text("utf-8"))
    report["totals"]["excluded"] = {"basisOfRecord is FossilSpecimen": 40, "no catalogNumber": 2}
    report_path.write_text(json.dumps(report), "utf-8")
    status = folder_status(sqlite_config)
    assert status["excluded"] == 42
    assert status["rejected_share"] == round(result.rejected / (result.records + result.rejected + 42), 4)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        shown = CliRunner().invoke(app, ["status", str(SAMPLE_CONFIG)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "+ 42 excluded" in shown.output


@pytest.mark.prefect
def test_the_flow_counts_the_tasks_that_ended_well_and_raises_a_failure_where_results_are_collected(prefect_api):
    from prefect import flow, task

    from mobilise.flows.publish import ThreadsTaskRunner, _succeeded

    @task
    def square(n: int) -> int:
        if n == 3:
            raise ValueError("three")
        return n * n

    @flow(task_runner=ThreadsTaskRunner(max_workers=2))
    def squares() -> tuple[list[int], str]:
        futures = [square.submit(n) for n in range(5)]
        counted = sorted(_succeeded(futures))
        assert all(future.state.is_final() for future in futures)  # every task ended before the failure shows
        with pytest.raises(ValueError, match="three") as failure:
            [future.result() for future in futures]
        return counted, str(failure.value)

    assert squares() == ([0, 1, 4, 16], "three")
