"""Just enough scientific-name parsing for the NAME tests: split a name string into its polynomial and authorship.

The BDQ tests need three things from a name string: the words of the polynomial (genus, specific epithet, terminal
infraspecific epithet) for VALIDATION_POLYNOMIAL_CONSISTENT, a canonical form (polynomial without rank markers or
authorship) to look names up in an authority, and the authorship to tell homonyms apart. A full parser (GBIF's) is
a Java library; these rules cover the forms found in occurrence data and in the BDQ validation data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Rank markers between epithets ("Hakea decurrens subsp. physocarpa"): skipped, and the next lowercase word is an
# epithet even after an authorship ("Quercus robur L. subsp. pedunculiflora (K.Koch) Menitsky").
RANK_MARKERS = {
    "subsp.", "ssp.", "subsp", "ssp", "var.", "var", "subvar.", "f.", "fo.", "forma", "fma.", "subf.", "cv.",
    "nothosubsp.", "nothovar.", "nothof.", "morph.", "ab.", "race", "pv.", "bv.", "sv.", "f.sp.", "agg.",
    "sect.", "subsect.", "ser.", "subgen.", "subg.",
}
# Open-nomenclature qualifiers and hybrid signs: not part of the name, skipped ("Hakea decurrens ssp. ? physocarpa").
QUALIFIERS = {"?", "aff.", "aff", "cf.", "cf", "nr.", "near", "sp.", "spp.", "sp", "×", "x", "indet."}

# Lowercase words that begin an authorship ("de Candolle", "van der Wulp"), never epithets.
AUTHOR_PARTICLES = {"de", "da", "del", "della", "di", "du", "d'", "van", "von", "der", "den", "la", "le", "ex", "et",
                    "in", "zu"}

_EPITHET = re.compile(r"^[a-zà-öø-ÿ][a-zà-öø-ÿ\-]*$")
_SUBGENUS = re.compile(r"^\([A-Z][a-z\-]+\)$")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class ParsedName:
    generic: str  # first word (genus or uninomial)
    epithets: tuple[str, ...]  # specific epithet, then infraspecific epithets, in order
    cultivar: str  # quoted cultivar epithet, with its quotes, or ""
    authorship: str  # trailing authorship, or ""

    @property
    def specific(self) -> str:
        return self.epithets[0] if self.epithets else ""

    @property
    def infraspecific(self) -> str:
        """The lowest (terminal) infraspecific epithet, without rank marker."""
        return self.epithets[-1] if len(self.epithets) > 1 else ""

    @property
    def canonical(self) -> str:
        """Polynomial without rank markers and authorship, the form GBIF calls canonicalName."""
        return " ".join([self.generic, *self.epithets, *([self.cultivar] if self.cultivar else [])]).strip()


def parse_name(name: str) -> ParsedName:
    """Split a scientific name string; never raises (an unparseable string becomes a one-word 'name')."""
    tokens = (name or "").split()
    while tokens and tokens[0] in ("×", "x", "?"):
        tokens = tokens[1:]
    if not tokens:
        return ParsedName("", (), "", "")
    generic, rest = tokens[0], tokens[1:]
    if rest and _SUBGENUS.match(rest[0]) and len(rest) > 1 and _EPITHET.match(rest[1]):
        rest = rest[1:]  # subgenus in parentheses: "Aus (Bus) cus"
    epithets: list[str] = []
    author_tokens: list[str] = []
    cultivar: list[str] = []
    after_author = expect_epithet = False
    for token in rest:
        lower = token.lower()
        if cultivar and not cultivar[-1].endswith(("'", "\u2019")):
            cultivar.append(token)
        elif token.startswith(("'", "\u2018")):
            cultivar.append(token)
        elif lower in RANK_MARKERS:
            expect_epithet = True
        elif lower in QUALIFIERS:
            continue
        elif _EPITHET.match(token) and lower not in AUTHOR_PARTICLES and (not after_author or expect_epithet):
            epithets.append(token)
            author_tokens = []  # an authorship before an infraspecific epithet belongs to the species
            after_author = expect_epithet = False
        else:
            author_tokens.append(token)
            after_author, expect_epithet = True, False
    return ParsedName(generic, tuple(epithets), " ".join(cultivar), " ".join(author_tokens))


def canonical_name(name: str) -> str:
    return parse_name(name).canonical


def _author_key(authorship: str) -> tuple[str, str]:
    """(first surname-like word, year) of an authorship, lowercased; either may be ""."""
    years = _YEAR.findall(authorship)
    words = re.findall(r"[^\W\d_]+", authorship.lower())
    words = [w for w in words if w not in ("ex", "et", "in", "and", "emend")]
    surnames = [w for w in words if len(w) > 1] or words
    return (surnames[0] if surnames else "", years[-1] if years else "")


def authorship_compatible(a: str, b: str) -> bool:
    """Could two authorship strings denote the same author and year?

    Lenient because data abbreviates: "(L., 1822)" ~ "(Lamarck, 1822)", "Adans., 1763" ~ "Adanson, 1763",
    "(Lamarck)" ~ "(Lamarck, 1822)"; but "Jeffreys, 1867" !~ "Adans.". Empty authorship is compatible with any.
    """
    author_a, year_a = _author_key(a or "")
    author_b, year_b = _author_key(b or "")
    if year_a and year_b and year_a != year_b:
        return False
    if author_a and author_b:
        return author_a.startswith(author_b) or author_b.startswith(author_a)
    return True
