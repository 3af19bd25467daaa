"""The core file's parts deflated by the validate stage join into the same archive the writer makes alone."""
from __future__ import annotations

import shutil
import subprocess
import zipfile

import pyarrow as pa
import pytest

from mobilise.publishers import dwca
from mobilise.publishers.dwca import deflate_rows, write_archive

TERMS = ["occurrenceID", "catalogNumber", "locality"]


def _table(start: int, rows: int) -> pa.Table:
    return pa.table({"occurrenceID": [f"urn:x:{i}" for i in range(start, start + rows)],
                     "catalogNumber": [None if i % 7 == 0 else f"BR{i:07d}" for i in range(start, start + rows)],
                     "locality": [f"Bois de la Cambre\tpond {i}\nnorth shore ü" for i in range(start, start + rows)]})


def test_pre_deflated_parts_give_the_same_core_file(tmp_path, monkeypatch):
    monkeypatch.setattr(dwca, "SLICE_ROWS", 700)  # several slices per part
    monkeypatch.setattr(dwca, "PIECE_BYTES", 4096)  # several deflate pieces per slice
    tables = [_table(0, 2000), _table(2000, 1500), _table(3500, 0), _table(3500, 901)]
    alone = write_archive(tmp_path / "alone.zip", TERMS, tables, b"<eml/>")
    parts = [deflate_rows(t, TERMS, tmp_path / f"part{i}.deflate") if i % 2 else t for i, t in enumerate(tables)]
    assert [type(p).__name__ for p in parts] == ["Table", "DeflatedRows", "Table", "DeflatedRows"]
    joined = write_archive(tmp_path / "joined.zip", TERMS, parts, b"<eml/>")
    assert joined.records == alone.records == 4401
    with zipfile.ZipFile(tmp_path / "alone.zip") as a, zipfile.ZipFile(tmp_path / "joined.zip") as b:
        assert b.testzip() is None  # every member's CRC-32 checks out
        text = b.read("occurrence.txt")
        assert text == a.read("occurrence.txt")
    lines = text.decode().splitlines()
    assert len(lines) == 4402 and lines[1].split("\t") == ["urn:x:0", "", "Bois de la Cambre pond 0 north shore ü"]
    if shutil.which("unzip"):  # Info-ZIP's own check of the joined deflate stream
        assert subprocess.run(["unzip", "-tq", str(tmp_path / "joined.zip")], capture_output=True).returncode == 0


def test_a_part_written_with_other_columns_is_refused(tmp_path):
    part = deflate_rows(_table(0, 10), TERMS, tmp_path / "p.deflate")
    with pytest.raises(ValueError, match="other columns"):
        write_archive(tmp_path / "a.zip", TERMS + ["country"], [part], b"<eml/>")


def test_a_table_without_a_column_another_batch_added_writes_it_empty(tmp_path):
    """An accepted amendment may add a column in one batch only: the other batches' rows have it empty."""
    amended = _table(10, 2).append_column("country", pa.array(["Belgium", None]))
    written = write_archive(tmp_path / "a.zip", TERMS + ["country"], [_table(0, 2), amended], b"<eml/>")
    assert written.records == 4
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        rows = [line.split("\t") for line in archive.read("occurrence.txt").decode().splitlines()]
    assert rows[0] == TERMS + ["country"]
    assert [row[3] for row in rows[1:]] == ["", "", "Belgium", ""]
