"""The source database when things go wrong: time limits, retries, readable errors from every engine, identifiers
quoted, read-only sessions, and passwords given through ${ENV} (issue 14 items 6-8, issue 13 item 5's retries).

Run on the real PostgreSQL and MariaDB servers (tests/services.py) and on servers made here: a port nobody
listens on (refused) and a socket that accepts and never answers (hanging)."""
from __future__ import annotations

import logging
import pickle
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator

import pyarrow as pa
import pytest
import sqlalchemy as sa

from mobilise.catalog import CORE, Entry, RunCatalog, batch_name
from mobilise.extractors import sql  # noqa: F401  (registers the SQL backends)
from mobilise.extractors.base import SourceError, extract_batches
from mobilise.extractors.partitions import partition_source, plan_partitions
from mobilise.extractors.stage import extract_partition
from mobilise.settings import PartitionConfig, SourceConfig
from tests.conftest import sample_config
from tests.pipeline_helpers import read_core_with_pandas, run_stages
from tests.services import POSTGRES_ADMIN_URL, mariadb_db, postgres_db  # noqa: F401  (fixtures)

ENGINES = ["sqlalchemy", "adbc", "connectorx"]


def _engine_installed(engine: str) -> None:
    pytest.importorskip({"sqlalchemy": "sqlalchemy", "adbc": "adbc_driver_postgresql",
                         "connectorx": "connectorx"}[engine])


def _source(url: str, **settings) -> SourceConfig:
    return SourceConfig(url=url, **{"table": "specimen", "retry_wait": 0.1, **settings})


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung server, a firewall that swallows)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def _refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _across_dask(error: BaseException) -> BaseException:
    """`error` as a Dask worker sends it (with its causes, through tblib) and the client unpacks it."""
    from distributed.core import clean_exception, error_message

    message = error_message(error)
    _, arrived, _ = clean_exception(message["exception"].data)
    assert type(arrived) is type(error) and str(arrived) == str(error), arrived
    assert pickle.loads(pickle.dumps(arrived)).__dict__ == error.__dict__
    return arrived


def _fails_readably(source: SourceConfig, match: str, within: float) -> SourceError:
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        extract_partition(source, None, lambda number, table: number)
    elapsed = time.monotonic() - started
    assert elapsed < within, elapsed
    error = _across_dask(caught.value)
    assert f"source {source.safe_url}:" in str(error), str(error)
    assert "s3cr3t" not in str(error) and error.source == source.safe_url
    assert re.search(match, str(error), flags=re.IGNORECASE), str(error)
    return error


@pytest.mark.parametrize("engine", ENGINES)
def test_a_refused_connection_is_a_readable_error_from_every_engine(engine, caplog):
    _engine_installed(engine)
    source = _source(f"postgresql+psycopg://mobilise:s3cr3t@127.0.0.1:{_refused_port()}/test", engine=engine,
                     retries=2)
    with caplog.at_level(logging.WARNING, logger="mobilise"):
        error = _fails_readably(source, r"connection refused.*gave up after 3 attempts", within=5)
    assert "***" in str(error) and not error.transient
    retries = [r.getMessage() for r in caplog.records if "again in" in r.getMessage()]
    assert len(retries) == 2 and all("retry" in line and "s3cr3t" not in line for line in retries), retries


@pytest.mark.parametrize("engine", ["sqlalchemy", "connectorx"])
def test_a_refused_mariadb_connection_is_readable(engine):
    _engine_installed(engine)
    source = _source(f"mysql+pymysql://mobilise:s3cr3t@127.0.0.1:{_refused_port()}/test", engine=engine,
                     retries=0)
    _fails_readably(source, r"(connection refused|can't connect)", within=5)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_server_that_never_answers_fails_within_connect_timeout(engine, silent_server, caplog):
    _engine_installed(engine)
    source = _source(f"postgresql+psycopg://mobilise:s3cr3t@127.0.0.1:{silent_server}/test", engine=engine,
                     connect_timeout=2, retries=1)
    with caplog.at_level(logging.WARNING, logger="mobilise"):
        _fails_readably(source, r"time(out|d out).*gave up after 2 attempts", within=2 * 2 + 0.1 + 3)
    assert sum("retry 1 of 1" in r.getMessage() for r in caplog.records) == 1


