"""eml.xml for a Darwin Core Archive, valid against the GBIF EML profile 1.3 (EML 2.2.0).

``build_eml(metadata, package_id=..., version=..., pub_date=..., coverage=..., now=...)`` returns
UTF-8 bytes. Elements follow the profile's order (``eml-gbif-profile/1.3``); the licence is
written the way the IPT writes it (an ``intellectualRights`` paragraph with a ``ulink`` to the
legal code and IPT's licence title, plus ``licensed`` with the SPDX identifier), which is what
GBIF's registry parses to set the dataset licence.

The document is built with lxml; every text and attribute value goes through :func:`xml_text`,
which removes characters XML 1.0 cannot carry (C0 controls other than tab/newline/CR, lone
surrogates, U+FFFE/U+FFFF), so any input is safe.

``Coverage`` carries what the pipeline computes from the published records: a bounding box,
a date range (full dates, "YYYY-MM" or bare years) and a list of taxa (rank, name); the validate
stage finds each batch's :class:`BatchCoverage` (:func:`batch_coverage`) and the publish stage
merges them (:func:`merge_coverage`).
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

import pycountry

from mobilise.mappers.dates import bounds
from mobilise.metadata import (DEFAULT_MAX_TAXA, LICENCES, Agent, AssociatedParty, Citation, CoverageSettings,
                               DatasetMetadata, Project, Publisher)

__all__ = ["build_eml", "validate_eml", "InvalidEMLError", "eml_schema", "EML_XSD", "Coverage", "TaxonCoverage",
           "BatchCoverage", "batch_coverage", "merge_coverage", "inferred_taxa", "TAXON_RANKS", "event_date_range",
           "xml_text", "EML_NS", "EML_SCHEMA_LOCATION"]

EML_NS = "https://eml.ecoinformatics.org/eml-2.2.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DC_NS = "http://purl.org/dc/terms/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EML_SCHEMA_LOCATION = f"{EML_NS} http://rs.gbif.org/schema/eml-gbif-profile/1.3/eml.xsd"
SYSTEM = "http://gbif.org"
ORCID_DIRECTORY = "https://orcid.org/"
ROR_DIRECTORY = "https://ror.org/"
DEFAULT_GEOGRAPHIC_DESCRIPTION = "Bounding box of the georeferenced records in this dataset."
# the ranks of the higher classification the taxonomic coverage is inferred from, finest first
TAXON_RANKS = ("family", "order", "class", "phylum", "kingdom")
_RANK_PLURALS = {"family": "families", "order": "orders", "class": "classes", "phylum": "phyla", "kingdom": "kingdoms"}

# XML 1.0 Char production, negated: everything else is dropped.
_ILLEGAL_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: Any) -> str:
    """``str(value)`` with characters that are illegal in XML 1.0 removed."""
    return _ILLEGAL_XML.sub("", str(value))


# ---------------------------------------------------------------------------------------------
# Coverage


def _year_date(value: Any, *, end: bool) -> str:
    """xs:gYear or xs:date text for a date, datetime, year (int) or 'YYYY' / 'YYYY-MM' / 'YYYY-MM-DD'.

    A year-month is widened to its first (begin) or last (end) day, because the profile's
    ``yearDate`` type has no year-month form.
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 < value <= 9999:
            raise ValueError(f"year {value} is out of range")
        return f"{value:04d}"
    if isinstance(value, str):
        s = value.strip()
        if re.fullmatch(r"\d{4}", s):
            return s
        m = re.fullmatch(r"(\d{4})-(\d{1,2})", s)
        if m:
            y, mth = int(m.group(1)), int(m.group(2))
            if not 1 <= mth <= 12:
                raise ValueError(f"month in {value!r} is out of range")
            day = calendar.monthrange(y, mth)[1] if end else 1
            return date(y, mth, day).isoformat()
        try:
            return date.fromisoformat(s[:10]).isoformat()
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date, a year-month (YYYY-MM) or a year (YYYY)")


_ISO_DAY_OR_PERIOD = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"


