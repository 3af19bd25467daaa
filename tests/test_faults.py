"""What a publication survives: kill -9 at named moments, a full disk, two runs of the same dataset at once.

Each killed run is the real command line in a child process (tests/fault_launcher.py makes the moment by wrapping
the call that marks it; the product has no test hooks). After each kill the previous version is intact and served
(dwca.zip read by python-dwca-reader, its EML version in the log, every checksum as the log says); after the next
run the current copies are the log's latest version again, no ``.partial``, orphan file or run folder is left and
no version number was handed out twice.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dwca.read import DwCAReader
from ruamel.yaml import YAML

from mobilise.publishers.publication import (VERSIONED, PublicationDirectory, PublicationLog, sha256_of,
                                             version_key)
from tests.conftest import REPO, SAMPLE_CONFIG

pytestmark = [pytest.mark.faults, pytest.mark.prefect]

LAUNCHER = REPO / "tests" / "fault_launcher.py"
SPECIMENS = 300
KEEP_VERSIONS = 2  # retention runs in every completing run: the base state has two versions


def write_config(target: Path, work_directory: Path | None = None, **execution) -> Path:
    """The shipped sample config for these tests: BDQ off (tested elsewhere), threads, keep_versions."""
    yaml = YAML()
    document = yaml.load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    document["output"]["keep_versions"] = KEEP_VERSIONS
    if work_directory is not None:
        document["output"]["work_directory"] = str(work_directory)
    document["validation"]["bdq"]["enabled"] = False
    document["execution"] = {"runner": "threads", "workers": 2, **execution}
    with open(target, "w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    return target


@pytest.fixture(scope="module")
def fault_db(tmp_path_factory) -> Path:
    from mobilise.samples import build_sample_database

    return build_sample_database(tmp_path_factory.mktemp("faults") / "sample.sqlite", specimens=SPECIMENS, seed=3)


@pytest.fixture(scope="module")
def api_url(prefect_api) -> str:
    """The session's Prefect test API, for child processes too (each would otherwise start its own, ~10 s)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


@pytest.fixture(scope="module")
def base(tmp_path_factory, fault_db, api_url) -> Path:
    """An output folder with two published versions (1.0, 1.1), made by the real flow; copied for each test."""
    folder = tmp_path_factory.mktemp("base")
    config = write_config(folder / "config.yaml")
    output = folder / "output"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{fault_db}")
        patch.setenv("MOBILISE_OUTPUT", str(output))
        from mobilise.flows.publish import run_publication

        assert [run_publication(str(config), force=True)["version"] for _ in range(2)] == ["1.0", "1.1"]
    return output


