"""Extractor registry: a backend turns a source config into a stream of Arrow record batches.

Backends are chosen by the URL scheme (as dlt chooses its sources), or for a file source (``source.path``) by its
format (CSV, TSV, Excel, Darwin Core Archive: :mod:`mobilise.extractors.files`); every backend yields batches of at
most ``batch_size`` rows so that memory is bounded by the batch, never by the table.

Every batch leaves :func:`extract_batches` as valid UTF-8 (:func:`decode_text`): text or binary values that are
not UTF-8 are decoded with the source's ``encoding`` when one is configured, else kept with their undecodable bytes
escaped (``Li\\xe8ge``) and named, per row, in the reserved column :data:`UNDECODABLE_COLUMN`, which the mapper
turns into TEXT_ENCODING_INVALID flags on the terms those columns feed. One bad value never stops a run.

What cannot be read arrives as one exception class, :class:`SourceError`, whatever the engine: the driver's
message, the source's URL with its password masked, and whether the failure may pass (:func:`is_transient`);
:func:`with_retries` repeats a read that failed so. The SQL that reads a table quotes its name as an identifier
(:func:`table_sql`), and :func:`server_url` gives PostgreSQL connections their time limits and read-only sessions.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Callable, Iterator, Protocol, TypeVar

import pyarrow as pa

from mobilise.settings import SourceConfig

log = logging.getLogger("mobilise")
T = TypeVar("T")


class Extractor(Protocol):
    def __call__(self, source: SourceConfig) -> Iterator[pa.RecordBatch]: ...


BACKENDS: dict[str, Extractor] = {}


def register(*schemes: str) -> Callable[[Extractor], Extractor]:
    def add(function: Extractor) -> Extractor:
        for scheme in schemes:
            BACKENDS[scheme] = function
        return function
    return add


def extractor_for(source: SourceConfig) -> Extractor:
    """The backend reading `source`: for a database, by its URL's backend name (sqlite, postgresql, ...); for a
    file (``source.path``), by its format (csv, tsv, excel, dwca: :mod:`mobilise.extractors.files`)."""
    from sqlalchemy.engine import make_url

    if source.path is not None:
        from mobilise.extractors import files  # noqa: F401  (registers the file backends; it imports this module)
        backend = source.file_format
    else:
        backend = make_url(source.url).get_backend_name()
    try:
        return BACKENDS[backend]
    except KeyError:
        raise ValueError(f"no extractor for '{backend}' sources (source {source.safe_url}); "
                         f"available: {', '.join(sorted(BACKENDS))}") from None


class SourceError(ValueError):
    """The source cannot be read; the message says what to fix and names the source with its password masked.

    ``source`` is that masked URL; ``transient`` says the failure may pass by itself (connection refused or reset,
    a terminated backend, a timeout, a locked database), so the read is worth retrying (:func:`with_retries`).
    Every engine's driver errors arrive as this one class (:func:`source_error`); unlike some drivers' own
    exceptions it pickles, so it crosses from a Dask worker to the flow as it is."""

    def __init__(self, message: str, source: str | None = None, transient: bool = False):
        super().__init__(message)
        self.source = source
        self.transient = transient

    def __reduce__(self):
        return type(self), (self.args[0], self.source, self.transient)


# SQLSTATEs of failures that may pass: connection exceptions (class 08), an administrator's or crash shutdown of
# the backend, a statement cancelled by statement_timeout, lock and serialisation conflicts, too many connections.
TRANSIENT_SQLSTATES = {"57P01", "57P02", "57P03", "57014", "55P03", "40001", "40P01", "53300"}
# MySQL/MariaDB client and server error numbers of the same kinds (can't connect, gone away, lost connection,
# lock wait timeout, deadlock, max_statement_time / max_execution_time exceeded, shutdown in progress).
TRANSIENT_MYSQL_ERRORS = {1040, 1053, 1205, 1213, 1927, 1969, 2002, 2003, 2006, 2013, 2055, 3024}
TRANSIENT_WORDS = ("connection refused", "could not connect", "can't connect", "failed to connect", "timeout",
                   "timed out", "terminating connection", "connection reset", "reset by peer",
                   "server closed the connection", "lost connection", "gone away", "broken pipe",
                   "database is locked", "canceling statement", "no route to host", "network is unreachable",
                   "connection was closed", "unexpected eof")
READ_ONLY_WORDS = ("read-only transaction", "read only transaction", "query_only", "readonly database",
                   "read only mode")


def _chain(error: BaseException) -> list[BaseException]:
    """The error, the DBAPI error SQLAlchemy wraps (``.orig``), and their causes."""
    seen: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop(0)
        if current is None or any(current is known for known in seen):
            continue
        seen.append(current)
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return seen


def is_transient(error: BaseException) -> bool:
    """True for a failure that may pass by itself (see :class:`SourceError`)."""
    for link in _chain(error):
        if isinstance(link, SourceError):
            return link.transient
        if isinstance(link, (ConnectionError, TimeoutError)):
            return True
        state = getattr(link, "sqlstate", None) or getattr(link, "pgcode", None)
        if isinstance(state, str) and (state.startswith("08") or state in TRANSIENT_SQLSTATES):
            return True
        code = link.args[0] if link.args and isinstance(link.args[0], int) else None
        if code in TRANSIENT_MYSQL_ERRORS:
            return True
    message = " ".join(str(link) for link in _chain(error)).lower()
    return any(word in message for word in TRANSIENT_WORDS)


def mask_secrets(text: str, source: SourceConfig) -> str:
    """`text` with the source's password (as given, percent-encoded, or in the URL) replaced by ``***``."""
    from urllib.parse import quote, quote_plus

    from sqlalchemy.engine import make_url

    password = make_url(source.url).password if source.url is not None else None
    if not password:
        return text
    for form in sorted({source.url, password, quote(password, safe=""), quote(password, safe=" +"),
                        quote_plus(password)}, key=len, reverse=True):
        text = text.replace(form, "***" if form != source.url else source.safe_url)
    return text


