"""Apply a dataset's mapping to one batch: source columns in, Darwin Core terms (all text) and issue rows out.

Pure: no I/O, no global state, the same batch always gives the same result. Interpreters run once per distinct
value of a batch (columns such as country, basisOfRecord or dates repeat a great deal), so the cost follows the
number of distinct values, not rows.

Hostile text is contained to its record: a source value the extractor could not decode (listed in the batch's
UNDECODABLE_COLUMN, see extractors/base.py) flags TEXT_ENCODING_INVALID on every term its column feeds (an error by
default: the record goes to quarantine with the escaped bytes), and control characters are removed from every
term's value and flagged CONTROL_CHARACTERS_REMOVED (a warning: the record is published without them).
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.extractors.base import UNDECODABLE_COLUMN
from mobilise.mappers.children import SEPARATOR_MARK, UNDECODABLE_MARK, ChildJoin
from mobilise.mappers.columns import as_text
from mobilise.mappers.coordinates import convert_points, interpret_coordinate
from mobilise.mappers.dates import (DEFAULT_DATE_ORDER, SPECIFY_PRECISIONS, AssembledDates, apply_mask,
                                    assemble_parts, interpret_date, interpret_event_date)
from mobilise.mappers.interpreters import VERBATIM_TERM, Interpreter, interpreters
from mobilise.mappers.names import split_authorship
from mobilise.mappers.rules import (RuleOutcome, apply_rules, hidden_terms, point_dependants, rule_columns,
                                    rule_terms)
from mobilise.mappers.vocabularies import Translator, read_table, read_vocabulary_file
from mobilise.settings import (COORDINATE_TERMS, JOIN_SEPARATOR, CoordinatesConfig, DatasetConfig, DateSource,
                               RecordCondition, SensitiveConfig, TemplatePart, TermSource, key_columns,
                               template_columns)
from mobilise.terms import is_identifier_term

ISSUE_SCHEMA = pa.schema([("row", pa.int64()), ("term", pa.string()), ("flag", pa.string()),
                          ("value", pa.string())])


class MappingError(ValueError):
    """The mapping cannot be applied to this source at all (a wrong column name): stop before any work."""


@dataclass
class MappingPlan:
    """What map_batch needs from the config, resolved once per run."""

    sources: dict[str, TermSource]
    interpreters: dict[str, Interpreter]
    verbatim: dict[str, str]  # interpreted term -> verbatim term filled with the original when it changed
    namespace: uuid.UUID
    lookups: dict[str, dict[str, str]] = field(default_factory=dict)  # term -> its lookup table (read once a run)
    coordinates: CoordinatesConfig | None = None  # the config's coordinates section (projected x/y to WGS84)
    # the child columns the terms read, joined into each core batch before mapping (mappers/children.py), and the
    # core key they and the extensions' rows are joined on (source.key; kept in the excluded records' rows)
    children: tuple[ChildJoin, ...] = ()
    core_key: tuple[str, ...] = ()
    filters: list[RecordCondition] = field(default_factory=list)  # the config's filters (mappers/rules.py)
    sensitive: SensitiveConfig | None = None  # the config's sensitive section (mappers/rules.py)
    # the table's id term, its first column (occurrenceID; eventID for an event core); None: an extension's rows,
    # whose core id column the validate stage adds
    id_term: str | None = "occurrenceID"
    key: list[str] = field(default_factory=list)  # source columns read besides the terms' (an extension's core_key)
    # where the config holds this mapping, for messages: "" for the core, "extensions.<name>." for an extension
    config_path: str = ""
    # a core with extensions: its records' key columns (config.core_key), whose values the map step keeps for the
    # records the rules exclude, so that their extension rows are excluded with them (validators/integrity.py)
    record_key: tuple[str, ...] = ()
    # the key an incremental run replaces records by (source.record_key: source.key, else partition.column), kept
    # in the excluded records' rows so that a staged record the rules now exclude is dropped (flows/incremental.py)
    merge_key: tuple[str, ...] = ()
    terms: list[str] = field(init=False)

    def __post_init__(self) -> None:
        # the id first: it is the core id column of the archive (meta.xml <id index="0"/>).
        mapped = ([self.id_term] if self.id_term else []) + [t for t in self.sources if t != self.id_term]
        self.terms = mapped + [v for v in self.verbatim.values() if v not in self.sources]
        if self.coordinates is not None:
            self.terms += [t for t in COORDINATE_TERMS if t not in self.terms]
        self.terms += [t for t in rule_terms(self.sensitive) if t not in self.terms]  # what sensitive rules fill
        for term, source in self.sources.items():
            if source.lookup is not None and term not in self.lookups:
                self.lookups[term] = read_table(source.lookup.table, source.lookup.key, source.lookup.value)

    @classmethod
    def from_config(cls, config: DatasetConfig) -> "MappingPlan":
        tables = {name: read_vocabulary_file(table, name) if not isinstance(table, dict) else table
                  for name, table in config.vocabularies.items()}
        available = interpreters(tables, config.source.date_order)
        chosen: dict[str, Interpreter] = {}
        for term, source in config.mapping.items():
            if source.vocabulary:
                chosen[term] = Translator(source.vocabulary, tables.get(source.vocabulary))
            elif term in available:
                chosen[term] = available[term]
            elif source.date is not None:  # a date term without an interpreter of its own
                chosen[term] = partial(interpret_date, invalid_flag="DATE_INVALID", order=config.source.date_order)
        verbatim = {t: v for t, v in VERBATIM_TERM.items() if t in chosen and v not in config.mapping}
        return cls(dict(config.mapping), chosen, verbatim, dataset_namespace(config), coordinates=config.coordinates,
                   children=child_joins(config),
                   core_key=tuple(config.core_key) if config.children or config.extensions else (),
                   filters=list(config.filters), sensitive=config.sensitive,
                   id_term=config.core_id, key=key_columns(config.source.key) if config.source.key else [],
                   record_key=tuple(config.core_key) if config.extensions else (),
                   merge_key=tuple(config.source.record_key))

    @classmethod
    def for_extension(cls, config: DatasetConfig, name: str) -> "MappingPlan":
        """The plan of extension `name` (a key of config.extensions): its terms by the names of its definition
        (mobilise.extensions), in mapping order. The occurrence extension (under an event core) gets every
        interpreter an occurrence core has; the others only the date interpreters of their Darwin Core date terms
        (dateIdentified, modified) and a vocabulary named in their mapping."""
        from mobilise.extensions import extension
        from mobilise.terms import term_iri

        definition = extension(name)
        ext = config.extensions[name]
        sources = {definition.term_name(term): source for term, source in ext.mapping.items()}
        tables = {n: read_vocabulary_file(table, n) if not isinstance(table, dict) else table
                  for n, table in config.vocabularies.items()}
        available = interpreters(tables, ext.source_of(config.source).date_order)
        chosen: dict[str, Interpreter] = {}
        for term, source in sources.items():
            if source.vocabulary:
                chosen[term] = Translator(source.vocabulary, tables.get(source.vocabulary))
            elif term in available and (name == "occurrence" or (
                    term in ("dateIdentified", "modified") and definition.terms[term] == term_iri(term))):
                chosen[term] = available[term]
            elif source.date is not None:
                chosen[term] = partial(interpret_date, invalid_flag="DATE_INVALID",
                                       order=ext.source_of(config.source).date_order)
        verbatim = {t: v for t, v in VERBATIM_TERM.items()
                    if name == "occurrence" and t in chosen and v not in sources}
        return cls(sources, chosen, verbatim, dataset_namespace(config),
                   id_term="occurrenceID" if name == "occurrence" else None, key=key_columns(ext.core_key),
                   config_path=f"extensions.{name}.")

    @property
    def source_columns(self) -> set[str]:
        """The core source's columns the mapping reads (a child source's columns are joined in later, and the
        child's own are checked by mappers/children.py); the key columns (with children, source.key; an extension's
        core_key); the columns the record rules test (filters, sensitive)."""
        columns = {column for source in self.sources.values() if source.child is None for column in source.columns}
        columns |= set(rule_columns(self.filters, self.sensitive))
        columns |= set(self.coordinates.columns if self.coordinates is not None else ())
        return columns | set(self.core_key) | set(self.key)

    @property
    def point_dependants(self) -> list[str]:
        """The terms, other than the point's own and the id, read from a source column the point is read from
        (decimalLatitude, decimalLongitude, the verbatim location terms, the coordinates section's x and y): what a
        sensitive record whose point is generalised does not publish (mappers/rules.py point_dependants)."""
        if self.sensitive is None or not self.sensitive.rules:
            return []
        xy = {self.coordinates.x, self.coordinates.y} if self.coordinates is not None else set()
        return point_dependants(self.sources, xy, keep=(self.id_term,) if self.id_term else ())

    @property
    def sensitive_columns(self) -> list[str]:
        """The source columns that feed a term a sensitive record must not show (mappers/rules.py hidden_terms,
        the point's dependants; the coordinates section's x and y with the point), less the occurrenceID's:
        emptied in a sensitive record's source row once mapped, so that no run file shows them."""
        hidden = hidden_terms(self.sensitive) | set(self.point_dependants)
        columns = {column for term, source in self.sources.items() if term in hidden for column in source.columns}
        if hidden and self.coordinates is not None:
            columns |= set(self.coordinates.columns)
        keys = set(self.sources["occurrenceID"].columns) if "occurrenceID" in self.sources else set()
        return sorted(columns - keys)

    def check_columns(self, columns: list[str]) -> None:
        missing = sorted(self.source_columns - set(columns))
        if missing:
            where = [f"{self.config_path}mapping.{t}" for t, s in self.sources.items()
                     if s.child is None and set(s.columns) & set(missing)]
            if set(self.core_key) & set(missing):
                where.append("source.key")
            elif set(self.key) & set(missing):
                where.append(f"{self.config_path}core_key" if self.config_path else "source.key")
            if self.coordinates is not None and set(self.coordinates.columns) & set(missing):
                where.append("coordinates")
            if set(rule_columns(self.filters, self.sensitive)) & set(missing):
                where.append("filters/sensitive")
            present = [column for column in columns if column != UNDECODABLE_COLUMN]
            raise MappingError(f"{', '.join(where)}: column(s) {', '.join(missing)} not in the source "
                               f"(the source has: {', '.join(present)})")


def child_joins(config: DatasetConfig) -> tuple[ChildJoin, ...]:
    """The (child, column) pairs the mapping's child sources read, each once, with their child's key, order and
    the term's separator (settings.child_problems has made sure one column has one separator)."""
    joins: dict[str, ChildJoin] = {}
    for source in config.mapping.values():
        if source.child is not None and source.child_column not in joins:
            child = config.children[source.child]
            joins[source.child_column] = ChildJoin(
                source.child, source.column, tuple(child.key_columns), tuple(child.order_columns),
                source.separator if source.separator is not None else JOIN_SEPARATOR)
    return tuple(joins.values())


def dataset_namespace(config: DatasetConfig) -> uuid.UUID:
    """Namespace for uuid5 identifiers: the dataset's own UUID when it has one, else derived from its name."""
    try:
        return uuid.UUID(str(config.metadata.dataset_id))
    except (ValueError, AttributeError, TypeError):
        return uuid.uuid5(uuid.NAMESPACE_URL, f"mobilise:{config.shortname}")


# --- column helpers (as_text: mobilise.mappers.columns) --------------------------------------------------------

def _coalesce(arrays: list[pa.Array]) -> pa.Array:
    return arrays[0] if len(arrays) == 1 else pc.coalesce(*arrays)


def _template(batch: pa.RecordBatch, parts: tuple[TemplatePart, ...], identifier: bool
              ) -> tuple[pa.Array, np.ndarray, pa.Array]:
    """A parsed template over the batch: (values, rows that got no value, the empty columns of each row).

    ``identifier``: a column outside an optional group that is empty leaves the value empty (a missing key
    shows); otherwise an empty column is left out. An optional group is left out whole when a column in it is
    empty. A row where no column gave anything gets no value (and is listed), whatever the literal text.
    """
    texts = {name: as_text(batch.column(name)) for name in template_columns(parts)}
    pieces: list = []
    contributed: list[pa.Array] = []
    for kind, value in parts:
        if kind == "text":
            pieces.append(pa.scalar(value, pa.string()))
        elif kind == "column":
            pieces.append(texts[value] if identifier else pc.fill_null(texts[value], ""))
            contributed.append(pc.is_valid(texts[value]))
        else:  # an optional group: null when any of its columns is
            inner = [texts[v] if k == "column" else pa.scalar(v, pa.string()) for k, v in value]
            group = pc.binary_join_element_wise(*inner, pa.scalar("", pa.string()))
            pieces.append(pc.fill_null(group, ""))
            contributed.append(pc.is_valid(group))
    values = pc.binary_join_element_wise(*pieces, pa.scalar("", pa.string()))
    anything = contributed[0]
    for more in contributed[1:]:
        anything = pc.or_(anything, more)
    values = pc.if_else(anything, values, pa.scalar(None, pa.string()))
    empty_rows = np.flatnonzero(pc.is_null(values).to_numpy(zero_copy_only=False))
    marks = [pc.if_else(pc.is_null(text), pa.scalar(f"{{{name}}}"), pa.scalar(None, pa.string()))
             for name, text in texts.items()]
    empty_columns = _join_present(marks, " ")
    return values, empty_rows, empty_columns.take(pa.array(empty_rows, pa.int64()))


def _join_present(arrays: list[pa.Array], separator: str) -> pa.Array:
    """Per row, the non-null values of `arrays` in order joined with `separator`; null where all are null.

    (Not binary_join_element_wise(null_handling="skip"): pyarrow 26 drops the rows where every value is null.)
    """
    joined = arrays[0]
    for more in arrays[1:]:
        both = pc.binary_join_element_wise(joined, more, pa.scalar(separator, pa.string()))
        joined = pc.coalesce(both, joined, more)
    return joined


def _join(batch: pa.RecordBatch, columns: list[str], separator: str) -> pa.Array:
    """The non-empty values of `columns`, in order, joined with `separator`; null where all are empty."""
    return _join_present([as_text(batch.column(name)) for name in columns], separator)


def _uuid5(values: pa.Array, namespace: uuid.UUID) -> pa.Array:
    encoded = pc.dictionary_encode(values)
    minted = pa.array([f"urn:uuid:{uuid.uuid5(namespace, v)}" for v in encoded.dictionary.to_pylist()],
                      pa.string())
    return minted.take(encoded.indices)


def _regex(values: pa.Array, pattern: re.Pattern, term: str) -> tuple[pa.Array, list[tuple[int, str, str, str]]]:
    """The first capture group (or the whole match) of `pattern` searched in each value, once per distinct value;
    REGEX_NO_MATCH (row, term, flag, value) where a value does not match (or its first group took no part)."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    found = [pattern.search(v) for v in distinct]
    extracted = [None if m is None else (m.group(1) if pattern.groups else m.group(0)) or None for m in found]
    result = pa.array(extracted, pa.string()).take(encoded.indices)
    return result, _misses(encoded, [e is None for e in extracted], distinct, term, "REGEX_NO_MATCH")


def _misses(encoded: pa.DictionaryArray, missed: list[bool], distinct: list, term: str, flag: str
            ) -> list[tuple[int, str, str, str]]:
    """(row, term, flag, value) for each row whose distinct value `missed` says failed."""
    failed = [i for i, m in enumerate(missed) if m]
    if not failed:
        return []
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return [(int(row), term, flag, distinct[int(indices[row])]) for row in np.flatnonzero(np.isin(indices, failed))]


def _lookup(values: pa.Array, table: dict[str, str], term: str) -> tuple[pa.Array, list[tuple[int, str, str, str]]]:
    """Each value's entry in `table` (exact, after trimming); LOOKUP_NO_MATCH where it has none."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    found = [table.get(v) for v in distinct]
    result = pa.array(found, pa.string()).take(encoded.indices)
    return result, _misses(encoded, [f is None for f in found], distinct, term, "LOOKUP_NO_MATCH")


def _authorship(values: pa.Array, term: str, part: str) -> tuple[pa.Array, list[tuple[int, str, str, str]]]:
    """The authorship (`part` 'authorship') or the name without it ('name') of each scientific name, parsed once
    per distinct name (mappers/names.py); NAME_AUTHORSHIP_UNSPLIT where the parser cannot split a name (the
    authorship then has no value, the name is kept whole)."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    splits = [split_authorship(v) for v in distinct]
    chosen = [(s.authorship if part == "authorship" else s.name) for s in splits]
    result = pa.array(chosen, pa.string()).take(encoded.indices)
    return result, _misses(encoded, [not s.split for s in splits], distinct, term, "NAME_AUTHORSHIP_UNSPLIT")


def _child_values(batch: pa.RecordBatch, term: str, source: TermSource
                  ) -> tuple[pa.Array, list[tuple[int, str, str, str]]]:
    """A child source's joined values (the column mappers/children.py join_children added) and
    LIST_SEPARATOR_IN_VALUE (row, term, flag, the value holding the separator) where a joined value held it, and
    TEXT_ENCODING_INVALID (the value with its undecodable bytes escaped) where one could not be decoded."""
    names = batch.schema.names
    if source.child_column not in names:
        raise MappingError(f"mapping.{term}: the batch has no {source.child_column}: join child "
                           f"'{source.child}' into it first (mappers/children.py join_children)")
    issues = []
    for suffix, flag in ((SEPARATOR_MARK, "LIST_SEPARATOR_IN_VALUE"), (UNDECODABLE_MARK, "TEXT_ENCODING_INVALID")):
        if source.child_column + suffix in names:
            marks = batch.column(source.child_column + suffix)
            rows = np.flatnonzero(pc.is_valid(marks).to_numpy(zero_copy_only=False))
            issues += [(int(row), term, flag, marks[int(row)].as_py()) for row in rows]
    return as_text(batch.column(source.child_column)), issues


def source_values(batch: pa.RecordBatch, term: str, source: TermSource, namespace: uuid.UUID,
                  lookups: dict[str, dict[str, str]] | None = None
                  ) -> tuple[pa.Array, list[tuple[int, str, str, str]]]:
    """(the term's values from its source, issue rows): a template or uuid5 that yields nothing is flagged
    TEMPLATE_EMPTY with the empty columns as the value ('{code} {code_suffix}'); a regex that does not match
    REGEX_NO_MATCH, a value not in its lookup table LOOKUP_NO_MATCH (`lookups`: term -> table, MappingPlan's),
    a name whose authorship cannot be split NAME_AUTHORSHIP_UNSPLIT, each with the source value.
    (A date source is assembled by map_batch: see _dates.)"""
    if source.child is not None:
        return _child_values(batch, term, source)
    if source.regex is not None:
        return _regex(as_text(batch.column(source.regex.column)), source.regex.compiled, term)
    if source.lookup is not None:
        table = (lookups or {}).get(term)
        if table is None:
            table = read_table(source.lookup.table, source.lookup.key, source.lookup.value)
        return _lookup(as_text(batch.column(source.lookup.column)), table, term)
    if source.authorship_of is not None or source.without_authorship is not None:
        column = source.authorship_of or source.without_authorship
        return _authorship(as_text(batch.column(column)), term,
                           "authorship" if source.authorship_of is not None else "name")
    if source.constant is not None:
        return pa.array([source.constant] * batch.num_rows, pa.string()), []
    if source.join is not None:
        return _join(batch, source.join, source.separator if source.separator is not None else JOIN_SEPARATOR), []
    if source.template is not None or source.uuid5 is not None:
        identifier = source.uuid5 is not None or is_identifier_term(term)
        values, empty_rows, empty_columns = _template(batch, source.parts, identifier)
        if source.uuid5 is not None:
            values = _uuid5(values, namespace)
        issues = [(int(row), term, "TEMPLATE_EMPTY", columns)
                  for row, columns in zip(empty_rows.tolist(), empty_columns.to_pylist())]
        return values, issues
    names = [source.column] if isinstance(source.column, str) else source.column
    return _coalesce([as_text(batch.column(name)) for name in names]), []


# Dates already in ISO 8601 that the date interpreters would give back unchanged (or with the date-time separator
# made a "T"): recognised in Arrow, so that per-record timestamps (``modified``) do not cost a Python call each.
# Anything else, including a well-formed date that does not exist, goes through the interpreter as before.
_ISO_DATE = r"^[1-9][0-9]{3}(-(0[1-9]|1[0-2])(-[0-9]{2})?)?$"
_ISO_DATE_TIME = (r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?"
                  r"(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$")


def _date_order(interpreter: Callable) -> str | None:
    """The date order of a date interpreter (interpret_event_date, or either with keyword arguments only), else
    None: the fast paths below give what such an interpreter gives."""
    if interpreter is interpret_event_date:
        return DEFAULT_DATE_ORDER
    if isinstance(interpreter, partial) and interpreter.func in (interpret_date, interpret_event_date) \
            and not interpreter.args:
        return interpreter.keywords.get("order", DEFAULT_DATE_ORDER)
    return None


def _takes_pairs(interpreter: Callable) -> bool:
    return interpreter is interpret_event_date or (
        isinstance(interpreter, partial) and interpreter.func is interpret_event_date)


def _iso_dates(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(mask of values the date interpreters keep as they are, those values in ISO form)."""
    date_only = pc.fill_null(pc.match_substring_regex(values, _ISO_DATE), False)
    date_time = pc.fill_null(pc.match_substring_regex(values, _ISO_DATE_TIME), False)
    candidate = pc.or_(date_only, date_time)
    if not pc.any(candidate).as_py():
        return np.zeros(len(values), dtype=bool), values
    day = pc.utf8_slice_codeunits(values, 0, 10)
    full = pc.fill_null(pc.equal(pc.utf8_length(day), 10), False)
    ok = candidate.to_numpy(zero_copy_only=False).copy()
    # A full date (YYYY-MM-DD, digits: both patterns say so) must exist: strptime rolls 1887-02-30 over to 03-02,
    # so its year, month and day are compared with the digits.
    rows = np.flatnonzero(ok & full.to_numpy(zero_copy_only=False))
    if rows.size:
        ok[rows] = _exists(day.take(pa.array(rows)))
    iso = pc.if_else(date_time, pc.binary_join_element_wise(day, pc.utf8_slice_codeunits(values, 11), "T"), values)
    return ok, iso


def _exists(days: pa.Array) -> np.ndarray:
    """Per 'YYYY-MM-DD' (digits, no nulls): is it a real day? strptime rolls 1887-02-30 over to 03-02, so its
    year, month and day are compared with the digits."""
    parsed = pc.strptime(days, format="%Y-%m-%d", unit="s", error_is_null=True)
    real_day = pc.and_(pc.and_(
        pc.equal(pc.year(parsed), pc.cast(pc.utf8_slice_codeunits(days, 0, 4), pa.int64())),
        pc.equal(pc.month(parsed), pc.cast(pc.utf8_slice_codeunits(days, 5, 7), pa.int64()))),
        pc.equal(pc.day(parsed), pc.cast(pc.utf8_slice_codeunits(days, 8, 10), pa.int64())))
    return pc.fill_null(real_day, False).to_numpy(zero_copy_only=False)


# Full dates that parse_date reads to 'YYYY-MM-DD' with nothing to flag: ISO, and numeric dates ('12.05.1887',
# '12/05/1887', '5-7-1887') in the source's date order, day or month first, when the day exists.
_FULL_ISO_DATE = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-[0-9]{2}$"
_NUMERIC_DATE = r"^(?P<a>[0-9]{1,2})[./-](?P<b>[0-9]{1,2})[./-](?P<year>[1-9][0-9]{3})$"


def _spread(values: pa.Array, rows: np.ndarray, size: int) -> pa.Array:
    """values[i] at position rows[i] of an array of `size`, null elsewhere."""
    positions = np.full(size, -1, np.int64)
    positions[rows] = np.arange(rows.size)
    return values.take(pa.array(positions, mask=positions < 0))


def _full_dates(values: pa.Array, order: str) -> tuple[np.ndarray, pa.Array]:
    """(mask of the full dates the date interpreters read without a flag, those dates as 'YYYY-MM-DD')."""
    size = len(values)
    iso_day = pc.fill_null(pc.match_substring_regex(values, _FULL_ISO_DATE), False).to_numpy(zero_copy_only=False)
    day_first = np.zeros(size, dtype=bool) if order == "iso-only" else pc.fill_null(
        pc.match_substring_regex(values, _NUMERIC_DATE), False).to_numpy(zero_copy_only=False)
    ok = np.zeros(size, dtype=bool)
    texts = pa.nulls(size, pa.string())
    rows = np.flatnonzero(iso_day)
    if rows.size:
        ok[rows] = _exists(values.take(pa.array(rows)))
        texts = values
    rows = np.flatnonzero(day_first)
    if rows.size:
        parts = pc.extract_regex(values.take(pa.array(rows)), _NUMERIC_DATE)
        day, month = ("a", "b") if order == "day-first" else ("b", "a")
        days = pc.binary_join_element_wise(parts.field("year"), pc.utf8_lpad(parts.field(month), 2, "0"),
                                           pc.utf8_lpad(parts.field(day), 2, "0"), "-")
        ok[rows] = _exists(days)
        texts = pc.if_else(pa.array(day_first), _spread(days, rows, size), texts)
    return ok, texts


def _fast_dates(values: pa.Array, end: pa.Array | None, pairs: bool, order: str = DEFAULT_DATE_ORDER
                ) -> tuple[np.ndarray, pa.Array]:
    """(mask of the rows whose interpretation Arrow can give, that interpretation), for the date interpreters
    of date order `order`: ISO dates and date-times and full numeric dates without an end, and (`pairs`:
    interpret_event_date) a start and end that are full dates in order."""
    size = len(values)
    no_end = np.ones(size, dtype=bool) if end is None else pc.is_null(end).to_numpy(zero_copy_only=False)
    fast, iso = _iso_dates(values)
    fast &= no_end
    # the other rows with a value: full day-first dates, and start/end pairs
    rest = np.flatnonzero(~fast & pc.is_valid(values).to_numpy(zero_copy_only=False))
    if rest.size == 0:
        return fast, iso
    full, dates = _full_dates(values.take(pa.array(rest)), order)
    use = full & no_end[rest]
    if pairs and end is not None:
        with_end = np.flatnonzero(full & ~no_end[rest])
        if with_end.size:
            last_full, last = _full_dates(end.take(pa.array(rest[with_end])), order)
            first = dates.take(pa.array(with_end))
            in_order = last_full & pc.fill_null(pc.greater_equal(last, first), False).to_numpy(zero_copy_only=False)
            interval = pc.if_else(pc.equal(last, first), first, pc.binary_join_element_wise(first, last, "/"))
            use[with_end] = in_order
            is_pair = np.zeros(rest.size, dtype=bool)
            is_pair[with_end] = True
            dates = pc.if_else(pa.array(is_pair), _spread(interval, with_end, rest.size), dates)
    if use.any():
        newly = np.zeros(size, dtype=bool)
        newly[rest[use]] = True
        fast |= newly
        iso = pc.if_else(pa.array(newly), _spread(dates, rest, size), iso)
    return fast, iso


def _takes_coordinates(interpreter: Callable) -> bool:
    return isinstance(interpreter, partial) and interpreter.func is interpret_coordinate and not interpreter.args


# Plain decimal degrees with at most 3 + 7 digits: a double holds them exactly enough that interpret_coordinate's
# '%.7f' of float(text), trailing zeros stripped, is the text itself normalised (',' as '.', no '+', no leading or
# trailing zeros, '-0' as '0'); Arrow does that for them, interpret_coordinate for anything else.
_PLAIN_DEGREES = r"^[+-]?[0-9]{1,3}(?:[.,][0-9]{1,7})?$"


def _plain_coordinates(distinct: pa.Array) -> dict[int, str]:
    """position in `distinct` -> interpret_coordinate's value, for the plain decimal values among them."""
    plain = np.flatnonzero(pc.fill_null(pc.match_substring_regex(distinct, _PLAIN_DEGREES), False).to_numpy(
        zero_copy_only=False))
    if plain.size == 0:
        return {}
    text = pc.replace_substring(distinct.take(pa.array(plain)), ",", ".")
    text = pc.replace_substring_regex(text, r"^\+", "")
    text = pc.replace_substring_regex(text, r"^(-?)0+([0-9])", r"\1\2")
    text = pc.replace_substring_regex(text, r"(\.[0-9]*?)0+$", r"\1")
    text = pc.replace_substring_regex(text, r"\.$", "")
    text = pc.if_else(pc.equal(text, "-0"), pa.scalar("0"), text)
    return dict(zip(plain.tolist(), text.to_pylist()))


def interpret(values: pa.Array, interpreter: Callable, term: str, extra: pa.Array | None = None
              ) -> tuple[pa.Array, list[tuple[int, str, str, str]]]:
    """Run `interpreter` once per distinct value; return the interpreted column and (row, term, flag, value)."""
    fast = None
    order = _date_order(interpreter)
    if order is not None and len(values):
        fast, iso = _fast_dates(values, extra, pairs=_takes_pairs(interpreter), order=order)
        if not fast.any():
            fast = None
    key = values if extra is None else pc.binary_join_element_wise(
        pc.fill_null(values, ""), pc.fill_null(extra, ""), "\x1f")
    if fast is not None:
        key = pc.if_else(pa.array(fast), pa.scalar(None, pa.string()), key)  # not looked at below
    encoded = pc.dictionary_encode(key)
    distinct = encoded.dictionary.to_pylist()
    known = _plain_coordinates(encoded.dictionary) if extra is None and _takes_coordinates(interpreter) else {}
    if extra is None:
        results = [(known[i], ()) if i in known else interpreter(v) for i, v in enumerate(distinct)]
    else:
        results = [interpreter(*(part or None for part in v.split("\x1f", 1))) for v in distinct]
    interpreted = pa.array([r[0] for r in results], pa.string()).take(encoded.indices)
    if fast is not None:
        interpreted = pc.if_else(pa.array(fast), iso, interpreted)
    flagged = [i for i, r in enumerate(results) if r[1]]
    issues: list[tuple[int, str, str, str]] = []
    if flagged:
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        for row in np.flatnonzero(np.isin(indices, flagged)):
            index = int(indices[row])
            original = distinct[index] if extra is None else _pair_text(*distinct[index].split("\x1f", 1))
            issues.extend((int(row), term, flag, original) for flag in results[index][1])
    return interpreted, issues


def _pair_text(start: str, end: str) -> str:
    """A start and end column's values as an issue shows them: 'start / end', 'start', or '/ end' (no start)."""
    return (f"{start} / {end}" if end else start).strip()


# --- hostile text -----------------------------------------------------------------------------------------------

# C0 controls but tab, line feed and carriage return (the archive writer folds those to a space), DEL and the C1
# controls: invisible in most tools, never meant in a Darwin Core value, and NUL ends a string in C readers.
CONTROL_CHARACTERS = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_CONTROL = re.compile(CONTROL_CHARACTERS)


def _may_hold_controls(values: pa.Array) -> bool:
    """Whether the column's UTF-8 bytes may hold a control character (a pass of NumPy over the raw bytes, several
    times quicker than the regex; bytes outside a slice can only say yes needlessly). C1 controls are U+0080-U+009F:
    0xC2 then 0x80-0x9F in UTF-8."""
    data = values.buffers()[2] if pa.types.is_string(values.type) else None
    if data is None or data.size == 0:
        return False
    raw = np.frombuffer(data, np.uint8)
    if raw.min() < 0x20:
        low = raw[raw < 0x20]
        if np.any((low != 9) & (low != 10) & (low != 13)):
            return True
    if np.any(raw == 0x7F):
        return True
    lead = np.flatnonzero(raw[:-1] == 0xC2)
    return bool(lead.size and np.any(raw[lead + 1] < 0xA0))


def _shown(value: str) -> str:
    """A value with its control characters written as escapes ('a\\x00b'), for issue rows and reports."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", value)


def without_controls(values: pa.Array, term: str) -> tuple[pa.Array, list[tuple[int, str, str, str]]]:
    """`values` with CONTROL_CHARACTERS removed (a value left empty becomes null), and a
    CONTROL_CHARACTERS_REMOVED issue (row, term, flag, original with the controls escaped) per changed row."""
    if not _may_hold_controls(values):
        return values, []
    found = pc.fill_null(pc.match_substring_regex(values, CONTROL_CHARACTERS), False)
    rows = np.flatnonzero(found.to_numpy(zero_copy_only=False))
    if rows.size == 0:
        return values, []
    originals = values.take(pa.array(rows)).to_pylist()
    cleaned = pc.utf8_trim_whitespace(pc.replace_substring_regex(values, CONTROL_CHARACTERS, ""))
    cleaned = pc.if_else(pc.equal(cleaned, ""), pa.scalar(None, pa.string()), cleaned)
    issues = [(int(row), term, "CONTROL_CHARACTERS_REMOVED", _shown(original))
              for row, original in zip(rows.tolist(), originals)]
    return pc.if_else(found, cleaned, values), issues


def undecodable_issues(batch: pa.RecordBatch, plan: MappingPlan) -> list[tuple[int, str, str, str]]:
    """TEXT_ENCODING_INVALID (row, term, flag, the value with its undecodable bytes escaped) for every term fed by
    a column that UNDECODABLE_COLUMN lists for that row (the extractor's record of what it could not decode)."""
    if UNDECODABLE_COLUMN not in batch.schema.names:
        return []
    marks = batch.column(UNDECODABLE_COLUMN)
    if marks.null_count == len(marks):
        return []
    rows = np.flatnonzero(pc.is_valid(marks).to_numpy(zero_copy_only=False))
    by_column: dict[str, list[int]] = {}
    for row, listed in zip(rows.tolist(), marks.take(pa.array(rows)).to_pylist()):
        for column in json.loads(listed):
            by_column.setdefault(column, []).append(row)
    issues = []
    fed = [(term, source.columns) for term, source in plan.sources.items()]
    if plan.coordinates is not None:  # the coordinates section's columns feed the point
        fed += [(term, plan.coordinates.columns) for term in ("decimalLatitude", "decimalLongitude")]
    for term, columns in fed:
        for column in columns:
            if column in by_column:
                values = batch.column(column)
                issues.extend((row, term, "TEXT_ENCODING_INVALID", str(values[row].as_py()))
                              for row in by_column[column])
    return issues


def _changed(original: pa.Array, interpreted: pa.Array) -> pa.Array:
    """The original where interpretation changed it (or could not keep it), else null."""
    differs = pc.fill_null(pc.not_equal(original, interpreted), True)
    return pc.if_else(pc.and_(differs, pc.is_valid(original)), original, pa.scalar(None, pa.string()))


# --- dates from parts, coordinates from another reference system ------------------------------------------------

def _assembled(batch: pa.RecordBatch, spec: DateSource | str) -> AssembledDates:
    """A date source's parts as ISO 8601 text (mappers/dates.py); a plain column as it is."""
    if isinstance(spec, str):
        text = as_text(batch.column(spec))
        return AssembledDates(text, text, np.zeros(len(text), dtype=bool))
    if spec.mask is not None:
        return apply_mask(as_text(batch.column(spec.column)), as_text(batch.column(spec.mask)))
    if spec.precision is not None:
        return apply_mask(as_text(batch.column(spec.column)), as_text(batch.column(spec.precision)),
                          SPECIFY_PRECISIONS)
    column = (lambda name: as_text(batch.column(name)) if name is not None else None)
    return assemble_parts(column(spec.year), column(spec.month), column(spec.day))


def _invalid_flag(term: str, interpreter: Callable) -> str:
    """The flag a date term's interpreter raises for a value that is no date."""
    if _takes_pairs(interpreter):
        return "RECORDED_DATE_INVALID"
    if isinstance(interpreter, partial):
        return interpreter.keywords.get("invalid_flag", "DATE_INVALID")
    return "DATE_INVALID"


def _dates(batch: pa.RecordBatch, term: str, source: TermSource, interpreter: Callable
           ) -> tuple[pa.Array, list[tuple[int, str, str, str]], pa.Array]:
    """(interpreted values, issues, originals where no value was published) of a term whose source is `date:`
    (with `end:` for eventDate, an interval): the parts are assembled to ISO 8601 (mappers/dates.py), read by the
    term's date interpreter, and every flag carries the source's parts as given ('1998-13-5', '1998-04-01
    00:00:00 (mask 40)'), which is also the original kept for the verbatim term."""
    start = _assembled(batch, source.date)
    end = _assembled(batch, source.end) if source.end is not None else None
    invalid = start.invalid | (end.invalid if end is not None else False)
    originals = start.originals if end is None else pc.if_else(
        pc.is_valid(end.originals), pc.binary_join_element_wise(pc.fill_null(start.originals, ""), end.originals,
                                                                " / "), start.originals)
    nothing = pa.scalar(None, pa.string())
    values = pc.if_else(pa.array(invalid), nothing, start.values)
    ends = None if end is None else pc.if_else(pa.array(invalid), nothing, end.values)
    interpreted, found = interpret(values, interpreter, term, ends)
    shown = originals.to_pylist()
    issues = [(row, term, flag, shown[row]) for row, _, flag, _ in found]
    flag = _invalid_flag(term, interpreter)
    issues += [(int(row), term, flag, shown[row]) for row in np.flatnonzero(invalid)]
    # the original is kept where a flag says the value is not published (a mask of 0, an unknown date, publishes
    # nothing and keeps nothing: it is no value, not a wrong one)
    flagged = np.zeros(len(values), dtype=bool)
    flagged[[row for row, *_ in issues]] = True
    kept = pc.if_else(pc.and_(pa.array(flagged), pc.is_null(interpreted)), originals, nothing)
    return interpreted, issues, kept


def _coordinates(batch: pa.RecordBatch, config: CoordinatesConfig
                 ) -> tuple[dict[str, pa.Array], list[tuple[int, str, str, str]]]:
    """The terms a coordinates section fills (COORDINATE_TERMS) and its issues: each flagged point on
    decimalLatitude and decimalLongitude with the verbatim coordinates and system as its value."""
    xs = as_text(batch.column(config.x))
    ys = as_text(batch.column(config.y))
    systems = (as_text(batch.column(config.crs_column)) if config.crs_column is not None
               else pa.array([config.crs] * batch.num_rows, pa.string()))
    # once per distinct point and system (a collection's localities repeat), spread back over the rows
    key = pc.binary_join_element_wise(pc.fill_null(xs, "\x1e"), pc.fill_null(ys, "\x1e"),
                                      pc.fill_null(systems, "\x1e"), "\x1f")
    encoded = pc.dictionary_encode(key)
    parts = [[None if part == "\x1e" else part for part in value.split("\x1f")]
             for value in encoded.dictionary.to_pylist()]
    converted = convert_points([p[0] for p in parts], [p[1] for p in parts], [p[2] for p in parts])
    datum = ["EPSG:4326" if latitude is not None else None for latitude in converted.latitude]
    distinct = {"decimalLatitude": converted.latitude, "decimalLongitude": converted.longitude,
                "geodeticDatum": datum, "verbatimCoordinates": converted.verbatim,
                "verbatimCoordinateSystem": converted.system, "verbatimSRS": converted.srs}
    columns = {term: pa.array(values, pa.string()).take(encoded.indices) for term, values in distinct.items()}
    flagged = [i for i, flag in enumerate(converted.flags) if flag is not None]
    issues = []
    if flagged:
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        for row in np.flatnonzero(np.isin(indices, flagged)).tolist():
            index = int(indices[row])
            shown = f"{converted.verbatim[index]} ({converted.srs[index] or 'no reference system'})"
            issues += [(row, "decimalLatitude", converted.flags[index], shown),
                       (row, "decimalLongitude", converted.flags[index], shown)]
    return columns, issues


def map_records(batch: pa.RecordBatch | pa.Table, plan: MappingPlan) -> RuleOutcome:
    """A source batch mapped (:func:`map_batch`) and the dataset's record rules applied (mappers/rules.py
    ``apply_rules``): the kept records' Darwin Core table and issues, their row numbers in `batch` (``kept``) and
    the records excluded by rule (``excluded``: rule, occurrenceID, ``source.<column>`` of the occurrenceID's
    columns, the core key's (``source.key``, what extension rows refer to), the record key's (``source.record_key``,
    what an incremental run merges by, when the batch has its column) and those the rules test). What the map
    step runs."""
    table, issues = map_batch(batch, plan)
    keys = list(plan.sources["occurrenceID"].columns) if "occurrenceID" in plan.sources else []
    keys += [name for name in plan.core_key if name not in keys]  # what the extensions' rows are joined on
    keys += [name for name in plan.merge_key  # what an incremental run merges by
             if name not in keys and name in batch.schema.names]
    return apply_rules(batch, table, issues, plan.filters, plan.sensitive, keys, plan.point_dependants)


def map_batch(batch: pa.RecordBatch | pa.Table, plan: MappingPlan) -> tuple[pa.Table, pa.Table]:
    """(Darwin Core table with plan.terms as text columns, issues table with ISSUE_SCHEMA), every record: the
    record rules (filters, sensitive data) are applied by :func:`map_records`.

    No value in the table holds a control character (see without_controls); the issues include
    TEXT_ENCODING_INVALID for what the extractor could not decode (see undecodable_issues)."""
    if isinstance(batch, pa.Table):
        batch = batch.combine_chunks().to_batches()[0] if batch.num_rows else pa.RecordBatch.from_pylist(
            [], schema=batch.schema)
    plan.check_columns(batch.schema.names)
    columns: dict[str, pa.Array] = {}
    issues: list[tuple[int, str, str, str]] = undecodable_issues(batch, plan)
    for term, source in plan.sources.items():
        if source.date is not None:
            interpreter = plan.interpreters.get(term) or partial(interpret_date, invalid_flag="DATE_INVALID")
            columns[term], found, kept = _dates(batch, term, source, interpreter)
            issues.extend(found)
            if term in plan.verbatim:
                columns[plan.verbatim[term]], found = without_controls(kept, plan.verbatim[term])
                issues.extend(found)
            continue
        values, found = source_values(batch, term, source, plan.namespace, plan.lookups)
        issues.extend(found)
        values, found = without_controls(values, term)
        issues.extend(found)
        interpreter = plan.interpreters.get(term)
        if interpreter is None:
            columns[term] = values
            continue
        end = None
        if source.end:
            end, found = without_controls(as_text(batch.column(source.end)), term)
            issues.extend(found)
        interpreted, found = interpret(values, interpreter, term, end)
        issues.extend(found)
        columns[term] = interpreted
        if term in plan.verbatim:
            original = values if end is None else pc.if_else(
                pc.is_valid(end), pc.binary_join_element_wise(pc.fill_null(values, ""), end, "/"), values)
            columns[plan.verbatim[term]] = _changed(original, interpreted)
    if plan.coordinates is not None:
        converted, found = _coordinates(batch, plan.coordinates)
        issues.extend(found)
        for term, values in converted.items():
            columns[term], found = without_controls(values, term)
            issues.extend(found)
    for term in rule_terms(plan.sensitive):  # filled by the sensitive rules (map_records) where not mapped
        columns.setdefault(term, pa.nulls(batch.num_rows, pa.string()))
    table = pa.table({term: columns[term] for term in plan.terms})
    rows, terms, flags, originals = zip(*issues) if issues else ((), (), (), ())
    issue_table = pa.table({"row": pa.array(rows, pa.int64()), "term": pa.array(terms, pa.string()),
                            "flag": pa.array(flags, pa.string()), "value": pa.array(originals, pa.string())},
                           schema=ISSUE_SCHEMA)
    return table, issue_table
