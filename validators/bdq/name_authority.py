"""Taxonomic authorities the NAME tests consult: a local Darwin Core checklist file, the GBIF Backbone Taxonomy,
WoRMS and IRMNG.

Every authority answers the same four questions, so each test is written once:
``by_name`` (usages with this canonical name), ``at_rank`` (usages of a name at a rank), ``parse_id``/``by_id``
(resolve a dwc:scientificNameID) and ``lineage`` (the higher classification of a usage).

Remote authorities are called with a short timeout. The first transport failure marks the service unreachable for
the rest of the process, so an offline run answers EXTERNAL_PREREQUISITES_NOT_MET at once for every later record
instead of waiting for a timeout per record. A failure surfaces as :class:`AuthorityUnavailable`, never as another
exception.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping
from urllib.parse import quote

import httpx

from mobilise.validators.bdq.name_parse import canonical_name, parse_name

# Higher ranks the BDQ tests use, from highest to lowest (the order matters for "lowest ranking element").
RANKS = ("kingdom", "phylum", "class", "order", "superfamily", "family", "subfamily", "tribe", "subtribe", "genus")
ACCEPTED_STATUSES = {"", "accepted", "valid", "provisionally accepted", "provisionally_accepted"}

TIMEOUT = httpx.Timeout(5.0, connect=2.0)  # short: an unreachable service must not slow a batch down
GBIF_API = "https://api.gbif.org/v1"
GBIF_BACKBONE = "d7dddbf4-2cf0-4f39-9b2a-bb099caae36c"
WORMS_API = "https://www.marinespecies.org/rest"
IRMNG_API = "https://www.irmng.org/rest"


class AuthorityUnavailable(Exception):
    """The source authority cannot be consulted (unreachable, failing, or an unreadable checklist file)."""


@dataclass(frozen=True)
class Taxon:
    """One name usage in an authority."""

    key: str  # the authority's own identifier
    name_id: str  # the value to propose for dwc:scientificNameID ("gbif:123", an LSID, the checklist's ID)
    scientific_name: str  # full name with authorship
    canonical: str  # name without authorship or rank markers
    authorship: str
    rank: str  # lower case: "genus", "species"
    status: str  # lower case: "accepted", "synonym", "doubtful", ...
    accepted_name: str = ""  # canonical name of the accepted usage, for synonyms
    classification: Mapping[str, str] = field(default_factory=dict)  # rank -> name of higher taxa

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED_STATUSES


class NameAuthority:
    """Interface shared by all authorities; ``label`` names it in response comments."""

    label = "authority"

    def by_name(self, canonical: str) -> list[Taxon]:
        raise NotImplementedError

    def at_rank(self, name: str, rank: str) -> list[Taxon]:
        return [t for t in self.by_name(name) if t.rank == rank and t.canonical == name]

    def parse_id(self, identifier: str) -> str | None:
        """The authority's key for an identifier, or None when the identifier is not in this authority's form."""
        raise NotImplementedError

    def by_id(self, key: str) -> list[Taxon]:
        raise NotImplementedError

    def lineage(self, taxon: Taxon) -> dict[str, str]:
        """Names of the taxon and its higher taxa by rank."""
        return {**taxon.classification, taxon.rank: taxon.canonical}

    def accepted_names_at_rank(self, name: str, rank: str) -> set[str]:
        """The name itself plus the accepted names it is a synonym of, at that rank (Magnoliophyta -> Tracheophyta)."""
        names = {name}
        for taxon in self.at_rank(name, rank):
            if not taxon.accepted and taxon.accepted_name:
                names.add(taxon.accepted_name)
        return names


# --- local checklist ---------------------------------------------------------------------------------------------

CHECKLIST_COLUMNS = ("taxonID", "scientificNameID", "scientificName", "scientificNameAuthorship", "taxonRank",
                     "taxonomicStatus", "acceptedNameUsageID", *RANKS)


class ChecklistAuthority(NameAuthority):
    """A CSV or TSV file with Darwin Core Taxon columns, used instead of a remote service.

    Names match on their canonical form (authorship compared separately); higher taxa are found either as rows of
    their own or as values of the classification columns (kingdom … genus) of the rows.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.label = f"checklist {self.path.name}"
        rows = _read_table(self.path)
        taxa = [self._taxon(n, row) for n, row in enumerate(rows)]
        by_key = {t.key: t for t in taxa}
        self.taxa = [_with_accepted(t, by_key.get(row.get("acceptedNameUsageID", ""))) for t, row in zip(taxa, rows)]
        self._by_name: dict[str, list[Taxon]] = {}
        self._by_id: dict[str, list[Taxon]] = {}
        for taxon, row in zip(self.taxa, rows):
            self._by_name.setdefault(taxon.canonical, []).append(taxon)
            for identifier in {row.get("taxonID", ""), row.get("scientificNameID", "")} - {""}:
                self._by_id.setdefault(identifier, []).append(taxon)

    @staticmethod
    def _taxon(number: int, row: Mapping[str, str]) -> Taxon:
        name = row.get("scientificName", "")
        authorship = row.get("scientificNameAuthorship", "")
        bare = name[: -len(authorship)] if authorship and name.endswith(authorship) else name
        parsed = parse_name(bare)
        return Taxon(
            key=row.get("taxonID") or f"row{number + 1}",
            name_id=row.get("scientificNameID") or row.get("taxonID", ""),
            scientific_name=name,
            canonical=parsed.canonical,
            authorship=authorship or parsed.authorship,
            rank=row.get("taxonRank", "").lower(),
            status=row.get("taxonomicStatus", "").lower(),
            classification={rank: row[rank] for rank in RANKS if row.get(rank)},
        )

    def by_name(self, canonical: str) -> list[Taxon]:
        return list(self._by_name.get(canonical, []))

    def at_rank(self, name: str, rank: str) -> list[Taxon]:
        found = super().at_rank(name, rank)
        seen = {tuple(sorted(self.lineage(t).items())) for t in found}
        if rank in RANKS:  # a higher taxon named only in the classification columns of its members
            higher = RANKS[: RANKS.index(rank)]
            for taxon in self.taxa:
                if taxon.classification.get(rank) == name:
                    implied = Taxon(f"{rank}:{name}", "", name, name, "", rank, "accepted",
                                    classification={r: v for r, v in taxon.classification.items() if r in higher})
                    signature = tuple(sorted(self.lineage(implied).items()))
                    if signature not in seen:
                        seen.add(signature)
                        found.append(implied)
        return found

    def parse_id(self, identifier: str) -> str | None:
        return identifier.strip() or None  # a checklist's identifiers have no fixed form

    def by_id(self, key: str) -> list[Taxon]:
        return list(self._by_id.get(key, []))


