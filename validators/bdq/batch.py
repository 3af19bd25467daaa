"""Run the BDQ single-record tests over a mapped batch, summarise the responses and apply accepted amendments.

A mapped batch is a :class:`pyarrow.Table` whose columns are Darwin Core local names (``eventDate``,
``license``…), all text, null when empty. A BDQ test reads only its acted-upon and consulted terms, so
:func:`run_bdq` runs each test once per *distinct combination* of those columns in the batch and broadcasts the
response back to every row with that combination: the cost follows the number of distinct inputs, not rows.

The long result table has one row per (batch row, test). Its text columns are dictionary-encoded (logically
strings; ``table.column(name).cast(pa.string())`` or Parquet/DuckDB readers give plain text): every test's chunk
shares one ``row`` array, and status/result/comment point into the small set of distinct responses, so a
50,000-row batch times ~100 tests costs tens of megabytes, not gigabytes.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from functools import partial
from itertools import repeat
from operator import attrgetter
from typing import Collection, Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.interpreters import VERBATIM_TERM
from mobilise.terms import UnknownTermError, get_term
from mobilise.validators.bdq.core import REGISTRY, BdqTest, Status

LOG = logging.getLogger(__name__)
TEXT = pa.dictionary(pa.int32(), pa.string())
RESULT_SCHEMA = pa.schema([("row", pa.int64()), ("guid", TEXT), ("label", TEXT), ("kind", TEXT),
                           ("status", TEXT), ("result", TEXT), ("comment", TEXT)])
APPLIED_SCHEMA = pa.schema([("row", pa.int64()), ("guid", pa.string()), ("label", pa.string()),
                            ("term", pa.string()), ("old", pa.string()), ("new", pa.string()),
                            ("conflict", pa.bool_()), ("applied", pa.bool_()), ("note", pa.string())])
AMENDMENT_STATUSES = (Status.AMENDED.value, Status.FILLED_IN.value)
OFFLINE_COMMENT = ("not run: {label} consults a remote authority and the run is offline "
                   "(skipped offline; run with offline=False to consult it)")


# --- column <-> term names ----------------------------------------------------------------------------------------

def term_key(column: str) -> str | None:
    """'eventDate' -> 'dwc:eventDate', 'license' -> 'dcterms:license', 'type' -> 'dc:type'; None if no term."""
    try:
        return get_term(column).qualified_name
    except (UnknownTermError, KeyError, ValueError):
        return None


def _column_for_terms(columns: Iterable[str]) -> dict[str, str]:
    """BDQ record key -> batch column (the first column naming the term wins)."""
    found: dict[str, str] = {}
    for column in columns:
        key = term_key(column)
        if key is not None and key not in found:
            found[key] = column
    return found


def resolve_tests(names: Iterable[str] | None) -> list[BdqTest]:
    """Registered tests by GUID or label (all of them, in registration order, when names is None)."""
    if names is None:
        return list(REGISTRY.values())
    by_label = {test.label: test for test in REGISTRY.values()}
    tests: list[BdqTest] = []
    for name in names:
        test = REGISTRY.get(name) or by_label.get(name)
        if test is None:
            raise KeyError(f"no BDQ test with GUID or label {name!r}")
        if test not in tests:
            tests.append(test)
    return tests


def _overrides(test: BdqTest, parameters: Mapping[str, Mapping[str, str]] | None) -> dict[str, str]:
    if not parameters:
        return {}
    return {**dict(parameters.get(test.label) or {}), **dict(parameters.get(test.guid) or {})}


# --- distinct combinations ----------------------------------------------------------------------------------------

class _Encoder:
    """Factorises the batch's columns (once each) and column sets (once each) into distinct combinations."""

    def __init__(self, table: pa.Table):
        self.table = table
        self.rows = table.num_rows
        self._columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._groups: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._features: dict[str, dict] = {}

    def features(self, name: str) -> dict:
        """What vectorised tests computed per distinct value of a column (validators.bdq.vector.Column), kept
        for this batch only."""
        return self._features.setdefault(name, {})

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(code per row, distinct values as an object array); null and '' are the same value (an empty term)."""
        if name not in self._columns:
            array = self.table.column(name)
            array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
            if pa.types.is_dictionary(array.type):
                array = array.dictionary_decode()
            if not pa.types.is_string(array.type):
                array = pc.cast(array, pa.string())
            encoded = pc.dictionary_encode(pc.fill_null(array, ""))
            codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            self._columns[name] = (codes, np.array(encoded.dictionary.to_pylist(), dtype=object))
        return self._columns[name]

    def groups(self, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(combination index per row as int32, first row of each combination)."""
        if names not in self._groups:
            if not names:
                inverse = np.zeros(self.rows, np.int64)
            else:
                codes, values = self.column(names[0])
                inverse, radix = codes, len(values)
                for name in names[1:]:  # one mixed-radix code over the columns, renumbered only to avoid overflow
                    codes, values = self.column(name)
                    if radix * len(values) >= 2 ** 62:
                        inverse = np.unique(inverse, return_inverse=True)[1].reshape(-1)
                        radix = int(inverse.max()) + 1 if len(inverse) else 1
                    inverse = inverse * len(values) + codes
                    radix *= len(values)
                if len(names) > 1:
                    inverse = np.unique(inverse, return_inverse=True)[1].reshape(-1)
            count = int(inverse.max()) + 1 if self.rows else 0
            first = np.full(count, self.rows, np.int64)
            np.minimum.at(first, inverse, np.arange(self.rows, dtype=np.int64))
            self._groups[names] = (inverse.astype(np.int32), first)
        return self._groups[names]


