"""The run log a person can read: one logging setup for the command line.

- Mobilise's own lines (the ``mobilise`` logger and the flow's run logger) at INFO: each stage's start and end
  with its counts and duration (mobilise/progress.py), retries, recoveries, the run's outcome.
- The internal chatter of Dask, distributed, Prefect, uvicorn, urllib3 and httpx at WARNING: their INFO and DEBUG
  lines (a worker started, a task run created, a flow run "Finished in state Completed()", an HTTP request) are
  kept off the console, and still reach the Prefect API (the UI shows the flow's full log).
- ``--verbose`` or ``MOBILISE_LOG_LEVEL=DEBUG`` shows everything at DEBUG; ``MOBILISE_LOG_LEVEL`` may also name
  another level (WARNING: only Mobilise's warnings and errors).
- Passwords are never logged: :func:`protect` adds a source's password (in every form
  :func:`mobilise.extractors.base.mask_secrets` knows) to a filter on every handler, console and Prefect API alike.

``PREFECT_LOGGING_EXTRA_LOGGERS=mobilise`` (set by the command line before Prefect is imported) sends the
``mobilise`` logger's lines to the Prefect API too.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

#: the loggers whose INFO and DEBUG lines are internal chatter (their children too)
CHATTY = ("distributed", "dask", "prefect", "uvicorn", "fastapi", "httpx", "httpcore", "urllib3", "asyncio",
          "docket", "sqlalchemy", "alembic", "aiosqlite", "websockets")
#: Prefect's INFO lines a person needs all the same: where the temporary API is, and the name of the flow run to
#: look up in the UI (and in `mobilise status`)
KEPT = ("Starting temporary server", "Beginning flow run")
#: Mobilise's source folders: a line logged from code there is Mobilise's own, whatever logger carries it (the
#: flow's run logger is Prefect's ``prefect.flow_runs``)
OWN_CODE = str(Path(__file__).resolve().parents[1])


def log_level(verbose: bool = False) -> int:
    """The level of Mobilise's own lines: DEBUG with `verbose`, else ``MOBILISE_LOG_LEVEL`` (a level name), else
    INFO. Raises ValueError for a level name logging does not know."""
    if verbose:
        return logging.DEBUG
    name = os.environ.get("MOBILISE_LOG_LEVEL", "").strip().upper() or "INFO"
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise ValueError(f"MOBILISE_LOG_LEVEL={name!r} is not a logging level (DEBUG, INFO, WARNING, ERROR)")
    return level


class QuietInternals(logging.Filter):
    """Drops the records below `floor` from the :data:`CHATTY` loggers, unless Mobilise's own code logged them or
    they are one of the :data:`KEPT` lines."""

    def __init__(self, floor: int = logging.WARNING):
        super().__init__()
        self.floor = floor

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.floor:
            return True
        if not any(record.name == name or record.name.startswith(name + ".") for name in CHATTY):
            return True
        if isinstance(record.msg, str) and record.msg.startswith(KEPT):
            return True
        return str(record.pathname).startswith(OWN_CODE) and "site-packages" not in str(record.pathname)


class Redact(logging.Filter):
    """Masks the password of every source given to :meth:`add` in a record's message and traceback text, with
    :func:`mobilise.extractors.base.mask_secrets` (the URL shown masked, the password in any form as ``***``)."""

    def __init__(self):
        super().__init__()
        self.sources: list = []

    def add(self, source) -> None:
        if getattr(source, "url", None) and source not in self.sources:
            self.sources.append(source)

    def mask(self, text: str) -> str:
        from mobilise.extractors.base import mask_secrets

        for source in self.sources:
            text = mask_secrets(text, source)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.sources:
            return True
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        return True


_quiet = QuietInternals()
_redact = Redact()


def handlers() -> list[logging.Handler]:
    """Every handler of every logger there is (the root's too), once each."""
    loggers = [logging.getLogger()] + [logger for logger in logging.Logger.manager.loggerDict.values()
                                       if isinstance(logger, logging.Logger)]
    return list({id(h): h for logger in loggers for h in logger.handlers}.values())


def configure(verbose: bool = False) -> int:
    """Set up the run log (see the module's docstring) on Prefect's handlers (set up first when they are not yet),
    and return the level of Mobilise's own lines. Calling it again is harmless. Raises ValueError for a
    MOBILISE_LOG_LEVEL that is no level."""
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()  # Prefect's handlers (a Dask worker has none yet): the filters go on them

    level = log_level(verbose)
    logging.getLogger("mobilise").setLevel(level)
    quiet = level > logging.DEBUG
    for name in ("distributed", "dask", "httpx", "httpcore", "urllib3", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.DEBUG)
    if not quiet:
        logging.getLogger("prefect").setLevel(logging.DEBUG)
    for handler in handlers():
        to_api = type(handler).__name__.endswith("APILogHandler")  # the Prefect UI keeps the full log
        if quiet and not to_api and _quiet not in handler.filters:
            handler.addFilter(_quiet)
        elif not quiet and _quiet in handler.filters:
            handler.removeFilter(_quiet)
        if _redact not in handler.filters:
            handler.addFilter(_redact)
    return level


def protect(source) -> None:
    """Never log `source`'s password (a :class:`mobilise.settings.SourceConfig`), on every handler there is."""
    _redact.add(source)
    for handler in handlers():
        if _redact not in handler.filters:
            handler.addFilter(_redact)