def _with_accepted(taxon: Taxon, accepted: Taxon | None) -> Taxon:
    if accepted is None or accepted is taxon:
        return taxon
    return Taxon(taxon.key, taxon.name_id, taxon.scientific_name, taxon.canonical, taxon.authorship, taxon.rank,
                 taxon.status, accepted.canonical, taxon.classification)


def _read_table(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV/TSV checklist with column names normalised ("dwc:taxonRank", "taxonrank" -> "taxonRank")."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except OSError as exc:
        raise AuthorityUnavailable(f"checklist {path} cannot be read: {exc}") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line else ","
    known = {c.lower(): c for c in CHECKLIST_COLUMNS}
    rows = []
    for row in csv.DictReader(text.splitlines(), delimiter=delimiter):
        clean = {}
        for column, value in row.items():
            if column is None:
                continue
            name = column.strip().split(":", 1)[-1]
            clean[known.get(name.lower(), name)] = (value or "").strip()
        rows.append(clean)
    return rows


@lru_cache(maxsize=16)
def _checklist(path: str, mtime: float) -> ChecklistAuthority:
    return ChecklistAuthority(path)


# --- remote services ---------------------------------------------------------------------------------------------

_REACHABLE: dict[str, bool] = {}  # base URL -> reachable; a False entry short-circuits every later call


def reset_reachability() -> None:
    """Forget cached reachability and responses (for tests, or after the network came back)."""
    _REACHABLE.clear()
    _get_json.cache_clear()


@lru_cache(maxsize=4096)
def _get_json(base: str, path: str, params: tuple[tuple[str, str], ...] = ()):
    """GET base+path as JSON; None when the service says 'no such record'; AuthorityUnavailable otherwise."""
    if _REACHABLE.get(base) is False:
        raise AuthorityUnavailable(f"{base} is unreachable (cached for this process)")
    try:
        response = httpx.get(base + path, params=dict(params), timeout=TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as exc:
        _REACHABLE[base] = False
        raise AuthorityUnavailable(f"{base} is unreachable: {exc}") from exc
    _REACHABLE[base] = True
    if response.status_code in (204, 400, 404):
        return None
    if response.status_code >= 300:
        raise AuthorityUnavailable(f"{base} answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise AuthorityUnavailable(f"{base} answered something that is not JSON") from exc


class GbifAuthority(NameAuthority):
    """The GBIF Backbone Taxonomy through api.gbif.org (the BDQ default for the NAME tests)."""

    label = "GBIF Backbone Taxonomy"
    _ID = re.compile(r"^(?:gbif:|https?://(?:api\.gbif\.org/v1|(?:www\.)?gbif\.org)/species/)(\d+)/?$", re.I)

    def __init__(self, base: str):
        self.base = base

    def _taxon(self, usage: Mapping) -> Taxon:
        key = str(usage.get("key", usage.get("usageKey", "")))
        name = usage.get("scientificName") or ""
        return Taxon(
            key=key,
            name_id=f"gbif:{key}",
            scientific_name=name,
            canonical=usage.get("canonicalName") or canonical_name(name),
            authorship=(usage.get("authorship") or "").strip(),
            rank=(usage.get("rank") or "").lower(),
            status=(usage.get("taxonomicStatus") or "").lower().replace("_", " "),
            accepted_name=canonical_name(usage.get("accepted") or ""),
            classification={rank: usage[rank] for rank in RANKS if usage.get(rank)},
        )

    def by_name(self, canonical: str) -> list[Taxon]:
        if not canonical:
            return []
        answer = _get_json(self.base, "/species", (("datasetKey", GBIF_BACKBONE), ("name", canonical),
                                                   ("limit", "100")))
        usages = (answer or {}).get("results", [])
        return [t for t in map(self._taxon, usages) if t.canonical == canonical]

    def parse_id(self, identifier: str) -> str | None:
        match = self._ID.match(identifier.strip())
        return match.group(1) if match else None

    def by_id(self, key: str) -> list[Taxon]:
        usage = _get_json(self.base, f"/species/{key}")
        return [self._taxon(usage)] if usage else []

    def lineage(self, taxon: Taxon) -> dict[str, str]:
        parents = _get_json(self.base, f"/species/{taxon.key}/parents") or []
        ranks = {(p.get("rank") or "").lower(): p.get("canonicalName") or "" for p in parents}
        return {**taxon.classification, **{r: n for r, n in ranks.items() if n}, taxon.rank: taxon.canonical}


class AphiaAuthority(NameAuthority):
    """WoRMS or IRMNG: both run the Aphia platform and its REST API."""

    def __init__(self, label: str, base: str, lsid_authority: str):
        self.label, self.base, self.lsid_authority = label, base, lsid_authority
        self._id = re.compile(rf"^(?:urn:lsid:{re.escape(lsid_authority)}:taxname:|"
                              rf"https?://(?:www\.)?{re.escape(lsid_authority)}/aphia\.php\?p=taxdetails&id=)(\d+)$",
                              re.I)

    def _taxon(self, record: Mapping) -> Taxon:
        key = str(record.get("AphiaID", ""))
        name, authority = record.get("scientificname") or "", (record.get("authority") or "").strip()
        return Taxon(
            key=key,
            name_id=record.get("lsid") or f"urn:lsid:{self.lsid_authority}:taxname:{key}",
            scientific_name=f"{name} {authority}".strip(),
            canonical=name,
            authorship=authority,
            rank=(record.get("rank") or "").lower(),
            status=(record.get("status") or "").lower(),
            accepted_name=record.get("valid_name") or "",
            classification={rank: record[rank] for rank in RANKS if record.get(rank)},
        )

    def by_name(self, canonical: str) -> list[Taxon]:
        if not canonical:
            return []
        records = _get_json(self.base, f"/AphiaRecordsByName/{quote(canonical)}",
                            (("like", "false"), ("marine_only", "false"))) or []
        return [t for t in map(self._taxon, records) if t.canonical == canonical]

    def parse_id(self, identifier: str) -> str | None:
        match = self._id.match(identifier.strip())
        return match.group(1) if match else None

    def by_id(self, key: str) -> list[Taxon]:
        record = _get_json(self.base, f"/AphiaRecordByAphiaID/{key}")
        return [self._taxon(record)] if record else []


def resolve_authority(source: str | None) -> NameAuthority | None:
    """The authority a bdqval:sourceAuthority value names; None when it names nothing this module supports.

    Raises AuthorityUnavailable for a checklist path that cannot be read.
    """
    text = (source or "").strip()
    lower = text.lower()
    if not text or "gbif" in lower or "10.15468/39omei" in lower:
        return GbifAuthority(GBIF_API)  # module constants read at call time, so tests can redirect them
    if "marinespecies.org" in lower or lower in ("worms", "world register of marine species"):
        return AphiaAuthority("WoRMS", WORMS_API, "marinespecies.org")
    if "irmng" in lower:
        return AphiaAuthority("IRMNG", IRMNG_API, "irmng.org")
    path = Path(text).expanduser()
    if "://" not in text and (path.suffix.lower() in (".csv", ".tsv", ".txt") or path.exists()):
        try:
            return _checklist(str(path.resolve()), path.stat().st_mtime)
        except OSError as exc:
            raise AuthorityUnavailable(f"checklist {text} cannot be read: {exc}") from exc
    return None
