"""Arrow-native extraction (source.engine adbc / connectorx): the same rows and values as SQLAlchemy."""
from __future__ import annotations

import math
import sqlite3

import pyarrow as pa
import pytest

from mobilise.extractors import sql  # noqa: F401
from mobilise.extractors.arrow_native import NativeEngineError
from mobilise.extractors.base import extract_batches
from mobilise.samples import copy_database
from mobilise.mappers.mapping import as_text
from mobilise.settings import SourceConfig
from tests.pipeline_helpers import public_object_count
from tests.services import mariadb_db, postgres_db  # noqa: F401  (fixtures)

BATCH = 300


def _read(source: SourceConfig, engine: str) -> tuple[pa.Table, list[int]]:
    """All batches with every column as text, as the mapper sees them (a batch's types depend on its values)."""
    batches = list(extract_batches(source.model_copy(update={"engine": engine, "batch_size": BATCH})))
    tables = [pa.table({name: as_text(batch.column(name)) for name in batch.schema.names}) for batch in batches]
    return pa.concat_tables(tables), [b.num_rows for b in batches]


def _assert_same(source: SourceConfig, engine: str, expected_rows: int) -> None:
    expected, _ = _read(source, "sqlalchemy")
    actual, sizes = _read(source, engine)
    assert actual.num_rows == expected.num_rows == expected_rows
    assert len(sizes) == math.ceil(expected_rows / BATCH) and max(sizes) == BATCH  # bounded, same cut
    assert actual.column_names == expected.column_names
    for name in expected.column_names:
        want, got = expected[name].to_pylist(), actual[name].to_pylist()
        differing = [(i, w, g) for i, (w, g) in enumerate(zip(want, got)) if w != g]
        assert not differing, (name, differing[:3])


@pytest.mark.parametrize("engine", ["adbc", "connectorx"])
def test_sqlite_same_rows_and_values(engine, sqlite_config, sample_db):
    _assert_same(sqlite_config.source, engine, public_object_count(sample_db))


@pytest.mark.parametrize("engine", ["adbc", "connectorx"])
def test_sqlite_table_source(engine, sample_db):
    source = SourceConfig(url=f"sqlite:///{sample_db}", table="taxon")
    with sqlite3.connect(sample_db) as connection:
        rows = connection.execute("SELECT count(*) FROM taxon").fetchone()[0]
    assert sum(b.num_rows for b in extract_batches(source.model_copy(update={"engine": engine}))) == rows


@pytest.mark.parametrize("engine", ["adbc", "connectorx"])
def test_sqlite_mixed_types_are_read_on_with_sqlalchemy(engine, tmp_path, caplog):
    """Text among integers, or text after NULLs (a type fixed from the first rows): from there, SQLAlchemy reads."""
    path = tmp_path / "mixed.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n, remarks TEXT)")
        connection.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, i, None) for i in range(10)] + [(10, "ten", "x")])
    source = SourceConfig(url=f"sqlite:///{path}", query="SELECT * FROM t", batch_size=2, engine=engine)
    table = pa.Table.from_batches([b.select(["id", "n", "remarks"]).cast(pa.schema(
        [("id", pa.int64()), ("n", pa.string()), ("remarks", pa.string())])) for b in extract_batches(source)])
    assert table["id"].to_pylist() == list(range(11))
    assert table["n"].to_pylist()[-2:] == ["9", "ten"] and table["remarks"].to_pylist()[-1] == "x"
    assert "are read with the sqlalchemy engine" in caplog.text


def test_adbc_does_not_read_mariadb():
    with pytest.raises(ValueError, match="connectorx or sqlalchemy"):  # the config says so (issue 9 item 10)
        SourceConfig(url="mysql+pymysql://root@127.0.0.1/test", table="t", engine="adbc")
    source = SourceConfig(url="mysql+pymysql://root@127.0.0.1/test", table="t").model_copy(update={"engine": "adbc"})
    with pytest.raises(NativeEngineError, match="connectorx or sqlalchemy"):
        list(extract_batches(source))


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["adbc", "connectorx"])
def test_postgresql_same_rows_and_values(engine, postgres_db, sqlite_config, sample_db):
    copy_database(sample_db, postgres_db)
    source = sqlite_config.source.model_copy(update={"url": postgres_db})
    _assert_same(source, engine, public_object_count(sample_db))


@pytest.mark.mariadb
def test_mariadb_same_rows_and_values(mariadb_db, sqlite_config, sample_db):
    copy_database(sample_db, mariadb_db)
    source = sqlite_config.source.model_copy(update={"url": mariadb_db})
    _assert_same(source, "connectorx", public_object_count(sample_db))
