"""Identifiers and licences as biodiversity data write them: one home for their recognition, used by the dataset
metadata (EML), the DiSSCo readiness checks and MIDS.

- ORCID iD: 16 digits in groups of four, the last a check character (ISO 7064 MOD 11-2, 'X' for 10), with or
  without ``https://orcid.org/`` (https://support.orcid.org/hc/en-us/articles/360006897674).
- ROR id: ``0`` + 6 Crockford base32 characters + 2 check digits, ISO 7064 MOD 97-10 of the number the 6
  characters encode (https://ror.readme.io/docs/identifier); the canonical form is ``https://ror.org/<id>``.
- DOI: ``10.<registrant>/<suffix>``, given bare, as ``doi:`` or as a ``doi.org`` URL; canonical
  ``https://doi.org/10.…``.
- Wikidata item IRI: ``https://www.wikidata.org/entity/Q…`` (or ``/wiki/Q…``).
- Creative Commons: CC0 1.0 and CC BY 4.0 as IRIs (http/https, www, ``legalcode``/``deed`` suffixes) or SPDX-like
  ids and names, the licences DiSSCo's translator accepts (``LicenseUtils.harmoniseLicense``). The dataset's own
  licence (one of the three GBIF accepts, in any common spelling) is read by
  :func:`mobilise.metadata.normalise_licence`.
"""
from __future__ import annotations

import re

# --- ORCID ------------------------------------------------------------------------------------------------------

_ORCID = re.compile(r"^(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$")


def orcid_checksum_ok(digits: str) -> bool:
    """The last of the 16 characters is the ISO 7064 MOD 11-2 check character of the first 15."""
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


def normalise_orcid(value: str) -> str:
    """'https://orcid.org/0000-0002-1825-0097' or '0000000218250097' -> '0000-0002-1825-0097'; ValueError when
    the form or the check character is wrong."""
    s = re.sub(r"^(https?://)?(www\.)?orcid\.org/", "", value.strip(), flags=re.IGNORECASE)
    m = _ORCID.match(s.upper())
    if not m:
        raise ValueError(
            f"ORCID iD {value!r} is not in the form 0000-0002-1825-0097 "
            "(16 digits in groups of four, the last may be X; the https://orcid.org/ prefix is optional)"
        )
    if not orcid_checksum_ok("".join(m.groups())):
        raise ValueError(f"ORCID iD {value!r} has a wrong check digit; please copy it again from orcid.org")
    return "-".join(m.groups())


# --- ROR --------------------------------------------------------------------------------------------------------

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ROR_ID = re.compile(r"^0[0-9a-hjkmnp-tv-z]{6}[0-9]{2}$")
_ROR_IRI = re.compile(r"^https://ror\.org/(0[0-9a-hjkmnp-tv-z]{6}[0-9]{2})$")


def ror_checksum_ok(ror_id: str) -> bool:
    """The last 2 digits are ISO 7064 MOD 97-10 of the number encoded by characters 2-7 (Crockford base32)."""
    number = 0
    for character in ror_id[1:7]:
        number = number * 32 + _CROCKFORD.index(character)
    return int(ror_id[7:9]) == 98 - (number * 100) % 97


def normalise_ror(value: str) -> str:
    """'https://ror.org/02mhbdp94', 'ror.org/02MHBDP94' or '02mhbdp94' -> '02mhbdp94'; ValueError when the form or
    the check digits are wrong."""
    s = re.sub(r"^(https?://)?(www\.)?ror\.org/", "", value.strip(), flags=re.IGNORECASE).lower()
    if not _ROR_ID.match(s) or not ror_checksum_ok(s):
        raise ValueError(
            f"ROR id {value!r} is not valid; write it as on ror.org, e.g. 02mhbdp94 or https://ror.org/02mhbdp94"
        )
    return s


def is_ror_iri(value: str | None) -> bool:
    """Exactly a canonical ROR IRI (https://ror.org/ + a lower-case id with valid check digits)."""
    match = _ROR_IRI.match(value) if value is not None else None
    return match is not None and ror_checksum_ok(match.group(1))


# --- DOI and Wikidata -------------------------------------------------------------------------------------------

_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_WIKIDATA_IRI = re.compile(r"^https://www\.wikidata\.org/(?:entity|wiki)/Q[1-9][0-9]*$")


def normalise_doi(value: str) -> str | None:
    """'10.15468/abcd12', 'doi:10.15468/abcd12' or a doi.org URL -> 'https://doi.org/10.15468/abcd12'; None when
    not a DOI."""
    doi = re.sub(r"^(doi:|https?://(dx\.)?doi\.org/)", "", value.strip(), flags=re.IGNORECASE)
    return f"https://doi.org/{doi}" if _DOI.match(doi) else None


def is_wikidata_iri(value: str | None) -> bool:
    return value is not None and _WIKIDATA_IRI.match(value) is not None


