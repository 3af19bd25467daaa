"""The dataset config: a YAML file a data manager keeps under version control, validated before any work starts.

Errors point at the file and line a person must fix (``config/sample.yaml:42: mapping.eventDate: ...``), and
``${ENV}`` / ``${ENV:-default}`` placeholders let secrets stay out of the file.
"""
from __future__ import annotations

import difflib
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (AfterValidator, BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, ValidationError,
                      ValidationInfo, field_validator, model_validator)
from pydantic_core import InitErrorDetails, PydanticCustomError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from sqlalchemy.engine import make_url

from mobilise.mappers.dates import DEFAULT_DATE_ORDER, DateOrder
from mobilise import config_errors
from mobilise.metadata import DatasetMetadata
from mobilise.terms import get_term, is_identifier_term, is_occurrence_term, term_iri

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")
Severity = Literal["error", "warning", "info"]
#: a term's source kinds, exactly one per term (TermSource)
SOURCE_KINDS = ("column", "constant", "template", "uuid5", "join", "date", "regex", "lookup", "authorship_of",
                "without_authorship", "child")
CHILD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a child's name: it names columns (collectors.agent_name)
JOIN_SEPARATOR = " | "  # Darwin Core's recommended separator of list values (recordedBy, associatedMedia, ...)


def _suggest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """' (did you mean 'x'?)' for the closest choice (case-insensitive), or ''."""
    folded = {choice.casefold(): choice for choice in choices}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    return f" (did you mean '{folded[close[0]]}'?)" if close else ""


# --- templates ---------------------------------------------------------------------------------------------------

TemplatePart = tuple  # ("text", "IG."), ("column", "code") or ("group", (parts...))


def parse_template(text: str) -> tuple[TemplatePart, ...]:
    """A template's parts, read left to right, or ValueError saying what is wrong and where.

    ``{name}`` is a source column; ``[...]`` is an optional group, left out whole (with its literal text) when a
    column in it is empty; ``[[``, ``]]``, ``{{`` and ``}}`` are a literal ``[``, ``]``, ``{`` and ``}`` (a JSON
    template: ``{{"where": "{locality}"}}``); anything else is literal text.
    ``"{code_prefix}[.{code}]"`` -> ``(("column", "code_prefix"), ("group", (("text", "."), ("column", "code"))))``.
    Groups do not nest, each names a column, and the template names at least one column.
    """
    top: list[TemplatePart] = []
    group: list[TemplatePart] | None = None
    literal, position = "", 0

    def flush() -> None:
        nonlocal literal
        if literal:
            (top if group is None else group).append(("text", literal))
            literal = ""

    while position < len(text):
        char = text[position]
        if text[position:position + 2] in ("[[", "]]", "{{", "}}"):
            literal += char
            position += 2
            continue
        if char == "{":
            end = text.find("}", position)
            name = text[position + 1:end].strip() if end > 0 else ""
            if not name or any(c in name for c in "{[]"):
                raise ValueError(f"'{{' at character {position + 1} opens no {{column}} (write {{column_name}})")
            flush()
            (top if group is None else group).append(("column", name))
            position = end + 1
            continue
        if char == "}":
            raise ValueError(f"'}}' at character {position + 1} closes no '{{'")
        if char == "[":
            if group is not None:
                raise ValueError(f"'[' at character {position + 1}: optional groups do not nest")
            flush()
            group = []
        elif char == "]":
            if group is None:
                raise ValueError(f"']' at character {position + 1} closes no '[' (a literal ']' is written ']]')")
            flush()
            if not any(kind == "column" for kind, _ in group):
                raise ValueError(f"the optional group ending at character {position + 1} names no {{column}}")
            top.append(("group", tuple(group)))
            group = None
        else:
            literal += char
        position += 1
    if group is not None:
        raise ValueError("an optional group '[' is not closed with ']' (a literal '[' is written '[[')")
    flush()
    if not template_columns(top):
        raise ValueError("names no {column} (for a fixed value use 'constant')")
    return tuple(top)


def template_columns(parts: tuple[TemplatePart, ...] | list[TemplatePart]) -> list[str]:
    """The columns a parsed template names, in order, each once."""
    names: list[str] = []
    for kind, value in parts:
        for name in ([value] if kind == "column" else [v for k, v in value if k == "column"] if kind == "group"
                     else []):
            if name not in names:
                names.append(name)
    return names


