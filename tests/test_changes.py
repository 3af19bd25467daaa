"""Versions that say what changed (issue 11 items 1 and 2): record hashes, the change summary, unchanged input,
and the identifier guard before GBIF's occurrenceID check, on real consecutive runs of the sample database (a copy
per test, so a test may edit its source)."""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mobilise.catalog import CORE
from mobilise.cli import _print_result, app
from mobilise.publishers.changes import HASH_SCHEMA, compare, record_hashes
from mobilise.publishers.feeds import change_text
from mobilise.publishers.publication import PublicationDirectory, sha256_of
from mobilise.publishers.publish import PublicationGateError
from mobilise.publishers.report import artifact_markdown
from mobilise.settings import load_config
from tests.conftest import SAMPLE_CONFIG, sample_config
from tests.pipeline_helpers import read_core_with_pandas, run_stages, staged_run

TEMPLATE = "https://data.example.org/mobilise-sample/specimen/{guid}"


@pytest.fixture
def source(sample_db, tmp_path) -> Path:
    """A copy of the session's sample database that the test may change."""
    return Path(shutil.copy(sample_db, tmp_path / "source.sqlite"))


@pytest.fixture
def config(source, tmp_path, monkeypatch):
    return sample_config(f"sqlite:///{source}", tmp_path / "output", monkeypatch)


def occurrence_id(source: Path, object_id: int) -> str:
    with sqlite3.connect(source) as connection:
        guid = connection.execute("SELECT guid FROM collection_object WHERE object_id = ?", (object_id,)).fetchone()[0]
    return TEMPLATE.format(guid=guid)


def object_ids(source: Path, occurrence_ids: set[str]) -> list[int]:
    """The object_id of each published occurrenceID, in object_id order."""
    with sqlite3.connect(source) as connection:
        rows = connection.execute("SELECT object_id, guid FROM collection_object ORDER BY object_id").fetchall()
    return [object_id for object_id, guid in rows if TEMPLATE.format(guid=guid) in occurrence_ids]


def update(source: Path, sql: str, object_ids: list[int]) -> None:
    with sqlite3.connect(source) as connection:
        connection.executemany(sql, [(i,) for i in object_ids])


def files_outside_validation(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file() and "validation" not in p.relative_to(folder).parts}


def test_first_run_adds_every_record_and_a_rerun_publishes_nothing_new(config, capsys):
    first = run_stages(config)
    directory = PublicationDirectory(config.publication_directory)
    assert first.version == "1.0" and not first.unchanged
    assert first.changes["previous_version"] is None
    assert first.changes["added"] == first.records > 0
    assert first.changes["removed"] == first.changes["changed"] == first.changes["unchanged"] == 0
    published = set(read_core_with_pandas(first.archive)["occurrenceID"])
    assert first.changes["added_ids"] == sorted(published)[:20]
    hashes = pq.read_table(directory.record_hashes("1.0"))
    assert hashes.schema.equals(HASH_SCHEMA) and set(hashes["occurrenceID"].to_pylist()) == published
    assert directory.record_hashes("1.0") in directory.files("1.0")
    assert directory.log.latest().changes["added"] == first.records
    before = files_outside_validation(directory.directory)

    again = run_stages(config)
    assert again.unchanged and again.version == "1.0"
    assert again.changes["unchanged"] == first.records
    assert again.changes["added"] == again.changes["removed"] == again.changes["changed"] == 0
    assert again.archive == first.archive and again.current == str(directory.current_archive)
    assert (again.records, again.rejected) == (first.records, first.rejected)
    # nothing published, nothing touched: dwca.zip keeps its Last-Modified, the log has one version
    assert files_outside_validation(directory.directory) == before
    assert [p.version for p in directory.log.entries()] == ["1.0"]
    report = json.loads(Path(again.report).with_suffix(".json").read_text())
    assert report["unchanged"] is True and report["changes"]["unchanged"] == first.records
    assert "unchanged since version 1.0: nothing new published" in Path(again.report).read_text()
    assert "unchanged since 1.0 (nothing new published)" in artifact_markdown(again.run_report)  # Prefect UI

    _print_result(again.as_dict(), as_json=False)
    assert "unchanged since version 1.0: nothing new published" in capsys.readouterr().out
    _print_result(again.as_dict(), as_json=True)
    printed = json.loads(capsys.readouterr().out)
    assert {"archive": printed["archive"], "records": printed["records"], "rejected": printed["rejected"],
            "version": printed["version"], "unchanged": printed["unchanged"]} == {
        "archive": first.archive, "records": first.records, "rejected": first.rejected, "version": "1.0",
        "unchanged": True}

    config.metadata.title += " (revised)"  # new metadata, the same records: a new version
    revised = run_stages(config)
    assert revised.version == "1.1" and not revised.unchanged and revised.changes["unchanged"] == first.records
    assert revised.changes["metadata_changed"]  # what the version publishes, in the report, the RSS and the page
    assert "<strong>the metadata did</strong>" in Path(revised.report).read_text(encoding="utf-8")
    assert change_text(revised.changes).endswith("since version 1.0; the metadata changed")
    forced = run_stages(config, force=True)
    assert forced.version == "1.2" and not forced.unchanged and forced.changes["unchanged"] == first.records
    assert not forced.changes["metadata_changed"]


