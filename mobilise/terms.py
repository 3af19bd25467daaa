"""Darwin Core term lookup from the shipped table ``mobilise/data/dwc_terms.tsv``.

* ``term_iri("recordedBy")`` -> ``"http://rs.tdwg.org/dwc/terms/recordedBy"``. Accepts a bare
  local name, a prefixed name (``dwc:``, ``dwciri:``, ``dcterms:``, ``dc:``, ``ac:``) or a full
  IRI of a known term. A bare name that exists in several namespaces resolves to the one GBIF's
  Occurrence core uses, else dwc: > dcterms: > dc: > ac: > dwciri:. Unknown names raise
  :class:`UnknownTermError` (a ``KeyError``) with close-match suggestions.
* ``OCCURRENCE_CORE_TERMS``: local names of the terms GBIF's Occurrence core accepts, in the
  core's order; ``OCCURRENCE_CORE_IRIS`` maps them to IRIs (same order).
* ``is_occurrence_term(name)``: whether a name (bare, prefixed or IRI) is in that core.
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Mapping

__all__ = [
    "Term",
    "UnknownTermError",
    "PREFIXES",
    "term_iri",
    "get_term",
    "all_terms",
    "is_occurrence_term",
    "is_identifier_term",
    "OCCURRENCE_CORE_TERMS",
    "OCCURRENCE_CORE_IRIS",
    "OCCURRENCE_ROW_TYPE",
]

PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "dwc": "http://rs.tdwg.org/dwc/terms/",
        "dwciri": "http://rs.tdwg.org/dwc/iri/",
        "dcterms": "http://purl.org/dc/terms/",
        "dc": "http://purl.org/dc/elements/1.1/",
        "ac": "http://rs.tdwg.org/ac/terms/",
    }
)
_PREFIX_PREFERENCE = ("dwc", "dcterms", "dc", "ac", "dwciri")
OCCURRENCE_ROW_TYPE = "http://rs.tdwg.org/dwc/terms/Occurrence"


@dataclass(frozen=True)
class Term:
    local_name: str
    prefix: str
    iri: str
    group: str
    kind: str  # "Property" | "Class"
    status: str
    in_occurrence_core: bool
    occurrence_core_index: int | None
    simple: bool

    @property
    def qualified_name(self) -> str:
        return f"{self.prefix}:{self.local_name}"


class UnknownTermError(KeyError):
    """Raised for a term name that is not in the Darwin Core term table."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        msg = f"unknown Darwin Core term {name!r}"
        if suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in suggestions) + "?"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


@lru_cache(maxsize=1)
def _load() -> tuple[Term, ...]:
    text = resources.files("mobilise").joinpath("data/dwc_terms.tsv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(text.splitlines(), delimiter="\t"):
        idx = row["occurrence_core_index"]
        out.append(
            Term(
                local_name=row["local_name"],
                prefix=row["prefix"],
                iri=row["iri"],
                group=row["group"],
                kind=row["kind"],
                status=row["status"],
                in_occurrence_core=row["in_occurrence_core"] == "true",
                occurrence_core_index=int(idx) if idx else None,
                simple=row["simple"] == "true",
            )
        )
    return tuple(out)


@lru_cache(maxsize=1)
def _indexes() -> tuple[dict[str, Term], dict[str, Term], dict[str, Term]]:
    by_iri: dict[str, Term] = {}
    by_qname: dict[str, Term] = {}
    by_local: dict[str, Term] = {}
    for t in _load():
        by_iri[t.iri] = t
        by_qname[t.qualified_name] = t

    def rank(t: Term) -> tuple[int, int]:
        return (0 if t.in_occurrence_core else 1, _PREFIX_PREFERENCE.index(t.prefix))

    for t in sorted(_load(), key=rank):
        by_local.setdefault(t.local_name, t)
    return by_iri, by_qname, by_local


def all_terms() -> tuple[Term, ...]:
    """Every term in the table (current TDWG recommended terms plus the Occurrence core)."""
    return _load()


def _suggest(name: str) -> list[str]:
    by_iri, by_qname, by_local = _indexes()
    bare = name.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    folded = {k.lower(): k for k in by_local}
    out: list[str] = []
    if bare.lower() in folded:
        out.append(folded[bare.lower()])
    pool = list(by_local)
    out += difflib.get_close_matches(bare, pool, n=5, cutoff=0.75)
    out += [folded[m] for m in difflib.get_close_matches(bare.lower(), list(folded), n=5, cutoff=0.75)]
    seen: list[str] = []
    for s in out:
        if s not in seen:
            seen.append(s)
    return seen[:5]


def get_term(name: str) -> Term:
    """The :class:`Term` for a bare, prefixed (``dwc:``...) or full-IRI name."""
    if not isinstance(name, str):
        raise TypeError(f"term name must be a string, not {type(name).__name__}")
    key = name.strip()
    by_iri, by_qname, by_local = _indexes()
    if key in by_iri:
        return by_iri[key]
    if key in by_qname:
        return by_qname[key]
    if key in by_local:
        return by_local[key]
    # https:// variants of http:// term IRIs are a common slip
    if key.startswith("https://") and "http://" + key[8:] in by_iri:
        return by_iri["http://" + key[8:]]
    raise UnknownTermError(name, _suggest(key))


def term_iri(local_name: str) -> str:
    """The term IRI to write in meta.xml for a Darwin Core term name."""
    return get_term(local_name).iri


def is_occurrence_term(name: str) -> bool:
    """True if the name (bare, prefixed or IRI) is a term of GBIF's Occurrence core."""
    try:
        term = get_term(name)
    except (UnknownTermError, TypeError):
        return False
    # e.g. "dwciri:recordedBy" is not in the core even though "recordedBy" is
    return term.in_occurrence_core


def _core() -> tuple[Term, ...]:
    return tuple(
        sorted((t for t in _load() if t.in_occurrence_core), key=lambda t: t.occurrence_core_index)
    )


OCCURRENCE_CORE_TERMS: tuple[str, ...] = tuple(t.local_name for t in _core())
OCCURRENCE_CORE_IRIS: Mapping[str, str] = MappingProxyType({t.local_name: t.iri for t in _core()})


def is_identifier_term(name: str) -> bool:
    """True for an identifier term: its local name ends in ``ID`` (occurrenceID, institutionID, recordedByID,
    taxonID...). Such a value must be whole or absent: a template with an empty part gives no value at all."""
    try:
        return get_term(name).local_name.endswith("ID")
    except (UnknownTermError, TypeError):
        return name.rsplit(":", 1)[-1].endswith("ID")
