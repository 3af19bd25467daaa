"""Country names as collection databases write them resolve to exactly one ISO 3166-1 code, or are flagged.

The names below are written as they appear in collection databases and in the lists they are copied from: ISO
3166 and UN M49 names, World Bank names (inverted, abbreviated), parenthesised forms, abbreviations, historic
names, Dutch, French and German names. A name of several countries, an unknown name or a misspelling is flagged
COUNTRY_INVALID: never the nearest country.
"""
from __future__ import annotations

import uuid
from datetime import date

import pyarrow as pa
import pytest

from mobilise.flags import severities
from mobilise.mappers.countries import country_code, country_key, country_table, interpret_country_code
from mobilise.mappers.interpreters import interpreters
from mobilise.mappers.mapping import MappingPlan, map_batch
from mobilise.settings import TermSource, ValidationConfig, BdqConfig
from mobilise.validators.quality import assess
from mobilise.validators.registry import CheckContext

NAMES = {
    # ISO 3166-1 short names (pycountry), as written
    "Belgium": "BE", "Netherlands": "NL", "France": "FR", "Germany": "DE", "Luxembourg": "LU",
    "United Kingdom": "GB", "Ireland": "IE", "Spain": "ES", "Portugal": "PT", "Italy": "IT", "Greece": "GR",
    "Switzerland": "CH", "Austria": "AT", "Denmark": "DK", "Sweden": "SE", "Norway": "NO", "Finland": "FI",
    "Iceland": "IS", "Poland": "PL", "Czechia": "CZ", "Slovakia": "SK", "Hungary": "HU", "Romania": "RO",
    "Bulgaria": "BG", "Serbia": "RS", "Montenegro": "ME", "Croatia": "HR", "Slovenia": "SI",
    "Bosnia and Herzegovina": "BA", "North Macedonia": "MK", "Albania": "AL", "Türkiye": "TR", "Georgia": "GE",
    "Armenia": "AM", "Azerbaijan": "AZ", "Russian Federation": "RU", "Ukraine": "UA", "Belarus": "BY",
    "Congo, The Democratic Republic of the": "CD", "Congo, the Democratic Republic of the": "CD",
    "Rwanda": "RW", "Burundi": "BI", "Uganda": "UG", "Kenya": "KE", "Tanzania, United Republic of": "TZ",
    "Ethiopia": "ET", "Somalia": "SO", "Sudan": "SD", "South Sudan": "SS", "Chad": "TD", "Niger": "NE",
    "Nigeria": "NG", "Cameroon": "CM", "Gabon": "GA", "Equatorial Guinea": "GQ", "Guinea": "GN",
    "Guinea-Bissau": "GW", "Central African Republic": "CF", "Angola": "AO", "Zambia": "ZM", "Zimbabwe": "ZW",
    "Malawi": "MW", "Mozambique": "MZ", "Madagascar": "MG", "South Africa": "ZA", "Namibia": "NA",
    "Botswana": "BW", "Lesotho": "LS", "Eswatini": "SZ", "Côte d'Ivoire": "CI", "Ghana": "GH", "Benin": "BJ",
    "Burkina Faso": "BF", "Mali": "ML", "Senegal": "SN", "Morocco": "MA", "Algeria": "DZ", "Tunisia": "TN",
    "Egypt": "EG", "Libya": "LY", "Cabo Verde": "CV", "Réunion": "RE", "Mayotte": "YT",
    "Iran, Islamic Republic of": "IR", "Korea, Republic of": "KR", "Korea, Democratic People's Republic of": "KP",
    "Viet Nam": "VN", "Lao People's Democratic Republic": "LA", "Syrian Arab Republic": "SY",
    "Taiwan, Province of China": "TW", "Palestine, State of": "PS", "Micronesia, Federated States of": "FM",
    "Moldova, Republic of": "MD", "Bolivia, Plurinational State of": "BO", "Venezuela, Bolivarian Republic of": "VE",
    "Virgin Islands, U.S.": "VI", "Virgin Islands, British": "VG", "Brunei Darussalam": "BN", "Holy See": "VA",
    "Sint Maarten (Dutch part)": "SX", "Saint Martin (French part)": "MF", "Curaçao": "CW", "Aruba": "AW",
    "Bonaire, Sint Eustatius and Saba": "BQ", "Falkland Islands (Malvinas)": "FK", "French Guiana": "GF",
    "Suriname": "SR", "Guyana": "GY", "Brazil": "BR", "Argentina": "AR", "Chile": "CL", "Peru": "PE",
    "Ecuador": "EC", "Colombia": "CO", "Mexico": "MX", "United States": "US", "Canada": "CA", "China": "CN",
    "Japan": "JP", "India": "IN", "Indonesia": "ID", "Malaysia": "MY", "Philippines": "PH",
    "Papua New Guinea": "PG", "Australia": "AU", "New Zealand": "NZ", "Åland Islands": "AX", "Timor-Leste": "TL",
    # ISO official names and UN M49 names
    "Republic of Korea": "KR", "Democratic People's Republic of Korea": "KP", "Democratic Republic of the Congo": "CD",
    "Republic of the Congo": "CG", "United Republic of Tanzania": "TZ", "Plurinational State of Bolivia": "BO",
    "Bolivia (Plurinational State of)": "BO", "Iran (Islamic Republic of)": "IR",
    "Venezuela (Bolivarian Republic of)": "VE", "Micronesia (Federated States of)": "FM",
    "Republic of Moldova": "MD", "State of Palestine": "PS", "United States of America": "US",
    "United Kingdom of Great Britain and Northern Ireland": "GB", "United States Virgin Islands": "VI",
    "British Virgin Islands": "VG", "Kingdom of the Netherlands": "NL", "Kingdom of Belgium": "BE",
    "French Republic": "FR", "Federal Republic of Germany": "DE", "Republic of Côte d'Ivoire": "CI",
    # inverted and parenthesised forms (World Bank and others)
    "Congo (Democratic Republic)": "CD", "Congo, Dem. Rep.": "CD", "Congo (Dem. Rep.)": "CD",
    "Congo, Democratic Republic of the": "CD", "Congo (Kinshasa)": "CD", "Congo, Rep.": "CG",
    "Congo (Republic)": "CG", "Congo (Brazzaville)": "CG", "Korea, Rep.": "KR", "Korea (South)": "KR",
    "Korea, Dem. People's Rep.": "KP", "Korea (North)": "KP", "Korea (Republic of)": "KR",
    "Virgin Islands (U.S.)": "VI", "Virgin Islands (British)": "VG", "Iran, Islamic Rep.": "IR",
    "Egypt, Arab Rep.": "EG", "Yemen, Rep.": "YE", "Gambia, The": "GM", "Bahamas, The": "BS",
    "Venezuela, RB": "VE", "Micronesia, Fed. Sts.": "FM", "Hong Kong SAR, China": "HK",
    "Netherlands (Kingdom of the)": "NL", "Tanzania (United Republic of)": "TZ",
    # short and common names, abbreviations, other spellings
    "U.S.A.": "US", "USA": "US", "U.S.": "US", "UK": "GB", "U.K.": "GB", "Great Britain": "GB", "England": "GB",
    "Scotland": "GB", "UAE": "AE", "DRC": "CD", "D.R. Congo": "CD", "DR Congo": "CD", "RDC": "CD",
    "Congo-Kinshasa": "CD", "Congo-Brazzaville": "CG", "South Korea": "KR", "North Korea": "KP", "Russia": "RU",
    "Vietnam": "VN", "Laos": "LA", "Lao PDR": "LA", "Syria": "SY", "Iran": "IR", "Bolivia": "BO",
    "Venezuela": "VE", "Tanzania": "TZ", "Taiwan": "TW", "Moldova": "MD", "Czech Republic": "CZ",
    "Slovak Republic": "SK", "Kyrgyz Republic": "KG", "Ivory Coast": "CI", "Cote d'Ivoire": "CI",
    "Côte d’Ivoire": "CI", "COTE D'IVOIRE": "CI", "Cape Verde": "CV", "Turkey": "TR", "Holland": "NL",
    "The Netherlands": "NL", "the Gambia": "GM", "East Timor": "TL", "Vatican": "VA", "Brunei": "BN",
    "St. Lucia": "LC", "Saint Lucia": "LC", "St. Kitts and Nevis": "KN", "Falkland Islands": "FK",
    "Swaziland": "SZ", "Macedonia": "MK", "Surinam": "SR", "Kosovo": "XK", "  belgium ": "BE", "BELGIUM": "BE",
    # ISO codes
    "BE": "BE", "be": "BE", "BEL": "BE", "CD": "CD", "COD": "CD", "CG": "CG", "COG": "CG", "NA": "NA", "NAM": "NA",
    "GB": "GB", "GBR": "GB", "XK": "XK",
    # historic names with a single present-day successor
    "Zaire": "CD", "Zaïre": "CD", "Belgian Congo": "CD", "Congo Free State": "CD", "Belgisch Congo": "CD",
    "Congo belge": "CD", "Moyen-Congo": "CG", "French Congo": "CG", "Ruanda": "RW", "Urundi": "BI",
    "Tanganyika": "TZ", "Zanzibar": "TZ", "Dahomey": "BJ", "Upper Volta": "BF", "Haute-Volta": "BF",
    "Gold Coast": "GH", "Abyssinia": "ET", "Bechuanaland": "BW", "Basutoland": "LS", "Nyasaland": "MW",
    "Northern Rhodesia": "ZM", "Southern Rhodesia": "ZW", "South West Africa": "NA", "Spanish Sahara": "EH",
    "French Sudan": "ML", "Portuguese Guinea": "GW", "Portuguese East Africa": "MZ", "British Honduras": "BZ",
    "British Guiana": "GY", "Dutch Guiana": "SR", "Dutch East Indies": "ID", "Nederlandsch-Indië": "ID",
    "Ceylon": "LK", "Burma": "MM", "Siam": "TH", "Persia": "IR", "Formosa": "TW", "Kampuchea": "KH",
    "East Pakistan": "BD", "East Germany": "DE", "DDR": "DE", "West Germany": "DE", "Byelorussia": "BY",
    "Libyan Arab Jamahiriya": "LY",
    # Dutch names
    "België": "BE", "Belgie": "BE", "Frankrijk": "FR", "Duitsland": "DE", "Verenigd Koninkrijk": "GB",
    "Verenigde Staten": "US", "Zwitserland": "CH", "Oostenrijk": "AT", "Spanje": "ES", "Italië": "IT",
    "Griekenland": "GR", "Zweden": "SE", "Noorwegen": "NO", "Denemarken": "DK", "Rusland": "RU",
    "Hongarije": "HU", "Tsjechië": "CZ", "Zuid-Afrika": "ZA", "Kameroen": "CM", "Marokko": "MA",
    "Ivoorkust": "CI", "Democratische Republiek Congo": "CD", "Congo, Democratische Republiek": "CD",
    "Republiek Congo": "CG", "Indonesië": "ID", "Brazilië": "BR", "Nieuw-Zeeland": "NZ", "Zuid-Korea": "KR",
    "Wit-Rusland": "BY", "Verenigde Arabische Emiraten": "AE", "Oeganda": "UG", "Ierland": "IE",
    # French names
    "Belgique": "BE", "Pays-Bas": "NL", "Allemagne": "DE", "Royaume-Uni": "GB", "États-Unis": "US",
    "Etats-Unis d'Amérique": "US", "Suisse": "CH", "Autriche": "AT", "Espagne": "ES", "Grèce": "GR",
    "Suède": "SE", "Norvège": "NO", "Danemark": "DK", "Russie": "RU", "Hongrie": "HU", "Tchéquie": "CZ",
    "Afrique du Sud": "ZA", "Cameroun": "CM", "Maroc": "MA", "Algérie": "DZ", "Éthiopie": "ET",
    "République démocratique du Congo": "CD", "République du Congo": "CG", "Congo belge ": "CD",
    "Guyane française": "GF", "Nouvelle-Zélande": "NZ", "Corée du Sud": "KR", "Corée du Nord": "KP",
    "Émirats arabes unis": "AE", "Guinée équatoriale": "GQ", "Ouganda": "UG", "Brésil": "BR",
    # German names
    "Belgien": "BE", "Niederlande": "NL", "Frankreich": "FR", "Deutschland": "DE", "Vereinigtes Königreich": "GB",
    "Vereinigte Staaten": "US", "Schweiz": "CH", "Österreich": "AT", "Spanien": "ES", "Griechenland": "GR",
    "Schweden": "SE", "Norwegen": "NO", "Russland": "RU", "Ungarn": "HU", "Tschechien": "CZ", "Südafrika": "ZA",
    "Kamerun": "CM", "Ägypten": "EG", "Äthiopien": "ET", "Demokratische Republik Kongo": "CD",
    "Republik Kongo": "CG", "Elfenbeinküste": "CI", "Brasilien": "BR", "Neuseeland": "NZ", "Südkorea": "KR",
    "Nordkorea": "KP", "Weißrussland": "BY", "Vereinigte Arabische Emirate": "AE", "Island": "IS",
    "Belgisch-Kongo": "CD",
}

