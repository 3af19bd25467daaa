"""Darwin Core Archive files: tab-delimited text as GBIF's IPT writes it, zipped with meta.xml and eml.xml.

Values are written unquoted (``fieldsEnclosedBy=""``) with tabs and line breaks inside a value folded to one
space, exactly as the IPT does: every reader that honours meta.xml (GBIF's crawler, python-dwca-reader, pandas
with ``quoting=QUOTE_NONE``) then sees the same columns, and quotes stay ordinary characters.

The core file is deflated in parallel, as pigz does: slices of the published rows are turned into text and
compressed by a pool of threads (Arrow and zlib release the GIL) into raw deflate pieces that end on a byte
boundary (``Z_SYNC_FLUSH``) and are concatenated, in order, into one standard zip member; within a slice each piece
is primed with the 32 KiB of text before it, so the archive is about as small as a single-threaded one.

The validate stage already deflates each batch's published rows on its worker (:func:`deflate_rows`), so that
writing the archive is mostly copying those parts in order; the CRC of the whole member is combined from the
parts' CRCs. Compression uses zlib-ng (the same deflate format as zlib, about twice as fast).
"""
from __future__ import annotations

import os
import time
import zipfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from zlib_ng import zlib_ng as zlib

from mobilise.publishers.meta import ArchiveFile, build_meta_xml
from mobilise.terms import OCCURRENCE_ROW_TYPE, term_iri

CORE_FILE = "occurrence.txt"
_STRUCTURAL = r"[\t\r\n]+"
SLICE_ROWS = 25_000  # rows turned into text and deflated by one task
PIECE_BYTES = 1 << 20  # deflate pieces within a slice (bounds the work lost to one flush marker)
WINDOW = 32 * 1024  # deflate's window: the text a piece is primed with


def _may_hold_structural(values: pa.Array) -> bool:
    """Whether the column's UTF-8 bytes hold a tab, CR or LF (ASCII bytes never occur inside a multi-byte
    character, so one pass over the raw bytes answers it; bytes outside a slice can only say yes needlessly)."""
    data = values.buffers()[2]
    if data is None or data.size == 0:
        return False
    raw = np.frombuffer(data, np.uint8)
    return bool(np.any((raw == 9) | (raw == 10) | (raw == 13)))


def fold_structural(values: pa.Array) -> pa.Array:
    """Tabs and line breaks inside values to one space, as the archive writes them (nulls stay null); the regex
    runs only on columns that have any."""
    if _may_hold_structural(values):
        values = pc.replace_substring_regex(values, _STRUCTURAL, " ")
    return values


def _fold(values: pa.Array) -> pa.Array:
    return pc.fill_null(fold_structural(values), "")


def text_lines(table: pa.Table) -> memoryview:
    """The rows of `table` as UTF-8 tab-separated lines, built in Arrow without a Python loop per row."""
    columns = []
    for name in table.column_names:
        values = table[name].combine_chunks()
        if not pa.types.is_string(values.type):
            values = pc.cast(values, pa.string())
        columns.append(_fold(values))
    if not columns or table.num_rows == 0:
        return memoryview(b"")
    joined = pc.binary_join_element_wise(*columns, "\t") if len(columns) > 1 else columns[0]
    lines = pc.binary_join_element_wise(joined, pa.scalar(""), "\n")  # appends one "\n" per row
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]]


def header_line(terms: list[str]) -> bytes:
    return ("\t".join(terms) + "\n").encode("utf-8")


@dataclass
class WrittenArchive:
    records: int
    bytes: int


def _deflate(text: memoryview | bytes, primer: bytes, level: int) -> list[bytes]:
    """Raw deflate pieces of `text`, each ending on a byte boundary without a final block."""
    pieces = []
    for start in range(0, len(text), PIECE_BYTES):
        piece = text[start:start + PIECE_BYTES]
        before = primer if start == 0 else text[max(0, start - WINDOW):start]
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY,
                                      **({"zdict": bytes(before)} if len(before) else {}))
        pieces.append(compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH))
    return pieces


