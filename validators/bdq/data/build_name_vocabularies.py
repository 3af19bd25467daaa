"""Regenerate taxon_rank.tsv from the GBIF TaxonRank thesaurus in ../shared/standards.

Run from the repository root: ``.venv/bin/python validators/bdq/data/build_name_vocabularies.py``.
Runtime code reads only the generated TSV, so the validators work without the shared standards folder.

The thesaurus has no abbreviated rank markers ("sp.", "subsp.", "var."), which AMENDMENT_TAXONRANK_STANDARDIZED
needs (validation row dataID 1114 expects "sp." -> "species"). They are added from RANK_MARKERS below, a list typed
here from the rank abbreviations of the botanical and zoological codes as they appear in occurrence data; they are
marked label_type=abbreviation and used only by the amendment, never to call a value standard.
"""
from __future__ import annotations

import csv
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2].parent / "shared" / "standards" / "gbif-vocabularies" / "gbif" / "rank_2015-04-24.xml"
TARGET = HERE / "taxon_rank.tsv"

THESAURUS = "{http://rs.gbif.org/thesaurus/}"
DC = "{http://purl.org/dc/terms/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

RANK_MARKERS = {
    "kingdom": ["regn."],
    "phylum": ["phyl.", "div."],
    "class": ["cl."],
    "subclass": ["subcl."],
    "order": ["ord."],
    "suborder": ["subord."],
    "family": ["fam."],
    "subfamily": ["subfam."],
    "tribe": ["trib."],
    "subtribe": ["subtrib."],
    "genus": ["gen."],
    "subgenus": ["subgen.", "subg."],
    "section": ["sect."],
    "subsection": ["subsect."],
    "series": ["ser."],
    "subseries": ["subser."],
    "speciesAggregate": ["agg."],
    "species": ["sp.", "spec.", "spp."],
    "infraspecificname": ["infrasp."],
    "subspecies": ["subsp.", "ssp."],
    "variety": ["var."],
    "subvariety": ["subvar."],
    "form": ["f.", "fo.", "fma."],
    "subform": ["subf."],
    "pathovar": ["pv."],
    "biovar": ["bv."],
    "serovar": ["sv."],
    "formaspecialis": ["f.sp.", "f. sp."],
    "cultivar": ["cv."],
    "strain": ["str."],
}


def concepts(path: Path):
    """Yield (concept, label, label_type, lang) rows in thesaurus order."""
    root = etree.parse(str(path)).getroot()
    for concept in root.findall(f"{THESAURUS}concept"):
        identifier = concept.get(f"{DC}identifier")
        yield identifier, identifier, "identifier", ""
        for kind in ("preferred", "alternative"):
            for term in concept.findall(f"{THESAURUS}{kind}/{THESAURUS}term"):
                yield identifier, term.get(f"{DC}title"), kind, term.get(XML_LANG) or ""
        for marker in RANK_MARKERS.get(identifier, []):
            yield identifier, marker, "abbreviation", ""


def main() -> None:
    seen = set()
    with open(TARGET, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["concept", "label", "label_type", "lang"])
        for row in concepts(SOURCE):
            if (row[0], row[1], row[2]) not in seen:
                seen.add((row[0], row[1], row[2]))
                writer.writerow(row)
    print(f"wrote {len(seen)} labels to {TARGET}")


if __name__ == "__main__":
    main()
