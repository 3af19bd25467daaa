"""Versioned publications in a dataset's folder, committed by one write of the version log, so harvesters never
see a broken archive and a crash never leaves a half-made version.

Layout of ``OUTPUT/<shortname>/`` (the IPT keeps the same things per resource)::

    dwca.zip                 the current archive, what GBIF and DiSSCo harvest (a hard link to the latest
                             dwca-<version>.zip)
    eml.xml                  the current metadata on its own (a hard link to the latest eml-<version>.xml)
    dwca-<version>.zip       every published version
    eml-<version>.xml        its metadata (the IPT keeps versioned EML too)
    dwc-dp-<version>.zip     the version's Darwin Core Data Package, derived from the same published rows
                             (``output.dwc_dp``; publishers.dwcdp), and ``dwc-dp.zip`` the current one (a hard
                             link, like dwca.zip; absent when the latest version has no package)
    quarantine-<version>.csv records that were kept out of that version, with reasons
    warnings-<version>.csv   the published records of that version that carry a warning or info flag, with
                             their flags and messages
    amendments-<version>.csv the BDQ amendments applied to that version's records
    excluded-<version>.csv   the records the dataset's rules (filters, sensitive.exclude_when) kept out of that
                             version, with the rule and their source key columns (only when there are any)
    excluded-<ext>-<version>.csv  the rows of extension <ext> excluded with their core record (only when any)
    report-<version>.json    the run report (publishers.report.RunReport), and .html for people
    .state/record-hashes-<version>.parquet  occurrenceID and hash of each record of that version, compared by
                             the next run (publishers.changes)
    .state/staged-<version>/ the records of that version with their source keys and a manifest (watermark,
                             config hash): what an incremental run merges into (publishers.staging)
    .state/last-failure.json the last run that failed before publishing (time, duration, the error in one line,
                             secrets masked): what `mobilise status` shows without a Prefect API
    validation/              the same quarantine.csv, warnings.csv, amendments.csv, excluded.csv, report.json/.html of a
                             dry run or of a run stopped by a gate (replaced each time)
    publications.json        the version log: when, how many records, checksum; the COMMIT POINT
    .lock                    the dataset lock (:meth:`PublicationDirectory.lock`), naming the run that holds it

:class:`PublicationDirectory` names these files; nothing else builds their paths.

What a crash (kill -9, power cut, full disk) can and cannot do:

1. A run holds the dataset lock (``fcntl.flock`` on ``.lock``) from its start to its end, so two runs of a
   dataset never interleave; the kernel releases the lock when the process dies, however it dies.
2. Under the lock, :meth:`PublicationDirectory.recover` first repairs what a killed run left: it makes the
   current copies match the log's latest version (roll forward), removes ``.partial`` files and the files of every
   version the log does not list (a killed attempt's, or one retention was removing).
3. The next version number is reserved before any file of it is written (:meth:`PublicationLog.reserve`): it is
   recorded in the log (``"reserved"``, beside ``"versions"``) and is higher than every version in the log, every
   version reserved before and every versioned file on disk. **Numbers are never reused**: a version that was
   written in part and then lost (a kill, a full disk, an error) leaves a gap (1.3, 1.5), never a second, different
   1.4 that a harvester may already have fetched as dwca-1.4.zip.
4. Every file of the version (archive, EML, CSVs, reports) is written under a temporary ``.partial`` name in the
   same folder, flushed to disk and renamed; then the version is COMMITTED by one atomic rename of the log
   (:meth:`PublicationLog.append`). A version exists if and only if it is in the log.
5. Only then are ``dwca.zip`` and ``eml.xml`` swapped (a hard link each, renamed over the old one) and the site
   files refreshed; both are derived from the log, and a crash between the commit and the end of the swap is
   rolled forward by the next run's :meth:`~PublicationDirectory.recover`.
6. Retention (``output.keep_versions``) marks old versions ``removed`` in the log first, then deletes their files.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import time
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from pydantic import BaseModel

from mobilise.settings import GatesConfig

log = logging.getLogger(__name__)
LOG_NAME = "publications.json"
CURRENT_ARCHIVE = "dwca.zip"
CURRENT_EML = "eml.xml"
CURRENT_PACKAGE = "dwc-dp.zip"  # the current Darwin Core Data Package
VALIDATION = "validation"  # the folder of what a run that published nothing wrote
STATE = ".state"  # what later runs need and harvesters do not (the record hashes of each version)
LOCK_NAME = ".lock"
PARTIAL = ".partial"  # the suffix of every file being written (atomic_path)
#: a versioned file's name: <stem>-<major>.<minor><suffix>
VERSIONED = re.compile(r"^[a-z-]+-(\d+\.\d+)\.[a-z]+$")


@dataclass
class Publication:
    """One committed version in the log. Fields added later have defaults, so older logs load; unknown keys are
    ignored (:meth:`from_dict`)."""

    version: str
    published: str  # ISO timestamp, UTC
    records: int
    rejected: int
    archive: str  # file name within the dataset folder
    sha256: str  # of the archive
    bytes: int
    changes: dict | None = None  # publishers.changes.ChangeSummary against the version before
    eml: str | None = None  # the versioned EML file name (None in logs written before it existed)
    # the version's Darwin Core Data Package: {file, sha256, bytes, schema_version, profile, tables (rows per
    # table), values_left_out, ...: publishers.dwcdp.PackageSummary}; None: the version has none
    dwc_dp: dict | None = None
    removed: bool = False  # retention deleted its files; kept in the log for history

    @classmethod
    def from_dict(cls, entry: dict) -> "Publication":
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in entry.items() if key in known})


def version_key(version: str) -> tuple[int, int]:
    """``"1.10"`` -> ``(1, 10)``: versions in order."""
    major, minor = version.split(".")
    return int(major), int(minor)


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
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename, else vanishes
    (a killed process leaves it: :meth:`PublicationDirectory.recover` removes it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}{PARTIAL}")
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


def atomic_link(source: Path, target: Path) -> None:
    """Make `target` a hard link to `source` in one rename (a reader sees the old file or the new, never none)."""
    with atomic_path(target) as temporary:
        temporary.unlink(missing_ok=True)
        os.link(source, temporary)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class PublicationLog:
    """``publications.json``: ``{"versions": [Publication, ...], "reserved": "1.4"}``, oldest first.

    Written only by atomic rename, by a run that holds the dataset lock."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / LOG_NAME

    def _read(self) -> dict:
        if not self.path.exists():
            return {"versions": []}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def _write(self, entries: list[Publication], reserved: str | None) -> None:
        document: dict = {"versions": [asdict(e) for e in entries]}
        if reserved is not None:
            document["reserved"] = reserved
        atomic_write(self.path, json.dumps(document, indent=2).encode("utf-8"))

    def entries(self) -> list[Publication]:
        """Every committed version, oldest first, including those retention removed (``removed`` True)."""
        return [Publication.from_dict(entry) for entry in self._read()["versions"]]

    def live(self) -> list[Publication]:
        """The committed versions whose files are kept, oldest first."""
        return [entry for entry in self.entries() if not entry.removed]

    def latest(self) -> Publication | None:
        """The current version: the newest one not removed (None: nothing published yet)."""
        entries = self.live()
        return entries[-1] if entries else None

    def reserved(self) -> str | None:
        """The last version number reserved (committed or not)."""
        return self._read().get("reserved")

    def next_version(self, on_disk: list[str] = ()) -> str:
        """IPT-style versions: 1.0 first, then 1.1, 1.2, ...: one above every version in the log, the last one
        reserved and every version in `on_disk` (versions with files in the folder)."""
        used = [e.version for e in self.entries()] + list(on_disk)
        if self.reserved():
            used.append(self.reserved())
        if not used:
            return "1.0"
        major, minor = max(version_key(v) for v in used)
        return f"{major}.{minor + 1}"

    def reserve(self, on_disk: list[str] = ()) -> str:
        """Reserve the next version (:meth:`next_version`) durably, before any file of it is written: it is never
        handed out again, whatever happens to this run."""
        version = self.next_version(on_disk)
        self._write(self.entries(), version)
        return version

    def note_used(self, versions: list[str]) -> None:
        """Record that `versions` were handed out (files of them were found on disk), so they never are again."""
        top = max([*versions, *filter(None, [self.reserved()])], key=version_key)
        if top != self.reserved():
            self._write(self.entries(), top)

    def append(self, publication: Publication) -> None:
        """Commit `publication`: one atomic rename of the log."""
        self._write(self.entries() + [publication], self.reserved())

    def mark_removed(self, versions: set[str]) -> None:
        """Mark `versions` removed (retention), in one atomic write."""
        entries = [Publication.from_dict(asdict(e) | {"removed": e.removed or e.version in versions})
                   for e in self.entries()]
        self._write(entries, self.reserved())


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class DatasetLockedError(RuntimeError):
    """Another run holds the dataset's lock (the message names it: pid, host, start time)."""


