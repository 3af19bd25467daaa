"""Extraction from SQLite, PostgreSQL and MariaDB: bounded batches, and the same archive from each."""
from __future__ import annotations

import math

import pyarrow as pa
import pytest

from mobilise.extractors import sql  # noqa: F401
from mobilise.extractors.base import extract_batches, extractor_for
from mobilise.samples import copy_database
from mobilise.extractors.sql import rows_to_batch
from tests.conftest import sample_config
from tests.pipeline_helpers import public_object_count, read_core_with_pandas, run_stages
from tests.services import mariadb_db, postgres_db  # noqa: F401  (fixtures)


def test_rows_to_batch_keeps_mixed_columns_as_text():
    batch = rows_to_batch(["a", "b", "c"], [(1, "x", None), ("two", "y", None), (3.5, None, None)])
    assert batch.column("a").to_pylist() == ["1", "two", "3.5"]
    assert batch.column("b").type == pa.string() and pa.types.is_null(batch.column("c").type)


def test_unknown_backend_is_named(sqlite_config):
    source = sqlite_config.source.model_copy(update={"url": "firebird://user:secret@host/db"})
    with pytest.raises(ValueError, match=r"no extractor for 'firebird'.*firebird://user:\*\*\*@host/db"):
        extractor_for(source)


def test_a_missing_sqlite_file_is_named_not_created(sqlite_config, tmp_path):
    missing = tmp_path / "nowhere.sqlite"
    source = sqlite_config.source.model_copy(update={"url": f"sqlite:///{missing}"})
    with pytest.raises(ValueError, match=r"the SQLite database .*nowhere.sqlite does not exist"):
        next(extract_batches(source))
    assert not missing.exists()


def _assert_bounded_batches(config, expected_rows: int, batch_size: int = 400) -> None:
    source = config.source.model_copy(update={"batch_size": batch_size})
    sizes = [batch.num_rows for batch in extract_batches(source)]
    assert sum(sizes) == expected_rows
    assert len(sizes) == math.ceil(expected_rows / batch_size) and max(sizes) <= batch_size


def test_sqlite_streams_in_bounded_batches(sqlite_config, sample_db):
    _assert_bounded_batches(sqlite_config, public_object_count(sample_db))


@pytest.fixture
def sqlite_archive(sample_db, tmp_path, monkeypatch):
    return run_stages(sample_config(f"sqlite:///{sample_db}", tmp_path / "sqlite", monkeypatch))


def _same_archive_from(url, sample_db, sqlite_archive, tmp_path, monkeypatch):
    copy_database(sample_db, url)
    config = sample_config(url, tmp_path / "server", monkeypatch)
    _assert_bounded_batches(config, public_object_count(sample_db))
    result = run_stages(config)
    assert (result.records, result.rejected) == (sqlite_archive.records, sqlite_archive.rejected)
    expected = read_core_with_pandas(sqlite_archive.archive).set_index("occurrenceID").sort_index()
    actual = read_core_with_pandas(result.archive).set_index("occurrenceID").sort_index()
    assert list(actual.index) == list(expected.index)
    for term in expected.columns:
        differing = actual[term] != expected[term]
        assert not differing.any(), (term, actual.loc[differing, term].head(3).tolist(),
                                     expected.loc[differing, term].head(3).tolist())


@pytest.mark.postgres
def test_postgresql_gives_the_same_archive(postgres_db, sample_db, sqlite_archive, tmp_path, monkeypatch):
    _same_archive_from(postgres_db, sample_db, sqlite_archive, tmp_path, monkeypatch)


@pytest.mark.mariadb
def test_mariadb_gives_the_same_archive(mariadb_db, sample_db, sqlite_archive, tmp_path, monkeypatch):
    _same_archive_from(mariadb_db, sample_db, sqlite_archive, tmp_path, monkeypatch)
