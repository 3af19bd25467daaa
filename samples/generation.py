"""The records of the sample collection database, drawn deterministically from a seed, with defects at known rates.

``generate(specimens, seed)`` yields ``(table name, {column: list of values})`` for every table of
:data:`mobilise.samples.schema.SCHEMA`, parents before children. The content is synthetic but CMS-like: real
higher classification and species for Animalia and Plantae, multilingual free-text countries, dates and
coordinates the way legacy systems hold them, and defects at realistic rates. Every defect, how to recognise it,
and its rate is documented in ``docs/sample-database.md``; the rates used are the ``RATES`` dictionary below
(fractions of the rows of the table named first in the key). Defects marked *exact* in ``RATES`` are drawn as an
exact number of rows, ``round(rate * rows)``, and at least one row when the table has 50 rows or more, so that
every exact defect class is present in any build of 400 specimens or more (60 localities). All other proportions
are random draws around the stated rate. The reference lists drawn from (taxa, countries, people, vocabularies)
are in :mod:`mobilise.samples.reference`.

Determinism: everything comes from ``numpy.random.default_rng(seed)`` in a fixed order (GUIDs included, no
clock, no global ``random``, no ``uuid4``), so the same ``(specimens, seed)`` gives identical table contents.
Points are put on the land of their country with the Natural Earth polygons of
:func:`mobilise.reference.geography.country_index`.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from mobilise.samples.reference import (BASIS, COLLECTIONS, COUNTRIES, FAMILY_NAMES, GIVEN_NAMES, HABITATS,
                                        HIGHER_RANKS, INSTITUTIONS, LIFE_STAGE, MONTH_NAMES, NOT_PUBLIC_REMARKS,
                                        PREPARATIONS, REMARKS, SAMPLING_PROTOCOLS, SEX, TAXA, UNKNOWN_COUNTRIES)

__all__ = ["RATES", "generate"]

# --------------------------------------------------------------------------------------------------------------
# Rates (single source for the generator, the documentation and the tests)
# --------------------------------------------------------------------------------------------------------------

RATES: dict[str, float] = {
    # sizes relative to specimens
    "events_per_specimen": 0.6,
    "localities_per_specimen": 0.15,
    # locality (exact)
    "locality.coordinates_missing": 0.07,        # no decimal and no text coordinates
    "locality.coordinates_text_only": 0.08,      # only DMS text in latitude_text/longitude_text
    "locality.coordinates_text_and_decimal": 0.03,
    "locality.coordinates_swapped": 0.01,        # latitude holds the longitude and vice versa
    "locality.coordinates_zero": 0.005,          # 0 / 0
    "locality.coordinates_out_of_range": 0.005,  # |lat| > 90 or |lon| > 180
    "locality.country_empty": 0.015,             # ''
    "locality.country_null": 0.015,              # NULL
    "locality.country_unknown": 0.005,           # 'Atlantis', 'unknown', '?', 'Terra incognita'
    "locality.elevation_min_above_max": 0.003,
    # collecting_event (exact)
    "collecting_event.start_date_empty": 0.015,      # ''
    "collecting_event.start_date_null": 0.015,       # NULL
    "collecting_event.start_date_nonsense": 0.005,   # 's.d.', 'unknown', '?', ...
    "collecting_event.start_date_impossible": 0.005,  # '1887-02-30', '1999-13-01', ...
    "collecting_event.start_date_future": 0.002,     # a year after 2030
    "collecting_event.end_date_before_start": 0.01,
    "collecting_event.end_date_interval": 0.12,      # random: a later end date
    # collection_object
    "collection_object.event_missing": 0.01,         # exact: event_id NULL
    "collection_object.not_public": 0.02,            # exact: is_public = 0
    "collection_object.basis_invalid": 0.005,        # exact: 'specimen?', '', NULL, 'unknown'
    "collection_object.individual_count_zero": 0.003,      # exact
    "collection_object.individual_count_negative": 0.002,  # exact
    "collection_object.remarks": 0.15,               # random: remarks filled
    # catalog_number
    "catalog_number.primary_duplicated": 0.003,      # exact: objects given another object's primary number
    "catalog_number.old_number": 0.10,               # random: extra non-primary number
    # determination (per object)
    "determination.no_current": 0.005,               # exact: history but none is_current
    "determination.current_without_taxon": 0.005,    # exact: current determination has taxon_id NULL
    "determination.two_current": 0.002,              # exact: two determinations flagged current
    "determination.type_status": 0.005,              # exact: current determination has a type status
    "determination.genus_only": 0.08,                # random: current identification only to genus
    "determination.qualifier": 0.01,                 # random: 'cf.' / 'aff.'
    # media
    "media.objects_with_media": 0.30,                # random
}


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------

_MIN_ROWS_FOR_DEFECTS = 50  # tables this size or larger hold at least one row of every exact defect


def _exact(rng: np.random.Generator, n: int, rates: dict[str, float], default: str = "") -> np.ndarray:
    """Mutually exclusive categories with exact counts (at least one each when n >= 50), the rest ``default``."""
    labels = np.full(n, default, dtype=object)
    counts = {key: round(rate * n) for key, rate in rates.items()}
    if n >= _MIN_ROWS_FOR_DEFECTS:
        counts = {key: max(1, count) for key, count in counts.items()}
    if sum(counts.values()) > n:
        raise ValueError("defect counts exceed the number of rows")
    order = rng.permutation(n)
    start = 0
    for key, count in counts.items():
        labels[order[start:start + count]] = key
        start += count
    return labels


def _exact_among(rng: np.random.Generator, candidates: np.ndarray, rate: float, n_total: int) -> np.ndarray:
    """An exact share (of n_total rows) drawn from the candidate indexes."""
    count = round(rate * n_total)
    if n_total >= _MIN_ROWS_FOR_DEFECTS:
        count = max(1, count)
    count = min(count, len(candidates))
    return rng.choice(candidates, size=count, replace=False) if count else np.empty(0, dtype=np.int64)


def _choice(rng: np.random.Generator, weights: dict, n: int) -> np.ndarray:
    """n values drawn from {value: weight} (None allowed as a value), as an object array."""
    values = np.empty(len(weights), dtype=object)
    values[:] = list(weights)
    p = np.array(list(weights.values()), dtype=float)
    return values[rng.choice(len(values), size=n, p=p / p.sum())]


def _nullable(values: np.ndarray, null: np.ndarray) -> list:
    """values.tolist() with None where null is True."""
    out = values.tolist()
    for i in np.flatnonzero(null).tolist():
        out[i] = None
    return out


def _zipf_weights(k: int, s: float = 0.8) -> np.ndarray:
    w = 1.0 / np.arange(1, k + 1) ** s
    return w / w.sum()


def _guids(rng: np.random.Generator, n: int) -> list[str]:
    """Version-4-shaped UUID strings from the generator (deterministic, unlike uuid4)."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    h = raw.tobytes().hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * n, 32)]