def _dictionary(indices: pa.Array, values: list[str | None]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string()))


# --- running ------------------------------------------------------------------------------------------------------

def run_bdq(table: pa.Table, tests: Iterable[str] | None = None,
            parameters: Mapping[str, Mapping[str, str]] | None = None, offline: bool = True,
            vectorised: bool = True) -> pa.Table:
    """Every test (GUID or label; all registered tests when None) over every row of a mapped batch.

    Returns :data:`RESULT_SCHEMA`: ``row`` (the batch row, from 0), ``guid``, ``label``, ``kind``, ``status``,
    ``result`` (COMPLIANT…, a number, or the amendment's proposed terms as JSON text; null when the response has
    no result) and ``comment``, one row per (batch row, test), tests in the order given. ``parameters`` maps a
    test GUID or label to bdqval parameter overrides (``{"bdqval:sourceAuthority": "..."}``). With ``offline``
    (the default) a test that needs a remote authority is not called: every row gets
    EXTERNAL_PREREQUISITES_NOT_MET with a comment saying it was skipped offline.

    With ``vectorised`` (the default) the tests of :data:`vector.VECTORISED` are answered column-wise, with the
    same responses as their row-by-row reference functions (``vectorised=False`` runs only the references; the
    equivalence test compares both).

    A test raising (they must not) stops the run with the test and the input that raised it.
    """
    from mobilise.validators.bdq.vector import VECTORISED

    chosen = resolve_tests(tests)
    rows = table.num_rows
    encoder = _Encoder(table)
    columns_for = _column_for_terms(table.column_names)
    row_numbers = pa.array(np.arange(rows, dtype=np.int64))
    zeros = pa.array(np.zeros(rows, np.int32))
    chunks: list[pa.RecordBatch] = []
    for test in chosen:
        constant = [_dictionary(zeros, [test.guid]), _dictionary(zeros, [test.label]),
                    _dictionary(zeros, [test.kind])]
        if offline and test.needs_network:
            skipped = [_dictionary(zeros, [Status.EXTERNAL_PREREQUISITES_NOT_MET.value]),
                       _dictionary(pa.nulls(rows, pa.int32()), []),
                       _dictionary(zeros, [OFFLINE_COMMENT.format(label=test.label)])]
            chunks.append(pa.RecordBatch.from_arrays([row_numbers, *constant, *skipped], schema=RESULT_SCHEMA))
            continue
        terms = tuple(dict.fromkeys(test.acted_upon + test.consulted))
        present = tuple(sorted({columns_for[t] for t in terms if t in columns_for}))
        inverse, first = encoder.groups(present)
        overrides = _overrides(test, parameters)
        # BdqTest.__call__ with no overrides is the function with the default arguments: call it directly.
        call, arguments = (test.function, test.default_arguments) if not overrides else (test, overrides)
        # the value of each term at each combination's first row ("" for a term the batch lacks)
        by_term = []
        for term in terms:
            if term in columns_for:
                codes, values = encoder.column(columns_for[term])
                by_term.append(values[codes[first]].tolist())
            else:
                by_term.append([""] * len(first))
        vector = VECTORISED.get(test.guid) if vectorised else None
        if vector is not None:
            distinct, codes = _vector_responses(test, vector, call, arguments, overrides, terms, by_term, first,
                                                encoder, columns_for)
        else:
            _prepare(test, dict(zip(terms, by_term)), overrides)
            distinct, codes = _responses(test, call, arguments, terms, by_term, len(first))
        chunks.append(pa.RecordBatch.from_arrays(
            [row_numbers, *constant, *_response_columns(distinct, codes, inverse)], schema=RESULT_SCHEMA))
    if LOG.isEnabledFor(logging.DEBUG):
        from mobilise.validators.bdq.vector import cache_stats

        LOG.debug("BDQ value caches after a batch of %d rows: %s", rows, cache_stats())
    return pa.Table.from_batches(chunks, schema=RESULT_SCHEMA)


