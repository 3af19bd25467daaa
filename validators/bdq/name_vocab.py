"""The GBIF TaxonRank vocabulary, shipped as data/taxon_rank.tsv so the taxonRank tests run offline.

A value is *standard* when it is exactly a concept name or one of its preferred/alternative labels (GBIF lists
labels in several languages, so "especie" is standard, validation row dataID 1104). Abbreviated markers ("sp.",
"subsp.") are not standard but let the amendment map a value to its concept ("sp." -> "species", dataID 1114).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RANK_VOCABULARY = Path(__file__).resolve().parent / "data" / "taxon_rank.tsv"
DEFAULT_RANK_AUTHORITY = "GBIF TaxonRank Vocabulary"


@dataclass(frozen=True)
class RankVocabulary:
    standard: frozenset[str]  # exact concept names and labels
    concepts: frozenset[str]  # concept names, the values an amendment proposes
    by_key: dict[str, frozenset[str]]  # normalised label -> concepts it may mean

    def concepts_for(self, value: str) -> frozenset[str]:
        return self.by_key.get(normalise(value), frozenset())


def normalise(value: str) -> str:
    """Case, surrounding/inner whitespace and a trailing full stop do not change which rank is meant."""
    return " ".join(value.split()).casefold().rstrip(".")


@lru_cache(maxsize=8)
def load_rank_vocabulary(path: str = str(RANK_VOCABULARY)) -> RankVocabulary:
    """Read a TSV with columns concept, label, label_type (a file with only 'concept' is accepted too)."""
    standard, concepts, by_key = set(), set(), {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            concept = (row.get("concept") or "").strip()
            if not concept:
                continue
            label = row.get("label") or concept
            concepts.add(concept)
            if row.get("label_type", "identifier") != "abbreviation":
                standard.add(label)
            for key in (normalise(label), normalise(concept)):
                by_key.setdefault(key, set()).add(concept)
    return RankVocabulary(frozenset(standard), frozenset(concepts),
                          {k: frozenset(v) for k, v in by_key.items()})


def resolve_rank_vocabulary(source: str | None) -> RankVocabulary | None:
    """The vocabulary a bdqval:sourceAuthority value names: the bundled GBIF list, a local TSV file, or None."""
    text = (source or "").strip()
    lower = text.lower()
    if not text or lower == DEFAULT_RANK_AUTHORITY.lower() or "vocabularies/taxonrank" in lower \
            or "vocabulary/gbif/rank" in lower or "vocabulary/taxonrank" in lower:
        return load_rank_vocabulary()
    path = Path(text).expanduser()
    if "://" not in text and path.is_file():
        try:
            return load_rank_vocabulary(str(path.resolve()))
        except (OSError, UnicodeDecodeError, csv.Error):
            return None
    return None
