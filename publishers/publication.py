"""Versioned publications in a dataset's folder, replaced atomically so harvesters never see a broken archive.

Layout of ``OUTPUT/<shortname>/`` (the IPT keeps the same things per resource)::

    dwca.zip                 the current archive, what GBIF and DiSSCo harvest
    eml.xml                  the current metadata on its own
    dwca-<version>.zip       every published version
    quarantine-<version>.csv records that were kept out of that version, with reasons
    validation/quarantine.csv what `mobilise validate` (a dry run) would keep out
    publications.json        the version log: when, how many records, checksum

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

LOG_NAME = "publications.json"
CURRENT_ARCHIVE = "dwca.zip"
CURRENT_EML = "eml.xml"


@dataclass
class Publication:
    version: str
    published: str  # ISO timestamp, UTC
    records: int
    rejected: int
    archive: str  # file name within the dataset folder
    sha256: str
    bytes: int


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
