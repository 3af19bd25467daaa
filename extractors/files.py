"""File sources: CSV and TSV files, a sheet of an Excel workbook, and a Darwin Core Archive's core or extension, as
streams of Arrow record batches (registered by format in :mod:`mobilise.extractors.base`).

What every file backend gives, the same as the database backends give:

- batches of at most ``source.batch_size`` rows, in the file's order, read in bounded memory (a CSV file a block of
  :data:`BLOCK_SIZE` bytes at a time, a workbook a row at a time, an archive's data file a line at a time);
- every value as text (``pa.string()``), the column names as the file's header writes them;
- an empty value as null (a file cannot tell an empty string from a missing value; the mapper treats an empty
  string as null anyway, :func:`mobilise.mappers.columns.as_text`, so a file and a database holding the same
  records publish the same archive);
- whatever cannot be read as one :class:`~mobilise.extractors.base.SourceError` whose message names the file and
  the line (or sheet and row) to fix; never a traceback, never a guess.

The rules per format:

CSV and TSV (``pyarrow.csv.open_csv``, streamed): ``source.delimiter`` (default ``,`` for csv, a tab for tsv),
``source.quote_char`` (default ``"``; a quote inside a quoted value is doubled, RFC 4180; ``''`` for none), and
quoted values may span lines (which GBIF's IPT cannot read). ``source.encoding`` is the file's encoding (default
UTF-8, with a byte-order mark skipped; any Python codec: cp1252, latin-1, utf-16...). ``source.header_row`` is the
line holding the column names (1-based; the lines before it are skipped). Empty lines are skipped. A header cell
that is empty names its column ``column_<n>`` (n its 1-based position); a name given twice is an error. Errors,
each naming the line: a byte the encoding cannot decode; a UTF-8 byte-order mark in a file declared in another
encoding; a record with more (or fewer) fields than the header.

Excel (``openpyxl``, read-only, streamed; .xlsx and .xlsm, not the old binary .xls): ``source.sheet`` by name or
0-based position (default the first sheet); ``source.header_row`` is the row holding the column names. A cell's
text is what a person sees in it where it matters, by this rule (:func:`cell_text`):

- text as it is; an empty cell (and an empty text) is null; a formula gives its value as Excel last saved it
  (a workbook written by a program that never calculated it has none: null);
- a whole number without a decimal part (``12``, not ``12.0``), other numbers in plain decimal notation with at
  most 15 significant digits, as Excel keeps them (``0.00001``, not ``1e-05``; ``0.3``, not
  ``0.30000000000000004``); a number format (``0.00``, ``50%``, a currency) is not applied: the number is given;
- a date is its ISO 8601 date (``2021-03-04``): a cell formatted as a date, and any date-time at midnight (Excel
  has no date type: a date is a date-time whose time is 00:00, however it is formatted); a date and time
  ``2021-03-04T14:30:00``; a cell formatted as a time ``14:30:00``; a duration (``[h]:mm``) ``H:MM:SS``; a boolean
  ``TRUE`` / ``FALSE``; an error value (``#N/A``, ``#DIV/0!``) as it is shown.

Merged cells: the value is in the top-left cell only, as openpyxl gives it; the other cells of the merged range are
empty (null). Nothing is copied into them: whether a merged value belongs to every row it spans is for the mapping
to say, not for the reader to guess. Rows with no value at all are skipped. A header cell that is empty names its
column ``column_<n>``; a value in a column beyond the last named one is an error naming its row and cell.

Darwin Core Archive (``python-dwca-reader``): ``source.row_type`` chooses the data file: ``core`` (the default), or
an extension by its rowType IRI, the last part of it (``Multimedia``; case and underscores ignored:
``measurement_or_fact``) or its file name in meta.xml (``multimedia.txt``). The columns are ``id`` (the core's id
column) or ``coreid`` (an extension's link to its core record), then one per term of meta.xml in its order, named by
the term's simple name (``http://rs.tdwg.org/dwc/terms/scientificName`` -> ``scientificName``; terms whose simple
names clash keep their full IRI); a term with a default value in meta.xml gives that default where the file has
none. The data file's encoding is the one meta.xml declares (python-dwca-reader replaces an undecodable byte with
U+FFFD).
"""
from __future__ import annotations

import codecs
import csv
import re
import sys
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator

import pyarrow as pa

from mobilise.extractors.base import SourceError, log, register
from mobilise.settings import SourceConfig, _suggest

#: bytes of a CSV file parsed at a time (pyarrow's block); one record, line breaks included, must fit in one
BLOCK_SIZE = 1 << 22


