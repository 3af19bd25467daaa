"""Regenerate the controlled-vocabulary tables shipped with Mobilise from GBIF's thesaurus XML files.

Run from the repository root: ``python mappers/data/build_vocabularies.py [../shared/standards]``.
Every preferred and alternative label of a concept, in every language GBIF gives, becomes a synonym row; the run
time reads only the TSV files written here (see README.md in this folder for attribution).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

from lxml import etree

SOURCES = {
    "basisOfRecord": "gbif-vocabularies/dwc/basis_of_record_2024-02-19.xml",
    "sex": "gbif-vocabularies/gbif/sex.xml",
    "lifeStage": "gbif-vocabularies/gbif/life_stage.xml",
    "typeStatus": "gbif-vocabularies/gbif/type_status_2021-01-18.xml",
    "occurrenceStatus": "gbif-vocabularies/gbif/occurrence_status_2020-07-15.xml",
}
NS = {"t": "http://rs.gbif.org/thesaurus/", "dc": "http://purl.org/dc/terms/"}
DC = "{http://purl.org/dc/terms/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def concepts(path: Path):
    tree = etree.parse(str(path))
    for concept in tree.iterfind("t:concept", NS):
        identifier = concept.get(DC + "identifier")
        yield identifier, identifier, "identifier"
        for kind in ("preferred", "alternative"):
            for term in concept.iterfind(f"t:{kind}/t:term", NS):
                label = (term.get(DC + "title") or "").strip()
                if label:
                    yield identifier, label, term.get(XML_LANG) or ""


def main(standards: Path) -> None:
    out_dir = Path(__file__).parent / "vocabularies"
    out_dir.mkdir(exist_ok=True)
    for name, relative in SOURCES.items():
        rows = sorted(set(concepts(standards / relative)), key=lambda r: (r[0], r[2], r[1]))
        with open(out_dir / f"{name}.tsv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["concept", "label", "language"])
            writer.writerows(rows)
        print(f"{name}: {len({r[0] for r in rows})} concepts, {len(rows)} labels")


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2].parent / "shared" / "standards"
    main(root)
