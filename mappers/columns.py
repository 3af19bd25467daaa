"""Column helpers over Arrow batches, one home for the mappers and every validator family.

A mapped batch is a :class:`pyarrow.Table` whose columns are Darwin Core local names, all text, null when empty.
Python work on values (parsing a date, a unit, an identifier) runs once per *distinct* value of a column and is
spread back over the rows, so its cost follows the number of distinct values, not of rows.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


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


def column(table: pa.Table, term: str) -> pa.Array:
    """The term's column (one chunk, its own type), or all-null text when the batch does not map the term."""
    if term in table.column_names:
        return table[term].combine_chunks()
    return pa.nulls(table.num_rows, pa.string())


def text(table: pa.Table, term: str) -> pa.Array:
    """The term's column as text (pa.string), all-null when the batch does not map the term."""
    values = column(table, term)
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def given(table: pa.Table, term: str) -> np.ndarray:
    """Per row: the term has a value (not null)."""
    return pc.is_valid(column(table, term)).to_numpy(zero_copy_only=False)


def not_blank(values: pa.Array) -> np.ndarray:
    """Per row: not null and not only whitespace."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    mask = pc.and_(pc.is_valid(values), pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0))
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def to_mask(array) -> np.ndarray:
    """A boolean Arrow array or numpy array as a numpy bool array, null as False."""
    if isinstance(array, np.ndarray):
        return array.astype(bool)
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def per_distinct(values: pa.Array, function: Callable, type_: pa.DataType) -> pa.Array:
    """function(value) once per distinct non-null value, spread back over the rows (null stays null)."""
    encoded = pc.dictionary_encode(values)
    results = pa.array([function(v) for v in encoded.dictionary.to_pylist()], type_)
    return results.take(encoded.indices)


def per_distinct_np(values: pa.Array, function: Callable, null_value, dtype) -> np.ndarray:
    """Like :func:`per_distinct`, into a numpy array, with `null_value` for null rows."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    results = np.array([function(v) for v in distinct] + [null_value], dtype=dtype)
    return results[pc.fill_null(encoded.indices, len(distinct)).to_numpy(zero_copy_only=False)]


def per_distinct_predicate(values: pa.Array, predicate: Callable[[str | None], bool]) -> np.ndarray:
    """A Python predicate once per distinct value (null rows get ``predicate(None)``), as a numpy bool array."""
    return per_distinct_np(values, predicate, predicate(None), bool)
