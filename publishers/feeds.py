"""The site indexes of a publication directory, for harvesters and people: what an IPT serves beside its archives.

Written at the root of ``OUTPUT/`` (the folder that holds one ``<shortname>/`` folder per dataset)::

    rss.xml          RSS 2.0 in the IPT's layout (namespace ``ipt:``): one item per published version, newest
                     first, with ``ipt:eml`` and ``ipt:dwca`` (that version's EML and archive), an ``enclosure``
                     (the archive's URL, size and type) and ``guid`` ``<packageId>/v<version>`` as the IPT makes it;
                     a version with a Darwin Core Data Package also has ``ipt:archive`` (its URL: the element the
                     IPT gives a data package resource's archive, beside ``ipt:dwca`` which stays the DwC-A)
    dcat.ttl         DCAT in Turtle, as the IPT serves at ``/dcat`` (text/turtle): a dcat:Catalog, per dataset a
                     dcat:Dataset (adms:versionInfo the latest version) with the current archive as its
                     dcat:Distribution, and each version as a dcat:Dataset of its own (dcat:hasVersion); a
                     Darwin Core Data Package is one more dcat:Distribution (dct:format ``dwc-dp``,
                     dct:conformsTo its profile)
    inventory.json   the IPT's ``/inventory/dataset`` JSON: ``{"registeredResources": [{title, type, records,
                     lastPublished (yyyy-MM-dd), gbifKey, eml, dwca, version, recordsByExtension}, ...]}`` with
                     the current EML and archive; ``version`` is a string ("1.10" is not "1.1"); ``dwcdp``: the
                     current Darwin Core Data Package (null when the latest version has none)
    index.html       the published-datasets page (:mod:`mobilise.publishers.site`)

Everything here is derived from the version logs (``<shortname>/publications.json``, the commit point of a
version) and the current ``eml.xml`` of each dataset, so :func:`refresh_site` may run at any time and gives the
same files for the same logs. A version is listed only when its archive file exists and the log does not mark it
``removed``. Links are absolute under ``output.base_url`` when it is set, else relative to ``OUTPUT/``.
"""
from __future__ import annotations

import fcntl
import json
import logging
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from lxml import etree

from mobilise.publishers.publication import LOG_NAME, PublicationDirectory, atomic_write

log = logging.getLogger(__name__)

RSS = "rss.xml"
DCAT = "dcat.ttl"
INVENTORY = "inventory.json"
INDEX = "index.html"
SITE_FILES = (RSS, DCAT, INVENTORY, INDEX)
SITE_LOCK = ".site.lock"  # hidden: never served

IPT_NAMESPACE = "http://ipt.gbif.org/"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
EML_NAMESPACE_PREFIX = "https://eml.ecoinformatics.org/"
DATASET_TYPE_THESAURUS = "GBIF Dataset Type Vocabulary"
DWC_TEXT = "http://rs.tdwg.org/dwc/text/"
DCAT_THEME = "http://eurovoc.europa.eu/5463"  # biodiversity, the theme the IPT gives every dataset
DCAT_THEME_TAXONOMY = "http://eurovoc.europa.eu/218403"
ISO639_1 = "http://id.loc.gov/vocabulary/iso639-1/"
ZIP_MEDIA_TYPE = "https://www.iana.org/assignments/media-types/application/zip"
DWC_DP_PROFILE = "http://rs.tdwg.org/dwc-dp/1.0/dwc-dp-profile.json"  # when the log entry names no profile
TOP_FLAGS = 5  # flags shown in a version's validation summary


# --- what the site lists -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Agent:
    name: str
    email: str | None = None


@dataclass(frozen=True)
class DatasetMetadata:
    """What the site says about a dataset, read from its current ``eml.xml`` (empty values when it has none)."""

    title: str
    abstract: list[str] = field(default_factory=list)  # paragraphs
    licence_url: str | None = None
    licence_name: str | None = None
    creator: Agent | None = None
    contacts: list[Agent] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    package_id: str | None = None  # without its "/v<version>" suffix
    identifier: str | None = None  # the first alternateIdentifier (the dataset's UUID or DOI)
    language: str | None = None  # ISO 639-1
    dataset_type: str | None = None  # GBIF dataset type keyword (Occurrence, Checklist, ...)


