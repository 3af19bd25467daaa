"""GBIF geochronology flags: ranks, ranges and parent units of the earliest/latest eon … age terms against the
ICS chart (validators/data/ics_chronostratigraphy.tsv), as GBIF's GeologicalContextInterpreter raises them."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.columns import text
from mobilise.validators.gbif.batch import name_key, per_batch
from mobilise.validators.registry import CheckContext, check

DATA = Path(__file__).resolve().parent.parent / "data"

# --- geochronology (ICS chart, validators/data/ics_chronostratigraphy.tsv) -----------------------------------

RANKS = ("eon", "era", "period", "epoch", "age")
RANK_TERMS = {
    "eon": ("earliestEonOrLowestEonothem", "latestEonOrHighestEonothem", "EON_OR_EONOTHEM"),
    "era": ("earliestEraOrLowestErathem", "latestEraOrHighestErathem", "ERA_OR_ERATHEM"),
    "period": ("earliestPeriodOrLowestSystem", "latestPeriodOrHighestSystem", "PERIOD_OR_SYSTEM"),
    "epoch": ("earliestEpochOrLowestSeries", "latestEpochOrHighestSeries", "EPOCH_OR_SERIES"),
    "age": ("earliestAgeOrLowestStage", "latestAgeOrHighestStage", "AGE_OR_STAGE"),
}
_RANK_WORDS = {"eon", "eonothem", "era", "erathem", "period", "system", "epoch", "series", "age", "stage",
               "subperiod", "subsystem"}


@dataclass(frozen=True)
class Unit:
    name: str
    rank: str
    parent: str
    start_ma: float


@lru_cache(maxsize=1)
def chronostratigraphy() -> dict[str, Unit]:
    """normalised name or alias -> unit of the ICS chart."""
    units: dict[str, Unit] = {}
    with open(DATA / "ics_chronostratigraphy.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"):
            unit = Unit(row["name"], row["rank"], row["parent"], float(row["start_ma"]))
            for name in [row["name"]] + [a for a in row["aliases"].split("|") if a]:
                units[name_key(name)] = unit
    return units


@lru_cache(maxsize=4_096)
def chrono_unit(text: str | None) -> Unit | None:
    if text is None:
        return None
    key = name_key(text)
    units = chronostratigraphy()
    if key in units:
        return units[key]
    words = key.split()
    while len(words) > 1 and words[-1] in _RANK_WORDS:  # 'Jurassic Period', 'Lower Jurassic Series'
        words = words[:-1]
    return units.get(" ".join(words))


@lru_cache(maxsize=1)
def _unit_ids() -> dict[str, int]:
    names = sorted({unit.name for unit in chronostratigraphy().values()})
    return {name: i for i, name in enumerate(names)}


def _units(table: pa.Table, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rank position in RANKS, start in Ma, unit id, parent unit id) per row; -1 / NaN where unknown (once per
    batch and term: several checks ask)."""
    return per_batch(table, ("units", term), lambda: _units_of(table, term))


def _units_of(table: pa.Table, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ids = _unit_ids()

    def describe(text: str) -> tuple:
        unit = chrono_unit(text)
        if unit is None:
            return (-1, np.nan, -1, -1)
        return (RANKS.index(unit.rank), unit.start_ma, ids[unit.name], ids.get(unit.parent, -1))

    encoded = pc.dictionary_encode(text(table, term))
    distinct = [describe(v) for v in encoded.dictionary.to_pylist()] + [(-1, np.nan, -1, -1)]
    indices = pc.fill_null(encoded.indices, len(distinct) - 1).to_numpy(zero_copy_only=False)
    rank, start, unit, parent = (np.array(column_)[indices] for column_ in zip(*distinct))
    return rank, start.astype(np.float64), unit, parent


def _register_rank(rank: str) -> None:
    earliest, latest, flag = RANK_TERMS[rank]
    position = RANKS.index(rank)
    for term in (earliest, latest):
        @check(f"{flag}_RANK_MISMATCH", term)
        def rank_mismatch(table: pa.Table, context: CheckContext, term=term):
            found = _units(table, term)[0]
            return (found >= 0) & (found != position)

    @check(f"{flag}_INVALID_RANGE", earliest)
    def invalid_range(table: pa.Table, context: CheckContext):
        rank_a, start_a, _, _ = _units(table, earliest)
        rank_b, start_b, _, _ = _units(table, latest)
        with np.errstate(invalid="ignore"):
            return (rank_a == position) & (rank_b == position) & (start_a < start_b)  # earliest is the younger


def _register_pair(parent_rank: str, child_rank: str) -> None:
    flag = f"{RANK_TERMS[parent_rank][2]}_AND_{RANK_TERMS[child_rank][2]}_MISMATCH"
    for side in (0, 1):  # earliest with earliest, latest with latest
        parent_term, child_term = RANK_TERMS[parent_rank][side], RANK_TERMS[child_rank][side]

        @check(flag, child_term)
        def pair_mismatch(table: pa.Table, context: CheckContext, parent_term=parent_term, child_term=child_term):
            rank_p, _, unit_p, _ = _units(table, parent_term)
            rank_c, _, _, parent_c = _units(table, child_term)
            return ((rank_p == RANKS.index(parent_rank)) & (rank_c == RANKS.index(child_rank))
                    & (parent_c != unit_p))


for _rank in RANKS:
    _register_rank(_rank)
for _parent, _child in zip(RANKS, RANKS[1:]):
    _register_pair(_parent, _child)
