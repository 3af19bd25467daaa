"""BDQ OTHER-element tests: the official validation rows through the conformance runner, plus edge cases."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mobilise.validators.bdq import REGISTRY, Response, Status, run_test
from mobilise.validators.bdq import other
from mobilise.validators.bdq.conformance import run_conformance

BDQ = Path(__file__).resolve().parents[2].parent / "shared" / "standards" / "bdq"
VALIDATION_FILES = ("TG2_test_validation_data.csv", "TG2_test_validation_data_nonprintingchars.csv")

# Rows whose expectation contradicts the current specification (see the notes in validators/bdq/other.py).
DOCUMENTED_WRONG_ROWS = {
    "566": "ASSUMEDDEFAULT: spec says INTERNAL_PREREQUISITES_NOT_MET when occurrenceStatus is NotEmpty",
    "567": "same as 566",
    "568": "same as 566",
    "1208": "'spreading' is not a term of the Degree of Establishment vocabulary",
}


def _other_guids() -> set[str]:
    with open(BDQ / "derived_bdq_tests_offline_classification.csv", encoding="utf-8", newline="") as handle:
        return {r["GUID"] for r in csv.DictReader(handle)
                if r["InformationElement"] not in ("SPACE", "TIME", "NAME")
                and not r["offline_class"].startswith("aggregate")}


OTHER_GUIDS = _other_guids()


@pytest.fixture(scope="module")
def conformance(tmp_path_factory) -> dict:
    """Run only our rows: copy them (byte for byte, same columns) into temporary files for the runner."""
    folder = tmp_path_factory.mktemp("bdq_other")
    paths = []
    for name in VALIDATION_FILES:
        with open(BDQ / name, encoding="utf-8", newline="") as source:
            reader = csv.DictReader(source)
            rows = [row for row in reader if row["GUID"].strip() in OTHER_GUIDS]
            fields = reader.fieldnames
        path = folder / name
        with open(path, "w", encoding="utf-8", newline="") as target:
            writer = csv.DictWriter(target, fieldnames=fields, quoting=csv.QUOTE_ALL)
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    return run_conformance(paths)


def test_every_other_test_is_registered():
    assert len(OTHER_GUIDS) == 27  # 26 OTHER + ISSUE_DATAGENERALIZATIONS_NOTEMPTY
    assert OTHER_GUIDS <= REGISTRY.keys()


def test_official_rows_pass(conformance):
    assert conformance["rows"] == 255
    assert conformance["not_run"] == 0
    failures = {r["dataID"]: r["reason"] for t in conformance["tests"] for r in t["reasons"]}
    assert set(failures) <= set(DOCUMENTED_WRONG_ROWS), failures
    assert conformance["passed"] >= 251


# --- edge cases ------------------------------------------------------------------------------------------------

BASIS_STANDARD = "42408a00-bf71-4892-a399-4325e2bc1fb8"
BASIS_AMEND = "07c28ace-561a-476e-a9b9-3d5ad6e35933"
DCTYPE_AMEND = "bd385eeb-44a2-464b-a503-7abe407ef904"
LICENSE_STANDARD = "3136236e-04b6-49ea-8b34-a65f25e3aba1"
LICENSE_AMEND = "dcbe5bd2-42a0-4aab-bb4d-8f148c6490f8"
TYPESTATUS_STANDARD = "4833a522-12eb-4fe0-b4cf-7f7a337a6048"
TYPESTATUS_AMEND = "b3471c65-b53e-453b-8282-abfa27bf1805"
ANNOTATION = "fecaa8a3-bbd8-4c5a-a424-13c37c4bb7b1"


@pytest.mark.parametrize("value, expected", [
    ("PreservedSpecimen", "COMPLIANT"),
    (" PreservedSpecimen", "NOT_COMPLIANT"),  # leading whitespace must fail the validation
    ("PreservedSpecimen\x0e", "NOT_COMPLIANT"),
])
def test_standard_validation_is_exact(value, expected):
    assert run_test(BASIS_STANDARD, {"dwc:basisOfRecord": value}).result == expected


@pytest.mark.parametrize("guid, term, value, proposed", [
    (DCTYPE_AMEND, "dc:type", "http://purl.org/dc/dcmitype/StillImage", "StillImage"),  # IRI to literal
    (DCTYPE_AMEND, "dc:type", " Event", "Event"),
    (BASIS_AMEND, "dwc:basisOfRecord", "http://rs.tdwg.org/dwc/terms/PreservedSpecimen", "PreservedSpecimen"),
    (LICENSE_AMEND, "dcterms:license", "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/legalcode"),
    (TYPESTATUS_AMEND, "dwc:typeStatus", "holotype of Aus bus | paratype", "Holotype of Aus bus | Paratype"),
])
def test_amendments(guid, term, value, proposed):
    response = run_test(guid, {term: value})
    assert (response.status, response.result) == (Status.AMENDED, {term: proposed})


@pytest.mark.parametrize("guid, term, value", [
    (BASIS_AMEND, "dwc:basisOfRecord", "specimen"),  # Preserved/Fossil/Living: ambiguous
    (LICENSE_AMEND, "dcterms:license", "cc-by-nc"),  # by-nc, by-nc-sa, by-nc-nd: ambiguous
    (LICENSE_AMEND, "dcterms:license", "https://creativecommons.org/licenses/by/4.0/"),  # already standard
    (TYPESTATUS_AMEND, "dwc:typeStatus", "Holotype of Aus bus"),
])
def test_not_amended(guid, term, value):
    assert run_test(guid, {term: value}).status == Status.NOT_AMENDED


def test_license_suffix_is_optional_and_language_checked():
    assert run_test(LICENSE_STANDARD, {"dcterms:license": "http://creativecommons.org/publicdomain/zero/1.0/"}
                    ).result == "COMPLIANT"
    assert run_test(LICENSE_STANDARD, {"dcterms:license": "https://creativecommons.org/licenses/by/4.0/deed.xx"}
                    ).result == "NOT_COMPLIANT"
    assert run_test(LICENSE_STANDARD, {"dcterms:license": "https://creativecommons.org/licenses/by/3.0/"}
                    ).result == "NOT_COMPLIANT"


def test_typestatus_checks_every_portion():
    assert run_test(TYPESTATUS_STANDARD, {"dwc:typeStatus": "Holotype | Paratype"}).result == "COMPLIANT"
    assert run_test(TYPESTATUS_STANDARD, {"dwc:typeStatus": "Holotype | cleptotype"}).result == "NOT_COMPLIANT"


@pytest.mark.parametrize("authority", ["https://invalid/invalidservice", "http://example.org/my-list"])
def test_unknown_authority_is_external_prerequisite(authority):
    response = run_test(BASIS_STANDARD, {"dwc:basisOfRecord": "PreservedSpecimen"}, {"bdqval:sourceAuthority": authority})
    assert response.status == Status.EXTERNAL_PREREQUISITES_NOT_MET


def test_default_authority_by_url_is_accepted():
    response = run_test(BASIS_STANDARD, {"dwc:basisOfRecord": "Taxon"},
                        {"bdqval:sourceAuthority": "https://rs.gbif.org/vocabulary/dwc/basis_of_record.xml"})
    assert response.result == "COMPLIANT"


def test_annotation_default_does_not_flag_every_record():
    assert run_test(ANNOTATION, {}).result == "NOT_ISSUE"
    assert run_test(ANNOTATION, {}, {"bdqval:annotationAlertIf": "?"}).result == "POTENTIAL_ISSUE"
    assert run_test(ANNOTATION, {}, {"bdqval:annotationSystem": "https://invalid/invalidservice"}
                    ).status == Status.EXTERNAL_PREREQUISITES_NOT_MET


def test_tests_never_raise_on_odd_input():
    for guid in OTHER_GUIDS:
        test = REGISTRY[guid]
        for value in ("", "\x00", "|", " | ", "??", "https://", "x" * 500):
            record = {term: value for term in test.acted_upon + test.consulted}
            assert isinstance(test(record), Response)


# --- aggregate measures ----------------------------------------------------------------------------------------

def _r(status: Status, result=None) -> Response:
    return Response(status, result, "")


VALIDATIONS = [
    _r(Status.RUN_HAS_RESULT, "COMPLIANT"), _r(Status.RUN_HAS_RESULT, "COMPLIANT"),
    _r(Status.RUN_HAS_RESULT, "NOT_COMPLIANT"),
    _r(Status.INTERNAL_PREREQUISITES_NOT_MET), _r(Status.EXTERNAL_PREREQUISITES_NOT_MET),
]


def test_validation_measures_count_and_add_up():
    compliant = other.measure_validationtests_compliant(VALIDATIONS)
    failing = other.measure_validationtests_notcompliant(VALIDATIONS)
    not_run = other.measure_validationtests_prerequisitesnotmet(VALIDATIONS)
    assert [m.result for m in (compliant, failing, not_run)] == ["2", "1", "2"]
    assert all(m.status == Status.RUN_HAS_RESULT for m in (compliant, failing, not_run))
    assert sum(int(m.result) for m in (compliant, failing, not_run)) == len(VALIDATIONS)


@pytest.mark.parametrize("measure", [other.measure_validationtests_compliant,
                                     other.measure_validationtests_notcompliant,
                                     other.measure_validationtests_prerequisitesnotmet])
def test_validation_measures_need_attempted_validations(measure):
    assert measure([]).status == Status.INTERNAL_PREREQUISITES_NOT_MET


def test_amendments_proposed():
    responses = [_r(Status.AMENDED, {"dwc:sex": "Female"}), _r(Status.FILLED_IN, {"dwc:occurrenceStatus": "present"}),
                 _r(Status.NOT_AMENDED), _r(Status.INTERNAL_PREREQUISITES_NOT_MET)] + VALIDATIONS
    assert other.measure_amendments_proposed(responses).result == "2"
    assert other.measure_amendments_proposed([]).result == "0"