@dataclass(frozen=True)
class ValidationSummary:
    """The latest version's run report in brief: records published and rejected, the most frequent flags."""

    published: int
    rejected: int
    flagged: dict[str, int]  # severity -> records with at least one flag of it
    flags: list[dict]  # {flag, severity, records}, at most TOP_FLAGS, most severe then most records first


@dataclass(frozen=True)
class SiteVersion:
    """One published version; file paths are relative to ``OUTPUT/`` (``<shortname>/dwca-1.0.zip``), None when
    the file does not exist."""

    version: str
    published: datetime
    records: int
    rejected: int
    bytes: int
    sha256: str
    archive: str
    eml: str | None
    report_html: str | None
    report_json: str | None
    quarantine: str | None
    changes: dict | None  # the log entry's change summary (added, removed, changed ...), when it has one
    package: str | None = None  # the version's Darwin Core Data Package (dwc-dp-<version>.zip), when it has one
    package_bytes: int | None = None
    package_profile: str | None = None  # the DwC-DP profile URL the package declares


@dataclass(frozen=True)
class SiteDataset:
    shortname: str
    metadata: DatasetMetadata
    versions: list[SiteVersion]  # newest first, never empty
    current_archive: str  # <shortname>/dwca.zip
    current_eml: str | None  # <shortname>/eml.xml
    row_types: dict[str, int]  # rowType IRI -> records, core first (the IPT's recordsByExtension)
    core_type: str | None  # the core's class name (Occurrence, Event, Taxon)
    validation: ValidationSummary | None  # of the latest version
    current_package: str | None = None  # <shortname>/dwc-dp.zip when the latest version has a package

    @property
    def latest(self) -> SiteVersion:
        return self.versions[0]

    @property
    def first_published(self) -> datetime:
        return self.versions[-1].published


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _agent(element) -> Agent | None:
    if element is None:
        return None
    given = _text(element.find("individualName/givenName"))
    sur = _text(element.find("individualName/surName"))
    name = " ".join(part for part in (given, sur) if part) or _text(element.find("organizationName")) \
        or _text(element.find("positionName"))
    email = _text(element.find("electronicMailAddress")) or None
    return Agent(name, email) if name or email else None


def read_eml(path: Path, fallback_title: str) -> DatasetMetadata:
    """The site's metadata from an EML file (GBIF profile); a missing or unreadable file gives `fallback_title`
    alone (logged), so one damaged dataset does not take the site down."""
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        log.warning("site: cannot read %s (%s); listing the dataset by its short name", path, exc)
        return DatasetMetadata(title=fallback_title)
    dataset = root.find("dataset")
    if dataset is None:
        return DatasetMetadata(title=fallback_title)
    keywords, dataset_type = [], None
    for keyword_set in dataset.findall("keywordSet"):
        words = [_text(k) for k in keyword_set.findall("keyword") if _text(k)]
        if _text(keyword_set.find("keywordThesaurus")) == DATASET_TYPE_THESAURUS and words and dataset_type is None:
            dataset_type = words[0]
        keywords += [w for w in words if w not in keywords]
    licence_url = _text(dataset.find("licensed/url")) or (
        dataset.find("intellectualRights//ulink").get("url") if dataset.find("intellectualRights//ulink") is not None
        else None)
    licence_name = _text(dataset.find("licensed/licenseName")) or _text(dataset.find("intellectualRights//citetitle"))
    package_id = root.get("packageId")
    return DatasetMetadata(
        title=_text(dataset.find("title")) or fallback_title,
        abstract=[_text(p) for p in dataset.findall("abstract/para") if _text(p)],
        licence_url=licence_url or None, licence_name=licence_name or None,
        creator=_agent(dataset.find("creator")),
        contacts=[a for a in (_agent(c) for c in dataset.findall("contact")) if a is not None],
        keywords=keywords, package_id=package_id.rsplit("/v", 1)[0] if package_id else None,
        identifier=_text(dataset.find("alternateIdentifier")) or None,
        language=_text(dataset.find("language")) or None, dataset_type=dataset_type)