# --- Creative Commons -------------------------------------------------------------------------------------------
# The three licences GBIF accepts (CC0 1.0, CC BY 4.0, CC BY-NC 4.0), by SPDX id. DiSSCo accepts the first two.

CC0, CC_BY, CC_BY_NC = "CC0-1.0", "CC-BY-4.0", "CC-BY-NC-4.0"

_CC_IRI = re.compile(
    r"^https?://(?:www\.)?creativecommons\.org/(publicdomain/zero/1\.0|licenses/by/4\.0|licenses/by-nc/4\.0)"
    r"(?:/(?:legalcode(?:\.[a-z]{2,3}(?:-[a-z]+)?)?|deed(?:\.[a-z]{2,3}(?:-[a-z]+)?)?)?)?/?$")
_CC_IRI_PATHS = {"publicdomain/zero/1.0": CC0, "licenses/by/4.0": CC_BY, "licenses/by-nc/4.0": CC_BY_NC}
_CC_NAMES = {
    # SPDX ids and GBIF/IPT spellings, with spaces, hyphens, underscores and brackets removed, lower-cased
    **dict.fromkeys(("cc0", "cc01.0", "cc010", "cc01.0universal", "cc0universal",
                     "cc01.0universalpublicdomaindedication", "creativecommonszero1.0universal",
                     "creativecommonszerov1.0universal", "publicdomaincc01.0"), CC0),
    **dict.fromkeys(("ccby4.0", "ccby40", "ccby4.0international", "creativecommonsattribution4.0international",
                     "creativecommonsattribution4.0", "ccattribution4.0international",
                     "creativecommonsattributionccby4.0license"), CC_BY),
    **dict.fromkeys(("ccbync4.0", "ccbync40", "ccbync4.0international",
                     "creativecommonsattributionnoncommercial4.0international",
                     "creativecommonsattributionnoncommercial4.0",
                     "creativecommonsattributionnoncommercialccbync4.0license"), CC_BY_NC),
}
# Shorthands a person types in a config ('CC BY', 'cc-by-nc', 'by 4.0'): the text reduced by licence_key
_CC_SHORTHANDS = {
    CC0: {"0", "01.0", "010", "0.1.0", "01", "0v1.0", "0v1"},
    CC_BY: {"by", "by4.0", "by40", "by4", "by.4.0", "byv4.0"},
    CC_BY_NC: {"bync", "bync4.0", "bync40", "bync4", "bync.4.0", "byncv4.0"},
}


def licence_key(text: str) -> str:
    """A licence as typed, reduced to its kind and version: 'CC BY-NC 4.0' -> 'bync4.0', 'CC0' -> '0',
    'CC BY-SA 3.0' -> 'bysa3.0' (for shorthands and for saying why a licence is refused)."""
    s = text.strip().lower()
    s = re.sub(r"^https?://(www\.)?", "", s)
    s = s.replace("creativecommons.org", "cc")
    for word in ("legalcode", "deed.en", "deed", "licenses", "license", "licence", "international",
                 "creative commons", "creativecommons", "public domain dedication", "universal",
                 "publicdomain", "public domain", "dedication"):
        s = s.replace(word, " cc " if word.startswith("creative") else " ")
    s = s.replace("attribution", "by").replace("noncommercial", "nc").replace("non commercial", "nc")
    s = s.replace("non-commercial", "nc").replace("zero", "0")
    s = re.sub(r"[^a-z0-9.]", "", s)
    s = s.replace("ccby", "by").replace("cc0", "0")
    s = re.sub(r"^cc", "", s)
    return s.strip(".")


def creative_commons_licence(value: str | None, *, shorthand: bool = False) -> str | None:
    """The SPDX id ('CC0-1.0', 'CC-BY-4.0', 'CC-BY-NC-4.0') of one of the three licences GBIF accepts, written as
    its legal code or deed IRI (http or https), SPDX id or name; else None. With ``shorthand`` (a dataset config's
    licence, typed by a person) also 'CC BY', 'cc-by-nc', 'CC0' and the like. Version and kind are never guessed:
    CC BY 3.0 or CC BY-SA 4.0 give None."""
    if value is None:
        return None
    value = value.strip()
    match = _CC_IRI.match(value.lower())
    if match:
        return _CC_IRI_PATHS[match.group(1)]
    found = _CC_NAMES.get(re.sub(r"[\s_\-()]", "", value.lower()))
    if found is None and shorthand:
        key = licence_key(value)
        found = next((spdx for spdx, keys in _CC_SHORTHANDS.items() if key in keys), None)
    return found


def open_licence(value: str | None) -> str | None:
    """'CC0-1.0' or 'CC-BY-4.0' for CC0 1.0 / CC BY 4.0 written as an IRI or an SPDX-like id or name (the
    licences DiSSCo accepts), else None."""
    found = creative_commons_licence(value)
    return found if found in (CC0, CC_BY) else None
