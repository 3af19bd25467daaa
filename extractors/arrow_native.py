"""Arrow-native extraction: the driver hands over Arrow record batches, no Python object per value.

``source.engine: adbc`` uses the Arrow Database Connectivity drivers (``adbc-driver-sqlite``,
``adbc-driver-postgresql``); ``source.engine: connectorx`` uses ConnectorX's streaming mode
(``return_type="arrow_stream"``) for PostgreSQL, MySQL/MariaDB and SQLite. Both stream batches of at most
``batch_size`` rows, so memory stays bounded by the batch as with SQLAlchemy (ConnectorX's default mode loads the
whole result; its stream mode is used here).

Both need strictly typed columns: they fix a column's Arrow type from the first rows, so a SQLite column that holds
text in one row and numbers in another (SQLite's dynamic typing), NULL in the first rows and text later, or text
that is not UTF-8 stops them. From that row on, a SQLite source is read with the SQLAlchemy engine (which keeps
such a column as text), with a warning: one value never stops a run. Other databases type their columns.
"""
from __future__ import annotations

import logging
from typing import Iterator
from urllib.parse import quote

import pyarrow as pa
from sqlalchemy.engine import make_url

from mobilise.extractors.base import (READ_ONLY_WORDS, SourceError, check_listening, is_transient, server_url,
                                      source_error, table_sql)
from mobilise.settings import SourceConfig

log = logging.getLogger(__name__)


class NativeEngineError(SourceError):
    """The native engine cannot read this source (columns of mixed types, or a source it does not read)."""


_sql = table_sql


def _libpq_uri(url) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq URI (query parameters such as options= are kept)."""
    from urllib.parse import urlencode

    plain = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    # libpq decodes %20, not +, as a space (options=-c a=1 -c b=2)
    return plain + ("?" + urlencode(url.query, doseq=True, quote_via=quote) if url.query else "")


def _sqlite_path(url) -> str:
    if not url.database or url.database == ":memory:":
        raise NativeEngineError("an in-memory SQLite database cannot be read by a native engine",
                                source=url.render_as_string(hide_password=True))
    return url.database


def _batches_of(reader: pa.RecordBatchReader, size: int) -> Iterator[pa.RecordBatch]:
    """Re-cut the driver's batches to exactly `size` rows (the last one shorter), as the SQLAlchemy engine does."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        rows += batch.num_rows
        while rows >= size:
            table = pa.Table.from_batches(pending)
            head, tail = table.slice(0, size), table.slice(size)
            yield head.combine_chunks().to_batches()[0]
            pending, rows = tail.to_batches(), tail.num_rows
    if rows:
        yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


def _mismatch(error: BaseException, engine: str, source: SourceConfig) -> SourceError:
    """The driver's error as a SourceError; for SQLite (whose columns may hold values of different types, which
    the native engines cannot read) with that remedy."""
    if make_url(source.url).get_backend_name() != "sqlite" or is_transient(error) \
            or any(word in str(error).lower() for word in READ_ONLY_WORDS):
        return source_error(error, source)
    return NativeEngineError(
        f"{engine} could not read the source {source.safe_url}: {str(error).strip().splitlines()[0]} (a column "
        f"holding values of different types, as SQLite allows, can only be read with source.engine: sqlalchemy)",
        source=source.safe_url)