def _function_arguments(test: BdqTest, overrides: Mapping[str, str]) -> dict[str, str]:
    """The keyword arguments BdqTest.__call__ passes the test's function (defaults, overrides applied)."""
    if overrides:
        given = {**test.parameters, **{k: v for k, v in overrides.items() if v not in (None, "")}}
        return {name.split(":", 1)[-1]: value for name, value in given.items()}
    return dict(test.default_arguments)


def _vector_responses(test: BdqTest, vector, call, arguments, overrides, terms: tuple[str, ...],
                      by_term: list[list[str]], first: np.ndarray, encoder: _Encoder,
                      columns_for: dict[str, str]) -> tuple[list[tuple], np.ndarray]:
    """:func:`_responses` of a vectorised test (validators.bdq.vector): the columns over the combinations, and the
    reference function for the combinations the vectorised form leaves to it."""
    from mobilise.validators.bdq.vector import Column, Combos

    columns = {}
    for term in terms:
        if term in columns_for:
            name = columns_for[term]
            codes, values = encoder.column(name)
            columns[term] = Column(term, codes[first], values, encoder.features(name))
        else:
            columns[term] = Column(term, np.zeros(len(first), np.int64), np.array([""], dtype=object), {})

    def reference(positions: np.ndarray) -> list[tuple]:
        return _keys(test, call, arguments, terms, [[values[i] for i in positions] for values in by_term],
                     len(positions))

    return vector(Combos(len(first), columns, reference), **_function_arguments(test, overrides)).done()


def _prepare(test: BdqTest, columns: dict[str, list[str]], overrides: Mapping[str, str]) -> None:
    """Let a test answer its expensive questions for all distinct inputs at once (``function.prepare_batch``,
    e.g. the country polygons); it only fills caches, so the responses are the same without it."""
    prepare = getattr(test.function, "prepare_batch", None)
    if prepare is None:
        return
    if overrides:  # what BdqTest.__call__ passes the function
        given = {**test.parameters, **{k: v for k, v in overrides.items() if v not in (None, "")}}
        arguments = {name.split(":", 1)[-1]: value for name, value in given.items()}
    else:
        arguments = dict(test.default_arguments)
    prepare(columns, **arguments)


def _keys(test: BdqTest, call, arguments: Mapping[str, str], terms: tuple[str, ...], by_term: list[list[str]],
          count: int) -> list[tuple[str, str | None, str]]:
    """The response (status, result text or None, comment) of the test for each combination."""
    if len(terms) == 1:
        (term,), (values,) = terms, by_term
        records = [{term: value} for value in values]
    elif terms:
        records = list(map(dict, map(zip, repeat(terms), zip(*by_term))))
    else:
        records = [{} for _ in range(count)]
    function = partial(call, **arguments) if arguments else call
    try:
        responses = list(map(function, records))
    except Exception:  # find the input that raised, for the message
        for record in records:
            try:
                function(record)
            except Exception as exc:
                raise RuntimeError(f"BDQ test {test.label} ({test.guid}) raised on {record!r}: {exc!r}") from exc
        raise
    keys = list(map(_RESPONSE_PARTS, responses))
    try:  # the common case: every result is text or None, so the parts themselves are the key
        plain = all(result is None or type(result) is str for _, result, _ in dict.fromkeys(keys))
    except TypeError:  # a dict result (an amendment's proposal) is not hashable
        plain = False
    if not plain:  # results as text, response by response (JSON for proposals, str() for anything else)
        keys = [(r.status, r.result if r.result is None or type(r.result) is str else
                 _JSON.encode(r.result) if type(r.result) is dict else r.result_text(), r.comment)
                for r in responses]
    return keys