def _row_types(archive: Path) -> list[tuple[str, bool]]:
    """(rowType, is core) of each file in the archive's meta.xml, core first; [] when unreadable."""
    try:
        with zipfile.ZipFile(archive) as handle:
            root = etree.fromstring(handle.read("meta.xml"), etree.XMLParser(resolve_entities=False))
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        log.warning("site: cannot read meta.xml of %s (%s)", archive, exc)
        return []
    core = [(e.get("rowType"), True) for e in root.findall(f"{{{DWC_TEXT}}}core")]
    extensions = [(e.get("rowType"), False) for e in root.findall(f"{{{DWC_TEXT}}}extension")]
    return [(row_type, is_core) for row_type, is_core in core + extensions if row_type]


def _extension_records(report_json: Path | None, row_types: list[tuple[str, bool]]) -> dict[str, int]:
    """rowType -> published rows of each extension of the archive, from the report's per-table counts (``tables``:
    the core first, then each extension by its name in mobilise.extensions); {} when the report has none."""
    from mobilise.extensions import EXTENSIONS

    try:
        tables = json.loads(report_json.read_text(encoding="utf-8")).get("tables") or {} if report_json else {}
    except (OSError, ValueError, AttributeError):
        return {}
    present = {row_type for row_type, is_core in row_types if not is_core}
    counts = {}
    for name, table in list(tables.items())[1:]:
        row_type = EXTENSIONS[name].row_type if name in EXTENSIONS else None
        if row_type in present and isinstance(table, dict):
            counts[row_type] = int(table.get("published") or 0)
    return counts


