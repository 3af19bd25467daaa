"""check_extension_rows on rows as a DaRWIN- or Specify-like collection database maps them to each extension."""
from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from mobilise.flags import FLAGS, severities
from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.validators.dissco import DISSCO_FLAGS, DISSCO_MEDIA_FLAGS
from mobilise.validators.extensions import check_extension_rows, media_type
from mobilise.validators.registry import CheckContext

TODAY = date(2026, 12, 1)
IMG = "https://darwin.naturalsciences.be/media/IG-32011/{}.jpg"


def issues(name: str, rows: list[dict], dataset_license: str | None = "CC-BY-4.0") -> list[tuple]:
    """(row, term, flag, value) sorted, for rows given as dicts (every row gets every column)."""
    columns = sorted({key for row in rows for key in row})
    table = pa.table({c: pa.array([row.get(c) for row in rows], pa.string()) for c in columns})
    found = check_extension_rows(name, table, CheckContext(today=TODAY, dataset_license=dataset_license))
    assert found.schema == ISSUE_SCHEMA
    return sorted(zip(*(found[c].to_pylist() for c in ("row", "term", "flag", "value"))))


GOOD_MEDIA = {"identifier": IMG.format(1), "format": "image/jpeg", "license": "CC-BY-4.0", "created": "2019-04-03",
              "title": "Carabus auratus, dorsal view"}


def test_a_complete_media_row_passes():
    assert issues("multimedia", [GOOD_MEDIA, {**GOOD_MEDIA, "format": "IMAGE/PNG",
                                              "license": "http://creativecommons.org/licenses/by/4.0/legalcode",
                                              "created": "2019-04-03T10:15:00Z"},
                                 {**GOOD_MEDIA, "format": "image/jpeg; charset=binary", "license": None}]) == []


def test_a_media_row_without_any_link_is_the_only_error():
    found = issues("multimedia", [
        {**GOOD_MEDIA, "identifier": None},  # no link at all
        {**GOOD_MEDIA, "identifier": "IMG_0012.JPG"},  # a file name: no link either
        {**GOOD_MEDIA, "identifier": None, "references": "https://darwin.naturalsciences.be/specimen/12"},
        {**GOOD_MEDIA, "identifier": "www.naturalsciences.be/media/3.jpg",
         "references": "https://darwin.naturalsciences.be/specimen/13"},
        {**GOOD_MEDIA, "identifier": "https://darwin.naturalsciences.be/media/my photo.jpg"},
        {**GOOD_MEDIA, "identifier": "ftp://ftp.naturalsciences.be/3.jpg", "references": "not a link"},
    ])
    assert found == [
        (0, "identifier", "MULTIMEDIA_URI_MISSING", None),
        (1, "identifier", "MULTIMEDIA_URI_MISSING", "IMG_0012.JPG"),
        (2, "identifier", "MULTIMEDIA_ACCESS_URI_MISSING", None),
        (3, "identifier", "MULTIMEDIA_ACCESS_URI_INVALID", "www.naturalsciences.be/media/3.jpg"),
        (4, "identifier", "MULTIMEDIA_URI_MISSING", "https://darwin.naturalsciences.be/media/my photo.jpg"),
        (5, "identifier", "MULTIMEDIA_URI_MISSING", "ftp://ftp.naturalsciences.be/3.jpg"),
    ]
    levels = severities()
    assert [levels[flag] for flag in ("MULTIMEDIA_URI_MISSING", "MULTIMEDIA_ACCESS_URI_MISSING",
                                      "MULTIMEDIA_ACCESS_URI_INVALID")] == ["error", "warning", "warning"]
    # GBIF drops an invalid access URI: so does the validate stage, the row keeping its references
    assert FLAGS["MULTIMEDIA_ACCESS_URI_INVALID"].removes_value


def test_media_format_must_be_a_mime_type():
    found = issues("multimedia", [{**GOOD_MEDIA, "format": "image/jpg"}, {**GOOD_MEDIA, "format": "JPEG"},
                                  {**GOOD_MEDIA, "format": None}, {**GOOD_MEDIA, "format": " audio/x-wav "},
                                  {**GOOD_MEDIA, "format": "video/quicktime"}])
    assert found == [(0, "format", "MULTIMEDIA_FORMAT_INVALID", "image/jpg"),
                     (1, "format", "MULTIMEDIA_FORMAT_INVALID", "JPEG"),
                     (2, "format", "MULTIMEDIA_FORMAT_MISSING", None)]
    assert FLAGS["MULTIMEDIA_FORMAT_INVALID"].removes_value and not FLAGS["MULTIMEDIA_FORMAT_MISSING"].removes_value
    assert media_type("http://purl.org/NET/mediatypes/image/tiff") == "image/tiff"
    assert media_type("image/x-unknown") is None and media_type(None) is None


