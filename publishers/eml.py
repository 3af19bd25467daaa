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
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mobilise.mappers.dates import bounds
from mobilise.metadata import LICENCES, Agent, AssociatedParty, DatasetMetadata, Publisher

__all__ = ["build_eml", "Coverage", "TaxonCoverage", "BatchCoverage", "batch_coverage", "merge_coverage",
           "event_date_range", "xml_text", "EML_NS", "EML_SCHEMA_LOCATION"]

EML_NS = "https://eml.ecoinformatics.org/eml-2.2.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DC_NS = "http://purl.org/dc/terms/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EML_SCHEMA_LOCATION = f"{EML_NS} http://rs.gbif.org/schema/eml-gbif-profile/1.3/eml.xsd"
SYSTEM = "http://gbif.org"
ORCID_DIRECTORY = "https://orcid.org/"
ROR_DIRECTORY = "https://ror.org/"
DEFAULT_GEOGRAPHIC_DESCRIPTION = "Bounding box of the georeferenced records in this dataset."

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
    """Geographic, temporal and taxonomic coverage computed from the published records.

    ``west/east/north/south`` are decimal degrees (all four or none; west > east is allowed for
    a box crossing the antimeridian); ``begin``/``end`` are dates, ``YYYY-MM`` or years (one of
    them alone gives a single date); ``taxa`` are (rank, name) pairs or TaxonCoverage.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    west: float | None = Field(None, ge=-180, le=180)
    east: float | None = Field(None, ge=-180, le=180)
    north: float | None = Field(None, ge=-90, le=90)
    south: float | None = Field(None, ge=-90, le=90)
    geographic_description: str = DEFAULT_GEOGRAPHIC_DESCRIPTION
    begin: date | int | str | None = None
    end: date | int | str | None = None
    taxa: list[TaxonCoverage] = Field(default_factory=list)
    taxonomic_description: str | None = None

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
        return self

    @property
    def has_box(self) -> bool:
        return self.west is not None

    def is_empty(self) -> bool:
        return not (self.has_box or self.begin or self.end or self.taxa)


@dataclass
class BatchCoverage:
    """The coverage of one batch's published records, as the validate stage finds it; :func:`merge_coverage`
    makes the archive's :class:`Coverage` of all batches. Degrees (WGS84), dates as ``YYYY[-MM[-DD]]`` text."""

    west: float | None = None
    east: float | None = None
    south: float | None = None
    north: float | None = None
    first_date: str | None = None
    last_date: str | None = None
    kingdoms: list[str] = dataclass_field(default_factory=list)


def batch_coverage(table: pa.Table) -> BatchCoverage:
    """The bounding box (decimalLatitude/decimalLongitude), the eventDate range (event_date_range: the first day
    of the earliest start and the last day of the latest end, at each value's precision) and the kingdoms of `table`'s rows; a term the table lacks is None."""
    coverage = BatchCoverage()
    if "decimalLatitude" in table.column_names and "decimalLongitude" in table.column_names:
        latitude = pc.cast(table["decimalLatitude"], pa.float64())
        longitude = pc.cast(table["decimalLongitude"], pa.float64())
        coverage.south, coverage.north = pc.min(latitude).as_py(), pc.max(latitude).as_py()
        coverage.west, coverage.east = pc.min(longitude).as_py(), pc.max(longitude).as_py()
    if "eventDate" in table.column_names:
        coverage.first_date, coverage.last_date = event_date_range(table["eventDate"])
    if "kingdom" in table.column_names:
        coverage.kingdoms = sorted(k for k in pc.unique(table["kingdom"]).to_pylist() if k)
    return coverage


def merge_coverage(batches: Iterable[BatchCoverage]) -> Coverage:
    """The EML coverage of all batches: the box around theirs, the earliest and latest date, every kingdom."""
    batches = list(batches)

    def pick(values, function):
        values = [v for v in values if v is not None]
        return function(values) if values else None

    west, east = pick([b.west for b in batches], min), pick([b.east for b in batches], max)
    south, north = pick([b.south for b in batches], min), pick([b.north for b in batches], max)
    first, last = pick([b.first_date for b in batches], min), pick([b.last_date for b in batches], max)
    kingdoms = sorted({k for b in batches for k in b.kingdoms})
    return Coverage(west=west, east=east, south=south, north=north, begin=first, end=last,
                    taxa=[("kingdom", k) for k in kingdoms])


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


def _coverage(parent: etree._Element, cov: Coverage) -> None:
    if cov.is_empty():
        return
    el = etree.SubElement(parent, "coverage")
    if cov.has_box:
        geo = etree.SubElement(el, "geographicCoverage")
        _sub(geo, "geographicDescription", _nonempty(cov.geographic_description) or DEFAULT_GEOGRAPHIC_DESCRIPTION)
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
    if taxa:
        tax = etree.SubElement(el, "taxonomicCoverage")
        _opt(tax, "generalTaxonomicCoverage", cov.taxonomic_description)
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
    ``now`` (default: the current UTC time) becomes ``gbif/dateStamp``.
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
    if md.dataset_id:
        _sub(ds, "alternateIdentifier", md.dataset_id)
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

    if md.homepage:
        dist = _sub(ds, "distribution", scope="document")
        _sub(etree.SubElement(dist, "online"), "url", md.homepage, function="information")
    if coverage is not None:
        _coverage(ds, coverage)
    _paras(ds, "purpose", md.purpose)
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

    gbif = etree.SubElement(etree.SubElement(etree.SubElement(root, "additionalMetadata"), "metadata"), "gbif")
    _sub(gbif, "dateStamp", now.isoformat())
    _sub(gbif, "hierarchyLevel", "dataset")
    if md.citation is not None and _nonempty(md.citation.text):
        _sub(gbif, "citation", _nonempty(md.citation.text), identifier=_nonempty(md.citation.identifier))
    _opt(gbif, "resourceLogoUrl", md.logo_url)
    for c in md.collections:
        col = etree.SubElement(gbif, "collection")
        _opt(col, "parentCollectionIdentifier", c.parent_collection_identifier)
        _opt(col, "collectionIdentifier", c.collection_identifier)
        _sub(col, "collectionName", _nonempty(c.collection_name) or "unnamed collection")
    for p in md.specimen_preservation_methods:
        _sub(gbif, "specimenPreservationMethod", p)

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
