"""Interpreters and the batch mapper on small, hand-written inputs."""
from __future__ import annotations

import uuid

import pyarrow as pa
import pytest

from mobilise.mappers.coordinates import interpret_coordinate
from mobilise.mappers.countries import interpret_country_code
from mobilise.mappers.dates import interpret_date, interpret_event_date
from mobilise.mappers.mapping import MappingError, MappingPlan, as_text, map_batch
from mobilise.mappers.vocabularies import Translator
from mobilise.mappers.interpreters import interpret_count, interpret_metres, interpreters
from mobilise.settings import TermSource


@pytest.mark.parametrize("start, end, expected", [
    ("1887", None, "1887"),
    ("1887-05", None, "1887-05"),
    ("1887-5-3", None, "1887-05-03"),
    ("12/05/1887", None, "1887-05-12"),
    ("12.05.1887", None, "1887-05-12"),
    ("12.V.1887", None, "1887-05-12"),
    ("V.1887", None, "1887-05"),
    ("1887-05-01", "1887-05-12", "1887-05-01/1887-05-12"),
    ("1887-05-01/1887-05-12", None, "1887-05-01/1887-05-12"),
    ("1887", "1888", "1887/1888"),
    ("1887-05-12", "1887-05-12", "1887-05-12"),
    ("2019-06-01T10:15Z", None, "2019-06-01T10:15Z"),
])
def test_event_dates_keep_their_precision(start, end, expected):
    assert interpret_event_date(start, end) == (expected, ())


@pytest.mark.parametrize("start, end", [("1887-02-30", None), ("1999-13-01", None), ("31/02/1900", None),
                                        ("1887-05-12", "1887-05-01"), ("1888", "1887-12"), ("next spring", None)])
def test_impossible_dates_and_reversed_intervals_are_flagged(start, end):
    assert interpret_event_date(start, end) == (None, ("RECORDED_DATE_INVALID",))


@pytest.mark.parametrize("text", ["s.d.", "unknown", "?", "", "  ", None])
def test_no_date_markers_are_missing_not_invalid(text):
    assert interpret_event_date(text, None) == (None, ())


def test_single_dates_use_the_term_flag():
    assert interpret_date("2020-02-30", "IDENTIFIED_DATE_INVALID") == (None, ("IDENTIFIED_DATE_INVALID",))
    assert interpret_date("03/04/2020", "IDENTIFIED_DATE_INVALID") == ("2020-04-03", ())


@pytest.mark.parametrize("text, axis, expected", [
    ("50.8503", "lat", "50.8503"), ("50,85", "lat", "50.85"), ("-4.35", "lon", "-4.35"),
    ("50°51'12\"N", "lat", "50.8533333"), ("4° 21' 5\" E", "lon", "4.3513889"), ("50 51 12 N", "lat", "50.8533333"),
    ("S 4°19.5'", "lat", "-4.325"), ("50°51′12″S", "lat", "-50.8533333"), ("73°W", "lon", "-73"),
    ("95.2", "lat", "95.2"),  # out of range is read as written: validators judge the range
])
def test_coordinates_in_decimal_and_dms(text, axis, expected):
    assert interpret_coordinate(text, axis) == (expected, ())


@pytest.mark.parametrize("text, axis", [("abc", "lat"), ("50°51'12\"E", "lat"), ("12 N", "lon"), ("50°75'N", "lat")])
def test_unreadable_coordinates_are_flagged(text, axis):
    assert interpret_coordinate(text, axis) == (None, ("COORDINATE_INVALID",))


@pytest.mark.parametrize("text, axis, expected", [
    ("N 30.7041", "lat", "30.7041"), ("W 6.4531", "lon", "-6.4531"), ("30.7041N", "lat", "30.7041"),
    ("6.4531 W", "lon", "-6.4531"), ("6.4531W", "lon", "-6.4531"), ("n 30.7041", "lat", "30.7041"),
    ("30.7041n", "lat", "30.7041"), ("w6.4531", "lon", "-6.4531"), ("S 1.5", "lat", "-1.5"), ("1.5 s", "lat", "-1.5"),
    ("E 5.25", "lon", "5.25"), ("5,25e", "lon", "5.25"), ("51°19'N", "lat", "51.3166667"),
    ("N 51°19'", "lat", "51.3166667"), ("51°19′30″ n", "lat", "51.325"), ("51:19:30 S", "lat", "-51.325"),
    ("51 19 30 s", "lat", "-51.325"), ("51d19m30s", "lat", "51.325"),  # letter-style units: that 's' is seconds
    ("-30.7041 S", "lat", "-30.7041"), ("+30.7041 N", "lat", "30.7041"), ("-6.4531 W", "lon", "-6.4531"),
    ("−6.4531", "lon", "-6.4531"),
])
def test_hemisphere_letters_before_or_after_the_number(text, axis, expected):
    assert interpret_coordinate(text, axis) == (expected, ())


