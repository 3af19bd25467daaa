"""Run the `mobilise` command line and SIGKILL it at a named moment (for tests/test_faults.py).

    python tests/fault_launcher.py MOMENT run CONFIG --runner threads

The product has no test hooks: the moment is made by wrapping, in this process only, the library or product
function that marks it (os.replace, os.link, PublicationLog.append, write_archive, ...) so that the process kills
itself with SIGKILL - no clean-up, no finally, no atexit - just before or just after the named call. ``none`` runs
the command line unchanged.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def die() -> None:
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def kill_around(owner, name: str, when: str = "before", nth: int = 1, match=lambda *a, **k: True) -> None:
    """Replace ``owner.name`` by a wrapper that kills the process before or after its `nth` call for which
    ``match(*args, **kwargs)`` holds."""
    original = getattr(owner, name)
    calls = 0

    def wrapper(*args, **kwargs):
        nonlocal calls
        if match(*args, **kwargs):
            calls += 1
            if calls == nth and when == "before":
                die()
            result = original(*args, **kwargs)
            if calls == nth and when == "after":
                die()
            return result
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def named(pattern: str):
    """A match on the destination (second argument) of os.replace/os.link by file name."""
    import fnmatch

    return lambda source, target, *a, **k: fnmatch.fnmatch(Path(target).name, pattern)


def kill_while_writing(function: str) -> None:
    """Kill when ``publish.<function>`` (write_archive, write_quarantine) asks for the batch after its first one:
    the file is half written (the first batch in it, under its temporary name)."""
    from mobilise.publishers import publish

    original = getattr(publish, function)

    def killing(tables):
        for table in tables:
            yield table
            die()

    def wrapper(*args, **kwargs):
        args = list(args)
        # write_archive(target, terms, tables, eml); write_quarantine(tables, target)
        where = 2 if function == "write_archive" else 0
        args[where] = killing(args[where])
        return original(*args, **kwargs)

    setattr(publish, function, wrapper)


def swap_fails() -> None:
    """Not a kill: making the committed version current fails (as on a disk that filled up just then)."""
    import errno

    from mobilise.publishers.publication import PublicationDirectory

    def promote(self, version):
        raise OSError(errno.ENOSPC, "No space left on device")

    PublicationDirectory.promote = promote


def hold_the_lock() -> None:
    """Not a kill: once the dataset lock is taken (recovery runs under it), touch $FAULT_LOCKED and wait for
    $FAULT_RELEASE to exist, so a test can start a second run while this one holds the lock."""
    import time

    from mobilise.publishers.publication import PublicationDirectory

    original = PublicationDirectory.recover

    def recover(self, *args, **kwargs):
        Path(os.environ["FAULT_LOCKED"]).touch()
        deadline = time.monotonic() + 120
        while not Path(os.environ["FAULT_RELEASE"]).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return original(self, *args, **kwargs)

    PublicationDirectory.recover = recover


def arm(moment: str) -> None:
    from mobilise.catalog import RunCatalog
    from mobilise.publishers.publication import PublicationLog

    moments = {
        "extracting": lambda: kill_around(RunCatalog, "save", "before", nth=3),
        "writing the archive": lambda: kill_while_writing("write_archive"),
        "after the archive rename": lambda: kill_around(os, "replace", "after", match=named("dwca-*.zip")),
        "writing the quarantine csv": lambda: kill_while_writing("write_quarantine"),
        "writing the reports": lambda: kill_around(os, "replace", "before", match=named("report-*.html")),
        "after reserving the version": lambda: kill_around(PublicationLog, "reserve", "after"),
        "before the commit": lambda: kill_around(PublicationLog, "append", "before"),
        "inside the log rename": lambda: kill_around(os, "replace", "before", nth=2,
                                                     match=named("publications.json")),
        "after the commit": lambda: kill_around(PublicationLog, "append", "after"),
        "inside the swap (dwca.zip linked, not renamed)": lambda: kill_around(os, "link", "after",
                                                                              match=named(".dwca.zip.*")),
        "inside the swap (dwca.zip renamed, eml.xml not)": lambda: kill_around(os, "replace", "after",
                                                                               match=named("dwca.zip")),
        "after the swap": lambda: kill_around(os, "replace", "after", match=named("eml.xml")),
        "during retention": lambda: kill_around(PublicationLog, "mark_removed", "after"),
        # the first rename of dwca.zip of a run is the recovery's roll-forward when the last run left one to do
        "during recovery": lambda: kill_around(os, "replace", "before", match=named("dwca.zip")),
        "hold the lock": hold_the_lock,
        "the swap fails": swap_fails,
    }
    if moment != "none":
        moments[moment]()


def main() -> None:
    moment, *arguments = sys.argv[1:]
    arm(moment)
    from mobilise.cli import app

    app(arguments, prog_name="mobilise")


if __name__ == "__main__":
    main()
