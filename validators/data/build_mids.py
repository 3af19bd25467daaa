"""Generate the MIDS rule tables ``mids_<discipline>.tsv`` from TDWG's SSSOM mappings (MIDS -> DwC-A).

Run from the repository root (reads the read-only standards folder beside the repository)::

    .venv/bin/python validators/data/build_mids.py [STANDARDS_DIR]

The run time (``mobilise.validators.mids``) reads only the generated tables, never the SSSOM files.

How an SSSOM mapping set becomes rules (``source/md/mappings-header.md`` of tdwg/mids, digested in
``mids/README.md``):

- one row maps an information element (``sssom:subject_id``) of a level (``sssom:subject_category``) to a term
  (``sssom:object_id``) in a DwC-A row type (``sssom:object_category``);
- ``skos:narrowMatch`` / ``skos:exactMatch`` rows: each term alone satisfies the element (OR);
- ``owl:intersectionOf`` rows: the terms listed (``|``-delimited) in ``sssom:object_match_field`` of one member row
  must all be present (AND); an element may have several such groups, which are OR-ed with the single terms;
- ``semapv:RegexRemoval``: values that do not count as present (``|``-delimited, a leading ``|`` is the empty
  string).

Output, one row per term of an alternative; rows with the same ``(element, alternative)`` are AND-ed, alternatives of
an element are OR-ed, every element of levels 0..N must be met for level N:

    level  element  alternative  term  column  row_type  absent_values

``column`` is the column name in a Mobilise mapped batch: the term's local name for Occurrence-core terms
(``dwc:catalogNumber`` -> ``catalogNumber``, ``dcterms:license`` -> ``license``, ``gbif:taxonKey`` -> ``taxonKey``),
``<row type>/<term>`` for extension terms (``gbif:Multimedia/dcterms:identifier``), which a core-only batch lacks.
"""
from __future__ import annotations

import csv
import hashlib
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_STANDARDS = HERE.parents[2] / "shared" / "standards"
DISCIPLINES = {"biology": "biology", "geology": "geology", "palaeontology": "paleontology"}
CORE = "dwc:Occurrence"
SINGLE = {"skos:narrowMatch", "skos:exactMatch"}
INTERSECTION = "owl:intersectionOf"
COLUMNS = ["level", "element", "alternative", "term", "column", "row_type", "absent_values"]


def source_file(standards: Path, discipline: str) -> Path:
    return standards / "mids" / f"mids_dwc-a_{DISCIPLINES[discipline]}_1.sssom.tsv"


def column_name(term: str, row_type: str) -> str:
    if row_type == CORE:
        return term.split(":", 1)[1]
    return f"{row_type}/{term}"


def _local(curie: str) -> str:
    return curie.split(":", 1)[1]


def rules_from_sssom(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    elements: dict[tuple[int, str], list[dict[str, str]]] = {}
    for row in rows:
        level = int(row["sssom:subject_category"].removeprefix("mids:MIDS"))
        elements.setdefault((level, _local(row["sssom:subject_id"])), []).append(row)
    out: list[dict[str, str]] = []
    for (level, element), members in sorted(elements.items(), key=lambda item: item[0][0]):
        alternatives: list[list[tuple[str, str, str]]] = []
        intersections = [m for m in members if m["sssom:predicate_id"] == INTERSECTION]
        grouped: set[tuple[str, str]] = set()
        for member in members:
            predicate = member["sssom:predicate_id"]
            term, row_type = member["sssom:object_id"], member["sssom:object_category"]
            if predicate in SINGLE:
                alternatives.append([(term, row_type, member["semapv:RegexRemoval"])])
            elif predicate == INTERSECTION:
                field = member["sssom:object_match_field"].strip()
                if not field:
                    continue  # a member row; its group is listed on another row
                group = []
                for part in field.split("|"):
                    same = [m for m in intersections
                            if m["sssom:object_id"] == part and m["sssom:object_category"] == row_type]
                    removal = (same[0] if same else member)["semapv:RegexRemoval"]
                    group.append((part, row_type, removal))
                    grouped.add((part, row_type))
                alternatives.append(group)
            else:
                raise ValueError(f"{path.name}: unknown predicate {predicate!r} for {element}")
        orphans = [m["sssom:object_id"] for m in intersections
                   if (m["sssom:object_id"], m["sssom:object_category"]) not in grouped]
        if orphans:
            raise ValueError(f"{path.name}: {element}: intersection members in no group: {orphans}")
        for number, group in enumerate(alternatives, start=1):
            for term, row_type, removal in group:
                out.append({"level": str(level), "element": element, "alternative": str(number), "term": term,
                            "column": column_name(term, row_type), "row_type": row_type, "absent_values": removal})
    return out


def render(discipline: str, standards: Path) -> str:
    path = source_file(standards, discipline)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    buffer = io.StringIO()
    buffer.write(f"# MIDS rules for {discipline}, generated by validators/data/build_mids.py (do not edit)\n")
    buffer.write(f"# source: tdwg/mids source/mappings/{path.name} (CC0 1.0) sha256={digest}\n")
    writer = csv.DictWriter(buffer, COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rules_from_sssom(path))
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    standards = Path(argv[1]) if len(argv) > 1 else DEFAULT_STANDARDS
    for discipline in DISCIPLINES:
        target = HERE / f"mids_{discipline}.tsv"
        target.write_text(render(discipline, standards), encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
