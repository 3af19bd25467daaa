"""MIDS term presence, computed once per batch and column, matches the plain per-term definition."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.validators.mids import _INTEGER, _NUMBER, Term, _Evaluator


def _reference(values: pa.Array, term: Term) -> np.ndarray:
    """The definition as first written: trimmed, not blank, not an absent value (lower-cased), parses."""
    if len(values) == 0 or values.null_count == len(values):
        return np.zeros(len(values), dtype=bool)
    trimmed = pc.utf8_trim_whitespace(values)
    mask = pc.greater(pc.utf8_length(trimmed), 0)
    if term.absent - {""}:
        removed = pc.is_in(pc.utf8_lower(trimmed), pa.array(sorted(term.absent - {""}), pa.string()))
        mask = pc.and_(mask, pc.invert(removed))
    if term.kind != "text":
        mask = pc.and_(mask, pc.match_substring_regex(trimmed, _NUMBER if term.kind == "number" else _INTEGER))
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


VALUES = [None, "", "   ", "\u00a0", "x", " Unknown ", "UNKNOWN", "un\u212anown", "NULL", "null ", "nul", "İ",
          "unknown:undigitized", "Unknown:Undigitized ", "0", " 0 ", "00", "12", "-1.5", " 3e4 ", "1,5", "abc",
          "\u212a", "K", "k", "incertae sedis", "Incertae Sedis", "ınknown"]


def test_terms_match_the_definition():
    table = pa.table({"a": pa.array(VALUES, pa.string()), "b": pa.array(list(reversed(VALUES)), pa.string()),
                      "empty": pa.nulls(len(VALUES), pa.string())})
    terms = [Term(column, absent, kind) for column in ("a", "b", "empty", "missing")
             for absent in (frozenset(), frozenset({""}), frozenset({"unknown", "null", "unknown:undigitized"}),
                            frozenset({"0", "k"}), frozenset({"incertae sedis", ""}))
             for kind in ("text", "number", "integer")]
    evaluator = _Evaluator(table)
    for term in terms:
        values = table[term.column].combine_chunks() if term.column in table.column_names else \
            pa.nulls(table.num_rows, pa.string())
        assert evaluator.condition(term).tolist() == _reference(values, term).tolist(), term