def extract_adbc(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    url = server_url(source, native=True)
    backend = url.get_backend_name()
    if backend == "sqlite":
        import adbc_driver_sqlite.dbapi as driver

        # read-only: a file: URI opened with mode=ro
        connect = lambda: driver.connect("file:" + quote(_sqlite_path(url)) + "?mode=ro")  # noqa: E731
        options = {"adbc.sqlite.query.batch_rows": str(source.batch_size)}
    elif backend == "postgresql":
        import adbc_driver_postgresql.dbapi as driver

        check_listening(source)
        connect = lambda: driver.connect(_libpq_uri(url))  # noqa: E731
        options = {"adbc.postgresql.batch_size_hint_bytes": str(16 << 20)}
    else:
        raise NativeEngineError(f"engine adbc reads SQLite and PostgreSQL sources, not {backend} "
                                f"(use engine: connectorx or sqlalchemy)", source=source.safe_url)
    try:
        connection = connect()
    except Exception as error:  # noqa: BLE001  (the driver's errors may not pickle: one readable class)
        raise source_error(error, source) from None
    try:
        cursor = connection.cursor()
        try:
            cursor.adbc_statement.set_options(**options)
            yielded = 0
            try:
                cursor.execute(_sql(source))
                for batch in _batches_of(cursor.fetch_record_batch(), source.batch_size):
                    yield batch
                    yielded += batch.num_rows
            except (OSError, driver.Error) as error:  # noqa: PERF203
                if backend == "sqlite" and _sqlite_typing(error):
                    yield from _rest_with_sqlalchemy(source, yielded, error, "adbc")
                    return
                raise _mismatch(error, "adbc", source) from None
        finally:
            cursor.close()
    finally:
        connection.close()


def _connectorx_uri(url) -> str:
    backend = url.get_backend_name()
    if backend == "sqlite":
        from pathlib import Path

        return "sqlite://" + str(Path(_sqlite_path(url)).resolve())
    if backend == "postgresql":
        return _libpq_uri(url)
    if backend in ("mysql", "mariadb"):
        plain = url.set(drivername="mysql").difference_update_query(["charset"])
        return plain.render_as_string(hide_password=False)
    raise NativeEngineError(f"engine connectorx reads SQLite, PostgreSQL and MySQL/MariaDB sources, not {backend}",
                            source=str(url.render_as_string(hide_password=True)))


#: what the native engines say of SQLite values their column type cannot hold: text that is not UTF-8
#: (ConnectorX), a type fixed from NULLs (ConnectorX's 'Cannot infer type from null', ADBC's INT64 for a column
#: that is NULL in its first batch) or from other values (SQLite's dynamic typing: text among integers)
_SQLITE_TYPING = ("Utf8Error", "invalid utf-8", "Cannot infer type", "InvalidColumnType", "Type mismatch")


def _sqlite_typing(error: BaseException) -> bool:
    return any(sign in str(error) for sign in _SQLITE_TYPING)


def _rest_with_sqlalchemy(source: SourceConfig, skip: int, error: BaseException,
                          engine: str) -> Iterator[pa.RecordBatch]:
    """The source's rows after the first `skip`, read by the SQLAlchemy engine (which reads any SQLite value), with
    a warning: SQLite returns the rows of one query over unchanged data in the same order, so none is lost."""
    from mobilise.extractors.sql import extract_sql

    log.warning("%s cannot read a SQLite value (%s); rows %d and later of %s are read with the sqlalchemy engine",
                engine, str(error).strip().splitlines()[0], skip + 1, source.safe_url)
    rest = source.model_copy(update={"engine": "sqlalchemy", "table": None,
                                     "query": f"SELECT * FROM ({_sql(source)}) LIMIT -1 OFFSET {int(skip)}"})
    return extract_sql(rest)


def _check_connects(source: SourceConfig) -> None:
    """Connect once with the SQLAlchemy driver (psycopg, pymysql: Mobilise's own dependencies) within
    ``connect_timeout``: ConnectorX's connection pool waits 30 s for a server that accepts TCP and never answers,
    whatever the URL's connect_timeout, and then reports only 'timed out waiting for connection'. Skipped for
    SQLite, and when the URL names a driver that is not installed."""
    if make_url(source.url).get_backend_name() == "sqlite":
        return
    from mobilise.extractors.sql import create_engine

    try:
        engine = create_engine(source)
    except ImportError:
        return
    try:
        engine.connect().close()
    except Exception as error:  # noqa: BLE001
        raise source_error(error, source) from None
    finally:
        engine.dispose()


def _sql_ascii(uri: str) -> bool:
    """Whether a PostgreSQL database keeps its text in SQL_ASCII (any bytes): ConnectorX asks for UTF-8, which the
    server then refuses to send for the first value that is not UTF-8, failing the whole read mid-stream. Asked
    through psycopg (the server says it when connecting; a refused connection fails at once, where ConnectorX's pool
    retries); when it cannot tell, False: ConnectorX's own read then says what is wrong."""
    import psycopg

    try:
        with psycopg.connect(uri, connect_timeout=10) as connection:
            return connection.info.parameter_status("server_encoding") == "SQL_ASCII"
    except psycopg.Error:
        return False


def extract_connectorx(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    """ConnectorX's stream in batches of `batch_size` rows.

    ConnectorX stops with an error at a SQLite value its column type cannot hold (text that is not UTF-8, see the
    module's docstring); the rows from there on are then read with the SQLAlchemy engine, so that decode_text
    escapes and flags such text as with the other engines, and a warning says so."""
    import connectorx

    url = server_url(source, native=True)
    check_listening(source)
    _check_connects(source)
    if url.get_backend_name() == "postgresql" and _sql_ascii(_connectorx_uri(url)):
        from mobilise.extractors.sql import extract_sql

        log.warning("connectorx cannot read text that is not UTF-8 from a SQL_ASCII PostgreSQL database; %s is read "
                    "with the sqlalchemy engine", source.safe_url)
        yield from extract_sql(source.model_copy(update={"engine": "sqlalchemy"}))
        return
    yielded = 0
    try:
        reader = connectorx.read_sql(_connectorx_uri(url), _sql(source), return_type="arrow_stream",
                                     batch_size=source.batch_size)
        for batch in _batches_of(reader, source.batch_size):
            yield batch
            yielded += batch.num_rows
    except BaseException as error:  # ConnectorX's Rust panics arrive as pyo3 PanicException (a BaseException)
        if isinstance(error, (GeneratorExit, KeyboardInterrupt, SystemExit, SourceError)):
            raise
        if url.get_backend_name() == "sqlite" and _sqlite_typing(error):
            yield from _rest_with_sqlalchemy(source, yielded, error, "connectorx")
            return
        raise _mismatch(error, "connectorx", source) from None


ENGINES = {"adbc": extract_adbc, "connectorx": extract_connectorx}


def extract_native(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    return ENGINES[source.engine](source)
