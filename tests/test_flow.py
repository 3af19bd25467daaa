"""The Prefect flow and the command line, on a real (test) Prefect API."""
from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import SAMPLE_CONFIG
from tests.pipeline_helpers import read_core_with_pandas

pytestmark = pytest.mark.prefect


def test_publish_dataset_flow(prefect_api, sample_db, tmp_path, monkeypatch):
    from mobilise.flows.publish import publish_dataset

    monkeypatch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{sample_db}")
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path))
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = publish_dataset(str(SAMPLE_CONFIG))
    after = resource.getrusage(resource.RUSAGE_SELF)
    assert result["version"] == "1.0"
    assert result["records"] == len(read_core_with_pandas(result["archive"]))
    assert result["records"] + result["rejected"] == result["extracted"]
    # wall and CPU seconds per stage, summed over the task threads, BDQ on as shipped (mobilise/timings.py)
    stages = result["stages"]
    assert list(stages) == ["extract", "map", "duplicates", "gbif_checks", "bdq", "mids_dissco", "validate", "write"]
    assert all(times["wall_s"] > 0 and times["cpu_s"] > 0 for times in stages.values())
    run_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    assert sum(times["cpu_s"] for times in stages.values()) <= run_cpu
    # the run folder (batches on disk) is removed after a successful run
    assert not any((tmp_path / ".work" / "mobilise-sample").iterdir())


def test_flow_failure_publishes_nothing(prefect_api, tmp_path, monkeypatch):
    from mobilise.flows.publish import publish_dataset

    monkeypatch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{tmp_path / 'missing.sqlite'}")
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "out"))
    with pytest.raises(Exception, match=r"the SQLite database .*missing.sqlite does not exist"):
        publish_dataset(str(SAMPLE_CONFIG))
    assert not (tmp_path / "out" / "mobilise-sample" / "dwca.zip").exists()


def _mobilise(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mobilise.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_cli_run_json_prints_one_object(sample_db, tmp_path):
    env = {"MOBILISE_SAMPLE_URL": f"sqlite:///{sample_db}", "MOBILISE_OUTPUT": str(tmp_path)}
    # Dask, not the threads that runner: auto picks for this small sample: the workers must share one API
    completed = _mobilise("run", str(SAMPLE_CONFIG), "--json", "--runner", "dask", env=env)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)  # stdout holds exactly one JSON object; logs go to stderr
    # the flow and the local Dask workers share one temporary Prefect API (each used to start its own)
    assert completed.stderr.count("Starting temporary server") == 1, completed.stderr[-2000:]
    assert "Error logging to API" not in completed.stderr  # queued logs were sent before the API stopped
    # the workers, idle once everything is validated, do not hold their memory through the write step
    assert re.search(r"closed the local Dask cluster's [1-9]\d* worker processes before writing", completed.stderr)
    assert {"archive", "records", "rejected", "version"} <= set(result)
    assert result["version"] == "1.0" and result["records"] > 0
    assert result["stages"]["bdq"]["cpu_s"] > 0 and result["stages"]["write"]["wall_s"] > 0  # from the workers too
    with zipfile.ZipFile(result["archive"]) as archive:
        assert archive.read("occurrence.txt").count(b"\n") == result["records"] + 1


def test_cli_reports_config_errors_with_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SAMPLE_CONFIG.read_text().replace("  batch_size: 25000", "  batch_sise: 25000"))
    completed = _mobilise("validate", str(bad), "--config-only", env={})
    assert completed.returncode == 2
    assert f"{bad}:7: source.batch_sise: unknown key (did you mean 'batch_size'?)" in completed.stderr
