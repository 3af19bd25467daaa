"""How a run stops: SIGTERM and SIGINT become an exception in the run, and the processes a run starts die with it.

- :func:`stop_on_signals` turns the first SIGTERM or SIGINT into :class:`Interrupted`, raised in the main thread
  (where the flow body waits on its tasks), so the run unwinds through its ``finally`` clauses; later signals are
  ignored while it cleans up. With ``exit_within`` a watchdog ends the process that many seconds after the first
  signal, whatever the clean-up is stuck on.
- :func:`on_failure` registers what a run must undo if it fails or is stopped (its run folder), and
  :func:`clean_up_on_failure` does it once the run's workers have stopped, so no worker writes there afterwards.
- :func:`release_memory` gives back to the system the memory a process's allocators keep once a task is done, so
  an idle Dask worker holds its data, not its last batch's high-water mark.
- :func:`child_command` starts a Python module in a child process that dies with its parent however the parent
  dies, kill -9 included (Linux's ``PR_SET_PDEATHSIG``, set in the child by ``python -m mobilise.processes``).
  Dask's worker processes need no help there: each exits when the pipe its parent holds closes
  (``distributed.process.AsyncProcess``); :func:`dask_setup` only takes them out of the process group.
"""
from __future__ import annotations

import ctypes
import functools
import gc
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

log = logging.getLogger("mobilise")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Interrupted(Exception):
    """The run was stopped by `signal` (SIGTERM or SIGINT).

    An Exception, not a BaseException: code that undoes a half-done step on ``except Exception`` (a publication
    being written) undoes it on an interrupt too.
    """

    def __init__(self, signum: int):
        super().__init__(int(signum))
        self.signal = signal.Signals(signum)

    def __str__(self) -> str:
        return f"interrupted ({self.signal.name})"


_received: list[signal.Signals] = []
_held: list[signal.Signals] = []  # a signal that came inside a critical section, raised at its end
_critical = 0
_depth = 0
_watchdog: dict = {}  # the outermost block's exit_within


def stop_signal() -> signal.Signals | None:
    """The signal that stopped the current run (kept after its block ends, until the next run), or None."""
    return _received[0] if _received else None


def _handler(signum: int, _frame) -> None:
    if _received:
        log.warning("%s received while stopping; still cleaning up", signal.Signals(signum).name)
        return
    _received.append(signal.Signals(signum))
    if _watchdog.get("seconds"):
        timer = threading.Timer(_watchdog["seconds"], _exit_now, args=(signal.Signals(signum),))
        timer.daemon = True
        timer.start()
    if _critical:
        _held.append(signal.Signals(signum))
        return
    raise Interrupted(signum)


@contextmanager
def critical_section() -> Iterator[None]:
    """A few steps a stop must not cut in two (a publication's commit, the swap of its current copies and the
    rebuild of the feeds, together well under a second): a SIGTERM or SIGINT that arrives inside is held and raised
    as :class:`Interrupted` when the block ends (the watchdog of :func:`stop_on_signals` still runs). A kill -9
    cannot be held: :meth:`mobilise.publishers.publication.PublicationDirectory.recover` rolls forward after it."""
    global _critical
    _critical += 1
    try:
        yield
    finally:
        _critical -= 1
    if _critical == 0 and _held:
        raise Interrupted(_held.pop())


@contextmanager
def stop_on_signals(exit_within: float | None = None) -> Iterator[None]:
    """In the block, the first SIGTERM or SIGINT raises :class:`Interrupted` in the main thread.

    Blocks nest (the flow body re-installs the handlers that Prefect's flow engine replaces with its own); the
    previous handlers are back when a block ends. Outside the main thread this does nothing. With `exit_within`
    (seconds; the outermost block's counts), the first signal also starts a watchdog that says so and ends the
    process with the signal's exit status if it is still running then: for the command line, never for a library
    caller.
    """
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _depth == 0:
        _received.clear()
        _held.clear()
        _watchdog.clear()
        _watchdog.update(seconds=exit_within)
    previous = {signum: signal.signal(signum, _handler) for signum in STOP_SIGNALS}
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stops_on_signals(function: Callable) -> Callable:
    """Decorator: `function` runs inside :func:`stop_on_signals`; for a Prefect flow, whose engine replaces the
    SIGTERM handler with its own around the flow body (``@flow`` above, ``@stops_on_signals`` below)."""
    @functools.wraps(function)
    def stopping(*args, **kwargs):
        with stop_on_signals():
            return function(*args, **kwargs)

    return stopping


