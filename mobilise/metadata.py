"""Dataset metadata (the ``metadata:`` section of a Mobilise YAML config) for eml.xml.

The models are strict (unknown keys are rejected) and normalise what data managers commonly
write: licence spellings ("CC BY 4.0" -> ``CC-BY-4.0``), ORCID iDs and ROR ids given as URLs,
DOIs given as ``doi:``/URL, update frequencies and agent roles written as words ("as needed",
"point of contact"). Validators say which key is wrong and what to write instead;
:func:`load_metadata` and :meth:`DatasetMetadata.from_config` turn pydantic's errors into a
readable, line-per-problem :class:`MetadataError`.

Example (YAML)::

    metadata:
      title: Example Museum herbarium – vascular plants
      shortname: exm-herbarium
      abstract: |
        First paragraph.

        Second paragraph (a blank line separates paragraphs).
      language: en                 # ISO 639-1 or 639-2 code of the data; default en
      metadata_language: en        # default: same as language
      licence: CC BY 4.0           # CC0-1.0 | CC-BY-4.0 | CC-BY-NC-4.0 (spellings normalised)
      creators:
        - given_name: Ada
          surname: Lovelace
          organisation: Example Museum
          email: ada@example.org
          orcid: https://orcid.org/0000-0002-1825-0097
      contacts:
        - position: Collections data manager
          organisation: Example Museum
          ror: https://ror.org/02mhbdp94   # the organisation's ROR id (checked)
          email: data@example.org
          city: Exampleton
          country: GB
      metadata_providers: []       # default: the contacts
      associated_parties:
        - {surname: Curie, given_name: Marie, role: curator}
      publisher:
        name: Example Museum
        ror: https://ror.org/02mhbdp94   # or identifier + identifier_directory
      citation:
        text: Example Museum (2024). Herbarium. Version 1.0.
        identifier: https://doi.org/10.1234/abcd
      keywords:
        - keywords: [Specimen]
          thesaurus: "GBIF Dataset Type Vocabulary: http://rs.gbif.org/vocabulary/gbif/dataset_type_2015-07-10.xml"
        - keywords: [Herbarium, Plantae]   # thesaurus defaults to "N/A"
                                           # (a plain list of words is one set without thesaurus)
      update_frequency: monthly    # EML 2.2 MaintUpFreqType
      update_description: Republished after each digitisation batch.
      purpose: Make the herbarium discoverable.
      methods:
        steps: [Specimens databased in Specify.]
        quality_control: [Coordinates checked against country boundaries.]
        sampling:
          study_extent: All accessions.
          sampling_description: Not applicable.
      collections:
        - collection_name: Herbarium     # or collectionName
          collection_identifier: https://scientific-collections.gbif.org/collection/0000
          parent_collection_identifier: EXM
      specimen_preservation_methods: [driedAndPressed]   # rs.gbif.org preservation_method vocabulary
      curatorial_units:            # gbif/jgtiCuratorialUnit: a count (± uncertainty) or a range from-to
        - {unit_type: sheets, count: 120000, uncertainty: 5000}
      formation_period: Holocene   # gbif/formationPeriod; living_time_period: gbif/livingTimePeriod
      homepage: https://example.org/herbarium          # distribution, function information
      download_url: https://example.org/herbarium/dwca.zip   # distribution, function download
      logo_url: https://example.org/logo.png
      dataset_id: 1f6e4a9c-2a35-4b1e-9b0a-3b1c2d3e4f50   # UUID or DOI -> alternateIdentifier (and packageId)
      doi: 10.1234/abcd            # -> alternateIdentifier, and the citation's identifier when it names none
      alternate_identifiers: ["https://example.org/ipt/resource?r=exm-herbarium"]
      additional_info: Loans on request.   # also introduction, getting_started, acknowledgements (paragraphs)
      project:
        title: Herbarium digitisation
        identifier: HD-2024
        personnel:
          - {given_name: Ada, surname: Lovelace, orcid: 0000-0002-1825-0097, role: principalInvestigator}
        description: Digitise every sheet.
        funding: Example Foundation.
        awards:
          - {funder_name: Example Foundation, title: Sheets for all, funder_identifiers: ["https://ror.org/02mhbdp94"]}
        study_area_description: {value: Western Europe, name: geographic}
        design_description: Sheets in cabinet order.
      bibliography:                # gbif/bibliography: text, or text and identifier
        - Lovelace A. (2023). The herbarium.
      coverage:                    # how the coverage inferred from the published records is described
        max_taxa: 100              # the finest of family/order/class/phylum/kingdom that fits is listed
        geographic_description: Western Europe.    # written before the inferred summary
        taxonomic_description: Vascular plants.
"""

