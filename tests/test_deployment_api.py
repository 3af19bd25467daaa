"""Runs started through Prefect's API on a deployment served by `mobilise serve` (issue 13 items 2 and 3), against
the session's real Prefect server: a backfill (since/until) from Python (``prefect.deployments.run_deployment``)
and an incremental run over plain HTTP (Prefect's REST API, ``POST /deployments/{id}/create_flow_run``), each
publishing the new values of a SQLite source; the served runs log as `mobilise run` does (mobilise/runlog.py)."""
from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import httpx
import sqlalchemy as sa

from mobilise.samples import build_sample_database
from tests.test_operations import write_config
from tests.test_serve import Serve, api_url  # noqa: F401  (fixture)

LATER = "2026-06-01T00:00:00"  # after every modified_at of the sample: what an incremental run reads
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def versions(output: Path, name: str) -> list[dict]:
    """The version log entries of dataset `name` (publications.json)."""
    log = json.loads((output / name / "publications.json").read_text("utf-8"))
    return log["versions"] if isinstance(log, dict) else log


def occurrences(archive: Path) -> str:
    with zipfile.ZipFile(archive) as bundle:
        return bundle.read("occurrence.txt").decode("utf-8")


def update(url: str, remarks: str, where: str, modified_at: str | None = None) -> int:
    """Set `remarks` (and modified_at, when given) of the public records matching `where`; how many."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            ids = [row[0] for row in connection.execute(sa.text(
                f"SELECT object_id FROM collection_object WHERE is_public = 1 AND {where} ORDER BY object_id "
                f"LIMIT 3"))]
            stamp = ", modified_at = :at" if modified_at else ""
            connection.execute(sa.text(f"UPDATE collection_object SET remarks = :remarks{stamp} WHERE object_id IN "
                                       f"({', '.join(map(str, ids))})"), {"remarks": remarks, "at": modified_at})
    finally:
        engine.dispose()
    return len(ids)


def test_backfill_from_python_and_incremental_run_over_http_publish(api_url, tmp_path):  # noqa: F811
    from prefect.deployments import run_deployment

    folder, output = tmp_path / "configs", tmp_path / "output"
    folder.mkdir()
    db = build_sample_database(tmp_path / "ops.sqlite", specimens=300, seed=21)
    url = f"sqlite:///{db}"
    config = write_config(folder / "ops.yaml", "ops-api", url, output)
    with open(config, "a", encoding="utf-8") as handle:
        handle.write("execution:\n  runner: threads\n  workers: 2\n")

    serve = Serve(folder, api_url)
    try:
        serve.wait_serving(folder, ["ops-api"])
        first = run_deployment("publish_dataset/ops-api", timeout=180)
        assert first.state.is_completed(), f"{first.state}\n{serve.output}"
        assert [entry["version"] for entry in versions(output, "ops-api")] == ["1.0"]

        # (a) a backfill from Python: records changed inside an old window (modified_at untouched, so before the
        # watermark: an incremental run would not read them) are re-read, merged and published
        changed = update(url, "fixed in a backfill", "modified_at >= '2021-01-01' AND modified_at < '2022-01-01'")
        assert changed == 3
        backfill = run_deployment("publish_dataset/ops-api", timeout=180,
                                  parameters={"since": "2021-01-01", "until": "2022-01-01"})
        assert backfill.state.is_completed(), f"{backfill.state}\n{serve.output}"
        assert backfill.parameters["since"] == "2021-01-01"
        log = versions(output, "ops-api")
        assert [entry["version"] for entry in log] == ["1.0", "1.1"]
        assert log[-1]["changes"]["changed"] == changed
        assert occurrences(output / "ops-api" / "dwca-1.1.zip").count("fixed in a backfill") == changed

        # (b) an incremental run over plain HTTP, as `curl -X POST .../create_flow_run` starts one
        updated = update(url, "changed since the watermark", "modified_at < '2021-01-01'", modified_at=LATER)
        with httpx.Client(base_url=api_url, timeout=30) as http:
            deployment = http.get("/deployments/name/publish_dataset/ops-api")
            deployment.raise_for_status()
            created = http.post(f"/deployments/{deployment.json()['id']}/create_flow_run",
                                json={"parameters": {"mode": "incremental"}})
            assert created.status_code == 201, created.text
            run_id = created.json()["id"]
            deadline = time.monotonic() + 180
            while (state := http.get(f"/flow_runs/{run_id}").json()["state"]["type"]) not in FINAL:
                assert time.monotonic() < deadline, f"run {run_id} still {state}\n{serve.output}"
                time.sleep(1)
            assert state == "COMPLETED", serve.output
            assert http.get(f"/flow_runs/{run_id}").json()["parameters"]["mode"] == "incremental"
        log = versions(output, "ops-api")
        assert [entry["version"] for entry in log] == ["1.0", "1.1", "1.2"]
        assert log[-1]["changes"]["changed"] == updated
        archive = occurrences(output / "ops-api" / "dwca-1.2.zip")
        assert archive.count("changed since the watermark") == updated
        assert archive.count("fixed in a backfill") == changed  # the backfill's values stay

        # the served runs log as `mobilise run` does: Mobilise's lines, without Prefect's INFO chatter
        text = serve.output
        assert "records published" in text, text
        assert "incremental run: the records with" in text, text
        assert "Finished in state Completed" not in text, text
    finally:
        serve.stop()
