"""Generate the small vocabularies the OTHER-element BDQ tests consult (see README-other.md).

Run from the repository root:  .venv/bin/python validators/bdq/data/build_other_vocabularies.py

Reads only /work/shared/standards (the sibling ``shared/standards`` folder of the repository) and writes one TSV per
vocabulary next to this script. Each TSV has the columns ``value  kind  label``:

* ``canonical``: ``value`` is a valid term of the authority (``label`` repeats it). Validations accept only these.
* ``label`` / ``iri``: another spelling (preferred or alternative label in any language, a term IRI) that an
  amendment may interpret as ``value``.

The runtime code (``validators/bdq/other_vocab.py``) reads these TSVs and never the standards folder.
"""
from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
STANDARDS = HERE.parents[3] / "shared" / "standards"
VOCABS = STANDARDS / "gbif-vocabularies"

THESAURUS = "{http://rs.gbif.org/thesaurus/}"
DC = "{http://purl.org/dc/terms/}"


def read_thesaurus(path: Path, name=lambda identifier: identifier) -> list[tuple[str, str, str]]:
    """Rows (value, kind, label) from a GBIF thesaurus XML: identifier, URIs, preferred and alternative labels."""
    rows = []
    for concept in ET.parse(path).getroot().iter(THESAURUS + "concept"):
        value = name(concept.get(DC + "identifier"))
        rows.append((value, "canonical", value))
        for attribute in ("URI", "subject"):
            iri = concept.get(DC + attribute)
            if iri:
                rows.append((value, "iri", iri))
        rows.append((value, "label", concept.get(DC + "identifier")))
        for term in concept.iter(THESAURUS + "term"):
            title = (term.get(DC + "title") or "").strip()
            # The 2022 establishmentMeans file packs several alternatives into one label separated by " | ".
            for label in title.split(" | "):
                if label.strip():
                    rows.append((value, "label", label.strip()))
    return rows


def dwc_classes() -> list[tuple[str, str, str]]:
    """basisOfRecord: the local names of the recommended Darwin Core classes (the note of the BDQ test says so)."""
    rows = []
    with open(STANDARDS / "dwc-terms" / "term_versions.csv", encoding="utf-8", newline="") as handle:
        for term in csv.DictReader(handle):
            if term["status"] == "recommended" and term["rdf_type"].endswith("#Class"):
                name = term["term_localName"]
                rows += [(name, "canonical", name), (name, "label", term["label"]), (name, "iri", term["term_iri"])]
    return rows


# GBIF vocabulary server concept names for dwc:sex (api.gbif.org/v1/vocabularies/Sex), the default authority of
# VALIDATION_SEX_STANDARD / AMENDMENT_SEX_STANDARDIZED. The server is not mirrored in shared/standards; these four
# names are the ones the BDQ tests' Examples and validation data use (tdwg/bdq issues #283, #284). The older
# rs.gbif.org sex.xml supplies the lower-case spellings and alternatives, its "undetermined" mapped to Indeterminate.
SEX_CONCEPTS = {"male": "Male", "female": "Female", "hermaphrodite": "Hermaphrodite", "undetermined": "Indeterminate"}


def sex() -> list[tuple[str, str, str]]:
    rows = read_thesaurus(VOCABS / "gbif" / "sex.xml", name=lambda identifier: SEX_CONCEPTS[identifier])
    rows.append(("Indeterminate", "label", "indeterminate"))
    return rows


def type_status() -> list[tuple[str, str, str]]:
    """GBIF TypeStatus concepts are the rs.gbif.org identifiers with an upper-case first letter (e.g. Holotype)."""
    return read_thesaurus(VOCABS / "gbif" / "type_status_2021-01-18.xml",
                          name=lambda identifier: identifier[:1].upper() + identifier[1:])


def licenses() -> list[tuple[str, str, str]]:
    """Creative Commons 4.0 licences and CC0 1.0, the codes taken from the regular expression that is the default
    bdqval:sourceAuthority of VALIDATION_LICENSE_STANDARD in TG2_tests.csv. The canonical form is the legalcode IRI
    (the AMENDMENT_LICENSE_STANDARDIZED example: "CC0" -> .../publicdomain/zero/1.0/legalcode)."""
    with open(STANDARDS / "bdq" / "TG2_tests.csv", encoding="utf-8", newline="") as handle:
        spec = next(r for r in csv.DictReader(handle) if r["Label"] == "VALIDATION_LICENSE_STANDARD")
    codes = re.search(r"licenses/\(([^)]*)\)/4\.0", spec["AuthoritiesDefaults"]).group(1)
    rows = []
    for code in codes.replace("&#124;", "|").split("|"):
        base = f"https://creativecommons.org/licenses/{code}/4.0/"
        value = base + "legalcode"
        spoken = code.upper().replace("-", " ")
        labels = [base, base + "deed", f"CC {spoken} 4.0", f"CC-{code.upper()}-4.0", f"CC {spoken} 4.0 International"]
        rows += [(value, "canonical", value)] + [(value, "label", label) for label in labels]
    value = "https://creativecommons.org/publicdomain/zero/1.0/legalcode"
    base = "https://creativecommons.org/publicdomain/zero/1.0/"
    rows += [(value, "canonical", value)] + [(value, "label", label) for label in (
        base, base + "deed", "CC0", "CC0 1.0", "CC0-1.0", "CC0 1.0 Universal", "CC-Zero",
        "Creative Commons Zero", "Public Domain Dedication CC0 1.0")]
    return rows


def occurrence_status() -> list[tuple[str, str, str]]:
    """present/absent (the regex default of the occurrenceStatus tests); 1 and 0 as the test notes require."""
    rows = read_thesaurus(VOCABS / "gbif" / "occurrence_status_2020-07-15.xml")
    return rows + [("present", "label", "1"), ("absent", "label", "0")]


OUTPUTS = {
    "basis_of_record.tsv": lambda: dwc_classes() + read_thesaurus(VOCABS / "dwc" / "basis_of_record_2024-02-19.xml"),
    "dcmi_type.tsv": lambda: read_thesaurus(VOCABS / "dcterms" / "type.xml"),
    "establishment_means.tsv": lambda: read_thesaurus(VOCABS / "dwc" / "establishment_means_2025-07-10.xml"),
    "degree_of_establishment.tsv": lambda: read_thesaurus(VOCABS / "dwc" / "degree_of_establishment_2025-07-10.xml"),
    "pathway.tsv": lambda: read_thesaurus(VOCABS / "dwc" / "pathway_2025-07-10.xml"),
    "sex.tsv": sex,
    "type_status.tsv": type_status,
    "occurrence_status.tsv": occurrence_status,
    "licenses.tsv": licenses,
}


def write(name: str, rows: list[tuple[str, str, str]]) -> None:
    unique = list(dict.fromkeys(rows))  # keep first-seen order, drop repeats
    with open(HERE / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(("value", "kind", "label"))
        writer.writerows(unique)
    print(f"{name}: {sum(1 for r in unique if r[1] == 'canonical')} terms, {len(unique)} rows")


if __name__ == "__main__":
    for file_name, build in OUTPUTS.items():
        write(file_name, build())
