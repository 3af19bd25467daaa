"""The Event core (issue 10, item 3): a survey with visits (an event hierarchy through parentEventID, one parent
dangling), its occurrences in the Occurrence extension and measurements in MeasurementOrFact; events without or
with a repeated eventID are quarantined, the extension rows of those and of unknown events too; the archive reads
back with python-dwca-reader with no orphan."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from dwca.read import DwCAReader
from lxml import etree

from mobilise.settings import ConfigError, load_config
from tests.pipeline_helpers import read_quarantine, run_stages

DWC = "http://rs.tdwg.org/dwc/terms/"
EVENTS = [  # event id, parent, date, protocol
    ("S1", None, "2024-05/2024-06", "transect survey"),
    ("S1-V1", "S1", "2024-05-02", "pitfall traps"),
    ("S1-V2", "S1", "2024-05-16", "pitfall traps"),
    ("S1-V3", "S9", "2024-05-30", "pitfall traps"),  # no event S9: a dangling parent, published with a warning
    (None, "S1", "2024-06-13", "pitfall traps"),  # no eventID: quarantined
    ("S2", None, "2024-07-01", "light trap"),  # S2 twice: both quarantined
    ("S2", None, "2024-07-02", "light trap"),
]
OCCURRENCES = [  # occurrence id, event id, name, count, basis of record
    ("O1", "S1-V1", "Carabus nemoralis", "3", "HumanObservation"),
    ("O2", "S1-V1", "Pterostichus niger", "1", "HumanObservation"),
    ("O3", "S1-V3", "Carabus auratus", "a few", "HumanObservation"),  # no count: removed, kept in a note
    ("O4", "S2", "Agrotis segetum", "12", "HumanObservation"),  # its event is quarantined
    ("O5", "S7", "Noctua pronuba", "4", "HumanObservation"),  # no event S7: an orphan
    ("O6", "S1-V2", "Abax parallelepipedus", "1", "a guess"),  # not a basisOfRecord: the occurrence check rejects it
]
MEASUREMENTS = [  # id, event id, type, value, unit
    (1, "S1-V1", "air temperature", "14.5", "°C"),
    (2, "S7", "air temperature", "11", "°C"),  # orphan
]

CONFIG = """\
source:
  url: {url}
  table: ext_event
metadata:
  title: Ground beetle survey
  shortname: ext-survey
  abstract: Pitfall trap visits of a ground beetle survey.
  licence: CC0-1.0
  creators: [{{organisation: Example Survey}}]
  contacts: [{{surname: Smith}}]
output:
  directory: {out}
core: event
mapping:
  eventID: event_id
  parentEventID: parent_id
  eventDate: event_date
  samplingProtocol: protocol
extensions:
  occurrence:
    table: ext_occurrence
    core_key: event_id
    mapping:
      occurrenceID: occurrence_id
      basisOfRecord: basis
      scientificName: name
      individualCount: individuals
  measurement_or_fact:
    table: ext_event_measurement
    core_key: event_id
    mapping:
      measurementType: type
      measurementValue: value
      measurementUnit: unit
