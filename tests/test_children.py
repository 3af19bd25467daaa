"""Child tables joined into core terms (children:, mappers/children.py): one config for SQLite, PostgreSQL and
MariaDB, with no group_concat or string_agg in the source's SQL."""
from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from mobilise.mappers.children import SEPARATOR_MARK, ChildJoin, ChildJoinError, join_children
from mobilise.mappers.mapping import MappingError, MappingPlan, map_batch
from mobilise.settings import ConfigError, load_config
from tests.pipeline_helpers import read_core_with_pandas, read_quarantine, run_stages
from tests.services import mariadb_db, postgres_db  # noqa: F401  (fixtures)


# --- the join, a pure function over Arrow tables and Parquet files ----------------------------------------------

def _parquet(path: Path, table: pa.Table) -> str:
    pq.write_table(table, path)
    return str(path)


COLLECTORS = ChildJoin("collectors", "name", ("specimen",), ("position",), " | ")


def test_values_are_joined_per_record_in_position_order_skipping_empty_ones(tmp_path):
    # rows out of position order, across two batches; position 10 comes after 9 (numbers, not text)
    first = _parquet(tmp_path / "000001.parquet", pa.table({
        "specimen": [1, 1, 2, 1], "position": [10, 2, 1, None], "name": ["Ten", "Two", "  ", "Unplaced"]}))
    second = _parquet(tmp_path / "000002.parquet", pa.table({
        "specimen": [1, 3, 1], "position": [9, 1, 1], "name": ["Nine", None, "One"]}))
    core = pa.table({"id": [3, 1, 2, 4], "catalog": ["c", "a", "b", "d"]})
    with duckdb.connect() as connection:
        joined = join_children(core, ["id"], [COLLECTORS], {"collectors": [first, second]}, connection)
    assert joined["catalog"].to_pylist() == ["c", "a", "b", "d"]  # core rows and columns kept, in order
    # specimen 1: by position (1, 2, 9, 10), the one without a position last; 2 and 3: only empty names; 4: none
    assert joined["collectors.name"].to_pylist() == [None, "One | Two | Nine | Ten | Unplaced", None, None]
    assert joined["collectors.name" + SEPARATOR_MARK].to_pylist() == [None, None, None, None]


def test_keys_match_as_text_and_equal_positions_keep_source_order(tmp_path):
    # a CSV child holds its keys as text ('007' is not 7), the core as integers; a compound key
    child = _parquet(tmp_path / "000001.parquet", pa.table({
        "coll": ["A", "A", "B", "A"], "number": [" 7", "7", "7", "007"], "seq": ["1", "1", "1", "1"],
        "who": ["first", "second", "other collection", "not 7"]}))
    join = ChildJoin("people", "who", ("coll", "number"), ("seq",), "; ")
    core = pa.table({"collection": ["A", "B", "A"], "n": [7, 7, 8]})
    with duckdb.connect() as connection:
        joined = join_children(core, ["collection", "n"], [join], {"people": [child]}, connection)
    assert joined["people.who"].to_pylist() == ["first; second", "other collection", None]


def test_a_value_holding_the_separator_is_marked_and_flagged_by_the_mapper(tmp_path, monkeypatch):
    child = _parquet(tmp_path / "000001.parquet", pa.table({
        "specimen": [1, 1, 2], "position": [1, 2, 1], "name": ["Dupont | Durand", "Smith", "Jones"]}))
    with duckdb.connect() as connection:
        joined = join_children(pa.table({"id": [1, 2]}), ["id"], [COLLECTORS], {"collectors": [child]}, connection)
    assert joined["collectors.name" + SEPARATOR_MARK].to_pylist() == ["Dupont | Durand", None]

    config = load_config(_write_config(tmp_path, "sqlite:///unused.sqlite"))
    plan = MappingPlan.from_config(config)
    batch = pa.table({"id": [1, 2], "catalog": ["A1", "A2"], "taxon": ["X", "Y"], "collected": [None, None],
                      "collectors.agent_name": ["Dupont | Durand | Smith", "Jones"],
                      "collectors.agent_name" + SEPARATOR_MARK: ["Dupont | Durand", None],
                      "collectors.agent_orcid": [None, None], "identifications.identifier": [None, None]})
    table, issues = map_batch(batch, plan)
    assert table["recordedBy"].to_pylist() == ["Dupont | Durand | Smith", "Jones"]
    assert issues.to_pylist() == [{"row": 0, "term": "recordedBy", "flag": "LIST_SEPARATOR_IN_VALUE",
                                   "value": "Dupont | Durand"}]
    with pytest.raises(MappingError, match="mapping.recordedBy: the batch has no collectors.agent_name: join child "
                                           "'collectors'"):
        map_batch(batch.drop_columns(["collectors.agent_name"]), plan)