def _validation(report_json: Path) -> ValidationSummary | None:
    try:
        report = json.loads(report_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    totals = report.get("totals") or {}
    flags = [{"flag": f.get("flag"), "severity": f.get("severity"), "records": f.get("records", 0)}
             for f in report.get("flags") or []][:TOP_FLAGS]  # the report sorts them: most severe, most records
    return ValidationSummary(published=int(totals.get("published") or 0), rejected=int(totals.get("rejected") or 0),
                             flagged=dict(totals.get("flagged") or {}), flags=flags)


def _log_entries(log_path: Path) -> list[dict]:
    """The raw entries of a version log; unknown keys are kept (the site reads optional ones), a log it cannot
    read gives none (logged)."""
    try:
        return list(json.loads(log_path.read_text(encoding="utf-8"))["versions"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("site: cannot read %s (%s); its dataset is left out", log_path, exc)
        return []


def _existing(output: Path, path: Path | None) -> str | None:
    return path.relative_to(output).as_posix() if path is not None and path.is_file() else None


def _version_eml(directory: PublicationDirectory, entry: dict) -> Path | None:
    """The version's own EML (``eml-<version>.xml``, named by the log entry or PublicationDirectory.eml)."""
    if entry.get("eml"):
        return directory.directory / entry["eml"]
    naming = getattr(directory, "eml", None)
    return naming(entry["version"]) if callable(naming) else None


def collect_site(output_directory: Path) -> list[SiteDataset]:
    """Every dataset under `output_directory` with at least one listed version, by short name."""
    output = Path(output_directory)
    datasets = []
    for log_path in sorted(output.glob(f"*/{LOG_NAME}")):
        folder = log_path.parent
        if folder.name.startswith("."):
            continue
        directory = PublicationDirectory(folder)
        versions = []
        for entry in _log_entries(log_path):
            try:
                version = str(entry["version"])
                archive = directory.archive(version)
                if entry.get("removed") or not archive.is_file():
                    continue
                report_json, report_html = directory.report(version)
                package = entry.get("dwc_dp") if isinstance(entry.get("dwc_dp"), dict) else {}
                package_path = directory.directory / package["file"] if package.get("file") else None
                versions.append(SiteVersion(
                    version=version, published=datetime.fromisoformat(entry["published"]),
                    records=int(entry["records"]), rejected=int(entry.get("rejected") or 0),
                    bytes=int(entry.get("bytes") or archive.stat().st_size), sha256=str(entry.get("sha256") or ""),
                    archive=_existing(output, archive), eml=_existing(output, _version_eml(directory, entry)),
                    report_html=_existing(output, report_html), report_json=_existing(output, report_json),
                    quarantine=_existing(output, directory.quarantine(version)),
                    changes=entry.get("changes") if isinstance(entry.get("changes"), dict) else None,
                    package=_existing(output, package_path),
                    package_bytes=int(package.get("bytes") or 0) or None if package_path else None,
                    package_profile=package.get("profile") or DWC_DP_PROFILE))
            except (KeyError, ValueError, TypeError) as exc:
                log.warning("site: skipping an entry of %s (%s)", log_path, exc)
        if not versions:
            continue
        versions.sort(key=lambda v: v.published, reverse=True)
        current = directory.current_archive
        archive_for_types = current if current.is_file() else output / versions[0].archive
        row_types = _row_types(archive_for_types)
        core = next((row_type for row_type, is_core in row_types if is_core), None)
        latest_report = output / versions[0].report_json if versions[0].report_json else None
        datasets.append(SiteDataset(
            shortname=folder.name, metadata=read_eml(folder / "eml.xml", folder.name), versions=versions,
            current_archive=(current if current.is_file() else output / versions[0].archive
                             ).relative_to(output).as_posix(),
            current_eml=_existing(output, folder / "eml.xml"),
            row_types={row_type: versions[0].records for row_type, is_core in row_types if is_core}
            | _extension_records(latest_report, row_types),
            core_type=core.rstrip("/").rsplit("/", 1)[-1] if core else None,
            validation=_validation(latest_report) if latest_report else None,
            current_package=_existing(output, directory.current_package) if versions[0].package else None))
    return datasets


# --- links ---------------------------------------------------------------------------------------------------------

def site_url(base_url: str | None, path: str) -> str:
    """The URL of `path` (relative to OUTPUT/, '/'-separated): absolute under `base_url`, else relative."""
    quoted = quote(path)
    return (base_url.rstrip("/") + "/" + quoted) if base_url else quoted


def landing_page(base_url: str | None, shortname: str) -> str:
    """The dataset's section of the published-datasets page: its landing page (the IPT's resource page)."""
    return site_url(base_url, INDEX) + "#" + quote(shortname)


def change_text(changes: dict | None) -> str | None:
    """A change summary in words ("12 records added, 3 removed, 40 changed since version 1.2"), or None."""
    if not changes:
        return None
    parts = [f"{changes[key]:,} {key}" for key in ("added", "removed", "changed")
             if isinstance(changes.get(key), int)]
    if not parts:
        return None
    since = changes.get("previous_version") or changes.get("since")
    text = "Records " + ", ".join(parts) + (f" since version {since}" if since else "")
    return text + ("; the metadata changed" if changes.get("metadata_changed") else "")


# --- RSS -----------------------------------------------------------------------------------------------------------

def rss_feed(datasets: list[SiteDataset], base_url: str | None) -> bytes:
    """RSS 2.0 as the IPT writes it (``ipt:`` elements, RFC 822 dates), one item per listed version."""
    nsmap = {"ipt": IPT_NAMESPACE, "atom": ATOM_NAMESPACE}
    rss = etree.Element("rss", version="2.0", nsmap=nsmap)
    channel = etree.SubElement(rss, "channel")

    def sub(parent, tag: str, text: str | None = None, **attributes):
        element = etree.SubElement(parent, tag, **attributes)
        if text is not None:
            element.text = text
        return element

    sub(channel, "title", "Published datasets")
    sub(channel, "link", site_url(base_url, INDEX))
    if base_url:
        sub(channel, f"{{{ATOM_NAMESPACE}}}link", href=site_url(base_url, RSS), rel="self",
            type="application/rss+xml")
    sub(channel, "description", "Darwin Core Archives published with Mobilise, one item per dataset version")
    sub(channel, "language", "en-us")
    items = sorted(((d, v) for d in datasets for v in d.versions), key=lambda dv: dv[1].published, reverse=True)
    if items:
        sub(channel, "pubDate", format_datetime(min(v.published for _, v in items)))
        sub(channel, "lastBuildDate", format_datetime(items[0][1].published))
    sub(channel, "generator", "Mobilise")
    sub(channel, "docs", "https://www.rssboard.org/rss-specification")
    sub(channel, "ttl", "15")
    for dataset, version in items:
        meta = dataset.metadata
        item = sub(channel, "item")
        sub(item, "title", f"{meta.title} - Version {version.version}")
        sub(item, "link", landing_page(base_url, dataset.shortname))
        counts = f"Version {version.version}: {version.records:,} records published, {version.rejected:,} kept out."
        summary = change_text(version.changes) or (meta.abstract[0] if meta.abstract else "")
        sub(item, "description", f"{counts} {summary}".strip())
        if meta.creator and meta.creator.email:  # RSS 2.0: an e-mail address, then the name in brackets
            sub(item, "author", f"{meta.creator.email} ({meta.creator.name})" if meta.creator.name
                else meta.creator.email)
        eml = version.eml or (dataset.current_eml if version is dataset.latest else None)
        if eml:
            sub(item, f"{{{IPT_NAMESPACE}}}eml", site_url(base_url, eml))
        if version.records > 0:
            sub(item, f"{{{IPT_NAMESPACE}}}dwca", site_url(base_url, version.archive))
        if version.package:
            sub(item, f"{{{IPT_NAMESPACE}}}archive", site_url(base_url, version.package))
        sub(item, "enclosure", url=site_url(base_url, version.archive), length=str(version.bytes),
            type="application/zip")
        sub(item, "pubDate", format_datetime(version.published))
        sub(item, "guid", f"{meta.package_id or dataset.shortname}/v{version.version}", isPermaLink="false")
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- DCAT ----------------------------------------------------------------------------------------------------------

def dcat_feed(datasets: list[SiteDataset], base_url: str | None) -> bytes:
    """The DCAT catalogue in Turtle (rdflib), the IPT's shape: a dcat:Catalog, per dataset a dcat:Dataset
    (``<landing page>``, the latest version) whose dcat:Distribution is the current archive, and per listed
    version a dcat:Dataset of its own (``<landing page>-v<version>``, dcat:version, its archive). IRIs are
    relative to the catalogue's location when `base_url` is None."""
    from rdflib import BNode, Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS, XSD

    DCAT_NS = Namespace("http://www.w3.org/ns/dcat#")  # open: rdflib's closed DCAT lacks DCAT 3's version terms
    ADMS = Namespace("http://www.w3.org/ns/adms#")
    VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
    graph = Graph()
    for prefix, namespace in (("dcat", DCAT_NS), ("dct", DCTERMS), ("foaf", FOAF), ("adms", ADMS),
                              ("vcard", VCARD), ("skos", SKOS)):
        graph.bind(prefix, namespace)

    def url(path: str) -> URIRef:
        return URIRef(site_url(base_url, path))

    def when(moment: datetime) -> Literal:
        return Literal(moment.isoformat(), datatype=XSD.dateTime)

    catalog = URIRef(base_url) if base_url else URIRef("")
    graph.add((catalog, RDF.type, DCAT_NS.Catalog))
    graph.add((catalog, DCTERMS.title, Literal("Published datasets", lang="en")))
    graph.add((catalog, DCTERMS.description,
               Literal("Darwin Core Archives published with Mobilise", lang="en")))
    graph.add((catalog, FOAF.homepage, url(INDEX)))
    graph.add((catalog, DCAT_NS.themeTaxonomy, URIRef(DCAT_THEME_TAXONOMY)))
    graph.add((URIRef(DCAT_THEME_TAXONOMY), RDF.type, SKOS.ConceptScheme))
    graph.add((URIRef(DCAT_THEME_TAXONOMY), DCTERMS.title, Literal("biodiversity", lang="en")))
    graph.add((URIRef(DCAT_THEME), RDF.type, SKOS.Concept))
    graph.add((URIRef(DCAT_THEME), SKOS.prefLabel, Literal("biodiversity", lang="en")))
    graph.add((URIRef(DCAT_THEME), SKOS.inScheme, URIRef(DCAT_THEME_TAXONOMY)))
    if datasets:
        graph.add((catalog, DCTERMS.issued, when(min(d.first_published for d in datasets))))
        graph.add((catalog, DCTERMS.modified, when(max(d.latest.published for d in datasets))))

    def distribution(node: URIRef, title: str, version: SiteVersion, meta: DatasetMetadata, landing: URIRef,
                     package: bool = False) -> None:
        """The DCAT distribution `node` (its download URL) of a version's archive, or with `package` of its Darwin
        Core Data Package (conforming to its profile)."""
        kind = "Darwin Core Data Package" if package else "Darwin Core Archive"
        graph.add((node, RDF.type, DCAT_NS.Distribution))
        graph.add((node, DCTERMS.title, Literal(f"{kind} of {title}")))
        graph.add((node, DCTERMS.description, Literal(kind)))
        if meta.licence_url:
            graph.add((node, DCTERMS.license, URIRef(meta.licence_url)))
        graph.add((node, DCTERMS.format, Literal("dwc-dp" if package else "dwc-a")))
        if package:
            graph.add((node, DCTERMS.conformsTo, URIRef(version.package_profile or DWC_DP_PROFILE)))
        graph.add((node, DCAT_NS.mediaType, URIRef(ZIP_MEDIA_TYPE)))
        graph.add((node, DCAT_NS.downloadURL, node))
        graph.add((node, DCAT_NS.accessURL, landing))
        size = version.package_bytes if package else version.bytes
        if size:
            graph.add((node, DCAT_NS.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
        graph.add((node, DCTERMS.modified, when(version.published)))

    for dataset in datasets:
        meta, latest = dataset.metadata, dataset.latest
        landing = URIRef(landing_page(base_url, dataset.shortname))
        node = landing
        graph.add((catalog, DCAT_NS.dataset, node))
        graph.add((node, RDF.type, DCAT_NS.Dataset))
        graph.add((node, DCTERMS.title, Literal(meta.title)))
        if meta.abstract:
            graph.add((node, DCTERMS.description, Literal("\n\n".join(meta.abstract))))
        for keyword in meta.keywords:
            graph.add((node, DCAT_NS.keyword, Literal(keyword)))
        graph.add((node, DCAT_NS.theme, URIRef(DCAT_THEME)))
        for contact in meta.contacts or ([meta.creator] if meta.creator else []):
            point = BNode()
            graph.add((node, DCAT_NS.contactPoint, point))
            graph.add((point, RDF.type, VCARD.Individual))
            graph.add((point, VCARD.fn, Literal(contact.name)))
            if contact.email:
                graph.add((point, VCARD.hasEmail, URIRef(f"mailto:{contact.email}")))
        graph.add((node, DCTERMS.issued, when(dataset.first_published)))
        graph.add((node, DCTERMS.modified, when(latest.published)))
        graph.add((node, ADMS.versionInfo, Literal(latest.version)))
        notes = change_text(latest.changes)
        if notes:
            graph.add((node, ADMS.versionNotes, Literal(notes)))
        graph.add((node, DCAT_NS.landingPage, landing))
        if meta.identifier:
            graph.add((node, DCTERMS.identifier, Literal(meta.identifier)))
        if meta.language:
            graph.add((node, DCTERMS.language, URIRef(ISO639_1 + meta.language.lower()[:2])))
        current = url(dataset.current_archive)
        graph.add((node, DCAT_NS.distribution, current))
        distribution(current, meta.title, latest, meta, landing)
        if dataset.current_package:
            graph.add((node, DCAT_NS.distribution, url(dataset.current_package)))
            distribution(url(dataset.current_package), meta.title, latest, meta, landing, package=True)
        for version in dataset.versions:
            versioned = URIRef(f"{landing}-v{version.version}")
            graph.add((node, DCAT_NS.hasVersion, versioned))
            graph.add((versioned, RDF.type, DCAT_NS.Dataset))
            graph.add((versioned, DCTERMS.title, Literal(f"{meta.title} - Version {version.version}")))
            graph.add((versioned, DCAT_NS.version, Literal(version.version)))
            graph.add((versioned, DCTERMS.issued, when(version.published)))
            archive = url(version.archive)
            graph.add((versioned, DCAT_NS.distribution, archive))
            distribution(archive, f"{meta.title} (version {version.version})", version, meta, landing)
            if version.package:
                graph.add((versioned, DCAT_NS.distribution, url(version.package)))
                distribution(url(version.package), f"{meta.title} (version {version.version})", version, meta,
                             landing, package=True)
    return graph.serialize(format="turtle", encoding="utf-8")


# --- inventory -----------------------------------------------------------------------------------------------------

def inventory(datasets: list[SiteDataset], base_url: str | None) -> dict:
    """The IPT's ``/inventory/dataset`` answer: the latest version of each dataset (shape in the module doc)."""
    resources = []
    for dataset in datasets:
        latest = dataset.latest
        identifier = dataset.metadata.identifier
        resources.append({
            "title": dataset.metadata.title,
            "type": dataset.core_type or dataset.metadata.dataset_type,  # the core's class, as the IPT's coreType
            "records": latest.records,
            "lastPublished": latest.published.date().isoformat(),
            "gbifKey": identifier if identifier and "/" not in identifier else None,
            "eml": site_url(base_url, dataset.current_eml) if dataset.current_eml else None,
            "dwca": site_url(base_url, dataset.current_archive),
            "dwcdp": site_url(base_url, dataset.current_package) if dataset.current_package else None,
            "version": latest.version,
            "recordsByExtension": dataset.row_types,
            "shortname": dataset.shortname,
        })
    return {"registeredResources": resources}


# --- the refresh ---------------------------------------------------------------------------------------------------

def _write_if_changed(target: Path, data: bytes) -> None:
    """Replace `target` atomically unless it already holds `data`: an unchanged feed keeps its Last-Modified, so
    a harvester's conditional GET is answered 304."""
    try:
        if target.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write(target, data)


@contextmanager
def _site_lock(output: Path) -> Iterator[None]:
    """One refresh at a time per output directory (two datasets finishing together each see the other's log)."""
    with open(output / SITE_LOCK, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def refresh_site(output_directory: Path, base_url: str | None) -> None:
    """Rebuild ``rss.xml``, ``dcat.ttl``, ``inventory.json`` and ``index.html`` at the root of
    `output_directory` from every ``*/publications.json`` below it; idempotent, each file replaced atomically
    and only when its content changes. `base_url`: the public URL of `output_directory` (None: relative links).
    Raises OSError when the directory cannot be written."""
    from mobilise.publishers.site import render_index

    output = Path(output_directory)
    output.mkdir(parents=True, exist_ok=True)
    with _site_lock(output):
        datasets = collect_site(output)
        _write_if_changed(output / RSS, rss_feed(datasets, base_url))
        _write_if_changed(output / DCAT, dcat_feed(datasets, base_url))
        _write_if_changed(output / INVENTORY,
                          (json.dumps(inventory(datasets, base_url), indent=2, ensure_ascii=False) + "\n"
                           ).encode("utf-8"))
        _write_if_changed(output / INDEX, render_index(datasets).encode("utf-8"))
