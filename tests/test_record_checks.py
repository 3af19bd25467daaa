"""Record checks GBIF makes while indexing (or has no flag for): duplicate catalogue numbers within institutionCode
+ collectionCode over the whole dataset, ORCID iDs with a wrong check digit, URIs in associatedMedia, sentinel
numbers in elevation and depth. Real values through the registry (`assess`) and the run's steps."""
from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from mobilise.catalog import CORE, Entry, RunCatalog
from mobilise.flags import FLAGS, severities
from mobilise.flows import steps
from mobilise.mappers.mapping import ISSUE_SCHEMA, MappingPlan
from mobilise.settings import ValidationConfig
from mobilise.validators.dataset import duplicate_triplets, triplet_keys
from mobilise.validators.quality import assess
from mobilise.validators.registry import CheckContext

TODAY = date(2026, 11, 22)
BASE = {"basisOfRecord": "PreservedSpecimen", "scientificName": "Carabus auratus", "eventDate": "1887-05-12"}


def _table(*records: dict) -> pa.Table:
    rows = [{"occurrenceID": f"urn:x:{n}", **BASE, **record} for n, record in enumerate(records)]
    terms = sorted({term for row in rows for term in row})
    return pa.Table.from_pylist(rows, schema=pa.schema([(t, pa.string()) for t in terms]))


def _assess(table: pa.Table, context: CheckContext | None = None):
    return assess(table, ISSUE_SCHEMA.empty_table(), context or CheckContext(today=TODAY), ValidationConfig(),
                  severities())


def _flagged(issues: pa.Table, flag: str) -> dict[int, tuple[str, str]]:
    """row -> (term, value) of the issue rows of `flag`."""
    return {row["row"]: (row["term"], row["value"]) for row in issues.to_pylist() if row["flag"] == flag}


def test_orcid_with_a_wrong_check_digit_is_flagged_and_the_record_published():
    table = _table(
        {"recordedByID": "https://orcid.org/0000-0002-1825-0097"},                      # 0 ORCID's own example
        {"recordedByID": "https://orcid.org/0000-0002-1825-0098"},                      # 1 wrong check digit
        {"recordedByID": "0000-0002-1694-233X | https://orcid.org/0000-0002-1825-0096"},  # 2 second is wrong
        {"recordedByID": "http://www.wikidata.org/entity/Q42 | 0000000218250097"},     # 3 Wikidata + bare ORCID
        {"recordedByID": "https://orcid.org/0000-0002-1825"},                           # 4 too short
        {"identifiedByID": "https://orcid.org/0000-0002-1694-2338"},                    # 5 X is the right digit
        {"identifiedByID": "https://orcid.org/0000-0002-1694-233X"},                    # 6
    )
    result = _assess(table)
    assert _flagged(result.issues, "RECORDED_BY_ID_INVALID") == {
        1: ("recordedByID", "https://orcid.org/0000-0002-1825-0098"),
        2: ("recordedByID", "0000-0002-1694-233X | https://orcid.org/0000-0002-1825-0096"),
        4: ("recordedByID", "https://orcid.org/0000-0002-1825")}
    assert _flagged(result.issues, "IDENTIFIED_BY_ID_INVALID") == {
        5: ("identifiedByID", "https://orcid.org/0000-0002-1694-2338")}
    assert FLAGS["RECORDED_BY_ID_INVALID"].severity == FLAGS["IDENTIFIED_BY_ID_INVALID"].severity == "warning"
    assert result.publishable.tolist() == [True] * 7


def test_every_uri_of_associated_media_is_checked():
    table = _table(
        {"associatedMedia": "https://example.org/media/1.jpg"},
        {"associatedMedia": "https://example.org/media/1.jpg | https://example.org/media/2.tif"},
        {"associatedMedia": "https://example.org/media/1.jpg,https://example.org/media/2.tif"},
        {"associatedMedia": "https://example.org/media/1.jpg | photo in drawer 3"},
        {"associatedMedia": "IMG 0001.JPG"},
        {"references": "see label"},
    )
    issues = _assess(table).issues
    assert _flagged(issues, "MULTIMEDIA_URI_INVALID") == {
        3: ("associatedMedia", "https://example.org/media/1.jpg | photo in drawer 3"),
        4: ("associatedMedia", "IMG 0001.JPG")}
    assert _flagged(issues, "REFERENCES_URI_INVALID") == {5: ("references", "see label")}


@pytest.mark.parametrize("term,flag", [("minimumElevationInMeters", "ELEVATION_SENTINEL"),
                                       ("maximumElevationInMeters", "ELEVATION_SENTINEL"),
                                       ("minimumDepthInMeters", "DEPTH_SENTINEL"),
                                       ("maximumDepthInMeters", "DEPTH_SENTINEL")])
def test_sentinel_numbers_in_elevation_and_depth_are_flagged(term, flag):
    sentinels = ["9999", "-9999", "99999", "-99999", "9999.0"]
    if flag == "DEPTH_SENTINEL":  # depth is published as given (GBIF reads units and ranges); elevation as a number
        sentinels += ["10-9999", "9999 m"]
    values = sentinels + ["999", "1999", "8848", "9999.5", "-430", None]  # real values (or none)
    issues = _assess(_table(*({term: value} for value in values))).issues
    assert _flagged(issues, flag) == {row: (term, values[row]) for row in range(len(sentinels))}