class ConfigError(ValueError):
    """A config problem, already phrased for the person who has to fix it."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartitionConfig(Strict):
    """Split the source into key ranges that are extracted, mapped and validated in parallel.

    Each range is the source query wrapped as ``SELECT * FROM (query) WHERE column >= low AND column < high``; the
    database pushes the range down to the key's index, so every (Dask) worker reads its own part of the table.
    """

    column: str = Field(description="integer column of the query's result that identifies a record, e.g. the "
                                    "primary key of the specimen table")
    keys: int = Field(100_000, gt=0, description="key values per partition: low <= key < low + keys")
    bounds_query: str | None = Field(None, description=(
        "SQL returning the smallest and largest key in one row, e.g. SELECT MIN(id), MAX(id) FROM specimen; "
        "without it they are read as MIN/MAX over the whole query, which costs one pass over the source"))

    @field_validator("column")
    @classmethod
    def _named_column(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name the integer key column of the query's result, e.g. column: object_id")
        return value


# What the Arrow-native engines read (extractors/arrow_native.py).
NATIVE_BACKENDS = {"adbc": ("sqlite", "postgresql"), "connectorx": ("sqlite", "postgresql", "mysql", "mariadb")}


# File sources (extractors/files.py): the formats, and the suffixes each is inferred from.
FILE_FORMATS = ("csv", "tsv", "excel", "dwca")
FILE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "tsv", ".xlsx": "excel", ".xlsm": "excel",
                 ".zip": "dwca"}
# Which file formats take which keys (the others are refused, naming the format).
FILE_FORMAT_KEYS = {"sheet": ("excel",), "delimiter": ("csv", "tsv"), "quote_char": ("csv", "tsv"),
                    "header_row": ("csv", "tsv", "excel"), "row_type": ("dwca",), "encoding": ("csv", "tsv")}


def infer_file_format(path: Path | str, declared: str | None = None) -> str:
    """The format of a file source: `declared`, else inferred from the file's suffix (:data:`FILE_SUFFIXES`);
    ValueError naming the suffixes when neither says."""
    if declared is not None:
        return declared
    suffix = Path(path).suffix.lower()
    if suffix in FILE_SUFFIXES:
        return FILE_SUFFIXES[suffix]
    if suffix == ".xls":
        raise ValueError(f"{Path(path).name}: the old binary Excel format (.xls) is not read; save the workbook as "
                         f".xlsx (Excel: File > Save As > Excel Workbook)")
    raise ValueError(f"cannot tell the format of {Path(path).name} from its suffix "
                     f"({', '.join(FILE_SUFFIXES)}): add format: {' | '.join(FILE_FORMATS)}")


def _one_character(value: str, key: str, empty_allowed: bool = False) -> str:
    """A delimiter or quote character: one character; ``\\t`` (as written in single quotes) and ``tab`` are a
    tab."""
    if value in ("\\t", "tab", "TAB"):
        return "\t"
    if len(value) == 1 or (empty_allowed and value == ""):
        return value
    raise ValueError(f"{key} must be one character (e.g. ';', '|' or '\\t' for a tab), not {value!r}"
                     + (" (or '' for none)" if empty_allowed else ""))


class SourceConfig(Strict):
    """Where the records come from: a database (``url`` with ``query`` or ``table``) or a file (``path``: CSV,
    TSV, an Excel workbook's sheet, or a Darwin Core Archive's core or extension; see extractors/files.py)."""

    url: str | None = Field(None, description="SQLAlchemy URL of the collection database; use ${ENV} for passwords")
    format: Literal["csv", "tsv", "excel", "dwca"] | None = Field(None, description=(
        "file sources: the file's format; by default inferred from its suffix (.csv; .tsv, .tab, .txt: tsv; "
        ".xlsx, .xlsm: excel; .zip: dwca)"))
    path: Path | None = Field(None, description=(
        "a file to read instead of a database: CSV, TSV, an Excel workbook (.xlsx) or a Darwin Core Archive (.zip);"
        " relative to the config file"))
    query: str | None = Field(None, description="SQL returning one row per record")
    table: str | None = Field(None, description="a table or view, when no query is given")
    batch_size: int = Field(50_000, gt=0, le=1_000_000)
    engine: Literal["sqlalchemy", "adbc", "connectorx"] = Field("sqlalchemy", description=(
        "how rows are read: sqlalchemy (any database, any column typing), or Arrow-native record batches "
        "straight from the driver: adbc (SQLite, PostgreSQL) or connectorx (PostgreSQL, MySQL/MariaDB, SQLite); "
        "the native engines need strictly typed columns (see extractors/arrow_native.py)"))
    partition: PartitionConfig | None = Field(None, description=(
        "read the source in key ranges, in parallel (see extractors/partitions.py); without it one reader "
        "streams the whole query"))
    date_order: DateOrder = Field(DEFAULT_DATE_ORDER, description=(
        "how the source writes dates that are not ISO 8601 (03/04/2020, 03.04.2020, 3-4-2020): day-first "
        "(3 April), month-first (4 March) or iso-only (such dates are flagged); a value the order cannot read "
        "(04/13/2020 under day-first) is flagged, never read another way (see mappers/dates.py)"))
    encoding: str | None = Field(None, description=(
        "Python codec name (e.g. cp1252, latin-1). Databases: how text and binary values that are not valid UTF-8 "
        "are read, as legacy databases hold them; without it such a value is kept with its undecodable bytes shown "
        "escaped (Li\\xe8ge) and its record flagged TEXT_ENCODING_INVALID (see extractors/base.py decode_text). "
        "CSV/TSV files: the file's encoding (default utf-8, a byte-order mark skipped; utf-8-sig, cp1252, "
        "latin-1, utf-16...); a byte it cannot decode stops the run naming the line"))
    connect_timeout: float = Field(30, gt=0, le=3600, description=(
        "seconds to wait for the database server to accept a connection (PostgreSQL and MySQL/MariaDB "
        "connect_timeout; SQLite: how long to wait for a locked database file)"))
    statement_timeout: float | None = Field(None, gt=0, description=(
        "seconds a query may run before the server cancels it (PostgreSQL statement_timeout, MariaDB "
        "max_statement_time, MySQL max_execution_time; the MySQL/MariaDB client gives up 10 s later); none: no "
        "limit"))
    retries: int = Field(3, ge=0, le=20, description=(
        "how often a read that failed for a passing reason (connection refused or reset, a terminated backend, a "
        "timeout) is started again, with exponential backoff; a partition is read again from its start"))
    retry_wait: float = Field(1, ge=0, le=600, description=(
        "seconds before the first retry; each further retry waits twice as long (at most 60 s)"))
    modified_column: str | None = Field(None, description=(
        "the column that says when a record last changed (the watermark): an incremental run (`mobilise run "
        "--incremental`) reads only the records whose value is at or after the last publication's largest one, a "
        "backfill (`mobilise backfill --since --until`) those in its window (see extractors/base.py Window, "
        "flows/incremental.py); none: neither"))
    sheet: str | int | None = Field(None, description=(
        "Excel: the sheet to read, by name or by 0-based position in the workbook (hidden sheets count); default "
        "the first"))
    delimiter: str | None = Field(None, description="CSV/TSV: the field delimiter (default ',' for csv, tab for tsv)")
    quote_char: str | None = Field(None, description=(
        "CSV/TSV: the character quoting a field that holds delimiters, quotes or line breaks (default '\"'; a quote "
        "inside is doubled); '' for none"))
    header_row: int | None = Field(None, ge=1, description=(
        "CSV/TSV: the line of the file holding the column names; Excel: the sheet's row holding them (1-based, "
        "default 1); what comes before it is skipped"))
    row_type: str | None = Field(None, description=(
        "Darwin Core Archive: which of its files to read: core (the default), or an extension by its rowType IRI "
        "(http://rs.gbif.org/terms/1.0/Multimedia), the last part of it (Multimedia) or its file name in meta.xml "
        "(multimedia.txt)"))
    key: str | list[str] | None = Field(None, description=(
        "the core record's key column(s) in the source, which child tables (children.<name>.key) and extension "
        "rows (extensions.<name>.core_key) refer to, and what an incremental run merges on; default: the columns "
        "the core id (occurrenceID, eventID) is made from"))
    _window: Any = PrivateAttr(None)  # a run's Window over modified_column (extractors/base.py windowed)

    @property
    def record_key(self) -> list[str]:
        """The key an incremental run or a backfill replaces records by and a deletion scan reads
        (flows/incremental.py): ``key``, else ``partition.column``; [] when the config names neither. The query
        must return the records in its order (ORDER BY it)."""
        if self.key is not None:
            return key_columns(self.key)
        return [self.partition.column] if self.partition is not None else []

    @model_validator(mode="after")
    def _one_of_query_or_table(self) -> "SourceConfig":
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of 'url' (a database) or 'path' (a CSV, TSV, Excel or Darwin Core "
                             "Archive file)")
        if self.path is not None:
            infer_file_format(self.path, self.format)  # raises when the suffix says nothing
            return self
        if self.format is not None:
            raise ValueError("'format' applies to file sources (path: ...), not to databases")
        if bool(self.query) == bool(self.table):
            raise ValueError("give exactly one of 'query' or 'table'")
        return self

    @field_validator("key")
    @classmethod
    def _named_key(cls, value: str | list[str] | None) -> str | list[str] | None:
        return _column_list(value, "key: specimen_id or key: [collection, number]")

    @field_validator("path")
    @classmethod
    def _named_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None:
            if not str(value).strip():
                raise ValueError("name the file, e.g. path: data/specimens.csv")
            infer_file_format(value, info.data.get("format"))  # a suffix that says no format, or .xls: say so here
        return value

    @field_validator("query", "table", "partition", "engine", "modified_column")
    @classmethod
    def _database_only(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("path") is None:
            return value
        if info.field_name == "engine" and value == "sqlalchemy":
            return value
        reasons = {
            "query": "a file is read whole, with no SQL to run (remove 'query')",
            "table": "a file is read whole (remove 'table'; for a workbook's sheet write sheet: NAME)",
            "partition": "partitions are key ranges of a database query, and a file is read by one reader",
            "engine": "the engines read databases; files have their own readers (remove 'engine')",
            "modified_column": "a backfill window filters a database query; a file is read whole",
        }
        raise ValueError(f"'{info.field_name}' applies to database sources (url: ...), not to files; "
                         f"{reasons[info.field_name]}")

    @field_validator("sheet", "delimiter", "quote_char", "header_row", "row_type", "encoding", mode="after")
    @classmethod
    def _key_of_the_format(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return value
        allowed = FILE_FORMAT_KEYS[info.field_name]
        path = info.data.get("path")
        if path is None:
            if info.field_name == "encoding":
                return value
            raise ValueError(f"'{info.field_name}' applies to {' and '.join(allowed)} file sources (path: ...)")
        try:
            kind = infer_file_format(path, info.data.get("format"))
        except ValueError:
            return value  # the model validator says what is wrong with the path
        if kind not in allowed:
            why = (" (a Darwin Core Archive says its own encoding in meta.xml)" if info.field_name == "encoding"
                   else "")
            raise ValueError(f"'{info.field_name}' applies to {' and '.join(allowed)} files, and this source is "
                             f"{kind}{why}")
        if info.field_name in ("delimiter", "quote_char"):
            return _one_character(value, info.field_name, empty_allowed=info.field_name == "quote_char")
        if info.field_name == "row_type" and not value.strip():
            raise ValueError("name the archive's core or an extension, e.g. row_type: core")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import codecs

        try:
            info = codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding '{value}' (a Python codec name such as cp1252, latin-1 or "
                             f"iso8859-15)") from None
        try:
            "".encode(info.name)
        except (LookupError, TypeError):
            raise ValueError(f"'{value}' is not a text encoding") from None
        return info.name

    @field_validator("url")
    @classmethod
    def _parseable_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            backend = make_url(value).get_backend_name()
        except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
            raise ValueError(f"not a SQLAlchemy database URL ({exc})") from None
        from mobilise.extractors import sql  # noqa: F401  (registers the SQL backends; it imports this module)
        from mobilise.extractors.base import BACKENDS

        databases = sorted(name for name in BACKENDS if name not in FILE_FORMATS)
        if backend not in databases:
            raise ValueError(f"no extractor reads '{backend}' sources{_suggest(backend, databases)}; "
                             f"available: {', '.join(databases)}")
        return value

    @field_validator("engine")
    @classmethod
    def _engine_reads_backend(cls, engine: str, info: ValidationInfo) -> str:
        if engine == "sqlalchemy" or info.data.get("url") is None:
            return engine
        url = make_url(info.data["url"])
        backend = url.get_backend_name()
        if backend not in NATIVE_BACKENDS[engine]:
            others = [other for other, backends in NATIVE_BACKENDS.items() if backend in backends]
            raise ValueError(f"engine {engine} reads {', '.join(NATIVE_BACKENDS[engine])} sources, not {backend} "
                             f"(use engine: {' or '.join(others + ['sqlalchemy'])})")
        if backend == "sqlite" and (not url.database or url.database == ":memory:"):
            raise ValueError(f"engine {engine} cannot read an in-memory SQLite database (use engine: sqlalchemy)")
        return engine

    @property
    def is_file(self) -> bool:
        """The source is a file (``path``), not a database."""
        return self.path is not None

    @property
    def file_format(self) -> str | None:
        """A file source's format: ``format`` as given, else inferred from the path's suffix (so a copy with another
        ``path``, ``model_copy(update={"path": ...})``, has its own); None for a database."""
        return infer_file_format(self.path, self.format) if self.path is not None else None

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for logs and reports; a file source's path."""
        if self.path is not None:
            return str(self.path)
        return make_url(self.url).render_as_string(hide_password=True)


