"""The version log and the publication folder's recovery, on hand-made folders (fast; the real runs and kills
are in tests/test_faults.py)."""
from __future__ import annotations

import json
import os
import zipfile

import pytest

from mobilise.publishers.publication import DatasetLockedError, Publication, PublicationDirectory, sha256_of


def _archive(path, version: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("eml.xml", f'<eml packageId="x/v{version}"/>')


def _entry(directory: PublicationDirectory, version: str, **extra) -> dict:
    archive = directory.archive(version)
    return {"version": version, "published": "2026-01-01T00:00:00+00:00", "records": 1, "rejected": 0,
            "archive": archive.name, "sha256": sha256_of(archive), "bytes": archive.stat().st_size, **extra}


def test_an_old_log_loads_and_unknown_keys_are_ignored(tmp_path):
    directory = PublicationDirectory(tmp_path)
    _archive(directory.archive("1.0"), "1.0")
    (tmp_path / "publications.json").write_text(json.dumps(
        {"versions": [_entry(directory, "1.0", added_by_a_later_mobilise=True)]}))
    [entry] = directory.log.entries()
    assert (entry.version, entry.eml, entry.removed) == ("1.0", None, False)
    assert directory.log.next_version() == "1.1"


def test_the_swap_window_of_an_older_mobilise_is_rolled_back_to_the_log(tmp_path):
    """Issue 14's case: killed after dwca.zip was replaced and before the log was written, an older run left
    dwca.zip (and eml.xml) serving 1.2 while the log ends at 1.1. Recovery serves 1.1 again, removes 1.2's files
    and never hands out 1.2 again."""
    directory = PublicationDirectory(tmp_path)
    for version in ("1.0", "1.1", "1.2"):
        _archive(directory.archive(version), version)
    (tmp_path / "publications.json").write_text(json.dumps(
        {"versions": [_entry(directory, "1.0"), _entry(directory, "1.1")]}))
    os.link(directory.archive("1.2"), directory.current_archive)
    directory.current_eml.write_text('<eml packageId="x/v1.2"/>')
    (tmp_path / ".dwca-1.3.zip.123.partial").write_bytes(b"half")
    (tmp_path / "validation").mkdir()
    (tmp_path / "validation" / ".report.json.9.partial").write_bytes(b"half")
    done = directory.recover()
    assert os.path.samefile(directory.current_archive, directory.archive("1.1"))
    assert directory.current_eml.read_text() == '<eml packageId="x/v1.1"/>'  # taken from the archive
    assert directory.eml("1.1").exists() and not directory.archive("1.2").exists()
    assert not list(tmp_path.rglob("*.partial"))
    assert any("dwca-1.2.zip" in line for line in done)
    assert directory.reserve() == "1.3"  # 1.2 was on disk once: never handed out again
    assert directory.recover() == []  # nothing left to do


def test_retention_keeps_the_last_n_and_marks_the_rest_removed(tmp_path):
    directory = PublicationDirectory(tmp_path)
    for version in ("1.0", "1.1", "1.2"):
        _archive(directory.archive(version), version)
        directory.eml(version).write_text(version)
        directory.log.append(Publication(**_entry(directory, version)))
    assert directory.retain(0) == []
    assert directory.retain(2) == ["1.0"]
    assert [(e.version, e.removed) for e in directory.log.entries()] == [("1.0", True), ("1.1", False),
                                                                       ("1.2", False)]
    assert not directory.archive("1.0").exists() and not directory.eml("1.0").exists()
    assert directory.archive("1.1").exists() and directory.log.latest().version == "1.2"
    assert directory.log.next_version() == "1.3"


def test_the_lock_names_its_holder_and_is_released(tmp_path):
    directory = PublicationDirectory(tmp_path)
    with directory.lock():
        with pytest.raises(DatasetLockedError, match=rf"by another run \(pid {os.getpid()} on .*, started "):
            directory.acquire()
        with pytest.raises(DatasetLockedError, match="after waiting 0.3 s"):
            directory.acquire(wait_seconds=0.3)
    directory.acquire().release()  # free again
