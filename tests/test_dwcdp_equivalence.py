"""The column-wise derivation of the Darwin Core Data Package writes the same files, byte for byte, as the row by
row derivation it replaced (publishers/dwcdp.py before issue 15): the pinned SHA-256 of every file of two packages
(an Occurrence core with every extension the package carries, an Event core with occurrences) derived from
generated records that hold the hard cases (names and ids of different counts, ids without names, blank names,
numbers out of range or not numbers, non-ASCII digits, tabs, missing occurrenceStatus, orphan extension rows,
dangling parent events, several batches) were computed with that row by row code."""
from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timezone

import pyarrow as pa

from mobilise.publishers.dwcdp import derive_package

CREATED = datetime(2026, 12, 1, tzinfo=timezone.utc)
NAMES = ["Jan Peeters", " Marie Dubois ", "Löwenthal R.", "Jan\tPeeters", "", "   ", "Ana Ruiz", "Verhaegen J."]
IDS = ["https://orcid.org/0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0098", "http://example.org/p/7",
       "0000-0001-5109-3700", ""]
NUMBERS = ["12.5", "-91", "91", "abc", "1e1", "+.5", "٣", "0", " 3", "20037510", "1.", None]


def _pick(rng: random.Random, pool: list, empty: float = 0.2):
    return None if rng.random() < empty else rng.choice(pool)


def _people(rng: random.Random, pool: list) -> str | None:
    if rng.random() < 0.25:
        return None
    return " | ".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))


def _batches(rows: list[dict], sizes: list[int]) -> list[pa.Table]:
    columns = list(rows[0])
    tables, start = [], 0
    for size in sizes:
        part = rows[start:start + size]
        tables.append(pa.table({c: [r[c] for r in part] for c in columns}))
        start += size
    return tables


def occurrence_inputs(seed: int = 15) -> tuple[list[pa.Table], dict[str, list[pa.Table]]]:
    """An Occurrence core of 600 records in three batches and an extension of each kind the package carries."""
    rng = random.Random(seed)
    core = []
    for i in range(600):
        core.append({
            "occurrenceID": f"occ-{i}" if i != 5 else "occ\t5",
            "basisOfRecord": _pick(rng, ["PreservedSpecimen", "HumanObservation", "FossilSpecimen", "LivingSpecimen",
                                         ""]),
            "occurrenceStatus": _pick(rng, ["present", "absent"], 0.5),
            "individualCount": _pick(rng, ["0", " 0 ", "3", "x"]),
            "recordedBy": _people(rng, NAMES), "recordedByID": _people(rng, IDS),
            "identifiedBy": _people(rng, NAMES), "identifiedByID": _people(rng, IDS),
            "scientificName": _pick(rng, ["Puma concolor", "Bufo bufo (Linnaeus, 1758)"], 0.3),
            "verbatimIdentification": _pick(rng, ["cf. Bufo"], 0.9),
            "decimalLatitude": _pick(rng, NUMBERS), "decimalLongitude": _pick(rng, NUMBERS),
            "coordinateUncertaintyInMeters": _pick(rng, NUMBERS), "month": _pick(rng, ["1", "12", "13", "1.5"]),
            "year": _pick(rng, ["1903", "-5", "19O3"]), "recordNumber": _pick(rng, ["A 12", "7"]),
            "license": _pick(rng, ["CC0-1.0", "CC-BY-4.0"]), "rightsHolder": _pick(rng, ["RBINS", "Meise"]),
            "accessRights": _pick(rng, ["open"], 0.7), "dynamicProperties": _pick(rng, ['{"a": 1}'], 0.8),
            "catalogNumber": f"C\n{i}" if i % 97 == 0 else f"C{i}",
        })
    ids = [r["occurrenceID"] for r in core] + ["no-such-record"]
    identification = [{"coreid": rng.choice(ids), "identifiedBy": _people(rng, NAMES),
                       "identifiedByID": _people(rng, IDS), "scientificName": _pick(rng, ["Bufo bufo"]),
                       "isAcceptedIdentification": _pick(rng, ["true", "false", "yes"])} for _ in range(300)]
    mof = [{"coreid": rng.choice(ids), "measurementType": "length", "measurementValue": _pick(rng, NUMBERS),
            "measurementUnit": _pick(rng, ["mm"]), "measurementDeterminedBy": _pick(rng, NAMES),
            "parentMeasurementID": _pick(rng, ["m-1"], 0.9)} for _ in range(300)]
    media = [{"coreid": rng.choice(ids), "identifier": f"https://img.example.org/{i}.jpg", "type": "StillImage",
              "format": "image/jpeg", "license": _pick(rng, ["CC0-1.0", "CC-BY-4.0"]),
              "rightsHolder": _pick(rng, ["RBINS"]), "created": _pick(rng, ["2020-01-01"])} for i in range(200)]
    audubon = [{"coreid": rng.choice(ids), "identifier": f"https://av.example.org/{i}.wav", "type": "Sound",
                "dcterms:rights": _pick(rng, ["CC-BY-4.0"]), "Owner": _pick(rng, ["Meise"]),
                "PixelXDimension": _pick(rng, ["640", "0", "x"])} for i in range(100)]
    relationships = [{"coreid": rng.choice(ids), "resourceID": _pick(rng, ["part-1"], 0.6),
                      "relatedResourceID": f"occ-{rng.randrange(600)}",
                      "relationshipOfResource": "same individual as",
                      "relationshipOrder": _pick(rng, ["1", "0"])} for _ in range(100)]
    return _batches(core, [250, 250, 100]), {
        "identification": _batches(identification, [300]), "measurement_or_fact": _batches(mof, [150, 150]),
        "multimedia": _batches(media, [200]), "audubon": _batches(audubon, [100]),
        "resource_relationship": _batches(relationships, [100])}