def _slice_task(table: pa.Table, primer: bytes, level: int) -> tuple[memoryview, list[bytes]]:
    text = text_lines(table)
    return text, _deflate(text, primer, level)


@dataclass
class DeflatedRows:
    """Rows of the core file already turned into text and deflated, to be copied into the archive as they are."""

    path: str  # raw deflate data ending on a byte boundary (no final block)
    terms: list[str]  # the columns the rows were written with, in order
    records: int
    size: int  # bytes of text
    crc: int  # CRC-32 of the text


def core_terms(mapped_terms: list[str], columns: Iterable[str]) -> list[str]:
    """The core file's columns: the mapping's terms in order (occurrenceID first), then any other of `columns`
    (terms that accepted amendments added) in alphabetical order."""
    return list(mapped_terms) + sorted(set(columns) - set(mapped_terms))


def deflate_rows(table: pa.Table, terms: list[str], target: Path, level: int = 6) -> DeflatedRows:
    """Write `table`'s rows (columns `terms`) as core-file text, deflated, to `target`: the archive's part."""
    target.parent.mkdir(parents=True, exist_ok=True)
    crc = size = 0
    with target.open("wb") as handle:
        for start in range(0, max(table.num_rows, 1), SLICE_ROWS):
            text = text_lines(table.select(terms).slice(start, SLICE_ROWS))
            crc, size = zlib.crc32(text, crc), size + len(text)
            for piece in _deflate(text, b"", level):
                handle.write(piece)
    return DeflatedRows(str(target), list(terms), table.num_rows, size, crc)


def _slices(parts: Iterable[pa.Table | DeflatedRows], terms: list[str]) -> Iterator[pa.Table | DeflatedRows]:
    for part in parts:
        if isinstance(part, DeflatedRows):
            if part.terms != terms:
                raise ValueError(f"{part.path} was written with other columns than the archive's")
            yield part
            continue
        for term in terms:  # a column another batch's amendments added: empty here
            if term not in part.column_names:
                part = part.append_column(term, pa.nulls(part.num_rows, pa.string()))
        table = part.select(terms)
        for start in range(0, table.num_rows, SLICE_ROWS):
            yield table.slice(start, SLICE_ROWS)


def _copy_part(fp: BinaryIO, part: DeflatedRows) -> None:
    with open(part.path, "rb") as handle:
        while chunk := handle.read(PIECE_BYTES):
            fp.write(chunk)