def _responses(test: BdqTest, call, arguments: Mapping[str, str], terms: tuple[str, ...],
               by_term: list[list[str]], count: int) -> tuple[list[tuple[str, str | None, str]], np.ndarray]:
    """The distinct responses (status, result text or None, comment) of the test over the distinct combinations,
    and the position of each combination's response among them."""
    keys = _keys(test, call, arguments, terms, by_term, count)
    distinct = dict.fromkeys(keys)
    position = {key: i for i, key in enumerate(distinct)}
    codes = np.fromiter(map(position.__getitem__, keys), np.int64, count=len(keys))
    return list(distinct), codes


_RESPONSE_PARTS = attrgetter("status", "result", "comment")
_JSON = json.JSONEncoder(ensure_ascii=False)  # Response.result_text's json.dumps(..., ensure_ascii=False), built once


def _response_columns(distinct: list[tuple], response_codes: np.ndarray, inverse: np.ndarray
                      ) -> list[pa.DictionaryArray]:
    """status, result and comment over the rows (``inverse``: the combination of each row), each a dictionary
    column without duplicate values (None -> null); the distinct responses are converted once each."""
    per_row = response_codes[inverse]
    columns = []
    for part in range(3):
        values: dict = {}
        remap = np.array([-1 if r[part] is None else values.setdefault(r[part], len(values)) for r in distinct],
                         np.int32)
        codes = remap[per_row]
        indices = pa.array(codes, pa.int32(), mask=codes < 0) if (remap < 0).any() else pa.array(codes)
        columns.append(pa.DictionaryArray.from_arrays(indices, pa.array(list(values), pa.string())))
    return columns

# --- summaries ----------------------------------------------------------------------------------------------------

_AMENDMENT_OUTCOMES = frozenset({Status.AMENDED.value, Status.FILLED_IN.value, Status.NOT_AMENDED.value})


def _category_of_value(result: str) -> str:
    """COMPLIANT, POTENTIAL_ISSUE, NOT_REPORTED… stay; proposed terms (JSON) and measured numbers are counted
    as PROPOSAL and VALUE, not one key per distinct value."""
    if result.startswith("{"):
        return "PROPOSAL"
    return result if result.replace("_", "").isalpha() else "VALUE"


def _result_category(kind: str, status: str, result: str | None) -> str | None:
    """What a response counts as: COMPLIANT/NOT_COMPLIANT, POTENTIAL_ISSUE/NOT_ISSUE, AMENDED/FILLED_IN/
    NOT_AMENDED (the amendment's status), a measure's NOT_REPORTED… or VALUE (a number); None without a result."""
    if status in _AMENDMENT_OUTCOMES:
        return status
    if result is None or result == "":
        return None
    return _category_of_value(result)


def _collapsed(codes: np.ndarray, values: list) -> tuple[np.ndarray, list]:
    """Result codes over the result categories instead of the distinct values (few groups to count)."""
    categories: dict[str, int] = {}
    remap = np.array([categories.setdefault(_category_of_value(v) if v else "", len(categories))
                      for v in values] + [-1], np.int64)
    return remap[codes], list(categories)  # code -1 (null) picks the appended -1


