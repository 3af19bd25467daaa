"""Time python-dwca-reader iterating every core row of an archive (opening it unzips it to a temporary folder).

    .venv/bin/python bench/read.py ARCHIVE

Prints {"open": seconds, "iterate": seconds, "rows": n}.
"""
from __future__ import annotations

import json
import sys
import time

from dwca.read import DwCAReader


def main() -> None:
    start = time.perf_counter()
    with DwCAReader(sys.argv[1]) as archive:
        opened = time.perf_counter()
        rows = sum(1 for _ in archive)
        done = time.perf_counter()
    json.dump({"open": opened - start, "iterate": done - opened, "rows": rows}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
