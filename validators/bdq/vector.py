"""Column-wise (vectorised) forms of the heaviest BDQ tests, with the same responses as the row-by-row reference.

The reference implementation of every test is its registered function (``core.REGISTRY``): a pure function of one
record. :func:`batch.run_bdq` calls it once per distinct input combination, which costs a Python call, a record dict
and a response per combination; on a real batch (25,000 rows, ~16,000 distinct eventDates, ~13,000 distinct points)
that per-combination cost is most of the pipeline. A test listed in :data:`VECTORISED` is answered here instead, for
all combinations at once:

- each term is a :class:`Column`: the code of each combination's value among the column's distinct values;
- what a test asks of a value (empty? a valid ISO 8601 date, from when to when? a number?) is computed once per
  distinct value of the column and shared by every test of the batch (:meth:`Column.feature`); dates are parsed by
  the reference parser (``time_iso.parse_interval``), numbers by ``space_parse.number``;
- the decisions are numpy expressions over the combinations, and each constant response is built once;
- rare branches whose response depends on the value in ways not worth re-writing (an uninterpretable date, a
  value out of range, the amendments that interpret free text) are answered by the reference function itself, for
  those combinations only (:meth:`Answers.reference`), so they cannot drift.

``tests/bdq/test_vectorised_equivalence.py`` runs every vectorised test both ways on the official validation data
and on a generated sample and requires identical (status, result, comment) for every input.

Shapes: a vectorised test is ``function(combos: Combos, **arguments) -> Answers``, ``arguments`` being the keyword
arguments the reference function receives (the test's parameters, overrides applied). The per-value features live in
the batch's :class:`batch._Encoder` (one batch at a time: bounded by the batch size); the module-level caches they
use (``parse_interval``, ``interpret_date``…) are ``lru_cache``'d with a ``maxsize``; :func:`cache_stats` reports
their hit rates.
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.validators.bdq import name as bdq_name, space, space_parse, time as bdq_time, time_iso, time_verbatim
from mobilise.validators.bdq.core import COMPLIANT, NOT_COMPLIANT, NOT_REPORTED, REGISTRY, Status

# A response as batch.run_bdq keeps it: (status, result text or None, comment).
Key = tuple

_NONE = np.int64(-(2 ** 62))       # an integer term that is not an integer (_as_int gave None)
_ABSENT = np.int64(-(2 ** 62) + 1)  # an atomic value the eventDate does not determine
_EMPTY_PATTERN = r"^[\x00-\x20]*$"  # core.is_empty: only characters U+0000..U+0020 (or nothing)
_ATOMIC = bdq_time._EVENT_TERMS[1:]  # year, month, day, startDayOfYear, endDayOfYear


class Column:
    """One term over a test's distinct input combinations: ``codes[i]`` is combination i's value among
    ``values`` (the column's distinct texts, '' for null; a single '' when the batch lacks the term)."""

    def __init__(self, term: str, codes: np.ndarray, values: np.ndarray, features: dict):
        self.term, self.codes, self.values, self._features = term, codes, values, features

    def feature(self, name: str, compute: Callable[[np.ndarray], object]):
        """``compute(values)`` (an array, or a tuple of arrays, per distinct value), once per column and batch."""
        if name not in self._features:
            self._features[name] = compute(self.values)
        return self._features[name]

    def at(self, name: str, compute: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """The feature per combination."""
        return self.feature(name, compute)[self.codes]

    def empty(self) -> np.ndarray:
        return self.at("empty", _empty)

    def text(self) -> np.ndarray:
        return self.values[self.codes]


def _empty(values: np.ndarray) -> np.ndarray:
    return pc.match_substring_regex(pa.array(values, pa.string()), _EMPTY_PATTERN).to_numpy(zero_copy_only=False)


class Combos:
    """The distinct input combinations of one test over a batch (built by :func:`batch.run_bdq`)."""

    def __init__(self, count: int, columns: dict[str, Column], reference: Callable[[np.ndarray], list]):
        self.count, self._columns, self._reference = count, columns, reference

    def __getitem__(self, term: str) -> Column:
        return self._columns[term]


class Answers:
    """The response of each combination: constants put with a mask, the rest by the reference function."""

    def __init__(self, combos: Combos):
        self.combos = combos
        self.codes = np.full(combos.count, -1, np.int64)
        self.distinct: dict[Key, int] = {}

    def _code(self, key: Key) -> int:
        return self.distinct.setdefault(key, len(self.distinct))

    def put(self, mask: np.ndarray, status: Status, result: str | None, comment: str) -> None:
        """Combinations where ``mask`` holds (and none put before) get this response."""
        mask = mask & (self.codes < 0)
        if mask.any():
            self.codes[mask] = self._code((status, result, comment))

    def each(self, mask: np.ndarray, by: np.ndarray, respond: Callable[[int], Key]) -> None:
        """Combinations where ``mask`` holds get ``respond(k)``, computed once per distinct ``by`` value k among
        them (``by``: an integer per combination that determines the response, e.g. a column's codes)."""
        mask = mask & (self.codes < 0)
        if not mask.any():
            return
        keys, inverse = np.unique(by[mask], return_inverse=True)
        local = np.array([self._code(respond(int(k))) for k in keys], np.int64)
        self.codes[mask] = local[inverse.reshape(-1)]

    def each_many(self, mask: np.ndarray, by: np.ndarray, status: Status,
                  respond: Callable[[np.ndarray], tuple[list, list]]) -> None:
        """As :meth:`each`, with ``respond(ks)`` giving the (results, comments) of all distinct ``by`` values at
        once (column-wise, e.g. with :func:`_join`)."""
        mask = mask & (self.codes < 0)
        if not mask.any():
            return
        keys, inverse = np.unique(by[mask], return_inverse=True)
        results, comments = respond(keys)
        local = np.array([self._code((status, r, c)) for r, c in zip(results, comments)], np.int64)
        self.codes[mask] = local[inverse.reshape(-1)]

    def reference(self, mask: np.ndarray) -> None:
        """Combinations where ``mask`` holds get the reference function's response."""
        mask = mask & (self.codes < 0)
        positions = np.flatnonzero(mask)
        if len(positions):
            self.codes[positions] = [self._code(key) for key in self.combos._reference(positions)]

    def done(self) -> tuple[list[Key], np.ndarray]:
        """(distinct responses in order of first use, code per combination), as batch._responses returns them;
        combinations nothing was put for get the reference's response."""
        self.reference(np.ones(self.combos.count, bool))
        keys = list(self.distinct)
        if not len(self.codes):
            return [], self.codes
        used, first = np.unique(self.codes, return_index=True)
        order = used[np.argsort(first)]
        renumber = np.empty(len(keys), np.int64)
        renumber[order] = np.arange(len(order))
        return [keys[i] for i in order], renumber[self.codes]


def _join(*parts) -> list[str]:
    """Element-wise concatenation of texts (str) and arrays of texts or integers, as a list of str."""
    arrays = [p if isinstance(p, str) else pa.array(p).cast(pa.string()) for p in parts]
    return pc.binary_join_element_wise(*arrays, "").to_pylist()


# --- per-value features ---------------------------------------------------------------------------------------------

# YYYY, YYYY-MM, YYYY-MM-DD (ASCII digits, nothing else)
_SIMPLE_DATE = r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?$"


def _intervals(values: np.ndarray) -> dict[str, np.ndarray]:
    """What the TIME tests ask of an ISO 8601 value, per distinct value: valid, begin/last/finish (datetime64[us]),
    first/last year, seconds, and the atomic values it determines (time._atomic_of; _ABSENT where none).

    The plain dates (YYYY, YYYY-MM, YYYY-MM-DD: most values) are computed column-wise with numpy calendar
    arithmetic; every other value (intervals, times, ordinal and basic dates, other digits) goes through the reference
    parser (time_iso.parse_interval) one distinct value at a time."""
    n = len(values)
    valid = np.zeros(n, bool)
    begin, last, finish = (np.zeros(n, "datetime64[us]") for _ in range(3))
    atomic = {t: np.full(n, _ABSENT, np.int64) for t in _ATOMIC}
    first_year, last_year, seconds = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    parts = pc.extract_regex(pa.array(values, pa.string()), _SIMPLE_DATE)
    simple = parts.is_valid().to_numpy(zero_copy_only=False)
    if simple.any():
        fields = [parts.field(i).filter(pa.array(simple)).to_numpy(zero_copy_only=False) for i in range(3)]
        y = fields[0].astype(np.int64)
        has_m, has_d = fields[1] != "", fields[2] != ""
        m = np.where(has_m, fields[1], "1").astype(np.int64)
        d = np.where(has_d, fields[2], "1").astype(np.int64)
        year_start = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        month = (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + np.clip(m - 1, 0, 11)
        first = month.astype("datetime64[D]") + (np.clip(d, 1, 31) - 1)
        end = np.where(has_d, first + 1, np.where(has_m, (month + 1).astype("datetime64[D]"),
                                                 (year_start.astype("datetime64[Y]") + 1).astype("datetime64[D]")))
        ok = ((y > 0) & (m >= 1) & (m <= 12) & (d >= 1)
              & (first.astype("datetime64[M]") == month)  # the day exists in that month
              & (end < np.datetime64("10000-01-01")))  # time_iso cannot represent the end of 9999-12-31
        where = np.flatnonzero(simple)[ok]
        first, end, y, m, d, has_m, has_d = first[ok], end[ok], y[ok], m[ok], d[ok], has_m[ok], has_d[ok]
        valid[where] = True
        begin[where] = first
        finish[where] = end
        last[where] = end.astype("datetime64[us]") - np.timedelta64(1, "us")
        first_year[where] = last_year[where] = y
        seconds[where] = (end - first).astype(np.int64) * 86400
        atomic["dwc:year"][where] = y
        atomic["dwc:month"][where] = np.where(has_m, m, _ABSENT)
        atomic["dwc:day"][where] = np.where(has_d, d, _ABSENT)
        day_of_year = (first - (y - 1970).astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) + 1
        atomic["dwc:startDayOfYear"][where] = atomic["dwc:endDayOfYear"][where] = np.where(has_d, day_of_year,
                                                                                           _ABSENT)
        simple[np.flatnonzero(simple)[~ok]] = False  # the reference decides (it says not valid, or why)
    parse, atomic_of = time_iso.parse_interval, bdq_time._atomic_of
    rest = np.flatnonzero(~simple)
    found = []
    for i, value in zip(rest.tolist(), values[rest].tolist()):
        interval = parse(value)
        if interval is not None:
            found.append((i, interval, atomic_of(value)))
    if found:
        where = np.array([i for i, _, _ in found], np.int64)
        valid[where] = True
        begin[where] = np.array([iv.begin for _, iv, _ in found], "datetime64[us]")
        last[where] = np.array([iv.last for _, iv, _ in found], "datetime64[us]")
        finish[where] = np.array([iv.finish for _, iv, _ in found], "datetime64[us]")
        first_year[where] = [iv.first_day.year for _, iv, _ in found]
        last_year[where] = [iv.last_day.year for _, iv, _ in found]
        seconds[where] = [iv.seconds() for _, iv, _ in found]
        for term in _ATOMIC:
            atomic[term][where] = [values_.get(term, _ABSENT) for _, _, values_ in found]
    return {"valid": valid, "begin": begin, "last": last, "finish": finish, "first_year": first_year,
            "last_year": last_year, "seconds": seconds, **atomic}


def _integers(values: np.ndarray) -> np.ndarray:
    """time._as_int per distinct value (_NONE when it is not an integer)."""
    as_int = bdq_time._as_int
    return np.array([_NONE if (n := as_int(v)) is None else n for v in values.tolist()], np.int64)


def _numbers(values: np.ndarray) -> np.ndarray:
    """space_parse.number per distinct value (NaN when it is not a number)."""
    number = space_parse.number
    return np.array([np.nan if (x := number(v or "")) is None else x for v in values.tolist()], np.float64)


def _not_numbers(values: np.ndarray) -> np.ndarray:
    """space_parse.number gives None (a text such as 'NaN' may give a NaN number, which is not None)."""
    number = space_parse.number
    return np.array([number(v or "") is None for v in values.tolist()], bool)


def _dates(column: Column) -> dict[str, np.ndarray]:
    features = column.feature("interval", _intervals)
    return {name: array[column.codes] for name, array in features.items()}


# --- TIME -----------------------------------------------------------------------------------------------------------

RUN, PREREQ, AMENDED, FILLED_IN, NOT_AMENDED = (Status.RUN_HAS_RESULT, Status.INTERNAL_PREREQUISITES_NOT_MET,
                                                Status.AMENDED, Status.FILLED_IN, Status.NOT_AMENDED)


def _not_empty(term: str):
    def test(combos: Combos, **arguments) -> Answers:
        answers, empty = Answers(combos), combos[term].empty()
        answers.put(empty, RUN, NOT_COMPLIANT, f"{term} is bdqval:Empty")
        answers.put(~empty, RUN, COMPLIANT, f"{term} is bdqval:NotEmpty")
        return answers
    return test


def _filled_list(terms: tuple[str, ...], empty_comment: str):
    """COMPLIANT '<filled terms, comma-separated> bdqval:NotEmpty' / NOT_COMPLIANT (EVENTTEMPORAL, TAXON)."""
    def test(combos: Combos, **arguments) -> Answers:
        answers = Answers(combos)
        bits = np.zeros(combos.count, np.int64)
        for i, term in enumerate(terms):
            bits |= (~combos[term].empty()).astype(np.int64) << i
        answers.put(bits == 0, RUN, NOT_COMPLIANT, empty_comment)
        answers.each(bits != 0, bits, lambda b: (RUN, COMPLIANT, ", ".join(
            t for i, t in enumerate(terms) if b >> i & 1) + " bdqval:NotEmpty"))
        return answers
    return test


def _first_filled(terms: tuple[str, ...], empty_comment: str):
    """COMPLIANT '<first filled term> is bdqval:NotEmpty' / NOT_COMPLIANT (LOCATION_NOTEMPTY)."""
    def test(combos: Combos, **arguments) -> Answers:
        answers = Answers(combos)
        filled = np.stack([~combos[t].empty() for t in terms]) if terms else np.zeros((1, combos.count), bool)
        first = np.argmax(filled, axis=0)
        anything = filled.any(axis=0)
        answers.put(~anything, RUN, NOT_COMPLIANT, empty_comment)
        answers.each(anything, first, lambda k: (RUN, COMPLIANT, f"{terms[k]} is bdqval:NotEmpty"))
        return answers
    return test


def _iso_date_test(term: str, status: str, result: str | None, comment: str):
    """A test that answers a valid ISO 8601 `term` with (status, result, comment) and hands the rest (empty aside)
    to the reference implementation (interpret_date on values that are not ISO 8601)."""
    def test(combos: Combos, **arguments) -> Answers:
        answers, column = Answers(combos), combos[term]
        empty, valid = column.empty(), _dates(column)["valid"]
        answers.put(empty, PREREQ, None, f"{term} is bdqval:Empty")
        answers.put(valid, status, result, comment)
        answers.reference(~valid)
        return answers
    return test


def _standard(term: str):
    return _iso_date_test(term, RUN, COMPLIANT, f"{term} is a valid ISO 8601 date")


def _standardized(term: str):
    return _iso_date_test(term, NOT_AMENDED, None, f"{term} is already a valid ISO 8601 date")


def _bounds(earliest: str, latest: str) -> tuple[np.datetime64, np.datetime64] | None:
    bounds = bdq_time._date_bounds(earliest, latest)
    return None if bounds is None else (np.datetime64(bounds[0].begin, "us"), np.datetime64(bounds[1].finish, "us"))


def eventdate_inrange(combos: Combos, earliestValidDate="1582-11-15", latestValidDate="{current year}",
                      **params) -> Answers:
    answers, column = Answers(combos), combos["dwc:eventDate"]
    empty, dates = column.empty(), _dates(column)
    answers.put(empty, PREREQ, None, "dwc:eventDate is bdqval:Empty")
    answers.reference(~dates["valid"])
    bounds = _bounds(earliestValidDate, latestValidDate)
    if bounds is None:
        return answers  # the reference says the parameters are invalid
    inside = (dates["begin"] >= bounds[0]) & (dates["finish"] <= bounds[1])
    answers.put(inside, RUN, COMPLIANT, f"dwc:eventDate is within {earliestValidDate} to {latestValidDate}")
    return answers  # outside: the reference (the value is in the comment)


def dateidentified_inrange(combos: Combos, earliestValidDate="1753-01-01", latestValidDate="{current day}",
                           includeEventDate="true", **params) -> Answers:
    answers, identified, event = Answers(combos), combos["dwc:dateIdentified"], combos["dwc:eventDate"]
    ours, theirs = _dates(identified), _dates(event)
    answers.put(identified.empty(), PREREQ, None, "dwc:dateIdentified is bdqval:Empty")
    answers.reference(~ours["valid"])
    use_event = ~event.empty() if bdq_time._is_true(includeEventDate) else np.zeros(combos.count, bool)
    answers.reference(use_event & ~theirs["valid"])
    bounds = _bounds(earliestValidDate, latestValidDate)
    if bounds is None:
        return answers
    inside = (ours["begin"] >= bounds[0]) & (ours["finish"] <= bounds[1])
    before = use_event & (ours["last"] < theirs["begin"])
    answers.put(inside & ~before, RUN, COMPLIANT, "dwc:dateIdentified is in range")
    mine, events = identified.values, event.values
    answers.each_many(~inside, identified.codes, RUN, lambda codes: (
        [NOT_COMPLIANT] * len(codes),
        _join("dwc:dateIdentified [", mine[codes], f"] is outside {earliestValidDate} to {latestValidDate}")))
    answers.each_many(before, identified.codes * len(events) + event.codes, RUN, lambda keys: (
        [NOT_COMPLIANT] * len(keys), _join("dwc:dateIdentified [", mine[keys // len(events)],
                                           "] is before dwc:eventDate [", events[keys % len(events)], "]")))
    return answers


def _day_of_year_inrange(term: str):
    def test(combos: Combos, **arguments) -> Answers:
        answers, column = Answers(combos), combos[term]
        number = column.at("integer", _integers)
        answers.put(column.empty(), PREREQ, None, f"{term} is bdqval:Empty")
        answers.put((number >= 1) & (number <= 365), RUN, COMPLIANT, f"{term} is between 1 and 365")
        return answers  # not an integer 1..366, or 366: the reference
    return test


def event_consistent(combos: Combos, **params) -> Answers:
    answers, event = Answers(combos), combos["dwc:eventDate"]
    answers.put(event.empty(), PREREQ, None, "dwc:eventDate is bdqval:Empty")
    dates = _dates(event)
    provided = np.zeros(combos.count, bool)
    mismatched = np.zeros(combos.count, np.int64)
    for i, term in enumerate(_ATOMIC):
        column = combos[term]
        given = ~column.empty()
        expected = dates[term]
        wrong = given & ((expected == _ABSENT) | (column.at("integer", _integers) != expected))
        provided |= given
        mismatched |= wrong.astype(np.int64) << i
    answers.put(~provided, PREREQ, None, "dwc:year, dwc:month, dwc:day, dwc:startDayOfYear, dwc:endDayOfYear "
                                         "are all bdqval:Empty")
    answers.put(mismatched == 0, RUN, COMPLIANT, "the provided atomic terms are consistent with dwc:eventDate")
    values = event.values
    radix = 1 << len(_ATOMIC)
    answers.each(mismatched != 0, event.codes * radix + mismatched, lambda k: (RUN, NOT_COMPLIANT, (
        ", ".join(t for i, t in enumerate(_ATOMIC) if (k % radix) >> i & 1)
        + f" not consistent with dwc:eventDate [{values[k // radix]}]")))
    return answers


def event_from_eventdate(combos: Combos, **params) -> Answers:
    from mobilise.validators.bdq.batch import _JSON  # the encoder batch.run_bdq turns proposals into text with

    answers, event = Answers(combos), combos["dwc:eventDate"]
    answers.put(event.empty(), PREREQ, None, "dwc:eventDate is bdqval:Empty")
    dates = _dates(event)
    answers.reference(~dates["valid"])
    fill = np.zeros(combos.count, np.int64)
    for i, term in enumerate(_ATOMIC):
        fill |= ((dates[term] != _ABSENT) & combos[term].empty()).astype(np.int64) << i
    answers.put(fill == 0, NOT_AMENDED, None, "no empty term can be filled in from dwc:eventDate")
    values, radix = event.values, 1 << len(_ATOMIC)
    features = event.feature("interval", _intervals)

    def filled(keys: np.ndarray) -> tuple[list, list]:
        codes, bits = np.divmod(keys, radix)
        results, comments = np.empty(len(keys), object), np.empty(len(keys), object)
        for b in np.unique(bits).tolist():  # the terms filled in: one JSON shape per set of terms
            chosen = bits == b
            terms = [t for i, t in enumerate(_ATOMIC) if b >> i & 1]
            parts: list = []
            for t in terms:  # JSON of {term: "digits"}: batch._JSON's ', ' and ': ' separators, nothing to escape
                parts += [(", " if parts else "{") + _JSON.encode(t) + ': "', features[t][codes[chosen]], '"']
            results[chosen] = _join(*parts, "}")
            comments[chosen] = _join(f"{', '.join(terms)} filled in from dwc:eventDate [", values[codes[chosen]], "]")
        return results.tolist(), comments.tolist()

    answers.each_many(fill != 0, event.codes * radix + fill, FILLED_IN, filled)
    return answers


def eventdate_from_verbatim(combos: Combos, **params) -> Answers:
    answers = Answers(combos)
    answers.put(~combos["dwc:eventDate"].empty(), PREREQ, None, "dwc:eventDate is bdqval:NotEmpty")
    answers.put(combos["dwc:verbatimEventDate"].empty(), PREREQ, None, "dwc:verbatimEventDate is bdqval:Empty")
    return answers  # interpret_date on the rest: the reference


def eventdate_from_parts(combos: Combos, **params) -> Answers:
    """AMENDMENT_EVENTDATE_FROM_YEARMONTHDAY and ..._FROM_YEARSTARTDAYOFYEARENDDAYOFYEAR: most records have an
    eventDate; the others are interpreted by the reference."""
    answers = Answers(combos)
    answers.put(~combos["dwc:eventDate"].empty(), PREREQ, None, "dwc:eventDate is bdqval:NotEmpty")
    return answers


def duration(combos: Combos, **params) -> Answers:
    answers, event = Answers(combos), combos["dwc:eventDate"]
    answers.put(event.empty(), PREREQ, NOT_REPORTED, "dwc:eventDate is bdqval:Empty")
    dates = _dates(event)
    answers.reference(~dates["valid"])
    seconds, values = event.feature("interval", _intervals)["seconds"], event.values
    answers.each_many(np.ones(combos.count, bool), event.codes, RUN, lambda codes: (
        _join(seconds[codes]), _join("duration of dwc:eventDate [", values[codes], "] in seconds")))
    return answers


# --- SPACE ----------------------------------------------------------------------------------------------------------

LAT, LON = space.LAT, space.LON


def _range(term: str, low: float, high: float):
    def test(combos: Combos, **arguments) -> Answers:
        answers, column = Answers(combos), combos[term]
        value = column.at("number", _numbers)
        answers.put(column.empty(), PREREQ, None, f"{term} is bdqval:Empty")
        answers.put((value >= low) & (value <= high), RUN, COMPLIANT, f"{term} is within {low:g}..{high:g}")
        return answers  # not a number or outside: the reference (the value is in the comment)
    return test


def coordinates_notzero(combos: Combos, **params) -> Answers:
    answers = Answers(combos)
    lat, lon = combos[LAT].at("number", _numbers), combos[LON].at("number", _numbers)
    missing = combos[LAT].at("not number", _not_numbers) | combos[LON].at("not number", _not_numbers)
    answers.put(missing, PREREQ, None,
                "dwc:decimalLatitude or dwc:decimalLongitude is empty or not a number")
    answers.put((lat == 0) & (lon == 0), RUN, NOT_COMPLIANT, "both coordinates are zero")
    answers.put(np.ones(combos.count, bool), RUN, COMPLIANT, "the coordinates are not both zero")
    return answers


def geodeticdatum_assumeddefault(combos: Combos, defaultGeodeticDatum="EPSG:4326", **params) -> Answers:
    from mobilise.validators.bdq.batch import _JSON

    answers = Answers(combos)
    answers.put(~combos["dwc:geodeticDatum"].empty(), NOT_AMENDED, None, "dwc:geodeticDatum is bdqval:NotEmpty")
    lat, lon = combos[LAT].at("number", _numbers), combos[LON].at("number", _numbers)
    usable = (lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180)  # space._coordinates (NaN compares False)
    comment = f"dwc:geodeticDatum was empty; assumed {defaultGeodeticDatum}"
    result = _JSON.encode({"dwc:geodeticDatum": defaultGeodeticDatum})
    answers.put(~combos["dwc:coordinateUncertaintyInMeters"].empty() & usable, FILLED_IN, result,
                comment + "; dwc:coordinateUncertaintyInMeters not enlarged: no datum-shift grid available offline")
    answers.put(np.ones(combos.count, bool), FILLED_IN, result, comment)
    return answers


def _boundary_codes(values: np.ndarray) -> np.ndarray:
    alpha2 = space.space_vocab.iso3166().alpha2
    return np.array([v in alpha2 and v != "ZZ" for v in values.tolist()], bool)


def _point(combos: Combos) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, usable): space._coordinates over the combinations (NaN where not a number)."""
    lat, lon = combos[LAT].at("number", _numbers), combos[LON].at("number", _numbers)
    return lat, lon, (lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180)


def _within(index, codes: np.ndarray, lat: np.ndarray, lon: np.ndarray, buffer_m: float) -> np.ndarray:
    """index.consistent for each point (geography.CountryIndex.consistent_many: vectorised per country)."""
    if not len(codes):
        return np.zeros(0, bool)
    return np.array(index.consistent_many(codes.tolist(), lat.tolist(), lon.tolist(), buffer_m), bool)


def coordinatescountrycode_consistent(combos: Combos, sourceAuthority=space.NE_ADMIN1_EEZ,
                                      spatialBufferInMeters="3000", **params) -> Answers:
    answers = Answers(combos)
    if not space._known_authority(sourceAuthority, space.NE_ADMIN1_EEZ, space.NE_ADMIN1, "naturalearth"):
        return answers  # the reference says which authority it cannot use
    code = combos[space.CC]
    answers.put(code.empty() | combos[LAT].empty() | combos[LON].empty(), PREREQ, None,
                "dwc:countryCode, dwc:decimalLatitude or dwc:decimalLongitude is bdqval:Empty")
    lat, lon, usable = _point(combos)
    answers.put(~usable, PREREQ, None, "dwc:decimalLatitude/dwc:decimalLongitude are not valid coordinates")
    answers.reference(~code.at("boundary code", _boundary_codes))
    index = space._geodata()
    if index is None:
        answers.put(np.ones(combos.count, bool), Status.EXTERNAL_PREREQUISITES_NOT_MET, None, space.GEODATA_MISSING)
        return answers
    answers.reference(~code.at("has polygon", lambda values: np.array(
        [v == "XZ" or index.has_polygon(v) for v in values.tolist()], bool)))
    ask = np.flatnonzero(answers.codes < 0)
    fits = np.zeros(combos.count, bool)
    fits[ask] = _within(index, code.text()[ask], lat[ask], lon[ask], space._meters(spatialBufferInMeters, 3000))
    names = code.values
    answers.each_many(fits, code.codes, RUN, lambda codes: ([COMPLIANT] * len(codes), _join(
        "the coordinates fall within ", names[codes], " (land plus buffer, or its approximated EEZ)")))
    answers.each_many(~fits, code.codes, RUN, lambda codes: ([NOT_COMPLIANT] * len(codes), _join(
        "the coordinates do not fall within ", names[codes])))
    return answers


def countrycode_from_coordinates(combos: Combos, sourceAuthority=space.NE_ADMIN1_EEZ, **params) -> Answers:
    answers = Answers(combos)
    if not space._known_authority(sourceAuthority, space.NE_ADMIN1_EEZ, space.NE_ADMIN1, "naturalearth"):
        return answers
    answers.put(combos[LAT].empty() | combos[LON].empty(), PREREQ, None,
                "dwc:decimalLatitude or dwc:decimalLongitude is bdqval:Empty")
    answers.put(~combos[space.CC].empty(), PREREQ, None, "dwc:countryCode is bdqval:NotEmpty")
    index = space._geodata()
    lat, lon, usable = _point(combos)
    ask = (answers.codes < 0) & usable
    if index is not None and ask.any():  # the land under every point asked at once (cached for the reference)
        index.land_many(lat[ask], lon[ask])
    return answers  # the point's jurisdiction: the reference


def coordinates_transposed(combos: Combos, sourceAuthority=space.NE_ADMIN1_EEZ, **params) -> Answers:
    answers = Answers(combos)
    if not space._known_authority(sourceAuthority, space.NE_ADMIN1_EEZ, space.NE_ADMIN1, "naturalearth"):
        return answers
    code = combos[space.CC]
    answers.put(combos[LAT].empty() | combos[LON].empty() | code.empty(), PREREQ, None,
                "dwc:decimalLatitude, dwc:decimalLongitude or dwc:countryCode is bdqval:Empty")
    answers.put(combos[LAT].at("not number", _not_numbers) | combos[LON].at("not number", _not_numbers),
                NOT_AMENDED, None, "dwc:decimalLatitude or dwc:decimalLongitude is not a number")
    answers.reference(~code.at("boundary code", _boundary_codes) | (code.text() == "XZ"))
    index = space._geodata()
    if index is None:
        answers.put(np.ones(combos.count, bool), Status.EXTERNAL_PREREQUISITES_NOT_MET, None, space.GEODATA_MISSING)
        return answers
    answers.reference(~code.at("has polygon", lambda values: np.array(
        [v == "XZ" or index.has_polygon(v) for v in values.tolist()], bool)))
    lat, lon, usable = _point(combos)
    ask = np.flatnonzero((answers.codes < 0) & usable)
    fits = np.zeros(combos.count, bool)
    fits[ask] = _within(index, code.text()[ask], lat[ask], lon[ask], 3000)
    names = code.values
    answers.each_many(fits, code.codes, NOT_AMENDED, lambda codes: (
        [None] * len(codes), _join("the coordinates already fall within ", names[codes])))
    rest = answers.codes < 0
    if rest.any():  # the sign changes and transpositions: asked at once (prepare_batch), answered by the reference
        positions = np.flatnonzero(rest)
        space._prepare_coordinates_transposed({t: combos[t].text()[positions].tolist() for t in (space.CC, LAT, LON)},
                                               sourceAuthority)
    return answers


def coordinates_from_verbatim(combos: Combos, **params) -> Answers:
    """Most records already have decimal coordinates; the verbatim ones are interpreted by the reference."""
    answers = Answers(combos)
    answers.put(~combos[LAT].empty() | ~combos[LON].empty(), PREREQ, None,
                "dwc:decimalLatitude or dwc:decimalLongitude is bdqval:NotEmpty")
    return answers


# --- the registry -----------------------------------------------------------------------------------------------------

def _guid(label: str) -> str:
    return next(test.guid for test in REGISTRY.values() if test.label == label)


def _registry() -> dict[str, Callable[..., Answers]]:
    found: dict[str, Callable[..., Answers]] = {
        _guid("VALIDATION_EVENTTEMPORAL_NOTEMPTY"): _filled_list(
            bdq_time._EVENT_TERMS + ("dwc:verbatimEventDate",), "all temporal terms of the event are bdqval:Empty"),
        _guid("VALIDATION_EVENTDATE_STANDARD"): _standard("dwc:eventDate"),
        _guid("VALIDATION_DATEIDENTIFIED_STANDARD"): _standard("dwc:dateIdentified"),
        _guid("AMENDMENT_EVENTDATE_STANDARDIZED"): _standardized("dwc:eventDate"),
        _guid("AMENDMENT_DATEIDENTIFIED_STANDARDIZED"): _standardized("dwc:dateIdentified"),
        _guid("VALIDATION_EVENTDATE_INRANGE"): eventdate_inrange,
        _guid("VALIDATION_DATEIDENTIFIED_INRANGE"): dateidentified_inrange,
        _guid("VALIDATION_STARTDAYOFYEAR_INRANGE"): _day_of_year_inrange("dwc:startDayOfYear"),
        _guid("VALIDATION_ENDDAYOFYEAR_INRANGE"): _day_of_year_inrange("dwc:endDayOfYear"),
        _guid("VALIDATION_EVENT_CONSISTENT"): event_consistent,
        _guid("AMENDMENT_EVENT_FROM_EVENTDATE"): event_from_eventdate,
        _guid("AMENDMENT_EVENTDATE_FROM_VERBATIM"): eventdate_from_verbatim,
        _guid("AMENDMENT_EVENTDATE_FROM_YEARMONTHDAY"): eventdate_from_parts,
        _guid("AMENDMENT_EVENTDATE_FROM_YEARSTARTDAYOFYEARENDDAYOFYEAR"): eventdate_from_parts,
        _guid("MEASURE_EVENTDATE_DURATIONINSECONDS"): duration,
        _guid("VALIDATION_TAXON_NOTEMPTY"): _filled_list(bdq_name.TAXON_TERMS, "all taxon terms are bdqval:Empty"),
        _guid("VALIDATION_LOCATION_NOTEMPTY"): _first_filled(space.LOCATION_TERMS,
                                                             "all location terms are bdqval:Empty"),
        _guid("VALIDATION_DECIMALLATITUDE_INRANGE"): _range(LAT, -90, 90),
        _guid("VALIDATION_DECIMALLONGITUDE_INRANGE"): _range(LON, -180, 180),
        _guid("VALIDATION_COORDINATES_NOTZERO"): coordinates_notzero,
        _guid("AMENDMENT_GEODETICDATUM_ASSUMEDDEFAULT"): geodeticdatum_assumeddefault,
        _guid("VALIDATION_COORDINATESCOUNTRYCODE_CONSISTENT"): coordinatescountrycode_consistent,
        _guid("AMENDMENT_COUNTRYCODE_FROM_COORDINATES"): countrycode_from_coordinates,
        _guid("AMENDMENT_COORDINATES_TRANSPOSED"): coordinates_transposed,
        _guid("AMENDMENT_COORDINATES_FROM_VERBATIM"): coordinates_from_verbatim,
    }
    # the single-term NOTEMPTY validations ('<term> is bdqval:Empty' / '<term> is bdqval:NotEmpty')
    for test in REGISTRY.values():
        if (test.label.startswith("VALIDATION_") and test.label.endswith("_NOTEMPTY") and len(test.acted_upon) == 1
                and not test.consulted and not test.parameters and test.guid not in found):
            found[test.guid] = _not_empty(test.acted_upon[0])
    return found


# MOBILISE_BDQ_ROW_BY_ROW=1 (read at import, so Dask workers inherit it) runs only the references: for benchmarks
# and for checking a suspected difference on real data.
VECTORISED: dict[str, Callable[..., Answers]] = {} if os.environ.get("MOBILISE_BDQ_ROW_BY_ROW") else _registry()


# --- cache hit rates -------------------------------------------------------------------------------------------------

_CACHES = {
    "time_iso.parse_interval": time_iso.parse_interval,
    "time._atomic_of": bdq_time._atomic_of,
    "time_verbatim.interpret_date": time_verbatim.interpret_date,
    "space_parse.number": space_parse.number,
}


def cache_stats() -> dict[str, dict]:
    """Size, maxsize and hit rate of the value caches the BDQ tests share (all bounded: lru_cache with maxsize)."""
    stats = {}
    for name, function in _CACHES.items():
        info = function.cache_info()
        asked = info.hits + info.misses
        stats[name] = {"size": info.currsize, "maxsize": info.maxsize, "hits": info.hits, "misses": info.misses,
                       "hit_rate": round(info.hits / asked, 3) if asked else None}
    return stats


__all__ = ["VECTORISED", "Answers", "Column", "Combos", "cache_stats"]