def summarise(results: pa.Table) -> list[dict]:
    """Per test: guid, label, kind, rows, ``status`` {status: rows} and ``result`` {category: rows}.

    Categories are COMPLIANT / NOT_COMPLIANT (validations), POTENTIAL_ISSUE / NOT_ISSUE (issues), AMENDED /
    FILLED_IN / NOT_AMENDED (amendments), the measure's label or VALUE (measures). Summaries of several batches
    add up with :func:`merge_summaries`.
    """
    summaries: dict[str, dict] = {}
    names = ("guid", "label", "kind", "status", "result")
    for chunk in results.to_batches():
        if not chunk.num_rows:
            continue
        encoded = [_codes(chunk.column(name)) for name in names]
        encoded[-1] = _collapsed(*encoded[-1])
        combined = np.zeros(chunk.num_rows, np.int64)
        radix = 1
        for codes, values in encoded:  # one mixed-radix code over the five columns (null: code -1)
            if radix * (len(values) + 1) >= 2 ** 62:  # would overflow: renumber what we have so far
                combined = np.unique(combined, return_inverse=True)[1].reshape(-1)
                radix = int(combined.max()) + 1
            combined = combined * (len(values) + 1) + codes + 1
            radix *= len(values) + 1
        _, first, counts = np.unique(combined, return_index=True, return_counts=True)
        for row, count in zip(first.tolist(), counts.tolist()):
            guid, label, kind, status, result = (values[codes[row]] if codes[row] >= 0 else None
                                                 for codes, values in encoded)
            summary = summaries.setdefault(guid, {"guid": guid, "label": label, "kind": kind, "rows": 0,
                                                  "status": {}, "result": {}})
            summary["rows"] += count
            summary["status"][status] = summary["status"].get(status, 0) + count
            category = _result_category(kind, status, result)
            if category is not None:
                summary["result"][category] = summary["result"].get(category, 0) + count
    return list(summaries.values())