def test_a_child_without_rows_gives_no_values_and_a_wrong_column_is_named(tmp_path):
    core = pa.table({"id": [1, 2]})
    with duckdb.connect() as connection:
        joined = join_children(core, ["id"], [COLLECTORS], {}, connection)
        assert joined["collectors.name"].to_pylist() == [None, None]
        child = _parquet(tmp_path / "000001.parquet", pa.table({"specimen": [1], "position": [1], "agent": ["A"]}))
        with pytest.raises(ChildJoinError, match=r"children.collectors: column\(s\) name not in the child table"):
            join_children(core, ["id"], [COLLECTORS], {"collectors": [child]}, connection)


# --- the config --------------------------------------------------------------------------------------------------

CONFIG = """\
source:
  url: {url}
  query: SELECT * FROM specimen ORDER BY id
{key}metadata:
  title: Children
  shortname: children-{name}
  abstract: Specimens with their collectors and identifications.
  licence: CC-BY-4.0
  creators: [{{organisation: Example Museum}}]
  contacts: [{{surname: Smith}}]
output:
  directory: out-{name}
children:
  collectors:
    query: SELECT specimen_id, collector_order, agent_name, agent_orcid FROM collector
    key: specimen_id
    order_by: collector_order
  identifications:
    table: identification
    key: specimen_id
    order_by: [identified_year, seq]
mapping:
  occurrenceID: {{template: "urn:catalog:TEST:{{catalog}}"}}
  basisOfRecord: {{constant: PreservedSpecimen}}
  catalogNumber: catalog
  scientificName: taxon
  eventDate: collected
  recordedBy: {{child: collectors, column: agent_name, separator: " | "}}
  recordedByID: {{child: collectors, column: agent_orcid}}
  identifiedBy: {{child: identifications, column: identifier, separator: "; "}}
{more}"""


def _write_config(folder: Path, url: str, name: str = "sqlite", key: str = "  key: id\n", more: str = "",
                  children: str | None = None) -> Path:
    text = CONFIG.format(url=url, name=name, key=key, more=more)
    if children is not None:
        text = text.replace(text[text.index("children:"):text.index("mapping:")], children)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_core_key_defaults_to_the_columns_occurrence_id_is_made_from(tmp_path):
    assert load_config(_write_config(tmp_path, "sqlite:///x.sqlite")).core_key == ["id"]
    assert load_config(_write_config(tmp_path, "sqlite:///x.sqlite", key="")).core_key == ["catalog"]