@dataclass
class DatasetLock:
    """A held dataset lock: the open lock file (the kernel releases the lock when it is closed or the process
    dies)."""

    path: Path
    fd: int

    def release(self) -> None:
        try:
            os.ftruncate(self.fd, 0)
        finally:
            os.close(self.fd)


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

    def eml(self, version: str) -> Path:
        return self.directory / f"eml-{version}.xml"

    def package(self, version: str) -> Path:
        """The version's Darwin Core Data Package (``output.dwc_dp``)."""
        return self.directory / f"dwc-dp-{version}.zip"

    def quarantine(self, version: str | None) -> Path:
        return self._versioned("quarantine", ".csv", version)

    def extension_quarantine(self, version: str | None, extension: str) -> Path:
        """The rows of extension `extension` kept out, with reasons: ``quarantine-<extension>-<version>.csv``."""
        return self._versioned(f"quarantine-{extension}", ".csv", version)

    def extension_warnings(self, version: str | None, extension: str) -> Path:
        """The published rows of extension `extension` with a warning or info flag:
        ``warnings-<extension>-<version>.csv``."""
        return self._versioned(f"warnings-{extension}", ".csv", version)

    def warnings(self, version: str | None) -> Path:
        return self._versioned("warnings", ".csv", version)

    def amendments(self, version: str | None) -> Path:
        return self._versioned("amendments", ".csv", version)

    def excluded(self, version: str | None) -> Path:
        return self._versioned("excluded", ".csv", version)

    def extension_excluded(self, version: str | None, extension: str) -> Path:
        """The rows of extension `extension` excluded with their core record by the dataset's rules, with the rule:
        ``excluded-<extension>-<version>.csv``."""
        return self._versioned(f"excluded-{extension}", ".csv", version)

    def report(self, version: str | None) -> tuple[Path, Path]:
        """(JSON, HTML) of the run report."""
        return self._versioned("report", ".json", version), self._versioned("report", ".html", version)

    def record_hashes(self, version: str) -> Path:
        """The occurrenceIDs and record hashes of `version` (publishers.changes), which the next run compares with;
        in the hidden ``.state/`` folder, which harvesters do not fetch."""
        return self.directory / STATE / f"record-hashes-{version}.parquet"

    def staged(self, version: str) -> Path:
        """The folder of `version`'s staged records (publishers.staging: each table's published and quarantined
        records with their source keys, and the manifest with the watermark), which an incremental run or a
        backfill merges its records into; in ``.state/``."""
        return self.directory / STATE / f"staged-{version}"

    @property
    def last_failure_file(self) -> Path:
        """``.state/last-failure.json``: the last run that failed (:meth:`record_failure`)."""
        return self.directory / STATE / "last-failure.json"

    def record_failure(self, started: datetime, error: str) -> None:
        """Keep the last failed run (when it started and ended, its duration in seconds, `error` in one line, whose
        secrets the caller has masked), so that `mobilise status` shows a failure whether or not a Prefect API
        kept the flow run. Written atomically; a failure to write it is the caller's to log."""
        ended = datetime.now(timezone.utc)
        record = {"started": started.isoformat(timespec="seconds"), "time": ended.isoformat(timespec="seconds"),
                  "duration_seconds": round((ended - started).total_seconds(), 1), "error": error}
        self.last_failure_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.last_failure_file.with_suffix(".partial")
        partial.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, self.last_failure_file)

    def last_failure(self) -> dict | None:
        """The record of :meth:`record_failure`, or None (never failed, or unreadable)."""
        try:
            return json.loads(self.last_failure_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def staged_versions(self) -> list[str]:
        """The versions with a staged-records folder, oldest first."""
        folder = self.directory / STATE
        found = [path.name.removeprefix("staged-") for path in folder.glob("staged-*")] if folder.is_dir() else []
        return sorted((v for v in found if re.fullmatch(r"\d+\.\d+", v)), key=version_key)

    def files(self, version: str) -> list[Path]:
        """Every file a version writes besides the log and the current copies: removed if the version fails,
        when retention drops it, and by :meth:`recover` when the log does not list it."""
        return [self.archive(version), self.eml(version), self.package(version), self.quarantine(version),
                self.warnings(version), self.amendments(version), self.excluded(version), *self.report(version),
                self.record_hashes(version), *sorted(self.directory.glob(f"quarantine-*-{version}.csv")),
                *sorted(self.directory.glob(f"warnings-*-{version}.csv")),
                *sorted(self.directory.glob(f"excluded-*-{version}.csv"))]

    @property
    def current_archive(self) -> Path:
        return self.directory / CURRENT_ARCHIVE

    @property
    def current_eml(self) -> Path:
        return self.directory / CURRENT_EML

    @property
    def current_package(self) -> Path:
        return self.directory / CURRENT_PACKAGE

    def _make_package_current(self, entry: Publication) -> bool:
        """``dwc-dp.zip`` made the package of `entry` (a hard link, in one rename), or removed when `entry` has
        none (a package of an older version must not pass for the current one); True when it changed."""
        name = (entry.dwc_dp or {}).get("file")
        if name and (self.directory / name).exists():
            if _same_file(self.directory / name, self.current_package):
                return False
            atomic_link(self.directory / name, self.current_package)
            return True
        if self.current_package.exists():
            self.current_package.unlink()
            return True
        return False

    @property
    def lock_path(self) -> Path:
        return self.directory / LOCK_NAME

    # --- the dataset lock ----------------------------------------------------------------------------------------

    def acquire(self, wait_seconds: float = 0) -> DatasetLock:
        """Take the dataset lock (``fcntl.flock`` on ``.lock``), waiting up to `wait_seconds` for another run to
        finish; write this run's pid, host and start time into the lock file for whoever finds it held.

        Raises :class:`DatasetLockedError` naming the holder when it is still held after `wait_seconds`. The
        lock is released by :meth:`DatasetLock.release` or when the process ends, however it ends (kill -9
        included): the kernel drops a dead process's flocks, so a killed run never leaves it held. Needs a
        filesystem with working flock (local disks, NFSv4).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_seconds
        said = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if wait_seconds and not said:
                    said = True
                    log.warning("waiting up to %g s for the run that is publishing %s (%s)", wait_seconds,
                                self.directory.name, os.pread(fd, 4096, 0).decode("utf-8", "replace").strip())
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "an unknown process"
                    os.close(fd)
                    waited = f" after waiting {wait_seconds:g} s" if wait_seconds else ""
                    raise DatasetLockedError(
                        f"{self.directory.name} is being published by another run ({holder}){waited}; "
                        f"nothing was done. Wait for it to end, or set execution.lock_wait_seconds to wait "
                        f"(lock file {self.lock_path})") from None
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        holder = (f"pid {os.getpid()} on {socket.gethostname()}, started "
                  f"{now_utc().isoformat()}").encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder, 0)
        return DatasetLock(self.lock_path, fd)

    @contextmanager
    def lock(self, wait_seconds: float = 0) -> Iterator[DatasetLock]:
        """:meth:`acquire` for the duration of a ``with`` block."""
        held = self.acquire(wait_seconds)
        try:
            yield held
        finally:
            held.release()

    # --- crash recovery ------------------------------------------------------------------------------------------

    def versions_on_disk(self) -> set[str]:
        """Every version some file in the folder (or in ``.state/``) is named after."""
        found = set()
        for folder in (self.directory, self.directory / STATE):
            if folder.is_dir():
                found.update(m.group(1) for m in map(VERSIONED.match, os.listdir(folder)) if m)
        return found

    def reserve(self) -> str:
        """The next version number, reserved in the log before anything of it is written (never reused)."""
        return self.log.reserve(sorted(self.versions_on_disk()))

    def recover(self, base_url: str | None = None) -> list[str]:
        """Repair what a killed run left, under the dataset lock, at the start of every run; returns what it did
        (one line each, for the run's log).

        - ``.partial`` files in the folder, ``validation/`` and ``.state/`` are removed;
        - the files of every version the log does not list as kept (a killed attempt's, one retention was
          removing) are removed; their numbers stay reserved;
        - ``dwca.zip`` and ``eml.xml`` are made hard links to the latest version's files (roll forward), the
          EML taken from the archive when an older run wrote no ``eml-<version>.xml``;
        - the site files are rebuilt (:func:`mobilise.publishers.feeds.refresh_site`; a failure there is
          reported, not raised: they are derived and rebuilt again after the next commit).
        """
        done: list[str] = []
        if not self.directory.is_dir():
            return done
        for folder in (self.directory, self.directory / VALIDATION, self.directory / STATE):
            for path in folder.glob(f".*{PARTIAL}") if folder.is_dir() else ():
                path.unlink(missing_ok=True)
                done.append(f"removed the partial file {path.name}")
        for path in self.directory.glob(".dwcdp-*"):  # a Data Package being derived (publishers.dwcdp)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                done.append(f"removed the unfinished Data Package folder {path.name}")
        kept = {entry.version for entry in self.log.live()}
        orphans = sorted(self.versions_on_disk() - kept, key=version_key)
        if orphans:
            self.log.note_used(orphans)  # a number once on disk is never handed out again
        for version in orphans:
            for path in self.files(version):
                if path.exists():
                    path.unlink()
                    done.append(f"removed {path.name} (version {version} is not in {LOG_NAME})")
        latest = self.log.latest()
        if latest is not None and (self.directory / latest.archive).exists():
            archive = self.directory / latest.archive
            if not _same_file(archive, self.current_archive):
                atomic_link(archive, self.current_archive)
                done.append(f"made {CURRENT_ARCHIVE} version {latest.version} again")
            eml = self.eml(latest.version)
            if not eml.exists():
                with zipfile.ZipFile(archive) as handle:
                    atomic_write(eml, handle.read("eml.xml"))
            if not _same_file(eml, self.current_eml):
                atomic_link(eml, self.current_eml)
                done.append(f"made {CURRENT_EML} version {latest.version} again")
            if self._make_package_current(latest):
                done.append(f"made {CURRENT_PACKAGE} that of version {latest.version} again"
                            if latest.dwc_dp else f"removed {CURRENT_PACKAGE} (version {latest.version} has none)")
        from mobilise.publishers.feeds import refresh_site  # feeds imports this module

        try:
            refresh_site(self.directory.parent, base_url)
        except Exception as exc:  # noqa: BLE001 - derived files: a failure here must not stop publishing
            done.append(f"refreshing the site files failed: {type(exc).__name__}: {exc}")
        return done

    # --- making a version current, retention ---------------------------------------------------------------------

    def promote(self, version: str) -> None:
        """Make a committed version current: dwca.zip, eml.xml and dwc-dp.zip become hard links to its files, each
        in one rename (never rewritten in place); dwc-dp.zip is removed when the version has no package."""
        atomic_link(self.archive(version), self.current_archive)
        atomic_link(self.eml(version), self.current_eml)
        entry = next((e for e in self.log.entries() if e.version == version), None)
        if entry is not None:
            self._make_package_current(entry)

    def retain(self, keep_versions: int) -> list[str]:
        """Keep the newest `keep_versions` versions (0: all): older ones are marked ``removed`` in the log, then
        their files deleted. Returns the versions removed."""
        live = self.log.live()
        if keep_versions <= 0 or len(live) <= keep_versions:
            return []
        dropped = [entry.version for entry in live[:-keep_versions]]
        self.log.mark_removed(set(dropped))
        for version in dropped:
            for path in self.files(version):
                path.unlink(missing_ok=True)
        return dropped


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


# --- publication gates ---------------------------------------------------------------------------------------------

class Gate(BaseModel):
    """One publication gate's verdict, in words a data manager reads in the report."""

    name: str
    passed: bool
    detail: str


def evaluate_gates(gates: GatesConfig, extracted: int, rejected: int, published: int,
                   previous: int | None, excluded_by: dict[str, int] | None = None) -> list[Gate]:
    """Each configured gate (``gates`` of the dataset config) with whether it passed and why; `previous` is the
    record count of the last published version (None: none yet), `excluded_by` the records the dataset's rules
    kept out, per rule. A source that returned no records never passes, nor does a run with nothing to publish
    (every record rejected or excluded by rule) unless ``gates.allow_empty``."""
    results = []

    def gate(name: str, passed: bool, detail: str, remedy: str) -> None:
        """A gate's verdict; a failed one also says how a data manager lets an intended change through."""
        results.append(Gate(name=name, passed=passed,
                            detail=detail if passed else f"{detail}; if this is intended, {remedy}"))

    if gates.max_rejected_share is not None:
        share = rejected / extracted if extracted else 0.0
        gate("max_rejected_share", share <= gates.max_rejected_share,
             f"{share:.1%} of {extracted} records rejected (limit {gates.max_rejected_share:.0%})",
             "raise gates.max_rejected_share in the config (the reasons are in the quarantine file)")
    if gates.max_drop_share is not None and previous:
        drop = (previous - published) / previous
        gate("max_drop_share", drop <= gates.max_drop_share,
             f"{published} records against {previous} in the last version "
             f"({-drop:+.1%}; limit -{gates.max_drop_share:.0%})",
             "raise gates.max_drop_share in the config (null turns the gate off)")
    if extracted == 0:
        results.append(Gate(name="records_extracted", passed=False, detail="the source returned no records"))
    elif published == 0 and not gates.allow_empty:
        excluded = ", ".join(f"{count} by rule '{rule}'" for rule, count in sorted((excluded_by or {}).items()))
        results.append(Gate(name="records_published", passed=False, detail=(
            f"none of the {extracted} records extracted can be published: {rejected} rejected (reasons in the "
            f"quarantine file)" + (f", excluded {excluded} (listed in the excluded file)" if excluded else "")
            + "; check the dataset's filters and rules and the quarantine")))
    return results