def source_error(error: BaseException, source: SourceConfig) -> SourceError:
    """Any engine's error reading `source` as a :class:`SourceError`: the driver's message (its first lines,
    password masked) with the source's masked URL, and whether it is transient."""
    if isinstance(error, SourceError):
        return error
    root = getattr(error, "orig", None) or error
    text = " ".join(str(root).split())[:600] or type(root).__name__
    message = f"source {source.safe_url}: {type(root).__name__}: {mask_secrets(text, source)}"
    if any(word in text.lower() for word in READ_ONLY_WORDS) or getattr(root, "sqlstate", None) == "25006":
        message += (" (the source is read in a read-only transaction: source.query must only read; "
                    "see the README's least-privilege database user)")
    return SourceError(message, source=source.safe_url, transient=is_transient(error))


def with_retries(source: SourceConfig, read: Callable[[], T], what: str = "reading the source") -> T:
    """``read()``, started again up to ``source.retries`` times when it fails with a transient
    :class:`SourceError`, after ``source.retry_wait`` seconds, doubling (at most 60 s); one log line per retry.

    `read` must be a unit that can be repeated from its start (a whole partition, whose saved batches the next
    attempt replaces). A failure that is not transient, or the last one, raises a SourceError that names the
    source (password masked) and the number of attempts."""
    from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    def log_retry(state: RetryCallState) -> None:
        log.warning("%s; %s again in %.1f s (retry %d of %d)", state.outcome.exception(), what,
                    state.next_action.sleep, state.attempt_number, source.retries)

    retrying = Retrying(stop=stop_after_attempt(source.retries + 1), reraise=True, before_sleep=log_retry,
                        wait=wait_exponential(multiplier=source.retry_wait, min=source.retry_wait, max=60),
                        retry=retry_if_exception(lambda error: isinstance(error, SourceError) and error.transient))
    try:
        return retrying(read)
    except SourceError as error:
        failure = error
        if error.transient:
            attempts = source.retries + 1
            failure = SourceError(f"{error} (gave up after {attempts} attempt{'s' if attempts > 1 else ''})",
                                  source=error.source, transient=False)
    raise detached(failure)