def _codes(array: pa.Array) -> tuple[np.ndarray, list]:
    """(code per row, -1 for null; distinct values) of a text or dictionary column, without decoding it."""
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    codes = pc.fill_null(array.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    return codes, array.dictionary.to_pylist()


def merge_summaries(summaries: Iterable[list[dict]]) -> list[dict]:
    """Add up :func:`summarise` outputs of several batches (tests in first-seen order)."""
    merged: dict[str, dict] = {}
    for batch in summaries:
        for summary in batch:
            into = merged.setdefault(summary["guid"], {"guid": summary["guid"], "label": summary["label"],
                                                       "kind": summary["kind"], "rows": 0, "status": {},
                                                       "result": {}})
            into["rows"] += summary["rows"]
            for part in ("status", "result"):
                for key, count in summary[part].items():
                    into[part][key] = into[part].get(key, 0) + count
    return list(merged.values())


# --- amendments ---------------------------------------------------------------------------------------------------

def _accepted_guids(accepted: Collection[str]) -> set[str]:
    tests = resolve_tests(accepted)
    wrong = [t.label for t in tests if t.kind != "Amendment"]
    if wrong:
        raise ValueError(f"not amendment tests, cannot be accepted as amendments: {', '.join(wrong)}")
    return {t.guid for t in tests}


def _column_name(term: str, columns_for: Mapping[str, str]) -> str:
    """The batch column of a proposed term ('dwc:eventDate' -> 'eventDate'), existing or to be added."""
    key = term_key(term)
    if key is None:
        return term.split(":", 1)[-1]
    return columns_for.get(key) or get_term(key).local_name


def apply_amendments(table: pa.Table, results: pa.Table, accepted: Collection[str],
                     parameters: Mapping[str, Mapping[str, str]] | None = None) -> tuple[pa.Table, pa.Table]:
    """Apply the AMENDED/FILLED_IN proposals of the accepted amendment tests (GUIDs or labels) to the batch.

    Returns (the amended table, the applied table with :data:`APPLIED_SCHEMA`: row, guid, label, term (the
    batch column), old, new, conflict, applied, note), one row per proposed cell of an accepted test:

    - When accepted amendments propose different values for the same term of the same row, none of them is
      applied (``conflict`` true).
    - A proposal that moves a point (decimalLatitude/decimalLongitude) is not applied where
      :func:`space_amend.refusal` says why: the original point lies within the configured buffer
      (``parameters``: ``validation.bdq.parameters``, bdqval:spatialBufferInMeters of
      VALIDATION_COORDINATESCOUNTRYCODE_CONSISTENT) of the stated countryCode, or the move takes a point on a
      continent of that country to another continent. ``applied`` false, ``note`` the reason.
    - An applied value that replaces a different original keeps the original in the term's verbatim term
      (decimalLatitude -> verbatimLatitude, decimalLongitude -> verbatimLongitude, eventDate ->
      verbatimEventDate) when that is empty; a verbatim value already there is kept, and ``note`` says so. A
      term without a verbatim term keeps its original only in the applied table (the amendments CSV).

    A proposed or verbatim term the batch lacks becomes a new column (null elsewhere); an empty proposed value is
    written as null, the batch's empty. Proposals of tests not accepted are never applied.
    """
    from mobilise.validators.bdq.space_amend import refusal, spatial_buffer

    guids = _accepted_guids(accepted)
    empty = pa.table({f.name: pa.array([], f.type) for f in APPLIED_SCHEMA}, schema=APPLIED_SCHEMA)
    if not guids or not results.num_rows:
        return table, empty
    # filter on the (dictionary-encoded) columns first: only the few proposals are ever decoded
    mask = pc.and_(_is_in(results["guid"], pa.array(sorted(guids), pa.string())),
                   _is_in(results["status"], pa.array(AMENDMENT_STATUSES, pa.string())))
    proposals = results.select(["row", "guid", "label", "result"]).filter(mask)
    proposals = proposals.cast(pa.schema([("row", pa.int64()), ("guid", pa.string()), ("label", pa.string()),
                                          ("result", pa.string())]))
    if not proposals.num_rows:
        return table, empty
    columns_for = _column_for_terms(table.column_names)
    rows = proposals["row"].to_numpy()
    guid_codes, guid_values = _codes(proposals["guid"].combine_chunks())
    label_codes, label_values = _codes(proposals["label"].combine_chunks())
    result_codes, result_values = _codes(proposals["result"].combine_chunks())
    # Each distinct proposal (JSON) is parsed once: column -> [(distinct proposal, proposed value)]
    by_column: dict[str, list[tuple[int, str]]] = defaultdict(list)
    column_of: dict[str, str] = {}
    parsed: list[dict[str, str]] = []
    for index, text in enumerate(result_values):
        parsed.append({})
        for term, value in (json.loads(text) if text else {}).items():
            if term not in column_of:
                column_of[term] = _column_name(term, columns_for)
            by_column[column_of[term]].append((index, "" if value is None else str(value)))
            parsed[index][column_of[term]] = "" if value is None else str(value)

    def cells(column: str) -> np.ndarray:
        array = (table.column(column).combine_chunks() if column in table.column_names
                 else pa.nulls(table.num_rows, pa.string()))
        return array.cast(pa.string()).to_numpy(zero_copy_only=False)

    # proposals that move a point, judged once per distinct (old point, new point, country)
    refused = np.full(len(rows), None, dtype=object)  # per proposal row: why it is not applied
    moving = [i for i, p in enumerate(parsed) if {"decimalLatitude", "decimalLongitude"} & set(p)]
    if moving:
        lat, lon = cells(columns_for.get("dwc:decimalLatitude", "decimalLatitude")), cells(
            columns_for.get("dwc:decimalLongitude", "decimalLongitude"))
        country = cells(columns_for.get("dwc:countryCode", "countryCode"))
        buffer_m = spatial_buffer(parameters)
        judged: dict[tuple, str | None] = {}
        for position in np.flatnonzero(np.isin(result_codes, moving)):
            row, proposal = int(rows[position]), parsed[result_codes[position]]
            key = (lat[row], lon[row], proposal.get("decimalLatitude", lat[row]),
                   proposal.get("decimalLongitude", lon[row]), country[row])
            if key not in judged:
                judged[key] = refusal(*key, buffer_m)
            refused[position] = judged[key]
    parts: list[pa.Table] = []
    verbatim_updates: dict[str, dict[int, str]] = defaultdict(dict)
    for column, proposed in by_column.items():
        value_of = np.full(len(result_values) + 1, None, dtype=object)  # last slot: a null result (never used)
        for index, value in proposed:
            value_of[index] = value
        selected = np.flatnonzero(np.isin(result_codes, [index for index, _ in proposed]))
        cell_rows, new = rows[selected], value_of[result_codes[selected]]
        notes = refused[selected].copy()
        kept = np.array([note is None for note in notes], dtype=bool)
        # conflict: more than one distinct value proposed for the same row (among the proposals not refused)
        conflict = np.zeros(len(selected), dtype=bool)
        if kept.any():
            value_codes = np.unique(new[kept].astype(str), return_inverse=True)[1].reshape(-1)
            radix = int(value_codes.max()) + 1
            pairs = np.unique(cell_rows[kept] * radix + value_codes)  # distinct (row, value)
            distinct_rows, values_per_row = np.unique(pairs // radix, return_counts=True)
            conflict[kept] = np.isin(cell_rows[kept], distinct_rows[values_per_row > 1])
        notes[conflict] = "not applied: another accepted amendment proposes a different value"
        old_values = cells(column)
        apply = kept & ~conflict
        verbatim = VERBATIM_TERM.get(column)
        if verbatim is not None and apply.any():
            held = cells(verbatim)
            for position in np.flatnonzero(apply):
                row, original = int(cell_rows[position]), old_values[cell_rows[position]]
                if original is None or original == "" or original == (new[position] or None):
                    continue
                if held[row] is None or held[row] == "":
                    verbatim_updates[verbatim][row] = original
                    notes[position] = f"original kept in {verbatim}"
                else:
                    notes[position] = (f"{verbatim} already holds {held[row]!r}, kept; the original is only "
                                       "in this file")
        parts.append(pa.table({
            "row": pa.array(cell_rows, pa.int64()),
            "guid": pa.array(np.asarray(guid_values, dtype=object)[guid_codes[selected]], pa.string()),
            "label": pa.array(np.asarray(label_values, dtype=object)[label_codes[selected]], pa.string()),
            "term": pa.array([column] * len(selected), pa.string()),
            "old": pa.array(old_values[cell_rows], pa.string()),
            "new": pa.array(new, pa.string()),
            "conflict": pa.array(conflict, pa.bool_()),
            "applied": pa.array(apply, pa.bool_()),
            "note": pa.array(notes, pa.string())}, schema=APPLIED_SCHEMA))
        if apply.any():
            updated = old_values.copy()
            updated[cell_rows[apply]] = [value or None for value in new[apply]]  # "" is the batch's empty: null
            table = _set_column(table, column, updated)
    for verbatim, originals in verbatim_updates.items():
        updated = cells(verbatim)
        updated[list(originals)] = list(originals.values())
        table = _set_column(table, verbatim, updated)
    applied = pa.concat_tables(parts) if parts else empty
    return table, applied.sort_by([("row", "ascending"), ("term", "ascending")])


def _is_in(column: pa.ChunkedArray, values: pa.Array) -> pa.ChunkedArray:
    """``pc.is_in(column, value_set=values)``, asked of each dictionary chunk's few distinct values instead of its
    rows (``pc.is_in`` over a dictionary column decodes it: ~5x the time)."""
    return pa.chunked_array([pc.fill_null(pc.take(pc.is_in(chunk.dictionary, value_set=values), chunk.indices), False)
                             if pa.types.is_dictionary(chunk.type) else pc.is_in(chunk, value_set=values)
                             for chunk in column.chunks], pa.bool_())


def _set_column(table: pa.Table, column: str, values: np.ndarray) -> pa.Table:
    array = pa.array(values, pa.string())
    if column in table.column_names:
        return table.set_column(table.column_names.index(column), column, array)
    return table.append_column(column, array)


# --- for the run report (publishers.report.RunReport builds its amendments section from these) -------------------

def summarise_applied(applied: pa.Table) -> list[dict]:
    """Per (guid, label, term) of an :func:`apply_amendments` applied table: ``records`` applied, ``conflicts``
    (proposals left out because another accepted amendment disagreed) and ``refused`` (coordinate moves not
    applied, see apply_amendments). Add batches up with :func:`merge_applied`."""
    counts: dict[tuple[str, str, str], dict] = {}
    for guid, label, term, conflict, done in zip(*(applied.column(n).to_pylist()
                                                   for n in ("guid", "label", "term", "conflict", "applied"))):
        entry = counts.setdefault((guid, label, term), {"guid": guid, "label": label, "term": term, "records": 0,
                                                        "conflicts": 0, "refused": 0})
        entry["records" if done else "conflicts" if conflict else "refused"] += 1
    return list(counts.values())


def merge_applied(summaries: Iterable[list[dict]]) -> list[dict]:
    merged: dict[tuple[str, str], dict] = {}
    for batch in summaries:
        for entry in batch:
            into = merged.setdefault((entry["guid"], entry["term"]), {**entry, "records": 0, "conflicts": 0,
                                                                      "refused": 0})
            for count in ("records", "conflicts", "refused"):
                into[count] += entry.get(count, 0)
    return list(merged.values())