class Dataset:
    """One test's copy of the base output folder, and the runs on it."""

    def __init__(self, root: Path, base: Path, db: Path, api_url: str, monkeypatch, work: Path | None = None):
        self.root = root
        self.output = root / "output"
        subprocess.run(["cp", "-a", str(base), str(self.output)], check=True)  # -a: keeps the hard links
        self.config = write_config(root / "config.yaml", work)
        self.env = {**os.environ, "MOBILISE_SAMPLE_URL": f"sqlite:///{db}", "MOBILISE_OUTPUT": str(self.output),
                    "PREFECT_API_URL": api_url}
        monkeypatch.setenv("MOBILISE_SAMPLE_URL", f"sqlite:///{db}")
        monkeypatch.setenv("MOBILISE_OUTPUT", str(self.output))
        self.directory = PublicationDirectory(self.output / "mobilise-sample")
        self.work = work or self.output / ".work" / "mobilise-sample"

    def start(self, moment: str, config: Path | None = None, command: str = "run", **env) -> subprocess.Popen:
        force = ["--force"] if command == "run" else []  # the same data each time: publish a new version anyway
        return subprocess.Popen([sys.executable, str(LAUNCHER), moment, command, str(config or self.config), *force],
                                env={**self.env, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def cli(self, moment: str, config: Path | None = None, command: str = "run", **env
            ) -> subprocess.CompletedProcess:
        return finished(self.start(moment, config, command, **env))

    def run(self) -> dict:
        """The next run, in this process (the flow as `mobilise run` runs it)."""
        from mobilise.flows.publish import run_publication

        return run_publication(str(self.config), force=True)


def finished(child: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = child.communicate(timeout=300)
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


def served_version(archive: Path) -> str:
    """The version in the EML packageId of `archive`, read with python-dwca-reader (which checks it whole)."""
    with DwCAReader(str(archive)) as dwca:
        assert sum(1 for _ in dwca) > 0
        return dwca.metadata.get("packageId").rsplit("/v", 1)[1]


def assert_intact(directory: PublicationDirectory, expected: list[str]) -> None:
    """The log lists `expected` versions (kept ones), each archive as the log says, and dwca.zip serves one of
    them whole."""
    log = PublicationLog(directory.directory)
    versions = [entry.version for entry in log.entries()]
    assert len(versions) == len(set(versions)), versions  # never two entries of one version
    assert [entry.version for entry in log.live()] == expected
    for entry in log.live():
        assert sha256_of(directory.directory / entry.archive) == entry.sha256, entry.version
        assert served_version(directory.directory / entry.archive) == entry.version
    assert served_version(directory.current_archive) in expected


def assert_current(directory: PublicationDirectory) -> None:
    """dwca.zip and eml.xml are the log's latest version."""
    latest = PublicationLog(directory.directory).latest()
    assert served_version(directory.current_archive) == latest.version
    assert sha256_of(directory.current_archive) == latest.sha256
    assert directory.current_eml.read_bytes() == directory.eml(latest.version).read_bytes()
    assert f"/v{latest.version}".encode() in directory.current_eml.read_bytes()
    # the site files agree (issue 11: the RSS feed and the inventory say what dwca.zip is)
    site = directory.directory.parent
    [listed] = [r for r in json.loads((site / "inventory.json").read_text())["registeredResources"]
                if r["shortname"] == directory.directory.name]
    assert (listed["version"], listed["records"]) == (latest.version, latest.records)
    rss = (site / "rss.xml").read_text(encoding="utf-8")
    for entry in directory.log.entries():
        assert (f"dwca-{entry.version}.zip" in rss) == (not entry.removed), entry.version


def assert_clean(dataset: Dataset) -> None:
    """No partial file anywhere, every versioned file of a version the log keeps, no run folder left."""
    assert not [p for p in dataset.output.rglob("*") if p.name.endswith(".partial")]
    kept = {entry.version for entry in dataset.directory.log.live()}
    orphans = [p.name for p in dataset.directory.directory.rglob("*")
               if (m := VERSIONED.match(p.name)) and m.group(1) not in kept]
    assert not orphans
    assert not list(dataset.work.iterdir()) if dataset.work.exists() else True


# moment -> (whether the version was committed (is in the log) when the process died, whether a .partial file
# was being written)
MOMENTS = {
    "extracting": (False, False),
    "writing the archive": (False, True),
    "after the archive rename": (False, False),
    "writing the quarantine csv": (False, True),
    "writing the reports": (False, True),
    "after reserving the version": (False, False),
    "before the commit": (False, False),
    "inside the log rename": (False, True),
    "after the commit": (True, False),
    "inside the swap (dwca.zip linked, not renamed)": (True, True),
    "inside the swap (dwca.zip renamed, eml.xml not)": (True, False),
    "after the swap": (True, False),
    "during retention": (True, False),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_kill_at_any_moment_leaves_the_previous_version_served(moment, base, fault_db, api_url, tmp_path,
                                                              monkeypatch):
    dataset = Dataset(tmp_path, base, fault_db, api_url, monkeypatch)
    directory = dataset.directory
    before = [entry.version for entry in directory.log.live()]
    killed = dataset.cli(moment)
    assert killed.returncode == -9, killed.stderr[-3000:]
    committed, partial = MOMENTS[moment]
    assert bool([p for p in dataset.output.rglob("*") if p.name.endswith(".partial")]) == partial
    assert len(list(dataset.work.iterdir())) == 1  # the killed run's folder, left for the next run to purge
    log = directory.log.live()
    # the previous versions are intact; the new one exists only if the log committed it
    new = [entry.version for entry in log if entry.version not in before]
    assert bool(new) == committed, (moment, before, [e.version for e in log])
    assert_intact(directory, [v for v in before + new if v in {e.version for e in log}])
    if not committed:
        assert served_version(directory.current_archive) == before[-1]
        assert sha256_of(directory.current_archive) == directory.log.latest().sha256
    used = {e.version for e in directory.log.entries()} | directory.versions_on_disk()
    # recovery alone (on a copy) makes the current copies the log's latest version and leaves nothing behind
    copy = tmp_path / "recovered"
    subprocess.run(["cp", "-a", str(dataset.output), str(copy)], check=True)
    PublicationDirectory(copy / "mobilise-sample").recover()
    assert_current(PublicationDirectory(copy / "mobilise-sample"))
    assert not [p for p in copy.rglob("*") if p.name.endswith(".partial")]
    # the next run completes, with a number never used before
    result = dataset.run()
    assert version_key(result["version"]) > max(map(version_key, used))
    assert directory.log.latest().version == result["version"]
    assert_intact(directory, [e.version for e in directory.log.live()])
    assert len(directory.log.live()) == KEEP_VERSIONS
    # retention: older versions stay in the log, marked removed, their files gone
    removed = [entry for entry in directory.log.entries() if entry.removed]
    assert removed and not any(directory.archive(entry.version).exists() for entry in removed)
    assert_current(directory)
    assert_clean(dataset)


def test_a_failure_after_the_commit_says_the_version_was_published(base, fault_db, api_url, tmp_path,
                                                                   monkeypatch):
    dataset = Dataset(tmp_path, base, fault_db, api_url, monkeypatch)
    failed = dataset.cli("the swap fails")
    assert failed.returncode == 1
    assert "version 1.2 was published" in failed.stderr and "No space left on device" in failed.stderr
    assert "nothing was published" not in failed.stderr
    assert dataset.directory.log.latest().version == "1.2"
    assert served_version(dataset.directory.current_archive) == "1.1"  # not swapped yet
    dataset.directory.recover()  # what the next run does first
    assert_current(dataset.directory)
    assert_clean(dataset)


def test_a_kill_during_recovery_is_recovered_by_the_next_run(base, fault_db, api_url, tmp_path, monkeypatch):
    dataset = Dataset(tmp_path, base, fault_db, api_url, monkeypatch)
    assert dataset.cli("after the commit").returncode == -9  # leaves a swap to roll forward
    committed = dataset.directory.log.latest().version
    assert dataset.cli("during recovery").returncode == -9  # killed rolling it forward
    assert dataset.directory.log.latest().version == committed
    assert_intact(dataset.directory, [e.version for e in dataset.directory.log.live()])
    result = dataset.run()
    assert version_key(result["version"]) > version_key(committed)
    assert_current(dataset.directory)
    assert_clean(dataset)


def test_two_runs_at_once_one_publishes_the_other_fails_fast_or_waits(base, fault_db, api_url, tmp_path,
                                                                       monkeypatch):
    dataset = Dataset(tmp_path, base, fault_db, api_url, monkeypatch)
    waiting_config = write_config(tmp_path / "waiting.yaml", lock_wait_seconds=120)
    locked, release = tmp_path / "locked", tmp_path / "release"
    first = dataset.start("hold the lock", FAULT_LOCKED=str(locked), FAULT_RELEASE=str(release))
    deadline = time.monotonic() + 120
    while not locked.exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()[1][-3000:]
        time.sleep(0.1)
    waiting = dataset.start("none", waiting_config)
    started = time.monotonic()
    dry_run = dataset.start("none", command="validate")  # writes validation/: takes the lock too
    second, dry_run = dataset.cli("none"), finished(dry_run)
    for refused in (second, dry_run):
        assert refused.returncode == 1
        assert "is being published by another run (pid " in refused.stderr
        assert f"pid {first.pid} on " in refused.stderr  # names the holder
        assert "nothing was published" in refused.stderr
    assert time.monotonic() - started < 30  # fails fast: before Prefect starts, not after the run that holds the lock
    assert waiting.poll() is None  # still waiting for the lock
    release.touch()
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    out2, err2 = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err2[-3000:]
    versions = [entry.version for entry in dataset.directory.log.entries()]
    assert versions == ["1.0", "1.1", "1.2", "1.3"]  # one after the other, never the same number twice
    assert "version 1.2" in out and "version 1.3" in out2
    assert_current(dataset.directory)
    assert_clean(dataset)


def _require_root() -> None:
    if os.geteuid() != 0 or not shutil.which("mount"):
        if os.environ.get("MOBILISE_REQUIRE_SERVICES") == "1":
            pytest.fail("the full-disk test mounts a tmpfs: it needs root (CI runs as root)")
        pytest.skip("the full-disk test mounts a tmpfs: it needs root")


def test_a_full_disk_leaves_the_previous_version_served(base, fault_db, api_url, tmp_path, monkeypatch):
    _require_root()
    mount = tmp_path / "small"
    mount.mkdir()
    inodes = {p.stat().st_ino: p.stat().st_size for p in base.rglob("*") if p.is_file()}
    used_kb = sum(-(-size // 4096) * 4 for size in inodes.values()) + 64  # tmpfs allocates pages
    folder = PublicationDirectory(base / "mobilise-sample")
    version_kb = sum(p.stat().st_size for p in folder.files("1.1") if p.exists()) // 1024
    # room for the previous versions and a third of a new one: the disk fills while the version is written (the
    # run folder is elsewhere, so extraction, mapping and validation complete)
    size_kb = used_kb + version_kb // 3
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mount)], check=True)
    try:
        dataset = Dataset(mount, base, fault_db, api_url, monkeypatch, work=tmp_path / "work")
        before = [entry.version for entry in dataset.directory.log.live()]
        failed = dataset.cli("none")
        assert failed.returncode == 1, failed.stdout + failed.stderr[-3000:]
        assert "No space left on device" in failed.stderr
        assert "nothing was published" in failed.stderr
        assert dataset.directory.log.reserved() == "1.2"  # it failed in the publish stage, as meant
        assert_intact(dataset.directory, before)
        assert served_version(dataset.directory.current_archive) == before[-1]
        assert_clean(dataset)  # a run that fails removes what it wrote: later runs are not starved of space
        subprocess.run(["mount", "-o", f"remount,size={size_kb + version_kb * 4}k", str(mount)], check=True)
        result = dataset.run()
        assert version_key(result["version"]) > version_key(before[-1])
        assert_current(dataset.directory)
        assert_clean(dataset)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
