"""Time one extraction engine streaming the sample config's query from a database (batches counted, not kept).

    .venv/bin/python bench/extract.py ENGINE URL [--batch-size N]

Prints {"seconds": s, "rows": n, "batches": b}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("engine")
    parser.add_argument("url")
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args()
    os.environ["MOBILISE_SAMPLE_URL"] = args.url
    from mobilise.extractors import sql  # noqa: F401
    from mobilise.extractors.base import extract_batches
    from mobilise.settings import load_config

    source = load_config(ROOT / "config" / "sample.yaml").source
    update = {"engine": args.engine} | ({"batch_size": args.batch_size} if args.batch_size else {})
    source = source.model_copy(update=update)
    start = time.perf_counter()
    rows = batches = 0
    for batch in extract_batches(source):
        rows += batch.num_rows
        batches += 1
    json.dump({"seconds": time.perf_counter() - start, "rows": rows, "batches": batches}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
