"""The Darwin Core Archive classes Mobilise publishes: two cores and the extensions a core may carry.

Each is an :class:`ArchiveClass` read from ``mobilise/data/extensions/<name>.json``, which
``mobilise/data/build_extensions.py`` generates from GBIF's definitions on rs.gbif.org (see
``mobilise/data/README.md``). Loaded lazily, on first use, through :mod:`importlib.resources`; nothing outside the
package is read at run time.

* ``CORES``: ``occurrence`` (Darwin Core Occurrence), ``event`` (Darwin Core Event).
* ``EXTENSIONS``: ``multimedia`` (GBIF Simple Multimedia), ``audubon`` (Audubon/Audiovisual Core media
  description, rowType ``ac:Multimedia``), ``identification`` (Identification History), ``measurement_or_fact``
  (Darwin Core MeasurementOrFact), ``extended_measurement_or_fact`` (OBIS eMoF), ``resource_relationship`` and
  ``occurrence`` (the Occurrence class as an extension of an Event core).
* :func:`extension` / :func:`core`: one by name, or ``ValueError`` naming the known ones (with a did-you-mean).

A term of a class is named by its local name (``identifier``, ``accessURI``), by its prefixed name
(``dcterms:format``), or by its IRI: :meth:`ArchiveClass.term_name` gives the name used in :attr:`ArchiveClass.terms`
and :meth:`ArchiveClass.term_iri` the IRI to write in ``meta.xml``. Where a definition lists a local name twice
(Audubon Core's ``dc:format`` and ``dcterms:format``), the bare name is the ``dc:`` term (the literal, such as a
MIME type) and the ``dcterms:`` one (an IRI) is named ``dcterms:format``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Iterator, Mapping

__all__ = ["ArchiveClass", "EXTENSIONS", "CORES", "extension", "core"]

#: the prefixes a term may be named with (the namespaces of the shipped definitions' terms)
TERM_PREFIXES: Mapping[str, str] = MappingProxyType({
    "dwc": "http://rs.tdwg.org/dwc/terms/",
    "dwciri": "http://rs.tdwg.org/dwc/iri/",
    "dcterms": "http://purl.org/dc/terms/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ac": "http://rs.tdwg.org/ac/terms/",
    "obis": "http://rs.iobis.org/obis/terms/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "mo": "http://purl.org/ontology/mo/",
})

_CORE_NAMES = ("occurrence", "event")
_EXTENSION_NAMES = ("multimedia", "audubon", "identification", "measurement_or_fact",
                    "extended_measurement_or_fact", "resource_relationship", "occurrence")


@dataclass(frozen=True)
class ArchiveClass:
    """One core or extension of a Darwin Core Archive, as GBIF defines it.

    ``terms``: term name -> term IRI, in the definition's order (the order the IPT writes them in).
    ``required``: the names the definition marks required (the IPT refuses a mapping without them).
    ``id_term``: the core's record identifier (``occurrenceID``, ``eventID``), None for an extension.
    ``thesauri``: term name -> the GBIF vocabulary URL the definition links it to.
    The classes are shared (loaded once): treat ``terms`` and ``thesauri`` as read-only.
    """

    name: str
    title: str
    row_type: str
    terms: dict[str, str]
    required: tuple[str, ...] = ()
    id_term: str | None = None
    thesauri: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __hash__(self) -> int:  # the dicts are not hashable; a class is identified by these
        return hash((self.name, self.row_type, self.id_term))

    @property
    def _by_iri(self) -> dict[str, str]:
        return {iri: name for name, iri in self.terms.items()}

    def find_term(self, name: str) -> str | None:
        """The name in :attr:`terms` of a term given by that name, by its local name, prefixed name
        (``dcterms:format``, ``ac:accessURI``) or IRI; None when the class has no such term."""
        if name in self.terms:
            return name
        text = name.strip()
        by_iri = self._by_iri
        if text in by_iri:
            return by_iri[text]
        if text.startswith("https://") and "http://" + text[8:] in by_iri:  # IRIs are http: in the standards
            return by_iri["http://" + text[8:]]
        prefix, colon, local = text.partition(":")
        if colon and prefix in TERM_PREFIXES:
            return by_iri.get(TERM_PREFIXES[prefix] + local)
        return None

    def term_name(self, name: str) -> str:
        """Like :meth:`find_term`, raising ValueError naming the class's terms (with a did-you-mean)."""
        found = self.find_term(name)
        if found is None:
            raise ValueError(f"{self.title} ({self.name}) has no term '{name}'{_suggest(name, list(self.terms))}; "
                             f"its terms: {', '.join(self.terms)}")
        return found

    def term_iri(self, name: str) -> str:
        """The IRI of a term given by name, prefixed name or IRI (ValueError for a term the class lacks)."""
        return self.terms[self.term_name(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find_term(name) is not None


def _load(name: str, as_core: bool) -> ArchiveClass:
    text = resources.files("mobilise").joinpath(f"data/extensions/{name}.json").read_text(encoding="utf-8")
    document = json.loads(text)
    terms = document["terms"]
    return ArchiveClass(
        name=document["name"],
        title=document["title"],
        row_type=document["rowType"],
        terms={term["name"]: term["iri"] for term in terms},
        required=tuple(term["name"] for term in terms if term["required"]),
        id_term=document["coreIdTerm"] if as_core else None,
        thesauri={term["name"]: term["thesaurus"] for term in terms if term["thesaurus"]},
    )


class _LazyClasses(Mapping[str, ArchiveClass]):
    """A read-only name -> ArchiveClass mapping whose JSON files are read on first access."""

    def __init__(self, names: tuple[str, ...], as_core: bool) -> None:
        self._names = names
        self._as_core = as_core

    def __getitem__(self, name: str) -> ArchiveClass:
        if name not in self._names:
            raise KeyError(name)
        return _cached(name, self._as_core)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<{'CORES' if self._as_core else 'EXTENSIONS'}: {', '.join(self._names)}>"


@cache
def _cached(name: str, as_core: bool) -> ArchiveClass:
    return _load(name, as_core)


CORES: Mapping[str, ArchiveClass] = _LazyClasses(_CORE_NAMES, as_core=True)
EXTENSIONS: Mapping[str, ArchiveClass] = _LazyClasses(_EXTENSION_NAMES, as_core=False)


def _suggest(name: str, choices: list[str]) -> str:
    """mobilise.settings._suggest, imported when needed: settings (the dataset config) validates extension names
    with this module, so this module must not import settings at import time."""
    from mobilise.settings import _suggest as suggest

    return suggest(name, choices)


def _pick(kind: str, classes: Mapping[str, ArchiveClass], name: str) -> ArchiveClass:
    if not isinstance(name, str):
        raise ValueError(f"{kind} name must be text, not {name!r}")
    if name in classes:
        return classes[name]
    # a rowType IRI names its class too (a DwC-A source's row_type: http://rs.gbif.org/terms/1.0/Multimedia)
    for known in classes:
        if classes[known].row_type == name.strip():
            return classes[known]
    raise ValueError(f"unknown {kind} '{name}'{_suggest(name, list(classes))}; known {kind}s: "
                     f"{', '.join(classes)}")


def extension(name: str) -> ArchiveClass:
    """The extension named `name` (a key of EXTENSIONS, or its rowType IRI); ValueError naming the known ones."""
    return _pick("extension", EXTENSIONS, name)


def core(name: str) -> ArchiveClass:
    """The core named `name` (``occurrence`` or ``event``, or its rowType IRI); ValueError naming the known ones."""
    return _pick("core", CORES, name)
