"""meta.xml (the Darwin Core text guide archive descriptor), valid against tdwg_dwc_text.xsd.

Each data file is described by an :class:`ArchiveFile`; every file is written as UTF-8,
tab-separated (``fieldsTerminatedBy="\\t"``), ``\\n`` line ends, no field enclosure and one
header line, which is what the publishers' writers must produce.

``terms`` lists the term IRI of every column in file order (``None`` for a column that has no
term, e.g. an extension's coreid column); each becomes ``<field index= term=>``. The core's
``<id index=>`` and an extension's ``<coreid index=>`` point at ``id_index``. Constant values
for terms without a column go in ``defaults`` (``<field term= default=>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from lxml import etree

__all__ = ["ArchiveFile", "build_meta_xml", "DWC_TEXT_NS"]

DWC_TEXT_NS = "http://rs.tdwg.org/dwc/text/"
_A = f"{{{DWC_TEXT_NS}}}"
_ILLEGAL_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class ArchiveFile:
    """One data file of a Darwin Core Archive.

    row_type: class IRI, e.g. ``http://rs.tdwg.org/dwc/terms/Occurrence``.
    location: file name inside the archive, e.g. ``occurrence.txt``.
    terms: term IRI per column, in file order (``None`` = column without a term).
    id_index: the core's id column, or the extension's coreid column.
    defaults: term IRI -> constant value, for terms that have no column.
    vocabularies: term IRI -> vocabulary URI (``vocabulary=`` attribute).
    delimited_by: term IRI -> separator of multi-valued columns (``delimitedBy=``).
    """

    row_type: str
    location: str
    terms: Sequence[str | None]
    id_index: int = 0
    defaults: Mapping[str, str] = field(default_factory=dict)
    vocabularies: Mapping[str, str] = field(default_factory=dict)
    delimited_by: Mapping[str, str] = field(default_factory=dict)
    encoding: str = "UTF-8"
    fields_terminated_by: str = "\\t"  # the literal two characters, as the text guide writes it
    lines_terminated_by: str = "\\n"
    fields_enclosed_by: str = ""
    ignore_header_lines: int = 1

    def validate(self) -> None:
        if not self.row_type or "://" not in self.row_type:
            raise ValueError(f"{self.location}: row_type must be a class IRI, got {self.row_type!r}")
        loc = self.location or ""
        if not loc.strip() or loc.startswith(("/", "\\")) or ".." in loc.replace("\\", "/").split("/"):
            raise ValueError(f"location must be a relative file name, got {self.location!r}")
        if not self.terms and not self.defaults:
            raise ValueError(f"{self.location}: no columns (terms) and no defaults")
        if not 0 <= self.id_index < max(len(self.terms), 1):
            raise ValueError(
                f"{self.location}: id_index {self.id_index} is outside the {len(self.terms)} columns"
            )
        named = [t for t in self.terms if t]
        dupes = sorted({t for t in named if named.count(t) > 1})
        if dupes:
            raise ValueError(f"{self.location}: terms mapped to more than one column: {', '.join(dupes)}")
        both = sorted(set(named) & set(self.defaults))
        if both:
            raise ValueError(f"{self.location}: terms given both a column and a default: {', '.join(both)}")
        for t in [*named, *self.defaults]:
            if "://" not in t:
                raise ValueError(f"{self.location}: {t!r} is not a term IRI (use mobilise.terms.term_iri)")


def _file_element(parent: etree._Element, tag: str, f: ArchiveFile, id_tag: str) -> None:
    f.validate()
    el = etree.SubElement(parent, _A + tag)
    el.set("encoding", f.encoding)
    el.set("fieldsTerminatedBy", f.fields_terminated_by)
    el.set("linesTerminatedBy", f.lines_terminated_by)
    el.set("fieldsEnclosedBy", f.fields_enclosed_by)
    el.set("ignoreHeaderLines", str(f.ignore_header_lines))
    el.set("rowType", f.row_type)
    files = etree.SubElement(el, _A + "files")
    etree.SubElement(files, _A + "location").text = f.location
    etree.SubElement(el, _A + id_tag).set("index", str(f.id_index))
    for i, term in enumerate(f.terms):
        if not term:
            continue
        fe = etree.SubElement(el, _A + "field")
        fe.set("index", str(i))
        fe.set("term", term)
        if term in f.vocabularies:
            fe.set("vocabulary", f.vocabularies[term])
        if term in f.delimited_by:
            fe.set("delimitedBy", f.delimited_by[term])
    for term, value in f.defaults.items():
        fe = etree.SubElement(el, _A + "field")
        fe.set("term", term)
        fe.set("default", _ILLEGAL_XML.sub("", str(value)))
        if term in f.vocabularies:
            fe.set("vocabulary", f.vocabularies[term])
    if len(el.findall(_A + "field")) == 0:
        raise ValueError(f"{f.location}: no field besides the {id_tag} column has a term")


def build_meta_xml(core: ArchiveFile, extensions: Sequence[ArchiveFile] = ()) -> bytes:
    """meta.xml bytes (UTF-8, with XML declaration) for a core and its extensions."""
    locations = [core.location, *(e.location for e in extensions)]
    if len(set(locations)) != len(locations):
        raise ValueError(f"two files share a location: {locations}")
    root = etree.Element(_A + "archive", nsmap={None: DWC_TEXT_NS})
    root.set("metadata", "eml.xml")
    _file_element(root, "core", core, "id")
    for ext in extensions:
        _file_element(root, "extension", ext, "coreid")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