@pytest.fixture
def specimens(postgres_db) -> str:
    """The private PostgreSQL schema with specimen (300 rows, id 1-300), keep (1 row) and purge() (deletes it)."""
    engine = sa.create_engine(postgres_db, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE specimen (id integer PRIMARY KEY, name text)"))
        connection.execute(sa.text("INSERT INTO specimen SELECT n, 'specimen ' || n FROM generate_series(1, 300) n"))
        connection.execute(sa.text("CREATE TABLE keep (id integer)"))
        connection.execute(sa.text("INSERT INTO keep VALUES (1)"))
        connection.execute(sa.text("CREATE FUNCTION purge() RETURNS SETOF integer LANGUAGE sql "
                                   "AS 'DELETE FROM keep RETURNING id'"))
    engine.dispose()
    return postgres_db


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")


@pytest.mark.postgres
def test_a_locked_table_fails_within_statement_timeout_with_a_log_line(specimens, caplog):
    source = _source(specimens, statement_timeout=1, retries=1)
    admin = sa.create_engine(specimens, poolclass=sa.NullPool)
    with admin.connect() as locker:
        locker.execute(sa.text("LOCK TABLE specimen IN ACCESS EXCLUSIVE MODE"))  # held until the rollback
        with caplog.at_level(logging.WARNING, logger="mobilise"):
            _fails_readably(source, r"statement timeout.*gave up after 2 attempts", within=1 * 2 + 0.1 + 3)
        locker.rollback()
    admin.dispose()
    lines = [r.getMessage() for r in caplog.records if "statement timeout" in r.getMessage()]
    assert len(lines) == 1 and "retry 1 of 1" in lines[0], lines


@pytest.mark.mariadb
def test_a_locked_mariadb_table_fails_within_statement_timeout(mariadb_db, caplog):
    engine = sa.create_engine(mariadb_db, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE specimen (id integer)"))
    with engine.connect() as locker:
        locker.execute(sa.text("LOCK TABLES specimen WRITE"))
        with caplog.at_level(logging.WARNING, logger="mobilise"):
            _fails_readably(_source(mariadb_db, statement_timeout=1, retries=1),
                            r"max_statement_time exceeded.*gave up after 2 attempts", within=1 * 2 + 0.1 + 3)
        locker.execute(sa.text("UNLOCK TABLES"))
    engine.dispose()
    assert sum("retry 1 of 1" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.postgres
def test_a_backend_terminated_mid_fetch_is_read_again_without_duplicates(specimens, tmp_path, caplog):
    application = f"mobilise_kill_{secrets.token_hex(4)}"
    url = sa.make_url(specimens).update_query_dict({"application_name": application})
    source = _source(url.render_as_string(hide_password=False), batch_size=50, table=None,
                     query="SELECT id, name FROM specimen ORDER BY id")
    clean = pa.concat_tables(pa.Table.from_batches([batch]) for batch in extract_batches(source))
    assert clean.num_rows == 300

    catalog = RunCatalog(tmp_path / "run")
    admin = _admin(specimens)
    terminated = []

    def save(number: int, table: pa.Table) -> Entry:
        entry = catalog.save(Entry("extracted", CORE, batch_name(number, None)), table)
        if not terminated:  # the first batch is saved: kill the backend while the rest is still to be fetched
            with admin.connect() as connection:
                terminated.append(connection.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": application}).scalar())
        return entry

    with caplog.at_level(logging.WARNING, logger="mobilise"):
        entries = extract_partition(source, None, save)
    admin.dispose()
    assert terminated == [True]
    assert any("again in" in r.getMessage() and "terminat" in r.getMessage() for r in caplog.records)
    saved = pa.concat_tables(catalog.load(entry) for entry in entries)
    assert saved.equals(clean.select(saved.column_names))  # the same records in the same order: none twice
    assert len(list((tmp_path / "run").rglob("*.parquet"))) == len(entries) == 6


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ENGINES)
def test_a_hostile_table_name_is_an_identifier_not_sql(specimens, engine):
    _engine_installed(engine)
    hostile = _source(specimens, table="specimen; DROP TABLE keep; --", engine=engine, retries=0)
    with pytest.raises(SourceError, match=r'(relation|table).*does not exist') as caught:
        list(extract_batches(hostile))
    _across_dask(caught.value)  # a driver's error (ADBC's do not unpickle) arrives as the SourceError
    partitioned = hostile.model_copy(update={"partition": PartitionConfig(column="id", keys=100)})
    with pytest.raises(Exception, match=r"does not exist"):
        for part in plan_partitions(partitioned):
            list(extract_batches(partition_source(partitioned, part)))
    with _admin(specimens).connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM keep")).scalar() == 1
    schema = sa.make_url(specimens).query["options"].split("=", 1)[1]
    qualified = _source(specimens, table=f"{schema}.specimen", engine=engine)  # schema.table still works
    assert sum(batch.num_rows for batch in extract_batches(qualified)) == 300


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ENGINES)
def test_a_query_that_writes_fails_in_postgresql(specimens, engine):
    _engine_installed(engine)
    writer = _source(specimens, table=None, engine=engine, retries=0,
                     query="SELECT purge() AS id")
    with pytest.raises(SourceError, match=r"read-only transaction.*source.query must only read"):
        list(extract_batches(writer))
    with _admin(specimens).connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM keep")).scalar() == 1


@pytest.mark.mariadb
def test_a_query_that_writes_fails_in_mariadb(mariadb_db):
    engine = sa.create_engine(mariadb_db, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE keep (id integer)"))
        connection.execute(sa.text("INSERT INTO keep VALUES (1)"))
    writer = _source(mariadb_db, table=None, retries=0, query="DELETE FROM keep RETURNING id")
    with pytest.raises(SourceError, match=r"READ ONLY transaction.*source.query must only read"):
        list(extract_batches(writer))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM keep")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("engine", ["sqlalchemy", "adbc"])
def test_a_query_that_writes_fails_in_sqlite(tmp_path, engine):
    import sqlite3

    pytest.importorskip({"sqlalchemy": "sqlalchemy", "adbc": "adbc_driver_sqlite"}[engine])

    path = tmp_path / "source.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE keep (id integer)")
        connection.execute("INSERT INTO keep VALUES (1)")
    connection.close()
    writer = _source(f"sqlite:///{path}", table=None, retries=0, engine=engine,
                     query="DELETE FROM keep RETURNING id")
    with pytest.raises(SourceError, match=r"source.query must only read"):
        list(extract_batches(writer))
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM keep").fetchone() == (1,)
    connection.close()


def test_an_output_path_with_an_apostrophe_and_a_space(sample_db, tmp_path, monkeypatch):
    """DuckDB's duplicate check reads the run folder's files as a parameter, never pasted into its SQL."""
    output = tmp_path / "the curator's output"
    result = run_stages(sample_config(f"sqlite:///{sample_db}", output, monkeypatch))
    assert str(output) in str(result.archive)
    assert result.records == len(read_core_with_pandas(result.archive)) > 0


def test_env_values_land_in_the_url_as_one_user_and_one_password(tmp_path, monkeypatch):
    from mobilise.settings import load_config
    from tests.conftest import SAMPLE_CONFIG

    config = tmp_path / "dataset.yaml"
    config.write_text(SAMPLE_CONFIG.read_text().replace(
        "url: ${MOBILISE_SAMPLE_URL:-sqlite:///../data/sample.sqlite}",
        "url: postgresql+psycopg://${DB_USER}:${DB_PASSWORD}@db.example.org:5433/${DB_NAME}?sslmode=require"))
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path))
    monkeypatch.setenv("DB_USER", "reader@museum")
    monkeypatch.setenv("DB_PASSWORD", "p@ss:w/rd?#%&+ 1")
    monkeypatch.setenv("DB_NAME", "collection")
    source = load_config(config).source
    url = sa.make_url(source.url)
    assert (url.username, url.password, url.host, url.port, url.database, dict(url.query)) == (
        "reader@museum", "p@ss:w/rd?#%&+ 1", "db.example.org", 5433, "collection", {"sslmode": "require"})
    assert source.safe_url == "postgresql+psycopg://reader%40museum:***@db.example.org:5433/collection?sslmode=require"
    # a whole URL from one variable is taken as it is (it must be encoded already)
    monkeypatch.setenv("MOBILISE_SAMPLE_URL", "postgresql+psycopg://reader:p%40ss@db.example.org/collection")
    assert sa.make_url(load_config(SAMPLE_CONFIG).source.url).password == "p@ss"


