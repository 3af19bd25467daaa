"""Write countries.tsv: every country name and code Mobilise resolves, by its lookup key, to ISO 3166-1 alpha-2.

Run from the repository root: ``.venv/bin/python mappers/data/build_countries.py``. Sources, in this order:

1. pycountry's ISO 3166-1 data: alpha-2 and alpha-3 codes; each country's name, official name and common name in
   English and in the languages of LANGUAGES (the iso-codes translations pycountry ships); a name written
   "Korea, Republic of" also as "Republic of Korea", and any name also without or with a leading "the".
   A key that two countries' names share is written with no code (it is flagged, not guessed).
2. country_aliases.csv (curated, written for Mobilise): abbreviations, inverted and parenthesised forms, historic
   names with their single successor, Dutch, French and German names; an empty code there marks a name of
   several countries. A curated row replaces whatever step 1 gave its key (printed when it changes a code).

Keys are :func:`mobilise.mappers.countries.country_key` (case, accents, punctuation and whitespace removed): the
run time normalises the value the same way and looks it up, nothing more.
"""
from __future__ import annotations

import csv
import gettext
import sys
from collections import defaultdict
from pathlib import Path

import pycountry

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
try:
    from mobilise.mappers.countries import country_key
except ImportError:  # run from a checkout that is not installed
    raise SystemExit("install the package first (pip install -e .)")

LANGUAGES = ("nl", "fr", "de", "es", "pt", "it", "da", "sv", "nb", "fi", "cs", "sk", "pl", "hu", "ro", "el", "ru")


def variants(name: str, english: bool = True, iso: bool = False) -> set[str]:
    """The name, its inverted and its parenthesised form ('Korea, Republic of' -> 'Republic of Korea', 'Korea
    (Republic of)'); an English one also with and without a leading 'the' ('The Gambia', 'Democratic Republic of
    the Congo'); an English ISO 3166-1 name (`iso`) also with the standard's own trailing '(the)' of its
    2013-2020 short names ('Netherlands (the)', 'Bahamas (the)'), which databases copied from it."""
    found = {name}
    if ", " in name:
        head, tail = name.split(", ", 1)
        found.add(f"{tail} {head}")
        found.add(f"{head} ({tail})")
    if english:
        for text in list(found):
            found.add(text[4:] if text.lower().startswith("the ") else f"the {text}")
            if iso and not text.lower().startswith("the ") and not text.endswith(")"):
                found.add(f"{text} (the)")
    return found


def iso_names() -> dict[str, dict[str, set[str]]]:
    """key -> code -> sources, from pycountry."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    translations = {lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
                    for lang in LANGUAGES}
    for country in pycountry.countries:
        code = country.alpha_2
        found[code.lower()][code].add("alpha-2")
        found[country.alpha_3.lower()][code].add("alpha-3")
        names = [n for n in (country.name, getattr(country, "official_name", None),
                             getattr(country, "common_name", None)) if n]
        for name in names:
            localised = [("en", name)] + [(lang, t.gettext(name)) for lang, t in translations.items()]
            for lang, text in localised:
                if lang != "en" and text == name:
                    continue  # no translation
                for variant in variants(text, english=lang == "en", iso=True):
                    key = country_key(variant)
                    if key:
                        found[key][code].add(lang)
    return found


def curated() -> list[dict[str, str]]:
    with open(HERE / "country_aliases.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def main() -> None:
    table: dict[str, tuple[str, str]] = {}
    for key, codes in iso_names().items():
        if len(codes) == 1:
            [(code, sources)] = codes.items()
            table[key] = (code, "ISO " + " ".join(sorted(sources)))
        else:
            table[key] = ("", "ambiguous: ISO names of " + " ".join(sorted(codes)))
    rows = curated()
    # a curated name's variants first, then the names themselves (a name written in the file wins over a variant)
    for exact in (False, True):
        for row in rows:
            keys = {country_key(row["name"])} if exact else {country_key(v) for v in variants(row["name"])}
            source = f"aliases {row['kind']}"
            for key in keys:
                before = table.get(key)
                if before and before[0] != row["code"] and not before[1].startswith("aliases"):
                    print(f"{key!r} ({row['name']!r}): {before[0] or '(ambiguous)'} ({before[1]}) -> "
                          f"{row['code'] or '(flagged)'}")
                table[key] = (row["code"], source)
    with open(HERE / "countries.tsv", "w", encoding="utf-8", newline="\n") as handle:
        handle.write("# country_key -> ISO 3166-1 alpha-2 (empty: names several countries, flagged). Generated by "
                     "build_countries.py from pycountry (ISO 3166-1 and Debian iso-codes translations, LGPL-2.1) "
                     "and country_aliases.csv (Mobilise, Apache-2.0); do not edit by hand.\n")
        handle.write("key\tcode\tsource\n")
        for key in sorted(table):
            code, source = table[key]
            handle.write(f"{key}\t{code}\t{source}\n")
    print(f"{len(table)} keys, {sum(1 for c, _ in table.values() if not c)} flagged")


if __name__ == "__main__":
    main()
