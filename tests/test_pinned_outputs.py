"""The sample's publication, pinned: a digest of each file a run publishes (archive members, quarantine, amendments,
reports), at a fixed moment, from the session's 3,000-specimen sample database with the BDQ tests on.

A refactoring must leave every digest as it is. A change that is meant to change what is published updates
``PINNED`` in the same commit and says why in the commit message (the reasons are kept below, newest first).

Reasons the digests were regenerated:
- quarantine.csv: every extracted batch carries the reserved column ``__mobilise_undecodable`` (which source
  columns of a row were not valid text; issue 9 item 7 / issue 14), so the quarantine has one more source column,
  ``source.__mobilise_undecodable`` (empty for the sample); nothing else changed
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
    "dwca.zip/occurrence.txt": "167860690e4bec835825638352f750e1eff3e329348993958cc4dc95852b0bf7",
    "dwca.zip/meta.xml": "2da7a767eec03e97982881bd17cd52d83b52a6678858287527f47a6db2797228",
    "dwca.zip/eml.xml": "07af9587197e11facc49efe17c5539e312c01fb253a5d8848afc7f71e86448f8",
    "quarantine.csv": "b04e728bd24d2054f1599a04dfd542426de49682ae60527976e62a7e39a6f1ab",
    "amendments.csv": "024a79e5701979cc372891512a4f52b3241abaf92f56a1a4472e8eb82ed801c9",
    "report.json": "8a33ade31178387c084d0831d0c97dcaf39b8f1821d3eaf8e0a0ce7a14050787",
    "report.html": "01cd6058d38e7826f881cc8a70eb5018924e154b93b057d29eee605904b3cae0",
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
