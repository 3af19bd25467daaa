"""`mobilise run CONFIG --json` prints one JSON object even when the run fails, so a scheduler that parses the
output always gets one: the error, and the exit status the command ends with.

The command runs in a subprocess, as a scheduler starts it (and because Prefect's log handler keeps the stream it
finds when first imported: under typer's CliRunner that stream is closed after the test)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mobilise.publishers.publication import PublicationDirectory
from tests.conftest import SAMPLE_CONFIG, sample_config


def _mobilise(*arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mobilise.cli", *arguments], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_a_config_error_prints_one_json_object(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("source:\n  url: sqlite:///x.db\n  url: twice\n", encoding="utf-8")
    result = _mobilise("run", str(path), "--json")
    assert result.returncode == 2
    printed = json.loads(result.stdout)
    assert printed["exit_status"] == 2 and printed["version"] is None and printed["records"] is None
    assert printed["error"].startswith(f"{path}:3:3: the key 'url' is given twice")
    assert printed["error"] in result.stderr  # the same line a person reads


def test_a_run_refused_by_the_dataset_lock_prints_one_json_object(sample_db, tmp_path, monkeypatch):
    output = tmp_path / "output"
    config = sample_config(f"sqlite:///{sample_db}", output, monkeypatch)
    environment = {"MOBILISE_SAMPLE_URL": f"sqlite:///{sample_db}", "MOBILISE_OUTPUT": str(output)}
    held = PublicationDirectory(config.publication_directory).acquire()  # another run is publishing
    try:
        for command in ("run", "validate"):
            result = _mobilise(command, str(SAMPLE_CONFIG), "--json", env=environment)
            assert result.returncode == 1, result.stderr
            printed = json.loads(result.stdout)
            assert printed["dataset"] == config.shortname and printed["exit_status"] == 1
            assert printed["version"] is None and "is being published by another run" in printed["error"]
    finally:
        held.release()
    assert not Path(config.publication_directory, "publications.json").exists()
