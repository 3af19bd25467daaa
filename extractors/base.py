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


def extract_batches(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    return extractor_for(source)(source)
