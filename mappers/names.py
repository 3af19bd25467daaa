"""A scientific name's authorship split from the name that carries it, with GBIF's name parser.

``Carabus auratus Linnaeus, 1758`` gives the authorship ``Linnaeus, 1758`` and the name ``Carabus auratus``;
``Aus bus (Smith, 1900)`` gives ``(Smith, 1900)``; ``Quercus robur L. subsp. pedunculiflora (K.Koch) Menitsky``
gives the authorship of the terminal rank, ``(K.Koch) Menitsky``, and the name ``Quercus robur subsp.
pedunculiflora``; ``Aus bus Miller ex Smith`` and ``Aus bus Smith & Jones, 1900`` keep their ``ex`` and ``&``.

The parser is GBIF's own (``gbif-name-parser`` on PyPI, imported as ``nameparser``: the Rust port of GBIF's Java
name-parser that GBIF's checklist and occurrence pipelines use, Apache-2.0), so a name is split here as GBIF would
split it: zoological and botanical authorship, basionym authors in parentheses, ``ex`` authors, years,
abbreviations (``L.``), sanctioning authors (``: Fr.``), rank markers, hybrids and cultivars.

A name the parser cannot read as a scientific name (a virus, a hybrid formula, an OTU or placeholder) or reads only
in part (it leaves text unparsed) is not split: the name is kept whole, no authorship is given, and the mapper flags
NAME_AUTHORSHIP_UNSPLIT. An informal name (``Allium sp. 1``, ``Rhizobium sp. RMCC TR1811``) has no authorship and
is kept whole, unflagged. A name without authorship (``Carabus auratus``) has none: nothing to flag.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import nameparser

if not hasattr(nameparser, "UnparsableNameError"):  # PyPI's other `nameparser` (human names) shadows GBIF's
    raise ImportError(f"the nameparser module at {nameparser.__file__} is not GBIF's scientific name parser: "
                      f"uninstall `nameparser` and install `gbif-name-parser`")


@dataclass(frozen=True)
class AuthorshipSplit:
    """`name` the name without its authorship (the input, trimmed, when not split), `authorship` the authorship or
    None, `split` False when the parser could not read the name (flag it)."""

    name: str | None
    authorship: str | None
    split: bool


@lru_cache(maxsize=65_536)
def split_authorship(text: str | None) -> AuthorshipSplit:
    """Split one scientific name string into name and authorship (see the module docstring); never raises."""
    if text is None or not text.strip():
        return AuthorshipSplit(None, None, True)
    text = " ".join(text.split())
    try:
        parsed = nameparser.parse(text)
    except nameparser.UnparsableNameError:
        return AuthorshipSplit(text, None, False)
    if isinstance(parsed, nameparser.Informal):
        return AuthorshipSplit(text, None, True)
    if parsed.state != "COMPLETE" or parsed.unparsed:
        return AuthorshipSplit(text, None, False)
    authorship = parsed.authorship_complete() or None
    if authorship is None:
        return AuthorshipSplit(text, None, True)
    # The parser's authorship must be what ends the text, word for word (its spacing and punctuation normalised,
    # as GBIF publishes it): anything else is the parser reading more into the text than it says.
    words = _WORD.findall(authorship)
    found = list(_WORD.finditer(text))
    if len(found) <= len(words) or [m.group() for m in found[-len(words):]] != words:
        return AuthorshipSplit(text, None, False)
    start = found[-len(words)].start()
    if start and text[start - 1] == "(":
        start -= 1
    prefix = text[:start].rstrip(" ,")
    canonical = parsed.canonical_name_without_authorship() or prefix
    # the text without its authorship, subgenus and all, when that is the parser's name; else the parser's name
    # (an authorship inside it: 'Quercus robur L. subsp. pedunculiflora' -> 'Quercus robur subsp. pedunculiflora')
    name = prefix if " ".join(_SUBGENUS.sub(" ", prefix).split()) == canonical else canonical
    return AuthorshipSplit(name, authorship, True)


_WORD = re.compile(r"[^\W_]+")
_SUBGENUS = re.compile(r"\([^()]*\)")