@pytest.mark.parametrize("change, line, key, message", [
    (lambda t: t.replace("recordedByID: {child: collectors", "recordedByID: {child: colectors"), 30,
     "mapping.recordedByID.child", "no child 'colectors' under children: (did you mean 'collectors'?)"),
    (lambda t: t.replace("column: agent_orcid}", 'column: agent_name, separator: "; "}'), 30,
     "mapping.recordedByID.separator", "collectors.agent_name is joined with ' | ' for recordedBy: use one "
     "separator per child column"),
    (lambda t: t.replace("{child: collectors, column: agent_orcid}", "{child: collectors}"), 30,
     "mapping.recordedByID", "a child source names one column of the child table"),
    (lambda t: t.replace("    table: identification\n", "    table: identification\n    query: SELECT 1\n"), 19,
     "children.identifications", "give exactly one of 'query', 'table' (in the core source's database) or "
     "'source' (got query, table)"),
    (lambda t: t.replace("key: specimen_id\n    order_by: [", "key: [specimen_id, x]\n    order_by: ["), 21,
     "children.identifications.key", "2 key column(s) for a core key of 1 (id)"),
])
def test_config_problems_name_their_line(tmp_path, change, line, key, message):
    path = _write_config(tmp_path, "sqlite:///x.sqlite")
    path.write_text(change(path.read_text()), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    found = [text for text in str(caught.value).splitlines() if f":{line}: {key}: " in text]
    assert found and message in found[0], str(caught.value)


# --- one config, three databases ---------------------------------------------------------------------------------

SPECIMENS = [(1, "A1", "Carabus auratus", "2019-05-04"), (2, "A2", "Carabus nemoralis", "1998-04"),
             (3, "A3", "Cepaea nemoralis", None), (4, "A4", "Helix pomatia", "2001")]
# inserted out of position order; position 10 after 9 (numbers); an empty name is left out of recordedBy
COLLECTORS_ROWS = [(1, 2, "B. Jones", "https://orcid.org/0000-0002-1825-0097"), (1, 10, "J. Last", None),
                   (1, 1, "A. Smith", "https://orcid.org/0000-0001-5109-3700"), (1, 9, "I. Ninth", None),
                   (2, 1, "Dupont | Durand", None), (2, 2, "", None), (3, 1, "C. Only", None)]
IDENTIFICATIONS_ROWS = [(1, 2020, 1, "K. Later"), (1, 1990, 1, "E. Earlier"), (2, 2001, 2, "F. Second"),
                        (2, 2001, 1, "F. First"), (4, None, 1, "U. Undated")]


def _fill(url: str) -> None:
    metadata = sa.MetaData()
    specimen = sa.Table("specimen", metadata, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("catalog", sa.String(20)), sa.Column("taxon", sa.String(100)),
                        sa.Column("collected", sa.String(20)))
    collector = sa.Table("collector", metadata, sa.Column("specimen_id", sa.Integer),
                         sa.Column("collector_order", sa.Integer), sa.Column("agent_name", sa.String(100)),
                         sa.Column("agent_orcid", sa.String(100)))
    identification = sa.Table("identification", metadata, sa.Column("specimen_id", sa.Integer),
                              sa.Column("identified_year", sa.Integer), sa.Column("seq", sa.Integer),
                              sa.Column("identifier", sa.String(100)))
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(specimen.insert(), [dict(zip(("id", "catalog", "taxon", "collected"), row))
                                                   for row in SPECIMENS])
            connection.execute(collector.insert(), [dict(zip(("specimen_id", "collector_order", "agent_name",
                                                              "agent_orcid"), row)) for row in COLLECTORS_ROWS])
            connection.execute(identification.insert(), [dict(zip(("specimen_id", "identified_year", "seq",
                                                                   "identifier"), row))
                                                          for row in IDENTIFICATIONS_ROWS])
    finally:
        engine.dispose()


def _publish(config: Path, url: str, name: str, monkeypatch: pytest.MonkeyPatch):
    """Publish the collection in the database at `url` with the one `config`, which reads its database URL
    and output folder from the environment."""
    _fill(url)
    monkeypatch.setenv("CHILDREN_SOURCE_URL", url)
    monkeypatch.setenv("CHILDREN_OUTPUT", f"out-{name}")
    loaded = load_config(config)
    loaded.validation.bdq.enabled = False
    return run_stages(loaded)


def _env_config(folder: Path) -> Path:
    path = _write_config(folder, "${CHILDREN_SOURCE_URL}", "database")
    path.write_text(path.read_text().replace("directory: out-database", "directory: ${CHILDREN_OUTPUT}"))
    return path


def _core_file(archive: Path) -> bytes:
    with zipfile.ZipFile(archive) as handle:
        return handle.read("occurrence.txt")


def test_a_sqlite_run_joins_collectors_and_identifications_in_order(tmp_path, monkeypatch):
    result = _publish(_env_config(tmp_path), f"sqlite:///{tmp_path / 'collection.sqlite'}", "sqlite", monkeypatch)
    assert (result.extracted, result.records, result.rejected) == (4, 4, 0)
    frame = read_core_with_pandas(result.archive).set_index("catalogNumber")
    assert frame.loc["A1", "recordedBy"] == "A. Smith | B. Jones | I. Ninth | J. Last"
    assert frame.loc["A1", "recordedByID"] == ("https://orcid.org/0000-0001-5109-3700 | "
                                               "https://orcid.org/0000-0002-1825-0097")
    assert frame.loc["A1", "identifiedBy"] == "E. Earlier; K. Later"
    assert frame.loc["A2", "recordedBy"] == "Dupont | Durand" and frame.loc["A2", "recordedByID"] == ""
    assert frame.loc["A2", "identifiedBy"] == "F. First; F. Second"
    assert frame.loc["A3", "recordedBy"] == "C. Only" and frame.loc["A3", "identifiedBy"] == ""
    assert frame.loc["A4", "recordedBy"] == "" and frame.loc["A4", "identifiedBy"] == "U. Undated"
    # a collector whose name holds the separator: published as joined, with a warning naming the value
    assert result.issues["LIST_SEPARATOR_IN_VALUE"] == 1


def test_the_same_config_gives_the_same_archive_on_postgresql_and_mariadb(tmp_path, monkeypatch, postgres_db,
                                                                          mariadb_db):
    config = _env_config(tmp_path)  # one file, unchanged: only the environment names the database
    sqlite = _publish(config, f"sqlite:///{tmp_path / 'collection.sqlite'}", "sqlite", monkeypatch)
    expected = _core_file(sqlite.archive)
    assert b"A. Smith | B. Jones | I. Ninth | J. Last" in expected
    for url, name in ((postgres_db, "postgresql"), (mariadb_db, "mariadb")):
        result = _publish(config, url, name, monkeypatch)
        assert (result.records, result.issues["LIST_SEPARATOR_IN_VALUE"]) == (4, 1), name
        assert _core_file(result.archive) == expected, name


@pytest.mark.prefect
def test_the_prefect_flow_extracts_the_children_before_mapping(prefect_api, tmp_path, monkeypatch):
    from mobilise.flows.publish import publish_dataset

    config = _env_config(tmp_path)
    staged = _publish(config, f"sqlite:///{tmp_path / 'collection.sqlite'}", "staged", monkeypatch)
    monkeypatch.setenv("CHILDREN_OUTPUT", "out-flow")
    result = publish_dataset(str(config))
    assert (result["records"], result["issues"]["LIST_SEPARATOR_IN_VALUE"]) == (4, 1)
    assert _core_file(Path(result["archive"])) == _core_file(staged.archive)


def test_a_child_from_a_csv_file_beside_the_config_joins_on_a_text_key(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    # the key as text ('1' for the integer id 1) and positions as text ('10' after '9')
    (tmp_path / "data" / "determinations.csv").write_text(
        "specimen;n;who\n1;10;Tenth\n1;9;Ninth\n3;1;Other\n1;1;First\n", encoding="utf-8")
    children = ("children:\n  collectors:\n    table: collector\n    key: specimen_id\n"
                "  identifications:\n    source: {path: data/determinations.csv, delimiter: \";\"}\n"
                "    key: specimen\n    order_by: n\n")
    path = _write_config(tmp_path, f"sqlite:///{tmp_path / 'collection.sqlite'}", "csv", children=children)
    path.write_text(path.read_text().replace("column: identifier", "column: who"))
    _fill(f"sqlite:///{tmp_path / 'collection.sqlite'}")
    config = load_config(path)
    assert config.children["identifications"].source.path == tmp_path / "data" / "determinations.csv"
    config.validation.bdq.enabled = False
    frame = read_core_with_pandas(run_stages(config).archive).set_index("catalogNumber")
    assert frame.loc["A1", "identifiedBy"] == "First; Ninth; Tenth" and frame.loc["A3", "identifiedBy"] == "Other"
    assert frame.loc["A2", "identifiedBy"] == ""
    # without order_by the collectors come in the child's source order (the order they were inserted in)
    assert frame.loc["A1", "recordedBy"] == "B. Jones | J. Last | A. Smith | I. Ninth"


def test_a_child_value_that_is_not_utf8_keeps_its_record_out_as_a_core_value_would(tmp_path):
    import sqlite3

    database = tmp_path / "collection.sqlite"
    _fill(f"sqlite:///{database}")
    with sqlite3.connect(database) as connection:  # 'Liège' in Latin-1, not UTF-8
        connection.execute("UPDATE collector SET agent_name = CAST(x'4C69E86765' AS TEXT) WHERE agent_name = 'C. Only'")
    config = load_config(_write_config(tmp_path, f"sqlite:///{database}"))
    config.validation.bdq.enabled = False
    result = run_stages(config)
    assert (result.extracted, result.records, result.rejected) == (4, 3, 1)
    quarantine = read_quarantine(result.quarantine)
    assert quarantine["catalogNumber"].tolist() == ["A3"]
    assert quarantine["reasons"].str.contains("TEXT_ENCODING_INVALID").all()
    assert "A3" not in set(read_core_with_pandas(result.archive)["catalogNumber"])


def test_a_column_the_child_or_the_core_lacks_stops_the_run_naming_its_key(tmp_path):
    database = tmp_path / "collection.sqlite"
    _fill(f"sqlite:///{database}")
    wrong_child = _write_config(tmp_path, f"sqlite:///{database}", "child")
    wrong_child.write_text(wrong_child.read_text().replace("column: agent_orcid", "column: orcid"))
    with pytest.raises(ChildJoinError, match=r"children.collectors: column\(s\) orcid not in the child table \(it "
                                             r"has: specimen_id, collector_order, agent_name, agent_orcid\)"):
        run_stages(load_config(wrong_child))
    wrong_key = _write_config(tmp_path, f"sqlite:///{database}", "key", key="  key: specimen\n")
    with pytest.raises(MappingError, match=r"source.key: column\(s\) specimen not in the source"):
        run_stages(load_config(wrong_key))
    assert not (tmp_path / "out-child" / "children-child" / "dwca.zip").exists()
