"""Generate ``extensions/<name>.json`` (the run-time Darwin Core Archive class definitions) from the standards.

Run from anywhere (development only; the runtime never reads ``../shared``)::

    .venv/bin/python mobilise/data/build_extensions.py [--standards PATH] [--check]

Inputs (defaults to ``<repo>/../shared/standards``): the GBIF core and extension definitions in
``gbif-extensions/`` (rs.gbif.org, copied byte for byte; see ``mobilise/data/README.md`` for provenance). Each
``<extension rowType= dc:title=>`` with its ``<property name= qualName= required= thesaurus= group= type=>``
entries becomes one JSON file:

``{"name", "title", "rowType", "kind" (core/extension), "coreIdTerm" (cores only), "source" {"path", "issued"},
"terms": [{"name", "iri", "required", "thesaurus", "group", "type"}, ...]}`` with the terms in the definition's
order. Descriptions, comments, examples and translations are left out.

Term names: a property's ``name`` (its local name), unless the definition lists that local name more than once
(Audubon Core lists ``dc:type`` and ``dcterms:type``, ``dc:format`` and ``dcterms:format``, ...). Then the
``http://purl.org/dc/elements/1.1/`` one (the literal: Audubon Core's ``dc:`` terms take text, their ``dcterms:``
twins an IRI) keeps the local name and the others are named ``prefix:name`` (``dcterms:format``).

``--check`` exits non-zero when a shipped file differs from what would be generated.
"""
from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_STANDARDS = HERE.parents[1].parent / "shared" / "standards"
OUTPUT = HERE / "extensions"
EXT_NS = "{http://rs.gbif.org/extension/}"
DC_NS = "{http://purl.org/dc/terms/}"

#: name -> (definition under gbif-extensions/, kind, the core's id term)
DEFINITIONS: dict[str, tuple[str, str, str | None]] = {
    "occurrence": ("core/dwc_occurrence_2025-07-10.xml", "core", "occurrenceID"),
    "event": ("core/dwc_event_2025-07-10.xml", "core", "eventID"),
    "multimedia": ("extension/gbif/1.0/multimedia.xml", "extension", None),
    "audubon": ("extension/ac/audiovisual_2026-02-24.xml", "extension", None),
    "identification": ("extension/dwc/identification_history_2025-07-10.xml", "extension", None),
    "measurement_or_fact": ("extension/dwc/measurements_or_facts_2025-07-10.xml", "extension", None),
    "extended_measurement_or_fact": ("extension/obis/extended_measurement_or_fact_2023-08-28.xml", "extension",
                                     None),
    "resource_relationship": ("extension/dwc/resource_relationship_2025-07-10.xml", "extension", None),
}
#: prefixes for the names of a local name the definition lists more than once
PREFIXES = {"http://purl.org/dc/elements/1.1/": "dc", "http://purl.org/dc/terms/": "dcterms"}
LITERAL_NAMESPACE = "http://purl.org/dc/elements/1.1/"


def _namespace(iri: str, name: str) -> str:
    if not iri.endswith(name):
        raise ValueError(f"{iri} does not end with its name {name}")
    return iri[: -len(name)]


def read_definition(path: Path) -> dict:
    """The extension element's title and rowType and its properties (name, iri, required, thesaurus, group, type)
    in order, each term name unique (see the module docstring)."""
    root = ET.parse(path).getroot()
    properties = [
        {"name": p.get("name"), "iri": p.get("qualName"), "required": p.get("required") == "true",
         "thesaurus": p.get("thesaurus") or None, "group": p.get("group") or None, "type": p.get("type") or None}
        for p in root.iter(f"{EXT_NS}property")
    ]
    counts: dict[str, int] = {}
    for prop in properties:
        counts[prop["name"]] = counts.get(prop["name"], 0) + 1
    for prop in properties:
        if counts[prop["name"]] > 1:
            namespace = _namespace(prop["iri"], prop["name"])
            if namespace not in PREFIXES:
                raise ValueError(f"{path.name}: {prop['name']} is listed twice and {namespace} has no prefix here")
            if namespace != LITERAL_NAMESPACE:
                prop["name"] = f"{PREFIXES[namespace]}:{prop['name']}"
    names = [prop["name"] for prop in properties]
    if len(set(names)) != len(names):
        raise ValueError(f"{path.name}: term names are not unique: {names}")
    iris = [prop["iri"] for prop in properties]
    if len(set(iris)) != len(iris):
        raise ValueError(f"{path.name}: a term IRI is listed twice")
    return {"title": root.get(f"{DC_NS}title"), "rowType": root.get("rowType"),
            "issued": root.get(f"{DC_NS}issued"), "terms": properties}


def build(standards: Path) -> dict[str, str]:
    """file name -> JSON text, for every definition in DEFINITIONS."""
    files: dict[str, str] = {}
    for name, (relative, kind, id_term) in DEFINITIONS.items():
        definition = read_definition(standards / "gbif-extensions" / relative)
        document = {
            "name": name,
            "title": definition["title"],
            "rowType": definition["rowType"],
            "kind": kind,
            "coreIdTerm": id_term,
            "source": {"repository": "gbif/rs.gbif.org", "path": relative, "issued": definition["issued"]},
            "terms": definition["terms"],
        }
        if id_term is not None and id_term not in [t["name"] for t in definition["terms"]]:
            raise ValueError(f"{relative}: the core has no {id_term}")
        files[f"{name}.json"] = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--standards", type=Path, default=DEFAULT_STANDARDS)
    ap.add_argument("--output", type=Path, default=OUTPUT)
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    files = build(args.standards)
    if args.check:
        stale = [name for name, text in files.items()
                 if not (args.output / name).exists() or (args.output / name).read_text(encoding="utf-8") != text]
        extra = sorted(p.name for p in args.output.glob("*.json") if p.name not in files)
        if stale or extra:
            print(f"{args.output}: out of date: {', '.join(stale + extra)}; rerun build_extensions.py",
                  file=sys.stderr)
            return 1
        return 0
    args.output.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.output / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} definitions to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
