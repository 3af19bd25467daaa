"""Relational sources through SQLAlchemy: server-side cursors, ``yield_per`` partitions, one Arrow batch each.

With ``source.engine`` set to ``adbc`` or ``connectorx`` the same sources are read Arrow-natively instead
(:mod:`mobilise.extractors.arrow_native`).
"""
from __future__ import annotations

import math
from contextlib import closing
from typing import Iterator

import pyarrow as pa
import sqlalchemy as sa

from mobilise.extractors.base import log, register, server_url, source_statement
from mobilise.settings import SourceConfig


READ_TIMEOUT_MARGIN = 10  # seconds the MySQL/MariaDB client waits beyond statement_timeout for the server's own


def create_engine(source: SourceConfig) -> sa.Engine:
    """An engine for the source with its time limits, reading in read-only sessions where the database has them.

    PostgreSQL: libpq ``connect_timeout``, ``statement_timeout`` and ``default_transaction_read_only``
    (:func:`~mobilise.extractors.base.server_url`). MySQL/MariaDB: the driver's ``connect_timeout`` and
    ``read_timeout`` (:data:`READ_TIMEOUT_MARGIN` seconds beyond ``statement_timeout``), ``SET SESSION
    TRANSACTION READ ONLY`` and the server's ``max_statement_time`` (MariaDB) or ``max_execution_time`` (MySQL).
    SQLite: ``timeout`` (how long to wait for a locked file) and ``PRAGMA query_only``. Text that is not UTF-8
    is read, not failed on (:func:`tolerate_undecodable_text`). Connections are not pooled (each read is one
    connection)."""
    url = server_url(source)
    backend = url.get_backend_name()
    connect_args: dict = {}
    if backend in ("mysql", "mariadb") and url.get_driver_name() in ("pymysql", "mysqldb", "mariadbconnector"):
        connect_args = {"connect_timeout": math.ceil(source.connect_timeout)}
        if source.statement_timeout:  # the client's limit, should the server's not apply (older MySQL, locks)
            connect_args["read_timeout"] = math.ceil(source.statement_timeout) + READ_TIMEOUT_MARGIN
    elif backend == "sqlite":
        connect_args = {"timeout": source.connect_timeout}
    engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.NullPool)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _query_only)
    if backend in ("mysql", "mariadb"):
        sa.event.listen(engine, "connect", _mysql_session(source.statement_timeout))
    if backend == "postgresql":
        sa.event.listen(engine, "connect", _check_client_connection)
    return tolerate_undecodable_text(engine)


#: milliseconds between PostgreSQL's checks, during a long query, that the client is still there
CLIENT_CHECK_MS = 5000


def _check_client_connection(dbapi_connection, _record) -> None:
    """A connect hook for PostgreSQL 14 and later: the server checks every :data:`CLIENT_CHECK_MS` during a query
    that the client is still connected (``client_connection_check_interval``), so a run that is stopped or killed
    (kill -9 included) does not leave its query running on the collection database; without it the backend goes on
    until it next sends rows, which a slow query may not do for a long time. Older servers have no such setting."""
    info = getattr(dbapi_connection, "info", None)  # psycopg 3; psycopg2 has server_version on the connection
    version = getattr(info, "server_version", None) or getattr(dbapi_connection, "server_version", 0)
    if version < 140000:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"SET client_connection_check_interval = {CLIENT_CHECK_MS}")
    finally:
        cursor.close()
    dbapi_connection.commit()


def _mysql_session(statement_timeout: float | None):
    """A connect hook: read-only transactions, and the server's own statement limit (MariaDB
    max_statement_time in seconds, MySQL max_execution_time in milliseconds)."""
    def setup(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            if statement_timeout:
                server = getattr(dbapi_connection, "get_server_info", lambda: "")()
                cursor.execute(f"SET SESSION max_statement_time = {float(statement_timeout)}"
                               if "mariadb" in str(server).lower()
                               else f"SET SESSION max_execution_time = {math.ceil(statement_timeout * 1000)}")
        finally:
            cursor.close()
    return setup


def _query_only(dbapi_connection, _record) -> None:
    """SQLite refuses every write on this connection (a configured query that writes fails)."""
    dbapi_connection.execute("PRAGMA query_only = ON")


def _text(value) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "surrogateescape")
    return str(value)


def _column(values: list, name: str) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        # Mixed types in one column (SQLite is dynamically typed): keep every value, as text.
        texts = [None if v is None else _text(v) for v in values]
        try:
            return pa.array(texts, type=pa.string())
        except UnicodeEncodeError:
            # Text that is not UTF-8 (SQLite hands it over surrogate-escaped, see _tolerate_undecodable_text):
            # the column's bytes as they are, for decode_text to decode or escape and flag, value by value.
            return pa.array([None if t is None else t.encode("utf-8", "surrogateescape") for t in texts],
                            type=pa.binary())


