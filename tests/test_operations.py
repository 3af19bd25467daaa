"""Operating many datasets: `mobilise run-all` over a folder (two good configs, a broken YAML, a source that is
down), `mobilise status` on it with and without a Prefect API, and backfill windows (bound parameters) on SQLite
and the real PostgreSQL."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from mobilise.cli import app
from mobilise.extractors.base import Window, source_statement, windowed
from mobilise.extractors.stage import extract_partition, plan_partitions
from mobilise.flows.operations import dataset_configs, statuses
from mobilise.samples import build_sample_database, copy_database
from mobilise.settings import SourceConfig, load_config
from tests.conftest import SAMPLE_CONFIG
from tests.services import postgres_db  # noqa: F401  (fixture)

DOWN_URL = "postgresql+psycopg://reader:s3cret-pw@127.0.0.1:9/collection"  # nothing listens on port 9
WINDOW = ("2023-01-01", "2025-01-01")


def write_config(path: Path, shortname: str, url: str, output: Path, source_extra: str = "") -> Path:
    """The shipped sample config as dataset `shortname` reading `url` and writing below `output` (BDQ off, with
    modified_at as its watermark column)."""
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    for old, new in (("${MOBILISE_SAMPLE_URL:-sqlite:///../data/sample.sqlite}", url),
                     ("${MOBILISE_OUTPUT:-../output}", str(output)),
                     ("shortname: mobilise-sample", f"shortname: {shortname}"),
                     ("  bdq:\n", "  bdq:\n    enabled: false\n"),
                     ("  batch_size: 25000\n", f"  batch_size: 25000\n  modified_column: modified_at\n{source_extra}")):
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Path:
    """A folder of configs: alpha.yaml and beta.yml (300-specimen sample databases), broken.yaml (bad YAML),
    down.yaml (a PostgreSQL source nobody listens for) and a vocabulary CSV that is not a config."""
    root = tmp_path_factory.mktemp("fleet")
    folder = root / "configs"
    folder.mkdir()
    output = root / "output"
    for name, seed, suffix in (("alpha", 1, ".yaml"), ("beta", 2, ".yml")):
        db = build_sample_database(root / f"{name}.sqlite", specimens=300, seed=seed)
        write_config(folder / f"{name}{suffix}", name, f"sqlite:///{db}", output)
    write_config(folder / "down.yaml", "down", DOWN_URL, output, "  retries: 0\n  connect_timeout: 2\n")
    (folder / "broken.yaml").write_text("source:\n  url: sqlite:///x.sqlite\n  query: [unclosed\n")
    (folder / "basis_of_record.csv").write_text("source,concept\nskin,PreservedSpecimen\n")
    return folder


def mobilise(*args: str) -> subprocess.CompletedProcess:
    """The real command line in a process of its own, on the session's Prefect API (flow runs log through
    Prefect's console handler, which a CliRunner would close under it)."""
    from prefect.settings import PREFECT_API_URL

    return subprocess.run([sys.executable, "-m", "mobilise.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "200"},
                          timeout=300)


@pytest.fixture(scope="module")
def ran_all(fleet, prefect_api):
    """`mobilise run-all FOLDER --runner threads --json` once: exit status, its JSON, the process."""
    result = mobilise("run-all", str(fleet), "--runner", "threads", "--json")
    return result.returncode, json.loads(result.stdout.strip().splitlines()[-1]), result


def test_only_yaml_files_are_configs(fleet):
    assert [p.name for p in dataset_configs([fleet])] == ["alpha.yaml", "beta.yml", "broken.yaml", "down.yaml"]


def test_run_all_publishes_the_good_ones_and_names_the_failures(ran_all, fleet):
    code, summary, result = ran_all
    assert code == 1, result.stderr[-3000:]
    outcomes = {o["dataset"]: o for o in summary["datasets"]}
    assert summary["failed"] == 2
    for name in ("alpha", "beta"):
        assert outcomes[name]["result"] == "published" and outcomes[name]["version"] == "1.0"
        log = json.loads((fleet.parent / "output" / name / "publications.json").read_text())
        entry = log["versions"][-1]
        assert (outcomes[name]["records"], outcomes[name]["rejected"]) == (entry["records"], entry["rejected"])
        assert outcomes[name]["records"] > 250
    broken = outcomes["broken"]
    assert broken["result"] == "failed" and f"{fleet / 'broken.yaml'}:4" in broken["reason"]
    assert "not valid YAML" in broken["reason"] and "\n" not in broken["reason"]
    down = outcomes["down"]
    assert down["result"] == "failed" and down["reason"].startswith("SourceError: ") and "127.0.0.1" in down["reason"]
    assert "s3cret-pw" not in result.stdout + result.stderr and "\n" not in down["reason"]
    assert not (fleet.parent / "output" / "down" / "publications.json").exists()


def test_run_all_in_one_prefect_api_and_its_table(fleet, prefect_api, ran_all):
    """The readable summary: run again (as a function, in the session's API), both good datasets are unchanged;
    the table names the failures."""
    from rich.console import Console

    from mobilise.cli import run_all_table
    from mobilise.flows.operations import run_all

    outcomes = run_all(dataset_configs([fleet]), runner="threads")
    assert [(o.dataset, o.result, o.version) for o in outcomes if o.result != "failed"] == [
        ("alpha", "unchanged", "1.0"), ("beta", "unchanged", "1.0")]
    console = Console(record=True, width=200)
    console.print(run_all_table(str(fleet), outcomes))
    out = console.export_text()
    assert "2 of 4 succeeded" in out
    assert out.count("unchanged (1.0)") == 2
    assert "broken.yaml:4" in out and "SourceError" in out


def test_status_from_the_publication_folders(ran_all, fleet):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        datasets, note = statuses(dataset_configs([fleet]))
        result = CliRunner().invoke(app, ["status", str(fleet)])
    assert "no Prefect API" in note
    by_name = {d["dataset"]: d for d in datasets}
    alpha = by_name["alpha"]
    assert alpha["version"] == "1.0" and alpha["records"] > 250
    assert alpha["rejected_share"] == round(alpha["rejected"] / (alpha["records"] + alpha["rejected"]), 4)
    assert alpha["last_run"]["state"] in ("published 1.0", "unchanged since 1.0")
    assert alpha["last_run"]["failed"] is False
    assert by_name["broken"]["error"].startswith(f"{fleet / 'broken.yaml'}:4")
    # a run that failed before publishing anything is still shown, from the publication directory
    assert by_name["down"]["version"] is None and by_name["down"]["last_run"]["failed"] is True
    assert by_name["down"]["last_run"]["state"] == "failed: nothing published"
    assert by_name["down"]["last_run"]["failure"].startswith("SourceError: ")
    assert result.exit_code == 0 and "alpha" in result.stdout and "config error" in result.stdout


def test_status_names_a_failed_gate_from_the_validation_report(ran_all, fleet, tmp_path):
    """A validation/ report newer than the current version whose gates failed: the last run published nothing,
    and why."""
    from mobilise.flows.operations import folder_status
    from mobilise.publishers.publication import PublicationDirectory

    config = load_config(fleet / "alpha.yaml")
    report_path = PublicationDirectory(config.publication_directory).report(None)[0]
    before = report_path.read_text() if report_path.exists() else None
    report = {"generated": (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat(), "version": None,
              "gates": [{"name": "max_rejected_share", "passed": False, "detail": "60% rejected (at most 30%)"}]}
    report_path.parent.mkdir(exist_ok=True)
    report_path.write_text(json.dumps(report))
    try:
        status = folder_status(config)
    finally:
        if before is None:
            report_path.unlink()
        else:
            report_path.write_text(before)
    assert status["version"] == "1.0"
    assert status["last_run"]["failed"] is True
    assert status["last_run"]["failure"] == "max_rejected_share: 60% rejected (at most 30%)"


def test_status_from_the_prefect_api(ran_all, fleet, prefect_api):
    """With the session's Prefect API: the last runs' states and durations, and the next run of a deployment."""
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    when = datetime.now(timezone.utc) + timedelta(days=1)
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("publish_dataset")
        deployment = client.create_deployment(flow_id=flow_id, name="alpha")
        client.create_flow_run_from_deployment(deployment, state=Scheduled(scheduled_time=when))
    try:
        datasets, note = statuses(dataset_configs([fleet]))
        result = CliRunner().invoke(app, ["status", str(fleet), "--json"])
    finally:
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment)
    assert note is None
    by_name = {d["dataset"]: d for d in datasets}
    alpha, beta, down = by_name["alpha"], by_name["beta"], by_name["down"]
    assert alpha["last_run"]["state"] == "Completed" and alpha["last_run"]["duration_seconds"] > 0
    assert alpha["last_run"]["from"].startswith("Prefect flow run alpha-")
    assert alpha["deployment"] == "publish_dataset/alpha" and alpha["schedule"] == "scheduled"
    assert abs(datetime.fromisoformat(alpha["next_run"]) - when) < timedelta(seconds=1)
    assert beta["schedule"] == "not scheduled" and beta["next_run"] is None
    assert down["last_run"]["failed"] is True and "SourceError" in down["last_run"]["failure"]
    assert "s3cret-pw" not in json.dumps(datasets)
    assert result.exit_code == 0 and json.loads(result.stdout)["prefect"] == "used"


# --- backfill windows ---------------------------------------------------------------------------------------------

def test_window_values_are_bound_parameters_never_sql():
    source = SourceConfig(url="postgresql+psycopg://u@h/db", query="SELECT * FROM specimen",
                          modified_column="Last Modified")
    statement = source_statement(windowed(source, Window.parse("2024-01-01", "2024-02-01T10:30:00")))
    for url in ("postgresql+psycopg://u@h/db", "sqlite://", "mysql+pymysql://u@h/db"):
        compiled = statement.compile(dialect=sa.make_url(url).get_dialect()())
        assert "2024" not in str(compiled)
        assert compiled.params == {"mobilise_since": "2024-01-01", "mobilise_until": "2024-02-01T10:30:00"}
    assert '"Last Modified" >= ' in str(statement.compile(dialect=sa.make_url("sqlite://").get_dialect()()))


@pytest.mark.parametrize("value", ["2020-01-01' OR 1=1 --", "yesterday", "2024-13-01"])
def test_a_window_value_that_is_not_a_date_is_refused(value):
    with pytest.raises(ValueError, match="must be an ISO 8601 date"):
        Window.parse(value, None)


def test_backfill_refuses_a_value_that_is_not_a_date_as_a_usage_error(fleet):
    result = CliRunner().invoke(app, ["backfill", str(fleet / "alpha.yaml"), "--since", "2020-01-01' OR 1=1 --",
                                      "--until", "2025-01-01"])
    assert result.exit_code == 2 and "Invalid value for '--since'" in result.output


def test_backfill_needs_a_modified_column_and_a_window_that_is_not_empty(fleet, tmp_path):
    plain = tmp_path / "plain.yaml"
    plain.write_text((fleet / "alpha.yaml").read_text().replace("  modified_column: modified_at\n", ""))
    result = CliRunner().invoke(app, ["backfill", str(plain), "--since", "2020-01-01", "--until", "2021-01-01"])
    assert result.exit_code == 2 and "source.modified_column" in result.output
    result = CliRunner().invoke(app, ["backfill", str(fleet / "alpha.yaml"), "--since", "2021-01-01",
                                      "--until", "2020-01-01"])
    assert result.exit_code == 2 and "window is empty" in result.output


def _window_ids(source: SourceConfig, window: Window) -> list[int]:
    """object_id of every record extracted in `window`, over the source's partitions (as the flow reads them)."""
    ids: list[int] = []
    for partition in plan_partitions(source):
        extract_partition(windowed(source, window), partition,
                          lambda n, table: ids.extend(table.column("object_id").to_pylist()))
    return sorted(ids)


def _expected_ids(db: Path, since: str, until: str) -> list[int]:
    with sqlite3.connect(db) as connection:
        return sorted(row[0] for row in connection.execute(
            "SELECT object_id FROM collection_object WHERE is_public = 1 AND modified_at >= ? AND modified_at < ?",
            (since, until)))


def test_backfill_window_on_sqlite_extracts_exactly_the_window(fleet):
    config = load_config(fleet / "alpha.yaml")
    db = Path(sa.make_url(config.source.url).database)
    expected = _expected_ids(db, *WINDOW)
    assert 0 < len(expected) < 200  # a real window: some records, not all
    assert _window_ids(config.source, Window.parse(*WINDOW)) == expected  # partitioned, as configured
    whole = config.source.model_copy(update={"partition": None})
    assert _window_ids(whole, Window.parse(*WINDOW)) == expected
    native = whole.model_copy(update={"engine": "adbc"})  # the native engines bind nothing: read with sqlalchemy
    assert _window_ids(native, Window.parse(*WINDOW)) == expected


def test_backfill_window_on_postgresql(postgres_db, fleet):  # noqa: F811
    """The same window from the sample copied into the real PostgreSQL (text column), and from a timestamp
    column: exactly the window's records, the values only as parameters of the statements sent."""
    config = load_config(fleet / "alpha.yaml")
    db = Path(sa.make_url(config.source.url).database)
    copy_database(db, postgres_db)
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        source = config.source.model_copy(update={"url": postgres_db})
        assert _window_ids(source, Window.parse(*WINDOW)) == _expected_ids(db, *WINDOW)
        engine = sa.create_engine(postgres_db, poolclass=sa.NullPool)
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE stamped AS SELECT object_id, CAST(modified_at AS timestamp) "
                                       "AS changed FROM collection_object"))
        engine.dispose()
        stamped = SourceConfig(url=postgres_db, table="stamped", modified_column="changed")
        window = Window.parse("2023-01-01T00:00:00", "2025-01-01")
        with sqlite3.connect(db) as connection:
            expected = sorted(row[0] for row in connection.execute(
                "SELECT object_id FROM collection_object WHERE modified_at >= ? AND modified_at < ?", WINDOW))
        assert _window_ids(stamped, window) == expected
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    windowed_statements = [(s, p) for s, p in statements if "mobilise_window" in s]
    assert len(windowed_statements) >= 2
    for statement, parameters in windowed_statements:
        assert "2023-01-01" not in statement and "2025-01-01" not in statement
        assert set(parameters.values()) == {"2023-01-01", "2025-01-01"}