def _orcid(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character appended to 15 digits, formatted as an ORCID iD."""
    total = 0
    for d in digits:
        total = (total + int(d)) * 2
    check = (12 - total % 11) % 11
    full = digits + ("X" if check == 10 else str(check))
    return "-".join(full[i:i + 4] for i in range(0, 16, 4))


def _dms(value: float, axis: str, style: int) -> str:
    """Degrees-minutes-seconds text in one of the styles legacy databases hold."""
    hemi = ("N" if value >= 0 else "S") if axis == "lat" else ("E" if value >= 0 else "W")
    a = abs(value)
    deg = int(a)
    minutes_f = (a - deg) * 60
    minutes = int(minutes_f)
    seconds = int(round((minutes_f - minutes) * 60))
    if seconds == 60:
        minutes, seconds = minutes + 1, 0
    if minutes == 60:
        deg, minutes = deg + 1, 0
    if style == 0:
        return f"{deg}°{minutes:02d}'{seconds:02d}\"{hemi}"
    if style == 1:
        return f"{deg}° {minutes}' {seconds}\" {hemi}"
    if style == 2:
        return f"{deg} {minutes} {seconds} {hemi}"
    return f"{hemi} {deg}°{round(minutes_f, 1):g}'"


_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"]


def _format_dates(fmt: str, y: list[int], m: list[int], d: list[int]) -> list[str]:
    """Dates as a legacy CMS field holds them: year, year-month, ISO, day/month/year or day.month.year."""
    if fmt == "year":
        return [f"{a}" for a in y]
    if fmt == "month":
        return [f"{a}-{b:02d}" for a, b in zip(y, m)]
    if fmt == "slash":
        return [f"{c:02d}/{b:02d}/{a}" for a, b, c in zip(y, m, d)]
    if fmt == "dot":
        return [f"{c:02d}.{b:02d}.{a}" for a, b, c in zip(y, m, d)]
    return [f"{a}-{b:02d}-{c:02d}" for a, b, c in zip(y, m, d)]


def _verbatim_dates(style: int, precision: str, y: list[int], m: list[int], d: list[int]) -> list[str]:
    """Dates as written on labels: '12.v.1887', '12-V-1887', '12 mai 1887', 'v.1887', 'anno 1887', ..."""
    if precision == "year":
        return [f"{a}" for a in y] if style % 2 else [f"anno {a}" for a in y]
    names = MONTH_NAMES[("en", "fr", "nl")[style % 3]]
    if precision == "month":
        if style < 2:
            return [f"{_ROMAN[b - 1]}.{a}" for a, b in zip(y, m)]
        return [f"{names[b - 1]} {a}" for a, b in zip(y, m)]
    if style == 0:
        return [f"{c}.{_ROMAN[b - 1]}.{a}" for a, b, c in zip(y, m, d)]
    if style == 1:
        return [f"{c}-{_ROMAN[b - 1].upper()}-{a}" for a, b, c in zip(y, m, d)]
    return [f"{c} {names[b - 1]} {a}" for a, b, c in zip(y, m, d)]


def _fill(out: np.ndarray, idx: np.ndarray, values: list) -> None:
    """out[idx] = values for an object array (values may be a list of str)."""
    column = np.empty(len(values), dtype=object)
    column[:] = values
    out[idx] = column



# --------------------------------------------------------------------------------------------------------------
# Tables (each returns {column: list}; the order of rng use is fixed, which makes builds reproducible)
# --------------------------------------------------------------------------------------------------------------

def _institution_rows() -> dict[str, list]:
    cols = ("institution_id", "code", "name", "ror_id")
    return {c: [row[i] for row in INSTITUTIONS] for i, c in enumerate(cols)}


def _collection_rows() -> dict[str, list]:
    cols = ("collection_id", "institution_id", "code", "name", "discipline")
    return {c: [row[i] for row in COLLECTIONS] for i, c in enumerate(cols)}


def _taxa() -> tuple[dict[str, list], dict[str, np.ndarray]]:
    """The taxon table and, per collection code, the ids of its species-level taxa (in listed order)."""
    ids: dict[tuple, int] = {}
    rows: dict[str, list] = {c: [] for c in ("taxon_id", "parent_id", "rank", "name", "full_name", "author")}
    pools: dict[str, list[int]] = {}

    def node(path: tuple, rank: str, name: str, full_name: str, author: str | None) -> int:
        if path not in ids:
            ids[path] = len(ids) + 1
            for col, value in zip(rows, (ids[path], ids.get(path[:-1]), rank, name, full_name, author)):
                rows[col].append(value)
        return ids[path]

    for taxon in TAXA:
        path: tuple = ()
        for rank in HIGHER_RANKS:
            path += (taxon[rank],)
            node(path, rank, taxon[rank], taxon[rank], None)
        genus, epithet, infra = taxon["genus"], taxon["specificEpithet"], taxon["infraspecificEpithet"]
        author = taxon["scientificNameAuthorship"]
        node(path + (genus,), "genus", genus, genus, None)
        species = node(path + (genus, epithet), "species", epithet, f"{genus} {epithet}", None if infra else author)
        if infra:
            species = node(path + (genus, epithet, infra), "subspecies", infra, f"{genus} {epithet} {infra}", author)
        pools.setdefault(taxon["collection"], []).append(species)
    return rows, {code: np.array(pool) for code, pool in pools.items()}


def _agent_rows(rng: np.random.Generator, n: int) -> dict[str, list]:
    given = _choice(rng, dict.fromkeys(GIVEN_NAMES, 1), n).tolist()
    family = _choice(rng, dict.fromkeys(FAMILY_NAMES, 1), n).tolist()
    style = rng.choice(4, size=n, p=[0.8, 0.1, 0.05, 0.05]).tolist()
    no_given = (rng.random(n) < 0.03).tolist()
    has_orcid = rng.random(n) < 0.2
    orcid_url = (rng.random(n) < 0.7).tolist()
    digits = rng.integers(0, 10_000_000, size=n).tolist()
    series = rng.integers(1, 4, size=n).tolist()
    full, orcid = [], []
    for i in range(n):
        g, f = given[i], family[i]
        initials = ".".join(part[0] for part in g.split()) + "."
        if no_given[i]:
            given[i] = None
            full.append(f)
        else:
            full.append((f"{g} {f}", f"{f}, {initials}", f"{initials} {f}", f"{f.upper()} {g}")[style[i]])
        if has_orcid[i]:
            iid = _orcid(f"0000000{series[i]}{digits[i]:07d}")
            orcid.append(f"https://orcid.org/{iid}" if orcid_url[i] else iid)
        else:
            orcid.append(None)
    return {"agent_id": list(range(1, n + 1)), "given_name": given, "family_name": family, "full_name": full,
            "orcid": orcid}


def _points_in_country(rng: np.random.Generator, code: str, box: tuple, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in the country's bounding box, redrawn until they fall on its land (Natural Earth polygons), so
    that coordinates and country agree as they do in a curated collection; the defects are added on purpose."""
    la0, la1, lo0, lo1 = box
    lat, lon = rng.uniform(la0, la1, m), rng.uniform(lo0, lo1, m)
    shape = _country_shape(code)
    if shape is None:
        return lat, lon
    import shapely

    outside = ~shapely.contains_xy(shape, lon, lat)
    for _ in range(50):
        if not outside.any():
            break
        count = int(outside.sum())
        lat[outside], lon[outside] = rng.uniform(la0, la1, count), rng.uniform(lo0, lo1, count)
        outside[outside] = ~shapely.contains_xy(shape, lon[outside], lat[outside])
    return lat, lon


def point_in_country(rng: random.Random, code: str, box: tuple) -> tuple[float, float]:
    """One (latitude, longitude) in the country's bounding box, redrawn (at most 50 times) until it falls on the
    country's land, as _points_in_country does for arrays; for the demo generators (samples/darwin.py, ...)."""
    la0, la1, lo0, lo1 = box
    lat, lon = rng.uniform(la0, la1), rng.uniform(lo0, lo1)
    shape = _country_shape_cached(code)
    if shape is not None:
        import shapely

        for _ in range(50):
            if shapely.contains_xy(shape, lon, lat):
                break
            lat, lon = rng.uniform(la0, la1), rng.uniform(lo0, lo1)
    return lat, lon


@lru_cache(maxsize=None)
def _country_shape_cached(code: str):
    return _country_shape(code)


def _country_shape(code: str):
    from mobilise.reference.geography import country_index

    index = country_index()
    if index is None:
        return None
    import shapely

    parts = [geometry for found, geometry in zip(index.codes, index.geometries) if found == code]
    if not parts:
        return None
    shape = shapely.union_all(parts)
    shapely.prepare(shape)
    return shape


def _locality_rows(rng: np.random.Generator, n: int) -> tuple[dict[str, list], np.ndarray]:
    """Localities and, per locality, the index into COUNTRIES of its true country."""
    weights = np.array([c[1] for c in COUNTRIES])
    country_idx = rng.choice(len(COUNTRIES), size=n, p=weights / weights.sum())
    label = np.empty(n, dtype=object)
    province = np.empty(n, dtype=object)
    place = np.empty(n, dtype=object)
    town = np.empty(n, dtype=object)
    lat = np.empty(n)
    lon = np.empty(n)
    for k, (_, _, labels, (la0, la1, lo0, lo1), provinces, places) in enumerate(COUNTRIES):
        mask = country_idx == k
        m = int(mask.sum())
        label[mask] = _choice(rng, labels, m)
        province[mask] = _choice(rng, dict.fromkeys(provinces + [None], 1), m)
        place[mask] = _choice(rng, dict.fromkeys(places, 1), m)
        town[mask] = _choice(rng, dict.fromkeys(places, 1), m)
        lat[mask], lon[mask] = _points_in_country(rng, COUNTRIES[k][0], (la0, la1, lo0, lo1), m)
    decimals = rng.integers(2, 7, size=n)
    factor = 10.0 ** decimals
    lat = np.round(lat * factor) / factor
    lon = np.round(lon * factor) / factor

    country_defect = _exact(rng, n, {"empty": RATES["locality.country_empty"], "null": RATES["locality.country_null"],
                                     "unknown": RATES["locality.country_unknown"]})
    label[country_defect == "empty"] = ""
    label[country_defect == "null"] = None
    unknown = country_defect == "unknown"
    label[unknown] = _choice(rng, dict.fromkeys(UNKNOWN_COUNTRIES, 1), int(unknown.sum()))

    # locality name
    template = rng.choice(6, size=n, p=[0.35, 0.25, 0.15, 0.1, 0.1, 0.05]).tolist()
    km = rng.integers(1, 40, size=n).tolist()
    direction = _choice(rng, dict.fromkeys(["N", "S", "E", "W", "NE", "SW", "NNW"], 1), n).tolist()
    habitat = _choice(rng, dict.fromkeys(HABITATS, 1), n).tolist()
    place_l, town_l = place.tolist(), town.tolist()
    names = []
    for i in range(n):
        p, t = place_l[i], town_l[i]
        names.append((p, f"{p}, {km[i]} km {direction[i]} of {t}", f"env. {p}", f"{p} ({habitat[i]})",
                      f"{t}: {p}", None)[template[i]])

    # coordinates
    kind = _exact(rng, n, {
        "missing": RATES["locality.coordinates_missing"], "text": RATES["locality.coordinates_text_only"],
        "both": RATES["locality.coordinates_text_and_decimal"], "swapped": RATES["locality.coordinates_swapped"],
        "zero": RATES["locality.coordinates_zero"], "range": RATES["locality.coordinates_out_of_range"],
    }, default="decimal")
    lat_out, lon_out = lat.copy(), lon.copy()
    swapped = kind == "swapped"
    lat_out[swapped], lon_out[swapped] = lon[swapped], lat[swapped]
    zero = kind == "zero"
    lat_out[zero] = 0.0
    lon_out[zero] = 0.0
    out_of_range = np.flatnonzero(kind == "range")
    on_lat = rng.random(len(out_of_range)) < 0.5
    excess = np.round(rng.uniform(0.5, 15.0, len(out_of_range)), 1)
    lat_out[out_of_range[on_lat]] = np.sign(lat[out_of_range[on_lat]] + 1e-9) * (90 + excess[on_lat])
    lon_out[out_of_range[~on_lat]] = np.sign(lon[out_of_range[~on_lat]] + 1e-9) * (180 + excess[~on_lat])
    no_decimal = (kind == "missing") | (kind == "text")
    has_text = (kind == "text") | (kind == "both")
    styles = rng.integers(0, 4, size=n).tolist()
    lat_text: list = [None] * n
    lon_text: list = [None] * n
    for i in np.flatnonzero(has_text).tolist():
        lat_text[i] = _dms(float(lat[i]), "lat", styles[i])
        lon_text[i] = _dms(float(lon[i]), "lon", styles[i])
    has_coords = ~(kind == "missing")

    datum = _choice(rng, {"WGS84": 82, "WGS 84": 5, "ED50": 5, "": 4, None: 4}, n)
    datum[~has_coords] = None
    uncertainty = rng.choice(np.array([10, 30, 100, 250, 1000, 5000, 10000, 25000]), size=n)
    no_uncertainty = (rng.random(n) < 0.4) | ~has_coords

    elevation_kind = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])  # none, min only, min and max
    elev_min = np.round(rng.uniform(0, 3000, n))
    elev_max = elev_min + np.round(rng.uniform(0, 500, n))
    inverted = _exact_among(rng, np.arange(n), RATES["locality.elevation_min_above_max"], n)
    elevation_kind[inverted] = 2
    elev_max[inverted] = elev_min[inverted] - np.round(rng.uniform(10, 500, len(inverted)))

    rows = {
        "locality_id": list(range(1, n + 1)),
        "country": label.tolist(),
        "state_province": province.tolist(),
        "locality_name": names,
        "latitude": _nullable(lat_out, no_decimal),
        "longitude": _nullable(lon_out, no_decimal),
        "latitude_text": lat_text,
        "longitude_text": lon_text,
        "geodetic_datum": datum.tolist(),
        "coordinate_uncertainty_m": _nullable(uncertainty, no_uncertainty),
        "elevation_min": _nullable(elev_min, elevation_kind == 0),
        "elevation_max": _nullable(elev_max, elevation_kind < 2),
    }
    return rows, country_idx