def rows_to_batch(columns: list[str], rows: list) -> pa.RecordBatch:
    """Transpose a partition of DB-API rows into Arrow columns, inferring each column's type."""
    if not rows:
        return pa.RecordBatch.from_pydict({name: pa.array([], pa.string()) for name in columns})
    values = list(zip(*rows))
    return pa.RecordBatch.from_arrays([_column(list(v), name) for name, v in zip(columns, values)], names=columns)


CHUNK_ROWS = 10_000  # rows held as Python objects at a time; a batch is assembled from such chunks in Arrow


def _join(chunks: list[pa.Array], name: str) -> pa.Array:
    """One column of a batch from its chunks, as if the whole batch had been converted at once."""
    types = {chunk.type for chunk in chunks if not pa.types.is_null(chunk.type)}
    if len(types) <= 1:
        target = types.pop() if types else pa.null()
        return pa.concat_arrays([chunk if chunk.type == target else chunk.cast(target) for chunk in chunks])
    # The chunks disagree (e.g. integers in one, text in another): infer over all the values, as before.
    return _column([value for chunk in chunks for value in chunk.to_pylist()], name)


def _batches(result, columns: list[str], batch_size: int) -> Iterator[pa.RecordBatch]:
    """Batches of `batch_size` rows, converted to Arrow CHUNK_ROWS rows at a time (bounded Python objects)."""
    chunks: list[pa.RecordBatch] = []
    rows = 0
    for partition in result.partitions(min(batch_size, CHUNK_ROWS)):
        take = partition
        while take:
            room = batch_size - rows
            part, take = take[:room], take[room:]
            chunks.append(rows_to_batch(columns, part))
            rows += len(part)
            if rows == batch_size:
                yield _assemble(chunks, columns)
                chunks, rows = [], 0
    if rows:
        yield _assemble(chunks, columns)


def _assemble(chunks: list[pa.RecordBatch], columns: list[str]) -> pa.RecordBatch:
    if len(chunks) == 1:
        return chunks[0]
    return pa.RecordBatch.from_arrays([_join([c.column(i) for c in chunks], name) for i, name in enumerate(columns)],
                                      names=columns)


def _tolerate_undecodable_text(dbapi_connection, _record) -> None:
    """SQLite stores TEXT as given; sqlite3 fails the whole fetch ('Could not decode to UTF-8 column ...') on one
    value that is not UTF-8. Surrogate escapes keep such a value's bytes (losslessly) for decode_text instead; a
    value that is UTF-8 reads as before (at about 0.1 us more per text value)."""
    dbapi_connection.text_factory = lambda data: data.decode("utf-8", "surrogateescape")


def _tolerate_undecodable_text_psycopg(dbapi_connection, _record) -> None:
    """A PostgreSQL database in SQL_ASCII keeps text as given, and psycopg then returns every text value as bytes
    (SQLAlchemy's first query, the server version, fails on them). Read text as SQLite's is read instead: UTF-8,
    with surrogate escapes keeping the bytes of a value that is not UTF-8 for decode_text."""
    if dbapi_connection.info.encoding != "ascii":  # psycopg's name for SQL_ASCII
        return
    from psycopg.adapt import Loader

    class SurrogateEscapeLoader(Loader):
        def load(self, data) -> str:
            return bytes(data).decode("utf-8", "surrogateescape")

    for name in ("text", "varchar", "bpchar", "name"):
        dbapi_connection.adapters.register_loader(name, SurrogateEscapeLoader)


def tolerate_undecodable_text(engine: sa.Engine) -> sa.Engine:
    """`engine`, reading text that is not UTF-8 from SQLite and from PostgreSQL's SQL_ASCII databases (psycopg) as
    surrogate-escaped text instead of failing; other databases are unchanged."""
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _tolerate_undecodable_text)
    elif engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        sa.event.listen(engine, "connect", _tolerate_undecodable_text_psycopg, insert=True)  # before SQLAlchemy's
    return engine


@register("sqlite", "postgresql", "mysql", "mariadb", "mssql", "oracle")
def extract_sql(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    if source.engine != "sqlalchemy" and source._window is not None:  # the native engines bind no parameters
        log.info("a backfill window is read with the sqlalchemy engine (bound parameters), not %s", source.engine)
    elif source.engine != "sqlalchemy":
        from mobilise.extractors.arrow_native import extract_native

        yield from extract_native(source)
        return
    engine = create_engine(source)
    try:
        with engine.connect() as connection:
            result = connection.execute(source_statement(source), execution_options={
                "stream_results": True, "yield_per": min(source.batch_size, CHUNK_ROWS)})
            with closing(result):
                columns = list(result.keys())
                yield from _batches(result, columns, source.batch_size)
    finally:
        engine.dispose()