def _write_core(archive: zipfile.ZipFile, header: bytes, slices: Iterator[pa.Table | DeflatedRows], level: int,
                threads: int, name: str = CORE_FILE) -> int:
    """Write the core member (or the data file `name`) as parallel-deflated pieces; return the rows written."""
    fp = archive.fp
    info = zipfile.ZipInfo(name, date_time=time.localtime(time.time())[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16  # what ZipFile.open(name, "w") gives
    info.flag_bits = 0x800  # UTF-8 name
    info.file_size = info.compress_size = info.CRC = 0
    info.header_offset = fp.tell()
    fp.write(info.FileHeader(zip64=True))
    data_start = fp.tell()
    crc, size, records = 0, 0, 0

    def emit(text: memoryview | bytes, pieces: list[bytes]) -> None:
        nonlocal crc, size
        crc = zlib.crc32(text, crc)
        size += len(text)
        for piece in pieces:
            fp.write(piece)

    emit(header, _deflate(header, b"", level))
    # A slice starts with an empty window (the text before it is built by another task): that costs a few
    # bytes per slice of ~10 MB and keeps the slices independent, so they are built and compressed in parallel.
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: deque = deque()
        for part in slices:
            records += part.num_rows if isinstance(part, pa.Table) else part.records
            if isinstance(part, DeflatedRows):
                while pending:  # in order: what is being compressed comes first
                    emit(*pending.popleft().result())
                crc, size = zlib.crc32_combine(crc, part.crc, part.size), size + part.size
                _copy_part(fp, part)
                continue
            pending.append(pool.submit(_slice_task, part, b"", level))
            while len(pending) > threads + 1:  # bounded: a few slices' text in memory at a time
                emit(*pending.popleft().result())
        while pending:
            emit(*pending.popleft().result())
    fp.write(zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH))  # the final block
    end = fp.tell()
    info.CRC, info.file_size, info.compress_size = crc, size, end - data_start
    fp.seek(info.header_offset)
    fp.write(info.FileHeader(zip64=True))
    fp.seek(end)
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info
    archive.start_dir = end
    return records


@dataclass
class ExtensionData:
    """One extension's data file: ``location`` (``multimedia.txt``), ``row_type`` (class IRI), ``columns`` (the
    file's header: ``coreid`` first, then the term names), ``iris`` (per column its term IRI, None for coreid) and
    ``parts`` (the published rows, deflated by :func:`deflate_rows` with ``columns``, in order)."""

    location: str
    row_type: str
    columns: list[str]
    iris: list[str | None]
    parts: list[DeflatedRows]

    @property
    def archive_file(self) -> ArchiveFile:
        return ArchiveFile(row_type=self.row_type, location=self.location, terms=self.iris, id_index=0)


@dataclass(frozen=True)
class CoreFile:
    """The core's data file: ``location``, ``row_type`` and ``id_term`` (its first column)."""

    location: str = CORE_FILE
    row_type: str = OCCURRENCE_ROW_TYPE
    id_term: str = "occurrenceID"


OCCURRENCE_CORE = CoreFile()
EVENT_CORE = CoreFile("event.txt", "http://rs.tdwg.org/dwc/terms/Event", "eventID")


def archive_meta_xml(terms: list[str], extensions: Iterable[ExtensionData] = (),
                     core: CoreFile = OCCURRENCE_CORE) -> bytes:
    """The archive's meta.xml for a core (an Occurrence core by default) whose columns are `terms` (its id term
    first) and its `extensions` (each with its coreid column at index 0)."""
    return build_meta_xml(ArchiveFile(row_type=core.row_type, location=core.location,
                                      terms=[term_iri(t) for t in terms], id_index=0),
                          [ext.archive_file for ext in extensions])


def write_archive(target: BinaryIO | Path, terms: list[str], tables: Iterable[pa.Table | DeflatedRows], eml: bytes,
                  compresslevel: int = 6, threads: int | None = None, extensions: Iterable[ExtensionData] = (),
                  core: CoreFile = OCCURRENCE_CORE) -> WrittenArchive:
    """Write a DwC-A zip with a core (an Occurrence core by default) whose columns are `terms` (its id term first,
    the core id) and the data file of each of `extensions`.

    `tables` are the rows in order: Arrow tables (a column of `terms` a table lacks is written empty), or parts
    :func:`deflate_rows` wrote with the same `terms`.

    `target` must be seekable (a path or a file opened for writing): the core member's sizes are written into
    its header once known. `threads` compress the core file (default: one per core).
    """
    if not terms or terms[0] != core.id_term:
        raise ValueError(f"the core file's first column must be {core.id_term} (meta.xml <id index='0'/>)")
    extensions = list(extensions)
    meta = archive_meta_xml(terms, extensions, core)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        records = _write_core(archive, header_line(terms), _slices(tables, terms), compresslevel,
                              threads or os.cpu_count() or 1, core.location)
        for ext in extensions:
            _write_core(archive, header_line(ext.columns), _slices(ext.parts, ext.columns), compresslevel, 1,
                        ext.location)
        archive.writestr("meta.xml", meta)
        archive.writestr("eml.xml", eml)
    size = target.stat().st_size if isinstance(target, Path) else target.tell()
    return WrittenArchive(records, size)
