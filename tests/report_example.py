"""A realistic run report over the sample database, for the report tests: every key the page knows about,
some values hostile on purpose. It conforms to :class:`mobilise.publishers.report.RunReport` (a test checks it)."""
from __future__ import annotations

import math


def example_report() -> dict:
    """A realistic report of a run over the sample database, with every key the page knows about.

    Some values are hostile on purpose (markup, quotes, ampersands, non-ASCII) as a user could type them into a
    collection database: the page must show them as text.
    """
    import random

    rng = random.Random(42)
    years: dict[str, int] = {}
    for year in range(1850, 2025):
        weight = 2 + 60 * math.exp(-((year - 1905) / 22) ** 2) + 90 * math.exp(-((year - 1975) / 15) ** 2)
        count = int(weight * rng.uniform(0.6, 1.3))
        if count:
            years[str(year)] = count
    centres = [(50.8, 4.4, 1.2, 300), (51.0, 10.0, 2.5, 120), (-4.3, 15.3, 3.0, 90), (-2.5, 28.8, 2.0, 70),
               (4.0, 21.0, 6.0, 60), (45.8, 6.9, 1.0, 60), (-19.0, 47.0, 2.5, 40), (10.0, -84.0, 2.0, 30),
               (-3.5, -60.0, 6.0, 25), (36.5, 138.0, 2.0, 15), (-33.9, 18.4, 1.0, 15)]
    coordinates = []
    for lat, lon, spread, number in centres:
        for _ in range(number):
            coordinates.append([round(lat + rng.gauss(0, spread), 4), round(lon + rng.gauss(0, spread), 4)])
    return {
        "dataset": "mobilise-sample",
        "title": "Sample natural history collection — Muséum d'histoire naturelle & <Collections>",
        "version": "1.2",
        "generated": "2026-11-22T21:30:00+00:00",
        "source": "postgresql+psycopg://mobilise:***@db.example.org:5432/collections",
        "totals": {"extracted": 9800, "published": 9010, "rejected": 790},
        "gates": [
            {"name": "max_error_share", "passed": True, "detail": "8.1% of records rejected (limit 20%)"},
            {"name": "min_records", "passed": True, "detail": "9,010 records published (at least 1)"},
            {"name": "max_drop_from_previous", "passed": False,
             "detail": "published 9,010 < 0.95 × 9,600 of version 1.1 & \"strict\" mode"},
        ],
        "flags": [
            {"flag": "RECORDED_DATE_INVALID", "severity": "error", "records": 147,
             "description": "eventDate could not be interpreted as a date or interval", "gbif": True},
            {"flag": "OCCURRENCE_ID_NOT_UNIQUE", "severity": "error", "records": 451,
             "description": "occurrenceID is shared with another record of this dataset", "gbif": False},
            {"flag": "COORDINATE_OUT_OF_RANGE", "severity": "error", "records": 92,
             "description": "latitude beyond ±90 or longitude beyond ±180", "gbif": True},
            {"flag": "SCIENTIFIC_NAME_MISSING", "severity": "error", "records": 100,
             "description": "scientificName is empty", "gbif": False},
            {"flag": "COUNTRY_INVALID", "severity": "warning", "records": 233,
             "description": "the country could not be resolved to an ISO 3166-1 alpha-2 code", "gbif": True},
            {"flag": "ZERO_COORDINATE", "severity": "warning", "records": 12,
             "description": "coordinates are exactly 0,0, often a stand-in for 'unknown'", "gbif": True},
            {"flag": "TYPE_STATUS_INVALID", "severity": "warning", "records": 38,
             "description": "typeStatus is not in GBIF's type status vocabulary", "gbif": True},
            {"flag": "VOCABULARY_UNMATCHED", "severity": "info", "records": 1204,
             "description": "value kept as given: no concept in the vocabulary matched it", "gbif": False},
        ],
        "terms": {
            "eventDate": {"error": 147, "warning": 0, "info": 0},
            "occurrenceID": {"error": 451, "warning": 0, "info": 0},
            "decimalLatitude": {"error": 92, "warning": 12, "info": 0},
            "decimalLongitude": {"error": 60, "warning": 12, "info": 0},
            "scientificName": {"error": 100, "warning": 0, "info": 0},
            "countryCode": {"error": 0, "warning": 233, "info": 0},
            "typeStatus": {"error": 0, "warning": 38, "info": 0},
            "sex": {"error": 0, "warning": 0, "info": 804},
            "lifeStage": {"error": 0, "warning": 0, "info": 400},
        },
        "examples": {
            "RECORDED_DATE_INVALID": [
                {"occurrenceID": "urn:catalog:RBINS:IG:10234", "term": "eventDate", "value": "1887-02-30",
                 "message": "day 30 does not exist in February 1887"},
                {"occurrenceID": "urn:catalog:RBINS:IG:10571", "term": "eventDate", "value": "<script>alert('x')</script>",
                 "message": "not a date: \"<script>alert('x')</script>\""},
                {"occurrenceID": "urn:catalog:RBINS:IG:11002", "term": "eventDate", "value": "été 1902 & hiver",
                 "message": "season names are not dates"},
            ],
            "OCCURRENCE_ID_NOT_UNIQUE": [
                {"occurrenceID": "urn:catalog:RBINS:IG:7 & 8", "term": "occurrenceID", "value": "urn:catalog:RBINS:IG:7 & 8",
                 "message": "shared by 2 records"},
            ],
            "COORDINATE_OUT_OF_RANGE": [
                {"occurrenceID": "urn:catalog:RBINS:IG:20001", "term": "decimalLatitude", "value": "95.2",
                 "message": "latitude 95.2 is beyond ±90"},
                {"occurrenceID": "urn:catalog:RBINS:IG:20002", "term": "decimalLongitude", "value": "-190°30'",
                 "message": "longitude -190.5 is beyond ±180"},
            ],
            "COUNTRY_INVALID": [
                {"occurrenceID": "urn:catalog:RBINS:IG:30001", "term": "countryCode", "value": "Congo belge \"Kivu\"",
                 "message": "no ISO 3166-1 code for 'Congo belge \"Kivu\"'"},
                {"occurrenceID": "urn:catalog:RBINS:IG:30002", "term": "countryCode", "value": "Россия",
                 "message": "ambiguous: RU or a former state (SU)"},
            ],
        },
        "years": years,
        "coordinates": coordinates,
        "mids": {"tdwg": {"0": 120, "1": 3000, "2": 5000, "3": 890},
                 "dissco": {"0": 300, "1": 2700, "2": 5100, "3": 910}},
        "dissco": {"records_dropped": 300, "policy": "warn",
                   "flags": {"DISSCO_LICENSE_NOT_ACCEPTED": 0, "DISSCO_PHYSICAL_SPECIMEN_ID_MISSING": 300,
                             "DISSCO_ORGANISATION_ID_NOT_ROR": 0, "DISSCO_TOPIC_DISCIPLINE_UNKNOWN": 1200}},
        "bdq": [
            {"guid": "0493bcfb-652e-4d17-815b-b0cce0742fbe", "label": "VALIDATION_COUNTRYCODE_STANDARD",
             "kind": "Validation", "status": {"RUN_HAS_RESULT": 9000, "INTERNAL_PREREQUISITES_NOT_MET": 800},
             "result": {"COMPLIANT": 8900, "NOT_COMPLIANT": 100}},
            {"guid": "4f2bf8fd-fc5c-493f-a44c-e7b16153c803", "label": "VALIDATION_EVENTDATE_STANDARD",
             "kind": "Validation", "status": {"RUN_HAS_RESULT": 9650, "INTERNAL_PREREQUISITES_NOT_MET": 150},
             "result": {"COMPLIANT": 9503, "NOT_COMPLIANT": 147}},
            {"guid": "7c4b9498-a8d9-4ebb-85f1-9f200c788595", "label": "VALIDATION_SCIENTIFICNAME_NOTEMPTY",
             "kind": "Validation", "status": {"RUN_HAS_RESULT": 9800},
             "result": {"COMPLIANT": 9700, "NOT_COMPLIANT": 100}},
            {"guid": "718dfc3c-cb52-4fca-b8e2-0e722f375da7", "label": "AMENDMENT_EVENTDATE_STANDARDIZED",
             "kind": "Amendment", "status": {"AMENDED": 40, "NOT_AMENDED": 9610, "INTERNAL_PREREQUISITES_NOT_MET": 150},
             "result": {}},
            {"guid": "fecaa8a3-bbd8-4c5a-a424-13c37c4bb7b1", "label": "AMENDMENT_COUNTRYCODE_STANDARDIZED",
             "kind": "Amendment", "status": {"AMENDED": 233, "NOT_AMENDED": 9567}, "result": {}},
            {"guid": "14da5b87-8304-4b2b-911d-117e3c29e3f5", "label": "ISSUE_DATAGENERALIZATIONS_NOTEMPTY",
             "kind": "Issue", "status": {"RUN_HAS_RESULT": 9800},
             "result": {"POTENTIAL_ISSUE": 12, "NOT_ISSUE": 9788}},
        ],
        "amendments": {
            "proposed": [{"guid": "718dfc3c-cb52-4fca-b8e2-0e722f375da7",
                          "label": "AMENDMENT_EVENTDATE_STANDARDIZED", "records": 40},
                         {"guid": "fecaa8a3-bbd8-4c5a-a424-13c37c4bb7b1",
                          "label": "AMENDMENT_COUNTRYCODE_STANDARDIZED", "records": 233}],
            "applied": [{"label": "AMENDMENT_EVENTDATE_STANDARDIZED", "term": "eventDate", "records": 40}],
        },
    }
