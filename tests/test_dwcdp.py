"""Darwin Core Data Package: derived from a run's published rows, valid in every layer, and each layer failing alone
on a package broken on purpose; the package holds the same values as the Darwin Core Archive written from the
same rows."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest
from dwca.read import DwCAReader

from mobilise.dwcdp import schema_set, versions
from mobilise.publishers.dwca import write_archive
from mobilise.publishers.dwcdp import RENAMES, derive_package, write_dataset_package
from mobilise.terms import term_iri
from mobilise.validators.dwcdp import offline_frictionless, validate_package

REPO = Path(__file__).resolve().parents[1]
ORCID_JAN = "https://orcid.org/0000-0002-1825-0097"
ORCID_ANNE = "https://orcid.org/0000-0001-5109-3700"
EML = b'<?xml version="1.0" encoding="UTF-8"?><eml:eml xmlns:eml="https://eml.ecoinformatics.org/eml-2.2.0"/>'


def _core_batches() -> list[pa.Table]:
    """Two batches of published occurrence core rows, as a DaRWIN-like collection maps them."""
    first = pa.table({
        "occurrenceID": ["urn:catalog:RBINS:IG:10234", "urn:catalog:RBINS:IG:10235"],
        "basisOfRecord": ["PreservedSpecimen", "PreservedSpecimen"],
        "institutionCode": ["RBINS", "RBINS"],
        "catalogNumber": ["IG.10234", "IG.10235"],
        "recordNumber": ["JP-77", None],
        "recordedBy": ["Jan Peeters | Anne Smith", "Anne Smith"],
        "recordedByID": [f"{ORCID_JAN} | {ORCID_ANNE}", None],
        "identifiedBy": ["Marie Dupont", "Anne Smith"],
        "eventDate": ["1998-04-12", "1998-04"],
        "year": ["1998", "1998"],
        "month": ["4", "4"],
        "country": ["Belgium", "Belgium"],
        "countryCode": ["BE", "BE"],
        "locality": ["Bois de la Cambre,\tpond\nnorth shore", "Zoniënwoud"],
        "decimalLatitude": ["50.8062", "50.7752"],
        "decimalLongitude": ["4.3810", "4.4203"],
        "coordinateUncertaintyInMeters": ["30", None],
        "scientificName": ["Carabus auratus Linnaeus, 1761", "Carabus nemoralis O.F.Müller, 1764"],
        "preparations": ["pinned", "pinned"],
        "sex": ["female", None],
    })
    second = pa.table({
        "occurrenceID": ["urn:catalog:RBINS:OBS:5"],
        "basisOfRecord": ["HumanObservation"],
        "institutionCode": ["RBINS"],
        "catalogNumber": [None],
        "recordNumber": [None],
        "recordedBy": ["Anne Smith"],  # the same name as the ORCID'd Anne Smith, no id: another agent
        "recordedByID": [None],
        "identifiedBy": ["Anne Smith | Jan Peeters"],
        "eventDate": ["2020-06-01"],
        "year": ["2020"],
        "month": ["6"],
        "country": ["Belgium"],
        "countryCode": ["BE"],
        "locality": ["Meise"],
        "decimalLatitude": ["50.93"],
        "decimalLongitude": ["4.33"],
        "coordinateUncertaintyInMeters": ["100"],
        "scientificName": ["Parus major Linnaeus, 1758"],
        "preparations": [None],
        "sex": [None],
    })
    return [first, second]


def _extensions() -> dict[str, list[pa.Table]]:
    identification = pa.table({
        "coreid": ["urn:catalog:RBINS:IG:10234", "urn:catalog:RBINS:IG:10234", "urn:catalog:RBINS:IG:10235"],
        "scientificName": ["Carabus sp.", "Carabus auratus Linnaeus, 1761", "Carabus nemoralis O.F.Müller, 1764"],
        "identifiedBy": ["Jan Peeters", "Marie Dupont", "Anne Smith"],
        "identifiedByID": [ORCID_JAN, None, None],
        "dateIdentified": ["1998-05-01", "2001-02-11", "1999"],
        "typeStatus": [None, None, None],
    })
    media = pa.table({
        "coreid": ["urn:catalog:RBINS:IG:10234", "urn:catalog:RBINS:OBS:5"],
        "type": ["StillImage", "StillImage"],
        "format": ["image/jpeg", "image/jpeg"],
        "identifier": ["https://collections.naturalsciences.be/media/10234.jpg",
                       "https://collections.naturalsciences.be/media/obs5.jpg"],
        "title": ["Dorsal habitus", None],
        "license": ["http://creativecommons.org/licenses/by/4.0/"] * 2,
    })
    return {"identification": [identification], "multimedia": [media]}


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("dwcdp") / "package"
    derived = derive_package("occurrence", iter(_core_batches()), {k: iter(v) for k, v in _extensions().items()},
                             directory, eml_bytes=EML, version="3", package_id="https://doi.org/10.9999/x")
    assert derived.summary.tables["occurrence"] == 3
    return directory


def _rows(directory: Path, table: str) -> list[dict]:
    with open(directory / f"{table}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _broken(package: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "broken"
    shutil.copytree(package, copy)
    return copy


def _edit_descriptor(directory: Path, change) -> None:
    descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    change(descriptor)
    (directory / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")


def _resource(descriptor: dict, name: str) -> dict:
    return next(r for r in descriptor["resources"] if r["name"] == name)


# --- the shipped schemas -------------------------------------------------------------------------------------------

def test_the_shipped_schema_set_is_what_the_build_script_makes_from_the_standards():
    assert subprocess.run([sys.executable, str(REPO / "mobilise/data/build_dwc_dp.py"), "--check"],
                          capture_output=True, text=True).returncode == 0
    schemas = schema_set()
    assert versions() == ["0.1"] and schemas.version == "0.1"
    assert schemas.profile_url == "http://rs.tdwg.org/dwc-dp/1.0/dwc-dp-profile.json"
    assert schemas.source["commit"] == "46bc94f5d7f7e44d4d3a116248c8bff3033e13a5"
    assert len(schemas.tables) == 79 and schemas.table_schema("occurrence")["primaryKey"] == "occurrence_pk"
    with pytest.raises(ValueError, match="shipped: 0.1"):
        schema_set("9.9")


# --- a valid package -----------------------------------------------------------------------------------------------

def test_a_derived_package_passes_every_layer(package):
    result = validate_package(package)
    assert result.valid, result.summary()
    assert [layer.name for layer in result.layers] == ["structure", "profile", "schema", "keys"]
    assert all(layer.valid and not layer.problems for layer in result.layers)
    assert result.summary().splitlines()[1:] == ["  structure: ok", "  profile: ok", "  schema: ok", "  keys: ok"]


def test_the_frictionless_library_finds_no_error_with_profile_and_keys(package):
    """frictionless itself, on the package as written (its DwC-DP profile, primary and foreign keys), no network."""
    from frictionless import validate

    with offline_frictionless(schema_set()):
        report = validate(str(package / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "note"])
    assert report.stats["tasks"] == len(json.loads((package / "datapackage.json").read_text())["resources"])


def test_descriptor_profile_version_and_inline_canonical_schemas(package):
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["profile"] == "http://rs.tdwg.org/dwc-dp/1.0/dwc-dp-profile.json"
    assert descriptor["dwcDpSchemaVersion"] == "0.1" and descriptor["version"] == "3"
    assert descriptor["id"] == "https://doi.org/10.9999/x"
    names = [r["name"] for r in descriptor["resources"]]
    assert names == ["event", "occurrence", "material", "identification", "agent", "agent-identifier",
                     "usage-policy", "occurrence-agent-role", "material-agent-role", "identification-agent-role", "media",
                     "material-media", "occurrence-media"]
    for resource in descriptor["resources"]:
        canonical = {f["name"]: f for f in schema_set().table_schema(resource["name"])["fields"]}
        assert resource["path"] == f"{resource['name']}.csv" and resource["mediatype"] == "text/csv"
        for f in resource["schema"]["fields"]:
            assert f == canonical[f["name"]]  # copied verbatim from the canonical table schema
        with open(package / resource["path"], newline="", encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == [f["name"] for f in resource["schema"]["fields"]]
        assert b"\r\n" in (package / resource["path"]).read_bytes()  # RFC 4180 line ends
    material = _resource(descriptor, "material")["schema"]
    assert material["primaryKey"] == "materialEntity_pk"
    assert [fk["reference"]["resource"] for fk in material["foreignKeys"]] == ["event"]
    assert (package / "eml.xml").read_bytes() == EML


def test_specimens_collectors_determinations_and_media(package):
    material = {r["materialEntity_pk"]: r for r in _rows(package, "material")}
    assert set(material) == {"urn:catalog:RBINS:IG:10234", "urn:catalog:RBINS:IG:10235"}  # not the observation
    specimen = material["urn:catalog:RBINS:IG:10234"]
    assert specimen["catalogNumber"] == "IG.10234" and specimen["collectorNumber"] == "JP-77"
    assert specimen["collectedBy"] == "Jan Peeters | Anne Smith"
    assert specimen["evidenceForOccurrenceID"] == "urn:catalog:RBINS:IG:10234"
    events = {r["event_pk"]: r for r in _rows(package, "event")}
    assert events[specimen["collectionEvent_fk"]]["eventCategory"] == "material collection"
    assert events["urn:catalog:RBINS:OBS:5#event"]["eventCategory"] == "occurrence"

    agents = {r["agent_pk"]: r for r in _rows(package, "agent")}
    roles = [(r["materialEntity_fk"], agents[r["agent_fk"]]["preferredAgentName"], r["agent_fk"], r["agentRole"],
              r["agentRoleOrder"]) for r in _rows(package, "material-agent-role")]
    assert roles[:2] == [("urn:catalog:RBINS:IG:10234", "Jan Peeters", ORCID_JAN, "collector", "1"),
                         ("urn:catalog:RBINS:IG:10234", "Anne Smith", ORCID_ANNE, "collector", "2")]
    # the Anne Smith without an id is another agent than the ORCID'd one, and always the same one
    anne_by_name = [pk for pk, a in agents.items() if a["preferredAgentName"] == "Anne Smith" and not a["agentID"]]
    assert len(anne_by_name) == 1 and anne_by_name[0].startswith("urn:uuid:")
    assert roles[2][2] == anne_by_name[0]
    recorders = _rows(package, "occurrence-agent-role")
    assert [(r["occurrence_fk"], r["agent_fk"], r["agentRole"]) for r in recorders] == [
        ("urn:catalog:RBINS:OBS:5", anne_by_name[0], "recorder")]
    assert sorted((r["agent_fk"], r["identifier"], r["identifierType"]) for r in _rows(package, "agent-identifier")) \
        == sorted([(ORCID_JAN, ORCID_JAN, "ORCID"), (ORCID_ANNE, ORCID_ANNE, "ORCID")])

    identifications = [r for r in _rows(package, "identification")
                       if r["materialEntity_fk"] == "urn:catalog:RBINS:IG:10234"]
    assert [(r["scientificName"], r["dateIdentified"]) for r in identifications] == [
        ("Carabus sp.", "1998-05-01"), ("Carabus auratus Linnaeus, 1761", "2001-02-11")]
    determiners = {r["identification_fk"]: agents[r["agent_fk"]] for r in _rows(package, "identification-agent-role")}
    assert [determiners[r["identification_pk"]]["preferredAgentName"] for r in identifications] == [
        "Jan Peeters", "Marie Dupont"]
    assert determiners[identifications[0]["identification_pk"]]["agentID"] == ORCID_JAN

    media = {r["media_pk"]: r for r in _rows(package, "media")}
    assert [(media[r["media_fk"]]["accessURI"], r["materialEntity_fk"]) for r in _rows(package, "material-media")] \
        == [("https://collections.naturalsciences.be/media/10234.jpg", "urn:catalog:RBINS:IG:10234")]
    assert [r["occurrence_fk"] for r in _rows(package, "occurrence-media")] == ["urn:catalog:RBINS:OBS:5"]
    [policy] = _rows(package, "usage-policy")  # both images under the same licence: one policy
    assert policy["license"] == "http://creativecommons.org/licenses/by/4.0/"
    assert {m["usagePolicy_fk"] for m in media.values()} == {policy["usagePolicy_pk"]}


def test_occurrence_status_inferred_and_unpairable_agents_counted(tmp_path):
    core = _core_batches()[1]
    core = core.append_column("identifiedByID", pa.array([ORCID_JAN]))  # two names, one id: not paired by guess
    derived = derive_package("occurrence", [core], {}, tmp_path / "p")
    assert derived.summary.occurrence_status_inferred == 1 and derived.summary.agents_unpaired == 1
    assert _rows(tmp_path / "p", "occurrence")[0]["occurrenceStatus"] == "present"
    assert not any(a.get("agentID") for a in _rows(tmp_path / "p", "agent"))
    # no Identification History: the record's own identification, with its determiners in order
    identification = _rows(tmp_path / "p", "identification")
    assert [(r["identification_pk"], r["isAcceptedIdentification"]) for r in identification] == [
        ("urn:catalog:RBINS:OBS:5#identification", "true")]
    assert [r["agentRoleOrder"] for r in _rows(tmp_path / "p", "identification-agent-role")] == ["1", "2"]
    assert validate_package(tmp_path / "p").valid


def test_a_value_not_of_the_field_type_is_left_out_and_counted(tmp_path):
    core = _core_batches()[1]
    core = core.set_column(core.column_names.index("month"), "month", pa.array(["13"]))
    core = core.set_column(core.column_names.index("coordinateUncertaintyInMeters"), "coordinateUncertaintyInMeters",
                           pa.array(["0"]))
    derived = derive_package("occurrence", [core], {}, tmp_path / "p")
    assert derived.summary.values_left_out == {"event.month": 1, "event.coordinateUncertaintyInMeters": 1}
    assert validate_package(tmp_path / "p").valid


# --- packages broken on purpose fail in the layer they break, and only there ---------------------------------------

def test_a_renamed_csv_column_fails_the_structure_layer(package, tmp_path):
    broken = _broken(package, tmp_path)
    text = (broken / "occurrence.csv").read_text(encoding="utf-8")
    (broken / "occurrence.csv").write_text(text.replace('"scientificName"', '"scientific_name"', 1), encoding="utf-8")
    result = validate_package(broken)
    assert result.failed_layers() == ["structure"], result.summary()
    problem = result.layer("structure").problems[0]
    assert problem.table == "occurrence" and problem.value == "scientific_name"
    assert "incorrect-label" in problem.message


def test_a_value_of_the_wrong_type_fails_the_structure_layer(package, tmp_path):
    broken = _broken(package, tmp_path)
    text = (broken / "event.csv").read_text(encoding="utf-8")
    (broken / "event.csv").write_text(text.replace('"50.8062"', '"50°48\'N"', 1), encoding="utf-8")
    result = validate_package(broken)
    assert result.failed_layers() == ["structure"], result.summary()
    problem = result.layer("structure").problems[0]
    assert (problem.table, problem.row, problem.field, problem.value) == ("event", 1, "decimalLatitude", "50°48'N")


def test_a_descriptor_without_profile_fails_the_profile_layer(package, tmp_path):
    broken = _broken(package, tmp_path)
    _edit_descriptor(broken, lambda d: d.pop("profile"))
    result = validate_package(broken)
    assert result.failed_layers() == ["profile"], result.summary()
    assert any("'profile' is a required property" in p.message for p in result.layer("profile").problems)


def test_a_table_not_declared_tabular_fails_the_profile_layer(package, tmp_path):
    broken = _broken(package, tmp_path)
    _edit_descriptor(broken, lambda d: _resource(d, "media").pop("profile"))
    result = validate_package(broken)
    assert result.failed_layers() == ["profile"], result.summary()
    assert {p.table for p in result.layer("profile").problems} == {"media"}


def test_a_declared_type_other_than_the_canonical_one_fails_the_schema_layer(package, tmp_path):
    broken = _broken(package, tmp_path)

    def retype(descriptor):
        for f in _resource(descriptor, "event")["schema"]["fields"]:
            if f["name"] == "year":
                f["type"] = "number"  # every value still reads as a number: only the schema layer sees it
    _edit_descriptor(broken, retype)
    result = validate_package(broken)
    assert result.failed_layers() == ["schema"], result.summary()
    [problem] = result.layer("schema").problems
    assert (problem.table, problem.field) == ("event", "year") and "'integer'" in problem.message


def test_a_required_field_left_out_fails_the_schema_layer(package, tmp_path):
    broken = _broken(package, tmp_path)
    _edit_descriptor(broken, lambda d: _resource(d, "occurrence")["schema"].pop("foreignKeys"))
    result = validate_package(broken)
    assert result.failed_layers() == ["schema"], result.summary()
    assert [p.field for p in result.layer("schema").problems] == ["event_fk"]


def test_a_duplicate_primary_key_fails_the_keys_layer(package, tmp_path):
    broken = _broken(package, tmp_path)
    with open(broken / "agent.csv", "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow([ORCID_JAN, ORCID_JAN, "J. Peeters"])
    result = validate_package(broken)
    assert result.failed_layers() == ["keys"], result.summary()
    [problem] = result.layer("keys").problems
    assert (problem.table, problem.field, problem.value) == ("agent", "agent_pk", ORCID_JAN)
    assert "not unique" in problem.message


def test_a_dangling_foreign_key_fails_the_keys_layer(package, tmp_path):
    broken = _broken(package, tmp_path)
    text = (broken / "material-media.csv").read_text(encoding="utf-8")
    (broken / "material-media.csv").write_text(text.replace("#media-1", "#media-99"), encoding="utf-8")
    result = validate_package(broken)
    assert result.failed_layers() == ["keys"], result.summary()
    [problem] = result.layer("keys").problems
    assert (problem.table, problem.row, problem.field, problem.value) == (
        "material-media", 1, "media_fk", "urn:catalog:RBINS:IG:10234#media-99")
    assert "media.media_pk" in problem.message
    assert "material-media: 1 problem(s)" in result.summary()


# --- the same facts in both formats ---------------------------------------------------------------------------------

def test_the_package_holds_the_values_of_the_archive(tmp_path):
    batches = _core_batches()
    terms = batches[0].column_names
    write_archive(tmp_path / "dwca.zip", terms, batches, EML)
    derive_package("occurrence", batches, {}, tmp_path / "p")
    occurrence = {r["occurrence_pk"]: r for r in _rows(tmp_path / "p", "occurrence")}
    material = {r["materialEntity_pk"]: r for r in _rows(tmp_path / "p", "material")}
    events = {r["event_pk"]: r for r in _rows(tmp_path / "p", "event")}
    to_material = {source: name for name, source in RENAMES["material"].items()}
    material_fields = {f["name"] for f in schema_set().table_schema("material")["fields"]}
    compared = 0
    with DwCAReader(str(tmp_path / "dwca.zip")) as archive:
        rows = list(archive)
        assert [r.id for r in rows] == list(occurrence)  # the same records, in the same order
        for row in rows:
            occ, event = occurrence[row.id], events[occurrence[row.id]["event_fk"]]
            for term in terms:
                value = row.data[term_iri(term)]
                held = [table[name] for table, name in ((occ, term), (event, term),
                                                        (material.get(row.id, {}), to_material.get(term, term)))
                        if name in table]
                if term == "basisOfRecord":
                    assert (row.id in material) == (value == "PreservedSpecimen")
                    continue
                if not held:  # a term only a material row has (institutionCode) on a record that is no specimen
                    assert row.id not in material and to_material.get(term, term) in material_fields, term
                    continue
                assert all(v == value for v in held), (row.id, term, value, held)
                compared += len(held)
    assert compared > 60
    assert events["urn:catalog:RBINS:IG:10234#event"]["locality"] == "Bois de la Cambre, pond north shore"


# --- the function the publish stage calls ---------------------------------------------------------------------------

def test_write_dataset_package_writes_a_valid_zip(tmp_path):
    summary = write_dataset_package("occurrence", iter(_core_batches()), _extensions(), EML,
                                    tmp_path / "pub" / "dwc-dp-3.zip", version="3")
    assert summary.valid and summary.target == str(tmp_path / "pub" / "dwc-dp-3.zip")
    assert summary.tables["identification"] == 3 and summary.tables["agent"] == 4
    with zipfile.ZipFile(summary.target) as archive:
        names = archive.namelist()
        assert names[:2] == ["datapackage.json", "eml.xml"] and "material-media.csv" in names
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    assert validate_package(summary.target).valid
    assert [p.name for p in (tmp_path / "pub").iterdir()] == ["dwc-dp-3.zip"]  # nothing else left behind
    assert summary.not_carried == []


def test_write_dataset_package_writes_nothing_when_the_package_is_not_valid(tmp_path):
    core = _core_batches()[0]
    twice = pa.concat_tables([core, core])  # the same occurrenceID twice: the archive's check would refuse it
    summary = write_dataset_package("occurrence", [twice], {}, EML, tmp_path / "pub" / "dwc-dp-1.zip")
    assert summary.valid is False and summary.target is None
    assert "keys: failed" in summary.validation and "occurrence: " in summary.validation
    assert summary.validation.startswith(f"DwC-DP {tmp_path / 'pub' / 'dwc-dp-1.zip'}: NOT valid (failed: keys)")
    assert {p.table for p in summary.checks.layer("keys").problems} >= {"occurrence", "event", "material"}
    assert list((tmp_path / "pub").iterdir()) == []


def test_event_core_with_occurrences(tmp_path):
    events = pa.table({"eventID": ["survey-1", "survey-1-a"], "parentEventID": ["campaign-2024", "survey-1"],
                       "eventDate": ["2024-05-01/2024-05-03", "2024-05-02"], "samplingProtocol": ["pitfall"] * 2,
                       "decimalLatitude": ["50.9", "50.91"], "decimalLongitude": ["4.3", "4.31"]})
    occurrences = pa.table({"coreid": ["survey-1-a", "survey-1-a"], "occurrenceID": ["o1", "o2"],
                            "basisOfRecord": ["HumanObservation", "PreservedSpecimen"],
                            "scientificName": ["Carabus auratus", "Carabus nemoralis"],
                            "recordedBy": ["Jan Peeters", "Jan Peeters"], "individualCount": ["0", "2"]})
    media = pa.table({"coreid": ["survey-1"], "identifier": ["https://img.example.org/site.jpg"],
                      "format": ["image/jpeg"], "type": ["StillImage"]})
    derived = derive_package("event", [events], {"occurrence": [occurrences], "identification": [],
                                                 "multimedia": [media]}, tmp_path / "p")
    assert [(r["event_fk"]) for r in _rows(tmp_path / "p", "event-media")] == ["survey-1"]
    assert derived.summary.tables["event"] == 2 and derived.summary.tables["material"] == 1
    assert derived.summary.not_carried == ["identification", "core term samplingProtocol",
                                           "occurrence term individualCount"]
    rows = {r["event_pk"]: r for r in _rows(tmp_path / "p", "event")}
    assert rows["survey-1-a"]["parentEvent_fk"] == "survey-1"
    # a parent the dataset does not hold (the archive publishes it, flagged): left out of the foreign key, counted
    assert rows["survey-1"]["parentEvent_fk"] == "" and derived.summary.values_left_out == {"event.parentEvent_fk": 1}
    assert [(r["occurrence_pk"], r["event_fk"], r["occurrenceStatus"]) for r in _rows(tmp_path / "p", "occurrence")] \
        == [("o1", "survey-1-a", "absent"), ("o2", "survey-1-a", "present")]
    assert validate_package(tmp_path / "p").valid, validate_package(tmp_path / "p").summary()


def test_a_sample_run_publishes_the_same_records_and_values_in_both_formats(sqlite_config, tmp_path):
    """The sample collection database through the pipeline's stages: the package derived from the run's published
    rows is valid and holds the archive's records, in its order, with the archive's values."""
    from tests.pipeline_helpers import staged_run

    with staged_run(sqlite_config) as (catalog, result):
        valid = sorted(catalog.entries("valid"))
        summary = write_dataset_package("occurrence", (catalog.load(e) for e in valid), {}, EML,
                                        tmp_path / "dwc-dp-1.zip", version=str(result.version))
    assert summary.valid, summary.validation
    assert summary.tables["occurrence"] == result.records
    # the same comparison as every published package's (tests/test_dwcdp_publish.py)
    from tests.test_dwcdp_publish import assert_same_facts

    assert assert_same_facts(Path(result.archive), summary.target) > 20 * result.records


def test_a_remote_resource_path_is_not_fetched(package, tmp_path):
    broken = _broken(package, tmp_path)
    _edit_descriptor(broken, lambda d: _resource(d, "media").update(path="https://img.example.org/media.csv"))
    result = validate_package(broken)
    assert "structure" in result.failed_layers()
    assert any("no network" in p.message for p in result.layer("structure").problems), result.summary()


def test_derived_and_validated_with_neither_shared_standards_nor_the_network(tmp_path):
    """In a fresh interpreter that refuses to open anything under shared/standards and to open a socket."""
    script = (
        "import sys\n"
        "def hook(event, args):\n"
        "    if event == 'open' and 'shared/standards' in str(args[0]):\n"
        "        raise RuntimeError(f'read {args[0]} at run time')\n"
        "    if event == 'socket.connect':\n"
        "        raise RuntimeError(f'network: {args}')\n"
        "sys.addaudithook(hook)\n"
        "import pyarrow as pa\n"
        "from mobilise.publishers.dwcdp import write_dataset_package\n"
        "core = pa.table({'occurrenceID': ['a:1'], 'basisOfRecord': ['PreservedSpecimen'],\n"
        "                 'recordedBy': ['Jan Peeters'], 'recordedByID': ['https://orcid.org/0000-0002-1825-0097'],\n"
        "                 'catalogNumber': ['IG.1'], 'eventDate': ['1998-04']})\n"
        "summary = write_dataset_package('occurrence', [core], {}, b'<eml/>', sys.argv[1])\n"
        "print(summary.valid)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "dwc-dp-1.zip")], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True" and (tmp_path / "dwc-dp-1.zip").exists()


def test_measurements_and_relationships_as_assertions_and_resource_relationships(tmp_path):
    core = _core_batches()
    mof = pa.table({"coreid": ["urn:catalog:RBINS:IG:10234", "urn:catalog:RBINS:OBS:5"],
                    "measurementID": ["m1", "m2"], "measurementType": ["body length", "wing length"],
                    "measurementValue": ["21.5", "74"], "measurementUnit": ["mm", "mm"],
                    "measurementDeterminedBy": ["Jan Peeters", None], "parentMeasurementID": [None, None]})
    relations = pa.table({"coreid": ["urn:catalog:RBINS:IG:10234"], "resourceID": [None],
                          "relatedResourceID": ["urn:catalog:RBINS:IG:10235"], "relationshipOfResource": ["same lot as"]})
    derived = derive_package("occurrence", core, {"measurement_or_fact": [mof], "resource_relationship": [relations]},
                             tmp_path / "p")
    assert [(r["materialEntity_fk"], r["assertionType"], r["assertionValue"], r["assertionUnit"], r["assertionBy"])
            for r in _rows(tmp_path / "p", "material-assertion")] == [
        ("urn:catalog:RBINS:IG:10234", "body length", "21.5", "mm", "Jan Peeters")]
    assert [(r["occurrence_fk"], r["assertionID"]) for r in _rows(tmp_path / "p", "occurrence-assertion")] == [
        ("urn:catalog:RBINS:OBS:5", "m2")]
    assert [(r["subjectResourceID"], r["relationshipType"], r["relatedResourceID"])
            for r in _rows(tmp_path / "p", "resource-relationship")] == [
        ("urn:catalog:RBINS:IG:10234", "same lot as", "urn:catalog:RBINS:IG:10235")]
    assert "measurement_or_fact term parentMeasurementID" in derived.summary.not_carried
    assert validate_package(tmp_path / "p").valid


def test_a_repeated_value_of_a_unique_field_fails_the_keys_layer(tmp_path):
    mof = pa.table({"coreid": ["urn:catalog:RBINS:IG:10234", "urn:catalog:RBINS:IG:10235"],
                    "measurementID": ["m1", "m1"], "measurementType": ["body length"] * 2,
                    "measurementValue": ["21.5", "20"]})
    derive_package("occurrence", _core_batches(), {"measurement_or_fact": [mof]}, tmp_path / "p")
    result = validate_package(tmp_path / "p")
    assert result.failed_layers() == ["keys"], result.summary()
    [problem] = result.layer("keys").problems
    assert (problem.table, problem.field, problem.value, problem.row) == ("material-assertion", "assertionID", "m1", 2)


def test_audubon_core_media(tmp_path):
    audubon = pa.table({
        "coreid": ["urn:catalog:RBINS:IG:10234", "urn:catalog:RBINS:IG:10234"],
        "identifier": ["rbins-img-1", "rbins-img-2"],
        "accessURI": ["https://collections.naturalsciences.be/iiif/1/full/max/0/default.jpg",
                      "https://collections.naturalsciences.be/iiif/2/full/max/0/default.jpg"],
        "format": ["image/jpeg", "image/tiff"],
        "type": ["StillImage", "StillImage"],
        "CreateDate": ["2019-03-04", None],
        "PixelXDimension": ["4000", "0"],  # 0 breaks the canonical minimum of 1: left out and counted
        "dcterms:rights": ["http://creativecommons.org/licenses/by/4.0/"] * 2,
        "Owner": ["RBINS"] * 2,
    })
    derived = derive_package("occurrence", _core_batches(), {"audubon": [audubon]}, tmp_path / "p")
    media = _rows(tmp_path / "p", "media")
    assert [(m["mediaID"], m["accessURI"], m["format"], m["createDate"], m["pixelXDimension"]) for m in media] == [
        ("rbins-img-1", audubon["accessURI"][0].as_py(), "image/jpeg", "2019-03-04", "4000"),
        ("rbins-img-2", audubon["accessURI"][1].as_py(), "image/tiff", "", "")]
    assert derived.summary.values_left_out == {"media.pixelXDimension": 1}
    [policy] = _rows(tmp_path / "p", "usage-policy")
    assert (policy["rightsIRI"], policy["owner"]) == ("http://creativecommons.org/licenses/by/4.0/", "RBINS")
    assert {m["usagePolicy_fk"] for m in media} == {policy["usagePolicy_pk"]}
    assert len(_rows(tmp_path / "p", "material-media")) == 2
    assert validate_package(tmp_path / "p").valid
