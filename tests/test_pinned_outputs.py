"""The sample's publication, pinned: a digest of each file a run publishes (archive members, quarantine, amendments,
reports), at a fixed moment, from the session's 3,000-specimen sample database with the BDQ tests on.

A refactoring must leave every digest as it is. A change that is meant to change what is published updates
``PINNED`` in the same commit and says why in the commit message (the reasons are kept below, newest first).

Reasons the digests were regenerated:
- report.json: the amendments section lists the accepted amendments refused (issue 9 item 6), empty here
- issue 9 items 3, 4, 6 (branch wt9b): country names by exact lookup ('Congo' names CD or CG: flagged, no longer
  published as CG); amendments CSV gains the columns applied and note, an applied coordinate amendment keeps the
  original in verbatimLatitude/verbatimLongitude; the sample config no longer accepts
  AMENDMENT_EVENTDATE_FROM_VERBATIM (it filled no record)
- eml.xml: the temporal coverage runs from the first day of the earliest published date's period (beginDate
  1850 became 1850-01-01) to the last day of the latest (issue 9, item 2: dates at their real precision)
- (first pinned before the run catalog refactoring, issue 8)
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine

from tests.conftest import sample_config
from tests.pipeline_helpers import run_stages

# the moment of the pinned run: every timestamp a publication carries (EML pubDate/dateStamp, report, zip entries)
MOMENT = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)

PINNED = {
    "dwca.zip/occurrence.txt": "198b1c5c61df1c45da11e5c318fab3094bff94129226b656c159869cf6a1c597",
    "dwca.zip/meta.xml": "2da7a767eec03e97982881bd17cd52d83b52a6678858287527f47a6db2797228",
    "dwca.zip/eml.xml": "9ba08bc478e0b7062bef2d9332c35d1853012afd6168876bed4278c785b6279e",
    "quarantine.csv": "95d1ced8656546383940c0b1d2380a89655b80b28ba43ea3c819693b6210c8df",
    "amendments.csv": "496c825a259e86d1b081c190070903d777412f3e1ecc3cae985e816eba5dc2f9",
    "report.json": "8001dc58dffc8eac140e1702f56f5aa7e5536f2f4de6c242ce8caca052982a13",
    "report.html": "9d8f4d3daf65497657c46abdbca2016c66077043aba03aab544dae95dd1647e3",
}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def published_digests(result, sample_db: Path) -> dict[str, str]:
    """sha256 of each published file's content (the zip container's own bytes vary with compression threads);
    the reports name the source database, whose temporary path differs from session to session."""
    digests = {}
    with zipfile.ZipFile(result.archive) as archive:
        for member in ("occurrence.txt", "meta.xml", "eml.xml"):
            digests[f"dwca.zip/{member}"] = _digest(archive.read(member))
    digests["quarantine.csv"] = _digest(Path(result.quarantine).read_bytes())
    digests["amendments.csv"] = _digest(Path(result.amendments).read_bytes()) if result.amendments else ""
    html = Path(result.report)
    report = json.loads(html.with_suffix(".json").read_text(encoding="utf-8").replace(str(sample_db), "SAMPLE"))
    digests["report.json"] = _digest(json.dumps(report, sort_keys=True, ensure_ascii=False).encode())
    digests["report.html"] = _digest(html.read_text(encoding="utf-8").replace(str(sample_db), "SAMPLE").encode())
    return digests


@pytest.fixture(scope="module")
def pinned_run(sample_db, tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    try:
        config = sample_config(f"sqlite:///{sample_db}", tmp_path_factory.mktemp("pinned") / "output",
                               monkeypatch, bdq=True)
        with time_machine.travel(MOMENT, tick=False):
            result = run_stages(config)
        yield result, published_digests(result, sample_db)
    finally:
        monkeypatch.undo()


def test_run_is_reproducible(pinned_run, sample_db, tmp_path):
    """The digests pin something: a second run at the same moment gives the same files."""
    _, first = pinned_run
    monkeypatch = pytest.MonkeyPatch()
    try:
        config = sample_config(f"sqlite:///{sample_db}", tmp_path / "output", monkeypatch, bdq=True)
        with time_machine.travel(MOMENT, tick=False):
            again = run_stages(config)
    finally:
        monkeypatch.undo()
    assert published_digests(again, sample_db) == first


@pytest.mark.parametrize("name", sorted(PINNED))
def test_published_file_is_unchanged(pinned_run, name):
    result, digests = pinned_run
    assert result.records + result.rejected == result.extracted
    assert digests[name] == PINNED[name], (
        f"{name} changed: if the change is meant, update PINNED[{name!r}] to {digests[name]!r} and say why")