def test_added_removed_and_changed_records_are_counted_by_id(config, source):
    first = run_stages(config)
    published = set(read_core_with_pandas(first.archive)["occurrenceID"])
    candidates = object_ids(source, published)
    withheld, removed, changed = candidates[10:13], candidates[20:24], candidates[30:33]
    update(source, "UPDATE collection_object SET is_public = 0 WHERE object_id = ?", withheld)
    second = run_stages(config)  # the three withheld records are gone
    assert second.version == "1.1"
    assert sorted(second.changes["removed_ids"]) == sorted(occurrence_id(source, i) for i in withheld)

    update(source, "UPDATE collection_object SET is_public = 1 WHERE object_id = ?", withheld)
    update(source, "UPDATE collection_object SET is_public = 0 WHERE object_id = ?", removed)
    update(source, "UPDATE collection_object SET remarks = 'remeasured in 2026' WHERE object_id = ?", changed)
    third = run_stages(config)
    changes = third.changes
    assert third.version == "1.2" and changes["previous_version"] == "1.1"
    assert (changes["added"], changes["removed"], changes["changed"]) == (3, 4, 3)
    assert changes["added_ids"] == sorted(occurrence_id(source, i) for i in withheld)
    assert changes["removed_ids"] == sorted(occurrence_id(source, i) for i in removed)
    assert changes["changed_ids"] == sorted(occurrence_id(source, i) for i in changed)
    assert changes["unchanged"] == second.records - 4 - 3
    assert changes["removed_share"] == pytest.approx(4 / second.records)
    assert changes["causes"]  # removed records: the report says why they may be gone
    log = PublicationDirectory(config.publication_directory).log.latest()
    assert log.version == "1.2" and log.changes["changed_ids"] == changes["changed_ids"]
    page = Path(third.report).read_text()
    assert "Changes since version 1.1" in page and all(i in page for i in changes["changed_ids"])


def test_a_changed_occurrenceID_template_stops_the_run_until_accepted(config, tmp_path, monkeypatch):
    first = run_stages(config)
    directory = PublicationDirectory(config.publication_directory)
    current = sha256_of(directory.current_archive)
    changed = tmp_path / "changed.yaml"
    changed.write_text(SAMPLE_CONFIG.read_text().replace(TEMPLATE, "urn:catalog:mobilise-sample:{guid}"))
    config = load_config(changed)
    config.validation.bdq.enabled = False

    with pytest.raises(PublicationGateError) as stopped:
        run_stages(config)
    message = str(stopped.value)
    assert "max_removed_ids_share" in message and "100.0% of the" in message
    assert "occurrenceID template" in message and "--accept-id-changes" in message
    report = stopped.value.report
    assert report.changes.removed == report.changes.renamed == first.records
    assert report.changes.renamed_examples[0].current.startswith("urn:catalog:mobilise-sample:")
    assert report.changes.renamed_examples[0].previous.startswith("https://data.example.org/")
    assert "occurrenceID template" in report.changes.causes[0]
    # nothing published: the last version is intact and current
    assert [p.version for p in directory.log.entries()] == ["1.0"]
    assert sha256_of(directory.current_archive) == current == directory.log.latest().sha256
    assert not directory.archive("1.1").exists() and not directory.record_hashes("1.1").exists()

    accepted = run_stages(config, accept_id_changes=True)
    assert accepted.version == "1.1" and accepted.changes["removed"] == first.records
    gate = next(g for g in accepted.gates if g["name"] == "max_removed_ids_share")
    assert gate["passed"] and "accepted for this run" in gate["detail"]
    assert set(read_core_with_pandas(accepted.current)["occurrenceID"].str[:28]) == {"urn:catalog:mobilise-sample:"}


def test_a_source_that_returns_less_is_named(config, source):
    run_stages(config)
    config.gates.max_drop_share = None  # the count gate would stop it first
    with sqlite3.connect(source) as connection:
        connection.execute("UPDATE collection_object SET is_public = 0 WHERE object_id % 2 = 0")
    with pytest.raises(PublicationGateError, match="the source returned fewer records"):
        run_stages(config)


def hashes_by_id(config) -> dict[str, bytes]:
    with staged_run(config, dry_run=True) as (catalog, _):
        table = pa.concat_tables(catalog.load(e) for e in catalog.entries("record_hashes", CORE))
    return dict(zip(table["occurrenceID"].to_pylist(), table["record_hash"].to_pylist()))


