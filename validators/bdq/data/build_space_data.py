"""Generate the small SPACE authority files shipped beside this script.

Run by hand when an authority changes (needs pycountry and pyproj in the venv; pyproj is needed only here):

    .venv/bin/python validators/bdq/data/build_space_data.py

* iso3166.tsv      ISO 3166-1 countries from pycountry, plus the user-assigned codes the BDQ tests accept
                   (XZ high seas, ZZ unknown).
* epsg_datums.tsv  EPSG geographic 2D CRSs, geodetic datums and ellipsoids (code, kind, name, aliases) read from the
                   EPSG tables inside PROJ's proj.db, which pyproj ships.

Runtime code reads only these files, never pycountry's or PROJ's databases, so the tests behave the same on
every machine.
"""
from __future__ import annotations

import csv
import os
import sqlite3
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ISO 3166 user-assigned codes that Darwin Core and the BDQ tests treat as valid country codes.
USER_ASSIGNED = [("XZ", "", "", "High seas"), ("ZZ", "", "", "Unknown or unspecified country")]

# A few spellings that occur in data and are not EPSG names or aliases (GBIF GeodeticDatum vocabulary style).
EXTRA_DATUM_SYNONYMS = {"4326": ["WGS 1984", "WGS-1984", "World Geodetic System 1984"]}


def build_iso3166() -> int:
    import pycountry

    rows = []
    for c in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        names = [n for n in (getattr(c, "name", ""), getattr(c, "official_name", ""),
                             getattr(c, "common_name", "")) if n]
        rows.append((c.alpha_2, c.alpha_3, c.numeric, "official", "|".join(dict.fromkeys(names))))
    for a2, a3, num, name in USER_ASSIGNED:
        rows.append((a2, a3, num, "user-assigned", name))
    with open(HERE / "iso3166.tsv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["alpha2", "alpha3", "numeric", "status", "names"])
        writer.writerows(rows)
    return len(rows)


def build_epsg() -> int:
    import pyproj

    db = sqlite3.connect(os.path.join(pyproj.datadir.get_data_dir(), "proj.db"))
    aliases: dict[tuple[str, str], list[str]] = {}
    for table, code, alt in db.execute("SELECT table_name, code, alt_name FROM alias_name WHERE auth_name='EPSG'"):
        if not alt.isdigit():  # a few aliases are bare numbers; they are not names
            aliases.setdefault((table, str(code)), []).append(alt)

    rows = []
    for code, name, datum, deprecated in db.execute(
            "SELECT code, name, datum_code, deprecated FROM geodetic_crs "
            "WHERE auth_name='EPSG' AND type='geographic 2D' ORDER BY CAST(code AS INTEGER)"):
        names = [name, *aliases.get(("geodetic_crs", str(code)), []), *EXTRA_DATUM_SYNONYMS.get(str(code), [])]
        rows.append((code, "crs", int(deprecated), datum, "|".join(dict.fromkeys(names))))
    for code, name, deprecated in db.execute(
            "SELECT code, name, deprecated FROM geodetic_datum WHERE auth_name='EPSG' "
            "ORDER BY CAST(code AS INTEGER)"):
        names = [name, *aliases.get(("geodetic_datum", str(code)), [])]
        rows.append((code, "datum", int(deprecated), "", "|".join(dict.fromkeys(names))))
    for code, name, deprecated in db.execute(
            "SELECT code, name, deprecated FROM ellipsoid WHERE auth_name='EPSG' ORDER BY CAST(code AS INTEGER)"):
        names = [name, *aliases.get(("ellipsoid", str(code)), [])]
        rows.append((code, "ellipsoid", int(deprecated), "", "|".join(dict.fromkeys(names))))
    version = dict(db.execute("SELECT key, value FROM metadata")).get("EPSG.VERSION", "?")
    with open(HERE / "epsg_datums.tsv", "w", encoding="utf-8", newline="") as out:
        out.write(f"# EPSG Geodetic Parameter Dataset {version}, via PROJ proj.db (pyproj {pyproj.__version__})\n")
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["code", "kind", "deprecated", "datum_code", "names"])
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    print("iso3166.tsv", build_iso3166())
    print("epsg_datums.tsv", build_epsg())
