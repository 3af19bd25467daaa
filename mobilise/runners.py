"""Which task runner a run uses: ``execution.runner: auto`` (the default) picks threads for small sources, Dask
for big ones; ``dask`` or ``threads`` (in the config or ``--runner``) is taken as given.

Why a threshold: a local Dask cluster costs a fixed 4-6 s on a 2-core machine (worker processes started, each
importing the pipeline and loading its reference data) and gains at most the CPU the flow's process cannot use
(the GIL): issue 15 measured 500,000 records at 101-137 s on Dask and 127 s on threads, while 10,000 records take
~18 s on Dask and ~12 s on threads (bench/results.md, "Start-up"). Below ``execution.auto_dask_records``
(200,000 by default) the cluster does not pay for its start.

The estimate is cheap, never a count: with ``source.partition.bounds_query`` the key span it reads (the query the
partition plan runs anyway; an upper bound of the records when keys are dense; without a bounds query the bounds
cost a pass over the source, so they are not read here); else for a file source or a SQLite database, the file's
size over :data:`BYTES_PER_RECORD`; otherwise (a server database) unknown, and an unknown size picks Dask, the
runner that scales.
"""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.engine import make_url

from mobilise.settings import ExecutionConfig, SourceConfig

log = logging.getLogger("mobilise")

BYTES_PER_RECORD = 200  # a conservative (small) record size: a file's size overestimates its records, never less


def choose_runner(execution: ExecutionConfig, estimated_records: int | None,
                  dask_address: str | None = None) -> str:
    """``"dask"`` or ``"threads"``: the configured runner, or for ``auto`` threads when `estimated_records`
    (a count of records, or None when unknown) is known and below ``execution.auto_dask_records``; a Dask
    scheduler address (given or configured) always means Dask."""
    if dask_address or execution.dask_address:
        return "dask"
    if execution.runner != "auto":
        return execution.runner
    if estimated_records is not None and estimated_records < execution.auto_dask_records:
        return "threads"
    return "dask"


def estimate_records(source: SourceConfig) -> int | None:
    """A cheap upper estimate of the records `source` holds (see the module docstring), or None when unknown.

    Never raises: a source that cannot be reached here fails later, in the run, with its own message."""
    try:
        if source.partition is not None and source.partition.bounds_query:
            from mobilise.extractors.partitions import key_bounds

            low, high = key_bounds(source)
            return 0 if low is None else high - low + 1
        file = source.path or _sqlite_file(source.url)
        if file is not None and Path(file).is_file():
            return Path(file).stat().st_size // BYTES_PER_RECORD
    except Exception as failure:  # the run reports the source's problem; the estimate is only a hint
        log.debug("no size estimate for the source: %s", failure)
    return None


def _sqlite_file(url: str | None) -> str | None:
    if not url:
        return None
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return parsed.database


def chosen(execution: ExecutionConfig, source: SourceConfig | None) -> str:
    """The runner for a local run (no scheduler address): :func:`choose_runner` with the estimate of `source`
    (only read for ``runner: auto``; no source: unknown), logged with the reason."""
    if execution.runner != "auto":
        return execution.runner
    estimate = estimate_records(source) if source is not None else None
    runner = choose_runner(execution, estimate)
    log.info("runner: auto chose %s (source estimated at %s records; Dask from %s)", runner,
             "an unknown number of" if estimate is None else f"{estimate:,}", f"{execution.auto_dask_records:,}")
    return runner