# Names of several countries, unknown names and misspellings: flagged, never the nearest country.
FLAGGED = [
    "Congo", "Kongo", "the Congo", "Korea", "Virgin Islands", "America", "Yugoslavia", "Joegoslavië",
    "Yougoslavie", "Jugoslawien", "Serbia and Montenegro", "USSR", "U.S.S.R.", "Soviet Union", "Sovjet-Unie",
    "UdSSR", "URSS", "Czechoslovakia", "Tsjecho-Slowakije", "Tchécoslovaquie", "Tschechoslowakei",
    "Netherlands Antilles", "Nederlandse Antillen", "Ruanda-Urundi", "Rhodesia", "Austria-Hungary", "Prussia",
    "Ottoman Empire", "French West Africa", "Afrique équatoriale française", "German East Africa", "Indochine",
    "Anglo-Egyptian Sudan", "Borneo", "New Guinea", "Hispaniola", "Timor", "Guiana",
    "Atlantis", "Belgum", "Frnace", "Germny", "Congo (Democratic Repub", "Congo Democratic", "Belgium/France",
    "Belgium; Netherlands", "Europe", "Africa", "XX", "ZZZ", "12", "Congo DR?",
]

# Written for 'not known': no value, no flag.
NO_VALUE = [None, "", "  ", "?", "-", "--", "unknown", "Unknown", "onbekend", "inconnu", "unbekannt", "N/A", "n.a."]