def test_a_sentinel_is_not_published_as_an_elevation_or_depth():
    table = _table({"minimumElevationInMeters": "-9999", "maximumElevationInMeters": "120",
                    "maximumDepthInMeters": "9999"},
                   {"minimumElevationInMeters": "999", "maximumDepthInMeters": "999"})
    result = _assess(table)
    published = result.table.to_pylist()
    assert [(r["minimumElevationInMeters"], r["maximumElevationInMeters"], r["maximumDepthInMeters"])
            for r in published] == [(None, "120", None), ("999", None, "999")]
    # the originals are kept in Darwin Core's verbatim terms
    assert [(r["verbatimElevation"], r["verbatimDepth"]) for r in published] == [("-9999", "9999"), (None, None)]
    assert result.publishable.tolist() == [True, True]


def test_duplicate_catalogue_numbers_within_institution_and_collection_are_flagged():
    table = _table(
        {"institutionCode": "RBINS", "collectionCode": "ENT", "catalogNumber": "RBINS-ENT-000123"},   # 0
        {"institutionCode": "RBINS", "collectionCode": "ENT", "catalogNumber": "RBINS-ENT-000123"},   # 1 same
        {"institutionCode": "RBINS", "collectionCode": "VERT", "catalogNumber": "RBINS-ENT-000123"},  # 2 other coll.
        {"institutionCode": "MBG", "catalogNumber": "BR-000001"},                                    # 3 no collection
        {"institutionCode": "MBG", "catalogNumber": "BR-000001"},                                    # 4 same
        {"institutionCode": "MBG", "collectionCode": "BR"},                                          # 5 no number
        {"institutionCode": "MBG", "collectionCode": "BR"},                                          # 6 no number
    )
    triplets = pa.table({"institutionCode": ["RBINS", "MBG"], "collectionCode": ["ENT", ""],
                         "catalogNumber": ["RBINS-ENT-000123", "BR-000001"]})
    context = CheckContext(today=TODAY, duplicate_triplets=triplet_keys(triplets))
    result = _assess(table, context)
    assert sorted(_flagged(result.issues, "CATALOG_NUMBER_DUPLICATED")) == [0, 1, 3, 4]
    assert result.publishable.tolist() == [True] * 7  # a warning: the occurrenceIDs are unique


def test_the_triplet_rule_spans_the_batches_of_a_run(sqlite_config, tmp_path):
    """Two mapped batches through the run's steps: the dataset pass finds what no batch alone shows."""
    folder = tmp_path / "run"
    folder.mkdir()
    catalog = RunCatalog(folder)
    first = _table({"institutionCode": "RBINS", "collectionCode": "ENT", "catalogNumber": "IG 12345"},
                   {"institutionCode": "RBINS", "collectionCode": "ENT", "catalogNumber": "IG 1"},
                   {"institutionCode": "RBINS", "collectionCode": "ENT"})
    second = _table({"institutionCode": "RBINS", "collectionCode": "VERT", "catalogNumber": "IG 1"},
                    {"institutionCode": "RBINS", "collectionCode": "ENT", "catalogNumber": "IG 12345"},
                    {"institutionCode": "RBINS", "collectionCode": "ENT"})
    second = second.set_column(second.schema.get_field_index("occurrenceID"), "occurrenceID",
                               pa.array([f"urn:y:{n}" for n in range(3)]))
    plan = MappingPlan.from_config(sqlite_config)
    mapped = []
    for batch, table in (("000001", first), ("000002", second)):
        for term in plan.terms:  # every term the sample maps, empty where these records give none
            if term not in table.column_names:
                table = table.append_column(term, pa.nulls(table.num_rows, pa.string()))
        entry = catalog.save(Entry("mapped", CORE, batch), table)
        catalog.save(entry.of("mapping_issues"), ISSUE_SCHEMA.empty_table())
        # the source rows: the columns the occurrenceID is made from (the sample's guid) are all the step reads
        catalog.save(entry.of("extracted"), pa.table({name: table["occurrenceID"]
                                                       for name in plan.sources["occurrenceID"].columns}))
        mapped.append(entry)
    duplicates = steps.find_duplicates(catalog)
    found = catalog.load(duplicates.of("duplicate_triplets")).to_pylist()
    assert found == [{"institutionCode": "RBINS", "collectionCode": "ENT", "catalogNumber": "IG 12345"}]
    assert duplicate_triplets(catalog.files(mapped[:1]), catalog.scratch("duckdb")).num_rows == 0

    steps.validate_batches(sqlite_config, plan, catalog, mapped, duplicates, today=TODAY)
    flagged = [sorted(_flagged(catalog.load(entry.of("issues")), "CATALOG_NUMBER_DUPLICATED")) for entry in mapped]
    assert flagged == [[0], [1]]
    assert [catalog.load(entry.of("valid")).num_rows for entry in mapped] == [3, 3]  # published, with the warning


def test_no_catalogue_number_column_no_triplets(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    catalog = RunCatalog(folder)
    catalog.save(Entry("mapped", CORE, "000001"), _table({}, {}))
    files = catalog.files(catalog.entries("mapped"))
    assert duplicate_triplets(files, catalog.scratch("duckdb")).num_rows == 0
    assert duplicate_triplets([], catalog.scratch("duckdb")).column_names == ["institutionCode", "collectionCode",
                                                                             "catalogNumber"]