def _exit_now(signum: signal.Signals) -> None:
    sys.stderr.write(f"mobilise: interrupted ({signum.name}); clean-up unfinished after {_watchdog['seconds']:g} s,"
                     " exiting\n")
    sys.stderr.flush()
    os._exit(128 + signum)


# --- what a failed or stopped run leaves ------------------------------------------------------------------------

_clean_ups: list[Callable[[], None]] = []


def on_failure(clean_up: Callable[[], None]) -> None:
    """Call `clean_up` (no arguments) if the run fails or is stopped, after its workers have stopped: inside
    :func:`clean_up_on_failure`; outside one (a flow called directly) it is never called."""
    _clean_ups.append(clean_up)


@contextmanager
def clean_up_on_failure() -> Iterator[None]:
    """Around a whole run, its task runner included: if the block raises, call what the run registered with
    :func:`on_failure` (last registered first), then re-raise. A clean-up that fails is logged, not raised."""
    _clean_ups.clear()
    try:
        yield
    except BaseException:
        while _clean_ups:
            clean_up = _clean_ups.pop()
            try:
                clean_up()
            except Exception:
                log.exception("clean-up %r failed", clean_up)
        raise
    finally:
        _clean_ups.clear()


# --- children that die with their parent ------------------------------------------------------------------------

def child_command(module: str, *args: str) -> list[str]:
    """The command line that runs ``python -m MODULE ARGS`` as a child that gets SIGTERM when this process ends
    (however it ends), e.g. ``subprocess.Popen(child_command("uvicorn", "--port", "8000"))``.

    Start it from the main thread: Linux sends the signal when the *thread* that started the child ends.
    """
    return [sys.executable, "-m", "mobilise.processes", str(os.getpid()), module, *args]


def kill(pid: int) -> None:
    """SIGKILL process `pid`, if it is still there."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# CPython collects its youngest generation every 700 net allocations of container objects; the checks allocate
# millions of small ones per batch, so that cost ~7% of a run's CPU (1.9 s of 25 on the lean 200k export, BDQ on,
# one process), 0.5 s at 5,000, with no measurable change in peak memory (bench/results.md, issue 15).
GC_GENERATION_0 = 5_000


def tune_garbage_collector() -> None:
    """Collect the youngest generation every :data:`GC_GENERATION_0` net allocations instead of 700 (the older
    generations' thresholds are left as they are). Called by the command line and by every Dask worker
    (:func:`dask_setup`); cyclic garbage is still collected, a little later."""
    gc.set_threshold(GC_GENERATION_0, *gc.get_threshold()[1:])


def dask_setup(worker) -> None:
    """Dask worker preload (``preload=["mobilise.processes"]``): the worker process leaves its parent's session,
    so a SIGTERM or Ctrl-C to the process group reaches only the process that runs the flow, which stops the
    workers itself; a worker still exits when its parent dies (``distributed.process.AsyncProcess``). Its log is
    set up as the command line's (mobilise/runlog.py), and its garbage collector tuned as the command line's
    (:func:`tune_garbage_collector`)."""
    try:
        os.setsid()
    except PermissionError:  # already leads a session or group (not spawned by a nanny): nothing to leave
        pass
    from mobilise import runlog

    runlog.configure()  # the worker's log as readable as the flow's (MOBILISE_LOG_LEVEL comes with the environment)
    tune_garbage_collector()


def release_memory() -> None:
    """Return to the operating system the free memory this process's allocators keep for reuse: Arrow's memory
    pool (mimalloc or jemalloc, ``release_unused``) and glibc malloc's free pages in every arena (``malloc_trim``;
    Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_``, which only trims the top of the main thread's arena). Call it
    at the end of a task that handled batches (flows/steps.py): a worker otherwise stays at its largest batch's
    size, plus fragmentation, while the run writes. A few milliseconds; no-op where the C library has no
    ``malloc_trim`` (not glibc)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent(parent: int) -> None:
    """Ask Linux to send this process SIGTERM when its parent ends; exit now if `parent` has already ended."""
    libc = _libc()
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before prctl: no signal will come
        os._exit(1)


def _main(argv: list[str]) -> None:
    import runpy

    parent, module, *args = argv
    die_with_parent(int(parent))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