class DateSource(Strict):
    """A date assembled from parts (mappers/dates.py): ``{year: y, month: m, day: d}`` (month and day optional, a
    partial date stays partial: 1998-04, 1998), ``{column: c, mask: m}``, a date or timestamp column and DaRWIN's
    precision mask column (32 year known, 48 year and month, 56 the full date, 60/62/63 with the hour, minute,
    second; 0 an unknown date, no value), or ``{column: c, precision: p}``, Specify's (1 the full date, 2 year and
    month, 3 year). Parts that are not a date, and masks outside these, are flagged with the
    term's date flag (RECORDED_DATE_INVALID for eventDate), the original kept; never guessed."""

    year: str | None = Field(None, description="column holding the year (four digits)")
    month: str | None = Field(None, description="column holding the month (1-12); with year")
    day: str | None = Field(None, description="column holding the day of the month; with year and month")
    column: str | None = Field(None, description="column holding a date or timestamp (YYYY-MM-DD[ hh:mm:ss])")
    mask: str | None = Field(None, description="column holding DaRWIN's precision mask of `column` (32, 48, 56...)")
    precision: str | None = Field(None, description=(
        "column holding Specify's precision of `column` (StartDatePrecision: 1 the full date, 2 the year and "
        "month, 3 the year)"))

    @model_validator(mode="after")
    def _parts_or_masked_column(self) -> "DateSource":
        if self.column is not None or self.mask is not None or self.precision is not None:
            if self.column is None or (self.mask is None) == (self.precision is None) \
                    or any((self.year, self.month, self.day)):
                raise ValueError("give either {year, month, day} columns, a {column, mask} pair (DaRWIN: column: "
                                 "gtu_from_date, mask: gtu_from_date_mask) or a {column, precision} pair "
                                 "(Specify: column: StartDate, precision: StartDatePrecision)")
        elif self.year is None:
            raise ValueError("name the year column (month and day are optional): {year: y, month: m, day: d}")
        elif self.day is not None and self.month is None:
            raise ValueError("a day column needs a month column: {year: y, month: m, day: d}")
        return self

    @property
    def columns(self) -> list[str]:
        return [c for c in (self.year, self.month, self.day, self.column, self.mask, self.precision)
                if c is not None]


class RegexSource(Strict):
    """A value extracted from a column with a Python regular expression (``re.search``): the first capture group
    when the pattern has one, else the whole match; a value that does not match is flagged REGEX_NO_MATCH."""

    column: str
    pattern: str = Field(description="Python regular expression, e.g. 'BR(\\d+)'; searched, not anchored")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @property
    def compiled(self) -> re.Pattern:
        return re.compile(self.pattern)


class LookupSource(Strict):
    """A value looked up in a CSV table kept beside the config: the row whose `key` column equals the source
    column's value (exactly, after trimming) gives its `value` column; a value not in the table is flagged
    LOOKUP_NO_MATCH and counted in the run report. The table is read once per run."""

    column: str
    table: Path = Field(description="CSV file (UTF-8, a header row), relative to the config file")
    key: str = Field(description="the table's column holding the source values")
    value: str = Field(description="the table's column holding what to publish")


class TermSource(Strict):
    """Where one Darwin Core term's value comes from: a column, a constant, a template over columns or a join.

    Templates: ``{column}`` is a column's value, ``[...]`` an optional group (left out, literal text and all, when
    a column in it is empty). For an identifier term (its name ends in ``ID``: occurrenceID, institutionID...)
    and for ``uuid5``, a column outside a group that is empty leaves the value empty, so a missing key shows; for
    any other term, empty columns are left out (``{prefix}{separator}{code}{suffix}`` with no suffix gives
    ``IG.1``). A template that yields nothing is flagged TEMPLATE_EMPTY.
    """

    column: str | list[str] | None = Field(None, description="source column; a list means first non-empty")
    constant: str | None = None
    template: str | None = Field(None, description="e.g. 'https://data.example.org/specimen/{guid}'; "
                                                   "'{prefix}[-{number}]' leaves '-{number}' out when empty")
    uuid5: str | None = Field(None, description="template whose text is hashed to a name-based UUID (urn:uuid:)")
    join: list[str] | None = Field(None, description="columns whose non-empty values are joined with 'separator'")
    child: str | None = Field(None, description=(
        "a child table's name (children: ...): the term is its `column`'s non-empty values for the record, in "
        "the child's order_by, joined with `separator` (mappers/children.py)"))
    separator: str | None = Field(None, description=f"join and child: text between the values (default "
                                                    f"'{JOIN_SEPARATOR}')")
    end: str | DateSource | None = Field(None, description=(
        "eventDate only: column holding the end of the interval, or with `date` the end's parts ({year, month, "
        "day} or {column, mask})"))
    vocabulary: str | None = Field(None, description="translation table name (default: the term's own)")
    date: DateSource | None = Field(None, description="a date assembled from year/month/day columns or from a "
                                                      "date and DaRWIN's precision mask (mappers/dates.py)")
    regex: RegexSource | None = Field(None, description="a value extracted from a column with a regular expression")
    lookup: LookupSource | None = Field(None, description="a value looked up in a CSV table beside the config")
    authorship_of: str | None = Field(None, description="column holding a scientific name: its authorship "
                                                        "(Carabus auratus Linnaeus, 1758 -> Linnaeus, 1758)")
    without_authorship: str | None = Field(None, description="column holding a scientific name: the name without "
                                                             "its authorship (-> Carabus auratus)")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> "TermSource":
        given = [k for k in SOURCE_KINDS if getattr(self, k) is not None]
        if self.child is not None:  # {child: collectors, column: agent_name}: the column is the child's
            if not isinstance(self.column, str):
                raise ValueError("a child source names one column of the child table: {child: "
                                 f"{self.child}, column: agent_name}}")
            given.remove("column")
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(repr(k) for k in SOURCE_KINDS[:-1])} or "
                             f"'{SOURCE_KINDS[-1]}'" + (f" (got {', '.join(given)})" if given else ""))
        return self

    @field_validator("column")
    @classmethod
    def _named_columns(cls, value: str | list[str] | None) -> str | list[str] | None:
        names = [value] if isinstance(value, str) else value or []
        if value is not None and (not names or not all(name.strip() for name in names)):
            raise ValueError("name a column (or a list of columns, the first non-empty wins)")
        return value

    @field_validator("join")
    @classmethod
    def _joined_columns(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(name.strip() for name in value)):
            raise ValueError("join needs a list of columns, e.g. join: [collector_1, collector_2]")
        return value

    @field_validator("template", "uuid5")
    @classmethod
    def _parseable_template(cls, value: str | None) -> str | None:
        if value is not None:
            parse_template(value)
        return value

    @field_validator("separator")
    @classmethod
    def _separator_of_join(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("join") is None and info.data.get("child") is None:
            raise ValueError("'separator' applies to join and child only (join: [column_a, column_b], separator: "
                             "' | ')")
        return value

    @field_validator("vocabulary")
    @classmethod
    def _known_vocabulary(cls, value: str | None) -> str | None:
        return None if value is None else _vocabulary_name(value)

    @field_validator("child")
    @classmethod
    def _child_name(cls, value: str | None) -> str | None:
        if value is not None and not CHILD_NAME.match(value):
            raise ValueError(f"'{value}' is no child name: letters, digits and _ (the name under children:)")
        return value

    @property
    def child_column(self) -> str | None:
        """The column a child source reads in the core batch once its child is joined
        (``collectors.agent_name``: mappers/children.py); None for other sources."""
        return f"{self.child}.{self.column}" if self.child is not None else None

    @property
    def parts(self) -> tuple[TemplatePart, ...]:
        """The parsed template (or uuid5 template); () for other sources."""
        text = self.template if self.template is not None else self.uuid5
        return parse_template(text) if text is not None else ()

    @property
    def columns(self) -> list[str]:
        """Source columns this term reads (a child source: the joined column, ``collectors.agent_name``)."""
        if self.child is not None:
            names = [self.child_column]
        elif self.column is not None:
            names = [self.column] if isinstance(self.column, str) else list(self.column)
        elif self.join is not None:
            names = list(self.join)
        elif self.date is not None:
            names = self.date.columns
        elif self.regex is not None or self.lookup is not None:
            names = [(self.regex or self.lookup).column]
        elif self.authorship_of is not None or self.without_authorship is not None:
            names = [self.authorship_of or self.without_authorship]
        else:
            names = template_columns(self.parts)
        return names + (self.end.columns if isinstance(self.end, DateSource) else [self.end] if self.end else [])


class CoordinatesConfig(Strict):
    """Coordinates in another reference system, converted to WGS84 decimal degrees (mappers/coordinates.py).

    ``x`` is the easting (or longitude), ``y`` the northing (or latitude): metres in a projected system (UTM,
    Belgian Lambert 72...), decimal degrees or degrees-minutes-seconds in a geographic one. The system is ``crs``
    for every record (an EPSG code, ``EPSG:31370``, or any name PROJ knows) or ``crs_column``, a column naming it
    per record (``EPSG:32631``, ``31370``). Fills decimalLatitude, decimalLongitude, geodeticDatum (EPSG:4326),
    verbatimCoordinates, verbatimCoordinateSystem and verbatimSRS; a point that cannot be transformed or lies
    outside the system's area of use is flagged and not published, never moved.
    """

    x: str = Field(description="column holding the easting (metres) or longitude")
    y: str = Field(description="column holding the northing (metres) or latitude")
    crs: str | None = Field(None, description="the reference system of every record: EPSG:31370, EPSG:32631, ...")
    crs_column: str | None = Field(None, description="column naming each record's reference system")

    @model_validator(mode="after")
    def _one_crs(self) -> "CoordinatesConfig":
        if (self.crs is None) == (self.crs_column is None):
            raise ValueError("give exactly one of 'crs' (e.g. crs: EPSG:31370) or 'crs_column'")
        return self

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str | None) -> str | None:
        if value is not None:
            from mobilise.mappers.coordinates import reference_system

            try:
                reference_system(value)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def columns(self) -> list[str]:
        return [self.x, self.y] + ([self.crs_column] if self.crs_column else [])