def test_media_licence_own_or_the_datasets_as_dissco_reads_it():
    rows = [{**GOOD_MEDIA, "license": "CC BY-NC 4.0"}, {**GOOD_MEDIA, "license": "All rights reserved"},
            {**GOOD_MEDIA, "license": "CC0-1.0"}, {**GOOD_MEDIA, "license": None},
            {**GOOD_MEDIA, "license": "https://creativecommons.org/licenses/by/3.0/"}]
    assert issues("multimedia", rows, dataset_license="CC0-1.0") == [
        (0, "license", "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED", "CC BY-NC 4.0"),
        (1, "license", "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED", "All rights reserved"),
        (4, "license", "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED", "https://creativecommons.org/licenses/by/3.0/"),
    ]
    # a row without its own licence takes the dataset's: refused by DiSSCo when the dataset's is CC BY-NC
    assert (3, "license", "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED", "CC-BY-NC-4.0") in issues(
        "multimedia", rows, dataset_license="CC-BY-NC-4.0")
    # no licence anywhere
    assert (3, "license", "MULTIMEDIA_LICENSE_MISSING", None) in issues("multimedia", rows, dataset_license=None)
    # a licence is never removed, and DiSSCo's media flags are apart from its record flags
    assert not FLAGS["DISSCO_MEDIA_LICENSE_NOT_ACCEPTED"].removes_value
    assert "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED" in DISSCO_MEDIA_FLAGS
    assert "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED" not in DISSCO_FLAGS


def test_media_creation_date_is_iso_8601():
    assert issues("multimedia", [{**GOOD_MEDIA, "created": "03/04/2019"}, {**GOOD_MEDIA, "created": "2019-02-30"},
                                 {**GOOD_MEDIA, "created": "2019-04"}]) == [
        (0, "created", "MULTIMEDIA_DATE_INVALID", "03/04/2019"),
        (1, "created", "MULTIMEDIA_DATE_INVALID", "2019-02-30")]
    assert FLAGS["MULTIMEDIA_DATE_INVALID"].gbif


def test_audubon_rows_by_prefixed_names_and_iris():
    good = {"ac:accessURI": IMG.format(7), "dc:format": "image/jpeg",
            "http://purl.org/dc/terms/rights": "https://creativecommons.org/publicdomain/zero/1.0/",
            "identifier": "urn:uuid:5a7b0d4e-8a4f-4c53-9c89-2f35d3c1f0aa", "CreateDate": "2021-06-01T09:00"}
    found = issues("audubon", [
        good,
        {**good, "ac:accessURI": None, "identifier": IMG.format(8)},  # DiSSCo reads identifier instead
        {**good, "ac:accessURI": None},  # the identifier is no link: refused
        {**good, "dc:format": None, "dcterms:format": "http://purl.org/NET/mediatypes/image/tiff"},
        {**good, "dc:format": "tiff"},
        {**good, "http://purl.org/dc/terms/rights": None, "rights": "© RBINS"},
        {**good, "CreateDate": "June 2021"},
    ])
    assert found == [
        (1, "ac:accessURI", "MULTIMEDIA_ACCESS_URI_MISSING", None),
        (2, "ac:accessURI", "MULTIMEDIA_URI_MISSING", None),
        (4, "dc:format", "MULTIMEDIA_FORMAT_INVALID", "tiff"),
        (5, "rights", "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED", "© RBINS"),
        (6, "CreateDate", "MULTIMEDIA_DATE_INVALID", "June 2021"),
    ]


def test_identification_needs_a_name_and_an_iso_date():
    good = {"scientificName": "Carabus auratus Linnaeus, 1761", "identifiedBy": "Desender, K.",
            "dateIdentified": "1998-04-12"}
    found = issues("identification", [
        good,
        {"identifiedBy": "Desender, K.", "dateIdentified": "1998"},  # no name
        {"taxonID": "https://www.gbif.org/species/4470555"},
        {"verbatimIdentification": "Carabus cf. auratus"},
        {**good, "dateIdentified": "12.V.1887"},  # the mapper reads it in the source's order; here it is not ISO
        {**good, "dateIdentified": "2999-01-01"},
        {**good, "dateIdentified": "1650"},
        {**good, "dateIdentified": "1998-04/1998-06"},
    ])
    assert found == [
        (1, "scientificName", "IDENTIFICATION_NAME_MISSING", None),
        (4, "dateIdentified", "IDENTIFIED_DATE_INVALID", "12.V.1887"),
        (5, "dateIdentified", "IDENTIFIED_DATE_UNLIKELY", "2999-01-01"),
        (6, "dateIdentified", "IDENTIFIED_DATE_UNLIKELY", "1650"),
    ]
    assert FLAGS["IDENTIFIED_DATE_INVALID"].removes_value and severities()["IDENTIFICATION_NAME_MISSING"] == "warning"


