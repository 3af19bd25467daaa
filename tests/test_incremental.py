"""Incremental runs, deletion reconciliation and backfills that publish (issue 13 items 3 and 4): after inserts,
updates and deletes in the source, an incremental run (merged into the staged records of the last version) gives
the archive a fresh full run gives, on the real PostgreSQL and on SQLite."""
from __future__ import annotations

import csv
import json
import uuid
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from mobilise.catalog import RunCatalog
from mobilise.extractors.base import Window
from mobilise.extractors.stage import plan_partitions
from mobilise.flows import incremental, steps
from mobilise.mappers.mapping import MappingPlan
from mobilise.publishers import staging
from mobilise.publishers.publication import PublicationDirectory
from mobilise.samples import build_sample_database, copy_database
from mobilise.settings import DatasetConfig, load_config
from tests.services import postgres_db  # noqa: F401  (fixture)
from tests.test_operations import write_config

LATER = "2026-06-01T00:00:00"  # after every modified_at of the sample (its watermark)


def run(config: DatasetConfig, mode: str = "full", reconcile: bool = False, since: str | None = None,
        until: str | None = None) -> dict:
    """What the flow's body does (flows/publish.py publish_dataset and _publish), in this process without
    Prefect: plan, read, map, validate, merge (when the plan says so, or a full run when it cannot), publish,
    stage."""
    window = Window.parse(since, until) if since or until else None
    plan = incremental.plan_run(config, mode, reconcile, window)
    mapping = MappingPlan.from_config(config)
    catalog = RunCatalog.create(config)
    try:
        batches = _validated(config, mapping, catalog, plan.window)
        merged = None
        if plan.merges:
            try:
                merged = incremental.merge_batches(config, mapping, catalog, batches, plan)
            except incremental.NeedsFullRun as why:
                catalog.remove()
                catalog = RunCatalog.create(config)
                plan = incremental.Plan("full", why=str(why))
                batches = _validated(config, mapping, catalog, None)
        result = steps.publish(config, mapping, catalog, merged.batches if merged else batches,
                               table=incremental.MERGED if merged else incremental.CORE,
                               deleted=merged.counts["deleted"] if merged else 0).as_dict()
        if result["version"] is not None:
            incremental.stage_run(config, catalog, result["version"], plan, merged)
        return result | {"mode": plan.kind, "full_because": plan.why or None,
                         "merge": merged.counts if merged else None}
    finally:
        catalog.remove()


def _validated(config, mapping, catalog, window):
    extracted = [entry for partition in plan_partitions(config.source)
                 for entry in steps.extract(config, mapping, catalog, partition, window)]
    mapped = steps.map_batches(mapping, catalog, extracted)
    return steps.validate_batches(config, mapping, catalog, mapped, steps.find_duplicates(catalog))


def archive_content(archive: str | Path) -> dict[str, str]:
    """The core data file and meta.xml of an archive, as text."""
    with zipfile.ZipFile(archive) as handle:
        return {name: handle.read(name).decode("utf-8") for name in ("occurrence.txt", "meta.xml")}


def run_files(result: dict) -> dict[str, str]:
    """The quarantine and warnings CSV files of a run, as text."""
    return {name: Path(result[name]).read_text(encoding="utf-8") for name in ("quarantine", "warnings")}


def fresh_full_run(config: DatasetConfig, tmp_path: Path, files: bool = False) -> dict[str, str]:
    """The archive content of a full run on the same source into an empty output directory (and, with `files`,
    its quarantine and warnings files)."""
    other = config.model_copy(deep=True)
    other.output.directory = tmp_path / f"full-{uuid.uuid4().hex[:6]}"
    result = run(other)
    assert result["mode"] == "full" and result["version"] == "1.0"
    return archive_content(result["archive"]) | (run_files(result) if files else {})


def object_tables(engine: sa.Engine) -> list[str]:
    """The tables that reference collection_object by object_id (deleted from first)."""
    inspector = sa.inspect(engine)
    return [name for name in inspector.get_table_names() if name != "collection_object"
            and "object_id" in {column["name"] for column in inspector.get_columns(name)}]