def detached(error: SourceError) -> SourceError:
    """`error` without the driver's exception chained to it, to be raised outside an ``except`` block.

    Dask pickles an exception with its causes and context (tblib), and some drivers' exceptions cannot be
    unpickled (ADBC's need a keyword-only status_code): the flow would get a TypeError instead of the error."""
    error.__cause__ = error.__context__ = None
    return error


def check_reachable(source: SourceConfig) -> None:
    """A missing SQLite file would otherwise be created empty and fail later as 'no such table'; a missing file
    source is named the same way."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    if source.path is not None:
        if not source.path.exists():
            raise SourceError(f"source.path: the file {source.path} does not exist", source=source.safe_url)
        if source.path.is_dir() and source.file_format != "dwca":
            raise SourceError(f"source.path: {source.path} is a folder, not a file", source=source.safe_url)
        return
    url = make_url(source.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).is_file():
        raise SourceError(f"source.url: the SQLite database {url.database} does not exist "
                          f"(for the sample: `mobilise sample-db {url.database}` or `make run`)",
                          source=source.safe_url)


def check_listening(source: SourceConfig) -> None:
    """A TCP connection to the source's server within ``connect_timeout``, or a transient SourceError at once.

    The Arrow-native drivers handle a refused connection badly (ConnectorX retries in its pool for half a
    minute, then reports something else); this makes every engine fail the same quick, readable way."""
    import socket

    from sqlalchemy.engine import make_url

    if source.url is None:
        return
    url = make_url(source.url)
    ports = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}
    backend = url.get_backend_name()
    if backend not in ports or not url.host or url.host.startswith("/"):
        return
    try:
        socket.create_connection((url.host, url.port or ports[backend]), timeout=source.connect_timeout).close()
    except OSError as error:
        raise SourceError(f"source {source.safe_url}: cannot connect to {url.host}:{url.port or ports[backend]}: "
                          f"{error.strerror or error}", source=source.safe_url, transient=True) from None


LIBPQ_DRIVERS = ("psycopg", "psycopg2", "psycopg2cffi")  # SQLAlchemy drivers that pass the URL's query to libpq


def server_url(source: SourceConfig, native: bool = False):
    """The source's URL (a sqlalchemy URL) with its time limits and read-only sessions for the server:
    PostgreSQL ``connect_timeout`` and ``options=-c default_transaction_read_only=on -c statement_timeout=...``
    for libpq (the native engines, and the SQLAlchemy drivers in :data:`LIBPQ_DRIVERS`; other drivers such as
    pg8000 take the URL as it is). Settings the URL gives itself are kept."""
    import math

    from sqlalchemy.engine import make_url

    url = make_url(source.url)
    if url.get_backend_name() != "postgresql" or not (native or url.get_driver_name() in LIBPQ_DRIVERS):
        return url
    query = dict(url.query)
    query.setdefault("connect_timeout", str(max(2, math.ceil(source.connect_timeout))))
    options = [query.get("options", ""), "-c default_transaction_read_only=on"]
    if source.statement_timeout:
        options.append(f"-c statement_timeout={math.ceil(source.statement_timeout * 1000)}")
    query["options"] = " ".join(option for option in options if option)
    return url.set(query=query)


def table_sql(source: SourceConfig) -> str:
    """The SQL that reads the source: ``source.query`` as written, or ``SELECT * FROM`` ``source.table`` quoted
    as an identifier by the source's dialect (``schema.table`` is a table in a schema); a table name never runs
    as SQL."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    if source.query:
        return source.query.strip().rstrip(";")
    schema, _, name = source.table.rpartition(".")
    select = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))
    return str(select.compile(dialect=make_url(source.url).get_dialect()()))


