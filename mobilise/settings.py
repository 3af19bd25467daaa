"""The dataset config: a YAML file a data manager keeps under version control, validated before any work starts.

Errors point at the file and line a person must fix (``config/sample.yaml:42: mapping.eventDate: ...``), and
``${ENV}`` / ``${ENV:-default}`` placeholders let secrets stay out of the file.
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from sqlalchemy.engine import make_url

from mobilise.metadata import DatasetMetadata
from mobilise.terms import is_occurrence_term, term_iri

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")
Severity = Literal["error", "warning", "info"]


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


class SourceConfig(Strict):
    url: str = Field(description="SQLAlchemy URL of the collection database; use ${ENV} for passwords")
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
    encoding: str | None = Field(None, description=(
        "Python codec name (e.g. cp1252, latin-1) for text and binary values that are not valid UTF-8, as "
        "legacy databases hold them; without it such a value is kept with its undecodable bytes shown escaped "
        "(Li\\xe8ge) and its record flagged TEXT_ENCODING_INVALID (see extractors/base.py decode_text)"))

    @model_validator(mode="after")
    def _one_of_query_or_table(self) -> "SourceConfig":
        if bool(self.query) == bool(self.table):
            raise ValueError("give exactly one of 'query' or 'table'")
        return self

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
    def _parseable_url(cls, value: str) -> str:
        try:
            make_url(value)
        except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
            raise ValueError(f"not a SQLAlchemy database URL ({exc})") from None
        return value

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for logs and reports."""
        return make_url(self.url).render_as_string(hide_password=True)


class TermSource(Strict):
    """Where one Darwin Core term's value comes from: a column, a constant or a template over columns."""

    column: str | list[str] | None = Field(None, description="source column; a list means first non-empty")
    constant: str | None = None
    template: str | None = Field(None, description="e.g. 'https://data.example.org/specimen/{guid}'")
    uuid5: str | None = Field(None, description="template whose text is hashed to a name-based UUID (urn:uuid:)")
    end: str | None = Field(None, description="eventDate only: column holding the end of the interval")
    vocabulary: str | None = Field(None, description="translation table name (default: the term's own)")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> "TermSource":
        given = [k for k in ("column", "constant", "template", "uuid5") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'column', 'constant', 'template' or 'uuid5'"
                             + (f" (got {', '.join(given)})" if given else ""))
        for key in ("template", "uuid5"):
            text = getattr(self, key)
            if text is not None and not TEMPLATE_FIELD.search(text) and key == "uuid5":
                raise ValueError("a uuid5 template must name at least one {column}")
        return self

    @property
    def columns(self) -> list[str]:
        """Source columns this term reads."""
        if self.column is not None:
            names = [self.column] if isinstance(self.column, str) else list(self.column)
        else:
            names = TEMPLATE_FIELD.findall(self.template or self.uuid5 or "")
        return names + ([self.end] if self.end else [])


class OutputConfig(Strict):
    directory: Path = Field(Path("output"), description="publications go to DIRECTORY/<shortname>/")
    work_directory: Path | None = Field(None, description="staging area for batches (default DIRECTORY/.work)")
    keep_versions: int = Field(0, ge=0, description="how many old archive versions to keep (0 = all)")


class ExecutionConfig(Strict):
    """Where the per-batch map and validate tasks run.

    ``dask`` (the default) starts a local Dask cluster with one worker process per core, or joins the cluster at
    ``dask_address`` (then the output and work folders must be on a filesystem the workers share); ``threads``
    runs them in threads of the flow's own process, which is quicker to start for small datasets.
    """

    runner: Literal["dask", "threads"] = "dask"
    dask_address: str | None = Field(None, description="scheduler address, e.g. tcp://10.0.0.5:8786")
    workers: int | None = Field(None, gt=0, description="local workers (default: one per core)")


class BdqConfig(Strict):
    """The TDWG BDQ core tests run on every record; amendments are only proposed unless accepted here."""

    enabled: bool = True
    tests: list[str] | None = Field(None, description="labels or GUIDs to run (default: all)")
    parameters: dict[str, dict[str, str]] = Field(default_factory=dict,
                                                  description="test label/GUID -> {bdqval:name: value}")
    amendments: list[str] = Field(default_factory=list,
                                  description="amendments (labels or GUIDs) applied to the published records")
    offline: bool = Field(True, description="never call remote authorities (GBIF backbone, Getty TGN, WoRMS)")


