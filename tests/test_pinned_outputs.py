"""The sample's publication, pinned: a digest of each file a run publishes (archive members, quarantine, amendments,
reports), at a fixed moment, from the session's 3,000-specimen sample database with the BDQ tests on.

A refactoring must leave every digest as it is. A change that is meant to change what is published updates
``PINNED`` in the same commit and says why in the commit message (the reasons are kept below, newest first).

Reasons the digests were regenerated:
- report.json: the totals gain ``excluded`` and ``excluded_by`` (records kept out by the dataset's filters and
  sensitive.exclude_when, issue 10 items 5 and 7); 0 and {} for the sample, which has no rules; the change summary
  gains ``now_excluded`` (removed records the rules now exclude), 0 here
- report.json: the change summary gains ``deleted`` (records removed because a deletion reconciliation found
  their key gone from the source; issue 13 item 4), 0 here; nothing else changed
- report.json/.html: the values no vocabulary translates, per table and term (issue 10 item 6): the sample's
  basisOfRecord 'specimen?' (7 records) and 'unknown' (1), a new section of the page
- report.json: the change summary says whether only the metadata changed (``metadata_changed``, false here)
- issue 11: eml.xml carries the full GBIF EML profile 1.3 content (taxonomic coverage per family from the published
  records, countries, ROR ids, alternate identifiers, project, collection data from the sample config);
  report.json/.html gain the change summary since the last version (here: the first version, every record added)
- issue 9 items 1, 8, 9: the publication policy (a record is kept out only for no/duplicate occurrenceID, no or an
  invalid basisOfRecord or undecodable text; wrong values are removed, their originals kept in the verbatim terms
  or dynamicProperties), CATALOG_NUMBER_DUPLICATED on the sample's duplicate catalogue numbers, flags counted per
  record, warnings.csv added to the pinned files; control characters removed (the sample has none)
- quarantine.csv: every extracted batch carries the reserved column ``__mobilise_undecodable`` (which source
  columns of a row were not valid text; issue 9 item 7 / issue 14), so the quarantine has one more source column,
  ``source.__mobilise_undecodable`` (empty for the sample); nothing else changed
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
    "dwca.zip/occurrence.txt": "3ba443203e82a67a284ce3a7f25da0e794068d7d22e49181b3ae81e6281e92be",
    "dwca.zip/meta.xml": "b6e83891a39b8a4891281e3dee0fc4c825302f3420d985bedf90a096de779636",
    "dwca.zip/eml.xml": "bd40317ca21dfaecdd12a4c82a3392c6e419692cba8618c0cc00e06d42768094",
    "quarantine.csv": "7b8b746fe65af9d44447301d1026d383907932bbcd22a534b7e5e1342254c0f8",
    "warnings.csv": "f44b235dd08c3c3714cf0171b141877583b6f224656a924bf6084a98cd1a3603",
    "amendments.csv": "496c825a259e86d1b081c190070903d777412f3e1ecc3cae985e816eba5dc2f9",
    "report.json": "ace0d6a7d71fd2fc910b5b7164d9267924550c2d57b180a65727f6fc6cfaff1b",
    "report.html": "c88771edc6f56028bd24dcee2f719a9193d7b6e0c0716784176ed804847b618e",
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
    digests["warnings.csv"] = _digest(Path(result.warnings).read_bytes())
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