def event_date_range(event_dates: pa.Array | pa.ChunkedArray) -> tuple[str | None, str | None]:
    """(first day, last day) as 'YYYY-MM-DD' of published eventDate values: ISO 8601 dates, date-times or
    intervals of any precision (mappers/dates.py writes them). A partial start counts from the first day of its
    period and a partial end to the last (``1970/1984`` covers 1970-01-01 to 1984-12-31, ``2009-02/2010-01``
    2009-02-01 to 2010-01-31, ``2012-02`` ends 2012-02-29). Values that are not ISO dates are left out;
    (None, None) when none is left.
    """
    starts = pc.utf8_slice_codeunits(pc.replace_substring_regex(event_dates, "/.*$", ""), 0, 10)
    ends = pc.utf8_slice_codeunits(pc.replace_substring_regex(event_dates, "^[^/]*/", ""), 0, 10)
    # Padded, a period sorts before its own days as a start (' ' < '-' < digits) and after them as an end ('~'):
    # the smallest padded start and the largest padded end are the values with the earliest first day and the
    # latest last day, so only those two are read as dates.
    first = pc.min(pc.utf8_rpad(starts.filter(pc.fill_null(pc.match_substring_regex(starts, _ISO_DAY_OR_PERIOD),
                                                          False)), 10, " ")).as_py()
    last = pc.max(pc.utf8_rpad(ends.filter(pc.fill_null(pc.match_substring_regex(ends, _ISO_DAY_OR_PERIOD),
                                                       False)), 10, "~")).as_py()
    return (bounds(first.rstrip(" "))[0].isoformat() if first else None,
            bounds(last.rstrip("~"))[1].isoformat() if last else None)


def _sort_key(text: str, *, end: bool) -> str:
    if len(text) == 4:
        return f"{text}-12-31" if end else f"{text}-01-01"
    return text


class TaxonCoverage(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    rank: str | None = None
    name: str = Field(min_length=1)
    common_name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: Any) -> Any:
        if isinstance(data, (tuple, list)) and len(data) in (2, 3):
            return dict(zip(("rank", "name", "common_name"), data))
        return data