@pytest.mark.parametrize("text, axis", [
    ("-30.7041 N", "lat"), ("+6.4531 W", "lon"), ("-6.4531 E", "lon"), ("S +1.5", "lat"),  # sign against letter
    ("E 5.25", "lat"), ("30.7041 W", "lat"), ("N 6.4531", "lon"),  # a letter of the other axis
    ("N 30.7 S", "lat"), ("N 30.7 N", "lat"), ("30.7 NS", "lat"),  # two letters
    ("51.5°19'N", "lat"), ("51°19.5'30\"N", "lat"),  # decimals on a part that is not the last
    ("N", "lat"), ("30.7 X", "lat"), ("1e-05", "lat"),
])
def test_contradicting_or_misplaced_hemisphere_letters_are_flagged(text, axis):
    assert interpret_coordinate(text, axis) == (None, ("COORDINATE_INVALID",))


def test_hemisphere_letters_through_map_batch():
    batch = pa.RecordBatch.from_pydict({"guid": ["a", "b", "c", "d"],
                                        "lat": ["N 30.7041", "30.7041N", "-30.7041 N", "E 5"],
                                        "lon": ["W 6.4531", "6.4531 W", "6.4531", "5 E"]})
    plan = _plan(occurrenceID="guid", decimalLatitude="lat", decimalLongitude="lon")
    table, issues = map_batch(batch, plan)
    assert table["decimalLatitude"].to_pylist() == ["30.7041", "30.7041", None, None]
    assert table["decimalLongitude"].to_pylist() == ["-6.4531", "-6.4531", "6.4531", "5"]
    assert table["verbatimLatitude"].to_pylist() == ["N 30.7041", "30.7041N", "-30.7041 N", "E 5"]
    assert {(r["row"], r["flag"], r["value"]) for r in issues.to_pylist()} == {
        (2, "COORDINATE_INVALID", "-30.7041 N"), (3, "COORDINATE_INVALID", "E 5")}


@pytest.mark.parametrize("text, code", [
    ("België", "BE"), ("Belgique", "BE"), ("Belgium", "BE"), ("be", "BE"), ("BEL", "BE"),
    ("Frankrijk", "FR"), ("Allemagne", "DE"), ("Duitsland", "DE"), ("République démocratique du Congo", "CD"),
    ("Democratische Republiek Congo", "CD"), ("Zaïre", "CD"), ("Belgian Congo", "CD"), ("Pays-Bas", "NL"),
])
def test_country_names_in_several_languages(text, code):
    assert interpret_country_code(text) == (code, ())


def test_unknown_country_is_flagged_not_guessed():
    assert interpret_country_code("Atlantis") == (None, ("COUNTRY_INVALID",))


def test_vocabularies_with_dataset_additions():
    sex = Translator("sex", {"m/f": "undetermined"})
    assert [sex(v)[0] for v in ["M", "♀", "mâle", "vrouwelijk", "m/f", "?"]] == [
        "male", "female", "male", "female", "undetermined", "undetermined"]
    assert sex("xy") == ("xy", ("VOCABULARY_UNMATCHED",))
    basis = Translator("basisOfRecord")
    assert basis("Preserved Specimen") == ("PreservedSpecimen", ())
    assert basis("Spécimen fossile") == ("FossilSpecimen", ())
    assert basis("specimen?") == ("specimen?", ("BASIS_OF_RECORD_INVALID",))
    with pytest.raises(KeyError, match="unknown vocabulary"):
        Translator("colour")