def _forms(secret: str) -> set[str]:
    """A secret as it could leak: as given, percent-encoded (as a URL holds it) in each common way."""
    from urllib.parse import quote, quote_plus

    return {secret, quote(secret, safe=""), quote(secret, safe=" +"), quote_plus(secret)}


@pytest.mark.prefect
@pytest.mark.postgres
def test_a_password_from_env_reaches_the_database_and_nothing_else(prefect_api, postgres_db, sample_db, tmp_path):
    """A run through the command line, with a password holding @ : / ? # % & + and a space given as ${ENV}:
    the URL parses (the run reads the source as the role), and the password, or any part of it on either side
    of the @, is nowhere in the command's output, the output and work folders, or Prefect's database."""
    import os
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL

    from mobilise.samples import copy_database
    from mobilise.settings import load_config
    from tests.conftest import SAMPLE_CONFIG

    copy_database(sample_db, postgres_db)
    schema = sa.make_url(postgres_db).query["options"].split("=", 1)[1]
    role, head, tail = f"mobilise_reader_{secrets.token_hex(4)}", secrets.token_hex(6), secrets.token_hex(6)
    password = f"Pa55{head}@:/?#%&+ x{tail}"
    admin = _admin(POSTGRES_ADMIN_URL)
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
        connection.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
        connection.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}'))
    try:
        server = sa.make_url(POSTGRES_ADMIN_URL)
        config = tmp_path / "config" / "dataset.yaml"
        config.parent.mkdir()
        config.write_text(SAMPLE_CONFIG.read_text().replace(
            "url: ${MOBILISE_SAMPLE_URL:-sqlite:///../data/sample.sqlite}",
            f"url: postgresql+psycopg://{role}:${{MOBILISE_TEST_PASSWORD}}@{server.host}:{server.port or 5432}/"
            f"{server.database}?options=-csearch_path%3D{schema}"))
        env = {**os.environ, "MOBILISE_TEST_PASSWORD": password, "MOBILISE_OUTPUT": str(tmp_path / "output"),
               "PREFECT_API_URL": PREFECT_API_URL.value()}
        os.environ["MOBILISE_TEST_PASSWORD"] = password
        try:  # the substituted URL is one password, one host
            url = sa.make_url(load_config(config).source.url)
        finally:
            del os.environ["MOBILISE_TEST_PASSWORD"]
        assert (url.username, url.password, url.host) == (role, password, server.host)

        completed = subprocess.run([sys.executable, "-m", "mobilise.cli", "run", str(config), "--json"],
                                   capture_output=True, text=True, env=env, timeout=300)
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert f"{role}:***@" in completed.stderr  # the source is named, its password masked
        with _admin(POSTGRES_ADMIN_URL).connect() as connection:  # the run read the source as the role
            assert connection.execute(sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :r"),
                                      {"r": role}).scalar() == 1

        database = Path(sa.make_url(PREFECT_SERVER_DATABASE_CONNECTION_URL.value()).database)
        places = {"stdout": completed.stdout.encode(), "stderr": completed.stderr.encode()}
        for path in [*(tmp_path / "output").rglob("*"), *database.parent.glob(database.name + "*")]:
            if path.is_file():
                places[str(path)] = path.read_bytes()
            if path.suffix == ".zip":  # the archive's files, not their deflated bytes
                with zipfile.ZipFile(path) as archive:
                    places.update({f"{path}!{name}": archive.read(name) for name in archive.namelist()})
        assert any(f"{role}:***@".encode() in text for name, text in places.items() if name.startswith("/")
                   and "prefect" in name), "the run's log lines are not in Prefect's database"
        assert any(name.endswith("!occurrence.txt") for name in places)
        assert any(name.endswith("eml.xml") for name in places)
        secrets_ = _forms(password) | {head, tail}
        leaks = [(name, secret) for name, text in places.items() for secret in secrets_ if secret.encode() in text]
        assert not leaks, leaks
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP OWNED BY {role}"))
            connection.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()