def _event_rows(rng: np.random.Generator, n: int, n_localities: int, n_agents: int) -> dict[str, list]:
    locality = rng.choice(n_localities, size=n, p=_zipf_weights(n_localities, 0.5)) + 1
    collector = rng.choice(n_agents, size=n, p=_zipf_weights(n_agents)) + 1
    no_collector = rng.random(n) < 0.1

    historic = rng.random(n) < 0.4
    year = np.where(historic, rng.integers(1850, 1960, n), rng.integers(1960, 2025, n))
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    fmt = _choice(rng, {"year": 10, "month": 12, "iso": 48, "slash": 18, "dot": 12}, n)
    defect = _exact(rng, n, {
        "empty": RATES["collecting_event.start_date_empty"], "null": RATES["collecting_event.start_date_null"],
        "nonsense": RATES["collecting_event.start_date_nonsense"],
        "impossible": RATES["collecting_event.start_date_impossible"],
        "future": RATES["collecting_event.start_date_future"],
    })
    future_year = rng.integers(2031, 2100, n)
    nonsense = _choice(rng, dict.fromkeys(["s.d.", "unknown", "?", "onbekend", "sans date", "n.d."], 1), n)
    impossible = rng.integers(0, 5, n)
    verbatim_style = rng.integers(0, 4, n)
    no_verbatim = rng.random(n) < 0.2

    # end dates: an interval after the start, or (defect) before it; only for valid day-precision starts
    full_day = np.isin(fmt, ["iso", "slash", "dot"]) & (defect == "")
    start_day = ((year - 1970).astype("datetime64[Y]") + (month - 1).astype("timedelta64[M]")).astype(
        "datetime64[D]") + (day - 1).astype("timedelta64[D]")
    end_kind = np.full(n, "", dtype=object)
    candidates = np.flatnonzero(full_day)
    before = _exact_among(rng, candidates, RATES["collecting_event.end_date_before_start"], n)
    end_kind[candidates[rng.random(len(candidates)) < RATES["collecting_event.end_date_interval"]]] = "after"
    end_kind[before] = "before"
    shift = np.where(end_kind == "before", -rng.integers(1, 366, n), rng.integers(1, 31, n))
    end_day = start_day + shift.astype("timedelta64[D]")
    end_year = end_day.astype("datetime64[Y]").astype(int) + 1970
    end_month = end_day.astype("datetime64[M]").astype(int) % 12 + 1
    end_dom = (end_day - end_day.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1

    start = np.full(n, None, dtype=object)
    end = np.full(n, None, dtype=object)
    verbatim = np.full(n, None, dtype=object)
    precision = {"year": "year", "month": "month", "iso": "day", "slash": "day", "dot": "day"}
    for f in precision:
        idx = np.flatnonzero((fmt == f) & (defect == ""))
        _fill(start, idx, _format_dates(f, year[idx].tolist(), month[idx].tolist(), day[idx].tolist()))
        idx = np.flatnonzero((fmt == f) & (defect == "future"))
        _fill(start, idx, _format_dates(f, future_year[idx].tolist(), month[idx].tolist(), day[idx].tolist()))
        idx = np.flatnonzero((fmt == f) & (end_kind != ""))
        _fill(end, idx, _format_dates(f, end_year[idx].tolist(), end_month[idx].tolist(), end_dom[idx].tolist()))
        for style in range(4):
            idx = np.flatnonzero((fmt == f) & (defect == "") & (verbatim_style == style) & ~no_verbatim)
            _fill(verbatim, idx, _verbatim_dates(style, precision[f], year[idx].tolist(), month[idx].tolist(),
                                                 day[idx].tolist()))
            idx = idx[end_kind[idx] != ""]
            ends = _verbatim_dates(style, "day", end_year[idx].tolist(), end_month[idx].tolist(),
                                   end_dom[idx].tolist())
            _fill(verbatim, idx, [f"{v} – {e}" for v, e in zip(verbatim[idx].tolist(), ends)])
    idx = np.flatnonzero(defect == "impossible")
    patterns = ("{y}-02-30", "{y}-13-01", "{y}-04-31", "31/06/{y}", "30.02.{y}")
    _fill(start, idx, [patterns[k].format(y=y) for k, y in zip(impossible[idx].tolist(), year[idx].tolist())])
    idx = np.flatnonzero(defect == "nonsense")
    start[idx] = nonsense[idx]
    start[defect == "empty"] = ""
    copied = np.isin(defect, ["future", "impossible", "nonsense"])
    verbatim[copied] = start[copied]

    field_kind = rng.choice(4, size=n, p=[0.6, 0.2, 0.15, 0.05])
    field_seq = rng.integers(1, 5000, n).tolist()
    field_number = [None if k == 0 else (str(s) if k == 1 else f"FN-{s:05d}" if k == 2 else "s.n.")
                    for k, s in zip(field_kind.tolist(), field_seq)]
    habitat = _choice(rng, dict.fromkeys(HABITATS, 1), n)
    no_habitat = rng.random(n) < 0.5
    return {
        "event_id": list(range(1, n + 1)),
        "locality_id": locality.tolist(),
        "start_date": start.tolist(),
        "end_date": end.tolist(),
        "verbatim_date": verbatim.tolist(),
        "collector_id": _nullable(collector, no_collector),
        "field_number": field_number,
        "habitat": _nullable(habitat, no_habitat),
        "sampling_protocol": _choice(rng, SAMPLING_PROTOCOLS, n).tolist(),
    }


def _object_rows(rng: np.random.Generator, n: int, n_events: int) -> tuple[dict[str, list], np.ndarray]:
    """Collection objects and, per object, the index into COLLECTIONS of its collection."""
    # Events belong to one collection; every event has at least one object.
    shares = np.array([c[5] for c in COLLECTIONS])
    event_collection = rng.choice(len(COLLECTIONS), size=n_events, p=shares / shares.sum())
    event_idx = rng.permutation(np.concatenate([np.arange(n_events), rng.integers(0, n_events, n - n_events)]))
    collection_idx = event_collection[event_idx]
    no_event = np.zeros(n, dtype=bool)
    no_event[_exact_among(rng, np.arange(n), RATES["collection_object.event_missing"], n)] = True

    basis = np.empty(n, dtype=object)
    sex = np.full(n, None, dtype=object)
    life_stage = np.full(n, None, dtype=object)
    count = np.ones(n, dtype=np.int64)
    count_null = np.zeros(n, dtype=bool)
    for k, coll in enumerate(COLLECTIONS):
        code = coll[2]
        mask = collection_idx == k
        m = int(mask.sum())
        if not m:
            continue
        basis[mask] = _choice(rng, BASIS[code], m)
        if code in SEX:
            sex[mask] = _choice(rng, SEX[code], m)
            life_stage[mask] = _choice(rng, LIFE_STAGE[code], m)
        if code == "ENT":
            count[mask] = np.where(rng.random(m) < 0.1, rng.integers(2, 51, m), 1)
            count_null[mask] = rng.random(m) < 0.05
        elif code == "MOLL":
            count[mask] = rng.integers(1, 201, m)
            count_null[mask] = rng.random(m) < 0.05
        elif code == "BR":
            count_null[mask] = rng.random(m) < 0.6
        else:
            count_null[mask] = rng.random(m) < 0.05

    basis_defect = _exact(rng, n, {"invalid": RATES["collection_object.basis_invalid"]})
    invalid = basis_defect == "invalid"
    basis[invalid] = _choice(rng, {"specimen?": 2, "": 1, None: 1, "unknown": 1}, int(invalid.sum()))

    count_defect = _exact(rng, n, {"zero": RATES["collection_object.individual_count_zero"],
                                   "negative": RATES["collection_object.individual_count_negative"]})
    count[count_defect == "zero"] = 0
    negative = count_defect == "negative"
    count[negative] = -rng.integers(1, 6, int(negative.sum()))
    count_null[count_defect != ""] = False

    remark_idx = rng.integers(0, len(REMARKS), n)
    remarks = np.array(REMARKS, dtype=object)[remark_idx]
    no_remarks = rng.random(n) >= RATES["collection_object.remarks"]
    remarks[no_remarks] = None
    not_public = _exact(rng, n, {"hidden": RATES["collection_object.not_public"]}) == "hidden"
    hidden = np.flatnonzero(not_public)
    explained = hidden[rng.random(len(hidden)) < 0.5]
    remarks[explained] = _choice(rng, dict.fromkeys(NOT_PUBLIC_REMARKS, 1), len(explained))

    seconds = rng.integers(0, int((np.datetime64("2025-06-30") - np.datetime64("2005-01-01"))
                                  / np.timedelta64(1, "s")), n)
    modified = np.datetime64("2005-01-01T00:00:00") + seconds.astype("timedelta64[s]")

    rows = {
        "object_id": list(range(1, n + 1)),
        "guid": _guids(rng, n),
        "collection_id": [COLLECTIONS[k][0] for k in collection_idx.tolist()],
        "event_id": _nullable(event_idx + 1, no_event),
        "basis": basis.tolist(),
        "sex": sex.tolist(),
        "life_stage": life_stage.tolist(),
        "individual_count": _nullable(count, count_null),
        "remarks": remarks.tolist(),
        "is_public": (~not_public).astype(int).tolist(),
        "modified_at": np.datetime_as_string(modified, unit="s").tolist(),
    }
    return rows, collection_idx


def _catalog_number_rows(rng: np.random.Generator, collection_idx: np.ndarray) -> tuple[dict[str, list], list]:
    """Primary numbers (ids 1..n, one per object), then old non-primary numbers; also the primary numbers."""
    n = len(collection_idx)
    seq = np.zeros(n, dtype=np.int64)
    for k in range(len(COLLECTIONS)):
        mask = collection_idx == k
        seq[mask] = np.arange(1, int(mask.sum()) + 1)
    prefixes = [c[6] for c in COLLECTIONS]
    primary = [f"{prefixes[k]}-{s:06d}" for k, s in zip(collection_idx.tolist(), seq.tolist())]
    # defect: some objects carry the primary number of another object of the same collection
    members = {k: np.flatnonzero(collection_idx == k) for k in range(len(COLLECTIONS))}
    for i in _exact_among(rng, np.arange(n), RATES["catalog_number.primary_duplicated"], n).tolist():
        same = members[int(collection_idx[i])]
        if len(same) > 1:
            j = int(same[rng.integers(0, len(same) - 1)])
            primary[i] = primary[j if j != i else int(same[-1])]

    old_objects = np.flatnonzero(rng.random(n) < RATES["catalog_number.old_number"])
    old_values = rng.integers(1000, 40000, len(old_objects)).tolist()
    old_style = rng.integers(0, 3, len(old_objects)).tolist()
    old = []
    for obj, value, style in zip(old_objects.tolist(), old_values, old_style):
        if COLLECTIONS[collection_idx[obj]][2] == "BR":
            old.append(f"Herb. Crépin n° {value}")
        else:
            old.append((f"I.G. {value}", f"I.G.{value}", f"IG {value // 1000}.{value % 1000:03d}")[style])
    rows = {
        "catalog_number_id": list(range(1, n + len(old) + 1)),
        "object_id": list(range(1, n + 1)) + (old_objects + 1).tolist(),
        "number": primary + old,
        "is_primary": [1] * n + [0] * len(old),
    }
    return rows, primary


def _determination_rows(rng: np.random.Generator, collection_idx: np.ndarray, taxa: dict[str, list],
                        pools: dict[str, np.ndarray], n_agents: int) -> dict[str, list]:
    """1-3 determinations per object, oldest first; the last one is the current one."""
    n = len(collection_idx)
    # genus_of[taxon_id] is the genus of a species or subspecies
    parent = np.array([0] + [p or 0 for p in taxa["parent_id"]])
    is_genus = np.array([False] + [r == "genus" for r in taxa["rank"]])
    genus_of = np.arange(len(parent))
    for _ in range(2):
        genus_of = np.where(is_genus[genus_of], genus_of, parent[genus_of])

    current = np.zeros(n, dtype=np.int64)
    other = np.zeros(n, dtype=np.int64)
    for k, coll in enumerate(COLLECTIONS):
        mask = collection_idx == k
        m = int(mask.sum())
        if not m:
            continue
        pool = pools[coll[2]]
        current[mask] = pool[rng.choice(len(pool), size=m, p=_zipf_weights(len(pool)))]
        other[mask] = pool[rng.integers(0, len(pool), m)]
    genus_only = rng.random(n) < RATES["determination.genus_only"]

    k = rng.choice(np.array([1, 2, 3]), size=n, p=[0.6, 0.3, 0.1])
    obj = np.repeat(np.arange(n), k)
    total = len(obj)
    pos = np.arange(total) - np.repeat(np.cumsum(k) - k, k)
    last = pos == np.repeat(k - 1, k)

    defect = _exact(rng, n, {"no_current": RATES["determination.no_current"],
                             "no_taxon": RATES["determination.current_without_taxon"]})
    two = np.zeros(n, dtype=bool)
    two[_exact_among(rng, np.flatnonzero((k >= 2) & (defect == "")), RATES["determination.two_current"], n)] = True
    type_status = np.full(n, None, dtype=object)
    typed = _exact_among(rng, np.flatnonzero(defect == ""), RATES["determination.type_status"], n)
    type_status[typed] = _choice(rng, {"holotype": 3, "Holotypus": 1, "paratype": 4, "syntype": 2,
                                       "lectotype": 1, "type": 1}, len(typed))

    earlier_is_genus = rng.random(total) < 0.5
    q = RATES["determination.qualifier"]
    qualifier = _choice(rng, {None: 1 - q, "cf.": 0.7 * q, "aff.": 0.3 * q}, total)
    determiner = rng.choice(n_agents, size=total, p=_zipf_weights(n_agents)) + 1
    no_determiner = rng.random(total) < 0.2
    year = rng.integers(1880, 2025, total) - (np.repeat(k, k) - 1 - pos) * rng.integers(5, 40, total)
    month = rng.integers(1, 13, total)
    day = rng.integers(1, 29, total)
    date_kind = rng.choice(3, size=total, p=[0.5, 0.3, 0.2])  # year, full date, none

    cur = current[obj]
    taxon = np.where(last, np.where(genus_only[obj], genus_of[cur], cur),
                     np.where(earlier_is_genus, genus_of[cur], other[obj]))
    no_taxon = last & (defect[obj] == "no_taxon")
    is_current = (last & (defect[obj] != "no_current")) | (two[obj] & (pos == 0))
    types = np.where(last, type_status[obj], None)
    qualifier[no_taxon] = None
    dates = np.full(total, None, dtype=object)
    idx = np.flatnonzero(date_kind == 0)
    _fill(dates, idx, _format_dates("year", year[idx].tolist(), [], []))
    idx = np.flatnonzero(date_kind == 1)
    _fill(dates, idx, _format_dates("iso", year[idx].tolist(), month[idx].tolist(), day[idx].tolist()))
    return {
        "determination_id": list(range(1, total + 1)),
        "object_id": (obj + 1).tolist(),
        "taxon_id": _nullable(taxon, no_taxon),
        "determiner_id": _nullable(determiner, no_determiner),
        "determined_date": dates.tolist(),
        "is_current": is_current.astype(int).tolist(),
        "type_status": types.tolist(),
        "qualifier": qualifier.tolist(),
    }


def _preparation_rows(rng: np.random.Generator, collection_idx: np.ndarray) -> dict[str, list]:
    n = len(collection_idx)
    k = np.where(rng.random(n) < 0.15, 2, 1)
    obj = np.repeat(np.arange(n), k)
    total = len(obj)
    coll = collection_idx[obj]
    prep = np.empty(total, dtype=object)
    for c, collection in enumerate(COLLECTIONS):
        mask = coll == c
        if mask.any():
            prep[mask] = _choice(rng, PREPARATIONS[collection[2]], int(mask.sum()))
    count = np.where(rng.random(total) < 0.9, 1, rng.integers(2, 11, total))
    no_count = rng.random(total) < 0.05
    building = _choice(rng, {"Vautier": 3, "Janlet": 2, "Tour Gauchez": 1}, total).tolist()
    room = rng.integers(0, 5, total).tolist()
    room2 = rng.integers(1, 40, total).tolist()
    cabinet = rng.integers(1, 200, total).tolist()
    drawer = rng.integers(1, 60, total).tolist()
    no_storage = (rng.random(total) < 0.1).tolist()
    codes = [c[2] for c in COLLECTIONS]
    coll_l = coll.tolist()
    storage = [None if no_storage[i] else
               (f"Meise, Herbarium {room[i]}.{room2[i]:02d} / K{cabinet[i]:03d}" if codes[coll_l[i]] == "BR" else
                f"{building[i]} {room[i]}.{room2[i]:02d} / C{cabinet[i]:03d} / D{drawer[i]:02d}")
               for i in range(total)]
    return {
        "preparation_id": list(range(1, total + 1)),
        "object_id": (obj + 1).tolist(),
        "prep_type": prep.tolist(),
        "count": _nullable(count, no_count),
        "storage_location": storage,
    }


def _media_rows(rng: np.random.Generator, collection_idx: np.ndarray, primary: list[str],
                agent_names: list[str]) -> dict[str, list]:
    n = len(collection_idx)
    k = np.where(rng.random(n) < RATES["media.objects_with_media"], np.where(rng.random(n) < 0.3, 2, 1), 0)
    obj = np.repeat(np.arange(n), k)
    total = len(obj)
    fmt = _choice(rng, {"image/jpeg": 88, "image/tiff": 12}, total).tolist()
    license_ = _choice(rng, {"CC0-1.0": 40, "CC-BY-4.0": 35, "https://creativecommons.org/licenses/by/4.0/": 10,
                             "CC BY-NC 4.0": 10, "All rights reserved": 3, None: 2}, total).tolist()
    by_agent = (rng.random(total) < 0.5).tolist()
    agent = rng.integers(0, len(agent_names), total).tolist()
    view = _choice(rng, dict.fromkeys(["habitus dorsal", "habitus ventral", "labels", "lateral view",
                                       "overview"], 1), total).tolist()
    obj_l, coll_l = obj.tolist(), collection_idx[obj].tolist()
    creator, title, url = [], [], []
    for i in range(total):
        br = COLLECTIONS[coll_l[i]][2] == "BR"
        team = "Meise Botanic Garden – Digitisation" if br else "RBINS digitisation team"
        creator.append(agent_names[agent[i]] if by_agent[i] else team)
        title.append(f"{primary[obj_l[i]]} – {'herbarium sheet' if br else view[i]}")
        url.append(f"https://example.org/media/{i + 1}.{'tif' if fmt[i] == 'image/tiff' else 'jpg'}")
    return {
        "media_id": list(range(1, total + 1)),
        "object_id": (obj + 1).tolist(),
        "url": url,
        "format": fmt,
        "license": license_,
        "creator": creator,
        "title": title,
    }



# --------------------------------------------------------------------------------------------------------------
# All tables, in the order of rng use
# --------------------------------------------------------------------------------------------------------------

def generate(specimens: int, seed: int) -> Iterator[tuple[str, dict[str, list]]]:
    """``(table name, {column: values})`` for every sample table, parents first, for ``specimens`` collection
    objects drawn from ``numpy.random.default_rng(seed)``.

    Tables are produced one at a time and not kept once handed over (except the few later tables need), so a
    caller that writes each and drops it holds about one table in memory. Raises ValueError when
    ``specimens < 1``.
    """
    if specimens < 1:
        raise ValueError("specimens must be at least 1")
    rng = np.random.default_rng(seed)
    n_events = max(1, round(specimens * RATES["events_per_specimen"]))
    n_localities = max(1, round(specimens * RATES["localities_per_specimen"]))
    n_agents = min(5000, max(50, specimens // 100))

    yield "institution", _institution_rows()
    yield "collection", _collection_rows()
    taxa, pools = _taxa()
    yield "taxon", taxa
    agents = _agent_rows(rng, n_agents)
    yield "agent", agents
    localities, _ = _locality_rows(rng, n_localities)
    yield "locality", localities
    del localities
    yield "collecting_event", _event_rows(rng, n_events, n_localities, n_agents)
    objects, collection_idx = _object_rows(rng, specimens, n_events)
    yield "collection_object", objects
    del objects
    catalog, primary = _catalog_number_rows(rng, collection_idx)
    yield "catalog_number", catalog
    del catalog
    yield "determination", _determination_rows(rng, collection_idx, taxa, pools, n_agents)
    yield "preparation", _preparation_rows(rng, collection_idx)
    yield "media", _media_rows(rng, collection_idx, primary, agents["full_name"])