def test_backfill_dry_run_validates_the_window_alone(ran_all, fleet, prefect_api):
    config = load_config(fleet / "alpha.yaml")
    log = Path(config.publication_directory) / "publications.json"
    before = log.read_text()
    result = mobilise("backfill", str(fleet / "alpha.yaml"), "--since", WINDOW[0], "--until", WINDOW[1],
                      "--runner", "threads", "--json", "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    expected = _expected_ids(Path(sa.make_url(config.source.url).database), *WINDOW)
    assert out["extracted"] == len(expected) and out["published"] is False and out["version"] is None
    assert out["mode"] == "window" and out["window"] == "modified_at >= 2023-01-01 AND modified_at < 2025-01-01"
    report = json.loads((Path(config.publication_directory) / "validation" / "report.json").read_text())
    assert report["totals"]["extracted"] == len(expected) and report["version"] is None
    assert [g["name"] for g in report["gates"]] == ["max_rejected_share"]  # the whole-version gates do not apply
    # the records outside the window were not read: none counts as removed, in --json and in the report
    assert out["changes"]["removed"] == 0 and out["changes"]["removed_ids"] == []
    assert report["changes"]["removed"] == 0 and "backfill window" in report["changes"]["causes"][0]
    assert out["changes"]["changed"] + out["changes"]["unchanged"] + out["changes"]["added"] == out["records"]
    assert log.read_text() == before  # nothing published
