"""Generate ``dwc_terms.tsv`` (the run-time Darwin Core term table) from the standards.

Run from anywhere (development only; the runtime never reads ``../shared``)::

    .venv/bin/python mobilise/data/build_terms.py [--standards PATH] [--check]

Inputs (defaults to ``<repo>/../shared/standards``):

* ``dwc-terms/term_versions.csv`` (TDWG, CC BY 4.0): rows with ``status == recommended``
  are the current Darwin Core term list (dwc:, dwciri:, dcterms:, dc:, ac: terms).
* ``gbif-extensions/core/dwc_occurrence_2025-07-10.xml`` (GBIF, rs.gbif.org): its
  ``<property name= qualName= group=>`` entries are the terms GBIF's Occurrence core
  accepts, in the core's order.

Output columns (tab-separated, UTF-8, header line):

``local_name, prefix, iri, group, kind, status, in_occurrence_core, occurrence_core_index, simple``

* ``group``: the Occurrence core's group for terms it contains; otherwise the class the
  term is organised in (``UseWithIRI`` for dwciri: terms, ``Record-level`` when TDWG
  gives no class); for classes, the class itself.
* ``kind``: ``Property`` or ``Class``.
* ``in_occurrence_core``: ``true``/``false``; ``occurrence_core_index`` is the 0-based
  position in the core (empty when absent).
* ``simple``: ``true`` for Simple Darwin Core terms (TDWG ``flags`` contains ``simple``).

``--check`` exits non-zero when the shipped file differs from what would be generated.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_STANDARDS = HERE.parents[1].parent / "shared" / "standards"
OUTPUT = HERE / "dwc_terms.tsv"
OCCURRENCE_CORE = "gbif-extensions/core/dwc_occurrence_2025-07-10.xml"
TERM_VERSIONS = "dwc-terms/term_versions.csv"

PREFIXES = {
    "http://rs.tdwg.org/dwc/terms/": "dwc",
    "http://rs.tdwg.org/dwc/iri/": "dwciri",
    "http://purl.org/dc/terms/": "dcterms",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://rs.tdwg.org/ac/terms/": "ac",
}
COLUMNS = [
    "local_name",
    "prefix",
    "iri",
    "group",
    "kind",
    "status",
    "in_occurrence_core",
    "occurrence_core_index",
    "simple",
]
EXT_NS = "{http://rs.gbif.org/extension/}"


def _split_iri(iri: str) -> tuple[str, str]:
    for ns, prefix in PREFIXES.items():
        if iri.startswith(ns):
            return prefix, iri[len(ns):]
    raise ValueError(f"unknown namespace for term {iri}")


def _class_name(organized_in: str) -> str:
    if not organized_in:
        return "Record-level"
    if organized_in.endswith("/UseWithIRI"):
        return "UseWithIRI"
    name = organized_in.rstrip("/").rsplit("/", 1)[-1]
    # dcterms: and dc: namespaces themselves (not a class) -> record-level terms
    return "Record-level" if name in ("terms", "1.1") else name


def read_occurrence_core(standards: Path) -> list[dict[str, str]]:
    root = ET.parse(standards / OCCURRENCE_CORE).getroot()
    return [
        {"name": p.get("name"), "iri": p.get("qualName"), "group": p.get("group") or ""}
        for p in root.iter(f"{EXT_NS}property")
    ]


def build_rows(standards: Path) -> list[dict[str, str]]:
    core = read_occurrence_core(standards)
    core_index = {p["iri"]: i for i, p in enumerate(core)}
    core_group = {p["iri"]: p["group"] for p in core}

    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    with open(standards / TERM_VERSIONS, newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            if rec["status"] != "recommended":
                continue
            iri = rec["term_iri"]
            if iri in seen:
                continue
            seen.add(iri)
            prefix, local = _split_iri(iri)
            if local != rec["term_localName"]:
                raise ValueError(f"{iri}: local name {rec['term_localName']!r} does not match")
            kind = "Class" if rec["rdf_type"].endswith("#Class") else "Property"
            if iri in core_group:
                group = core_group[iri]
            elif kind == "Class":
                group = local
            else:
                group = _class_name(rec["organized_in"])
            rows.append(
                {
                    "local_name": local,
                    "prefix": prefix,
                    "iri": iri,
                    "group": group,
                    "kind": kind,
                    "status": rec["status"],
                    "in_occurrence_core": "true" if iri in core_index else "false",
                    "occurrence_core_index": str(core_index.get(iri, "")),
                    "simple": "true" if "simple" in rec["flags"].split() else "false",
                }
            )
    # Terms GBIF's core accepts that TDWG does not list as recommended (none at the
    # time of writing) are still shipped, so the core stays complete.
    for i, p in enumerate(core):
        if p["iri"] in seen:
            continue
        prefix, local = _split_iri(p["iri"])
        rows.append(
            {
                "local_name": local,
                "prefix": prefix,
                "iri": p["iri"],
                "group": p["group"],
                "kind": "Property",
                "status": "gbif-core-only",
                "in_occurrence_core": "true",
                "occurrence_core_index": str(i),
                "simple": "false",
            }
        )
    return rows


def render(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--standards", type=Path, default=DEFAULT_STANDARDS)
    ap.add_argument("--output", type=Path, default=OUTPUT)
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    text = render(build_rows(args.standards))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; rerun build_terms.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    n_core = sum(r["in_occurrence_core"] == "true" for r in render_rows(text))
    print(f"wrote {args.output} ({text.count(chr(10)) - 1} terms, {n_core} in the Occurrence core)")
    return 0


def render_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


if __name__ == "__main__":
    sys.exit(main())
