"""Extractor registry: a backend turns a source config into a stream of Arrow record batches.

Backends are chosen by the URL scheme (as dlt chooses its sources); every backend yields batches of at most
``batch_size`` rows so that memory is bounded by the batch, never by the table.
"""
from __future__ import annotations

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


def extract_batches(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    check_reachable(source)
    return extractor_for(source)(source)