@dataclass(frozen=True)
class Window:
    """The records of a backfill: those whose ``source.modified_column`` is at or after `since` and before
    `until` (either may be None: open on that side).

    The values are bound parameters of the query (:func:`source_statement`), never SQL text. A date, or a
    date-time at midnight without a zone, is bound as ``YYYY-MM-DD``, any other date-time in ISO 8601
    (``YYYY-MM-DDTHH:MM:SS``, with its zone when it has one): a typed column (timestamp, DATETIME) converts it,
    and a text column holding ISO 8601 (SQLite's usual way) compares it as text."""

    since: date | datetime | str | None = None  # str: a watermark as the source wrote it
    until: date | datetime | None = None

    @classmethod
    def parse(cls, since: str | date | None, until: str | date | None) -> "Window":
        """The window between two ISO 8601 dates or date-times (``2024-01-01``, ``2024-01-01T12:00:00``); raises
        ValueError for anything else."""
        def instant(value, name: str):
            if value is None or isinstance(value, date):
                return value
            try:
                return datetime.fromisoformat(str(value))
            except ValueError:
                raise ValueError(f"{name} must be an ISO 8601 date or date-time (YYYY-MM-DD[THH:MM:SS]), not "
                                 f"{str(value)[:40]!r}") from None
        return cls(instant(since, "since"), instant(until, "until"))

    @staticmethod
    def bound(value: date | datetime | str) -> str:
        """The parameter's text; a ``str`` is a watermark as the source wrote it (an incremental run's
        ``since``), bound exactly so, so that a text column compares it with values of the same form."""
        if isinstance(value, str):
            return value
        if isinstance(value, datetime) and (value.time() != time(0) or value.tzinfo is not None):
            return value.isoformat()
        return (value.date() if isinstance(value, datetime) else value).isoformat()

    def describe(self, column: str) -> str:
        """``modified >= 2024-01-01 AND modified < 2024-02-01``, for logs and messages."""
        return " AND ".join(([f"{column} >= {self.bound(self.since)}"] if self.since is not None else [])
                            + ([f"{column} < {self.bound(self.until)}"] if self.until is not None else []))


def windowed(source: SourceConfig, window: Window | None) -> SourceConfig:
    """The source restricted to the records modified in `window` (None: the source as it is). Raises ValueError
    when the config names no ``source.modified_column``, or the window ends before it starts."""
    if window is None or (window.since is None and window.until is None):
        return source
    if not source.modified_column:
        raise ValueError("a backfill window needs source.modified_column in the config: the column that says when "
                         "a record last changed")
    if window.since is not None and window.until is not None:
        since, until = (value if isinstance(value, (datetime, str)) else datetime.combine(value, time(0))
                        for value in (window.since, window.until))
        try:
            empty = until <= since
        except TypeError:  # one with a zone, one without, or a watermark as text: the database compares them
            empty = False
        if empty:
            raise ValueError(f"the backfill window is empty: --until must be after --since "
                             f"({window.describe(source.modified_column)})")
    copy = source.model_copy()
    copy._window = window  # kept by the copies partition_source makes
    return copy


def source_statement(source: SourceConfig):
    """The statement that reads the source (:func:`table_sql`); with a backfill window (:func:`windowed`), that
    SQL wrapped as a subquery and filtered on ``source.modified_column`` (an identifier the dialect quotes) with
    the window's values as bound parameters ``:mobilise_since`` / ``:mobilise_until``."""
    import sqlalchemy as sa

    text = sa.text(table_sql(source))
    window: Window | None = source._window
    if window is None:
        return text
    column = sa.column(source.modified_column)
    untyped = sa.types.NullType()  # no cast on the parameter: the database converts the text to the column's type
    conditions = []
    if window.since is not None:
        conditions.append(column >= sa.bindparam("mobilise_since", Window.bound(window.since), type_=untyped))
    if window.until is not None:
        conditions.append(column < sa.bindparam("mobilise_until", Window.bound(window.until), type_=untyped))
    return sa.select(sa.text("*")).select_from(text.columns().subquery("mobilise_window")).where(*conditions)


# Per row, a JSON list of the source columns whose value was not valid text (``["locality"]``), else null. Present
# in every extracted batch, so that every batch has the same columns (the quarantine keeps it as a source column).
UNDECODABLE_COLUMN = "__mobilise_undecodable"


def _decode_values(values: pa.Array, encoding: str | None) -> tuple[pa.Array, list[int]]:
    """Binary values (one or more not UTF-8) as text: UTF-8, else `encoding`, else UTF-8 with the undecodable
    bytes shown as backslash escapes; with the positions of the escaped ones."""
    texts: list[str | None] = []
    escaped: list[int] = []
    for position, value in enumerate(values.to_pylist()):
        if value is None:
            texts.append(None)
            continue
        try:
            texts.append(value.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        if encoding is not None:
            try:
                texts.append(value.decode(encoding))
                continue
            except UnicodeDecodeError:
                pass
        texts.append(value.decode("utf-8", "backslashreplace"))
        escaped.append(position)
    return pa.array(texts, pa.string()), escaped


def _valid_text(column: pa.Array, encoding: str | None) -> tuple[pa.Array, list[int]]:
    """A text or binary column as valid UTF-8 text (other types unchanged), with the rows that had to be escaped.

    Valid columns cost one UTF-8 validation in Arrow; only a column holding an invalid value is decoded value by
    value."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            column.validate(full=True)  # checks the UTF-8 of every value
            return column, []
        except pa.ArrowInvalid:
            column = column.view(pa.large_binary() if pa.types.is_large_string(column.type) else pa.binary())
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        try:
            return column.cast(pa.string()), []
        except pa.ArrowInvalid:
            return _decode_values(column, encoding)
    return column, []


def decode_text(batch: pa.RecordBatch, encoding: str | None = None) -> pa.RecordBatch:
    """`batch` with every text and binary column as valid UTF-8 text, plus :data:`UNDECODABLE_COLUMN`.

    A value that is not UTF-8 (a Latin-1 TEXT in SQLite, a BLOB, a bytea, a VARBINARY) is decoded with `encoding`
    (a Python codec name, ``source.encoding``) when given and possible; otherwise its undecodable bytes are shown
    escaped (``b"Li\\xe8ge"`` -> ``"Li\\xe8ge"``) and the column's name is listed in that row's
    UNDECODABLE_COLUMN. Valid binary values become text (as the mapper would read them anyway)."""
    names = [name for name in batch.schema.names if name != UNDECODABLE_COLUMN]
    columns = []
    undecodable: dict[int, list[str]] = {}
    for name in names:
        column, escaped = _valid_text(batch.column(name), encoding)
        columns.append(column)
        for row in escaped:
            undecodable.setdefault(row, []).append(name)
    marks = [json.dumps(undecodable[row], ensure_ascii=False) if row in undecodable else None
             for row in range(batch.num_rows)] if undecodable else None
    columns.append(pa.array(marks, pa.string()) if marks else pa.nulls(batch.num_rows, pa.string()))
    return pa.RecordBatch.from_arrays(columns, names=names + [UNDECODABLE_COLUMN])


def extract_batches(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    """The source's records as Arrow batches of valid UTF-8 text (see :func:`decode_text`)."""
    check_reachable(source)
    return (decode_text(batch, source.encoding) for batch in _read(source))


def _read(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    """The backend's batches; any error of its driver as a :class:`SourceError` (without the driver's exception
    chained: it may not pickle, and its text may hold what the message masks)."""
    try:
        yield from extractor_for(source)(source)
        return
    except Exception as error:  # noqa: BLE001  (every driver's errors, one class)
        failure = source_error(error, source)
    raise detached(failure)