def event_inputs(seed: int = 16) -> tuple[list[pa.Table], dict[str, list[pa.Table]]]:
    """An Event core of 120 events in two batches (parents in, before and out of the dataset) with occurrences."""
    rng = random.Random(seed)
    events = [{"eventID": f"ev-{i}", "parentEventID": _pick(rng, [f"ev-{rng.randrange(120)}", "ev-elsewhere"], 0.5),
               "eventDate": "2020-05-01", "samplingProtocol": _pick(rng, ["pitfall"]),
               "decimalLatitude": _pick(rng, NUMBERS), "month": _pick(rng, ["5", "13"])} for i in range(120)]
    ids = [e["eventID"] for e in events] + ["ev-missing"]
    occurrences = [{"coreid": rng.choice(ids), "occurrenceID": f"o-{i}",
                    "basisOfRecord": _pick(rng, ["HumanObservation", "PreservedSpecimen"]),
                    "occurrenceStatus": _pick(rng, ["present"], 0.5), "individualCount": _pick(rng, ["0", "2"]),
                    "recordedBy": _people(rng, NAMES), "recordedByID": _people(rng, IDS),
                    "identifiedBy": _people(rng, NAMES), "scientificName": _pick(rng, ["Bufo bufo"])}
                   for i in range(300)]
    mof = [{"coreid": rng.choice(ids), "measurementType": "temperature", "measurementValue": _pick(rng, NUMBERS)}
           for _ in range(80)]
    media = [{"coreid": rng.choice(ids), "identifier": f"https://img.example.org/e{i}.jpg", "type": "StillImage",
              "license": _pick(rng, ["CC0-1.0"])} for i in range(40)]
    return _batches(events, [60, 60]), {"occurrence": _batches(occurrences, [200, 100]),
                                        "measurement_or_fact": _batches(mof, [80]), "multimedia": _batches(media, [40]),
                                        "identification": []}


def _digests(derived) -> dict[str, str]:
    """SHA-256 (16 hex digits) of each file of the package and of its summary (keys sorted: the order in which
    values_left_out first met each field is not part of what the summary says)."""
    files = {path.name: path.read_bytes() for path in sorted(derived.directory.iterdir())}
    files["summary"] = json.dumps(derived.summary.model_dump(mode="json"), sort_keys=True).encode()
    return {name: hashlib.sha256(data).hexdigest()[:16] for name, data in files.items()}


# computed with the row by row derivation (commit 39b44ea, publishers/dwcdp.py) from the same inputs
ROW_BY_ROW_OCCURRENCE = {
    "agent-identifier.csv": "17aeeb462a0826cf", "agent.csv": "fa10b6adfa35f29a",
    "datapackage.json": "f1f290ef66e5e451", "eml.xml": "0f9d859f7fccf082",
    "event.csv": "9bb069a3614264bf", "identification-agent-role.csv": "dc24109f599a020f",
    "identification.csv": "4a3bdeb78a7433a4", "material-agent-role.csv": "01542d4f22329572",
    "material-assertion.csv": "8d7dd8cfdce2a276", "material-media.csv": "208d101ef4b9da2e",
    "material.csv": "b46f92379d8bd83e", "media.csv": "6992717558ae44ca",
    "occurrence-agent-role.csv": "b0ef7e8e139dcf4a", "occurrence-assertion.csv": "f676058fbd535ab4",
    "occurrence-media.csv": "5184b5caeade4266", "occurrence.csv": "19c601046749b3be",
    "resource-relationship.csv": "6133aae0983e328c", "usage-policy.csv": "27577a33060d200a",
    "summary": "90e8bd22ba89b905",
}
ROW_BY_ROW_EVENT = {
    "agent-identifier.csv": "4582af1347f5e95c", "agent.csv": "7dd511c10bf33ffe",
    "datapackage.json": "a1f7e3cbd48c3d90", "event-assertion.csv": "2f116f987f02a334",
    "event-media.csv": "55fd96e3b3b15917", "event.csv": "0af2f71675707fdd",
    "identification-agent-role.csv": "de0d8b9411166195", "identification.csv": "4ff7e3a3ed09d673",
    "material-agent-role.csv": "f71cb992db7b4d9e", "material.csv": "e20e7a1d082d2bdb",
    "media.csv": "c4ca92e9a55b5aa5", "occurrence-agent-role.csv": "7cdedf6938b284aa",
    "occurrence.csv": "7e5a87ab37717f1d", "usage-policy.csv": "6596f47ad7c169e1",
    "summary": "3039092dd13423f0",
}


def test_an_occurrence_core_package_is_the_row_by_row_one_byte_for_byte(tmp_path):
    core, extensions = occurrence_inputs()
    derived = derive_package("occurrence", core, extensions, tmp_path / "p", eml_bytes=b"<eml/>", created=CREATED,
                             package_id="doi:10.5072/x", version="1.0")
    assert _digests(derived) == ROW_BY_ROW_OCCURRENCE


def test_an_event_core_package_is_the_row_by_row_one_byte_for_byte(tmp_path):
    core, extensions = event_inputs()
    derived = derive_package("event", core, extensions, tmp_path / "p", created=CREATED)
    assert _digests(derived) == ROW_BY_ROW_EVENT
