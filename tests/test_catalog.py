"""The run catalog: every dataset keyed by table and batch, listed in source order; the whole-table duplicate query
over the catalog's files."""
from __future__ import annotations

import pickle

import pyarrow as pa
import pytest

from mobilise.catalog import CORE, Entry, RunCatalog, batch_name
from mobilise.validators.dataset import duplicate_ids


@pytest.fixture
def catalog(tmp_path) -> RunCatalog:
    folder = tmp_path / "run"
    folder.mkdir()
    return RunCatalog(folder)


def _ids(*values: str) -> pa.Table:
    return pa.table({"occurrenceID": pa.array(values, pa.string())})


def test_batches_are_listed_in_source_order_per_table(catalog):
    names = [batch_name(2, 1), batch_name(1, 2), batch_name(1, 1), batch_name(10, 1)]
    for name in names:
        catalog.save(Entry("mapped", CORE, name), _ids(name))
    catalog.save(Entry("mapped", "multimedia", batch_name(1)), _ids("m"))
    listed = catalog.entries("mapped")
    assert [e.batch for e in listed] == ["p000001-000001", "p000001-000002", "p000001-000010", "p000002-000001"]
    assert [e.partition for e in listed] == ["p000001"] * 3 + ["p000002"]
    assert [catalog.load(e)["occurrenceID"][0].as_py() for e in listed] == [e.batch for e in listed]
    assert catalog.entries("mapped", "multimedia") == [Entry("mapped", "multimedia", "000001")]
    assert catalog.entries("valid") == []
    # the same batch in another dataset, and a whole-table dataset
    assert listed[0].of("quarantine") == Entry("quarantine", CORE, "p000001-000001")
    assert catalog.entries("duplicates") == []
    catalog.save(Entry("duplicates"), _ids())
    assert catalog.entries("duplicates") == [Entry("duplicates", CORE)]


def test_entries_name_only_known_datasets(catalog):
    with pytest.raises(KeyError, match="no dataset 'mapd'"):
        Entry("mapd", CORE, "000001")
    with pytest.raises(ValueError, match="whole-table"):
        Entry("duplicates", CORE, "000001")
    with pytest.raises(ValueError, match="per-batch"):
        Entry("mapped", CORE)
    with pytest.raises(ValueError, match="not a table dataset"):
        catalog.save(Entry("archive_parts", CORE, "000001"), _ids("a"))


def test_catalog_and_entries_travel_between_processes(catalog):
    entry = Entry("valid", "identification", "p000003-000002")
    assert pickle.loads(pickle.dumps(entry)) == entry
    assert pickle.loads(pickle.dumps(catalog)) == catalog


def test_duplicates_span_batches(catalog):
    catalog.save(Entry("mapped", CORE, "000001"), _ids("a", "b", None))
    catalog.save(Entry("mapped", CORE, "000002"), _ids("b", "c", None))
    catalog.save(Entry("mapped", CORE, "000003"), _ids("c", "c", "d"))
    files = catalog.files(catalog.entries("mapped"))
    found = duplicate_ids(files, catalog.scratch("duckdb"))
    assert sorted(found["occurrenceID"].to_pylist()) == ["b", "c"]  # null is never a duplicate
    assert duplicate_ids(files[:1], catalog.scratch("duckdb")).num_rows == 0
    assert duplicate_ids([], catalog.scratch("duckdb")).schema == _ids().schema


def test_a_run_folder_is_created_and_removed(sqlite_config):
    catalog = RunCatalog.create(sqlite_config)
    assert catalog.folder.parent == sqlite_config.work_directory and catalog.folder.is_dir()
    catalog.save(Entry("extracted", CORE, "000001"), _ids("a"))
    catalog.remove()
    assert not catalog.folder.exists()


def test_purge_stale_removes_the_folders_of_dead_runs_only(sqlite_config):
    """A run folder is purged once the process that created it is gone (its marker's flock released); a live
    run's folder, in this process or another, is kept."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    work = sqlite_config.work_directory
    mine = RunCatalog.create(sqlite_config)
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, pathlib; from mobilise.catalog import RunCatalog\n"
        "class C: work_directory = pathlib.Path(sys.argv[1])\n"
        "print(RunCatalog.create(C).folder, flush=True); time.sleep(120)"),
        str(work)], stdout=subprocess.PIPE, text=True)
    try:
        other = Path(child.stdout.readline().strip())
        dead = work / "20200101T000000Z-dead00"
        dead.mkdir()
        (dead / ".alive").touch()  # its process is gone: nobody holds the marker
        unmarked_old, unmarked_new = work / "old", work / "new"
        unmarked_old.mkdir(), unmarked_new.mkdir()
        os.utime(unmarked_old, (time.time() - 3600,) * 2)
        assert sorted(RunCatalog.purge_stale(work)) == sorted([dead, unmarked_old])
        assert mine.folder.exists() and other.exists() and unmarked_new.exists()
    finally:
        child.kill()
        child.wait()
    assert RunCatalog.purge_stale(work) == [other]  # killed: its kernel lock went with it
    mine.remove()
    assert not mine.folder.exists()