class ValidationConfig(Strict):
    severity: dict[str, Severity] = Field(default_factory=dict, description="override a flag's severity")
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


def _occurrence_term(name: str) -> str:
    if not is_occurrence_term(name):
        try:
            term_iri(name)
        except KeyError as exc:  # unknown term: the message carries close matches
            raise ValueError(str(exc.args[0])) from None
        raise ValueError(f"'{name}' is a Darwin Core term but not one of GBIF's Occurrence core")
    return name


OccurrenceTerm = Annotated[str, AfterValidator(_occurrence_term)]


class DatasetConfig(Strict):
    source: SourceConfig
    metadata: DatasetMetadata
    mapping: dict[OccurrenceTerm, TermSource]
    vocabularies: dict[str, dict[str, str]] = Field(default_factory=dict,
                                                    description="extra source value -> concept per vocabulary")
    output: OutputConfig = Field(default_factory=OutputConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    gates: GatesConfig = Field(default_factory=GatesConfig)
    _path: Path | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        """The file this config was read from."""
        return self._path

    @field_validator("mapping", mode="before")
    @classmethod
    def _shorthand_columns(cls, value: Any) -> Any:
        # `catalogNumber: catalog_number` is short for `catalogNumber: {column: catalog_number}`.
        if isinstance(value, dict):
            return {k: ({"column": v} if isinstance(v, (str, list)) else v) for k, v in value.items()}
        return value

    @field_validator("mapping")
    @classmethod
    def _occurrence_id_mapped(cls, mapping: dict[str, TermSource]) -> dict[str, TermSource]:
        if "occurrenceID" not in mapping:
            raise ValueError("occurrenceID must be mapped: it identifies each record for GBIF across versions")
        return mapping

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


# --- loading -----------------------------------------------------------------------------------------------------

def load_config(path: str | Path) -> DatasetConfig:
    """Read, interpolate and validate a dataset config, or raise ConfigError naming file, line and key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        tree = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: expected a mapping with source, metadata and mapping at the top")
    _interpolate_env(tree, path, ())
    try:
        config = DatasetConfig.model_validate(_plain(tree))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, tree, path)) from None
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
                raise ConfigError(f"{path}:{line}: {_dotted(keys + (key,))}: environment variable {name} is not set")
            node[key] = ENV_PATTERN.sub(substitute, value)
        else:
            _interpolate_env(value, path, keys + (key,))


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


def _dotted(loc: tuple) -> str:
    return ".".join(str(k) for k in loc if k != "[key]") or "(top level)"


def _describe(exc: ValidationError, tree: Any, path: Path) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the config:"]
    for error in exc.errors():
        loc = tuple(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            message = "unknown key" + (f" (did you mean '{hint[0]}'?)" if hint else
                                       f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif error["type"] == "missing":
            message = "required key is missing"
        lines.append(f"  {path}:{_locate(tree, loc)}: {_dotted(loc)}: {message}")
    return "\n".join(lines)


def _allowed_keys(loc: tuple) -> list[str]:
    """Field names of the model that sits at `loc` in DatasetConfig, for 'did you mean' hints."""
    annotation: Any = DatasetConfig
    for key in loc:
        if get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
            continue
        model = _model_of(annotation)
        if model is None or str(key) not in model.model_fields:
            return []
        annotation = model.model_fields[str(key)].annotation
    model = None if get_origin(annotation) is dict else _model_of(annotation)
    return list(model.model_fields) if model else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _resolve_paths(config: DatasetConfig, path: Path) -> DatasetConfig:
    """Relative paths in a config are relative to the config file, so a scheduled run finds the same files."""
    base = path.resolve().parent
    url = make_url(config.source.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        if not database.is_absolute():
            config.source.url = url.set(database=str((base / database).resolve())).render_as_string(
                hide_password=False)
    if not config.output.directory.is_absolute():
        config.output.directory = (base / config.output.directory).resolve()
    if config.output.work_directory is not None and not config.output.work_directory.is_absolute():
        config.output.work_directory = (base / config.output.work_directory).resolve()
    config._path = path.resolve()
    return config