def test_a_source_that_stays_down_fails_the_run_clearly_and_publishes_nothing(tmp_path, monkeypatch, caplog):
    config = sample_config(f"postgresql+psycopg://reader:s3cr3t@127.0.0.1:{_refused_port()}/collection",
                           tmp_path / "output", monkeypatch)
    config.source = config.source.model_copy(update={"retries": 2, "retry_wait": 0.1})
    named = r"^source postgresql\+psycopg://reader:\*\*\*@127\.0\.0\.1:\d+/collection: "
    with caplog.at_level(logging.WARNING, logger="mobilise"), \
            pytest.raises(SourceError, match=named + r".*refused.*\(gave up after 3 attempts\)$") as caught:
        run_stages(config)
    assert "s3cr3t" not in str(caught.value) + caplog.text
    assert sum("again in" in r.getMessage() for r in caplog.records) == 2
    assert not list((tmp_path / "output").rglob("*.zip")) and not list((tmp_path / "output").rglob("eml.xml"))


@pytest.mark.postgres
def test_a_killed_run_does_not_leave_its_query_running_on_postgresql(specimens):
    """kill -9 of the process that reads: the server finds the client gone within client_connection_check_interval
    (PostgreSQL 14+) and ends the query, instead of running it to its end on the collection database."""
    import subprocess
    import sys

    application = f"mobilise_gone_{secrets.token_hex(4)}"
    url = sa.make_url(specimens).update_query_dict({"application_name": application})
    reader = subprocess.Popen([sys.executable, "-c", (
        "import sys; from mobilise.extractors import sql; from mobilise.extractors.base import extract_batches; "
        "from mobilise.settings import SourceConfig; "
        "list(extract_batches(SourceConfig(url=sys.argv[1], query='SELECT id, pg_sleep(120) FROM specimen')))"),
        url.render_as_string(hide_password=False)])
    admin = _admin(specimens)
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND state = 'active'")
    try:
        deadline = time.monotonic() + 20
        with admin.connect() as connection:
            while not connection.execute(query, {"name": application}).scalar():
                assert time.monotonic() < deadline and reader.poll() is None, "the query never started"
                time.sleep(0.2)
            reader.kill()
            reader.wait()
            killed = time.monotonic()
            while connection.execute(query, {"name": application}).scalar():
                assert time.monotonic() - killed < 15, "the query runs on after its client was killed"
                time.sleep(0.2)
    finally:
        reader.kill()
        admin.dispose()


