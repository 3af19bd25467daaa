"""Progress of a run a person can watch: records read, mapped, validated and written, per stage.

The flow (flows/publish.py) reports what its tasks' results say as they come back — the rows of the batches a task
saved, the records a validate task counted, the records the publish task wrote — never from inside a mapper or a
validator, and never from a worker: tasks may run on Dask workers or threads.

:class:`RunProgress` keeps the counts (pure accounting, no I/O) and hands every change to its sinks:

- :class:`RichBars`, progress bars on the command line (`mobilise run/backfill/run-all --progress`), on standard
  error; the command line installs it around a run with :func:`watching`;
- :class:`PrefectProgress`, one Prefect progress artifact per stage, keyed ``<shortname>-progress-<stage>``
  (lowercase letters, digits and dashes), whose description carries the counts; a failure to post is logged once
  and never fails the run.

A stage's total is known when the source can count it cheaply; the source is not counted before it is read, so
``read`` has no total (an indeterminate bar) until extraction ends; ``mapped`` and ``validated`` then take the
records read as their total, ``written`` the records validated as publishable.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Protocol

log = logging.getLogger("mobilise")

#: the stages a person watches, in run order
STAGES = ("read", "mapped", "validated", "written")


@dataclass
class StageCount:
    """One stage's records so far: ``done`` (records), ``total`` (records, None while unknown), ``started`` and
    ``ended`` (time.monotonic() seconds, None until then), and ``note`` (why a finished stage wrote nothing)."""

    done: int = 0
    total: int | None = None
    started: float | None = None
    ended: float | None = None
    note: str = ""

    @property
    def finished(self) -> bool:
        return self.ended is not None

    @property
    def percent(self) -> float | None:
        """0-100 when the total is known (100 once finished), else None."""
        if self.finished:
            return 100.0
        if self.total is None:
            return None
        return 100.0 * min(self.done, self.total) / self.total if self.total else 100.0

    @property
    def seconds(self) -> float | None:
        """How long the stage took (so far, while it runs), in seconds; None before it started."""
        if self.started is None:
            return None
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    def describe(self, stage: str) -> str:
        """``"3,000 of 3,000 records read in 1.2 s"``, ``"1,500 records read so far"``."""
        of = f" of {self.total:,}" if self.total is not None else ""
        line = f"{self.done:,}{of} records {stage}"
        if self.finished:
            line += f" in {self.seconds:.1f} s" + (f" ({self.note})" if self.note else "")
        elif self.started is not None and not of:
            line += " so far"
        return line


class Sink(Protocol):
    """What a progress display implements: ``update(dataset, stage, count)`` after every change."""

    def update(self, dataset: str, stage: str, count: StageCount) -> None: ...


@dataclass
class RunProgress:
    """The records each stage of one run of `dataset` has handled (see :data:`STAGES`), told to each sink.

    Thread-safe; never raises from a sink (a display must not fail a run): a sink that fails is logged once and
    dropped. Stage ends are logged on the ``mobilise`` logger with counts and durations.
    """

    dataset: str
    sinks: list = field(default_factory=list)
    stages: dict[str, StageCount] = field(default_factory=lambda: {stage: StageCount() for stage in STAGES})

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def start(self, stage: str, total: int | None = None) -> None:
        """`stage` begins (its total in records, when known)."""
        with self._lock:
            count = self._stage(stage)
            if count.started is None:
                count.started = time.monotonic()
            if total is not None:
                count.total = total
        log.info("%s: %s started%s", self.dataset, _stage_name(stage),
                 f" ({total:,} records)" if total is not None else "")
        self._tell(stage)

    def add(self, stage: str, records: int) -> None:
        """`records` more records went through `stage` (starting it if needed)."""
        if records < 0:
            raise ValueError(f"a stage cannot lose records ({records})")
        with self._lock:
            count = self._stage(stage)
            if count.started is None:
                count.started = time.monotonic()
            count.done += records
        self._tell(stage)

    def finish(self, stage: str, note: str = "") -> None:
        """`stage` is over: its total becomes what it did, and the next stage's total, when unknown, becomes this
        stage's count (``written`` takes the records validated as publishable from :meth:`publishable`)."""
        with self._lock:
            count = self._stage(stage)
            now = time.monotonic()
            count.started = count.started if count.started is not None else now
            count.ended = now
            count.total = count.done
            count.note = note
            following = STAGES.index(stage) + 1
            if stage in ("read", "mapped") and self.stages[STAGES[following]].total is None:
                self.stages[STAGES[following]].total = count.done
        log.info("%s: %s", self.dataset, count.describe(stage))
        self._tell(stage)
        if stage in ("read", "mapped"):
            self._tell(STAGES[STAGES.index(stage) + 1])

    def publishable(self, records: int) -> None:
        """The records validation kept for the archive: the ``written`` stage's total."""
        with self._lock:
            self.stages["written"].total = records
        self._tell("written")

    def counts(self) -> dict[str, dict]:
        """``{stage: {"done", "total", "finished", "seconds"}}``, JSON-ready."""
        with self._lock:
            return {stage: {"done": c.done, "total": c.total, "finished": c.finished,
                            "seconds": None if c.seconds is None else round(c.seconds, 3)}
                    for stage, c in self.stages.items()}

    def _stage(self, stage: str) -> StageCount:
        if stage not in self.stages:
            raise KeyError(f"no progress stage {stage!r} (known: {', '.join(STAGES)})")
        return self.stages[stage]

    def _tell(self, stage: str) -> None:
        with self._lock:
            snapshot = StageCount(**vars(self.stages[stage]))
        for sink in list(self.sinks):
            try:
                sink.update(self.dataset, stage, snapshot)
            except Exception as error:  # noqa: BLE001  (a display never fails a run)
                log.warning("progress display %s failed and is switched off: %s", type(sink).__name__, error)
                self.sinks.remove(sink)


