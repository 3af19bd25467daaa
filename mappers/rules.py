"""Record rules of a dataset config, applied to a mapped batch: ``filters`` and ``sensitive`` (mobilise/settings.py).

Pure: Arrow tables in, Arrow tables out, no I/O (the taxa CSV file of a sensitive rule is read when the config is
loaded). :func:`apply_rules` is what the mapping step calls (mappers/mapping.py ``map_records``):

- **Excluded by rule**: a record meeting a condition of ``sensitive.exclude_when`` (not for publication), or failing
  one of ``filters`` (all must hold, the IPT allows one), is left out of the batch and listed in the excluded
  table with the label of the first such rule (exclude_when first, then the filters, in config order), its
  occurrenceID and its source key columns. Published + quarantined + excluded == extracted.
- **Sensitive records** (the first of ``sensitive.rules`` a record matches applies): the point is generalised
  (:func:`grid_cell`, :func:`decimals_cell`; WGS84 degrees in, WGS84 degrees out), coordinateUncertaintyInMeters
  widened to cover the cell (never narrowed), the verbatim coordinates, every other term read from the point's
  source columns (:func:`point_dependants`: a georeferenceRemarks template of the coordinates) and the terms the
  rule names, with their verbatim counterparts (:func:`with_verbatim`: locality and verbatimLocality), withheld
  (left empty), dataGeneralizations and informationWithheld filled with plain text, and the record flagged
  COORDINATES_GENERALISED / INFORMATION_WITHHELD (info: it is published). The values the mapping's issues carry
  for those terms are withheld too, so the warnings file and the report never show the precise point.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.columns import as_text, per_distinct_predicate
from mobilise.mappers.interpreters import DWC_VERBATIM_TERM
from mobilise.settings import GeneraliseConfig, RecordCondition, SensitiveConfig, SensitiveRule

#: terms a generalised record never publishes: they would give the precise point back
VERBATIM_LOCATION_TERMS = ("verbatimCoordinates", "verbatimLatitude", "verbatimLongitude", "footprintWKT",
                           "coordinatePrecision")
#: the value an issue shows for a withheld or generalised term of a sensitive record
WITHHELD_VALUE = "(withheld: sensitive record)"


@lru_cache(maxsize=1)
def _geod():
    """The WGS84 ellipsoid (pyproj, imported when a rule first measures a distance: most runs have no rule)."""
    from pyproj import Geod

    return Geod(ellps="WGS84")


EDGE_SAMPLES = 32  # points per side of a cell where the distance to the published point is measured


# --- conditions (filters and exclude_when) --------------------------------------------------------------------

def _as_text(value) -> str:
    """A condition's operand as the text source values are compared with (``true``/``false`` for a boolean)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


_COMPARISONS = {"greater_than": float.__gt__, "at_least": float.__ge__, "less_than": float.__lt__,
                "at_most": float.__le__}


def condition_holds(values: pa.Array, condition: RecordCondition) -> np.ndarray:
    """Per row (a numpy bool array): does `condition` hold for `values`, a source column (compared as trimmed text,
    an empty string being no value; see :class:`mobilise.settings.RecordCondition` for each operator)."""
    values = as_text(values)
    operator, operand = condition.operator, condition.operand(condition.operator)
    present = pc.is_valid(values).to_numpy(zero_copy_only=False)
    if operator == "empty":
        return ~present if operand else present
    if operator in ("equals", "not_equals"):
        equal = pc.fill_null(pc.equal(values, pa.scalar(_as_text(operand))), False).to_numpy(zero_copy_only=False)
        return equal if operator == "equals" else ~equal
    if operator in ("in", "not_in"):
        member = pc.is_in(values, pa.array([_as_text(v) for v in operand], pa.string()))
        member = pc.fill_null(member, False).to_numpy(zero_copy_only=False)
        return member if operator == "in" else ~member
    if operator == "matches":
        pattern = re.compile(operand)
        return per_distinct_predicate(values, lambda v: v is not None and pattern.search(v) is not None)
    compare = _COMPARISONS[operator]
    return per_distinct_predicate(values, lambda v: (n := _number(v)) is not None and compare(n, float(operand)))