class DwcDpConfig(Strict):
    """``output.dwc_dp``: publish a Darwin Core Data Package (``dwc-dp-<version>.zip``) beside each archive version,
    derived from the same published rows (:func:`mobilise.publishers.dwcdp.write_dataset_package`). ``true`` /
    ``false`` are short for ``{enabled: true}`` / ``{enabled: false}``."""

    enabled: bool = Field(False, description="write the package; a package that fails validation stops the version "
                                             "(nothing is published, the last good version stays current)")
    schema_version: str | None = Field(None, description="the shipped DwC-DP schema set to write with "
                                                         "(mobilise/data/dwc-dp/<version>/; default: the newest)")

    @model_validator(mode="before")
    @classmethod
    def _switch(cls, value):
        return {"enabled": value} if isinstance(value, bool) else value

    @field_validator("schema_version", mode="before")
    @classmethod
    def _shipped(cls, value) -> str | None:
        """A shipped version; a bare 0.1 in YAML (a number) is read as the text it is written as."""
        if value is None:
            return None
        from mobilise.dwcdp import versions

        value = str(value)
        if value not in versions():
            raise ValueError(f"no DwC-DP schema set {value!r} ships with Mobilise; shipped: {', '.join(versions())}")
        return value


class OutputConfig(Strict):
    directory: Path = Field(Path("output"), description="publications go to DIRECTORY/<shortname>/")
    work_directory: Path | None = Field(None, description="staging area for batches (default DIRECTORY/.work)")
    keep_versions: int = Field(0, ge=0, description="how many old archive versions to keep (0 = all)")
    base_url: str | None = Field(None, description="the public http(s) URL at which DIRECTORY is served: links in "
                                 "rss.xml, dcat.ttl and inventory.json are absolute under it; none: relative to "
                                 "DIRECTORY (what a harvester cannot follow: set it before registering)")
    dwc_dp: DwcDpConfig = Field(default_factory=DwcDpConfig, description="also publish each version as a Darwin "
                                "Core Data Package (true/false, or enabled and schema_version)")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        """An absolute http(s) URL without query or fragment, ending in '/' (so file names append to it)."""
        if value is None:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"base_url {value!r} is not an http(s) URL such as https://data.example.org/dwca/")
        return value.strip().rstrip("/") + "/"


