"""Offline XSD validation of eml.xml and meta.xml, for reuse in any test.

    from tests.xsd import validate_eml, validate_meta
    validate_eml(eml_bytes)    # GBIF EML profile 1.3 (eml.xsd, eml-2.2.0 namespace)
    validate_meta(meta_bytes)  # Darwin Core text guide (tdwg_dwc_text.xsd)

Both raise ``AssertionError`` carrying libxml2's messages (line: message) when the
document is not well-formed or not schema-valid, and return the parsed tree otherwise.

The schemas live read-only in ``../shared/standards`` (a sibling of the repository
folder). Their remote ``schemaLocation`` imports are answered from local files by an
``etree.Resolver`` that mirrors ``standards/catalog.xml`` so no network is ever used and
nothing depends on ``XML_CATALOG_FILES`` being set before lxml was first imported:

* the ``xml:`` namespace schema (``http://www.w3.org/2001/xml.xsd``,
  ``http://rs.gbif.org/schema/xml.xsd``) -> ``gbif-schema/xml.xsd``;
* tdwg's ``tdwg_dwcterms.xsd`` (imported but never referenced by ``tdwg_dwc_text.xsd``,
  and not compilable in lxml) -> an empty schema for the dwc namespace.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

STANDARDS = Path(__file__).resolve().parents[1].parent / "shared" / "standards"
EML_XSD = STANDARDS / "eml-gbif-profile" / "1.3" / "eml.xsd"
META_XSD = STANDARDS / "dwc-text" / "tdwg_dwc_text.xsd"
CATALOG = STANDARDS / "catalog.xml"

_XML_XSD_URLS = {
    "http://rs.gbif.org/schema/xml.xsd",
    "https://rs.gbif.org/schema/xml.xsd",
    "http://www.w3.org/2001/xml.xsd",
    "http://www.w3.org/2001/03/xml.xsd",
}
_EMPTY_DWC_SCHEMA = (
    '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'targetNamespace="http://rs.tdwg.org/dwc/terms/"/>'
)


class _OfflineResolver(etree.Resolver):
    def resolve(self, system_url, public_id, context):  # noqa: D401 - lxml API
        if system_url in _XML_XSD_URLS:
            return self.resolve_filename(str(STANDARDS / "gbif-schema" / "xml.xsd"), context)
        if system_url and system_url.endswith("tdwg_dwcterms.xsd"):
            return self.resolve_string(_EMPTY_DWC_SCHEMA, context)
        if system_url and system_url.startswith(("http://", "https://")):
            raise OSError(f"offline validation: no local copy for {system_url}")
        return None  # local relative paths: default loader


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_OfflineResolver())
    return parser


@lru_cache(maxsize=None)
def _schema(path: Path) -> etree.XMLSchema:
    if not path.is_file():
        raise FileNotFoundError(f"schema not found: {path} (expected ../shared/standards)")
    doc = etree.parse(str(path), _parser())
    return etree.XMLSchema(doc)


def eml_schema() -> etree.XMLSchema:
    return _schema(EML_XSD)


def meta_schema() -> etree.XMLSchema:
    return _schema(META_XSD)


def _validate(data: bytes, schema: etree.XMLSchema, what: str) -> etree._ElementTree:
    try:
        doc = etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"{what} is not well-formed XML: {exc}") from exc
    tree = doc.getroottree()
    if not schema.validate(tree):
        messages = "\n".join(f"  line {e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(f"{what} is not valid against its schema:\n{messages}")
    return tree


def validate_eml(data: bytes) -> etree._ElementTree:
    """Validate eml.xml bytes against the GBIF EML profile 1.3 (offline)."""
    return _validate(data, eml_schema(), "eml.xml")


def validate_meta(data: bytes) -> etree._ElementTree:
    """Validate meta.xml bytes against the Darwin Core text guide schema (offline)."""
    return _validate(data, meta_schema(), "meta.xml")