class Coverage(BaseModel):
    """Geographic, temporal and taxonomic coverage, given or computed from the published records.

    ``west/east/north/south`` are decimal degrees (all four or none; west > east is allowed for
    a box crossing the antimeridian); ``begin``/``end`` are dates, ``YYYY-MM`` or years (one of
    them alone gives a single date); ``taxa`` are (rank, name) pairs or TaxonCoverage, written as given.

    What :func:`merge_coverage` infers from the published records: ``records`` (published),
    ``georeferenced`` (of them, with coordinates), ``taxon_counts`` (rank -> name -> records, for the ranks of
    :data:`TAXON_RANKS`) and ``country_counts`` (countryCode -> records). :func:`build_eml` lists the taxa of
    ``taxon_counts`` (:func:`inferred_taxa`) when ``taxa`` is empty, and summarises the counts in
    generalTaxonomicCoverage and geographicDescription.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    west: float | None = Field(None, ge=-180, le=180)
    east: float | None = Field(None, ge=-180, le=180)
    north: float | None = Field(None, ge=-90, le=90)
    south: float | None = Field(None, ge=-90, le=90)
    geographic_description: str | None = None
    begin: date | int | str | None = None
    end: date | int | str | None = None
    taxa: list[TaxonCoverage] = Field(default_factory=list)
    taxonomic_description: str | None = None
    records: int | None = Field(None, ge=0)
    georeferenced: int | None = Field(None, ge=0)
    taxon_counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    country_counts: dict[str, int] = Field(default_factory=dict)

    @field_validator("begin", "end", mode="before")
    @classmethod
    def _dates(cls, v: Any, info: Any) -> Any:
        return None if v is None or v == "" else _year_date(v, end=info.field_name == "end")

    @model_validator(mode="after")
    def _consistent(self) -> "Coverage":
        box = (self.west, self.east, self.north, self.south)
        if any(v is not None for v in box) and any(v is None for v in box):
            raise ValueError("a bounding box needs all four of west, east, north and south")
        if self.north is not None and self.south is not None and self.north < self.south:
            raise ValueError(f"north ({self.north}) is south of south ({self.south})")
        if self.begin and self.end and _sort_key(self.begin, end=False) > _sort_key(self.end, end=True):
            raise ValueError(f"begin ({self.begin}) is after end ({self.end})")
        unknown = set(self.taxon_counts) - set(TAXON_RANKS)
        if unknown:
            raise ValueError(f"taxon_counts has ranks {sorted(unknown)}; known: {', '.join(TAXON_RANKS)}")
        return self

    @property
    def has_box(self) -> bool:
        return self.west is not None

    def is_empty(self) -> bool:
        return not (self.has_box or self.begin or self.end or self.taxa or any(self.taxon_counts.values()))


@dataclass
class BatchCoverage:
    """The coverage of one batch's published records, as the validate stage finds it; :func:`merge_coverage`
    makes the archive's :class:`Coverage` of all batches. Degrees (WGS84), dates as ``YYYY[-MM[-DD]]`` text;
    ``taxa`` rank -> name -> records for the ranks of :data:`TAXON_RANKS` (a few thousand names at most, whatever
    the batch size), ``countries`` countryCode -> records; counts add up across batches."""

    west: float | None = None
    east: float | None = None
    south: float | None = None
    north: float | None = None
    first_date: str | None = None
    last_date: str | None = None
    records: int = 0
    georeferenced: int = 0
    taxa: dict[str, dict[str, int]] = dataclass_field(default_factory=dict)
    countries: dict[str, int] = dataclass_field(default_factory=dict)


def _value_counts(column: pa.ChunkedArray | pa.Array) -> dict[str, int]:
    """Non-empty text value -> rows (values are trimmed; nulls and blanks are left out)."""
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    text = text.filter(pc.fill_null(pc.not_equal(text, ""), False))
    return {pair["values"]: pair["counts"] for pair in pc.value_counts(text).to_pylist()}


def batch_coverage(table: pa.Table) -> BatchCoverage:
    """The bounding box (decimalLatitude/decimalLongitude), the eventDate range (event_date_range: the first day
    of the earliest start and the last day of the latest end, at each value's precision), the records per
    higher taxon (kingdom … family) and per countryCode of `table`'s rows; a term the table lacks gives nothing."""
    coverage = BatchCoverage(records=table.num_rows)
    if "decimalLatitude" in table.column_names and "decimalLongitude" in table.column_names:
        latitude = pc.cast(table["decimalLatitude"], pa.float64())
        longitude = pc.cast(table["decimalLongitude"], pa.float64())
        coverage.south, coverage.north = pc.min(latitude).as_py(), pc.max(latitude).as_py()
        coverage.west, coverage.east = pc.min(longitude).as_py(), pc.max(longitude).as_py()
        coverage.georeferenced = pc.sum(pc.and_(pc.is_valid(latitude), pc.is_valid(longitude))).as_py() or 0
    if "eventDate" in table.column_names:
        coverage.first_date, coverage.last_date = event_date_range(table["eventDate"])
    coverage.taxa = {rank: _value_counts(table[rank]) for rank in TAXON_RANKS if rank in table.column_names}
    if "countryCode" in table.column_names:
        coverage.countries = _value_counts(pc.utf8_upper(pc.cast(table["countryCode"], pa.string())))
    return coverage


def merge_coverage(batches: Iterable[BatchCoverage]) -> Coverage:
    """The EML coverage of all batches: the box around theirs, the earliest and latest date, the records per
    higher taxon and per country summed."""
    batches = list(batches)

    def pick(values, function):
        values = [v for v in values if v is not None]
        return function(values) if values else None

    west, east = pick([b.west for b in batches], min), pick([b.east for b in batches], max)
    south, north = pick([b.south for b in batches], min), pick([b.north for b in batches], max)
    first, last = pick([b.first_date for b in batches], min), pick([b.last_date for b in batches], max)
    taxa: dict[str, Counter] = {rank: Counter() for rank in TAXON_RANKS}
    countries: Counter = Counter()
    for b in batches:
        for rank, counts in b.taxa.items():
            taxa[rank].update(counts)
        countries.update(b.countries)
    return Coverage(west=west, east=east, south=south, north=north, begin=first, end=last,
                    records=sum(b.records for b in batches), georeferenced=sum(b.georeferenced for b in batches),
                    taxon_counts={rank: dict(counts) for rank, counts in taxa.items() if counts},
                    country_counts=dict(countries))


def inferred_taxa(taxon_counts: dict[str, dict[str, int]], max_taxa: int = DEFAULT_MAX_TAXA
                  ) -> tuple[str | None, list[tuple[str, int]], int]:
    """(rank, [(name, records)], distinct names at that rank) to list as the taxonomic coverage: the finest rank
    of :data:`TAXON_RANKS` whose distinct names number at most `max_taxa`, all of them, by name. When no rank
    fits, the coarsest rank present, its `max_taxa` names with the most records. (None, [], 0) without counts."""
    present = [rank for rank in TAXON_RANKS if taxon_counts.get(rank)]
    if not present:
        return None, [], 0
    for rank in present:
        if len(taxon_counts[rank]) <= max_taxa:
            return rank, sorted(taxon_counts[rank].items()), len(taxon_counts[rank])
    rank = present[-1]
    top = sorted(taxon_counts[rank].items(), key=lambda kv: (-kv[1], kv[0]))[:max_taxa]
    return rank, sorted(top), len(taxon_counts[rank])


def _decimal(x: float) -> str:
    # xs:decimal has no exponent form
    return format(Decimal(repr(float(x))).normalize(), "f")


# ---------------------------------------------------------------------------------------------
# Building


def _sub(parent: etree._Element, tag: str, text: Any = None, **attrs: Any) -> etree._Element:
    el = etree.SubElement(parent, tag)
    for k, v in attrs.items():
        if v is not None:
            el.set(k, xml_text(v))
    if text is not None:
        el.text = xml_text(text)
    return el


def _nonempty(value: Any) -> str | None:
    """Cleaned text, or None when nothing printable is left (NonEmptyStringType)."""
    if value is None:
        return None
    s = xml_text(value).strip()
    return s or None


def _opt(parent: etree._Element, tag: str, value: Any) -> None:
    s = _nonempty(value)
    if s is not None:
        _sub(parent, tag, s)


def _agent(parent: etree._Element, tag: str, agent: Agent | AssociatedParty) -> etree._Element:
    el = etree.SubElement(parent, tag)
    surname = _nonempty(agent.surname)
    if surname:
        ind = etree.SubElement(el, "individualName")
        _opt(ind, "givenName", agent.given_name)
        _sub(ind, "surName", surname)
    _opt(el, "organizationName", agent.organisation)
    _opt(el, "positionName", agent.position)
    if len(el) == 0:
        raise ValueError(f"{tag}: agent has no printable name, organisation or position")
    address_parts = [agent.delivery_point, agent.city, agent.administrative_area, agent.postal_code, agent.country]
    if any(_nonempty(p) for p in address_parts):
        addr = etree.SubElement(el, "address")
        for t, v in zip(("deliveryPoint", "city", "administrativeArea", "postalCode", "country"), address_parts):
            _opt(addr, t, v)
    _opt(el, "phone", agent.phone)
    _opt(el, "electronicMailAddress", agent.email)
    _opt(el, "onlineUrl", agent.url)
    if agent.orcid:
        _sub(el, "userId", agent.orcid, directory=ORCID_DIRECTORY)
    if agent.ror:
        _sub(el, "userId", agent.ror, directory=ROR_DIRECTORY)
    if isinstance(agent, AssociatedParty):
        _sub(el, "role", agent.role)
    return el


def _publisher(parent: etree._Element, pub: Publisher) -> None:
    el = etree.SubElement(parent, "publisher")
    _sub(el, "organizationName", _nonempty(pub.name) or "unknown")
    _opt(el, "electronicMailAddress", pub.email)
    _opt(el, "onlineUrl", pub.url)
    if pub.ror:
        _sub(el, "userId", pub.ror, directory=ROR_DIRECTORY)
    if pub.identifier:
        _sub(el, "userId", pub.identifier, directory=pub.identifier_directory)


def _paras(parent: etree._Element, tag: str, paragraphs: Iterable[str]) -> etree._Element | None:
    texts = [p for p in (_nonempty(x) for x in paragraphs) if p]
    if not texts:
        return None
    el = etree.SubElement(parent, tag)
    for t in texts:
        _sub(el, "para", t)
    return el


def _plural(n: int, rank: str) -> str:
    return f"{n:,} {rank if n == 1 else _RANK_PLURALS.get(rank, rank + 's')}"


def _by_records(counts: Iterable[tuple[str, int]]) -> str:
    return "; ".join(f"{name} {n:,}" for name, n in sorted(counts, key=lambda kv: (-kv[1], kv[0])))


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    return f"{country.name} ({code})" if country is not None else code


def _geographic_description(cov: Coverage, settings: CoverageSettings) -> str:
    parts = [p for p in (_nonempty(settings.geographic_description), _nonempty(cov.geographic_description)) if p]
    if cov.georeferenced is not None and cov.records is not None:
        parts.append(f"Bounding box of the {cov.georeferenced:,} georeferenced records of the {cov.records:,} "
                     "published.")
    elif not parts:
        parts.append(DEFAULT_GEOGRAPHIC_DESCRIPTION)
    if cov.country_counts:
        parts.append("Published records per country (countryCode): "
                     + _by_records((_country_name(c), n) for c, n in cov.country_counts.items()) + ".")
    return " ".join(parts)


def _taxonomic_description(cov: Coverage, settings: CoverageSettings, rank: str | None,
                           listed: list[tuple[str, int]], distinct: int) -> str | None:
    parts = [p for p in (_nonempty(settings.taxonomic_description), _nonempty(cov.taxonomic_description)) if p]
    if rank is not None:
        ranks = [r for r in reversed(TAXON_RANKS) if cov.taxon_counts.get(r)]
        records = f"the {cov.records:,} published records" if cov.records is not None else "the published records"
        parts.append(f"Inferred from the higher classification of {records}: "
                     + ", ".join(_plural(len(cov.taxon_counts[r]), r) for r in ranks) + ".")
        if cov.records is not None:
            unclassified = cov.records - sum(cov.taxon_counts[rank].values())
            if unclassified > 0:
                parts.append(f"{unclassified:,} of them name no {rank}.")
        if len(listed) < distinct:
            parts.append(f"Listed: the {_plural(len(listed), rank)} with the most records, of {distinct:,}.")
        parts.append(f"Published records per {rank}: {_by_records(listed)}.")
    return " ".join(parts) or None


def _coverage(parent: etree._Element, cov: Coverage, settings: CoverageSettings) -> None:
    if cov.is_empty():
        return
    el = etree.SubElement(parent, "coverage")
    if cov.has_box:
        geo = etree.SubElement(el, "geographicCoverage")
        _sub(geo, "geographicDescription", _geographic_description(cov, settings))
        box = etree.SubElement(geo, "boundingCoordinates")
        _sub(box, "westBoundingCoordinate", _decimal(cov.west))
        _sub(box, "eastBoundingCoordinate", _decimal(cov.east))
        _sub(box, "northBoundingCoordinate", _decimal(cov.north))
        _sub(box, "southBoundingCoordinate", _decimal(cov.south))
    if cov.begin or cov.end:
        tmp = etree.SubElement(el, "temporalCoverage")
        if cov.begin and cov.end and cov.begin != cov.end:
            rng = etree.SubElement(tmp, "rangeOfDates")
            _sub(etree.SubElement(rng, "beginDate"), "calendarDate", cov.begin)
            _sub(etree.SubElement(rng, "endDate"), "calendarDate", cov.end)
        else:
            _sub(etree.SubElement(tmp, "singleDateTime"), "calendarDate", cov.begin or cov.end)
    taxa = [t for t in cov.taxa if _nonempty(t.name)]
    rank, listed, distinct = (None, [], 0) if taxa else inferred_taxa(cov.taxon_counts, settings.max_taxa)
    taxa = taxa or [TaxonCoverage(rank=rank, name=name) for name, _ in listed]
    if taxa:
        tax = etree.SubElement(el, "taxonomicCoverage")
        _opt(tax, "generalTaxonomicCoverage", _taxonomic_description(cov, settings, rank, listed, distinct))
        for t in taxa:
            tc = etree.SubElement(tax, "taxonomicClassification")
            _opt(tc, "taxonRankName", t.rank)
            _sub(tc, "taxonRankValue", _nonempty(t.name))
            _opt(tc, "commonName", t.common_name)


def _methods(parent: etree._Element, md: DatasetMetadata) -> None:
    m = md.methods
    if m is None:
        return
    steps = [s for s in (_nonempty(x) for x in m.steps) if s]
    if not steps:
        return
    el = etree.SubElement(parent, "methods")
    # The profile's sequence (methodStep, sampling?, qualityControl*) repeats; IPT writes all
    # steps first, then sampling and quality control, which is the same content model.
    for s in steps:
        _sub(etree.SubElement(el, "methodStep"), "description").append(_para(s))
    if m.sampling is not None:
        smp = etree.SubElement(el, "sampling")
        _sub(etree.SubElement(smp, "studyExtent"), "description").append(_para(m.sampling.study_extent))
        _sub(smp, "samplingDescription").append(_para(m.sampling.sampling_description))
    for qc in m.quality_control:
        s = _nonempty(qc)
        if s:
            _sub(etree.SubElement(el, "qualityControl"), "description").append(_para(s))


def _para(text: str) -> etree._Element:
    p = etree.Element("para")
    p.text = xml_text(text)
    return p


def _description(parent: etree._Element, tag: str, text: str) -> None:
    """``<tag><description><para>text</para></description></tag>`` (EML's ``description`` type)."""
    _sub(etree.SubElement(parent, tag), "description").append(_para(text))


def _project(parent: etree._Element, project: Project) -> None:
    el = _sub(parent, "project", id=_nonempty(project.identifier))
    _sub(el, "title", _nonempty(project.title) or "untitled project")
    for person in project.personnel:
        _agent(el, "personnel", person)
    _paras(el, "abstract", project.description)
    _paras(el, "funding", [project.funding] if project.funding else [])
    for award in project.awards:
        a = etree.SubElement(el, "award")
        _sub(a, "funderName", _nonempty(award.funder_name) or "unknown funder")
        for identifier in award.funder_identifiers:
            _opt(a, "funderIdentifier", identifier)
        _opt(a, "awardNumber", award.award_number)
        _sub(a, "title", _nonempty(award.title) or "untitled award")
        _opt(a, "awardUrl", award.award_url)
    area = project.study_area_description
    if area is not None and _nonempty(area.value):
        citable = None if area.citable_classification_system is None else str(area.citable_classification_system).lower()
        descriptor = _sub(etree.SubElement(el, "studyAreaDescription"), "descriptor", name=area.name,
                          citableClassificationSystem=citable)
        _sub(descriptor, "descriptorValue", _nonempty(area.value))
    if _nonempty(project.design_description):
        _description(el, "designDescription", _nonempty(project.design_description))


def _citation(parent: etree._Element, citation: Citation) -> None:
    _sub(parent, "citation", _nonempty(citation.text), identifier=_nonempty(citation.identifier))


def _package_id(package_id: str, version: str) -> str:
    pid = xml_text(package_id).strip()
    if not pid:
        raise ValueError("package_id is empty")
    ver = xml_text(version).strip().removeprefix("v")
    if not ver or pid.endswith(f"/v{ver}"):
        return pid
    return f"{pid}/v{ver}"


def build_eml(
    metadata: DatasetMetadata,
    *,
    package_id: str,
    version: str,
    pub_date: date,
    coverage: Coverage | None = None,
    now: datetime | None = None,
) -> bytes:
    """eml.xml bytes (UTF-8, with XML declaration) for the dataset.

    ``packageId`` is ``{package_id}/v{version}`` as the IPT writes it (e.g. the dataset UUID
    and ``1.2`` give ``<uuid>/v1.2``); a package_id already ending in ``/v{version}`` is kept.
    ``now`` (default: the current UTC time) becomes ``gbif/dateStamp``. The document is validated against
    the GBIF EML profile 1.3 before it is returned (:func:`validate_eml`): raises :class:`InvalidEMLError`
    when it is not valid, so that no archive is written with it.
    """
    if not isinstance(metadata, DatasetMetadata):
        raise TypeError("metadata must be a mobilise.metadata.DatasetMetadata")
    if isinstance(pub_date, datetime):
        pub_date = pub_date.date()
    if coverage is not None and not isinstance(coverage, Coverage):
        coverage = Coverage.model_validate(coverage)
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    md = metadata

    root = etree.Element(f"{{{EML_NS}}}eml", nsmap={"eml": EML_NS, "dc": DC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", EML_SCHEMA_LOCATION)
    root.set("packageId", _package_id(package_id, version))
    root.set("system", SYSTEM)
    root.set("scope", "system")
    root.set(XML_LANG, md.metadata_language or md.language)

    ds = etree.SubElement(root, "dataset")
    for identifier in md.alternate_ids:
        _opt(ds, "alternateIdentifier", identifier)
    _opt(ds, "shortName", md.shortname)
    title = _nonempty(md.title)
    if not title:
        raise ValueError("the title has no printable characters")
    _sub(ds, "title", title, **{XML_LANG: md.metadata_language or md.language})
    for a in md.creators:
        _agent(ds, "creator", a)
    for a in md.metadata_providers:
        _agent(ds, "metadataProvider", a)
    for a in md.associated_parties:
        _agent(ds, "associatedParty", a)
    _sub(ds, "pubDate", pub_date.isoformat())
    _sub(ds, "language", md.language)
    if _paras(ds, "abstract", md.abstract) is None:
        raise ValueError("the abstract has no printable characters")
    for ks in md.keywords:
        words = [w for w in (_nonempty(k) for k in ks.keywords) if w]
        if words:
            kse = etree.SubElement(ds, "keywordSet")
            for w in words:
                _sub(kse, "keyword", w)
            _sub(kse, "keywordThesaurus", _nonempty(ks.thesaurus) or "N/A")
    _paras(ds, "additionalInfo", [md.additional_info] if md.additional_info else [])

    lic = LICENCES[md.licence]
    rights = etree.SubElement(ds, "intellectualRights")
    para = _sub(rights, "para", lic.before)
    ulink = _sub(para, "ulink", url=lic.url)
    _sub(ulink, "citetitle", lic.title)
    ulink.tail = lic.after
    licensed = etree.SubElement(ds, "licensed")
    _sub(licensed, "licenseName", lic.name)
    _sub(licensed, "url", lic.canonical_url)
    _sub(licensed, "identifier", lic.spdx)

    for url, function in ((md.homepage, "information"), (md.download_url, "download")):
        if url:
            dist = _sub(ds, "distribution", scope="document")
            _sub(etree.SubElement(dist, "online"), "url", url, function=function)
    if coverage is not None:
        _coverage(ds, coverage, md.coverage)
    _paras(ds, "purpose", md.purpose)
    _paras(ds, "introduction", md.introduction)
    _paras(ds, "gettingStarted", md.getting_started)
    _paras(ds, "acknowledgements", md.acknowledgements)
    if md.update_frequency is not None:
        mnt = etree.SubElement(ds, "maintenance")
        desc = etree.SubElement(mnt, "description")
        if _nonempty(md.update_description):
            _sub(desc, "para", _nonempty(md.update_description))
        _sub(mnt, "maintenanceUpdateFrequency", md.update_frequency.value)
    for a in md.contacts:
        _agent(ds, "contact", a)
    if md.publisher is not None:
        _publisher(ds, md.publisher)
    _methods(ds, md)
    if md.project is not None:
        _project(ds, md.project)

    gbif = etree.SubElement(etree.SubElement(etree.SubElement(root, "additionalMetadata"), "metadata"), "gbif")
    _sub(gbif, "dateStamp", now.isoformat())
    _sub(gbif, "hierarchyLevel", "dataset")
    if md.citation is not None and _nonempty(md.citation.text):
        _citation(gbif, md.citation)
    references = [c for c in md.bibliography if _nonempty(c.text)]
    if references:
        bibliography = etree.SubElement(gbif, "bibliography")
        for c in references:
            _citation(bibliography, c)
    _opt(gbif, "resourceLogoUrl", md.logo_url)
    for c in md.collections:
        col = etree.SubElement(gbif, "collection")
        _opt(col, "parentCollectionIdentifier", c.parent_collection_identifier)
        _opt(col, "collectionIdentifier", c.collection_identifier)
        _sub(col, "collectionName", _nonempty(c.collection_name) or "unnamed collection")
    _opt(gbif, "formationPeriod", md.formation_period)
    for p in md.specimen_preservation_methods:
        _sub(gbif, "specimenPreservationMethod", p)
    _opt(gbif, "livingTimePeriod", md.living_time_period)
    for unit in md.curatorial_units:
        jgti = etree.SubElement(gbif, "jgtiCuratorialUnit")
        _sub(jgti, "jgtiUnitType", _nonempty(unit.unit_type) or "units")
        if unit.count is not None:
            _sub(jgti, "jgtiUnits", unit.count, uncertaintyMeasure=unit.uncertainty)
        else:
            units = etree.SubElement(jgti, "jgtiUnitRange")
            _sub(units, "beginRange", unit.range_from)
            _sub(units, "endRange", unit.range_to)

    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate_eml(data)
    return data



# ---------------------------------------------------------------------------------------------
# Validation against the GBIF EML profile 1.3 (the schemas shipped in mobilise/data, never the network)

EML_XSD = Path(str(resources.files("mobilise"))) / "data" / "eml-gbif-profile-1.3" / "eml.xsd"
_XML_XSD_URLS = frozenset({"http://www.w3.org/2001/xml.xsd", "http://www.w3.org/2001/03/xml.xsd",
                           "http://rs.gbif.org/schema/xml.xsd", "https://rs.gbif.org/schema/xml.xsd"})


class InvalidEMLError(ValueError):
    """eml.xml is not valid against the GBIF EML profile 1.3; ``errors`` are (line, message) from libxml2."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        lines = "\n".join(f"  line {line}: {message}" for line, message in errors[:20])
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"eml.xml is not valid against the GBIF EML profile 1.3 ({EML_XSD.name}):\n{lines}{more}")

    def __reduce__(self):  # pickled across processes (Dask workers) with its errors, not its message
        return type(self), (self.errors,)


class _ShippedSchemas(etree.Resolver):
    """The schemas' imports of the ``xml:`` namespace schema by URL, answered with the shipped copy."""

    def resolve(self, system_url, public_id, context):  # lxml's API
        if system_url in _XML_XSD_URLS:
            return self.resolve_filename(str(EML_XSD.with_name("xml.xsd")), context)
        if system_url and system_url.startswith(("http://", "https://")):
            raise OSError(f"the EML schemas import {system_url}, which is not shipped in {EML_XSD.parent}")
        return None  # the profile's own files, by relative path


@cache
def eml_schema() -> etree.XMLSchema:
    """The compiled GBIF EML profile 1.3 schema (compiled once per process, about 5 ms; validating an eml.xml then takes well under 1 ms)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_ShippedSchemas())
    return etree.XMLSchema(etree.parse(str(EML_XSD), parser))


def validate_eml(data: bytes) -> None:
    """Raise :class:`InvalidEMLError` (each error with its line) unless `data` is an eml.xml valid against the
    GBIF EML profile 1.3."""
    try:
        document = etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise InvalidEMLError([(exc.lineno or 0, f"not well-formed XML: {exc.msg}")]) from None
    schema = eml_schema()
    if not schema.validate(document):
        raise InvalidEMLError([(e.line, e.message) for e in schema.error_log])