from __future__ import annotations

import difflib
import re
import uuid
from enum import Enum
from typing import Annotated, Any, Iterable, Mapping

import pycountry
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mobilise import config_errors
from mobilise.identifiers import licence_key, creative_commons_licence, normalise_doi, normalise_orcid, normalise_ror

__all__ = [
    "Licence",
    "LICENCES",
    "LicenceInfo",
    "normalise_licence",
    "UpdateFrequency",
    "normalise_update_frequency",
    "AGENT_ROLES",
    "PRESERVATION_METHODS",
    "Agent",
    "AssociatedParty",
    "Publisher",
    "Citation",
    "KeywordSet",
    "Sampling",
    "Methods",
    "CollectionInfo",
    "Award",
    "StudyAreaDescription",
    "Project",
    "CuratorialUnit",
    "CoverageSettings",
    "DatasetMetadata",
    "MetadataError",
    "load_metadata",
]


# ---------------------------------------------------------------------------------------------
# Licences (the three GBIF accepts)


class Licence(str, Enum):
    CC0 = "CC0-1.0"
    CC_BY = "CC-BY-4.0"
    CC_BY_NC = "CC-BY-NC-4.0"

    def __str__(self) -> str:
        return self.value

    @property
    def info(self) -> "LicenceInfo":
        return LICENCES[self]


class LicenceInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    spdx: str
    name: str  # full licence name (licensed/licenseName)
    title: str  # IPT's citetitle
    url: str  # legal code URL used in the ulink (as IPT writes it)
    canonical_url: str  # https legal code URL (licensed/url)
    before: str  # IPT para text before the ulink
    after: str  # IPT para text after the ulink


LICENCES: dict[Licence, LicenceInfo] = {
    Licence.CC0: LicenceInfo(
        spdx="CC0-1.0",
        name="Creative Commons Zero v1.0 Universal",
        title="Public Domain (CC0 1.0)",
        url="http://creativecommons.org/publicdomain/zero/1.0/legalcode",
        canonical_url="https://creativecommons.org/publicdomain/zero/1.0/legalcode",
        before=(
            "To the extent possible under law, the publisher has waived all rights to these "
            "data and has dedicated them to the "
        ),
        after=(
            ". Users may copy, modify, distribute and use the work, including for commercial "
            "purposes, without restriction."
        ),
    ),
    Licence.CC_BY: LicenceInfo(
        spdx="CC-BY-4.0",
        name="Creative Commons Attribution 4.0 International",
        title="Creative Commons Attribution (CC-BY) 4.0 License",
        url="http://creativecommons.org/licenses/by/4.0/legalcode",
        canonical_url="https://creativecommons.org/licenses/by/4.0/legalcode",
        before="This work is licensed under a ",
        after=".",
    ),
    Licence.CC_BY_NC: LicenceInfo(
        spdx="CC-BY-NC-4.0",
        name="Creative Commons Attribution Non Commercial 4.0 International",
        title="Creative Commons Attribution Non Commercial (CC-BY-NC) 4.0 License",
        url="http://creativecommons.org/licenses/by-nc/4.0/legalcode",
        canonical_url="https://creativecommons.org/licenses/by-nc/4.0/legalcode",
        before="This work is licensed under a ",
        after=".",
    ),
}

_LICENCE_HELP = (
    "GBIF accepts only CC0-1.0, CC-BY-4.0 or CC-BY-NC-4.0 "
    "(written e.g. 'CC0', 'CC BY 4.0', 'cc-by-nc')"
)


def normalise_licence(value: Any) -> Licence:
    """Normalise a licence spelling to one of the three GBIF licences, or raise ValueError."""
    if isinstance(value, Licence):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"licence is missing; {_LICENCE_HELP}")
    spdx = creative_commons_licence(value, shorthand=True)
    if spdx is not None:
        return Licence(spdx)
    key = licence_key(value)
    hint = ""
    if re.match(r"^(by|bync)\d", key) or re.match(r"^(by|bync)v?\d", key):
        hint = " Only version 4.0 of CC BY / CC BY-NC is accepted by GBIF."
    elif any(x in key for x in ("sa", "nd")):
        hint = " ShareAlike (SA) and NoDerivatives (ND) licences are not accepted by GBIF."
    raise ValueError(f"licence {value!r} is not recognised: {_LICENCE_HELP}.{hint}")