def change_source(url: str) -> dict[str, list[int]]:
    """Inserts (copies of two records under new ids), updates (remarks and locality-independent values of three
    records) and deletes (one record deleted with its rows, one made not public) in the source, all modified at
    LATER; returns the object_ids of each kind."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            ids = [row[0] for row in connection.execute(sa.text(
                "SELECT object_id FROM collection_object WHERE is_public = 1 ORDER BY object_id"))]
            top = max(ids)
            updated, deleted, hidden, copied = ids[3:6], ids[10:11], ids[20:21], ids[30:32]
            inserted = [top + 1 + n for n in range(len(copied))]
            connection.execute(sa.text(
                "UPDATE collection_object SET remarks = 'checked again', individual_count = 7, modified_at = :at "
                "WHERE object_id IN (:a, :b, :c)"), {"at": LATER, "a": updated[0], "b": updated[1], "c": updated[2]})
            for source, new in zip(copied, inserted):
                connection.execute(sa.text(
                    "INSERT INTO collection_object (object_id, guid, collection_id, event_id, basis, sex, "
                    "life_stage, individual_count, remarks, is_public, modified_at) SELECT :new, :guid, "
                    "collection_id, event_id, basis, sex, life_stage, individual_count, 'a new record', is_public, "
                    ":at FROM collection_object WHERE object_id = :old"),
                    {"new": new, "guid": str(uuid.uuid4()), "at": LATER, "old": source})
            for table in object_tables(engine):
                connection.execute(sa.text(f"DELETE FROM {table} WHERE object_id = :id"), {"id": deleted[0]})
            connection.execute(sa.text("DELETE FROM collection_object WHERE object_id = :id"), {"id": deleted[0]})
            connection.execute(sa.text("UPDATE collection_object SET is_public = 0 WHERE object_id = :id"),
                               {"id": hidden[0]})  # gone from the query, its modified_at untouched
    finally:
        engine.dispose()
    return {"updated": updated, "inserted": inserted, "deleted": deleted + hidden}


def dataset(tmp_path: Path, url: str, name: str = "incr") -> DatasetConfig:
    path = write_config(tmp_path / f"{name}.yaml", name, url, tmp_path / "output")
    config = load_config(path)
    config.validation.bdq.enabled = False
    return config


def check_incremental_equals_full(config: DatasetConfig, url: str, tmp_path: Path) -> None:
    first = run(config)
    assert first["mode"] == "full" and first["version"] == "1.0"
    directory = PublicationDirectory(config.publication_directory)
    manifest, why = staging.current_staging(directory)
    assert manifest is not None, why
    assert manifest.ordered and manifest.key_column == "object_id"
    assert manifest.tables["occurrence"].published == first["records"]
    assert manifest.tables["occurrence"].quarantined == first["rejected"]
    assert manifest.watermark is not None and manifest.watermark < LATER

    changed = change_source(url)
    result = run(config, mode="incremental", reconcile=True)
    assert result["mode"] == "incremental" and result["full_because"] is None, result["full_because"]
    assert result["version"] == "1.1"
    # only the changed records were read: the updated and inserted ones (and any at the watermark itself)
    assert result["merge"]["replaced"] >= len(changed["updated"])
    assert result["merge"]["replaced"] < first["records"] // 4
    assert result["merge"]["deleted"] == 2
    changes = result["changes"]
    assert changes["deleted"] == 2 and changes["removed"] == 2
    assert changes["added"] == 2 and changes["changed"] == 3
    assert result["records"] + result["rejected"] == first["records"] + first["rejected"] + 2 - 2
    full = fresh_full_run(config, tmp_path, files=True)
    assert archive_content(result["archive"]) == {name: full[name] for name in ("occurrence.txt", "meta.xml")}
    assert run_files(result) == {name: full[name] for name in ("quarantine", "warnings")}
    assert full["warnings"].count("\n") > 1 and full["quarantine"].count("\n") > 1  # both have records
    manifest, _ = staging.current_staging(directory)
    assert manifest.version == "1.1" and manifest.watermark == LATER

    # a changed config (here a validation setting) forces a full run, and says so
    changed_config = config.model_copy(deep=True)
    changed_config.validation.earliest_year = (config.validation.earliest_year or 1600) + 1
    again = run(changed_config, mode="incremental")
    assert again["mode"] == "full" and "config" in again["full_because"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_incremental_run_equals_a_full_run_on_postgresql(postgres_db, tmp_path):  # noqa: F811
    db = build_sample_database(tmp_path / "incr_source.sqlite", specimens=300, seed=3)
    copy_database(db, postgres_db)
    check_incremental_equals_full(dataset(tmp_path, postgres_db), postgres_db, tmp_path)


def test_incremental_run_equals_a_full_run_on_sqlite(tmp_path):
    db = build_sample_database(tmp_path / "incr_source.sqlite", specimens=300, seed=4)
    url = f"sqlite:///{db}"
    check_incremental_equals_full(dataset(tmp_path, url), url, tmp_path)


def test_backfill_window_publishes_the_merged_records(tmp_path):
    """Records changed in the source with a modified_at inside an old window (before the watermark: an
    incremental run would not read them) are re-read by a backfill of that window, merged and published; the
    watermark stays."""
    db = build_sample_database(tmp_path / "incr_backfill.sqlite", specimens=300, seed=5)
    url = f"sqlite:///{db}"
    config = dataset(tmp_path, url, "incr-backfill")
    first = run(config)
    watermark = staging.current_staging(PublicationDirectory(config.publication_directory))[0].watermark
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        ids = [row[0] for row in connection.execute(sa.text(
            "SELECT object_id FROM collection_object WHERE is_public = 1 AND modified_at >= '2021-01-01' "
            "AND modified_at < '2022-01-01' ORDER BY object_id LIMIT 4"))]
        in_window = connection.execute(sa.text(
            "SELECT count(*) FROM collection_object WHERE is_public = 1 AND modified_at >= '2021-01-01' "
            "AND modified_at < '2022-01-01'")).scalar()
        connection.execute(sa.text("UPDATE collection_object SET remarks = 'fixed in a backfill' WHERE object_id "
                                   "IN (" + ", ".join(map(str, ids)) + ")"))
    engine.dispose()
    assert len(ids) == 4
    assert run(config, mode="incremental")["changes"]["changed"] == 0  # outside what an incremental run reads

    result = run(config, since="2021-01-01", until="2022-01-01")
    assert result["mode"] == "backfill" and result["full_because"] is None
    assert result["merge"]["replaced"] == in_window
    assert result["changes"]["changed"] == 4 and result["records"] == first["records"]
    assert archive_content(result["archive"]) == fresh_full_run(config, tmp_path)
    manifest = staging.current_staging(PublicationDirectory(config.publication_directory))[0]
    assert manifest.version == result["version"] and manifest.watermark == watermark


def test_fallbacks_to_a_full_run_say_why(tmp_path):
    """No staged records yet, then a record read now that shares its occurrenceID (ignoring case, as the IPT
    compares them) with a staged record (the duplicate check needs the whole table): full runs, saying why,
    whose archives equal a fresh full run's."""
    db = build_sample_database(tmp_path / "incr_fallback.sqlite", specimens=300, seed=6)
    url = f"sqlite:///{db}"
    config = dataset(tmp_path, url, "incr-fallback")
    first = run(config, mode="incremental")
    assert first["mode"] == "full" and "nothing has been published yet" in first["full_because"]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        ids = [row[0] for row in connection.execute(sa.text(
            "SELECT object_id FROM collection_object WHERE is_public = 1 ORDER BY object_id"))]
        guid = connection.execute(sa.text("SELECT guid FROM collection_object WHERE object_id = :id"),
                                  {"id": ids[1]}).scalar()
        connection.execute(sa.text("UPDATE collection_object SET guid = :guid, modified_at = :at WHERE object_id "
                                   "= :id"), {"guid": guid.upper(), "at": LATER, "id": ids[7]})  # ids ignore case
    engine.dispose()
    result = run(config, mode="incremental")
    assert result["mode"] == "full" and "is also a staged record's" in result["full_because"]
    assert result["rejected"] == first["rejected"] + 2  # both records share the id now: both kept out
    assert archive_content(result["archive"]) == fresh_full_run(config, tmp_path)


