"""Stopping a run: `mobilise run` in a process of its own, stopped by real signals while it extracts.

The source is a SQLite query that yields a row every few thousand steps of a recursive CTE and never ends in the
time of a test: extraction is under way (batch files appear in the run folder) until the signal comes. Every
process the run starts carries a marker in its environment, so the tests find any that survive, whoever their
parent is by then.
"""
from __future__ import annotations

import json

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from mobilise import processes

pytestmark = pytest.mark.prefect

ENDLESS = 2_000_000_000  # rows of the CTE: extraction goes on for longer than any test
CONFIG = """
source:
  url: sqlite:///{database}
  batch_size: 10
  query: >
    WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${{MOBILISE_STOP_TEST_ROWS}})
    SELECT n AS id, 'PreservedSpecimen' AS basis{extra} FROM c WHERE n % 100000 = 0
output:
  directory: {output}
metadata:
  title: A source that takes long to read
  shortname: {shortname}
  abstract: [Rows that come slowly, so that a run can be stopped while it extracts.]
  licence: CC0-1.0
  creators: [{{given_name: Ada, surname: Curator, email: a@example.org}}]
  contacts: [{{given_name: Ada, surname: Curator, email: a@example.org}}]
execution:
  workers: 2
validation:
  dissco: ignore
  bdq: {{enabled: false}}
mapping:
  occurrenceID: {{template: "https://example.org/i/{{id}}"}}
  basisOfRecord: basis
  scientificName: {{constant: Lycaena dispar}}
"""


def _config(tmp_path: Path, shortname: str = "slow", extra: str = "") -> Path:
    database = tmp_path / "empty.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE unused (x)")
    path = tmp_path / "slow.yaml"
    path.write_text(CONFIG.format(database=database, output=tmp_path / "out", shortname=shortname, extra=extra),
                    "utf-8")
    return path