def exclusions(batch: pa.Table | pa.RecordBatch, filters: list[RecordCondition],
               exclude_when: list[RecordCondition]) -> list[str | None]:
    """Per row, the label of the first rule that excludes it (a met ``exclude_when`` condition, then a failed
    filter), or None for a record the rules keep."""
    labels: list[str | None] = [None] * batch.num_rows
    open_rows = np.ones(batch.num_rows, dtype=bool)
    for condition, excludes_when in [(c, True) for c in exclude_when] + [(c, False) for c in filters]:
        holds = condition_holds(batch.column(condition.column), condition)
        hit = open_rows & (holds if excludes_when else ~holds)
        for row in np.flatnonzero(hit).tolist():
            labels[row] = condition.label
        open_rows &= ~hit
    return labels


# --- sensitive records: which --------------------------------------------------------------------------------

#: identification qualifiers and open-nomenclature marks (lower case, without their dot) left out of a name before
#: it is matched: "Lynx cf. lynx", "Lynx aff. lynx", "Lynx lynx?", "Lynx sp.", "Lynx sp. nov.", "Lynx lynx s.l."
QUALIFIERS = frozenset({"cf", "cfr", "conf", "aff", "nr", "near", "prox", "sp", "spp", "ssp", "subsp", "var",
                        "nov", "indet", "inc", "sed", "s.l", "s.lat", "s.str", "s.s", "sensu", "lato", "stricto",
                        "agg", "gr", "group", "complex"})
_QUALIFIED = re.compile(r"^(cf|cfr|aff|nr)\.(?=\w)")  # "cf.lynx": the qualifier glued to the epithet
_SUBGENUS = re.compile(r"^(\S+) \([A-Z][a-z]+\)(?= |$)")  # "Carabus (Procerus) gigas": the subgenus


def _normalised(name: str | None) -> str | None:
    """A name as it is matched: spacing and case aside, without a subgenus in parentheses, a '?' or the
    identification qualifiers of :data:`QUALIFIERS` (open nomenclature: "Lynx cf. lynx" is matched as "lynx
    lynx", "Lynx sp." as "lynx"). Names are matched as written, without synonymy."""
    if not name:
        return None
    name = _SUBGENUS.sub(r"\1", " ".join(name.replace("?", " ").split()))
    words = [_QUALIFIED.sub("", word) for word in name.casefold().split(" ")]
    kept = [word for word in words if word and word.rstrip(".") not in QUALIFIERS]
    return " ".join(kept) or None


def taxon_matches(scientific_names: pa.Array, genera: pa.Array | None, taxa: list[str]) -> np.ndarray:
    """Per row: the record's taxon is one of `taxa` (both normalised by :func:`_normalised`: case, spacing,
    subgenus, '?' and identification qualifiers aside, so that a rule errs on the side of protecting): its
    scientificName, the name's first two words (the species of a name with authorship or an infraspecific name),
    its first word (the genus), or the genus term. A genus in `taxa` protects "Lynx sp." and every species of it;
    a species protects "Lynx cf. lynx" but not "Lynx sp.". Synonyms are not resolved: list them in the taxa."""
    wanted = {_normalised(name) for name in taxa if name and name.strip()} - {None}

    def named(value: str | None) -> bool:
        name = _normalised(value)
        if name is None:
            return False
        words = name.split(" ")
        return name in wanted or " ".join(words[:2]) in wanted or words[0] in wanted

    hit = per_distinct_predicate(as_text(scientific_names), named)
    if genera is not None:
        hit |= per_distinct_predicate(as_text(genera), lambda v: _normalised(v) in wanted)
    return hit


def rule_matches(batch: pa.Table | pa.RecordBatch, table: pa.Table, rule: SensitiveRule) -> np.ndarray:
    """Per row: the sensitive `rule` applies (its taxa name the record's taxon in the mapped `table`, or its flag
    column in the source `batch` holds one of its values)."""
    hit = np.zeros(table.num_rows, dtype=bool)
    if rule.taxa:
        names = _text_column(table, "scientificName")
        genera = table["genus"].combine_chunks() if "genus" in table.column_names else None
        hit |= taxon_matches(names, genera, list(rule.taxa))
    if rule.flag_column is not None:
        values = pa.array([_as_text(v) for v in rule.values], pa.string())
        hit |= pc.fill_null(pc.is_in(as_text(batch.column(rule.flag_column)), values), False).to_numpy(
            zero_copy_only=False)
    return hit


def _text_column(table: pa.Table, term: str) -> pa.Array:
    if term in table.column_names:
        return as_text(table[term].combine_chunks())
    return pa.nulls(table.num_rows, pa.string())