def test_the_staged_records_follow_the_versions(tmp_path):
    """Each publication stages its records with a manifest; old staged versions are pruned; a record key that
    is not in increasing order (no ORDER BY key) makes incremental runs full ones."""
    db = build_sample_database(tmp_path / "incr_prune.sqlite", specimens=120, seed=8)
    config = dataset(tmp_path, f"sqlite:///{db}", "incr-prune")
    directory = PublicationDirectory(config.publication_directory)
    modes = []
    for _ in range(staging.KEEP_STAGED + 1):
        modes.append(run(config, mode="incremental")["mode"])
        config.metadata.title += " (again)"  # the metadata changes, the records not: a new version each time
    assert modes == ["full", "incremental", "incremental", "incremental"]  # the title is not in the config hash
    assert directory.staged_versions() == ["1.1", "1.2", "1.3"]
    manifest = json.loads((directory.staged("1.3") / staging.MANIFEST).read_text())
    assert manifest["version"] == "1.3" and manifest["ordered"] is True
    unordered = config.model_copy(deep=True)
    unordered.source.query = unordered.source.query.replace("ORDER BY o.object_id", "ORDER BY o.guid")
    unordered.source.partition = None
    unordered.source.key = "object_id"
    run(unordered)
    result = run(unordered, mode="incremental")
    assert result["mode"] == "full" and "strictly increasing object_id order" in result["full_because"]


