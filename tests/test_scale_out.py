"""Map and validate on a 2-worker local Dask cluster through prefect-dask: the same archive as in-process."""
from __future__ import annotations

import pytest

from tests.conftest import SAMPLE_CONFIG, sample_config
from tests.pipeline_helpers import read_core_with_pandas, read_quarantine, run_stages

pytestmark = pytest.mark.prefect


def test_dask_cluster_publishes_the_same_records(prefect_api, sample_db, tmp_path, monkeypatch):
    from mobilise.flows.publish import publish_dataset, task_runner
    from mobilise.settings import ExecutionConfig

    # small partitions of small batches, so that there are several tasks, each of several batches, to spread
    # over the workers (the reference is read as the shipped config says: one partition, one batch)
    text = SAMPLE_CONFIG.read_text().replace("batch_size: 25000", "batch_size: 700")
    assert "keys: 100000" in text
    text = text.replace("keys: 100000", "keys: 2000")
    text = text.replace("  bdq:\n", "  bdq:\n    enabled: false\n")  # as sample_config() does for the reference
    config_path = tmp_path / "sample.yaml"
    config_path.write_text(text)

    reference = run_stages(sample_config(f"sqlite:///{sample_db}", tmp_path / "single", monkeypatch))

    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "dask"))
    runner = task_runner(ExecutionConfig(runner="dask", workers=2))
    result = publish_dataset.with_options(task_runner=runner)(str(config_path))

    assert result["extracted"] == reference.extracted and result["extracted"] > 2 * 700
    assert len(list((tmp_path / "dask").rglob("dwca-1.0.zip"))) == 1
    single, parallel = read_core_with_pandas(reference.archive), read_core_with_pandas(result["archive"])
    assert parallel.equals(single)
    assert read_quarantine(result["quarantine"]).equals(read_quarantine(reference.quarantine))