def _fail(source: SourceConfig, message: str) -> SourceError:
    return SourceError(f"source {source.safe_url}: {message}", source=source.safe_url)


def _column_names(header: list[str | None], source: SourceConfig, where: str = "") -> list[str]:
    """The header's names; an empty one is ``column_<n>``; SourceError for a name given twice."""
    names = [name if name is not None and name.strip() else f"column_{position}"
             for position, name in enumerate(header, start=1)]
    unnamed = [name for name, given in zip(names, header) if given is None or not given.strip()]
    if unnamed:
        log.info("source %s: %d column(s) without a name in the header, called %s", source.safe_url, len(unnamed),
                 ", ".join(unnamed[:5]) + (" ..." if len(unnamed) > 5 else ""))
    first: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in first:
            raise _fail(source, f"{where}the header names the column '{name}' twice (columns {first[name]} and "
                                f"{position}): give each column a name of its own")
        first[name] = position
    return names


def _text_batch(names: list[str], columns: list[list[str | None]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(values, pa.string()) for values in columns], names=names)


def _rebatch(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """The rows of `batches` again, in batches of exactly `size` rows (the last one fewer)."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            take = min(size - rows, batch.num_rows - offset)
            pending.append(batch.slice(offset, take))
            rows += take
            offset += take
            if rows == size:
                yield _concatenate(pending)
                pending, rows = [], 0
    if rows:
        yield _concatenate(pending)


def _concatenate(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]


# --- CSV and TSV ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dialect:
    """How a delimited file is written: the settings of a CSV/TSV source with their defaults."""

    delimiter: str
    quote_char: str  # "" for none
    encoding: str  # a Python codec name
    header_row: int  # 1-based line of the column names

    @classmethod
    def of(cls, source: SourceConfig) -> "Dialect":
        tsv = source.file_format == "tsv"
        return cls(delimiter=source.delimiter or ("\t" if tsv else ","),
                   quote_char='"' if source.quote_char is None else source.quote_char,
                   encoding=codecs.lookup(source.encoding or "utf-8").name, header_row=source.header_row or 1)

    @property
    def arrow_encoding(self) -> str:
        """pyarrow reads UTF-8 itself (skipping a byte-order mark); any other encoding is transcoded by Python."""
        return "utf8" if self.encoding in ("utf-8", "utf-8-sig") else self.encoding

    def describe(self) -> str:
        return {"\t": "a tab", ",": "','", ";": "';'"}.get(self.delimiter, repr(self.delimiter))


def _open_csv(path: Path, dialect: Dialect, names: list[str] | None = None):
    """pyarrow's streaming CSV reader: with `names`, every column as text and empty values as null, the header
    skipped; without, only to learn the header's names."""
    from pyarrow import csv as pacsv

    read = pacsv.ReadOptions(block_size=BLOCK_SIZE, encoding=dialect.arrow_encoding,
                             skip_rows=dialect.header_row - 1, column_names=names,
                             skip_rows_after_names=1 if names is not None else 0)
    parse = pacsv.ParseOptions(delimiter=dialect.delimiter, quote_char=dialect.quote_char or False,
                               double_quote=True, newlines_in_values=True, ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in names or []}, null_values=[""],
                                   strings_can_be_null=True, quoted_strings_can_be_null=True)
    return pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)


