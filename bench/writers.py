"""Time one DwC-A writer on the same rows: the core file of one of our archives, loaded before the clock starts.

    .venv/bin/python bench/writers.py {mobilise,dwcahandler} ARCHIVE TARGET.zip

Prints {"write": seconds, "rows": n, "bytes": archive size}. ``dwcahandler`` is the Atlas of Living Australia's
DwC-A writer (pandas DataFrames in, ``DwcaHandler.create_dwca``); it is given the rows as a DataFrame of text,
the form it takes them in, with content validation off so that only its writing is timed.
"""
from __future__ import annotations

import io
import json
import sys
import time
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

BATCH = 50_000


def core_table(archive: Path) -> pa.Table:
    with zipfile.ZipFile(archive) as z:
        raw = z.read("occurrence.txt")
        eml = z.read("eml.xml")
    table = pacsv.read_csv(
        io.BytesIO(raw), read_options=pacsv.ReadOptions(block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=True, auto_dict_encode=False))
    return table.cast(pa.schema([(name, pa.string()) for name in table.column_names])), eml


def main() -> None:
    writer, archive, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    table, eml = core_table(archive)
    target.unlink(missing_ok=True)
    if writer == "mobilise":
        from mobilise.publishers.dwca import write_archive

        batches = [table.slice(start, BATCH) for start in range(0, table.num_rows, BATCH)]
        start = time.perf_counter()
        write_archive(target, table.column_names, batches, eml)
        elapsed = time.perf_counter() - start
    elif writer == "dwcahandler":
        from dwcahandler import ContentData, DwcaHandler, MetaElementTypes

        frame = table.to_pandas()
        del table
        start = time.perf_counter()
        DwcaHandler.create_dwca(core_csv=ContentData(data=frame, type=MetaElementTypes.OCCURRENCE,
                                                     keys=["occurrenceID"]),
                                output_dwca=str(target), eml_content=eml.decode("utf-8"), validate_content=False)
        elapsed = time.perf_counter() - start
        rows = len(frame)
    else:
        raise SystemExit(f"unknown writer {writer}")
    rows = table.num_rows if writer == "mobilise" else rows
    json.dump({"write": elapsed, "rows": rows, "bytes": target.stat().st_size}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