def test_measurements_need_a_type_and_a_value():
    assert issues("measurement_or_fact", [
        {"measurementType": "wing length", "measurementValue": "12.5", "measurementUnit": "mm"},
        {"measurementValue": "12.5"}, {"measurementType": "wing length"}, {"measurementRemarks": "lost"},
    ]) == [(1, "measurementType", "MEASUREMENT_TYPE_MISSING", None),
           (2, "measurementValue", "MEASUREMENT_VALUE_MISSING", None),
           (3, "measurementType", "MEASUREMENT_TYPE_MISSING", None),
           (3, "measurementValue", "MEASUREMENT_VALUE_MISSING", None)]
    # OBIS eMoF: a type or value given by its vocabulary IRI counts
    assert issues("extended_measurement_or_fact", [
        {"measurementTypeID": "http://vocab.nerc.ac.uk/collection/P01/current/OBSINDLX/", "measurementValue": "3"},
        {"measurementType": "sex", "measurementValueID": "http://vocab.nerc.ac.uk/collection/S10/current/S102/"},
        {"measurementType": "sex"},
    ]) == [(2, "measurementValue", "MEASUREMENT_VALUE_MISSING", None)]
    # the OBIS IDs are no MoF terms: in a plain MoF batch they do not count
    assert issues("measurement_or_fact", [{"measurementTypeID": "http://vocab.nerc.ac.uk/x",
                                           "measurementValue": "3"}]) == [
        (0, "measurementType", "MEASUREMENT_TYPE_MISSING", None)]


def test_relationships_need_a_related_resource_and_a_relationship():
    assert issues("resource_relationship", [
        {"resourceID": "RBINS:IG32011:1", "relatedResourceID": "https://www.gbif.org/occurrence/1",
         "relationshipOfResource": "same specimen as"},
        {"resourceID": "RBINS:IG32011:1", "relationshipOfResource": "parasite of"},
        {"resourceID": "RBINS:IG32011:1", "relatedResourceID": "RBINS:IG32011:2",
         "relationshipOfResourceID": "http://purl.obolibrary.org/obo/RO_0002444"},
        {"resourceID": "RBINS:IG32011:1", "relatedResourceID": "RBINS:IG32011:2"},
    ]) == [(1, "relatedResourceID", "RELATED_RESOURCE_ID_MISSING", None),
           (3, "relationshipOfResource", "RELATIONSHIP_OF_RESOURCE_MISSING", None)]


def test_batches_of_any_shape():
    assert issues("occurrence", [{"occurrenceID": "x", "basisOfRecord": "HumanObservation"}]) == []
    empty = check_extension_rows("identification", pa.table({"scientificName": pa.array([], pa.string())}))
    assert empty.num_rows == 0 and empty.schema == ISSUE_SCHEMA
    # numbers as the database gives them, and columns that are no terms of the extension
    table = pa.table({"measurementType": ["mass", None], "measurementValue": pa.array([3, 4], pa.int64()),
                      "object_id": [1, 2]})
    found = check_extension_rows("measurement_or_fact", table)
    assert found.to_pylist() == [{"row": 1, "term": "measurementType", "flag": "MEASUREMENT_TYPE_MISSING",
                                  "value": None}]
    with pytest.raises(ValueError, match="did you mean 'identification'"):
        check_extension_rows("identifications", table)


def test_every_extension_flag_is_registered_and_only_a_linkless_media_row_is_an_error():
    extension_flags = {"MULTIMEDIA_URI_MISSING", "MULTIMEDIA_ACCESS_URI_MISSING", "MULTIMEDIA_ACCESS_URI_INVALID",
                       "MULTIMEDIA_FORMAT_MISSING", "MULTIMEDIA_FORMAT_INVALID", "MULTIMEDIA_DATE_INVALID",
                       "MULTIMEDIA_LICENSE_MISSING", "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED",
                       "IDENTIFICATION_NAME_MISSING", "MEASUREMENT_TYPE_MISSING", "MEASUREMENT_VALUE_MISSING",
                       "RELATED_RESOURCE_ID_MISSING", "RELATIONSHIP_OF_RESOURCE_MISSING"}
    assert extension_flags <= set(FLAGS)
    assert {flag for flag in extension_flags if FLAGS[flag].severity == "error"} == {"MULTIMEDIA_URI_MISSING"}


def test_a_large_batch_is_judged_per_distinct_value():
    n = 60_000
    table = pa.table({"identifier": [IMG.format(i) if i % 3 else "scan.tif" for i in range(n)],
                      "format": ["image/jpeg" if i % 2 else "image/jpg" for i in range(n)],
                      "license": ["CC-BY-4.0"] * n})
    found = check_extension_rows("multimedia", table, CheckContext(dataset_license="CC0-1.0"))
    grouped = pa.TableGroupBy(found, "flag").aggregate([("row", "count")])
    counts = dict(zip(grouped["flag"].to_pylist(), grouped["row_count"].to_pylist()))
    assert counts == {"MULTIMEDIA_URI_MISSING": n // 3, "MULTIMEDIA_FORMAT_INVALID": n // 2}