class Run:
    """`mobilise run CONFIG` in a new session (its own process group), its stderr in a file."""

    def __init__(self, config: Path, *options: str, api_url: str | None):
        self.marker = uuid.uuid4().hex
        env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
        env.update(MOBILISE_STOP_TEST_ROWS=str(ENDLESS), MOBILISE_STOP_TEST_MARKER=self.marker)
        if api_url:
            env["PREFECT_API_URL"] = api_url
        self.stderr_path = config.parent / f"stderr-{self.marker}.log"
        self.work = config.parent / "out" / ".work"
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen([sys.executable, "-m", "mobilise.cli", "run", str(config), *options],
                                            stdout=subprocess.PIPE, stderr=stderr, env=env, start_new_session=True)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", errors="replace")

    def wait_until(self, condition, what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"the run ended before {what}:\n{self.stderr[-3000:]}"
            assert time.monotonic() < deadline, f"no {what} after {timeout} s:\n{self.stderr[-3000:]}"
            time.sleep(0.2)

    def wait_for_extraction(self) -> None:
        self.wait_until(lambda: any(self.work.glob("*/*/occurrence/extracted/*.parquet")), "extracted batch")

    def survivors(self) -> list[psutil.Process]:
        """Live processes this run started (the run's own included), found by the marker in their environment."""
        found = []
        for process in psutil.process_iter():
            try:
                if (process.status() != psutil.STATUS_ZOMBIE
                        and process.environ().get("MOBILISE_STOP_TEST_MARKER") == self.marker):
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        return found

    def wait_for_no_survivors(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (alive := self.survivors()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive, [" ".join(p.cmdline()[:6]) for p in alive]

    def end(self) -> None:
        """Whatever the test found, leave nothing behind."""
        for process in self.survivors():
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()


def _stop(run: Run, signum: int, group: bool) -> float:
    """Send `signum` (to the process group, or to the main process alone); seconds until the process ended."""
    started = time.monotonic()
    if group:
        os.killpg(run.process.pid, signum)
    else:
        run.process.send_signal(signum)
    try:
        run.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 30 s after {signal.Signals(signum).name}:\n{run.stderr[-3000:]}")
    return time.monotonic() - started


def _publish_first_version(config: Path, monkeypatch) -> Path:
    """Publish version 1.0 from 20 rows, in this process (on the session's Prefect API): what must survive."""
    from mobilise.flows.publish import run_publication

    monkeypatch.setenv("MOBILISE_STOP_TEST_ROWS", "2000000")
    result = run_publication(str(config), runner="threads")
    assert result["version"] == "1.0" and result["records"] == 20
    return Path(result["current"])


def test_sigterm_to_the_process_group_cancels_the_run_in_seconds(prefect_api, tmp_path, monkeypatch):
    # what systemd, docker stop and a shell's kill do, here to the whole group, while a local Dask cluster
    # extracts and the run's own temporary Prefect API serves it
    config = _config(tmp_path)
    current = _publish_first_version(config, monkeypatch)
    archive, log = current.read_bytes(), (current.parent / "publications.json").read_bytes()
    run = Run(config, "--runner", "dask", api_url=None)
    try:
        run.wait_for_extraction()
        seconds = _stop(run, signal.SIGTERM, group=True)
        assert seconds < 10, run.stderr[-3000:]
        assert run.process.returncode == 128 + signal.SIGTERM
        assert run.stderr.rstrip().endswith("mobilise: interrupted (SIGTERM); nothing was published")
        assert "ConnectError" not in run.stderr and "Error logging to API" not in run.stderr
        assert not any(run.work.glob("*/*")), list(run.work.glob("*/*"))  # no run folder left
        assert current.read_bytes() == archive  # the last version still served, and the log as it was
        assert (current.parent / "publications.json").read_bytes() == log
        run.wait_for_no_survivors(timeout=3)  # the temporary API and the Dask workers too
    finally:
        run.end()


def test_sigint_to_the_main_process_marks_the_flow_run_cancelled(prefect_api, tmp_path):
    # Ctrl-C's signal to the main process alone, worker threads busy in the query, a shared Prefect server
    from prefect.client.schemas.objects import StateType
    from prefect.settings import PREFECT_API_URL

    run = Run(_config(tmp_path), "--runner", "threads", "--json", api_url=PREFECT_API_URL.value())
    try:
        run.wait_for_extraction()
        seconds = _stop(run, signal.SIGINT, group=False)
        assert seconds < 10, run.stderr[-3000:]
        assert run.process.returncode == 128 + signal.SIGINT
        assert run.stderr.rstrip().endswith("mobilise: interrupted (SIGINT); nothing was published")
        # a --json run prints its one JSON object even when a signal stops it
        printed = json.loads(run.process.stdout.read())
        assert printed["error"] == "interrupted (SIGINT); nothing was published"
        assert printed["exit_status"] == 130 and printed["version"] is None and printed["dataset"] == "slow"
        assert not any(run.work.glob("*/*"))
        assert not (tmp_path / "out" / "slow" / "dwca.zip").exists()
        run.wait_for_no_survivors(timeout=3)
    finally:
        run.end()
    flow_run, task_runs = _flow_run(re.search(r"Beginning flow run '([^']+)'", run.stderr).group(1))
    assert flow_run.state.type == StateType.CANCELLED, flow_run.state
    assert "SIGINT" in flow_run.state.message
    assert task_runs  # the extract task at least, cancelled with the flow run
    assert not [task_run.name for task_run in task_runs if not task_run.state.is_final()]


def _flow_run(name: str):
    """The flow run named `name` (mobilise names each ``<shortname>-<8 hex digits>``) and its task runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort

    with get_client(sync_client=True) as client:
        [flow_run] = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_=name)),
                                           sort=FlowRunSort.ID_DESC, limit=2)
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])),
                                          sort=TaskRunSort.ID_DESC, limit=200)
    return flow_run, task_runs


def test_a_failed_run_is_marked_failed_with_its_error_and_leaves_no_run_folder(prefect_api, tmp_path, monkeypatch):
    from prefect.client.schemas.objects import StateType

    from mobilise.flows.publish import run_publication

    # the 21st row breaks the query: two batches are on disk when the extract task fails
    shortname = f"failing-{uuid.uuid4().hex[:6]}"
    config = _config(tmp_path, shortname, extra=", CASE WHEN n > 2000000 THEN json('{broken') END AS broken")
    monkeypatch.setenv("MOBILISE_STOP_TEST_ROWS", str(ENDLESS))
    with pytest.raises(Exception, match="malformed JSON"):
        run_publication(str(config), runner="threads")
    assert not any((tmp_path / "out" / ".work").glob("*/*"))
    assert not (tmp_path / "out" / shortname / "dwca.zip").exists()
    flow_run, task_runs = _flow_run(shortname)
    assert flow_run.state.type == StateType.FAILED and "malformed JSON" in flow_run.state.message
    assert {run.state.type for run in task_runs if run.name.startswith("extract")} == {StateType.FAILED}


def test_kill_9_of_the_main_process_takes_the_prefect_api_and_dask_workers_with_it(tmp_path):
    run = Run(_config(tmp_path), "--runner", "dask", api_url=None)
    try:
        run.wait_for_extraction()
        commands = [" ".join(process.cmdline()) for process in run.survivors()]
        assert any("uvicorn" in command for command in commands), commands  # the temporary API
        assert sum("spawn_main" in command for command in commands) == 2, commands  # the Dask workers
        run.process.kill()
        run.process.wait()
        run.wait_for_no_survivors(timeout=5)
    finally:
        run.end()


STUCK_CLEAN_UP = """
import os, signal, time
from mobilise import processes
with processes.stop_on_signals(exit_within=1):
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    finally:
        print("cleaning up", flush=True)
        os.kill(os.getpid(), signal.SIGINT)  # a second signal is ignored while the run cleans up
        time.sleep(30)  # a clean-up that hangs
"""


def test_a_clean_up_that_hangs_is_cut_short_by_the_watchdog():
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-c", STUCK_CLEAN_UP], capture_output=True, text=True, timeout=20)
    assert time.monotonic() - started < 10
    assert completed.returncode == 128 + signal.SIGTERM
    assert completed.stdout == "cleaning up\n"
    assert "SIGINT received while stopping" in completed.stderr
    assert completed.stderr.endswith("mobilise: interrupted (SIGTERM); clean-up unfinished after 1 s, exiting\n")


def test_a_stop_inside_a_critical_section_is_held_to_its_end():
    """A SIGTERM between a publication's commit and the swap of its current copies must not cut the two apart: it
    is raised when the section ends, not inside it (publishers/publish.py)."""
    done = []
    with pytest.raises(processes.Interrupted) as stopped:
        with processes.stop_on_signals():
            with processes.critical_section():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # the handler runs here, in the main thread
                done.append("swap")
            done.append("after the section")  # not reached: the held signal is raised at the end of the section
    assert done == ["swap"] and stopped.value.signal == signal.SIGTERM
    with processes.stop_on_signals():  # a new run starts with nothing held
        with processes.critical_section():
            pass