# ---------------------------------------------------------------------------------------------
# Controlled vocabularies (copied from rs.gbif.org vocabularies; see tests for the cross-check)


class UpdateFrequency(str, Enum):
    """EML 2.2 MaintUpFreqType (rs.gbif.org vocabulary/eml/update_frequency_2_2.xml)."""

    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    biannually = "biannually"
    annually = "annually"
    asNeeded = "asNeeded"
    continually = "continually"
    irregular = "irregular"
    notPlanned = "notPlanned"
    unknown = "unknown"
    otherMaintenancePeriod = "otherMaintenancePeriod"

    def __str__(self) -> str:
        return self.value


def _fold(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


_FREQ_ALIASES = {
    _fold(f.value): f for f in UpdateFrequency
} | {
    "unkown": UpdateFrequency.unknown,  # deprecated misspelling in the vocabulary
    "yearly": UpdateFrequency.annually,
    "semiannually": UpdateFrequency.biannually,
    "twiceayear": UpdateFrequency.biannually,
    "never": UpdateFrequency.notPlanned,
    "none": UpdateFrequency.notPlanned,
    "other": UpdateFrequency.otherMaintenancePeriod,
    "continuously": UpdateFrequency.continually,
}


def normalise_update_frequency(value: Any) -> UpdateFrequency:
    if isinstance(value, UpdateFrequency):
        return value
    if isinstance(value, str) and _fold(value) in _FREQ_ALIASES:
        return _FREQ_ALIASES[_fold(value)]
    allowed = ", ".join(f.value for f in UpdateFrequency)
    raise ValueError(f"update frequency {value!r} is not one of: {allowed}")


# rs.gbif.org vocabulary/gbif/agent_role.xml
AGENT_ROLES: tuple[str, ...] = (
    "author", "contentProvider", "custodianSteward", "distributor", "editor", "metadataProvider",
    "originator", "owner", "pointOfContact", "principalInvestigator", "processor", "publisher",
    "user", "programmer", "curator", "reviewer",
)
# rs.gbif.org vocabulary/gbif/preservation_method.xml
PRESERVATION_METHODS: tuple[str, ...] = (
    "noTreatment", "alcohol", "deepFrozen", "dried", "driedAndPressed", "formalin", "refrigerated",
    "freezeDried", "glycerin", "gumArabic", "microscopicPreparation", "mounted", "pinned", "other",
)


_PRESERVATION_ALIASES = {"ethanol": "alcohol", "etoh": "alcohol", "frozen": "deepFrozen", "pressed": "driedAndPressed"}


def _from_vocab(value: Any, vocab: Iterable[str], what: str, aliases: Mapping[str, str] | None = None) -> str:
    vocab = tuple(vocab)
    folded = {_fold(v): v for v in vocab} | dict(aliases or {})
    if isinstance(value, str) and _fold(value) in folded:
        return folded[_fold(value)]
    close = difflib.get_close_matches(str(value), vocab, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"{what} {value!r} is not one of: {', '.join(vocab)}.{hint}")


# ---------------------------------------------------------------------------------------------
# Small value validators

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_SHORTNAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def normalise_dataset_id(value: str) -> str:
    """A UUID (canonical lowercase) or a DOI (as https://doi.org/10.…)."""
    s = value.strip()
    try:
        return str(uuid.UUID(s))
    except ValueError:
        pass
    doi = normalise_doi(s)
    if doi is not None:
        return doi
    raise ValueError(
        f"dataset_id {value!r} is neither a UUID (e.g. 1f6e4a9c-…) nor a DOI "
        "(e.g. 10.15468/abcd12, doi:10.15468/abcd12 or https://doi.org/10.15468/abcd12)"
    )


def normalise_language(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("language is empty; use an ISO 639-1 or 639-2 code such as 'en' or 'eng'")
    s = value.strip()
    low = s.lower()
    if len(low) == 2 and pycountry.languages.get(alpha_2=low):
        return low
    if len(low) == 3 and (
        pycountry.languages.get(alpha_3=low) or pycountry.languages.get(bibliographic=low)
    ):
        return low
    try:  # a language name ("English", "Español" is not known, "Spanish" is)
        lang = pycountry.languages.lookup(s)
    except LookupError:
        lang = None
    if lang is not None and getattr(lang, "alpha_2", None):
        return lang.alpha_2
    if lang is not None:
        return lang.alpha_3
    raise ValueError(
        f"language {value!r} is not an ISO 639-1 or 639-2 code; use e.g. 'en', 'de', 'fr' or 'eng'"
    )


def _paragraphs(value: Any) -> list[str]:
    """A text given as one string (paragraphs separated by blank lines) or a list of paragraphs."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValueError("expected text, or a list of paragraphs")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"expected text but got {type(item).__name__}: {item!r}")
        item = item.replace("\r\n", "\n").replace("\r", "\n")
        for para in re.split(r"\n[ \t]*\n", item):
            para = " ".join(line.strip() for line in para.strip().split("\n"))
            if para:
                out.append(para)
    return out


def _str_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, Mapping) else value


def _url(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or not _URL_RE.match(value.strip()):
        raise ValueError(f"{value!r} is not a web address; it must start with http:// or https://")
    return value.strip()


Paragraphs = Annotated[list[str], BeforeValidator(_paragraphs)]
Url = Annotated[str, BeforeValidator(_url)]
StrList = Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_str_list)]


# ---------------------------------------------------------------------------------------------
# Models


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        populate_by_name=True,
        validate_default=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_missing(cls, data: Any) -> Any:
        # A key left empty in YAML ("email:" or "email: ''") means "not given".
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if not (v is None or (isinstance(v, str) and not v.strip()))}
        return data


class Agent(_Model):
    """A person, an organisation or a position (EML agentType)."""

    given_name: str | None = Field(None, validation_alias=AliasChoices("given_name", "givenName", "first_name"))
    surname: str | None = Field(None, validation_alias=AliasChoices("surname", "surName", "last_name", "family_name"))
    organisation: str | None = Field(None, validation_alias=AliasChoices("organisation", "organization", "organizationName"))
    position: str | None = Field(None, validation_alias=AliasChoices("position", "positionName"))
    email: str | None = None
    phone: str | None = None
    url: Url | None = None
    orcid: str | None = None
    ror: str | None = None  # the organisation's ROR id (needs `organisation`)
    delivery_point: str | None = Field(None, validation_alias=AliasChoices("delivery_point", "address", "street"))
    city: str | None = None
    administrative_area: str | None = Field(None, validation_alias=AliasChoices("administrative_area", "state", "province", "region"))
    postal_code: str | None = Field(None, validation_alias=AliasChoices("postal_code", "postcode", "zip"))
    country: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL_RE.match(v):
            raise ValueError(f"{v!r} is not an e-mail address (name@example.org)")
        return v

    @field_validator("orcid")
    @classmethod
    def _orcid(cls, v: str | None) -> str | None:
        return None if v is None else normalise_orcid(v)

    @field_validator("ror")
    @classmethod
    def _ror(cls, v: str | None) -> str | None:
        return None if v is None else normalise_ror(v)

    @model_validator(mode="after")
    def _has_name(self) -> "Agent":
        if self.ror and not self.organisation:
            raise ValueError(f"ror {self.ror!r} identifies an organisation: give its name in 'organisation' too")
        if self.given_name and not self.surname:
            raise ValueError(
                f"a person needs a surname (EML requires one); given_name {self.given_name!r} has no surname "
                "— put a single-word name in 'surname'"
            )
        if not (self.surname or self.organisation or self.position):
            raise ValueError("each person/organisation needs at least a surname, an organisation or a position")
        return self

    @property
    def display_name(self) -> str:
        person = " ".join(p for p in (self.given_name, self.surname) if p)
        return person or self.organisation or self.position or ""


class AssociatedParty(Agent):
    role: str

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, v: Any) -> str:
        return _from_vocab(v, AGENT_ROLES, "role")


class Publisher(_Model):
    """The publishing organisation (EML dataset/publisher)."""

    name: str = Field(validation_alias=AliasChoices("name", "organisation", "organization"))
    ror: str | None = None
    identifier: str | None = None
    identifier_directory: Url | None = None
    url: Url | None = None
    email: str | None = None

    @field_validator("ror")
    @classmethod
    def _ror(cls, v: str | None) -> str | None:
        return None if v is None else normalise_ror(v)

    @model_validator(mode="after")
    def _directory(self) -> "Publisher":
        if self.identifier and not self.identifier_directory:
            m = re.match(r"^(https?://[^/]+/)", self.identifier)
            if not m:
                raise ValueError(
                    "publisher.identifier needs identifier_directory (the registry it comes from, "
                    "e.g. https://www.wikidata.org/wiki/), or give the identifier as a full URL"
                )
            self.identifier_directory = m.group(1)
        return self


class Citation(_Model):
    text: str = Field(min_length=1)
    identifier: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data


class KeywordSet(_Model):
    keywords: StrList = Field(min_length=1)
    thesaurus: str = "N/A"


class Sampling(_Model):
    study_extent: str
    sampling_description: str


class Methods(_Model):
    steps: StrList = Field(min_length=1, validation_alias=AliasChoices("steps", "methodSteps", "method_steps"))
    quality_control: StrList = Field(default_factory=list, validation_alias=AliasChoices("quality_control", "qualityControl"))
    sampling: Sampling | None = None


class CollectionInfo(_Model):
    """Natural history collection entry (gbif/collection in EML additionalMetadata)."""

    collection_name: str = Field(validation_alias=AliasChoices("collection_name", "collectionName", "name"))
    collection_identifier: str | None = Field(
        None, validation_alias=AliasChoices("collection_identifier", "collectionIdentifier", "identifier")
    )
    parent_collection_identifier: str | None = Field(
        None,
        validation_alias=AliasChoices("parent_collection_identifier", "parentCollectionIdentifier", "parent_identifier"),
    )


class Award(_Model):
    """A grant that funded the project (EML project/award)."""

    funder_name: str = Field(validation_alias=AliasChoices("funder_name", "funderName", "funder"))
    title: str
    funder_identifiers: StrList = Field(
        default_factory=list, validation_alias=AliasChoices("funder_identifiers", "funderIdentifier", "funder_identifier"))
    award_number: str | None = Field(None, validation_alias=AliasChoices("award_number", "awardNumber", "number"))
    award_url: Url | None = Field(None, validation_alias=AliasChoices("award_url", "awardUrl", "url"))

    @field_validator("funder_identifiers")
    @classmethod
    def _funders(cls, v: list[str]) -> list[str]:
        # A ROR id or a DOI (Crossref Funder Registry) is checked and written as its canonical IRI.
        out = []
        for identifier in v:
            if re.search(r"ror\.org/", identifier, re.IGNORECASE):
                out.append(f"https://ror.org/{normalise_ror(identifier)}")
            else:
                out.append(normalise_doi(identifier) or identifier)
        return out


class StudyAreaDescription(_Model):
    """EML project/studyAreaDescription/descriptor."""

    value: str = Field(validation_alias=AliasChoices("value", "descriptorValue", "description"))
    name: str = "generic"  # thematic | geographic | generic
    citable_classification_system: bool | None = Field(
        None, validation_alias=AliasChoices("citable_classification_system", "citableClassificationSystem"))

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        return _from_vocab(v, ("thematic", "geographic", "generic"), "study area descriptor name")


class Project(_Model):
    """The project the dataset comes from (EML dataset/project)."""

    title: str = Field(min_length=1)
    identifier: str | None = Field(None, validation_alias=AliasChoices("identifier", "id"))
    personnel: Annotated[list[AssociatedParty], BeforeValidator(_one_or_many)] = Field(min_length=1)
    description: Paragraphs = Field(default_factory=list, validation_alias=AliasChoices("description", "abstract"))
    funding: str | None = None
    awards: Annotated[list[Award], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    study_area_description: StudyAreaDescription | None = Field(
        None, validation_alias=AliasChoices("study_area_description", "studyAreaDescription"))
    design_description: str | None = Field(
        None, validation_alias=AliasChoices("design_description", "designDescription"))


class CuratorialUnit(_Model):
    """A count of the collection's curatorial units (gbif/jgtiCuratorialUnit): ``count`` give or take
    ``uncertainty`` units, or a range ``from``-``to``; ``unit_type`` what is counted (specimens, jars, sheets)."""

    unit_type: str = Field(validation_alias=AliasChoices("unit_type", "type", "jgtiUnitType"))
    count: int | None = Field(None, ge=0, validation_alias=AliasChoices("count", "units", "jgtiUnits"))
    uncertainty: int = Field(0, ge=0, validation_alias=AliasChoices("uncertainty", "uncertaintyMeasure"))
    range_from: int | None = Field(None, ge=0, validation_alias=AliasChoices("range_from", "from", "beginRange"))
    range_to: int | None = Field(None, ge=0, validation_alias=AliasChoices("range_to", "to", "endRange"))

    @model_validator(mode="after")
    def _count_or_range(self) -> "CuratorialUnit":
        has_range = self.range_from is not None or self.range_to is not None
        if (self.count is None) == (not has_range):
            raise ValueError("a curatorial unit needs either 'count' (with an optional 'uncertainty') "
                             "or a range 'from' and 'to', not both")
        if has_range and (self.range_from is None or self.range_to is None):
            raise ValueError("a range of curatorial units needs both 'from' and 'to'")
        if has_range and self.range_from > self.range_to:
            raise ValueError(f"range 'from' ({self.range_from}) is above 'to' ({self.range_to})")
        return self


DEFAULT_MAX_TAXA = 100


class CoverageSettings(_Model):
    """How the coverage inferred from the published records is described (``metadata.coverage``).

    ``max_taxa``: at most this many taxa in the taxonomic coverage; the finest rank of family, order, class,
    phylum and kingdom whose distinct names fit is listed. ``geographic_description`` and
    ``taxonomic_description`` come first in their elements, before the summary Mobilise writes."""

    max_taxa: int = Field(DEFAULT_MAX_TAXA, ge=1, le=10_000)
    geographic_description: str | None = None
    taxonomic_description: str | None = None


def _keyword_sets(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, (str, Mapping)):
        value = [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [{"keywords": value}]
    return value


class DatasetMetadata(_Model):
    """Everything eml.xml needs that a data manager writes by hand."""

    title: str = Field(min_length=1)
    shortname: str | None = Field(None, validation_alias=AliasChoices("shortname", "short_name", "shortName"))
    abstract: Paragraphs = Field(validation_alias=AliasChoices("abstract", "description"))
    language: str = "en"
    metadata_language: str | None = None
    creators: Annotated[list[Agent], BeforeValidator(_one_or_many)] = Field(min_length=1)
    contacts: Annotated[list[Agent], BeforeValidator(_one_or_many)] = Field(min_length=1)
    metadata_providers: Annotated[list[Agent], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    associated_parties: Annotated[list[AssociatedParty], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    publisher: Publisher | None = None
    licence: Licence = Field(validation_alias=AliasChoices("licence", "license"))
    citation: Citation | None = None
    keywords: Annotated[list[KeywordSet], BeforeValidator(_keyword_sets)] = Field(default_factory=list)
    update_frequency: UpdateFrequency | None = None
    update_description: str | None = None
    purpose: Paragraphs = Field(default_factory=list)
    methods: Methods | None = None
    collections: Annotated[list[CollectionInfo], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    specimen_preservation_methods: StrList = Field(default_factory=list)
    homepage: Url | None = None
    download_url: Url | None = None  # where the current archive is fetched (distribution, function download)
    logo_url: Url | None = None
    dataset_id: str | None = None
    doi: str | None = None  # the dataset's DOI: an alternateIdentifier and the citation's identifier
    alternate_identifiers: StrList = Field(
        default_factory=list, validation_alias=AliasChoices("alternate_identifiers", "alternateIdentifier"))
    additional_info: str | None = Field(None, validation_alias=AliasChoices("additional_info", "additionalInfo"))
    introduction: Paragraphs = Field(default_factory=list)
    getting_started: Paragraphs = Field(default_factory=list, validation_alias=AliasChoices("getting_started", "gettingStarted"))
    acknowledgements: Paragraphs = Field(default_factory=list)
    project: Project | None = None
    bibliography: Annotated[list[Citation], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    curatorial_units: Annotated[list[CuratorialUnit], BeforeValidator(_one_or_many)] = Field(
        default_factory=list, validation_alias=AliasChoices("curatorial_units", "jgtiCuratorialUnit"))
    formation_period: str | None = Field(None, validation_alias=AliasChoices("formation_period", "formationPeriod"))
    living_time_period: str | None = Field(None, validation_alias=AliasChoices("living_time_period", "livingTimePeriod"))
    coverage: CoverageSettings = Field(default_factory=CoverageSettings)

    @field_validator("shortname")
    @classmethod
    def _shortname(cls, v: str | None) -> str | None:
        if v is not None and not _SHORTNAME_RE.match(v):
            bad = sorted({c for c in v if not re.match(r"[A-Za-z0-9_-]", c)})
            raise ValueError(
                f"shortname {v!r} may contain only letters, digits, '-' and '_' "
                f"(not {' '.join(repr(c) for c in bad)}); e.g. {re.sub(r'[^A-Za-z0-9_-]+', '-', v).strip('-')!r}"
            )
        return v

    @field_validator("abstract")
    @classmethod
    def _abstract(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("the abstract is empty; describe the dataset in one or more paragraphs")
        return v

    @field_validator("language", "metadata_language", mode="before")
    @classmethod
    def _lang(cls, v: Any) -> Any:
        return None if v is None else normalise_language(v)

    @field_validator("licence", mode="before")
    @classmethod
    def _licence(cls, v: Any) -> Licence:
        return normalise_licence(v)

    @field_validator("update_frequency", mode="before")
    @classmethod
    def _freq(cls, v: Any) -> Any:
        return None if v is None else normalise_update_frequency(v)

    @field_validator("specimen_preservation_methods")
    @classmethod
    def _preservation(cls, v: list[str]) -> list[str]:
        return [_from_vocab(x, PRESERVATION_METHODS, "specimen preservation method", _PRESERVATION_ALIASES) for x in v]

    @field_validator("dataset_id", mode="before")
    @classmethod
    def _dataset_id(cls, v: Any) -> Any:
        if isinstance(v, uuid.UUID):
            return str(v)
        return None if v is None else normalise_dataset_id(str(v))

    @field_validator("doi", mode="before")
    @classmethod
    def _doi(cls, v: Any) -> Any:
        if v is None:
            return None
        doi = normalise_doi(str(v))
        if doi is None:
            raise ValueError(f"doi {v!r} is not a DOI (e.g. 10.15468/abcd12, doi:10.15468/abcd12 or "
                             "https://doi.org/10.15468/abcd12)")
        return doi

    @model_validator(mode="after")
    def _defaults(self) -> "DatasetMetadata":
        if self.metadata_language is None:
            self.metadata_language = self.language
        if not self.metadata_providers:
            self.metadata_providers = list(self.contacts)
        if self.citation is not None and self.citation.identifier is None and self.doi:
            self.citation.identifier = self.doi
        return self

    @property
    def alternate_ids(self) -> list[str]:
        """The dataset's identifiers other than the packageId, each once: its DOI, dataset_id, the others."""
        return list(dict.fromkeys(i for i in (self.doi, self.dataset_id, *self.alternate_identifiers) if i))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "DatasetMetadata":
        """Validate the ``metadata:`` section of a whole config mapping (raises MetadataError)."""
        if not isinstance(config, Mapping) or "metadata" not in config:
            raise MetadataError("the config has no 'metadata:' section (title, abstract, licence, creators, contacts …)")
        return load_metadata(config["metadata"], root="metadata")


# ---------------------------------------------------------------------------------------------
# Readable errors


class MetadataError(ValueError):
    """Invalid dataset metadata; ``str()`` lists one problem per line."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


def load_metadata(data: Any, *, root: str = "metadata") -> DatasetMetadata:
    """Validate a mapping (the content of ``metadata:``), raising :class:`MetadataError`."""
    if not isinstance(data, Mapping):
        raise MetadataError(f"'{root}' must be a mapping of keys (title, abstract, licence, …), not {type(data).__name__}")
    try:
        return DatasetMetadata.model_validate(data)
    except ValidationError as exc:
        problems = [f"{p.where(root)}: {p.message}" for p in config_errors.problems(exc, DatasetMetadata)]
        raise MetadataError(
            f"the dataset metadata has {len(problems)} problem{'s' if len(problems) != 1 else ''}:\n"
            + "\n".join(f"  - {p}" for p in problems),
            problems,
        ) from None