def test_command_line_incremental_run_and_backfill_through_prefect(tmp_path, prefect_api):
    """The real commands in processes of their own, as flow runs on the session's Prefect API: `mobilise run`,
    `mobilise run --incremental --reconcile-deletions` after changes in the source, and `mobilise backfill`,
    which now publishes (its merged records)."""
    from tests.test_operations import mobilise

    db = build_sample_database(tmp_path / "incr_cli.sqlite", specimens=200, seed=9)
    url = f"sqlite:///{db}"
    path = write_config(tmp_path / "incr-cli.yaml", "incr-cli", url, tmp_path / "output")

    def command(*args: str) -> dict:
        done = mobilise(*args, str(path), "--runner", "threads", "--json")
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = command("run")
    assert first["mode"] == "full" and first["version"] == "1.0"
    change_source(url)
    second = command("run", "--incremental", "--reconcile-deletions")
    assert second["mode"] == "incremental" and second["version"] == "1.1" and second["full_because"] is None
    assert second["changes"]["deleted"] == 2 and second["changes"]["added"] == 2
    assert second["records"] + second["rejected"] == first["records"] + first["rejected"]
    backfill = command("backfill", "--since", "2020-01-01", "--until", "2021-01-01")
    assert backfill["mode"] == "backfill" and backfill["merge"]["replaced"] > 0
    assert backfill["unchanged"] is True and backfill["published"] is False  # nothing changed in that window
    forced = command("run", "--incremental", "--full")
    assert forced["mode"] == "full" and forced["unchanged"] is True
    assert archive_content(Path(tmp_path / "output" / "incr-cli" / "dwca.zip")) == archive_content(
        second["archive"])


# --- records the dataset's rules now exclude ----------------------------------------------------------------------

NOT_PUBLIC = "sensitive:\n  exclude_when:\n    - {column: is_public, equals: 0, reason: not for publication}\n"
PUBLIC_ONLY = "filters:\n  - {column: is_public, not_equals: 0, reason: public records only}\n"


def rules_dataset(tmp_path: Path, url: str, name: str, rules: str) -> DatasetConfig:
    """The sample config reading every specimen (``is_public`` a column, not a WHERE clause) with `rules`."""
    path = write_config(tmp_path / f"{name}.yaml", name, url, tmp_path / "output")
    text = path.read_text(encoding="utf-8")
    for old, new in (("SELECT o.object_id, o.guid,", "SELECT o.object_id, o.guid, o.is_public,"),
                     ("    WHERE o.is_public = 1\n", "")):
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text + rules, encoding="utf-8")
    config = load_config(path)
    config.validation.bdq.enabled = False
    return config


def published_keys(config: DatasetConfig) -> list[int]:
    """The source keys of the current version's published records (its staged records)."""
    directory = PublicationDirectory(config.publication_directory)
    manifest, why = staging.current_staging(directory)
    assert manifest is not None, why
    files = staging.staged_files(directory, manifest.version, "occurrence", staging.PUBLISHED)
    return sorted(key for path in files for key in pq.read_table(path, columns=[staging.KEY])[staging.KEY].to_pylist())


