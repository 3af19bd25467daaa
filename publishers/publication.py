"""Versioned publications in a dataset's folder, replaced atomically so harvesters never see a broken archive.

Layout of ``OUTPUT/<shortname>/`` (the IPT keeps the same things per resource)::

    dwca.zip                 the current archive, what GBIF and DiSSCo harvest
    eml.xml                  the current metadata on its own
    dwca-<version>.zip       every published version
    quarantine-<version>.csv records that were kept out of that version, with reasons
    warnings-<version>.csv   the published records of that version that carry a warning or info flag, with
                             their flags and messages
    amendments-<version>.csv the BDQ amendments applied to that version's records
    report-<version>.json    the run report (publishers.report.RunReport), and .html for people
    .state/record-hashes-<version>.parquet  occurrenceID and hash of each record of that version, compared by
                             the next run (publishers.changes)
    validation/              the same quarantine.csv, warnings.csv, amendments.csv and report.json/.html of a
                             dry run or of a run stopped by a gate (replaced each time)
    publications.json        the version log: when, how many records, checksum

:class:`PublicationDirectory` names these files; nothing else builds their paths.

Every file is written under a temporary name in the same folder, flushed to disk and renamed over the old one,
and the log is written last: a crash at any point leaves the previous publication complete and current.
"""
from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from pydantic import BaseModel

from mobilise.settings import GatesConfig

LOG_NAME = "publications.json"
CURRENT_ARCHIVE = "dwca.zip"
CURRENT_EML = "eml.xml"
VALIDATION = "validation"  # the folder of what a run that published nothing wrote
STATE = ".state"  # what later runs need and harvesters do not (the record hashes of each version)


@dataclass
class Publication:
    version: str
    published: str  # ISO timestamp, UTC
    records: int
    rejected: int
    archive: str  # file name within the dataset folder
    sha256: str
    bytes: int
    changes: dict | None = None  # publishers.changes.ChangeSummary against the version before


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename, else vanishes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        _fsync_directory(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write(target: Path, data: bytes) -> None:
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class PublicationLog:
    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / LOG_NAME

    def entries(self) -> list[Publication]:
        if not self.path.exists():
            return []
        return [Publication(**entry) for entry in json.loads(self.path.read_text(encoding="utf-8"))["versions"]]

    def latest(self) -> Publication | None:
        entries = self.entries()
        return entries[-1] if entries else None

    def next_version(self) -> str:
        """IPT-style versions: 1.0 first, then 1.1, 1.2, ..."""
        latest = self.latest()
        if latest is None:
            return "1.0"
        major, minor = latest.version.split(".")
        return f"{major}.{int(minor) + 1}"

    def append(self, publication: Publication) -> None:
        entries = [asdict(e) for e in self.entries()] + [asdict(publication)]
        atomic_write(self.path, json.dumps({"versions": entries}, indent=2).encode("utf-8"))


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def promote(directory: Path, versioned_archive: Path, eml: bytes) -> None:
    """Make a written version current: dwca.zip and eml.xml are replaced by rename, never rewritten in place."""
    with atomic_path(directory / CURRENT_ARCHIVE) as temporary:
        os.link(versioned_archive, temporary)
    atomic_write(directory / CURRENT_EML, eml)


class PublicationDirectory:
    """A dataset's publication folder (``OUTPUT/<shortname>/``): the name of every file a run writes there.

    ``version`` None names the files of a run that publishes nothing (a dry run, a failed gate), under
    ``validation/``.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.log = PublicationLog(self.directory)

    def _versioned(self, stem: str, suffix: str, version: str | None) -> Path:
        if version is None:
            return self.directory / VALIDATION / f"{stem}{suffix}"
        return self.directory / f"{stem}-{version}{suffix}"

    def archive(self, version: str) -> Path:
        return self.directory / f"dwca-{version}.zip"

    def quarantine(self, version: str | None) -> Path:
        return self._versioned("quarantine", ".csv", version)

    def warnings(self, version: str | None) -> Path:
        return self._versioned("warnings", ".csv", version)

    def amendments(self, version: str | None) -> Path:
        return self._versioned("amendments", ".csv", version)

    def report(self, version: str | None) -> tuple[Path, Path]:
        """(JSON, HTML) of the run report."""
        return self._versioned("report", ".json", version), self._versioned("report", ".html", version)

    def record_hashes(self, version: str) -> Path:
        """The occurrenceIDs and record hashes of `version` (publishers.changes), which the next run compares with;
        in the hidden ``.state/`` folder, which harvesters do not fetch."""
        return self.directory / STATE / f"record-hashes-{version}.parquet"

    def files(self, version: str) -> list[Path]:
        """Every file a version writes besides the log and the current copies: removed if the version fails."""
        return [self.archive(version), self.quarantine(version), self.warnings(version), self.amendments(version),
                *self.report(version), self.record_hashes(version)]

    @property
    def current_archive(self) -> Path:
        return self.directory / CURRENT_ARCHIVE

    def promote(self, version: str, eml: bytes) -> None:
        promote(self.directory, self.archive(version), eml)


# --- publication gates ---------------------------------------------------------------------------------------------

class Gate(BaseModel):
    """One publication gate's verdict, in words a data manager reads in the report."""

    name: str
    passed: bool
    detail: str


def evaluate_gates(gates: GatesConfig, extracted: int, rejected: int, published: int,
                   previous: int | None) -> list[Gate]:
    """Each configured gate (``gates`` of the dataset config) with whether it passed and why; `previous` is the
    record count of the last published version (None: none yet). A source that returned no records never passes."""
    results = []
    if gates.max_rejected_share is not None:
        share = rejected / extracted if extracted else 0.0
        results.append(Gate(name="max_rejected_share", passed=share <= gates.max_rejected_share,
                            detail=f"{share:.1%} of {extracted} records rejected "
                                   f"(limit {gates.max_rejected_share:.0%})"))
    if gates.max_drop_share is not None and previous:
        drop = (previous - published) / previous
        results.append(Gate(name="max_drop_share", passed=drop <= gates.max_drop_share,
                            detail=f"{published} records against {previous} in the last version "
                                   f"({-drop:+.1%}; limit -{gates.max_drop_share:.0%})"))
    if extracted == 0:
        results.append(Gate(name="records_extracted", passed=False, detail="the source returned no records"))
    return results
