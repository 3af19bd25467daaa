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
from mobilise.mappers.coordinates import interpret_coordinate
from mobilise.mappers.dates import interpret_date, interpret_event_date
from mobilise.mappers.interpreters import VERBATIM_TERM, Interpreter, interpreters
from mobilise.mappers.vocabularies import Translator
from mobilise.settings import TEMPLATE_FIELD, DatasetConfig, TermSource

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
    terms: list[str] = field(init=False)

    def __post_init__(self) -> None:
        # occurrenceID first: it is the core id column of the archive (meta.xml <id index="0"/>).
        mapped = ["occurrenceID"] + [t for t in self.sources if t != "occurrenceID"]
        self.terms = mapped + [v for v in self.verbatim.values() if v not in self.sources]

    @classmethod
    def from_config(cls, config: DatasetConfig) -> "MappingPlan":
        available = interpreters(config.vocabularies)
        chosen: dict[str, Interpreter] = {}
        for term, source in config.mapping.items():
            if source.vocabulary:
                chosen[term] = Translator(source.vocabulary, config.vocabularies.get(source.vocabulary))
            elif term in available:
                chosen[term] = available[term]
        verbatim = {t: v for t, v in VERBATIM_TERM.items() if t in chosen and v not in config.mapping}
        return cls(dict(config.mapping), chosen, verbatim, dataset_namespace(config))

    @property
    def source_columns(self) -> set[str]:
        return {column for source in self.sources.values() for column in source.columns}

    def check_columns(self, columns: list[str]) -> None:
        missing = sorted(self.source_columns - set(columns))
        if missing:
            where = [f"mapping.{t}" for t, s in self.sources.items() if set(s.columns) & set(missing)]
            present = [column for column in columns if column != UNDECODABLE_COLUMN]
            raise MappingError(f"{', '.join(where)}: column(s) {', '.join(missing)} not in the source "
                               f"(the source has: {', '.join(present)})")


def dataset_namespace(config: DatasetConfig) -> uuid.UUID:
    """Namespace for uuid5 identifiers: the dataset's own UUID when it has one, else derived from its name."""
    try:
        return uuid.UUID(str(config.metadata.dataset_id))
    except (ValueError, AttributeError, TypeError):
        return uuid.uuid5(uuid.NAMESPACE_URL, f"mobilise:{config.shortname}")


# --- column helpers -------------------------------------------------------------------------------------------