@register("csv", "tsv")
def extract_delimited(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    """A CSV or TSV file as text batches (see the module's rules); SourceError naming the line of a problem."""
    dialect = Dialect.of(source)
    _check_byte_order_mark(source, dialect)
    last: pa.RecordBatch | None = None
    try:
        with closing(_open_csv(source.path, dialect)) as header_reader:
            header = header_reader.schema.names
        names = _column_names(header, source)
        with closing(_open_csv(source.path, dialect, names)) as reader:
            for batch in _rebatch(reader, source.batch_size):
                last = batch
                yield batch
    except (pa.ArrowInvalid, UnicodeError) as error:
        failure = _delimited_error(source, dialect, error)
    else:
        if last is None or not dialect.quote_char or not _has_line_break(last.slice(last.num_rows - 1)):
            return
        line = _quote_open_at_the_end(source.path, dialect)  # only when the last record spans lines: rare
        if line is None:
            return
        failure = _fail(source, f"line {line}: a quote ({dialect.quote_char}) opened in this record is never closed, "
                                f"so the rest of the file would be one value (close it, or write quote_char: '' "
                                f"if the file does not quote its values)")
    raise failure


def _has_line_break(row: pa.RecordBatch) -> bool:
    return any(value is not None and ("\n" in value or "\r" in value)
               for value in row.to_pylist()[0].values())


def _check_byte_order_mark(source: SourceConfig, dialect: Dialect) -> None:
    """A UTF-8 byte-order mark in a file declared in another single-byte encoding: the declaration is wrong (its
    first column would be named ``ï»¿id``)."""
    if dialect.encoding in ("utf-8", "utf-8-sig") or dialect.encoding.startswith(("utf-16", "utf-32")):
        return
    with open(source.path, "rb") as handle:
        start = handle.read(3)
    if start == codecs.BOM_UTF8:
        raise _fail(source, f"line 1: the file starts with a UTF-8 byte-order mark, but its encoding is declared "
                            f"as {dialect.encoding}: the file is UTF-8 (remove 'encoding', or write encoding: "
                            f"utf-8-sig)")


class _Undecodable(Exception):
    def __init__(self, line: int, error: UnicodeDecodeError):
        super().__init__(line, error)
        self.line, self.error = line, error


def _delimited_error(source: SourceConfig, dialect: Dialect, error: Exception) -> SourceError:
    """The first problem of the file, found by reading it again with Python's csv module (only after pyarrow
    failed, so the common path pays nothing), naming its line; else pyarrow's own message."""
    try:
        problem = _first_problem(source.path, dialect)
    except Exception as scan_error:  # noqa: BLE001  (the message below is still worth giving)
        log.debug("could not locate the CSV problem: %s", scan_error)
        problem = None
    if problem:
        return _fail(source, problem)
    text = " ".join(str(error).split())[:300]
    if text == "Empty CSV file":
        text = "the file is empty: not even a line of column names"
    elif text.startswith("Could not skip initial"):
        text = (f"the file has fewer than {dialect.header_row} lines, so no header on line {dialect.header_row} "
                f"(header_row)")
    elif "straddling" in text:
        text = (f"a record is longer than {BLOCK_SIZE // (1 << 20)} MiB, or a quote ({dialect.quote_char}) "
                f"opened in a value is never closed")
    return _fail(source, text)


def _decoded_lines(path: Path, dialect: Dialect) -> Iterator[str]:
    """The file's lines from the header on, decoded; :class:`_Undecodable` naming the first line that is not."""
    decoder = codecs.getincrementaldecoder(dialect.encoding)()
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = decoder.decode(raw)
            except UnicodeDecodeError as error:
                raise _Undecodable(number, error) from None
            if number >= dialect.header_row:
                yield text


def _python_reader(lines: Iterator[str], dialect: Dialect, strict: bool = False):
    options: dict[str, Any] = {"delimiter": dialect.delimiter, "doublequote": True, "strict": strict}
    if dialect.quote_char:
        options["quotechar"] = dialect.quote_char
    else:
        options["quoting"] = csv.QUOTE_NONE
    return csv.reader(lines, **options)


def _quote_open_at_the_end(path: Path, dialect: Dialect) -> int | None:
    """The line of the record whose quote is still open at the end of the file, or None."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    reader = _python_reader(_decoded_lines(path, dialect), dialect, strict=True)
    end = 0
    try:
        for _ in reader:
            end = reader.line_num
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            return end + dialect.header_row
        return None
    finally:
        csv.field_size_limit(limit)
    return None


def _first_problem(path: Path, dialect: Dialect) -> str | None:
    """'line N: what' for the first undecodable line or record whose number of fields differs from the header's."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        reader = _python_reader(_decoded_lines(path, dialect), dialect)
        offset = dialect.header_row - 1
        expected: int | None = None
        end = 0
        for fields in reader:
            start, end = end + 1, reader.line_num
            if not fields:
                continue
            if expected is None:
                expected = len(fields)
                continue
            if len(fields) != expected:
                where = f"line {start + offset}" + (f" (to line {end + offset})" if end > start else "")
                hint = (f"a value holding the delimiter {dialect.describe()} must be quoted"
                        + (f" with {dialect.quote_char!r}" if dialect.quote_char else "") if len(fields) > expected else
                        "a missing delimiter, or a line break inside a value that is not quoted?")
                return (f"{where}: {len(fields)} fields where the header (line {dialect.header_row}) has "
                        f"{expected} ({hint})")
    except _Undecodable as failure:
        byte = failure.error.object[failure.error.start:failure.error.start + 1]
        advice = ("declare the file's encoding, e.g. encoding: cp1252 or latin-1" if dialect.encoding == "utf-8"
                  else "is the file in another encoding, e.g. utf-8 or latin-1?")
        return (f"line {failure.line}: byte 0x{byte.hex()} cannot be decoded as {dialect.encoding} ({advice})")
    except csv.Error as failure:
        return f"line {reader.line_num + dialect.header_row - 1}: {failure}"
    finally:
        csv.field_size_limit(limit)
    return None


# --- Excel ---------------------------------------------------------------------------------------------------------

def cell_text(value: Any, number_format: str | None = None) -> str | None:
    """A workbook cell's value as the text a person sees in it (the rule in this module's docstring), or None for
    an empty cell. `number_format` is the cell's (``yyyy-mm-dd``, ``h:mm``...): it tells a date or a time from a
    date and time; other formats are not applied.

    ``12.0`` -> ``"12"``; ``1e-05`` -> ``"0.00001"``; ``datetime(2021, 3, 4)`` -> ``"2021-03-04"``;
    ``True`` -> ``"TRUE"``; ``""`` -> None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        from openpyxl.styles.numbers import is_datetime

        kind = is_datetime(number_format) if number_format else None
        if kind == "time":
            return _time_text(value.time())
        if kind == "date" or value.time() == time(0):
            return value.date().isoformat()
        return f"{value.date().isoformat()}T{_time_text(value.time())}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _time_text(value)
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return plain_number(value)
    return str(value)


def _time_text(value: time) -> str:
    return value.isoformat(timespec="seconds" if value.microsecond == 0 else "milliseconds")


def plain_number(value: float) -> str:
    """A number in plain decimal notation with at most 15 significant digits (Excel's precision), no exponent and
    no trailing zeros: ``12.0`` -> ``"12"``, ``1e-05`` -> ``"0.00001"``, ``0.1 + 0.2`` -> ``"0.3"``,
    ``1.5e20`` -> ``"150000000000000000000"``."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value == 0:
        return "0"
    return format(Decimal(f"{value:.15g}"), "f")


def _worksheet(workbook, source: SourceConfig):
    sheets = workbook.worksheets
    titles = [sheet.title for sheet in sheets]
    listed = ", ".join(f"{number}: '{title}'" for number, title in enumerate(titles))
    if source.sheet is None:
        if not sheets:
            raise _fail(source, "the workbook has no worksheet")
        return sheets[0]
    if isinstance(source.sheet, int):
        if 0 <= source.sheet < len(sheets):
            return sheets[source.sheet]
        hint = (f"; the sheet named '{source.sheet}' is sheet: '{source.sheet}', in quotes"
                if str(source.sheet) in titles else "")
        raise _fail(source, f"sheet {source.sheet}: the workbook has {len(sheets)} sheet(s), numbered from 0 "
                            f"({listed}){hint}")
    if source.sheet in titles:
        return sheets[titles.index(source.sheet)]
    raise _fail(source, f"no sheet named '{source.sheet}'{_suggest(source.sheet, titles)}; the workbook's sheets "
                        f"are {listed}")


@register("excel")
def extract_excel(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    """A sheet of an Excel workbook as text batches (see the module's rules); SourceError naming sheet and row."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(source.path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise _fail(source, f"not an Excel workbook that can be read (.xlsx, .xlsm): "
                            f"{' '.join(str(error).split())[:200] or type(error).__name__}") from None
    try:
        sheet = _worksheet(workbook, source)
        sheet.reset_dimensions()  # the dimension a program wrote may be wrong: read every cell there is
        header_row = source.header_row or 1
        where = f"sheet '{sheet.title}', "
        rows = sheet.iter_rows(min_row=header_row)
        header = [cell_text(cell.value, cell.number_format) for cell in next(rows, ())]
        while header and header[-1] is None:
            header.pop()
        if not header:
            raise _fail(source, f"{where}row {header_row}: no column names (the header row is empty; set "
                                f"header_row to the row holding them)")
        names = _column_names(header, source, where)
        width = len(names)
        columns: list[list[str | None]] = [[] for _ in names]
        count = 0
        for number, row in enumerate(rows, start=header_row + 1):
            values = [cell_text(cell.value, cell.number_format) for cell in row]
            if not any(value is not None for value in values):
                continue
            beyond = next((index for index in range(width, len(values)) if values[index] is not None), None)
            if beyond is not None:
                cell = f"{get_column_letter(beyond + 1)}{number}"
                raise _fail(source, f"{where}row {number}: cell {cell} holds {values[beyond][:40]!r} but its "
                                    f"column has no name in the header (row {header_row}): name the column, or "
                                    f"clear the cell")
            for index in range(width):
                columns[index].append(values[index] if index < len(values) else None)
            count += 1
            if count == source.batch_size:
                yield _text_batch(names, columns)
                columns, count = [[] for _ in names], 0
        if count:
            yield _text_batch(names, columns)
    finally:
        workbook.close()


# --- Darwin Core Archive -------------------------------------------------------------------------------------------

def term_name(iri: str) -> str:
    """A term's simple name: the last part of its IRI (``http://rs.tdwg.org/dwc/terms/scientificName`` ->
    ``scientificName``; ``http://www.w3.org/2003/01/geo/wgs84_pos#lat`` -> ``lat``)."""
    return re.split(r"[/#]", iri.rstrip("/#"))[-1] or iri


def _term_columns(terms: list[str]) -> list[str]:
    """Column names of an archive file's terms: simple names, the full IRI where two simple names clash."""
    counts: dict[str, int] = {}
    for iri in terms:
        counts[term_name(iri)] = counts.get(term_name(iri), 0) + 1
    return [term_name(iri) if counts[term_name(iri)] == 1 else iri for iri in terms]


def _fold(label: str) -> str:
    return label.replace("_", "").replace("-", "").casefold()


def _archive_file(reader, source: SourceConfig):
    """The data file `source.row_type` names (see the module's rules), or SourceError listing the archive's."""
    wanted = (source.row_type or "core").strip()
    if _fold(wanted) == "core":
        return reader.core_file
    files = [reader.core_file] + list(reader.extension_files)
    found = []
    for data_file in files:
        descriptor = data_file.file_descriptor
        labels = {descriptor.file_location, Path(descriptor.file_location).stem}
        if descriptor.type:
            labels |= {descriptor.type, term_name(descriptor.type)}
        if wanted in labels or _fold(wanted) in {_fold(label) for label in labels}:
            found.append(data_file)
    if len(found) == 1:
        return found[0]

    def named(data_file) -> str:
        descriptor = data_file.file_descriptor
        return f"{descriptor.type or 'no rowType'} ({descriptor.file_location})"

    if found:
        raise _fail(source, f"row_type '{wanted}' names {len(found)} files of the archive: "
                            f"{', '.join(named(f) for f in found)}; name one by its file name")
    extensions = ", ".join(named(f) for f in reader.extension_files) or "none"
    raise _fail(source, f"the archive has no file for row_type '{wanted}': its core is {named(reader.core_file)}, "
                        f"its extensions {extensions}")


@register("dwca")
def extract_dwca(source: SourceConfig) -> Iterator[pa.RecordBatch]:
    """The core or one extension of a Darwin Core Archive as text batches: ``id`` / ``coreid`` and one column per
    term (see the module's rules)."""
    import tarfile
    import zipfile
    from xml.etree.ElementTree import ParseError

    from dwca.exceptions import InvalidArchive, InvalidSimpleArchive
    from dwca.read import DwCAReader

    try:
        reader = DwCAReader(str(source.path), skip_metadata=True)
    except (InvalidArchive, InvalidSimpleArchive, zipfile.BadZipFile, tarfile.TarError, ParseError, OSError,
            ValueError, KeyError, TypeError, AttributeError) as error:
        raise _fail(source, f"not a Darwin Core Archive that can be read: "
                            f"{' '.join(str(error).split())[:200] or type(error).__name__}") from None
    with reader:
        data_file = _archive_file(reader, source)
        descriptor = data_file.file_descriptor
        key = ("id" if descriptor.represents_corefile and descriptor.id_index is not None else
               "coreid" if descriptor.represents_extension and descriptor.coreid_index is not None else None)
        terms = list(dict.fromkeys(field["term"] for field in descriptor.fields))
        names = ([key] if key else []) + _term_columns(terms)
        names = _column_names(names, source, f"{descriptor.file_location}: ")
        try:
            values = data_file.iter_terms(([key] if key else []) + terms)
            columns: list[list[str | None]] = [[] for _ in names]
            count = total = 0
            for row in values:
                for index, value in enumerate(row):
                    columns[index].append(value or None)
                count += 1
                total += 1
                if count == source.batch_size:
                    yield _text_batch(names, columns)
                    columns, count = [[] for _ in names], 0
            if count:
                yield _text_batch(names, columns)
        except InvalidArchive as error:
            raise _fail(source, f"{descriptor.file_location}: data row {total + 1} has fewer fields than meta.xml "
                                f"describes ({error})") from None
