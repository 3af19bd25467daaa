"""`mobilise run --dask-address` on a Dask cluster started as a user would (`dask scheduler`, `dask worker`).

The scheduler and the worker are the `dask` command line's, in processes of their own, with no Prefect or
mobilise setting in their environment; the run's archive must hold the records a local threads run publishes, and
the run's tasks must have run on that worker (the scheduler's task stream).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_CONFIG

DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
pytestmark = pytest.mark.skipif(DASK is None, reason="the dask command line (installed with distributed) is missing")


def _environment(**extra: str) -> dict:
    """A user's shell: no Prefect, mobilise or Dask settings inherited from the test process."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MOBILISE_", "DASK_"))}
    return {**clean, **extra}


def _start(args: list[str], log: Path, cwd: Path, **env: str) -> subprocess.Popen:
    with log.open("w") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([DASK, *args], stdout=handle, stderr=subprocess.STDOUT, cwd=cwd,
                                env=_environment(**env), start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _run(database: Path, output: Path, *extra: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "mobilise.cli", "run", str(SAMPLE_CONFIG), "--json", *extra],
                          capture_output=True, text=True, timeout=300,
                          env=_environment(MOBILISE_SAMPLE_URL=f"sqlite:///{database}", MOBILISE_OUTPUT=str(output)))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _core(archive: str) -> list[bytes]:
    with zipfile.ZipFile(archive) as handle:
        return handle.read("occurrence.txt").splitlines()


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    from mobilise.samples import build_sample_database

    return build_sample_database(tmp_path_factory.mktemp("cluster") / "sample.sqlite", specimens=300, seed=7)


def test_run_on_a_user_started_dask_cluster_publishes_the_local_records(small_db, tmp_path):
    from distributed import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                       tmp_path / "scheduler.log", tmp_path)
    worker = None
    try:
        worker = _start(["worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                         "--name", "user-worker"], tmp_path / "worker.log", tmp_path,
                        # the tasks load the config by its path: the worker needs its ${ENV} variables, as a user
                        # exports them in the worker's shell (the values never travel with the tasks)
                        MOBILISE_SAMPLE_URL=f"sqlite:///{small_db}", MOBILISE_OUTPUT=str(tmp_path / "cluster"))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
            client.get_task_stream()  # the scheduler records the tasks from now on
            since = time.time()
            on_cluster = _run(small_db, tmp_path / "cluster", "--dask-address", address)
            stream = client.get_task_stream(start=since)
            worker_names = {info["name"] for info in client.scheduler_info()["workers"].values()}
    finally:
        if worker is not None:
            _stop(worker)
        _stop(scheduler)
    assert worker_names == {"user-worker"}
    # the batches were mapped and validated on the user's worker, not in the run's process
    assert stream, (tmp_path / "worker.log").read_text()[-3000:]
    ran = {re.sub(r"-[0-9a-f]{32}$", "", str(record["key"])) for record in stream}
    assert {"extract_task", "map_task", "validate_task"} <= ran, ran

    local = _run(small_db, tmp_path / "threads", "--runner", "threads")
    assert on_cluster["records"] == local["records"] > 0
    cluster_lines, local_lines = _core(on_cluster["archive"]), _core(local["archive"])
    assert len(cluster_lines) == on_cluster["records"] + 1
    assert cluster_lines[0] == local_lines[0]
    assert sorted(cluster_lines[1:]) == sorted(local_lines[1:])