def test_a_record_hash_does_not_depend_on_batches_columns_or_engine(config):
    reference = hashes_by_id(config)
    assert len(reference) > 2000 and len(set(reference.values())) == len(reference)
    config.source.batch_size = 700
    config.source.partition = None
    assert hashes_by_id(config) == reference
    config.source.engine = "adbc"
    assert hashes_by_id(config) == reference


def test_the_record_hash_is_the_documented_serialisation():
    table = pa.table({"occurrenceID": ["a", "b", "c", "d"], "locality": ["x\ty", "x y", None, ""],
                      "country": ["BE", "BE", "BE", "BE"], "habitat": [None, None, None, None]})
    hashes = record_hashes(table, ["occurrenceID", "locality", "country", "habitat"])
    reordered = record_hashes(table.select(["country", "locality", "occurrenceID"]),
                              ["country", "locality", "occurrenceID", "typeStatus"])
    assert hashes.equals(reordered)  # column order, an absent or all-null term: the same record
    content = hashes["content_hash"].to_pylist()
    assert content[0] == content[1]  # a tab is written as a space in the archive: the same published value
    assert len({content[1], content[2], content[3]}) == 3  # a value, no value and an empty one all differ
    expected = hashlib.blake2b(b"\ncountry\tBE\nlocality\tx y", digest_size=16)
    assert content[0] == expected.digest()
    expected.update(b"\noccurrenceID\ta")
    assert hashes["record_hash"][0].as_py() == expected.digest()


def test_the_command_line_offers_the_guard_override_and_force():
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert "--accept-id-changes" in result.output and "--force" in result.output


def test_an_id_used_twice_counts_once_and_changes_when_its_rows_do(tmp_path):
    def hashes(name: str, rows: list[tuple[str, bytes]]) -> str:
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({"occurrenceID": [i for i, _ in rows],
                                 "record_hash": pa.array([h * 16 for _, h in rows], pa.binary(16)),
                                 "content_hash": pa.array([h * 16 for _, h in rows], pa.binary(16))},
                                schema=HASH_SCHEMA), path)
        return str(path)

    previous = Path(hashes("previous", [("a", b"1"), ("b", b"2"), ("c", b"3"), ("D", b"4")]))
    now = [hashes("now1", [("a", b"1"), ("a", b"9")]), hashes("now2", [("b", b"2"), ("d", b"4"), ("e", b"5")])]
    summary = compare(now, previous, "1.0", tmp_path)
    assert (summary.added, summary.removed, summary.changed, summary.unchanged) == (2, 2, 1, 1)
    assert (summary.added_ids, summary.removed_ids, summary.changed_ids) == (["d", "e"], ["D", "c"], ["a"])
    # ids are compared as written: 'D' became 'd' with the same content, found as renamed
    assert summary.renamed == 1 and summary.renamed_examples[0].model_dump() == {"previous": "D", "current": "d"}
    assert compare([], previous, "1.0", tmp_path).removed_share == 1.0


def test_a_version_without_record_hashes_is_compared_through_its_archive(config, tmp_path):
    """A publication folder copied without its hidden files (or a version published before record hashes were
    kept): the hashes are rebuilt from the version's archive, so the guard and the unchanged check still hold."""
    first = run_stages(config)
    directory = PublicationDirectory(config.publication_directory)
    directory.record_hashes("1.0").unlink()
    again = run_stages(config)
    assert again.unchanged and again.version == "1.0"  # the archive's records are this run's, hash for hash
    assert directory.record_hashes("1.0").exists()

    directory.record_hashes("1.0").unlink()
    changed = tmp_path / "changed.yaml"
    changed.write_text(SAMPLE_CONFIG.read_text().replace(TEMPLATE, "urn:catalog:mobilise-sample:{guid}"))
    renamed = load_config(changed)
    renamed.validation.bdq.enabled = False
    with pytest.raises(PublicationGateError) as stopped:
        run_stages(renamed)
    assert stopped.value.report.changes.removed == stopped.value.report.changes.renamed == first.records


def test_a_version_with_neither_hashes_nor_archive_is_not_compared(config):
    """Nothing to compare with at all (the hashes and the archive of the last version are gone): the run publishes
    and its report says why it did not compare."""
    run_stages(config)
    directory = PublicationDirectory(config.publication_directory)
    directory.record_hashes("1.0").unlink()
    directory.archive("1.0").unlink()
    second = run_stages(config)
    assert second.version == "1.1" and second.changes is None and not second.unchanged
    gate = next(g for g in second.gates if g["name"] == "max_removed_ids_share")
    assert gate["passed"] and "version 1.0 has no record hashes" in gate["detail"]
    assert directory.record_hashes("1.1").exists()  # the next run compares again
    assert run_stages(config).unchanged