# --- sensitive records: generalisation ------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """A generalised point: ``latitude``/``longitude`` the published point (text, WGS84 decimal degrees),
    ``radius`` the largest distance in metres (WGS84 ellipsoid) from it to the cell the original point lay in,
    ``system`` what the cell is drawn in (e.g. 'UTM zone 31N')."""

    latitude: str
    longitude: str
    radius: float
    system: str


def _farthest(latitude: float, longitude: float, boundary: list[tuple[float, float]]) -> float:
    """The largest geodesic distance (metres) from the point to the (longitude, latitude) boundary points."""
    lons = [p[0] for p in boundary]
    lats = [p[1] for p in boundary]
    _, _, distances = _geod().inv([longitude] * len(lons), [latitude] * len(lats), lons, lats)
    return float(max(distances))


def _ring(x0: float, y0: float, width: float, height: float) -> list[tuple[float, float]]:
    """EDGE_SAMPLES points per side along the boundary of the rectangle (x0, y0, width, height), corners included."""
    steps = [i / EDGE_SAMPLES for i in range(EDGE_SAMPLES + 1)]
    return ([(x0 + s * width, y0) for s in steps] + [(x0 + s * width, y0 + height) for s in steps]
            + [(x0, y0 + s * height) for s in steps] + [(x0 + width, y0 + s * height) for s in steps])


def _zone(latitude: float, longitude: float) -> tuple[int, str]:
    """The EPSG code and name of the projected system a point's grid is drawn in: its WGS 84 / UTM zone (the
    regular 6° zones, without the Norway and Svalbard exceptions), UPS North above 84°N and UPS South below 80°S."""
    if latitude > 84:
        return 32661, "UPS North"
    if latitude < -80:
        return 32761, "UPS South"
    zone = min(int((longitude + 180) // 6) + 1, 60)
    return (32600 if latitude >= 0 else 32700) + zone, f"UTM zone {zone}{'N' if latitude >= 0 else 'S'}"


@lru_cache(maxsize=64)  # keyed by the rules' EPSG codes (config, not data); bounded all the same
def _projection(epsg: int):
    """(WGS84 -> EPSG:`epsg`, EPSG:`epsg` -> WGS84) pyproj transformers, x/y in longitude/latitude order."""
    from pyproj import Transformer

    return (Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True),
            Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True))


def grid_cell(latitude: float, longitude: float, km: float) -> Cell:
    """The centre of the `km` × `km` square of the point's UTM (or UPS) grid that holds the point, rounded to 5
    decimal places, and the largest distance from that published point to the square's boundary (EDGE_SAMPLES
    points a side, geodesics on the WGS84 ellipsoid): the point was within that distance of what is published.
    Squares are aligned on the projection's false origin (x and y multiples of `km`), so records in one square
    share one published point."""
    epsg, system = _zone(latitude, longitude)
    forward, inverse = _projection(epsg)
    size = km * 1000.0
    x, y = forward.transform(longitude, latitude)
    x0, y0 = math.floor(x / size) * size, math.floor(y / size) * size
    centre_lon, centre_lat = inverse.transform(x0 + size / 2, y0 + size / 2)
    published_lat, published_lon = round(centre_lat, 5), round(centre_lon, 5)
    boundary = [inverse.transform(px, py) for px, py in _ring(x0, y0, size, size)]
    return Cell(_degrees(Decimal(repr(published_lat)), 5), _degrees(Decimal(repr(published_lon)), 5),
                _farthest(published_lat, published_lon, boundary), system)


def _degrees(value: Decimal, decimals: int) -> str:
    """A coordinate as text with `decimals` places at most, no trailing zeros, no '-0'."""
    text = f"{value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP):f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def decimals_cell(latitude: str, longitude: str, decimals: int) -> Cell:
    """Latitude and longitude (decimal degrees, as text: rounded exactly, half away from zero) rounded to
    `decimals` places, and the largest distance from that point to the boundary of the cell of points that round
    to it (half a unit of the last place each side; latitude kept within ±90)."""
    unit = Decimal(1).scaleb(-decimals)
    lat = Decimal(latitude).quantize(unit, rounding=ROUND_HALF_UP)
    lon = Decimal(longitude).quantize(unit, rounding=ROUND_HALF_UP)
    half = float(unit) / 2
    south, north = max(float(lat) - half, -90.0), min(float(lat) + half, 90.0)
    boundary = _ring(float(lon) - half, south, 2 * half, north - south)
    text_lat, text_lon = _degrees(lat, decimals), _degrees(lon, decimals)
    return Cell(text_lat, text_lon, _farthest(float(text_lat), float(text_lon), boundary), "WGS84 degrees")


def generalise(latitude: str | None, longitude: str | None, uncertainty: str | None, how: GeneraliseConfig
               ) -> tuple[str, str, str, str] | None:
    """(latitude, longitude, coordinateUncertaintyInMeters, dataGeneralizations text) of a generalised point, or
    None when there is no point in range to generalise (a coordinate missing, not a number or out of range).

    The uncertainty is the cell's radius (:class:`Cell`) plus the uncertainty given (the original point was within
    that of the true place), rounded up to the metre: it covers the cell and is never narrower than given."""
    lat, lon = _number(latitude), _number(longitude)
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    if how.grid_km is not None:
        cell = grid_cell(lat, lon, how.grid_km)
        text = (f"coordinates generalised to the centre of a {how.grid_km:g} km grid square ({cell.system}, "
                f"WGS84)")
    else:
        try:
            cell = decimals_cell(latitude, longitude, how.decimals)
        except InvalidOperation:
            return None
        text = (f"coordinates rounded to {how.decimals} decimal place{'s' if how.decimals != 1 else ''} "
                f"(WGS84 degrees)")
    given = _number(uncertainty)
    widened = math.ceil(cell.radius + (given if given is not None and given > 0 else 0.0))
    text += f"; coordinateUncertaintyInMeters widened to {widened} m to cover the cell"
    return cell.latitude, cell.longitude, str(widened), text


# --- the rules over a batch -----------------------------------------------------------------------------------

def rule_terms(sensitive: SensitiveConfig | None) -> list[str]:
    """The terms the sensitive rules may fill, which a mapped table carries whenever there are rules."""
    if sensitive is None or not sensitive.rules:
        return []
    terms = ["dataGeneralizations", "informationWithheld"]
    if any(rule.generalise is not None for rule in sensitive.rules):
        terms.append("coordinateUncertaintyInMeters")
    return terms


def rule_columns(filters: list[RecordCondition], sensitive: SensitiveConfig | None) -> list[str]:
    """The source columns the rules read (checked with the mapping's before a run reads the source)."""
    conditions = list(filters) + (list(sensitive.exclude_when) if sensitive is not None else [])
    columns = [c.column for c in conditions]
    columns += [column for rule in (sensitive.rules if sensitive is not None else ()) for column in rule.columns]
    return list(dict.fromkeys(columns))


@dataclass
class RuleOutcome:
    """A mapped batch after the rules: ``table`` and ``issues`` (rows renumbered) of the kept records, ``kept``
    (their row numbers in the source batch), ``excluded`` (:func:`excluded_table`), ``sensitive`` (per kept
    record: a sensitive rule applied to it)."""

    table: pa.Table
    issues: pa.Table
    kept: np.ndarray
    excluded: pa.Table
    sensitive: np.ndarray


def with_verbatim(terms) -> list[str]:
    """`terms`, each followed by its Darwin Core verbatim counterpart (mappers/interpreters.py
    ``DWC_VERBATIM_TERM``: locality -> verbatimLocality, eventDate -> verbatimEventDate, ...), each once: withholding
    a term withholds the original it was interpreted from too."""
    out: list[str] = []
    for term in terms:
        out += [t for t in (term, DWC_VERBATIM_TERM.get(term)) if t is not None and t not in out]
    return out


#: the terms a generalised point sets itself (never withheld for being read from the point's columns)
GENERALISED_TERMS = ("decimalLatitude", "decimalLongitude", "coordinateUncertaintyInMeters", "dataGeneralizations",
                     "informationWithheld")


def point_dependants(sources: dict, point_columns: set[str] | frozenset[str] = frozenset(),
                     keep: tuple[str, ...] = ()) -> list[str]:
    """The terms, besides the point's own, whose source columns include one the point is read from: a generalised
    record must not publish them (a template "{latitude}, {longitude}" in georeferenceRemarks gives the point
    back). `sources` maps a term to what has ``.columns`` (settings.TermSource); the point's columns are those of
    decimalLatitude, decimalLongitude and the verbatim location terms, plus `point_columns` (the coordinates
    section's x and y); `keep` names terms never withheld (the record's id: withholding it breaks the archive)."""
    point_terms = {"decimalLatitude", "decimalLongitude", *VERBATIM_LOCATION_TERMS}
    columns = set(point_columns) | {c for term, source in sources.items() if term in point_terms
                                    for c in source.columns}
    return [term for term, source in sources.items()
            if term not in point_terms and term not in GENERALISED_TERMS and term not in keep
            and columns & set(source.columns)]


def hidden_terms(sensitive: SensitiveConfig | None) -> set[str]:
    """The terms whose source values a sensitive record must not show anywhere (the point, the verbatim
    location terms and every term a rule withholds, with its verbatim counterpart: :func:`with_verbatim`)."""
    if sensitive is None or not sensitive.rules:
        return set()
    return set(VERBATIM_LOCATION_TERMS) | {"decimalLatitude", "decimalLongitude"} | set(
        with_verbatim(term for rule in sensitive.rules for term in rule.withhold))


def withhold_source(source: pa.Table, rows: np.ndarray, columns: list[str]) -> pa.Table:
    """`source` (a batch's source rows) with `columns` emptied in the `rows` marked (a bool per row): what the
    run keeps of a sensitive record's source values that feed hidden terms (the quarantine and warnings files
    show source columns)."""
    mask = pa.array(rows, pa.bool_())
    for name in columns:
        if name in source.column_names:
            values = source[name].combine_chunks()
            source = source.set_column(source.schema.get_field_index(name), name,
                                       pc.if_else(mask, pa.scalar(None, values.type), values))
    return source


def excluded_table(labels: list[str | None], table: pa.Table, source: pa.Table | pa.RecordBatch,
                   columns: list[str]) -> pa.Table:
    """The excluded records, one row each in batch order: ``rule`` (the rule's label), ``occurrenceID`` and the
    source `columns` (the occurrenceID's and those the rules test) as ``source.<column>`` text."""
    rows = pa.array([i for i, label in enumerate(labels) if label is not None], pa.int64())
    result = {"rule": pa.array([label for label in labels if label is not None], pa.string()),
              "occurrenceID": _text_column(table, "occurrenceID").take(rows)}
    for name in columns:
        result[f"source.{name}"] = as_text(source.column(name)).take(rows)
    return pa.table(result)


def _joined(first: pa.Array, second: list[str | None]) -> pa.Array:
    """Per row: `first` (a mapped value) and `second` (the rules' text) joined with ' | ', either alone if the
    other is empty."""
    out = []
    for a, b in zip(first.to_pylist(), second):
        out.append(" | ".join(part for part in (a, b) if part) or None)
    return pa.array(out, pa.string())


def apply_sensitive(batch: pa.Table | pa.RecordBatch, table: pa.Table, sensitive: SensitiveConfig,
                    dependants: tuple[str, ...] | list[str] = ()
                    ) -> tuple[pa.Table, list[tuple[int, str, str, str]], np.ndarray]:
    """`table` with the sensitive rules applied (see the module docstring), the flags raised (row, term, flag,
    value) and which rows are sensitive (their issues' values are withheld by :func:`apply_rules`).
    `dependants` (:func:`point_dependants`): the terms read from the point's source columns, withheld from a
    record whose rule generalises its point."""
    rows = table.num_rows
    chosen: list[SensitiveRule | None] = [None] * rows
    for rule in sensitive.rules:
        for row in np.flatnonzero(rule_matches(batch, table, rule)).tolist():
            if chosen[row] is None:
                chosen[row] = rule
    sensitive_rows = np.array([rule is not None for rule in chosen], dtype=bool)
    if not sensitive_rows.any():
        return table, [], sensitive_rows
    columns = {name: table[name].combine_chunks() for name in table.column_names}
    values = {term: columns.get(term, pa.nulls(rows, pa.string())).to_pylist()
              for term in ("decimalLatitude", "decimalLongitude", "coordinateUncertaintyInMeters")}
    emptied: dict[str, np.ndarray] = {}
    generalisations: list[str | None] = [None] * rows
    withheld_texts: list[str | None] = [None] * rows
    issues: list[tuple[int, str, str, str]] = []
    for row in np.flatnonzero(sensitive_rows).tolist():
        rule = chosen[row]
        label = f" ({rule.name})" if rule.name else ""
        withheld = [term for term in rule.withhold if term in columns]
        withheld += [term for term in with_verbatim(rule.withhold) if term in columns and term not in withheld
                     and columns[term][row].is_valid]  # the verbatim counterparts that hold a value
        if rule.generalise is not None:
            point = generalise(values["decimalLatitude"][row], values["decimalLongitude"][row],
                               values["coordinateUncertaintyInMeters"][row], rule.generalise)
            if point is not None:
                (values["decimalLatitude"][row], values["decimalLongitude"][row],
                 values["coordinateUncertaintyInMeters"][row], text) = point
                generalisations[row] = f"sensitive record{label}: {text}"
                issues.append((row, "decimalLatitude", "COORDINATES_GENERALISED", text))
            else:  # a point that cannot be generalised (out of range: swapped?) is not published at all
                withheld += [term for term in ("decimalLatitude", "decimalLongitude")
                             if term in columns and values[term][row] is not None and term not in withheld]
            withheld += [term for term in (*VERBATIM_LOCATION_TERMS, *dependants) if term in columns
                         and columns[term][row].is_valid and term not in withheld]
        if withheld:
            for term in withheld:
                emptied.setdefault(term, np.zeros(rows, dtype=bool))[row] = True
            withheld_texts[row] = f"{', '.join(withheld)} withheld: sensitive record{label}"
            issues.append((row, "informationWithheld", "INFORMATION_WITHHELD", ", ".join(withheld)))
    for term, changed in values.items():
        if term in columns or term == "coordinateUncertaintyInMeters":
            columns[term] = pa.array(changed, pa.string())
    for term, rows_emptied in emptied.items():
        columns[term] = pc.if_else(pa.array(rows_emptied), pa.scalar(None, columns[term].type), columns[term])
    for term, texts in (("dataGeneralizations", generalisations), ("informationWithheld", withheld_texts)):
        columns[term] = _joined(columns.get(term, pa.nulls(rows, pa.string())), texts)
    return pa.table({name: columns[name] for name in table.column_names}), issues, sensitive_rows


def apply_rules(batch: pa.Table | pa.RecordBatch, table: pa.Table, issues: pa.Table,
                filters: list[RecordCondition], sensitive: SensitiveConfig | None,
                key_columns: list[str], dependants: tuple[str, ...] | list[str] = ()) -> RuleOutcome:
    """The record rules over one mapped batch: `batch` the source rows, `table` and `issues` what
    mappers.mapping.map_batch made of them (ISSUE_SCHEMA), `key_columns` the source columns that identify a
    record (the occurrenceID's), written to the excluded table with the columns the rules test; `dependants` the
    terms read from the point's source columns (:func:`point_dependants`, :func:`apply_sensitive`)."""
    exclude_when = list(sensitive.exclude_when) if sensitive is not None else []
    labels = exclusions(batch, filters, exclude_when) if (filters or exclude_when) else [None] * table.num_rows
    excluded = excluded_table(labels, table, batch,
                              list(dict.fromkeys(list(key_columns) + rule_columns(filters, sensitive))))
    found: list[tuple[int, str, str, str]] = []
    sensitive_rows = np.zeros(table.num_rows, dtype=bool)
    if sensitive is not None and sensitive.rules:
        table, found, sensitive_rows = apply_sensitive(batch, table, sensitive, dependants)
        if sensitive_rows.any() and issues.num_rows:
            hidden = hidden_terms(sensitive) | set(dependants)
            on_sensitive = pa.array(sensitive_rows[issues["row"].to_numpy()], pa.bool_())
            hide = pc.and_(on_sensitive, pc.is_in(issues["term"], pa.array(sorted(hidden), pa.string())))
            issues = issues.set_column(issues.schema.get_field_index("value"), "value",
                                       pc.if_else(hide, pa.scalar(WITHHELD_VALUE), issues["value"]))
    if found:
        rows, terms, flags, texts = zip(*found)
        issues = pa.concat_tables([issues, pa.table({"row": pa.array(rows, pa.int64()), "term": pa.array(terms),
                                                     "flag": pa.array(flags), "value": pa.array(texts)},
                                                    schema=issues.schema)])
    kept = np.array([i for i, label in enumerate(labels) if label is None], dtype=np.int64)
    if len(kept) == table.num_rows:
        return RuleOutcome(table, issues, kept, excluded, sensitive_rows)
    # the kept records renumbered 0..n-1, their issues with them
    new_row = np.full(table.num_rows, -1, dtype=np.int64)
    new_row[kept] = np.arange(len(kept))
    mapped_rows = new_row[issues["row"].to_numpy()]
    issues = issues.set_column(0, "row", pa.array(mapped_rows, pa.int64())).filter(pa.array(mapped_rows >= 0))
    return RuleOutcome(table.take(pa.array(kept)), issues, kept, excluded, sensitive_rows[kept])
