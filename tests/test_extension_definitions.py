"""The shipped extension definitions (mobilise/data/extensions/*.json) and mobilise.extensions, against GBIF's
definitions and TDWG's term list in ../shared/standards."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mobilise.data import build_extensions
from mobilise.extensions import CORES, EXTENSIONS, ArchiveClass, core, extension
from mobilise.terms import OCCURRENCE_CORE_IRIS
from tests.xsd import STANDARDS

SHIPPED = Path(build_extensions.__file__).parent / "extensions"
EXT_NS = "{http://rs.gbif.org/extension/}"

ROW_TYPES = {
    "occurrence": "http://rs.tdwg.org/dwc/terms/Occurrence",
    "event": "http://rs.tdwg.org/dwc/terms/Event",
    "multimedia": "http://rs.gbif.org/terms/1.0/Multimedia",
    "audubon": "http://rs.tdwg.org/ac/terms/Multimedia",
    "identification": "http://rs.tdwg.org/dwc/terms/Identification",
    "measurement_or_fact": "http://rs.tdwg.org/dwc/terms/MeasurementOrFact",
    "extended_measurement_or_fact": "http://rs.iobis.org/obis/terms/ExtendedMeasurementOrFact",
    "resource_relationship": "http://rs.tdwg.org/dwc/terms/ResourceRelationship",
}
# Vocabularies whose terms GBIF's definitions borrow (Simple Multimedia and Audubon Core): Dublin Core elements and
# terms, and XMP, XMP Rights, EXIF, Photoshop, IPTC Extension and Music Ontology terms in Audubon Core.
BORROWED = ("http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/", "http://ns.adobe.com/xap/1.0/",
            "http://ns.adobe.com/xap/1.0/rights/", "http://ns.adobe.com/exif/1.0/", "http://ns.adobe.com/photoshop/1.0/",
            "http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "http://purl.org/ontology/mo/")
DWC_NAMESPACES = ("http://rs.tdwg.org/dwc/terms/", "http://rs.tdwg.org/dwc/iri/")


def _recommended_terms() -> set[str]:
    with open(STANDARDS / "dwc-terms" / "term_versions.csv", newline="", encoding="utf-8") as fh:
        return {row["term_iri"] for row in csv.DictReader(fh) if row["status"] == "recommended"}


def _definition(name: str) -> ET.Element:
    return ET.parse(STANDARDS / "gbif-extensions" / build_extensions.DEFINITIONS[name][0]).getroot()


def test_shipped_definitions_are_what_the_build_script_generates():
    generated = build_extensions.build(STANDARDS)
    shipped = {path.name: path.read_text(encoding="utf-8") for path in SHIPPED.glob("*.json")}
    assert set(shipped) == set(generated)
    for name, text in generated.items():
        assert shipped[name] == text, f"{name}: rerun .venv/bin/python mobilise/data/build_extensions.py"
    assert build_extensions.main(["--check"]) == 0


def test_check_mode_notices_a_stale_file(tmp_path):
    for name, text in build_extensions.build(STANDARDS).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert build_extensions.main(["--check", "--output", str(tmp_path)]) == 0
    stale = tmp_path / "multimedia.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace("dc/terms/license", "dc/terms/licence"),
                     encoding="utf-8")
    assert build_extensions.main(["--check", "--output", str(tmp_path)]) == 1


def test_row_types_and_titles():
    assert {name: c.row_type for name, c in CORES.items()} == {n: ROW_TYPES[n] for n in ("occurrence", "event")}
    assert {name: c.row_type for name, c in EXTENSIONS.items()} == {
        n: ROW_TYPES[n] for n in EXTENSIONS}
    assert extension("multimedia").title == "Simple Multimedia"
    assert extension("identification").title == "Darwin Core Identification History"
    assert extension("extended_measurement_or_fact").title == "Extended Measurement Or Facts"
    for name in ROW_TYPES:
        assert _definition(name).get("rowType") == ROW_TYPES[name]


def test_every_term_iri_is_a_darwin_core_term_or_in_its_extensions_namespace():
    recommended = _recommended_terms()
    for name in ROW_TYPES:
        archive_class = core(name) if name in CORES else extension(name)
        own = _definition(name).get("namespace")
        for term, iri in archive_class.terms.items():
            if iri.startswith(DWC_NAMESPACES):
                assert iri in recommended, f"{name}.{term}: {iri} is not a recommended Darwin Core term"
            else:
                assert iri in recommended or iri.startswith(own) or iri.startswith(BORROWED), f"{name}.{term}: {iri}"
            assert iri.rsplit("/", 1)[-1] == term.split(":")[-1], f"{name}.{term}: {iri}"


def test_terms_follow_the_definitions_order_with_required_flags_and_vocabularies():
    for name in ROW_TYPES:
        archive_class = core(name) if name in CORES else extension(name)
        properties = list(_definition(name).iter(f"{EXT_NS}property"))
        assert list(archive_class.terms.values()) == [p.get("qualName") for p in properties]
        assert [archive_class.terms[n] for n in archive_class.required] == [
            p.get("qualName") for p in properties if p.get("required") == "true"]
        assert {archive_class.terms[n]: url for n, url in archive_class.thesauri.items()} == {
            p.get("qualName"): p.get("thesaurus") for p in properties if p.get("thesaurus")}
    assert extension("measurement_or_fact").required == ("measurementType",)
    assert extension("resource_relationship").required == ("resourceID", "relatedResourceID")
    assert core("occurrence").required == ("basisOfRecord",)
    assert core("occurrence").thesauri["basisOfRecord"].endswith("/dwc/basis_of_record_2024-02-19.xml")


def test_the_occurrence_core_is_the_one_of_the_term_table():
    assert list(core("occurrence").terms.items()) == list(OCCURRENCE_CORE_IRIS.items())


def test_id_terms_only_for_cores():
    assert core("occurrence").id_term == "occurrenceID" and core("event").id_term == "eventID"
    assert all(c.id_term is None for c in EXTENSIONS.values())
    # the Occurrence extension of an Event core is the Occurrence class, without being a core
    assert extension("occurrence").terms == core("occurrence").terms
    assert extension("occurrence") != core("occurrence")


def test_terms_by_simple_name_prefixed_name_or_iri():
    multimedia, audubon = extension("multimedia"), extension("audubon")
    assert multimedia.term_iri("identifier") == "http://purl.org/dc/terms/identifier"
    assert multimedia.term_name("http://purl.org/dc/terms/license") == "license"
    assert multimedia.term_name("dcterms:license") == "license"
    assert audubon.term_iri("accessURI") == "http://rs.tdwg.org/ac/terms/accessURI"
    assert audubon.term_name("ac:accessURI") == audubon.term_name("https://rs.tdwg.org/ac/terms/accessURI") == \
        "accessURI"
    # Audubon Core lists dc:format (a literal, the MIME type) and dcterms:format (an IRI)
    assert audubon.term_iri("format") == "http://purl.org/dc/elements/1.1/format"
    assert audubon.term_iri("dc:format") == "http://purl.org/dc/elements/1.1/format"
    assert audubon.term_iri("dcterms:format") == "http://purl.org/dc/terms/format"
    assert audubon.term_name("http://purl.org/dc/terms/rights") == "dcterms:rights"
    assert "accessURI" in audubon and "accessURI" not in multimedia
    assert multimedia.find_term("accessURI") is None
    with pytest.raises(ValueError, match=r"no term 'acessURI' \(did you mean 'accessURI'\?\)"):
        audubon.term_name("acessURI")


def test_unknown_names_say_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown extension 'multimedai' \(did you mean 'multimedia'\?\); "
                                         r"known extensions: multimedia, audubon, identification"):
        extension("multimedai")
    with pytest.raises(ValueError, match=r"unknown core 'taxon'; known cores: occurrence, event"):
        core("taxon")
    with pytest.raises(ValueError, match="did you mean 'event'"):
        core("Event ")
    assert extension("http://rs.tdwg.org/ac/terms/Multimedia").name == "audubon"
    assert isinstance(core("http://rs.tdwg.org/dwc/terms/Event"), ArchiveClass)


def test_classes_are_frozen_and_loaded_from_the_package_only(tmp_path):
    with pytest.raises(AttributeError):
        extension("audubon").title = "x"  # type: ignore[misc]
    # load every class in a fresh interpreter that refuses to open anything under shared/standards
    script = (
        "import sys\n"
        "def hook(event, args):\n"
        "    if event == 'open' and 'shared/standards' in str(args[0]):\n"
        "        raise RuntimeError(f'read {args[0]} at run time')\n"
        "sys.addaudithook(hook)\n"
        "from mobilise.extensions import CORES, EXTENSIONS\n"
        "print(sum(len(c.terms) for c in [*CORES.values(), *EXTENSIONS.values()]))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == sum(len(json.loads(p.read_text(encoding="utf-8"))["terms"]) for p in
                                   SHIPPED.glob("*.json")) + len(core("occurrence").terms)