def withdraw_and_change(url: str, withdrawn: int, changed: int, at: str | None) -> str:
    """Make record `withdrawn` not public and change the remarks of record `changed` in the source (their
    modified_at set to `at`, or left as it is); returns the withdrawn record's guid."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            touch = ", modified_at = :at" if at else ""
            connection.execute(sa.text(f"UPDATE collection_object SET is_public = 0{touch} WHERE object_id = :id"),
                               {"id": withdrawn, "at": at})
            connection.execute(sa.text(f"UPDATE collection_object SET remarks = 'checked again'{touch} "
                                       "WHERE object_id = :id"), {"id": changed, "at": at})
            return connection.execute(sa.text("SELECT guid FROM collection_object WHERE object_id = :id"),
                                      {"id": withdrawn}).scalar()
    finally:
        engine.dispose()


def check_withdrawn_by_rule(config: DatasetConfig, tmp_path: Path, first: dict, result: dict, guid: str,
                            kind: str) -> None:
    """`result` (an incremental run or a backfill after withdrawing one published record by rule and changing
    another) merged, dropped the withdrawn record, counted it as excluded and removed, and equals a full run."""
    assert result["mode"] == kind and result["full_because"] is None, result["full_because"]
    changes = result["changes"]
    assert (changes["removed"], changes["now_excluded"], changes["changed"], changes["added"]) == (1, 1, 1, 0)
    assert guid in " ".join(changes["removed_ids"])
    assert result["records"] == first["records"] - 1 and result["rejected"] == first["rejected"]
    assert result["records"] + result["rejected"] + result["excluded"] == result["extracted"]
    with open(result["excluded_file"], encoding="utf-8", newline="") as handle:
        excluded = list(csv.DictReader(handle))
    assert len(excluded) == result["excluded"] >= 1
    withdrawn = [row for row in excluded if row["source.guid"] == guid]
    assert len(withdrawn) == 1 and withdrawn[0]["source.object_id"]  # the record key: what the merge drops by
    full = fresh_full_run(config, tmp_path)
    assert archive_content(result["archive"]) == full
    assert guid not in full["occurrence.txt"]


def check_incremental_drops_a_record_withdrawn_by_rule(config: DatasetConfig, url: str, tmp_path: Path) -> None:
    first = run(config)
    assert first["mode"] == "full" and first["excluded"] > 0  # the sample has records that are not public
    keys = published_keys(config)
    guid = withdraw_and_change(url, keys[5], keys[8], LATER)
    result = run(config, mode="incremental")
    check_withdrawn_by_rule(config, tmp_path, first, result, guid, "incremental")
    assert result["merge"]["replaced"] >= 2
    # the next incremental run reads the withdrawn record again and keeps it out: nothing changes
    assert run(config, mode="incremental")["unchanged"] is True


def test_incremental_run_drops_a_record_the_rules_now_exclude_on_sqlite(tmp_path):
    """A published record made not public (sensitive.exclude_when) and modified after the watermark leaves the
    dataset at the next incremental run, as a full run would leave it out."""
    db = build_sample_database(tmp_path / "incr_rules.sqlite", specimens=300, seed=11)
    url = f"sqlite:///{db}"
    check_incremental_drops_a_record_withdrawn_by_rule(rules_dataset(tmp_path, url, "incr-rules", NOT_PUBLIC),
                                                       url, tmp_path)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_incremental_run_drops_a_record_the_rules_now_exclude_on_postgresql(postgres_db, tmp_path):  # noqa: F811
    db = build_sample_database(tmp_path / "incr_rules.sqlite", specimens=300, seed=12)
    copy_database(db, postgres_db)
    check_incremental_drops_a_record_withdrawn_by_rule(
        rules_dataset(tmp_path, postgres_db, "incr-rules-pg", PUBLIC_ONLY), postgres_db, tmp_path)


def test_backfill_drops_a_record_a_filter_now_excludes(tmp_path):
    """A record made not public (failing a filter) with a modified_at inside an old window leaves the dataset at a
    backfill of that window."""
    db = build_sample_database(tmp_path / "incr_rules_backfill.sqlite", specimens=300, seed=13)
    url = f"sqlite:///{db}"
    config = rules_dataset(tmp_path, url, "incr-rules-backfill", PUBLIC_ONLY)
    first = run(config)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as connection:
        in_window = [row[0] for row in connection.execute(sa.text(
            "SELECT object_id FROM collection_object WHERE modified_at >= '2021-01-01' "
            "AND modified_at < '2022-01-01' ORDER BY object_id"))]
    engine.dispose()
    keys = sorted(set(in_window) & set(published_keys(config)))
    assert len(keys) >= 2
    guid = withdraw_and_change(url, keys[0], keys[1], None)
    result = run(config, since="2021-01-01", until="2022-01-01")
    check_withdrawn_by_rule(config, tmp_path, first, result, guid, "backfill")