def test_a_failed_run_shows_in_status_without_a_prefect_api_with_its_password_masked(tmp_path, monkeypatch):
    """`mobilise run` of a source that stays down publishes nothing and leaves no report; `mobilise status` still
    shows the failure (time, error in one line, duration), read from the publication directory, password masked."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from mobilise.flows.operations import folder_status
    from mobilise.settings import load_config

    repo = Path(__file__).resolve().parents[1]
    config = tmp_path / "config" / "sample.yaml"
    config.parent.mkdir()
    shutil.copy(repo / "config" / "sample.yaml", config)
    url = f"postgresql+psycopg://reader:s3cr3t@127.0.0.1:{_refused_port()}/collection"
    env = {**os.environ, "MOBILISE_SAMPLE_URL": url, "MOBILISE_OUTPUT": str(tmp_path / "out")}
    env.pop("PREFECT_API_URL", None)
    completed = subprocess.run([sys.executable, "-m", "mobilise.cli", "run", str(config), "--runner", "threads"],
                               capture_output=True, text=True, timeout=600, env=env)
    assert completed.returncode == 1 and "nothing was published" in completed.stderr

    monkeypatch.setenv("MOBILISE_SAMPLE_URL", url)
    monkeypatch.setenv("MOBILISE_OUTPUT", str(tmp_path / "out"))
    status = folder_status(load_config(config))
    assert status["version"] is None
    last = status["last_run"]
    assert last["failed"] is True and last["state"] == "failed: nothing published"
    assert last["failure"].startswith("SourceError: source postgresql+psycopg://reader:***@127.0.0.1:")
    assert last["duration_seconds"] >= 0
    assert "s3cr3t" not in json.dumps(status)
    shown = subprocess.run([sys.executable, "-m", "mobilise.cli", "status", str(config), "--json"],
                           capture_output=True, text=True, timeout=120, env=env)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "failed: nothing published" in shown.stdout and "s3cr3t" not in shown.stdout