class ExecutionConfig(Strict):
    """Where the per-batch map and validate tasks run.

    ``auto`` (the default) picks ``threads`` for a source estimated below ``auto_dask_records`` records and
    ``dask`` otherwise (mobilise/runners.py: the estimate and why); ``dask`` starts a local Dask cluster with one
    worker process per core, or joins the cluster at ``dask_address`` (then the output and work folders must be
    on a filesystem the workers share); ``threads`` runs them in threads of the flow's own process, which is
    quicker to start for small datasets.
    """

    runner: Literal["auto", "dask", "threads"] = "auto"
    auto_dask_records: int = Field(200_000, gt=0, description=(
        "runner: auto uses Dask from this many (estimated) records on; below, threads (a local cluster's 4-6 s "
        "start is not paid back)"))
    dask_address: str | None = Field(None, description="scheduler address, e.g. tcp://10.0.0.5:8786")
    workers: int | None = Field(None, gt=0, description="local workers (default: one per core)")
    lock_wait_seconds: float = Field(0, ge=0, description="how long a run waits for another run of the same dataset "
                                     "to end (0: fail at once, naming the run that holds the dataset lock)")

    @field_validator("dask_address")
    @classmethod
    def _address_of_dask(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("runner") == "threads":
            raise ValueError("a Dask scheduler address needs runner: dask (runner: threads runs in this process)")
        return value

    @field_validator("workers")
    @classmethod
    def _local_workers(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("dask_address"):
            raise ValueError("workers sets the size of a local cluster; the cluster at dask_address has its own")
        return value


class ScheduleConfig(Strict):
    """When `mobilise serve` runs the dataset: one Prefect schedule of its deployment ``publish_dataset/<shortname>``.

    Exactly one of ``cron`` (a five-field cron expression, validated as Prefect validates it: ``"0 2 * * *"`` is
    02:00 every day) or ``interval`` (seconds, ``86400``, or an ISO 8601 duration, ``P1D``, ``PT6H``), read in
    ``timezone`` (an IANA name such as ``Europe/Brussels``, default UTC: a cron schedule follows its daylight saving
    time). ``parameters`` are the scheduled runs' parameters of the flow ``publish_dataset`` (``dry_run``,
    ``force``, ...: flows/publish.py) other than ``config_path``; runs started by hand take their own.
    """

    cron: str | None = Field(None, description="cron expression, e.g. '0 2 * * *' (02:00 every day)")
    interval: timedelta | None = Field(None, gt=timedelta(0), description=(
        "time between runs: seconds (86400) or an ISO 8601 duration (P1D, PT6H)"))
    timezone: str = Field("UTC", description="IANA time zone the schedule is read in, e.g. Europe/Brussels")
    parameters: dict[str, Any] = Field(default_factory=dict, description=(
        "parameters of the scheduled runs (publish_dataset's, e.g. dry_run: true), config_path excepted"))

    @field_validator("cron")
    @classmethod
    def _cron_expression(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from prefect.client.schemas.schedules import CronSchedule  # Prefect's own check of what it will schedule

        try:
            CronSchedule(cron=value)
        except ValidationError as exc:
            reason = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            raise ValueError(f"{reason} (five fields: minute hour day-of-month month day-of-week, e.g. "
                             f"'0 2 * * *' for 02:00 every day)") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        from zoneinfo import available_timezones

        zones = available_timezones()
        if value not in zones:
            raise ValueError(f"unknown time zone '{value}'{_suggest(value, sorted(zones))} (an IANA name such as "
                             f"Europe/Brussels or UTC)")
        return value

    @field_validator("parameters")
    @classmethod
    def _flow_parameters(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            return value
        import typing

        from pydantic import TypeAdapter

        from mobilise.flows.publish import publish_dataset  # imported here: the flow imports this module

        try:
            types = typing.get_type_hints(publish_dataset.fn)
        except Exception:  # an annotation that does not resolve at run time: Prefect checks the value when it runs
            types = {}
        known = [name for name in publish_dataset.parameters.properties if name != "config_path"]
        checked = {}
        for name, given in value.items():
            if name == "config_path":
                raise ValueError("config_path is not a schedule's: every run of the deployment reads this config")
            if name not in known:
                raise ValueError(f"publish_dataset has no parameter '{name}'{_suggest(name, known)}; its "
                                 f"parameters are {', '.join(known)}")
            try:
                checked[name] = TypeAdapter(types.get(name, Any)).validate_python(given)
            except ValidationError as exc:
                raise ValueError(f"{name}: {exc.errors(include_url=False)[0]['msg']} (got {given!r})") from None
        return checked

    @model_validator(mode="after")
    def _cron_or_interval(self) -> "ScheduleConfig":
        if (self.cron is None) == (self.interval is None):
            raise ValueError("give exactly one of 'cron' (e.g. '0 2 * * *') or 'interval' (seconds, or P1D)")
        return self


def _vocabulary_name(name: str) -> str:
    from mobilise.mappers.vocabularies import available

    if name not in available():
        raise ValueError(f"unknown vocabulary '{name}'{_suggest(name, available())}; "
                         f"the vocabularies are {', '.join(available())}")
    return name


def _flag_name(name: str) -> str:
    from mobilise.flags import FLAGS  # imported here: flags imports the validators, which import this module

    if name not in FLAGS:
        raise ValueError(f"unknown flag '{name}'{_suggest(name, list(FLAGS))} (mobilise/flags.py lists them)")
    return name


def _bdq_test(name: str):
    import mobilise.validators.bdq  # noqa: F401  (registers the tests)
    from mobilise.validators.bdq.core import REGISTRY

    by_label = {test.label: test for test in REGISTRY.values()}
    test = REGISTRY.get(name) or by_label.get(name)
    if test is None:
        raise ValueError(f"no BDQ test with label or GUID '{name}'{_suggest(name, list(by_label))}")
    return test


def _bdq_test_name(name: str) -> str:
    _bdq_test(name)
    return name


def _bdq_amendment_name(name: str) -> str:
    test = _bdq_test(name)
    if test.kind != "Amendment":
        raise ValueError(f"{test.label} is a {test.kind}, not an amendment: only amendments can be accepted")
    return name


VocabularyName = Annotated[str, AfterValidator(_vocabulary_name)]
FlagName = Annotated[str, AfterValidator(_flag_name)]
BdqTestName = Annotated[str, AfterValidator(_bdq_test_name)]
BdqAmendmentName = Annotated[str, AfterValidator(_bdq_amendment_name)]


class BdqConfig(Strict):
    """The TDWG BDQ core tests run on every record; amendments are only proposed unless accepted here."""

    enabled: bool = True
    tests: list[BdqTestName] | None = Field(None, description="labels or GUIDs to run (default: all)")
    parameters: dict[BdqTestName, dict[str, str]] = Field(default_factory=dict,
                                                          description="test label/GUID -> {bdqval:name: value}")
    amendments: list[BdqAmendmentName] = Field(
        default_factory=list, description="amendments (labels or GUIDs) applied to the published records")
    offline: bool = Field(True, description="never call remote authorities (GBIF backbone, Getty TGN, WoRMS)")


class ValidationConfig(Strict):
    severity: dict[FlagName, Severity] = Field(default_factory=dict, description="override a flag's severity")
    earliest_year: int = Field(1600, description="event dates before this year are flagged unlikely")
    discipline: Literal["biology", "geology", "palaeontology"] = Field(
        "biology", description="which MIDS mapping sets the records' MIDS levels")
    dissco: Literal["fail", "warn", "ignore"] = Field(
        "warn", description="records DiSSCo would drop: keep them out (fail), report them (warn) or not (ignore)")
    bdq: BdqConfig = Field(default_factory=BdqConfig)


class GatesConfig(Strict):
    """Conditions under which a run publishes nothing at all (the last good version stays current)."""

    max_rejected_share: float | None = Field(0.5, ge=0, le=1,
                                             description="fail when more than this share of records is rejected")
    max_drop_share: float | None = Field(0.2, ge=0, le=1, description=(
        "fail when the published record count falls by more than this share from the last version"))
    max_removed_ids_share: float | None = Field(0.3, ge=0, le=1, description=(
        "fail when more than this share of the last version's occurrenceIDs are gone (the guard before GBIF's: GBIF "
        "pauses ingestion when more than half of a dataset's occurrenceIDs differ from the version it has, "
        "https://data-blog.gbif.org/post/improve-identifier-stability/); `mobilise run --accept-id-changes` "
        "accepts it for one run"))
    allow_empty: bool = Field(False, description=(
        "publish a version with no record when every record is rejected or excluded by rule (off: such a run "
        "publishes nothing and names the rules and the quarantine)"))


def key_columns(value: str | list[str] | None) -> list[str]:
    """Columns given as one name or a list of them (a key, an order), as a list; [] for none."""
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _extension_name(name: str) -> str:
    from mobilise.extensions import EXTENSIONS, extension

    if name not in EXTENSIONS:
        extension(name)  # ValueError naming the known ones (with a did-you-mean)
        raise ValueError(f"name the extension as Mobilise does: one of {', '.join(EXTENSIONS)}")  # its rowType
    return name


ExtensionName = Annotated[str, AfterValidator(_extension_name)]


def column_shorthand(mapping: Any) -> Any:
    """A mapping with its shorthands written out: `catalogNumber: catalog_number` is short for
    `catalogNumber: {column: catalog_number}` (and a list for `{column: [a, b]}`, the first non-empty)."""
    if isinstance(mapping, dict):
        return {k: ({"column": v} if isinstance(v, (str, list)) else v) for k, v in mapping.items()}
    return mapping


class RelatedTable(Strict):
    """Rows related to the core records, read from a ``query`` or ``table`` of the dataset's database or from a
    ``source`` of their own (a CSV file, another database): exactly one of the three. The base of an extension
    (:class:`ExtensionConfig`) and a child table (:class:`ChildConfig`)."""

    query: str | None = Field(None, description="SQL on the dataset's database returning the rows")
    table: str | None = Field(None, description="a table or view of the dataset's database")
    source: SourceConfig | None = Field(None, description="a source of its own (a CSV file, another database)")

    @model_validator(mode="after")
    def _one_source(self) -> "RelatedTable":
        given = [k for k in ("query", "table", "source") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'query', 'table' (in the core source's database) or 'source'"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self

    def source_of(self, dataset: SourceConfig) -> SourceConfig:
        """The SourceConfig the rows are read from: ``source``, or the dataset's database with ``query``/``table``
        (its connection settings, read whole: without partitions, window column or key)."""
        if self.source is not None:
            return self.source
        return dataset.model_copy(update={"query": self.query, "table": self.table, "partition": None,
                                          "modified_column": None, "key": None})


class ExtensionConfig(RelatedTable):
    """One extension of the archive (``extensions.<name>``, a name of mobilise.extensions.EXTENSIONS): its rows come
    from a query or table of the dataset's database, or from a source of their own (a file, another database);
    ``core_key`` names the column(s) holding the key of the core record each row belongs to (matched with
    ``source.key``); ``mapping`` maps the extension's terms (names as in its GBIF definition, e.g. ``identifier``,
    ``dcterms:format``) to columns, as the core mapping does."""

    core_key: str | list[str] = Field(description=(
        "the column(s) holding the core record's key (the values of source.key, in the same order)"))
    mapping: dict[str, TermSource] = Field(description="extension term -> column or TermSource")

    @field_validator("core_key")
    @classmethod
    def _named_key(cls, value: str | list[str]) -> str | list[str]:
        return _column_list(value, "core_key: specimen_id or core_key: [collection, number]")

    @field_validator("mapping", mode="before")
    @classmethod
    def _shorthand_columns(cls, value: Any) -> Any:
        return column_shorthand(value)


def _occurrence_term(name: str) -> str:
    if not is_occurrence_term(name):
        try:
            term_iri(name)
        except KeyError as exc:  # unknown term: the message carries close matches
            raise ValueError(str(exc.args[0])) from None
        raise ValueError(f"'{name}' is a Darwin Core term but not one of GBIF's Occurrence core")
    local_name = get_term(name).local_name
    if name != local_name:  # the archive's columns, the interpreters and the checks go by the bare name
        raise ValueError(f"write the term's bare name '{local_name}'")
    return name


OccurrenceTerm = Annotated[str, AfterValidator(_occurrence_term)]


def _column_list(value: str | list[str] | None, example: str) -> str | list[str] | None:
    names = [value] if isinstance(value, str) else value
    if value is not None and (not names or not all(isinstance(n, str) and n.strip() for n in names)):
        raise ValueError(f"name a column or a list of columns, e.g. {example}")
    return value


class ChildConfig(RelatedTable):
    """A child table: many rows per core record (collectors, identifications, media), read once per run and joined
    to each core batch by mappers/children.py, so that a core term can be its values joined with a separator
    (``recordedBy: {child: collectors, column: agent_name}``) without dialect-specific SQL (group_concat,
    string_agg). ``query`` or ``table`` are read from the core source's database; ``source`` is any other source
    (a CSV file, another database)."""

    key: str | list[str] = Field(description=(
        "the child's column(s) holding the core record's key (source.key), in the same order"))
    order_by: str | list[str] | None = Field(None, description=(
        "the column(s) giving the values' order (e.g. a collector's position): numbers in numeric order, other "
        "text in text order; without it (and between equal positions) the child's source order"))

    @field_validator("key", "order_by")
    @classmethod
    def _named_columns(cls, value: str | list[str] | None) -> str | list[str] | None:
        return _column_list(value, "key: specimen_id or order_by: [position]")

    @property
    def key_columns(self) -> list[str]:
        return key_columns(self.key)

    @property
    def order_columns(self) -> list[str]:
        return key_columns(self.order_by)


# --- record rules: filters and sensitive data (mappers/rules.py applies them) ---------------------------------------

#: a condition's operators, exactly one per condition (RecordCondition)
CONDITION_OPERATORS = ("equals", "not_equals", "in", "not_in", "empty", "matches", "greater_than", "at_least",
                       "less_than", "at_most")
Scalar = str | int | float | bool


class RecordCondition(Strict):
    """One test of a source column's value, ``{column, <operator>: value, reason: label}``, exactly one operator.

    Values are compared as the source column's trimmed text (an empty string is no value): ``equals``,
    ``not_equals``, ``in`` and ``not_in`` compare text exactly (``equals: 1`` is the text '1'); ``empty: true``
    holds for no value, ``empty: false`` for any value; ``matches`` is a Python regular expression searched in
    the value (anchor it with ^...$ for the whole value); ``greater_than``, ``at_least``, ``less_than`` and
    ``at_most`` compare the value read as a decimal number. A record with no value (or, for the number
    operators, a value that is no number) fails every operator but ``not_equals``, ``not_in`` and ``empty:
    true``. ``reason`` labels the rule in the excluded file and the report (default: the rule written out).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    column: str = Field(description="source column tested")
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    in_: list[Scalar] | None = Field(None, alias="in")
    not_in: list[Scalar] | None = None
    empty: bool | None = None
    matches: str | None = Field(None, description="Python regular expression, searched (not anchored)")
    greater_than: float | None = None
    at_least: float | None = None
    less_than: float | None = None
    at_most: float | None = None
    reason: str | None = Field(None, description="label of the rule in the excluded file and the report")

    @model_validator(mode="after")
    def _one_operator(self) -> "RecordCondition":
        given = [name for name in CONDITION_OPERATORS if self.operand(name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(CONDITION_OPERATORS)} (got "
                             f"{', '.join(given) or 'none'})")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"matches: not a regular expression: {exc}") from None
        return self

    def operand(self, operator: str) -> Any:
        return self.in_ if operator == "in" else getattr(self, operator)

    @property
    def operator(self) -> str:
        return next(name for name in CONDITION_OPERATORS if self.operand(name) is not None)

    @property
    def label(self) -> str:
        """The rule as the excluded file and the report name it: its ``reason``, else e.g. 'basis in [a, b]'."""
        if self.reason:
            return self.reason
        operand = self.operand(self.operator)
        shown = f"[{', '.join(map(str, operand))}]" if isinstance(operand, list) else str(operand).lower() \
            if isinstance(operand, bool) else f"'{operand}'" if isinstance(operand, str) else f"{operand:g}"
        return f"{self.column} {self.operator.replace('_', ' ')} {shown}"


class GeneraliseConfig(Strict):
    """How a sensitive record's point is generalised (WGS84, mappers/rules.py): ``grid_km`` snaps it to the centre
    of its cell in a grid of N km squares in the point's UTM zone (UPS beyond 84°N and 80°S), ``decimals`` rounds
    latitude and longitude to N decimal places; coordinateUncertaintyInMeters becomes the distance from the
    published point to the farthest corner of the cell plus the uncertainty given (never less than given)."""

    grid_km: float | None = Field(None, gt=0, description="side of the grid cells in kilometres")
    decimals: int | None = Field(None, ge=0, le=4, description="decimal places of latitude and longitude kept")

    @model_validator(mode="after")
    def _one_way(self) -> "GeneraliseConfig":
        if (self.grid_km is None) == (self.decimals is None):
            raise ValueError("give exactly one of grid_km (e.g. grid_km: 10) or decimals (e.g. decimals: 1)")
        return self


class SensitiveRule(Strict):
    """Which records are sensitive and what is done to them: ``taxa`` (names, or a CSV file beside the config
    with a ``taxa_column`` of names) matched, case, spacing, subgenus, '?' and identification qualifiers (cf., aff.,
    sp., ...) aside, on scientificName, its genus and species (first one and two words) and the genus term, as
    written, without synonymy (mappers/rules.py taxon_matches); and/or ``flag_column`` holding one of ``values``.
    A record matching either is generalised (``generalise``: with every term read from the point's columns
    withheld) and/or has ``withhold`` terms blanked, with their verbatim counterparts (verbatimLocality for
    locality); dataGeneralizations and informationWithheld say so in words."""

    name: str | None = Field(None, description="label in the texts and the report, e.g. 'CITES Appendix I'")
    taxa: list[str] | Path | None = Field(None, description=(
        "names, or a CSV file of names (its name ends in .csv, .tsv or .txt; read at load time)"))
    taxa_column: str = Field("scientificName", description="the column of the taxa CSV file holding the names")
    flag_column: str | None = Field(None, description="source column marking sensitive records")
    values: list[Scalar] | None = Field(None, description="values of flag_column that mark a record sensitive")
    generalise: GeneraliseConfig | None = None
    withhold: list[OccurrenceTerm] = Field(default_factory=list, description="terms left empty")

    @field_validator("taxa", mode="before")
    @classmethod
    def _one_name_or_a_file(cls, value: Any) -> Any:
        # `taxa: Phengaris arion` is one name; `taxa: sensitive.csv` (or .tsv, .txt) a file of names
        if isinstance(value, str) and not value.lower().endswith((".csv", ".tsv", ".txt")):
            return [value]
        return value

    @field_validator("withhold")
    @classmethod
    def _keeps_the_archive_whole(cls, terms: list[str]) -> list[str]:
        for term in terms:
            if term in ("occurrenceID", "basisOfRecord"):
                raise ValueError(f"{term} cannot be withheld: a record without it cannot be published (exclude "
                                 f"the record instead: sensitive.exclude_when)")
        return terms

    @model_validator(mode="after")
    def _which_and_what(self) -> "SensitiveRule":
        if self.taxa is None and self.flag_column is None:
            raise ValueError("say which records: taxa (names or a CSV file) and/or flag_column with values")
        if (self.flag_column is None) != (self.values is None):
            raise ValueError("flag_column and values go together: flag_column: sensitive, values: ['1']")
        if self.generalise is None and not self.withhold:
            raise ValueError("say what to do: generalise ({grid_km: N} or {decimals: N}) and/or withhold: [terms]")
        return self

    @property
    def columns(self) -> list[str]:
        return [self.flag_column] if self.flag_column is not None else []


class SensitiveConfig(Strict):
    """Sensitive data: ``rules`` (generalise, withhold; the first rule a record matches applies) and
    ``exclude_when`` (conditions, any of which keeps a record out: it is excluded and counted, never published)."""

    rules: list[SensitiveRule] = Field(default_factory=list)
    exclude_when: list[RecordCondition] = Field(default_factory=list, description=(
        "a record meeting any of these is not for publication: excluded, listed in excluded-<version>.csv"))


#: one schedule, or a list of them; the branch is chosen by the value's shape, so that an error names only the
#: problems of that shape (the tags, in an error's location, are written as pydantic writes its union branches,
#: ``name[...]``, which config errors leave out of the key they name: config_errors._is_key)
Schedules = Annotated[Union[Annotated[ScheduleConfig, Tag("one[ScheduleConfig]")],
                            Annotated[list[ScheduleConfig], Tag("list[ScheduleConfig]")]],
                      Discriminator(lambda value: "list[ScheduleConfig]" if isinstance(value, list)
                                    else "one[ScheduleConfig]")]


class DatasetConfig(Strict):
    source: SourceConfig
    metadata: DatasetMetadata
    core: Literal["occurrence", "event"] = Field("occurrence", description=(
        "the archive's core: occurrence (one row per specimen or observation) or event (sampling events: surveys, "
        "monitoring; the occurrences then go in extensions.occurrence)"))
    mapping: dict[OccurrenceTerm, TermSource]
    extensions: dict[ExtensionName, ExtensionConfig] = Field(default_factory=dict, description=(
        "extension name (multimedia, audubon, identification, measurement_or_fact, extended_measurement_or_fact, "
        "resource_relationship; occurrence under an event core) -> where its rows come from and their mapping"))
    vocabularies: dict[VocabularyName, dict[str, str] | Path] = Field(default_factory=dict, description=(
        "extra source value -> concept per vocabulary: inline, or a CSV file beside the config with the columns "
        "source and concept (read at load time)"))
    coordinates: CoordinatesConfig | None = Field(None, description=(
        "projected (or other geographic) coordinates converted to WGS84 decimal degrees"))
    output: OutputConfig = Field(default_factory=OutputConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    gates: GatesConfig = Field(default_factory=GatesConfig)
    filters: list[RecordCondition] = Field(default_factory=list, description=(
        "conditions every published record meets; a record failing one is excluded by rule (excluded-<version>.csv)"))
    sensitive: SensitiveConfig | None = Field(None, description="generalise, withhold or exclude sensitive records")
    schedule: Schedules | None = Field(None, description=(
        "when `mobilise serve` runs the dataset (none: only when started by hand, through Prefect's API, CLI or "
        "UI); a list for several schedules, each with its parameters (a nightly incremental run, a weekly "
        "deletion reconciliation)"))
    children: dict[str, ChildConfig] = Field(default_factory=dict, description=(
        "child tables by name (collectors, identifications...): many rows per core record, joined into core terms "
        "by `{child: NAME, column: COLUMN, separator: ' | '}` (mappers/children.py)"))
    _path: Path | None = PrivateAttr(None)
    # vocabulary name -> the CSV file its translations were read from (load_config), for the report
    _vocabulary_files: dict[str, Path] = PrivateAttr(default_factory=dict)

    @property
    def vocabulary_files(self) -> dict[str, Path]:
        """Vocabulary name -> the CSV file (absolute) its translations were read from."""
        return self._vocabulary_files

    @property
    def path(self) -> Path | None:
        """The file this config was read from."""
        return self._path

    @field_validator("mapping", mode="before")
    @classmethod
    def _shorthand_columns(cls, value: Any) -> Any:
        return column_shorthand(value)

    @field_validator("mapping")
    @classmethod
    def _occurrence_id_mapped(cls, mapping: dict[str, TermSource], info: ValidationInfo) -> dict[str, TermSource]:
        if info.data.get("core") == "event":
            if "eventID" not in mapping:
                raise ValueError("eventID must be mapped: it identifies each event of an event core (and links "
                                 "its occurrences and measurements to it)")
        elif "occurrenceID" not in mapping:
            raise ValueError("occurrenceID must be mapped: it identifies each record for GBIF across versions")
        return mapping

    @field_validator("children")
    @classmethod
    def _child_names(cls, children: dict[str, ChildConfig]) -> dict[str, ChildConfig]:
        for name in children:
            if not CHILD_NAME.match(name):
                raise ValueError(f"child name '{name}': letters, digits and _ only (it names columns, "
                                 f"{name}.COLUMN)")
        return children

    @property
    def core_id(self) -> str:
        """The core's id term: occurrenceID, or eventID for an event core."""
        return "eventID" if self.core == "event" else "occurrenceID"

    @property
    def core_key(self) -> list[str]:
        """The source columns holding a core record's key: source.key, else those the core id is made from."""
        if self.source.key is not None:
            return key_columns(self.source.key)
        source = self.mapping.get(self.core_id)
        return list(dict.fromkeys(source.columns)) if source is not None and source.child is None else []

    @property
    def shortname(self) -> str:
        """The IPT-style short name; without one in the metadata, the config file's name."""
        return self.metadata.shortname or (self._path.stem if self._path else "dataset")

    @property
    def publication_directory(self) -> Path:
        return self.output.directory / self.shortname

    @property
    def work_directory(self) -> Path:
        return self.output.work_directory or (self.output.directory / ".work" / self.shortname)


# --- what a run cannot honour ------------------------------------------------------------------------------------

def runtime_problems(config: DatasetConfig) -> list[tuple[tuple, str]]:
    """(key path, message) for every setting that is well-formed on its own but that a run cannot honour with the
    rest of the config (an interval end on a term that is a single date, a vocabulary table no term uses...).

    load_config raises on them, so that `mobilise validate --config-only` passing means the config runs.
    """
    from mobilise.mappers.interpreters import interpreters
    from mobilise.mappers.vocabularies import VOCABULARY_OF_TERM, Translator, concepts

    problems: list[tuple[tuple, str]] = []
    own = interpreters()
    used: set[str] = set()
    for term, source in config.mapping.items():
        where = ("mapping", term)
        if source.end is not None and term != "eventDate":
            problems.append((where + ("end",), f"'end' applies to eventDate only (the end of the collecting "
                                               f"interval); {term} takes one value: remove 'end'"))
        if source.uuid5 is not None and not is_identifier_term(term):
            problems.append((where + ("uuid5",), f"uuid5 mints identifiers, for identifier terms (their name ends in "
                                                 f"ID, e.g. occurrenceID); {term} is not one: use template"))
        vocabulary = source.vocabulary or VOCABULARY_OF_TERM.get(term)
        if source.constant is not None and vocabulary is not None:
            # a constant is the same for every record: one that its vocabulary does not know would flag them all
            translate = Translator(vocabulary, config.vocabularies.get(vocabulary))
            if translate(source.constant)[1]:
                known = sorted(concepts(vocabulary))
                problems.append((where + ("constant",), f"'{source.constant}' is not a {vocabulary} concept"
                                 f"{_suggest(source.constant, known)}; the concepts are {', '.join(known)}"))
        if source.vocabulary is not None:
            interpreter = own.get(term)
            if interpreter is not None and not isinstance(interpreter, Translator):
                problems.append((where + ("vocabulary",), f"{term} has an interpreter of its own, which a "
                                                          f"vocabulary would replace: remove 'vocabulary'"))
            used.add(source.vocabulary)
        elif term in VOCABULARY_OF_TERM:
            used.add(VOCABULARY_OF_TERM[term])
    for name, table in config.vocabularies.items():
        known = sorted(concepts(name))
        for value, concept in table.items():
            if concept not in known:
                problems.append((("vocabularies", name, value), f"'{concept}' is not a {name} concept"
                                 f"{_suggest(concept, known)}; the concepts are {', '.join(known)}"))
        if name not in used:
            terms = [t for t, v in VOCABULARY_OF_TERM.items() if v == name]
            problems.append((("vocabularies", name), f"no mapped term uses the {name} vocabulary (map "
                                                     f"{' or '.join(terms)}, or remove this table)"))
    problems.extend(helper_problems(config))
    problems.extend(child_problems(config))
    problems.extend(extension_problems(config))
    bdq = config.validation.bdq
    if bdq.tests is not None:
        run = {_bdq_test(name).guid for name in bdq.tests}
        for index, name in enumerate(bdq.amendments):
            if _bdq_test(name).guid not in run:
                problems.append((("validation", "bdq", "amendments", index),
                                 f"{name} is accepted but not run: add it to validation.bdq.tests"))
    for name, values in bdq.parameters.items():
        test = _bdq_test(name)
        for parameter in values:
            if parameter not in test.parameters and f"bdqval:{parameter}" not in test.parameters:
                known = list(test.parameters)
                problems.append((("validation", "bdq", "parameters", name, parameter),
                                 f"{test.label} has no parameter '{parameter}'{_suggest(parameter, known)}" +
                                 (f"; its parameters are {', '.join(known)}" if known else "; it takes none")))
    return problems


#: the terms a `coordinates:` section fills (it converts a point; a mapping of any of them would contradict it)
COORDINATE_TERMS = ("decimalLatitude", "decimalLongitude", "geodeticDatum", "verbatimCoordinates",
                    "verbatimCoordinateSystem", "verbatimSRS")


def helper_problems(config: DatasetConfig) -> list[tuple[tuple, str]]:
    """runtime_problems of the mapping helpers: an end of parts without a date, a coordinates section beside a
    mapping of the terms it fills, a vocabulary on a term whose source already translates or splits."""
    problems: list[tuple[tuple, str]] = []
    for term, source in config.mapping.items():
        where = ("mapping", term)
        if isinstance(source.end, DateSource) and source.date is None:
            problems.append((where + ("end",), "an end given as date parts needs the start as date parts too: "
                                               "date: {column: ..., mask: ...} (or {year, month, day})"))
    located = config.coordinates is not None or {"decimalLatitude", "decimalLongitude"} <= set(config.mapping)
    for index, rule in enumerate(config.sensitive.rules if config.sensitive is not None else ()):
        if rule.generalise is not None and not located:
            problems.append((("sensitive", "rules", index, "generalise"), "there is no point to generalise: map "
                             "decimalLatitude and decimalLongitude (or a coordinates section)"))
    if config.coordinates is not None:
        for term in COORDINATE_TERMS:
            if term in config.mapping:
                problems.append((("mapping", term), f"{term} is filled by the coordinates section (from "
                                                    f"{config.coordinates.x} and {config.coordinates.y}): remove "
                                                    f"it from the mapping, or remove coordinates"))
    return problems


def child_problems(config: DatasetConfig) -> list[tuple[tuple, str]]:
    """runtime_problems of `children:`: a term naming a child that is not configured, a child whose key does not
    match the core key's length, a query or table on a core source that is a file, one child column joined with
    two separators."""
    problems: list[tuple[tuple, str]] = []
    separators: dict[str, tuple[str, str]] = {}
    for term, source in config.mapping.items():
        if source.child is None:
            continue
        if source.child not in config.children:
            known = list(config.children)
            problems.append((("mapping", term, "child"), f"no child '{source.child}' under children:"
                             f"{_suggest(source.child, known)}" + (f" (known: {', '.join(known)})" if known else "")))
        separator = source.separator if source.separator is not None else JOIN_SEPARATOR
        earlier = separators.setdefault(source.child_column, (term, separator))
        if earlier[1] != separator:
            problems.append((("mapping", term, "separator"), f"{source.child_column} is joined with "
                             f"'{earlier[1]}' for {earlier[0]}: use one separator per child column"))
    if config.children:
        key = config.core_key
        if not key:
            problems.append((("source", "key"), "children need the core record's key: give source.key (the "
                                                "column(s) the children's key refers to)"))
        for name, child in config.children.items():
            if key and len(child.key_columns) != len(key):
                problems.append((("children", name, "key"), f"{len(child.key_columns)} key column(s) for a core "
                                 f"key of {len(key)} ({', '.join(key)})"))
            if child.source is None and config.source.url is None:
                problems.append((("children", name, "query" if child.query is not None else "table"),
                                 "query and table read the core source's database, and the core source is a "
                                 "file: give the child its own source (source: {path: ...})"))
    return problems


def extension_problems(config: DatasetConfig) -> list[tuple[tuple, str]]:
    """runtime_problems of the extensions: a term its GBIF definition lacks, the occurrence extension without an
    event core or without occurrenceID."""
    from mobilise.extensions import extension

    problems: list[tuple[tuple, str]] = []
    if config.extensions and not config.core_key:
        problems.append((("mapping", config.core_id), f"{config.core_id} is made from no column, so extension rows "
                         f"cannot name their core record: set source.key (the column(s) holding each record's key)"))
    for name, ext in config.extensions.items():
        if name == "occurrence" and config.core != "event":
            problems.append((("extensions", name), "the occurrence extension belongs to an event core (core: event);"
                                                   " an occurrence core's records are its own rows"))
        if (ext.query is not None or ext.table is not None) and config.source.url is None:
            problems.append((("extensions", name, "query" if ext.query is not None else "table"),
                             "query and table read the dataset's database, and the dataset's source is a file: "
                             "give the extension a source of its own (source: {path: ...})"))
        if ext.source is not None:
            for key in ("partition", "modified_column", "key"):
                if getattr(ext.source, key) is not None:
                    problems.append((("extensions", name, "source", key), f"'{key}' applies to the dataset's source;"
                                     f" an extension's rows are read whole (remove it)"))
        definition = extension(name)
        for term in ext.mapping:
            try:
                definition.term_name(term)
            except ValueError as exc:
                problems.append((("extensions", name, "mapping", term), str(exc)))
        if name == "occurrence" and "occurrenceID" not in ext.mapping:
            problems.append((("extensions", name, "mapping"), "occurrenceID must be mapped: it identifies each "
                                                              "occurrence for GBIF across versions"))
    return problems


def _load_tables(config: DatasetConfig, tree: Any, path: Path) -> None:
    """Read the CSV tables a config names (vocabularies given as files, lookup tables), relative to the config
    file: vocabularies become their translations, lookup paths absolute. Raises ConfigError naming the CSV's
    line (or the config's, for a file that is missing)."""
    from mobilise.mappers.vocabularies import TableError, read_table, read_vocabulary_file

    base = path.resolve().parent

    def fail(loc: tuple, exc: TableError) -> None:
        where = config_errors.Problem(loc, "").where()
        raise ConfigError(f"{path}:{_locate(tree, loc)}: {where}: {exc}") from None

    for name, table in list(config.vocabularies.items()):
        if isinstance(table, Path):
            file = table if table.is_absolute() else (base / table).resolve()
            try:
                config.vocabularies[name] = read_vocabulary_file(file, name)
            except TableError as exc:
                fail(("vocabularies", name), exc)
            config._vocabulary_files[name] = file
    for index, rule in enumerate(config.sensitive.rules if config.sensitive is not None else ()):
        if isinstance(rule.taxa, Path):  # the names of a CSV file beside the config
            file = rule.taxa if rule.taxa.is_absolute() else (base / rule.taxa).resolve()
            try:
                rule.taxa = sorted(read_table(file, rule.taxa_column, rule.taxa_column))
            except TableError as exc:
                fail(("sensitive", "rules", index, "taxa"), exc)
    mappings = [(("mapping",), config.mapping)] + [(("extensions", name, "mapping"), extension.mapping)
                                                   for name, extension in config.extensions.items()]
    for where, mapping in mappings:  # the core's lookups and the extensions'
        for term, source in mapping.items():
            if source.lookup is not None:
                lookup = source.lookup
                if not lookup.table.is_absolute():
                    lookup.table = (base / lookup.table).resolve()
                try:
                    read_table(lookup.table, lookup.key, lookup.value)
                except TableError as exc:
                    fail((*where, term, "lookup", "table"), exc)


def _problems_as_error(problems: list[tuple[tuple, str]]) -> ValidationError:
    """runtime_problems as a ValidationError, so that they are rendered as pydantic's own are."""
    return ValidationError.from_exception_data("DatasetConfig", [
        InitErrorDetails(type=PydanticCustomError("inapplicable", "{message}", {"message": message}), loc=loc,
                         input=None) for loc, message in problems])


# --- loading -----------------------------------------------------------------------------------------------------

def load_config(path: str | Path) -> DatasetConfig:
    """Read, interpolate and validate a dataset config, or raise ConfigError naming file, line and key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        text = path.read_text(encoding="utf-8")
        tree = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise ConfigError(config_errors.yaml_problem(path, exc, text)) from None
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: expected a mapping with source, metadata and mapping at the top")
    _interpolate_env(tree, path, ())
    try:
        config = DatasetConfig.model_validate(_plain(tree))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, tree, path)) from None
    _load_tables(config, tree, path)
    problems = runtime_problems(config)
    if problems:
        raise ConfigError(_describe(_problems_as_error(problems), tree, path))
    return _resolve_paths(config, path)


def _interpolate_env(node: Any, path: Path, keys: tuple) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if isinstance(value, str) and "${" in value:
            def substitute(match: re.Match) -> str:
                name, default = match.group(1), match.group(2)
                if name in os.environ:
                    return os.environ[name]
                if default is not None:
                    return default
                line = _line_of(node, key)
                raise ConfigError(f"{path}:{line}: {config_errors.Problem(keys + (key,), '').where()}: environment variable {name} is not set")
            node[key] = (_substitute_into_url(value, substitute) if keys == ("source",) and key == "url"
                         else ENV_PATTERN.sub(substitute, value))
        else:
            _interpolate_env(value, path, keys + (key,))


def _substitute_into_url(template: str, substitute) -> str:
    """`template` (a database URL) with its ${ENV} placeholders replaced; a value that lands in the user name or
    password is percent-encoded there, so that a password holding ``@ : / ? # %`` stays one password.

    The URL is parsed with placeholders standing in for the values and rebuilt with sqlalchemy's URL.create; a
    template that is not a URL until substituted (``url: ${DATABASE_URL}``) is substituted as text, and that
    value must then be a URL with its password percent-encoded already."""
    from sqlalchemy.engine import URL

    values: list[str] = []

    def placeholder(match: re.Match) -> str:
        values.append(substitute(match))
        return f"mobiliseenv{len(values) - 1}x"

    marked = ENV_PATTERN.sub(placeholder, template)
    marker = re.compile(r"mobiliseenv(\d+)x")

    def filled(text):
        if isinstance(text, tuple):
            return tuple(filled(part) for part in text)
        return marker.sub(lambda match: values[int(match.group(1))], text) if text else text

    try:
        url = make_url(marked)
    except Exception:  # not a URL before substitution: the value is the URL (or most of it)
        return filled(marked)
    if not marker.search(f"{url.username or ''}:{url.password or ''}"):
        return filled(marked)
    return URL.create(url.drivername, username=filled(url.username), password=filled(url.password),
                      host=filled(url.host), port=url.port, database=filled(url.database),
                      query={name: filled(value) for name, value in url.query.items()}
                      ).render_as_string(hide_password=False)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _line_of(node: Any, key: Any) -> int | str:
    try:
        if isinstance(node, CommentedMap):
            return node.lc.key(key)[0] + 1
        if isinstance(node, CommentedSeq):
            return node.lc.item(key)[0] + 1
    except (KeyError, IndexError, TypeError):
        pass
    return "?"


def _locate(tree: Any, loc: tuple) -> int | str:
    """Line of the deepest key of `loc` that exists in the YAML tree."""
    node, line = tree, "?"
    for key in loc:
        if isinstance(node, dict) and key in node:
            line = _line_of(node, key)
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            line = _line_of(node, key)
            node = node[key]
        # pydantic adds model names and union branches to loc; skip what is not in the YAML
    return line


def _describe(exc: ValidationError, tree: Any, path: Path) -> str:
    found = config_errors.problems(exc, DatasetConfig)
    lines = [f"{path}: {len(found)} problem(s) in the config:"]
    for problem in found:
        lines.append(f"  {path}:{_locate(tree, problem.loc)}: {problem.where()}: {problem.message}")
    return "\n".join(lines)


def resolve_source(source: SourceConfig, base: Path) -> SourceConfig:
    """`source` with its file (``path``, ``~`` expanded) or SQLite database made absolute against `base` (the
    config file's folder), in place; returned for convenience. For every SourceConfig of a config (the dataset's,
    and those of its children and extensions)."""
    if source.path is not None:
        expanded = source.path.expanduser()
        source.path = expanded if expanded.is_absolute() else (base / expanded).resolve()
    url = make_url(source.url) if source.url is not None else None
    if url is not None and url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        if not database.is_absolute():
            source.url = url.set(database=str((base / database).resolve())).render_as_string(hide_password=False)
    return source


def _resolve_paths(config: DatasetConfig, path: Path) -> DatasetConfig:
    """Relative paths in a config are relative to the config file, so a scheduled run finds the same files."""
    base = path.resolve().parent
    resolve_source(config.source, base)
    for child in config.children.values():
        if child.source is not None:
            resolve_source(child.source, base)
    for ext in config.extensions.values():
        if ext.source is not None:
            resolve_source(ext.source, base)
    if not config.output.directory.is_absolute():
        config.output.directory = (base / config.output.directory).resolve()
    if config.output.work_directory is not None and not config.output.work_directory.is_absolute():
        config.output.work_directory = (base / config.output.work_directory).resolve()
    config._path = path.resolve()
    return config
