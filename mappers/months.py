"""Month words: Roman numeral months and month names, one home for the date parsers of mappers and validators.

Used by :mod:`mobilise.mappers.dates` (``12.V.1887``) and the TDWG BDQ date amendments
(:mod:`mobilise.validators.bdq.time_verbatim`, :mod:`mobilise.validators.bdq.time`).
"""
from __future__ import annotations

#: Roman numeral months, lower-case: 'i' -> 1 … 'xii' -> 12 (as written on specimen labels, e.g. 12.V.1887).
ROMAN_MONTHS: dict[str, int] = {r: i for i, r in enumerate("i ii iii iv v vi vii viii ix x xi xii".split(), start=1)}

_MONTH_WORDS = {
    1: "january jan janv januar jänner jän enero ene janeiro gennaio gen januari janvier",
    2: "february feb février fevrier févr fevr februar febrero fevereiro fev febbraio februari",
    3: "march mar mars märz maerz mär marzo março marco maart mrt marts",
    4: "april apr avril avr abril aprile",
    5: "may mai mayo maio maggio mag mei maj",
    6: "june jun juin juni junio junho giugno giu",
    7: "july jul juillet juil juli julio julho luglio lug",
    8: "august aug août aout agosto ago augustus augusti",
    9: "september sep sept septembre septiembre setiembre setembro set settembre",
    10: "october oct octobre oktober okt octubre outubro out ottobre ott",
    11: "november nov novembre noviembre novembro",
    12: "december dec décembre decembre déc dezember dez diciembre dic dezembro dicembre",
}
#: Month names and abbreviations in English, French, German, Spanish, Portuguese, Italian, Dutch, Swedish and
#: Danish, lower-case -> month number.
MONTH_NAMES: dict[str, int] = {word: month for month, words in _MONTH_WORDS.items() for word in words.split()}


def month_from_word(word: str) -> int | None:
    """Month number for a month name/abbreviation or Roman numeral I-XII (case-insensitive, a trailing dot
    ignored), else None."""
    word = word.strip().rstrip(".").lower()
    return MONTH_NAMES.get(word) or ROMAN_MONTHS.get(word)
