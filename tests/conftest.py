"""Shared fixtures: one sample database per session, one Prefect test API per session."""
from __future__ import annotations

from pathlib import Path

import pytest

from mobilise.settings import DatasetConfig, load_config

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CONFIG = REPO / "config" / "sample.yaml"
SAMPLE_SPECIMENS = 3000


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    from mobilise.samples import build_sample_database

    return build_sample_database(tmp_path_factory.mktemp("sample") / "sample.sqlite",
                                 specimens=SAMPLE_SPECIMENS, seed=7)


def sample_config(url: str, output: Path, monkeypatch: pytest.MonkeyPatch, bdq: bool = False) -> DatasetConfig:
    """The shipped sample config, pointed at `url` and writing below `output`, through its own ${ENV} hooks.

    The BDQ tests are switched off unless asked for: they have tests of their own, and most end-to-end tests
    are about the data path.
    """
    monkeypatch.setenv("MOBILISE_SAMPLE_URL", url)
    monkeypatch.setenv("MOBILISE_OUTPUT", str(output))
    config = load_config(SAMPLE_CONFIG)
    config.validation.bdq.enabled = bdq
    return config


@pytest.fixture
def sqlite_config(sample_db, tmp_path, monkeypatch) -> DatasetConfig:
    return sample_config(f"sqlite:///{sample_db}", tmp_path / "output", monkeypatch)


@pytest.fixture(scope="session")
def prefect_api():
    """A real Prefect API for flow tests; started once because it costs 10-20 s."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield

