"""Extractor registry: a backend turns a source config into a stream of Arrow record batches.

Backends are chosen by the URL scheme (as dlt chooses its sources); every backend yields batches of at most
``batch_size`` rows so that memory is bounded by the batch, never by the table.

Every batch leaves :func:`extract_batches` as valid UTF-8 (:func:`decode_text`): text or binary values that are
not UTF-8 are decoded with the source's ``encoding`` when one is configured, else kept with their undecodable bytes
escaped (``Li\\xe8ge``) and named, per row, in the reserved column :data:`UNDECODABLE_COLUMN`, which the mapper
turns into TEXT_ENCODING_INVALID flags on the terms those columns feed. One bad value never stops a run.
"""
from __future__ import annotations

import json
from typing import Callable, Iterator, Protocol

import pyarrow as pa

from mobilise.settings import SourceConfig


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
    from sqlalchemy.engine import make_url

    backend = make_url(source.url).get_backend_name()
    try:
        return BACKENDS[backend]
    except KeyError:
        raise ValueError(f"no extractor for '{backend}' sources (source.url {source.safe_url}); "
                         f"available: {', '.join(sorted(BACKENDS))}") from None


class SourceError(ValueError):
    """The source cannot be read at all; the message says what to fix."""


def check_reachable(source: SourceConfig) -> None:
    """A missing SQLite file would otherwise be created empty and fail later as 'no such table'."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    url = make_url(source.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).is_file():
        raise SourceError(f"source.url: the SQLite database {url.database} does not exist "
                          f"(for the sample: `mobilise sample-db {url.database}` or `make run`)")


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
    batches = extractor_for(source)(source)
    return (decode_text(batch, source.encoding) for batch in batches)
