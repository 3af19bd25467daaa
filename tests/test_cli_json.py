"""`mobilise run CONFIG --json` prints one JSON object even when the run fails, so a scheduler that parses the
output always gets one: the error, and the exit status the command ends with."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from mobilise.cli import app
from mobilise.publishers.publication import PublicationDirectory
from tests.conftest import SAMPLE_CONFIG, sample_config


def test_a_config_error_prints_one_json_object(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("source:\n  url: sqlite:///x.db\n  url: twice\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 2
    printed = json.loads(result.stdout)
    assert printed["exit_status"] == 2 and printed["version"] is None and printed["records"] is None
    assert printed["error"].startswith(f"{path}:3:3: the key 'url' is given twice")


def test_a_run_refused_by_the_dataset_lock_prints_one_json_object(sample_db, tmp_path, monkeypatch):
    config = sample_config(f"sqlite:///{sample_db}", tmp_path / "output", monkeypatch)  # the CLI reads the same
    held = PublicationDirectory(config.publication_directory).acquire()  # another run is publishing
    try:
        for command in ("run", "validate"):
            result = CliRunner().invoke(app, [command, str(SAMPLE_CONFIG), "--json"])
            assert result.exit_code == 1
            printed = json.loads(result.stdout)
            assert printed["dataset"] == config.shortname and printed["exit_status"] == 1
            assert printed["version"] is None and "is being published by another run" in printed["error"]
    finally:
        held.release()
