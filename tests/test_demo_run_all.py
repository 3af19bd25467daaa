"""`mobilise run-all config/` as a data manager starts it (issue 10 item 8): the four datasets shipped in config/ (the
sample and the three demo institutions), each beside its freshly generated source, published in one command; every
archive read back with python-dwca-reader has its extensions and no orphaned extension row, and every
published version carries its Darwin Core Data Package when its config asks for one."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dwca.read import DwCAReader

from mobilise.publishers.publication import PublicationLog
from mobilise.settings import load_config

REPO = Path(__file__).resolve().parents[1]
CONFIGS = ("sample.yaml", "rbins-darwin.yaml", "meise-specify.yaml", "lab-spreadsheet.yaml")


def _mobilise(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mobilise.cli", *args], capture_output=True, text=True,
                          timeout=900, env=env)


def test_run_all_publishes_every_shipped_dataset_with_its_extensions(tmp_path):
    root = tmp_path / "museum"
    shutil.copytree(REPO / "config", root / "config")
    env = {k: v for k, v in os.environ.items() if k not in ("RBINS_DARWIN_URL", "MEISE_SPECIFY_URL")}
    env["MOBILISE_OUTPUT"] = str(root / "output")
    for target, kind, size in (("data/sample.sqlite", "sample", "400"), ("data/demo/darwin.sqlite", "darwin", "300"),
                               ("data/demo/specify.sqlite", "specify", "300"), ("data/demo/lab.xlsx", "lab", None)):
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        written = _mobilise("sample-db", str(root / target), "--kind", kind, *(("--specimens", size) if size else ()),
                            "--seed", "7", env=env)
        assert written.returncode == 0, written.stderr[-2000:]

    completed = _mobilise("run-all", str(root / "config"), "--json", "--runner", "threads", env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads(completed.stdout)
    assert summary["failed"] == 0, summary
    assert sorted(Path(o["config"]).name for o in summary["datasets"]) == sorted(CONFIGS)
    assert {o["result"] for o in summary["datasets"]} == {"published"}

    with_extensions = 0
    for name in CONFIGS:
        config = load_config(root / "config" / name)
        latest = PublicationLog(config.publication_directory).latest()
        assert latest is not None, name
        archive = config.publication_directory / f"dwca-{latest.version}.zip"
        with DwCAReader(archive) as dwca:
            assert sum(1 for _ in dwca) == latest.records > 0, name
            orphaned = dwca.orphaned_extension_rows()
            assert all(not rows for rows in orphaned.values()), (name, orphaned)
            if dwca.descriptor.extensions:
                with_extensions += 1
                assert any(row.extensions for row in dwca), name
        if config.output.dwc_dp.enabled:
            assert latest.dwc_dp and (config.publication_directory / latest.dwc_dp["file"]).is_file(), name
    assert with_extensions == 3  # each demo institution publishes extensions; the sample has none
