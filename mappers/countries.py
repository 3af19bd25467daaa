"""Country names as typed in Dutch, French, German, English or Spanish, and codes, to ISO 3166-1 alpha-2.

Names come from pycountry (ISO 3166 and the iso-codes translations); a few historic names that still fill
museum ledgers are added here.
"""
from __future__ import annotations

import gettext
import re
import unicodedata
from functools import lru_cache

import pycountry

LANGUAGES = ("nl", "fr", "de", "es", "pt", "it", "da", "sv", "nb", "fi", "cs", "sk", "pl", "hu", "ro", "el", "ru")
# Former names found on specimen labels whose territory maps to one present-day country.
HISTORIC = {
    "belgian congo": "CD", "belgisch congo": "CD", "congo belge": "CD", "zaire": "CD", "congo kinshasa": "CD",
    "dr congo": "CD", "drc": "CD", "rdc": "CD", "congo brazzaville": "CG", "ceylon": "LK", "burma": "MM",
    "formosa": "TW", "persia": "IR", "siam": "TH", "dahomey": "BJ", "upper volta": "BF", "holland": "NL",
    "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "usa": "US",
    "united states of america": "US", "russia": "RU", "south korea": "KR", "north korea": "KP",
    "vietnam": "VN", "laos": "LA", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "iran": "IR",
    "syria": "SY", "ivory coast": "CI", "cote d ivoire": "CI", "kosovo": "XK", "high seas": "XZ",
    "dutch east indies": "ID", "nederlands indie": "ID", "indes neerlandaises": "ID", "tanganyika": "TZ",
    "urundi": "BI", "ruanda": "RW", "nippon": "JP", "east pakistan": "BD", "gold coast": "GH",
}
# Written where the country is not known; not an error in the value, just no value.
UNKNOWN = {"unknown", "onbekend", "inconnu", "unbekannt", "?", "-", "n a", "na", "none", "not recorded"}


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^a-z0-9?]+", " ", text).strip()
    return text[4:] if text.startswith("the ") else text


def _build_index() -> dict[str, str]:
    index: dict[str, str] = {}
    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
                    for lang in LANGUAGES]
    for country in pycountry.countries:
        code = country.alpha_2
        names = {country.name, getattr(country, "official_name", None), getattr(country, "common_name", None)}
        for name in [n for n in names if n]:
            localised = [name] + [translation.gettext(name) for translation in translations]
            for text in localised:
                index.setdefault(normalise(text), code)
                if ", " in text:  # "Congo, Democratische Republiek" is also typed the other way round
                    head, tail = text.split(", ", 1)
                    index.setdefault(normalise(f"{tail} {head}"), code)
        index[code.lower()] = code
        index[country.alpha_3.lower()] = code
    for name, code in HISTORIC.items():
        index.setdefault(normalise(name), code)
    return index


_INDEX: dict[str, str] | None = None


def country_index() -> dict[str, str]:
    global _INDEX
    if _INDEX is None:
        _INDEX = _build_index()
    return _INDEX


ISO_CODES = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK", "XZ", "ZZ"}


@lru_cache(maxsize=16_384)
def interpret_country_code(text: str | None) -> tuple[str | None, tuple[str, ...]]:
    if text is None or not text.strip() or normalise(text) in UNKNOWN:
        return None, ()
    index = country_index()
    code = index.get(normalise(text)) or index.get(normalise(re.sub(r"\(.*?\)", "", text)))
    return (code, ()) if code else (None, ("COUNTRY_INVALID",))