def test_at_least_two_hundred_names():
    assert len(NAMES) >= 200 and len(FLAGGED) >= 40


@pytest.mark.parametrize("name, code", NAMES.items())
def test_country_name_resolves_to_its_code(name, code):
    assert interpret_country_code(name) == (code, ())
    assert country_code(name) == code


@pytest.mark.parametrize("name", FLAGGED)
def test_ambiguous_unknown_and_misspelt_names_are_flagged(name):
    assert interpret_country_code(name) == (None, ("COUNTRY_INVALID",))


@pytest.mark.parametrize("name", NO_VALUE)
def test_unknown_markers_are_no_value(name):
    assert interpret_country_code(name) == (None, ())


def test_only_case_accents_punctuation_and_whitespace_are_normalised():
    assert country_key(" Côte d’Ivoire ") == country_key("COTE D'IVOIRE") == "cotedivoire"
    assert country_key("Congo, Dem. Rep.") == "congodemrep"
    table = country_table()
    # every key is its own normal form, and each present-day ISO code is reachable by its alpha-2
    assert all(country_key(key) == key for key in table)
    assert {table[c.lower()] for c in ("BE", "CD", "CG", "KR", "KP", "VI", "VG")} == {
        "BE", "CD", "CG", "KR", "KP", "VI", "VG"}