"""


def _database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'survey.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE ext_event (event_id TEXT, parent_id TEXT, event_date TEXT, "
                                   "protocol TEXT)"))
        connection.execute(sa.text("INSERT INTO ext_event VALUES (:a, :b, :c, :d)"),
                           [dict(zip("abcd", row)) for row in EVENTS])
        connection.execute(sa.text("CREATE TABLE ext_occurrence (occurrence_id TEXT, event_id TEXT, name TEXT, "
                                   "individuals TEXT, basis TEXT)"))
        connection.execute(sa.text("INSERT INTO ext_occurrence VALUES (:a, :b, :c, :d, :e)"),
                           [dict(zip("abcde", row)) for row in OCCURRENCES])
        connection.execute(sa.text("CREATE TABLE ext_event_measurement (id INTEGER, event_id TEXT, type TEXT, "
                                   "value TEXT, unit TEXT)"))
        connection.execute(sa.text("INSERT INTO ext_event_measurement VALUES (:a, :b, :c, :d, :e)"),
                           [dict(zip("abcde", row)) for row in MEASUREMENTS])
    engine.dispose()
    return url


def _config(folder: Path, text: str = CONFIG) -> Path:
    path = folder / "survey.yaml"
    path.write_text(text.format(url=_database(folder), out=folder / "out"), encoding="utf-8")
    return path


def test_a_survey_published_as_an_event_core_with_occurrences_and_measurements(tmp_path):
    result = run_stages(load_config(_config(tmp_path)))
    assert result.version is not None
    assert result.tables == {
        "event": {"extracted": 7, "published": 4, "quarantined": 3, "excluded": 0},
        "occurrence": {"extracted": 6, "published": 3, "quarantined": 3, "excluded": 0},
        "measurement_or_fact": {"extracted": 2, "published": 1, "quarantined": 1, "excluded": 0},
    }
    # records per flag of the core: the dangling parent is a warning, the rest errors
    assert result.issues == {"EVENT_ID_MISSING": 1, "EVENT_ID_NOT_UNIQUE": 2, "PARENT_EVENT_ID_DANGLING": 1}
    # the occurrences are checked as occurrence records, but what their event gives (eventDate) is not missing
    occurrence_flags = result.run_report.extension_flags["occurrence"]
    assert occurrence_flags["INDIVIDUAL_COUNT_INVALID"] == 1 and occurrence_flags["BASIS_OF_RECORD_INVALID"] == 1
    assert "RECORDED_DATE_MISSING" not in occurrence_flags
    with DwCAReader(result.archive) as archive:
        assert archive.descriptor.core.type == DWC + "Event"
        assert archive.descriptor.core.file_location == "event.txt"
        assert archive.orphaned_extension_rows() == {"occurrence.txt": {}, "measurement_or_fact.txt": {}}
        events = {row.id: row for row in archive}
        assert sorted(events) == ["S1", "S1-V1", "S1-V2", "S1-V3"]
        assert events["S1-V3"].data[DWC + "parentEventID"] == "S9"  # published as given, flagged
        visit = events["S1-V1"]
        occurrences = [row for row in visit.extensions if row.rowtype == DWC + "Occurrence"]
        assert sorted(row.data[DWC + "occurrenceID"] for row in occurrences) == ["O1", "O2"]
        assert [row.data[DWC + "measurementValue"] for row in visit.extensions
                if row.rowtype == DWC + "MeasurementOrFact"] == ["14.5"]
        [o3] = events["S1-V3"].extensions
        # a value the occurrence checks remove is not published, and kept in the record's dynamicProperties
        assert (o3.data[DWC + "occurrenceID"], o3.data[DWC + "individualCount"]) == ("O3", "")
        assert o3.data[DWC + "dynamicProperties"] == '{"mobilise:removed":{"individualCount":"a few"}}'
        assert events["S1-V2"].extensions == []  # its only occurrence was rejected
    with zipfile.ZipFile(result.archive) as bundle:
        meta = etree.fromstring(bundle.read("meta.xml"))
    ns = {"a": "http://rs.tdwg.org/dwc/text/"}
    occurrence_file = meta.find(f"a:extension[@rowType='{DWC}Occurrence']", ns)
    assert occurrence_file.find("a:coreid", ns).get("index") == "0"
    assert occurrence_file.find("a:field[@index='1']", ns).get("term") == DWC + "occurrenceID"
    # the quarantine files say why
    events_out = read_quarantine(result.quarantine)
    assert sorted(events_out["source.event_id"]) == ["", "S2", "S2"]
    assert all(reason.startswith(("EVENT_ID_MISSING", "EVENT_ID_NOT_UNIQUE")) for reason in events_out["reasons"])
    warned = read_quarantine(result.warnings)
    assert list(zip(warned["eventID"], warned["flags"], warned["source.event_id"])) == [
        ("S1-V3", "PARENT_EVENT_ID_DANGLING", "S1-V3")]
    occurrences_out = read_quarantine(result.extension_quarantine["occurrence"])
    reasons = dict(zip(occurrences_out["source.occurrence_id"], occurrences_out["reasons"]))
    assert reasons["O4"].startswith("EXTENSION_CORE_REJECTED: coreid = 'S2'")
    assert reasons["O5"].startswith("EXTENSION_ORPHANED: coreid = 'S7'")
    assert "BASIS_OF_RECORD_INVALID" in reasons["O6"]
    assert list(read_quarantine(result.extension_quarantine["measurement_or_fact"])["source.id"]) == ["2"]


def test_an_event_core_needs_an_event_id(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, CONFIG.replace("  eventID: event_id\n", "")))
    assert "mapping: eventID must be mapped" in str(caught.value)


def test_an_event_core_version_compared_again_from_its_archive(tmp_path):
    """The change summary of an Event core: unchanged when run again, also when the version's record hashes must be
    rebuilt from its archive (event.txt and the extensions' files)."""
    config = _config(tmp_path)
    first = run_stages(load_config(config))
    state = tmp_path / "out" / "ext-survey" / ".state" / f"record-hashes-{first.version}.parquet"
    state.unlink()
    again = run_stages(load_config(config))
    assert again.unchanged and again.version == first.version
    assert again.changes["records"] == 4 and again.changes["changed"] == 0
