"""Time each TDWG BDQ test of validators/bdq over a batch, as batch.run_bdq runs it (once per distinct input).

    .venv/bin/python bench/bdq.py ARCHIVE_OR_TSV [--rows 25000] [--top 20] [--repeat 1]

The batch is the core file of a published archive (Darwin Core local names as columns, text, '' -> null), cut to
``--rows`` rows (a pipeline batch is 25,000). Prints one line per test, slowest first: seconds, distinct input
combinations and the share of the total, then the total and the hit rates of the bounded caches the tests use
(validators.bdq.vector.cache_stats). Every test is timed on a cold start of its own caches only when
``--repeat`` is 1; later repeats show the warm (cached) cost.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv


def load(path: Path, rows: int, offset: int = 0) -> pa.Table:
    """The core file as an all-text table with '' as null."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".txt"))
            data = archive.read(name)
    else:
        data = path.read_bytes()
    head = data.split(b"\n", 1)[0].decode("utf-8").split("\t")
    table = pacsv.read_csv(io.BytesIO(data), parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
                           convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in head},
                                                                strings_can_be_null=True))
    table = table.slice(offset, rows)
    return pa.table({c: pc.if_else(pc.equal(table[c], ""), None, table[c]) for c in table.column_names})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("core", type=Path)
    parser.add_argument("--rows", type=int, default=25_000)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--offset", type=int, default=0, help="first row of the batch in the core file")
    args = parser.parse_args()
    from mobilise.validators.bdq import batch, vector
    from mobilise.validators.bdq.core import REGISTRY

    table = load(args.core, args.rows, args.offset)
    encoder = batch._Encoder(table)
    columns_for = batch._column_for_terms(table.column_names)
    for round_ in range(args.repeat):
        times = []
        start_all = time.perf_counter()
        for test in REGISTRY.values():
            if test.needs_network:
                continue
            terms = tuple(dict.fromkeys(test.acted_upon + test.consulted))
            present = tuple(sorted({columns_for[t] for t in terms if t in columns_for}))
            combos = len(encoder.groups(present)[1])
            start = time.perf_counter()
            batch.run_bdq(table, [test.guid])  # (a fresh batch: per-value features are computed again)
            times.append((time.perf_counter() - start, combos, test.label,
                          "vector" if test.guid in vector.VECTORISED else "rows"))
        total = time.perf_counter() - start_all
        print(f"round {round_ + 1}: {table.num_rows} rows, {len(times)} tests, {total:.2f} s "
              f"({table.num_rows / total:,.0f} rows/s)")
        for seconds, combos, label, how in sorted(times, reverse=True)[:args.top]:
            print(f"  {seconds:7.3f} s  {combos:7d} distinct  {100 * seconds / total:5.1f}%  {how:6s}  {label}")
    for vectorised in (False, True, False, True):  # the whole battery in one call, as the pipeline runs it
        start, cpu = time.perf_counter(), time.process_time()
        batch.run_bdq(table, vectorised=vectorised)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"run_bdq, all tests, {'vectorised' if vectorised else 'row by row'}: {seconds:.2f} s wall, "
              f"{cpu:.2f} s CPU ({table.num_rows / cpu:,.0f} rows per CPU second)")
    for name, stats in vector.cache_stats().items():
        print(f"cache {name}: {stats}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