def _plan() -> MappingPlan:
    sources = {"occurrenceID": TermSource(column="id"), "country": TermSource(column="country"),
               "countryCode": TermSource(column="country")}
    return MappingPlan(sources, {"countryCode": interpreters()["countryCode"]}, {}, uuid.UUID(int=1))


def test_congo_democratic_republic_is_published_as_cd_through_map_batch_and_assess():
    names = ["Congo (Democratic Republic)", "Congo, Dem. Rep.", "Congo", "Korea, Republic of",
             "Virgin Islands (U.S.)", "U.S.A.", "Yugoslavia", "onbekend"]
    batch = pa.RecordBatch.from_pydict({"id": [f"urn:x:{i}" for i in range(len(names))], "country": names})
    table, mapping_issues = map_batch(batch, _plan())
    assert table["countryCode"].to_pylist() == ["CD", "CD", None, "KR", "VI", "US", None, None]
    assert {(r["row"], r["flag"]) for r in mapping_issues.to_pylist()} == {(2, "COUNTRY_INVALID"),
                                                                          (6, "COUNTRY_INVALID")}
    validation = ValidationConfig(bdq=BdqConfig(enabled=False), dissco="ignore")
    context = CheckContext(today=date(2026, 6, 1), mapping_issues=mapping_issues)
    assessment = assess(table, mapping_issues, context, validation, severities())
    country_flags = {(r["row"], r["term"], r["flag"]) for r in assessment.issues.to_pylist()
                     if r["flag"].startswith("COUNTRY")}
    # the mapping's flag on countryCode; the same name in dwc:country is neither flagged again nor a mismatch
    assert country_flags == {(2, "countryCode", "COUNTRY_INVALID"), (6, "countryCode", "COUNTRY_INVALID")}
    assert assessment.table["country"].to_pylist() == names  # the name as written stays in dwc:country


@pytest.mark.parametrize("name, code", [("Netherlands (the)", "NL"), ("Bahamas (the)", "BS"), ("Philippines (the)", "PH"),
                                        ("United Kingdom of Great Britain and Northern Ireland (the)", "GB"),
                                        ("Congo (the Democratic Republic of the)", "CD"), ("Korea (Republic of)", "KR")])
def test_iso_3166_short_names_with_their_trailing_the_are_exact(name, code):
    # ISO 3166-1's English short names of 2013-2020 ended in '(the)'; databases copied them from the standard
    assert interpret_country_code(name) == (code, ())


def test_a_trailing_the_makes_no_other_name_a_country():
    assert interpret_country_code("Allemagne (the)") == (None, ("COUNTRY_INVALID",))
