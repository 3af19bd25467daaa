"""The country tiles read back from the user's cache are the tiles cut from the polygons, exactly."""
from __future__ import annotations

import numpy as np
import pytest

from mobilise.reference import geography


def test_cached_tiles_are_the_cut_tiles(tmp_path, monkeypatch):
    shapely = pytest.importorskip("shapely")
    index = geography.country_index()
    if index is None:
        pytest.skip("no country polygons installed")
    monkeypatch.setenv("MOBILISE_CACHE_DIR", str(tmp_path))
    cut, owners = geography._cut_tiles(index)
    written = geography._tile_pieces(index)  # cuts and writes the copy
    assert len(list(tmp_path.glob("country-tiles-*.arrow"))) == 1
    read = geography._tile_pieces(index)  # reads the copy
    expected = shapely.to_wkb(np.array(cut, dtype=object)).tolist()
    for pieces, found_owners in (written, read):
        assert found_owners == owners
        assert shapely.to_wkb(np.array(pieces, dtype=object)).tolist() == expected
    # a damaged copy is cut again, not trusted
    copy = next(tmp_path.glob("country-tiles-*.arrow"))
    copy.write_bytes(b"not arrow")
    pieces, found_owners = geography._tile_pieces(index)
    assert found_owners == owners and shapely.to_wkb(np.array(pieces, dtype=object)).tolist() == expected