def _stage_name(stage: str) -> str:
    return {"read": "reading", "mapped": "mapping", "validated": "validating", "written": "writing"}[stage]


# --- the command line's bars ----------------------------------------------------------------------------------------

_watchers: list[Sink] = []
_watchers_lock = threading.Lock()


@contextmanager
def watching(sink: Sink) -> Iterator[Sink]:
    """Every run that starts in this process while the block runs also reports to `sink` (the command line's
    bars: the flow cannot take a display as a Prefect parameter)."""
    with _watchers_lock:
        _watchers.append(sink)
    try:
        yield sink
    finally:
        with _watchers_lock:
            _watchers.remove(sink)


def for_run(shortname: str) -> RunProgress:
    """The progress of a run of dataset `shortname`: its Prefect artifacts (inside a flow run) and the displays
    installed by :func:`watching`."""
    with _watchers_lock:
        sinks: list = list(_watchers)
    sinks.append(PrefectProgress(shortname))
    return RunProgress(shortname, sinks)


class RichBars:
    """One rich progress bar per stage and dataset on `console` (standard error by default): the stage, a bar
    (pulsing while the total is unknown), ``done/total`` records (``?`` for an unknown total) and the time taken.

    Use as a context manager around the runs; ``force_terminal`` draws the bars even when standard error is not a
    terminal (the tests)."""

    def __init__(self, console=None, force_terminal: bool | None = None):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = console or Console(stderr=True, force_terminal=force_terminal, highlight=False)
        self.progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("records"), TimeElapsedColumn(), console=console, transient=False)
        self._tasks: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> "RichBars":
        import sys

        from mobilise.runlog import handlers

        original = sys.stderr
        self.progress.start()  # standard error is now rich's proxy, which prints above the bars
        self._restore = []
        if sys.stderr is original:
            return self
        for handler in handlers():  # the log handlers write to standard error through it, not over the bars
            console = getattr(handler, "console", None)  # Prefect's console handler prints with a rich Console
            if console is not None and getattr(console, "file", None) is original:
                console.file = sys.stderr
                self._restore.append(lambda console=console: setattr(console, "file", original))
            elif isinstance(handler, logging.StreamHandler) and handler.stream is original:
                handler.setStream(sys.stderr)
                self._restore.append(lambda handler=handler: handler.setStream(original))
        return self

    def __exit__(self, *exc) -> None:
        for restore in self._restore:
            restore()
        self.progress.stop()

    def update(self, dataset: str, stage: str, count: StageCount) -> None:
        with self._lock:
            key = (dataset, stage)
            if key not in self._tasks:
                for other in STAGES:  # the stages of a dataset in their order, whatever order they start in
                    self._tasks[(dataset, other)] = self.progress.add_task(f"{dataset} {other}", total=None,
                                                                           start=False)
            task = self._tasks[key]
            if count.started is not None:
                self.progress.start_task(task)
            self.progress.update(task, completed=count.done, total=count.total)
            if count.finished:
                self.progress.stop_task(task)


# --- the Prefect progress artifacts -----------------------------------------------------------------------------------

class PrefectProgress:
    """One Prefect progress artifact per stage, ``<shortname>-progress-<stage>``: its progress the stage's share
    done (0-100; 0 while the total is unknown, 100 once the stage ends), its description the counts
    (:meth:`StageCount.describe`). Posted only inside a flow or task run, at most every `interval` seconds per
    stage (and always when a stage starts or ends)."""

    def __init__(self, shortname: str, interval: float = 1.0):
        from mobilise.publishers.report import _slug

        self.slug = _slug(shortname)
        self.interval = interval
        self._ids: dict[str, object] = {}
        self._posted: dict[str, tuple[float, bool]] = {}

    def key(self, stage: str) -> str:
        return f"{self.slug}-progress-{stage}"

    def update(self, dataset: str, stage: str, count: StageCount) -> None:
        from prefect.context import FlowRunContext, TaskRunContext

        if FlowRunContext.get() is None and TaskRunContext.get() is None:
            return
        now = time.monotonic()
        last, was_finished = self._posted.get(stage, (None, False))
        if last is not None and now - last < self.interval and count.finished == was_finished:
            return
        self._posted[stage] = (now, count.finished)
        percent = count.percent or 0.0
        description = f"{dataset}: {count.describe(stage)}"
        from prefect.artifacts import create_progress_artifact, update_progress_artifact

        if stage not in self._ids:
            self._ids[stage] = create_progress_artifact(progress=percent, key=self.key(stage),
                                                        description=description)
        else:
            update_progress_artifact(artifact_id=self._ids[stage], progress=percent, description=description)
