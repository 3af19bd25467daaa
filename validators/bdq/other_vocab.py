"""Controlled vocabularies for the OTHER-element BDQ tests, loaded once from the TSVs shipped in ``data/``.

Validations need an exact, case-sensitive membership test (a set lookup). Amendments need to *interpret* a messy
value ("Preserved spec.", "evnt", "alien", "Fouling") as exactly one term; :meth:`Vocabulary.interpret` tries
ever looser matches and stops at the first level that finds anything, answering only when that level is
unambiguous. Interpretations are cached because the same few dirty values repeat across millions of records.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

_SCHEME = re.compile(r"^\s*https?://(www\.)?", re.IGNORECASE)
_CAMEL_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def normalise(text: str) -> str:
    """Case-, space-, punctuation- and IRI-scheme-insensitive key: 'Preserved spec.' -> 'preservedspec'."""
    folded = _SCHEME.sub("", text).casefold()
    key = "".join(ch for ch in folded if ch.isalnum())
    return key or folded.strip()  # keep symbols such as '♂' that have no letters


def _within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance <= 1, counting a swap of two adjacent characters as one edit ('evnt' ~ 'event')."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


class Vocabulary:
    """The terms of one authority plus the labels and IRIs an amendment may map onto them."""

    MIN_FUZZY_LENGTH = 4  # below this an edit-distance match is too likely to be a coincidence

    def __init__(self, name: str, rows: list[tuple[str, str, str]]):
        self.name = name
        self.terms = frozenset(value for value, kind, _ in rows if kind == "canonical")
        self._by_key: dict[str, set[str]] = {}
        for value, _, label in rows:
            self._by_key.setdefault(normalise(label), set()).add(value)
        self._keys = tuple(self._by_key.items())
        self._by_word: dict[str, set[str]] = {}  # 'stowaway' -> {'transportStowaway'}
        for term in self.terms:
            for word in _CAMEL_WORD.findall(term):
                self._by_word.setdefault(word.casefold(), set()).add(term)
        self.interpret = lru_cache(maxsize=4096)(self._interpret)

    def __contains__(self, value: str) -> bool:
        return value in self.terms

    def _interpret(self, value: str) -> str | None:
        """The single term ``value`` stands for, or None when there is none or more than one."""
        key = normalise(value)
        if not key:
            return None
        levels = (
            lambda: self._by_key.get(key, set()),  # same spelling up to case/space/punctuation, or a known label
            lambda: {v for k, vs in self._keys if k.startswith(key) for v in vs},  # abbreviation: 'capt.', 'f'
            lambda: self._by_word.get(key, set()),  # one word of a camelCase term: 'Fouling' -> hullFouling
            lambda: {v for k, vs in self._keys if len(key) >= self.MIN_FUZZY_LENGTH
                     and _within_one_edit(key, k) for v in vs},  # a single typo: 'evnt' -> Event
        )
        for level in levels:
            found = level()
            if found:
                return next(iter(found)) if len(found) == 1 else None
        return None


def load(file_name: str) -> Vocabulary:
    with open(DATA / file_name, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)  # header: value, kind, label
        return Vocabulary(file_name.removesuffix(".tsv"), [tuple(row) for row in reader])


BASIS_OF_RECORD = load("basis_of_record.tsv")
DCMI_TYPE = load("dcmi_type.tsv")
ESTABLISHMENT_MEANS = load("establishment_means.tsv")
DEGREE_OF_ESTABLISHMENT = load("degree_of_establishment.tsv")
PATHWAY = load("pathway.tsv")
SEX = load("sex.tsv")
TYPE_STATUS = load("type_status.tsv")
OCCURRENCE_STATUS = load("occurrence_status.tsv")
LICENSES = load("licenses.tsv")
