"""Templates and joins never blank a value silently (issue 9, item 5), through map_batch."""
from __future__ import annotations

import uuid

import pyarrow as pa
import pytest

from mobilise.mappers.mapping import MappingPlan, map_batch
from mobilise.settings import TermSource, parse_template

DARWIN_CATALOG_NUMBER = "{code_prefix}{code_prefix_separator}{code}{code_suffix}"


def _map(columns: dict, **sources) -> tuple[list[dict], set[tuple]]:
    parsed = {"occurrenceID": TermSource(column="guid")}
    parsed.update({term: TermSource(**source) for term, source in sources.items()})
    batch = pa.RecordBatch.from_pydict({"guid": [f"g{i}" for i in range(len(next(iter(columns.values()))))],
                                        **columns})
    table, issues = map_batch(batch, MappingPlan(parsed, {}, {}, uuid.UUID(int=1)))
    return table.to_pylist(), {(r["row"], r["term"], r["flag"], r["value"]) for r in issues.to_pylist()}


def test_darwin_catalogue_number_without_suffix_is_published_whole():
    # DaRWIN: prefix IG, separator '.', code 1 (an integer column), suffix NULL or empty in most records
    rows, issues = _map({"code_prefix": ["IG", "IG", "IG", "IG"], "code_prefix_separator": [".", ".", ".", None],
                         "code": pa.array([1, 2, 3, 4], pa.int64()), "code_suffix": [None, "", "bis", None]},
                        catalogNumber={"template": DARWIN_CATALOG_NUMBER})
    assert [r["catalogNumber"] for r in rows] == ["IG.1", "IG.2", "IG.3bis", "IG4"]
    assert issues == set()


def test_an_optional_group_leaves_its_literal_separator_out():
    rows, issues = _map({"prefix": ["IG", None, "IG", None], "number": ["1", "2", None, None]},
                        catalogNumber={"template": "[{prefix}-]{number}"},
                        otherCatalogNumbers={"template": "{prefix}[-{number}]"})
    assert [r["catalogNumber"] for r in rows] == ["IG-1", "2", "IG-", None]
    # a group is left out for its own columns only: '-2' is what '{prefix}[-{number}]' says without a prefix
    assert [r["otherCatalogNumbers"] for r in rows] == ["IG-1", "-2", "IG", None]
    # row 3: every column is empty: nothing is published, and the record says why
    assert issues == {(3, "catalogNumber", "TEMPLATE_EMPTY", "{prefix} {number}"),
                      (3, "otherCatalogNumbers", "TEMPLATE_EMPTY", "{prefix} {number}")}


def test_a_template_that_yields_nothing_is_flagged_not_published_as_its_literal_text():
    rows, issues = _map({"code": [None, "7"], "suffix": ["", None]},
                        catalogNumber={"template": "IG.{code}{suffix}"},
                        references={"template": "https://collections.example.org/specimen/{code}"})
    assert [r["catalogNumber"] for r in rows] == [None, "IG.7"]
    assert [r["references"] for r in rows] == [None, "https://collections.example.org/specimen/7"]
    assert issues == {(0, "catalogNumber", "TEMPLATE_EMPTY", "{code} {suffix}"),
                      (0, "references", "TEMPLATE_EMPTY", "{code}")}


def test_identifier_terms_need_every_part_so_a_missing_key_shows():
    rows, issues = _map({"code": ["1", "2", None], "code_suffix": [None, "b", "c"]},
                        materialEntityID={"template": "https://x.org/IG.{code}{code_suffix}"},
                        organismID={"template": "IG.{code}[-{code_suffix}]"})
    assert [r["materialEntityID"] for r in rows] == [None, "https://x.org/IG.2b", None]
    assert [r["organismID"] for r in rows] == ["IG.1", "IG.2-b", None]
    assert issues == {(0, "materialEntityID", "TEMPLATE_EMPTY", "{code_suffix}"),
                      (2, "materialEntityID", "TEMPLATE_EMPTY", "{code}"),
                      (2, "organismID", "TEMPLATE_EMPTY", "{code}")}


def test_occurrence_id_template_with_a_missing_part_gives_no_identifier():
    parsed = {"occurrenceID": TermSource(template="https://x.org/{code}{code_suffix}")}
    batch = pa.RecordBatch.from_pydict({"code": ["1", "2"], "code_suffix": [None, "a"]})
    table, issues = map_batch(batch, MappingPlan(parsed, {}, {}, uuid.UUID(int=1)))
    assert table["occurrenceID"].to_pylist() == [None, "https://x.org/2a"]  # row 0 is an error downstream
    assert issues.to_pylist() == [{"row": 0, "term": "occurrenceID", "flag": "TEMPLATE_EMPTY",
                                   "value": "{code_suffix}"}]


def test_uuid5_keeps_the_identifier_rule():
    rows, issues = _map({"collection": ["IG", "IG", None], "number": ["1", None, "3"]},
                        organismID={"uuid5": "{collection}:{number}"})
    assert rows[0]["organismID"] == f"urn:uuid:{uuid.uuid5(uuid.UUID(int=1), 'IG:1')}"
    assert rows[1]["organismID"] is None and rows[2]["organismID"] is None
    assert issues == {(1, "organismID", "TEMPLATE_EMPTY", "{number}"),
                      (2, "organismID", "TEMPLATE_EMPTY", "{collection}")}


def test_join_concatenates_the_non_empty_columns():
    rows, issues = _map({"collector_1": ["Ada Curator", None, "", None, " A. Smith "],
                         "collector_2": ["B. Jones", "B. Jones", "C. Day", None, None],
                         "collector_3": [None, "D. Lee", None, None, ""]},
                        recordedBy={"join": ["collector_1", "collector_2", "collector_3"], "separator": " | "},
                        identifiedBy={"join": ["collector_1", "collector_2"]},
                        recordNumber={"join": ["collector_2"], "separator": "; "})
    assert [r["recordedBy"] for r in rows] == ["Ada Curator | B. Jones", "B. Jones | D. Lee", "C. Day", None,
                                               "A. Smith"]
    assert [r["identifiedBy"] for r in rows] == ["Ada Curator | B. Jones", "B. Jones", "C. Day", None, "A. Smith"]
    assert [r["recordNumber"] for r in rows] == ["B. Jones", "B. Jones", "C. Day", None, None]
    assert issues == set()  # like a column, an empty join is no value, not a fault


def test_template_syntax():
    assert parse_template("{code_prefix}[.{code}]") == (
        ("column", "code_prefix"), ("group", (("text", "."), ("column", "code"))))
    assert parse_template("[[{ code }]]") == (("text", "["), ("column", "code"), ("text", "]"))
    for text, message in [("IG.1", "names no {column}"), ("{code", "opens no {column}"),
                          ("code}", "closes no '{'"), ("{a}[.{b}", "not closed"), ("{a}].", "closes no '['"),
                          ("{a}[.]", "names no {column}"), ("[{a}[{b}]]]", "do not nest")]:
        with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("[", r"\[")):
            parse_template(text)


def test_doubled_braces_are_literal_braces_in_a_template():
    from mobilise.settings import parse_template

    assert parse_template('{{"where": "{locality}"}}') == (
        ("text", '{"where": "'), ("column", "locality"), ("text", '"}'))
