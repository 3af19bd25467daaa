"""A small lab collection kept in an Excel workbook, the demo source of config/lab-spreadsheet.yaml
(docs/demo-institutions.md): what a research group keeps beside the institutional database, in Dutch, with a
spreadsheet's habits.

Sheet ``Specimens``: a title merged across the first row, the header on row 2 (``Nummer``, ``Soort`` the name with
its authorship, ``Datum``, ``Land``, ``Vindplaats``, ``Coördinaten``, ``Verzamelaar``, ``Opmerking``), then one
row per specimen with blank rows between batches of entry, each followed by a row that only labels the batch's box
(``doos 2`` in ``Opmerking``, no ``Nummer``); a specimen not to be published yet says ``niet publiceren`` there.
``Datum`` is a real Excel date for most rows and free text for the others: ``12 juni 1998`` (Dutch month names),
``1998-06``, ``1998``, and ``ca. 1950`` (an approximate date: the mapping must flag it, never guess it). ``Land`` is the country in Dutch (``België``,
``Nederland``, ``Frankrijk``, ``Duitsland``). ``Coördinaten`` is degrees and minutes, ``50°51'N 4°21'E``.

Sheet ``Measurements``: ``Nummer``, ``Kenmerk`` (``lengte``, ``gewicht``), ``Waarde``, ``Eenheid`` (``mm``,
``g``): several per specimen, for a MeasurementOrFact extension.

``lab_rows(specimens, seed)`` gives the rows (deterministic); ``write_lab(path, specimens, seed)`` the workbook.
"""
from __future__ import annotations

import os
import random
from datetime import datetime
from pathlib import Path

from mobilise.samples.generation import point_in_country
from mobilise.samples.reference import COUNTRIES, FAMILY_NAMES, GIVEN_NAMES, TAXA

__all__ = ["write_lab", "lab_rows", "HEADER", "COUNTRY_NAMES"]

HEADER = ("Nummer", "Soort", "Datum", "Land", "Vindplaats", "Coördinaten", "Verzamelaar", "Opmerking")
COUNTRY_NAMES = {"BE": "België", "NL": "Nederland", "FR": "Frankrijk", "DE": "Duitsland"}
DUTCH_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                "oktober", "november", "december")
# Boxes inside each country, a point drawn in them until it lands on the country's land
_BOXES = {"BE": (50.3, 51.0, 3.6, 5.6), "NL": (51.6, 52.8, 4.8, 6.5), "FR": (46.0, 48.5, 1.0, 4.5),
          "DE": (49.5, 52.0, 8.0, 12.0)}


def _dms(value: float, positive: str, negative: str) -> str:
    hemisphere = positive if value >= 0 else negative
    value = abs(value)
    degrees, minutes = int(value), round((value - int(value)) * 60)
    if minutes == 60:
        degrees, minutes = degrees + 1, 0
    return f"{degrees}°{minutes}'{hemisphere}"


def _date(rng: random.Random):
    """An Excel date for most rows, else one of the free-text habits."""
    year, month, day = rng.randint(1950, 2022), rng.randint(1, 12), rng.randint(1, 28)
    habit = rng.choices(["excel", "dutch", "month", "year", "circa", None], [60, 15, 8, 5, 7, 5])[0]
    if habit == "excel":
        return datetime(year, month, day)
    if habit == "dutch":
        return f"{day} {DUTCH_MONTHS[month - 1]} {year}"
    if habit == "month":
        return f"{year}-{month:02d}"
    if habit == "year":
        return str(year)
    if habit == "circa":
        return f"ca. {rng.choice([1940, 1950, 1960, 1970])}"
    return None


def lab_rows(specimens: int = 300, seed: int = 42) -> tuple[list[tuple | None], list[tuple]]:
    """The specimen rows (None where the sheet has a blank row; after it, a row with only a note in Opmerking, the
    box label ``doos 2``, and no Nummer) and the measurement rows. Every 50th specimen from the 25th is marked
    ``niet publiceren`` (not for publication) in Opmerking."""
    rng = random.Random(seed)
    taxa = [t for t in TAXA if t["collection"] == "ENT"]
    places = {c.code: c.places for c in COUNTRIES}
    people = [f"{rng.choice(GIVEN_NAMES)[0]}. {rng.choice(FAMILY_NAMES)}" for _ in range(8)]
    rows: list[tuple | None] = []
    measurements: list[tuple] = []
    for number in range(1, specimens + 1):
        if number > 1 and number % 40 == 1:
            rows.append(None)  # a blank row between two sessions of entry
            # then the label of the session's box: a row with a note and no specimen number
            rows.append((None, None, None, None, None, None, None, f"doos {number // 40 + 1}"))
        taxon = rng.choice(taxa)
        name = " ".join(filter(None, (taxon["genus"], taxon["specificEpithet"], taxon["infraspecificEpithet"],
                                      taxon["scientificNameAuthorship"])))
        code = rng.choices(list(COUNTRY_NAMES), [60, 20, 12, 8])[0]
        lat, lon = point_in_country(rng, code, _BOXES[code])
        coordinates = f"{_dms(lat, 'N', 'S')} {_dms(lon, 'E', 'W')}" if rng.random() < 0.85 else None
        key = f"LAB-{number:04d}"
        remark = rng.choice([None, None, None, "in alcohol", "genitaalpreparaat"])
        if number % 50 == 25:  # a specimen its collector has not released yet
            remark = "niet publiceren"
        rows.append((key, name, _date(rng), COUNTRY_NAMES[code], rng.choice(places[code]), coordinates,
                     rng.choice(people), remark))
        for feature, unit, low, high in (("lengte", "mm", 4.0, 40.0), ("gewicht", "g", 0.01, 2.0)):
            if rng.random() < 0.7:
                measurements.append((key, feature, round(rng.uniform(low, high), 2), unit))
    return rows, measurements


def write_lab(path: str | os.PathLike, specimens: int = 300, seed: int = 42) -> Path:
    """Write the lab workbook to ``path`` (.xlsx), renamed into place at the end. Returns the path."""
    from openpyxl import Workbook

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, measurements = lab_rows(specimens, seed)
    book = Workbook()
    sheet = book.active
    sheet.title = "Specimens"
    sheet.append(["Collectie insecten, laboratorium ecologie (invoer door studenten)"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(list(row) if row else [])
        if row and isinstance(row[2], datetime):
            sheet.cell(row=sheet.max_row, column=3).number_format = "dd/mm/yyyy"
    values = book.create_sheet("Measurements")
    values.append(["Nummer", "Kenmerk", "Waarde", "Eenheid"])
    for row in measurements:
        values.append(list(row))
    # a fixed creation time, so the same seed writes the same workbook
    book.properties.created = book.properties.modified = datetime(2026, 1, 1)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        book.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