def as_text(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any source column as trimmed text, with empty strings as null."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type):
        array = array.cast(pa.string())
    elif not pa.types.is_string(array.type):
        array = pc.cast(array, pa.string())
    array = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _coalesce(arrays: list[pa.Array]) -> pa.Array:
    return arrays[0] if len(arrays) == 1 else pc.coalesce(*arrays)


def _template(batch: pa.RecordBatch, template: str) -> pa.Array:
    """'https://x.org/{guid}' over the batch; null where any named column is null (so a missing key shows)."""
    parts: list = []
    position = 0
    for match in TEMPLATE_FIELD.finditer(template):
        if match.start() > position:
            parts.append(template[position:match.start()])
        parts.append(as_text(batch.column(match.group(1))))
        position = match.end()
    if position < len(template):
        parts.append(template[position:])
    arrays = [p if isinstance(p, pa.Array) else pa.array([p] * batch.num_rows, pa.string()) for p in parts]
    return pc.binary_join_element_wise(*arrays, "")


def _uuid5(values: pa.Array, namespace: uuid.UUID) -> pa.Array:
    encoded = pc.dictionary_encode(values)
    minted = pa.array([f"urn:uuid:{uuid.uuid5(namespace, v)}" for v in encoded.dictionary.to_pylist()],
                      pa.string())
    return minted.take(encoded.indices)


def source_values(batch: pa.RecordBatch, source: TermSource, namespace: uuid.UUID) -> pa.Array:
    if source.constant is not None:
        return pa.array([source.constant] * batch.num_rows, pa.string())
    if source.template is not None:
        return _template(batch, source.template)
    if source.uuid5 is not None:
        return _uuid5(_template(batch, source.uuid5), namespace)
    names = [source.column] if isinstance(source.column, str) else source.column
    return _coalesce([as_text(batch.column(name)) for name in names])


# Dates already in ISO 8601 that the date interpreters would give back unchanged (or with the date-time separator
# made a "T"): recognised in Arrow, so that per-record timestamps (``modified``) do not cost a Python call each.
# Anything else, including a well-formed date that does not exist, goes through the interpreter as before.
_ISO_DATE = r"^[1-9][0-9]{3}(-(0[1-9]|1[0-2])(-[0-9]{2})?)?$"
_ISO_DATE_TIME = (r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
                  r"(Z|[+-][0-9]{2}:?[0-9]{2})?$")


def _takes_iso_dates(interpreter: Callable) -> bool:
    return interpreter is interpret_event_date or (
        isinstance(interpreter, partial) and interpreter.func is interpret_date and not interpreter.args)


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


# Full dates that parse_single reads to 'YYYY-MM-DD' with nothing to flag: ISO, and numeric day-first dates
# ('12.05.1887', '12/05/1887', '5-7-1887'), when the day exists.
_FULL_ISO_DATE = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-[0-9]{2}$"
_DAY_FIRST_DATE = r"^(?P<day>[0-9]{1,2})[./-](?P<month>[0-9]{1,2})[./-](?P<year>[1-9][0-9]{3})$"


def _spread(values: pa.Array, rows: np.ndarray, size: int) -> pa.Array:
    """values[i] at position rows[i] of an array of `size`, null elsewhere."""
    positions = np.full(size, -1, np.int64)
    positions[rows] = np.arange(rows.size)
    return values.take(pa.array(positions, mask=positions < 0))


def _full_dates(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(mask of the full dates the date interpreters read without a flag, those dates as 'YYYY-MM-DD')."""
    size = len(values)
    iso_day = pc.fill_null(pc.match_substring_regex(values, _FULL_ISO_DATE), False).to_numpy(zero_copy_only=False)
    day_first = pc.fill_null(pc.match_substring_regex(values, _DAY_FIRST_DATE), False).to_numpy(
        zero_copy_only=False)
    ok = np.zeros(size, dtype=bool)
    texts = pa.nulls(size, pa.string())
    rows = np.flatnonzero(iso_day)
    if rows.size:
        ok[rows] = _exists(values.take(pa.array(rows)))
        texts = values
    rows = np.flatnonzero(day_first)
    if rows.size:
        parts = pc.extract_regex(values.take(pa.array(rows)), _DAY_FIRST_DATE)
        days = pc.binary_join_element_wise(parts.field("year"), pc.utf8_lpad(parts.field("month"), 2, "0"),
                                           pc.utf8_lpad(parts.field("day"), 2, "0"), "-")
        ok[rows] = _exists(days)
        texts = pc.if_else(pa.array(day_first), _spread(days, rows, size), texts)
    return ok, texts


def _fast_dates(values: pa.Array, end: pa.Array | None, pairs: bool) -> tuple[np.ndarray, pa.Array]:
    """(mask of the rows whose interpretation Arrow can give, that interpretation), for the date interpreters:
    ISO dates and date-times and full day-first dates without an end, and (`pairs`: interpret_event_date) a
    start and end that are full dates in order."""
    size = len(values)
    no_end = np.ones(size, dtype=bool) if end is None else pc.is_null(end).to_numpy(zero_copy_only=False)
    fast, iso = _iso_dates(values)
    fast &= no_end
    # the other rows with a value: full day-first dates, and start/end pairs
    rest = np.flatnonzero(~fast & pc.is_valid(values).to_numpy(zero_copy_only=False))
    if rest.size == 0:
        return fast, iso
    full, dates = _full_dates(values.take(pa.array(rest)))
    use = full & no_end[rest]
    if pairs and end is not None:
        with_end = np.flatnonzero(full & ~no_end[rest])
        if with_end.size:
            last_full, last = _full_dates(end.take(pa.array(rest[with_end])))
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
    if _takes_iso_dates(interpreter) and len(values):
        fast, iso = _fast_dates(values, extra, pairs=interpreter is interpret_event_date)
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
            original = distinct[index].replace("\x1f", " / ").strip(" /")
            issues.extend((int(row), term, flag, original) for flag in results[index][1])
    return interpreted, issues


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
    for term, source in plan.sources.items():
        for column in source.columns:
            if column in by_column:
                values = batch.column(column)
                issues.extend((row, term, "TEXT_ENCODING_INVALID", str(values[row].as_py()))
                              for row in by_column[column])
    return issues


def _changed(original: pa.Array, interpreted: pa.Array) -> pa.Array:
    """The original where interpretation changed it (or could not keep it), else null."""
    differs = pc.fill_null(pc.not_equal(original, interpreted), True)
    return pc.if_else(pc.and_(differs, pc.is_valid(original)), original, pa.scalar(None, pa.string()))


def map_batch(batch: pa.RecordBatch | pa.Table, plan: MappingPlan) -> tuple[pa.Table, pa.Table]:
    """(Darwin Core table with plan.terms as text columns, issues table with ISSUE_SCHEMA).

    No value in the table holds a control character (see without_controls); the issues include
    TEXT_ENCODING_INVALID for what the extractor could not decode (see undecodable_issues)."""
    if isinstance(batch, pa.Table):
        batch = batch.combine_chunks().to_batches()[0] if batch.num_rows else pa.RecordBatch.from_pylist(
            [], schema=batch.schema)
    plan.check_columns(batch.schema.names)
    columns: dict[str, pa.Array] = {}
    issues: list[tuple[int, str, str, str]] = undecodable_issues(batch, plan)
    for term, source in plan.sources.items():
        values, found = without_controls(source_values(batch, source, plan.namespace), term)
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
    table = pa.table({term: columns[term] for term in plan.terms})
    rows, terms, flags, originals = zip(*issues) if issues else ((), (), (), ())
    issue_table = pa.table({"row": pa.array(rows, pa.int64()), "term": pa.array(terms, pa.string()),
                            "flag": pa.array(flags, pa.string()), "value": pa.array(originals, pa.string())},
                           schema=ISSUE_SCHEMA)
    return table, issue_table