def test_numbers():
    assert interpret_count("3") == ("3", ()) and interpret_count("3.0") == ("3", ())
    assert interpret_count("-1") == (None, ("INDIVIDUAL_COUNT_INVALID",))
    assert interpret_metres("1 200,5 m", "ELEVATION_NON_NUMERIC") == (None, ("ELEVATION_NON_NUMERIC",))
    assert interpret_metres("1200 m", "ELEVATION_NON_NUMERIC") == ("1200", ())
    assert interpret_metres("0", "X", positive=True) == (None, ("X",))


def test_as_text_trims_and_nulls_empty_strings():
    assert as_text(pa.array([" a ", "", None, "b"])).to_pylist() == ["a", None, None, "b"]
    assert as_text(pa.array([50.85, None, 4.0])).to_pylist() == ["50.85", None, "4"]
    assert as_text(pa.array([None, None])).to_pylist() == [None, None]


def _plan(**sources) -> MappingPlan:
    parsed = {t: TermSource(**s) if isinstance(s, dict) else TermSource(column=s) for t, s in sources.items()}
    chosen = {t: f for t, f in interpreters().items() if t in parsed}
    verbatim = {t: v for t, v in {"eventDate": "verbatimEventDate", "decimalLatitude": "verbatimLatitude"}.items()
                if t in parsed and v not in parsed}
    return MappingPlan(parsed, chosen, verbatim, uuid.UUID(int=1))


def test_map_batch_applies_sources_interpreters_and_verbatim_terms():
    batch = pa.RecordBatch.from_pydict({
        "guid": ["a", "b", None], "basis": ["preserved specimen", "fossil", "oops"],
        "start": ["12/05/1887", "1887-02-30", None], "end": [None, None, None],
        "lat": [None, 50.5, None], "lat_text": ["50°30'N", None, "nonsense"], "country": ["België", "Atlantis", None],
    })
    plan = _plan(occurrenceID={"template": "https://x.org/{guid}"}, basisOfRecord="basis",
                 eventDate={"column": "start", "end": "end"}, decimalLatitude={"column": ["lat", "lat_text"]},
                 countryCode="country", institutionCode={"constant": "RBINS"})
    table, issues = map_batch(batch, plan)
    assert table.column_names[0] == "occurrenceID"
    rows = table.to_pylist()
    assert rows[0] == {"occurrenceID": "https://x.org/a", "basisOfRecord": "PreservedSpecimen",
                       "eventDate": "1887-05-12", "decimalLatitude": "50.5", "countryCode": "BE",
                       "institutionCode": "RBINS", "verbatimEventDate": "12/05/1887", "verbatimLatitude": "50°30'N"}
    assert rows[1]["eventDate"] is None and rows[1]["verbatimEventDate"] == "1887-02-30"
    assert rows[1]["decimalLatitude"] == "50.5" and rows[1]["verbatimLatitude"] is None
    assert rows[2]["occurrenceID"] is None  # a template over a missing key gives no identifier
    found = {(r["row"], r["term"], r["flag"], r["value"]) for r in issues.to_pylist()}
    assert found == {(1, "eventDate", "RECORDED_DATE_INVALID", "1887-02-30"),
                     (1, "countryCode", "COUNTRY_INVALID", "Atlantis"),
                     (2, "basisOfRecord", "BASIS_OF_RECORD_INVALID", "oops"),
                     (2, "decimalLatitude", "COORDINATE_INVALID", "nonsense"),
                     (2, "occurrenceID", "TEMPLATE_EMPTY", "{guid}")}  # the empty column is named


def test_uuid5_identifiers_are_stable_and_distinct():
    batch = pa.RecordBatch.from_pydict({"key": ["1", "2", "1"]})
    plan = _plan(occurrenceID={"uuid5": "RBINS:{key}"})
    first = map_batch(batch, plan)[0]["occurrenceID"].to_pylist()
    again = map_batch(batch, plan)[0]["occurrenceID"].to_pylist()
    assert first == again and first[0] == first[2] != first[1]
    assert first[0] == f"urn:uuid:{uuid.uuid5(uuid.UUID(int=1), 'RBINS:1')}"


def test_a_missing_source_column_is_named():
    plan = _plan(occurrenceID={"template": "{guid}"}, eventDate={"column": "start_dat"})
    with pytest.raises(MappingError, match=r"mapping.eventDate: column\(s\) start_dat not in the source"):
        map_batch(pa.RecordBatch.from_pydict({"guid": ["a"], "start_date": ["1900"]}), plan)
