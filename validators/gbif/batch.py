"""Values several GBIF checks of one batch ask for, computed once per batch: numbers, coordinates, datums,
measures, units. Numpy results are read-only, so no check can change what another reads."""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pyarrow as pa

from mobilise.mappers.columns import text
from mobilise.mappers.measurements import numbers
from mobilise.validators.registry import BatchMemo


_BATCH = BatchMemo()


def per_batch(table: pa.Table, key: tuple, compute):
    """compute() once per batch and key; numpy results are made read-only so no check can change them."""
    def read_only():
        value = compute()
        for array in value if isinstance(value, tuple) else (value,):
            if isinstance(array, np.ndarray):
                array.setflags(write=False)
        return value

    return _BATCH.get(table, key, read_only)


def term_numbers(table: pa.Table, term: str) -> np.ndarray:
    """The term as float64 with NaN where empty or not a number (never raises, unlike a cast)."""
    def compute() -> np.ndarray:
        return numbers(text(table, term))
    return per_batch(table, ("numbers", term), compute)


def coordinates(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(latitude, longitude, valid): valid where both are numbers within range."""
    def compute():
        lat, lon = term_numbers(table, "decimalLatitude"), term_numbers(table, "decimalLongitude")
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        return lat, lon, valid
    return per_batch(table, ("coordinates",), compute)


def name_key(text: str) -> str:
    """A name folded for lookups: case and accents dropped, runs of other characters as one space ('?' kept)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9?]+", " ", text).strip()
