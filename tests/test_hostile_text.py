"""Hostile text is contained to its record (issue 9 item 7, issue 14): text that is not UTF-8 and control characters.

A Latin-1 ``Liège`` in a SQLite TEXT column, an invalid-UTF-8 BLOB / bytea / VARBINARY: decoded with
``source.encoding`` when configured, else the record goes to quarantine with TEXT_ENCODING_INVALID naming the field
and the escaped bytes, and the rest is published. Control characters are removed from the published value and
flagged CONTROL_CHARACTERS_REMOVED; the archive never holds them. Every engine (SQLAlchemy, ADBC, ConnectorX) and
every server (SQLite, PostgreSQL, MariaDB); occurrenceIDs that differ only in case. The property-based tests
over random rows are in test_property_pipeline.py.
"""
from __future__ import annotations

import os
import re
import secrets
import sqlite3
import textwrap
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from mobilise.extractors import sql  # noqa: F401  (registers the SQL backends)
from mobilise.extractors.base import UNDECODABLE_COLUMN, decode_text, extract_batches
from mobilise.mappers.interpreters import interpreters
from mobilise.mappers.mapping import CONTROL_CHARACTERS, MappingPlan, map_batch
from mobilise.settings import TermSource, load_config
from mobilise.validators.dataset import duplicate_ids, id_keys
from tests.pipeline_helpers import read_core_with_pandas, read_quarantine, run_stages
from tests.services import POSTGRES_ADMIN_URL, mariadb_db, postgres_db  # noqa: F401  (fixtures)

DWC = "http://rs.tdwg.org/dwc/terms/"
LATIN1_LIEGE = b"Li\xe8ge"  # 'Liège' in Latin-1 / cp1252: not UTF-8
HOSTILE_BLOB = bytes.fromhex("C328A0A1FFFE")  # invalid UTF-8 (issue 14)
CONTROLS = "a\x00b\x0e\x07\x1b\x7f\x85\x9fc"  # NUL, SO, BEL, ESC, DEL, NEL, APC: never in the archive
SHOWN_CONTROLS = r"a\x00b\x0e\x07\x1b\x7f\x85\x9fc"
SQLITE_ENGINES = ["sqlalchemy", "adbc", "connectorx"]


def write_config(tmp_path: Path, url: str, table: str = "specimen", encoding: str | None = None,
                 engine: str = "sqlalchemy") -> Path:
    """A small dataset config of our own over `table` (id, catalog, name, locality, notes, remarks)."""
    path = tmp_path / "hostile.yaml"
    path.write_text(textwrap.dedent(f"""\
        source:
          url: "{url}"
          table: {table}
          engine: {engine}
          batch_size: 3
          encoding: {encoding or "null"}
        metadata:
          title: Hostile text
          shortname: hostile
          abstract: [Records whose text is not UTF-8 or holds control characters.]
          licence: CC0-1.0
          creators: [{{organisation: Test, email: test@example.org}}]
          contacts: [{{organisation: Test, email: test@example.org}}]
        mapping:
          occurrenceID: {{template: "urn:test:{{id}}"}}
          basisOfRecord: {{constant: PreservedSpecimen}}
          eventDate: {{constant: "2001-05-06"}}
          institutionCode: {{constant: TEST}}
          catalogNumber: catalog
          scientificName: name
          locality: locality
          fieldNotes: notes
          occurrenceRemarks: remarks
        validation:
          bdq: {{enabled: false}}
          dissco: ignore
        gates: {{max_rejected_share: null, max_drop_share: null, allow_empty: true}}
        output:
          directory: {tmp_path / "output"}
        """), encoding="utf-8")
    return path


def sqlite_source(path: Path) -> Path:
    """Rows 1-2 hostile bytes, row 3 control characters, rows 4-7 clean (the Latin-1 TEXT as SQLite stores it)."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE specimen (id INTEGER PRIMARY KEY, catalog TEXT, name TEXT, locality TEXT, "
                           "notes BLOB, remarks TEXT)")
        connection.execute("INSERT INTO specimen VALUES (1, 'C-1', 'Quercus robur', CAST(x'4C69E86765' AS TEXT), "
                           "NULL, NULL)")
        connection.execute("INSERT INTO specimen VALUES (2, 'C-2', 'Quercus robur', 'Namur', x'C328A0A1FFFE', NULL)")
        connection.execute("INSERT INTO specimen VALUES (3, 'C-3', 'Quercus robur', 'Gent', NULL, ?)", (CONTROLS,))
        connection.executemany("INSERT INTO specimen VALUES (?, ?, 'Fagus sylvatica', 'Liège', ?, 'fine')",
                               [(i, f"C-{i}", "Liège".encode()) for i in range(4, 8)])
    return path


@pytest.fixture
def hostile_sqlite(tmp_path) -> Path:
    return sqlite_source(tmp_path / "hostile.sqlite")


# --- extraction ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", SQLITE_ENGINES)
def test_every_engine_escapes_undecodable_text_and_names_the_columns(hostile_sqlite, tmp_path, engine):
    config = load_config(write_config(tmp_path, f"sqlite:///{hostile_sqlite}", engine=engine))
    table = pa.Table.from_batches(list(extract_batches(config.source)))
    assert table.num_rows == 7
    rows = {row["id"]: row for row in table.to_pylist()}
    assert rows[1]["locality"] == r"Li\xe8ge" and rows[1][UNDECODABLE_COLUMN] == '["locality"]'
    assert rows[2]["notes"] == r"\xc3(\xa0\xa1\xff\xfe" and rows[2][UNDECODABLE_COLUMN] == '["notes"]'
    assert rows[3]["remarks"] == CONTROLS and rows[3][UNDECODABLE_COLUMN] is None  # controls are the mapper's
    assert all(rows[i]["locality"] == rows[i]["notes"] == "Liège" and rows[i][UNDECODABLE_COLUMN] is None
               for i in range(4, 8))
    assert pa.types.is_string(table.schema.field("notes").type)  # valid BLOBs are text, like TEXT


@pytest.mark.parametrize("engine", SQLITE_ENGINES)
def test_with_an_encoding_latin1_text_is_read_right(hostile_sqlite, tmp_path, engine):
    config = load_config(write_config(tmp_path, f"sqlite:///{hostile_sqlite}", encoding="cp1252", engine=engine))
    assert config.source.encoding == "cp1252"
    rows = {row["id"]: row for row in pa.Table.from_batches(list(extract_batches(config.source))).to_pylist()}
    assert rows[1]["locality"] == "Liège"
    assert rows[2]["notes"] == HOSTILE_BLOB.decode("cp1252") == "Ã(\xa0¡ÿþ"  # every byte is a cp1252 character
    assert [row[UNDECODABLE_COLUMN] for row in rows.values()] == [None] * 7
    assert rows[5]["locality"] == "Liège"  # UTF-8 first: a valid value is never re-read as cp1252


def test_connectorx_reads_the_rest_after_undecodable_text_mid_stream(tmp_path):
    """ConnectorX stops at a SQLite TEXT that is not UTF-8; the rows from there are read by SQLAlchemy, none lost."""
    path = tmp_path / "long.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, locality TEXT)")
        connection.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"place {i}") for i in range(1, 2001)])
        connection.execute("UPDATE t SET locality = CAST(x'4C69E86765' AS TEXT) WHERE id IN (1234, 1999)")
    config = load_config(write_config(tmp_path, f"sqlite:///{path}", table="t", engine="connectorx"))
    source = config.source.model_copy(update={"batch_size": 100})
    batches = list(extract_batches(source))
    assert [b.num_rows for b in batches] == [100] * 20
    table = pa.Table.from_batches(batches)
    assert table["id"].to_pylist() == list(range(1, 2001))
    flagged = table.filter(table[UNDECODABLE_COLUMN].is_valid())
    assert flagged["id"].to_pylist() == [1234, 1999] and flagged["locality"].to_pylist() == [r"Li\xe8ge"] * 2


def test_decode_text_handles_invalid_utf8_inside_arrow_strings():
    """A driver may hand over a string column whose bytes are not UTF-8 (ADBC's SQLite does): validated, fixed."""
    raw = pa.array([b"ok", LATIN1_LIEGE, None, "é".encode()], pa.binary()).view(pa.string())
    batch = pa.RecordBatch.from_arrays([raw, pa.array([1, 2, 3, 4])], names=["text", "n"])
    decoded = decode_text(batch)
    assert decoded.column("text").to_pylist() == ["ok", r"Li\xe8ge", None, "é"]
    assert decoded.column(UNDECODABLE_COLUMN).to_pylist() == [None, '["text"]', None, None]
    assert decoded.column("n").to_pylist() == [1, 2, 3, 4]
    assert decode_text(batch, "latin-1").column("text").to_pylist() == ["ok", "Liège", None, "é"]
    # cp1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined: such a value is still escaped and flagged
    undefined = pa.RecordBatch.from_arrays([pa.array([b"x\x81y"])], names=["text"])
    assert decode_text(undefined, "cp1252").to_pylist() == [{"text": r"x\x81y", UNDECODABLE_COLUMN: '["text"]'}]


# --- mapping ------------------------------------------------------------------------------------------------------

def test_map_batch_flags_every_term_an_undecodable_column_feeds_and_removes_controls(hostile_sqlite, tmp_path):
    config = load_config(write_config(tmp_path, f"sqlite:///{hostile_sqlite}"))
    config.mapping["dynamicProperties"] = config.mapping["locality"].model_copy(
        update={"column": None, "template": "{{\"where\": \"{locality}\"}}"})
    plan = MappingPlan.from_config(config)
    table, issues = map_batch(pa.Table.from_batches(list(extract_batches(config.source))), plan)
    found = sorted(zip(issues["row"].to_pylist(), issues["term"].to_pylist(), issues["flag"].to_pylist(),
                       issues["value"].to_pylist()))
    assert found == [(0, "dynamicProperties", "TEXT_ENCODING_INVALID", r"Li\xe8ge"),
                     (0, "locality", "TEXT_ENCODING_INVALID", r"Li\xe8ge"),
                     (1, "fieldNotes", "TEXT_ENCODING_INVALID", r"\xc3(\xa0\xa1\xff\xfe"),
                     (2, "occurrenceRemarks", "CONTROL_CHARACTERS_REMOVED", SHOWN_CONTROLS)]
    assert table["occurrenceRemarks"][2].as_py() == "abc"
    assert UNDECODABLE_COLUMN not in table.column_names


def test_control_characters_are_removed_from_every_kind_of_term_value():
    """Columns, templates, constants, interval ends and interpreted terms: removed before interpretation."""
    batch = pa.RecordBatch.from_pydict({
        "id": ["A\x00-1", "B-2", "C-3"], "date": ["2001-05-06\x07", "2001-05-07", "\x1b"],
        "end": [None, "2001-05-09\x7f", None], "country": ["Belgi\x0eë", "France", "\x00"]})
    sources = {"occurrenceID": TermSource(template="urn:{id}"), "eventDate": TermSource(column="date", end="end"),
               "countryCode": TermSource(column="country"), "locality": TermSource(constant="in\x1bside")}
    chosen = {term: interpreter for term, interpreter in interpreters().items() if term in sources}
    table, issues = map_batch(batch, MappingPlan(sources, chosen, {}, uuid.uuid4()))
    assert table["occurrenceID"].to_pylist() == ["urn:A-1", "urn:B-2", "urn:C-3"]
    assert table["eventDate"].to_pylist() == ["2001-05-06", "2001-05-07/2001-05-09", None]
    assert table["countryCode"].to_pylist() == ["BE", "FR", None]
    assert table["locality"].to_pylist() == ["inside"] * 3
    flagged = {(row, term) for row, term, flag in zip(issues["row"].to_pylist(), issues["term"].to_pylist(),
                                                      issues["flag"].to_pylist()) if flag == "CONTROL_CHARACTERS_REMOVED"}
    assert flagged == {(0, "occurrenceID"), (0, "eventDate"), (1, "eventDate"), (2, "eventDate"),
                       (0, "countryCode"), (2, "countryCode"), (0, "locality"), (1, "locality"), (2, "locality")}
    assert set(issues["flag"].to_pylist()) == {"CONTROL_CHARACTERS_REMOVED"}  # '\x1b' alone is empty, not invalid
    for name in table.column_names:
        assert not any(value and re.search(CONTROL_CHARACTERS, value) for value in table[name].to_pylist())


# --- whole runs ---------------------------------------------------------------------------------------------------

def _archive_text(archive: str) -> str:
    with zipfile.ZipFile(archive) as handle:
        return handle.read("occurrence.txt").decode("utf-8")  # strict: the archive is UTF-8


def _assert_no_controls(archive: str) -> None:
    assert not re.search(CONTROL_CHARACTERS, _archive_text(archive))


def test_run_quarantines_undecodable_records_and_publishes_the_rest(hostile_sqlite, tmp_path):
    result = run_stages(load_config(write_config(tmp_path, f"sqlite:///{hostile_sqlite}")))
    assert result.extracted == 7 and result.records == 5 and result.rejected == 2
    assert result.records + result.rejected == result.extracted
    frame = read_core_with_pandas(result.archive).set_index("occurrenceID")
    assert sorted(frame.index) == ["urn:test:3", "urn:test:4", "urn:test:5", "urn:test:6", "urn:test:7"]
    assert frame.loc["urn:test:3", "occurrenceRemarks"] == "abc"
    assert (frame.loc[["urn:test:4", "urn:test:7"], "locality"] == "Liège").all()
    _assert_no_controls(result.archive)
    quarantine = read_quarantine(result.quarantine).set_index("occurrenceID")
    assert sorted(quarantine.index) == ["urn:test:1", "urn:test:2"]
    assert quarantine.loc["urn:test:1", "reasons"].startswith(r"TEXT_ENCODING_INVALID: locality = 'Li\xe8ge' (")
    assert quarantine.loc["urn:test:2", "reasons"].startswith(
        r"TEXT_ENCODING_INVALID: fieldNotes = '\xc3(\xa0\xa1\xff\xfe' (")
    assert quarantine.loc["urn:test:1", "catalogNumber"] == "C-1"
    assert quarantine.loc["urn:test:1", f"source.{UNDECODABLE_COLUMN}"] == '["locality"]'
    assert result.issues["TEXT_ENCODING_INVALID"] == 2 and result.issues["CONTROL_CHARACTERS_REMOVED"] == 1
    assert result.severity["CONTROL_CHARACTERS_REMOVED"] == "warning"


def test_run_with_an_encoding_publishes_every_record(hostile_sqlite, tmp_path):
    result = run_stages(load_config(write_config(tmp_path, f"sqlite:///{hostile_sqlite}", encoding="cp1252")))
    assert (result.extracted, result.records, result.rejected) == (7, 7, 0)
    frame = read_core_with_pandas(result.archive).set_index("occurrenceID")
    assert frame.loc["urn:test:1", "locality"] == "Liège"
    assert frame.loc["urn:test:2", "fieldNotes"] == "Ã(\xa0¡ÿþ"
    assert "TEXT_ENCODING_INVALID" not in result.issues
    _assert_no_controls(result.archive)


# --- PostgreSQL and MariaDB ---------------------------------------------------------------------------------------

def _server_rows(url: str, create: str, insert: str, rows: list[dict]) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(create))
            connection.execute(sa.text(insert), rows)
    finally:
        engine.dispose()


SERVER_ROWS = [
    {"id": 1, "catalog": "C-1", "locality": "Namur", "notes": LATIN1_LIEGE, "remarks": None},
    {"id": 2, "catalog": "C-2", "locality": "Namur", "notes": HOSTILE_BLOB, "remarks": None},
    {"id": 3, "catalog": "C-3", "locality": "Gent", "notes": None, "remarks": CONTROLS.replace("\x00", "")},
    {"id": 4, "catalog": "C-4", "locality": "Liège", "notes": "Liège".encode(), "remarks": "fine"},
]


def _check_server_run(tmp_path: Path, url: str, engine: str) -> None:
    for encoding in (None, "cp1252"):
        output = tmp_path / (encoding or "strict")
        output.mkdir()
        config = load_config(write_config(output, url, encoding=encoding, engine=engine))
        config.mapping.pop("scientificName")
        config.mapping["scientificName"] = config.mapping["basisOfRecord"].model_copy(
            update={"constant": "Quercus robur"})
        result = run_stages(config)
        assert result.records + result.rejected == result.extracted == 4
        frame = read_core_with_pandas(result.archive).set_index("occurrenceID")
        assert frame.loc["urn:test:3", "occurrenceRemarks"] == "abc"
        assert frame.loc["urn:test:4", "locality"] == frame.loc["urn:test:4", "fieldNotes"] == "Liège"
        _assert_no_controls(result.archive)
        if encoding is None:
            assert result.rejected == 2
            reasons = read_quarantine(result.quarantine).set_index("occurrenceID")["reasons"]
            assert reasons["urn:test:1"].startswith(r"TEXT_ENCODING_INVALID: fieldNotes = 'Li\xe8ge' (")
            assert reasons["urn:test:2"].startswith(r"TEXT_ENCODING_INVALID: fieldNotes = '\xc3(\xa0\xa1\xff\xfe' (")
        else:
            assert result.rejected == 0
            assert frame.loc["urn:test:1", "fieldNotes"] == "Liège"
            assert frame.loc["urn:test:2", "fieldNotes"] == "Ã(\xa0¡ÿþ"


@pytest.mark.postgres
@pytest.mark.parametrize("engine", SQLITE_ENGINES)
def test_postgresql_bytea_and_controls(postgres_db, tmp_path, engine):
    """PostgreSQL's UTF8 text refuses invalid bytes (and NUL) at insert; a bytea holds any bytes."""
    _server_rows(postgres_db, "CREATE TABLE specimen (id integer PRIMARY KEY, catalog text, locality text, "
                              "notes bytea, remarks text)",
                 "INSERT INTO specimen VALUES (:id, :catalog, :locality, :notes, :remarks)", SERVER_ROWS)
    _check_server_run(tmp_path, postgres_db, engine)


@pytest.mark.mariadb
@pytest.mark.parametrize("engine", ["sqlalchemy", "connectorx"])
def test_mariadb_varbinary_latin1_column_and_controls(mariadb_db, tmp_path, engine):
    """A latin1 column is converted by the server (right); a VARBINARY holds any bytes."""
    _server_rows(mariadb_db, "CREATE TABLE specimen (id INT PRIMARY KEY, catalog VARCHAR(20), "
                             "locality VARCHAR(50) CHARACTER SET latin1, notes VARBINARY(50), remarks TEXT)",
                 "INSERT INTO specimen VALUES (:id, :catalog, :locality, :notes, :remarks)", SERVER_ROWS)
    _check_server_run(tmp_path, mariadb_db, engine)


@pytest.fixture
def postgres_sql_ascii_db(postgres_db) -> Iterator[str]:
    """A private PostgreSQL database in SQL_ASCII: its text columns keep whatever bytes a legacy application wrote
    (a UTF8 database refuses them at insert). `postgres_db` skips or fails when the server is unreachable."""
    name = f"mobilise_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' LC_COLLATE 'C' "
                                       f"LC_CTYPE 'C' TEMPLATE template0"))
        url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name)
        # psycopg itself: SQLAlchemy cannot connect to a SQL_ASCII database unaided (extractors/sql.py helps it)
        with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as driver:
            driver.execute("CREATE TABLE specimen (id integer PRIMARY KEY, catalog text, locality text, notes text, "
                           "remarks text)")
            for row in SERVER_ROWS:  # the bytes as they are: convert_from(bytea, 'SQL_ASCII') keeps them
                driver.execute("INSERT INTO specimen VALUES (%s, %s, %s, convert_from(%s::bytea, 'SQL_ASCII'), %s)",
                               [row["id"], row["catalog"], row["locality"], row["notes"], row["remarks"]])
        url = url.render_as_string(hide_password=False)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("engine", SQLITE_ENGINES)
def test_postgresql_sql_ascii_text_that_is_not_utf8(postgres_sql_ascii_db, tmp_path, engine):
    """Text columns of a SQL_ASCII database hold Latin-1 and invalid UTF-8: psycopg hands such text over as bytes
    (SQLAlchemy failed on the server version), ConnectorX's server refuses to send it (read with SQLAlchemy)."""
    _check_server_run(tmp_path, postgres_sql_ascii_db, engine)


# --- occurrenceIDs that differ only in case ------------------------------------------------------------------------

def _parquet_ids(tmp_path: Path, *batches: list) -> list[str]:
    files = []
    for number, ids in enumerate(batches):
        files.append(str(tmp_path / f"mapped-{number}.parquet"))
        pq.write_table(pa.table({"occurrenceID": pa.array(ids, pa.string())}), files[-1])
    return files


def test_duplicate_ids_are_compared_as_written_and_ignoring_case(tmp_path):
    """Every spelling of an id more than one record uses, across batches: the IPT's equalsIgnoreCase equates ASCII
    case, the long s, the Kelvin sign, final sigma and the Turkish i's; the archive folds tabs to a space."""
    files = _parquet_ids(tmp_path,
                         ["CASE-abc-0001", "urn:ſ:1", "x-1", "ΟΣ-1", "ıd-7", "a\tb", None, "é-1", "plain-1"],
                         ["case-ABC-0001", "urn:S:1", "X-1", "x-1", "ος-1", "ID-7", "a b", None, "e\u0301-1"],
                         [None, None, "\u212a-2", "k-2", "plain-2"])
    found = sorted(duplicate_ids(files, tmp_path / "spill")["occurrenceID"].to_pylist())
    assert found == sorted(["CASE-abc-0001", "case-ABC-0001", "urn:ſ:1", "urn:S:1", "x-1", "X-1", "ΟΣ-1", "ος-1",
                            "ıd-7", "ID-7", "a\tb", "a b", "\u212a-2", "k-2"])  # é and e + U+0301 differ, as in Java
    assert id_keys(pa.array(["CASE-abc-0001", None, "İd", "Straße", "ǅ-Σ"])).to_pylist() == \
        ["case-abc-0001", None, "id", "straße", "ǆ-σ"]
    # as the IPT's Java equalsIgnoreCase: 'STRASSE' is another id than 'straße' (a character is not two)
    assert id_keys(pa.array(["STRASSE", "ς", "Σ"])).to_pylist() == ["strasse", "σ", "σ"]


def _case_rows() -> list[dict]:
    return [{"id": 1, "code": "CASE-abc-0001", "notes": None}, {"id": 2, "code": "case-ABC-0001", "notes": None},
            {"id": 3, "code": "CASE-abc-0002", "notes": HOSTILE_BLOB}, {"id": 4, "code": "CASE-abc-0003", "notes": b"ok"}]


def _check_case_run(tmp_path: Path, url: str, engine: str) -> None:
    """The issue's example: ids equal ignoring case both quarantined, the invalid-UTF-8 BLOB quarantined, one
    published; nothing lost."""
    config = load_config(write_config(tmp_path, url, engine=engine))
    config.mapping["occurrenceID"] = TermSource(column="code")
    for term in ("catalogNumber", "scientificName", "locality", "occurrenceRemarks"):
        config.mapping.pop(term)
    config.mapping["scientificName"] = TermSource(constant="Quercus robur")
    result = run_stages(config)
    assert (result.extracted, result.records, result.rejected) == (4, 1, 3)
    assert read_core_with_pandas(result.archive)["occurrenceID"].tolist() == ["CASE-abc-0003"]
    reasons = read_quarantine(result.quarantine).set_index("occurrenceID")["reasons"]
    for spelling in ("CASE-abc-0001", "case-ABC-0001"):
        assert reasons[spelling].startswith(f"OCCURRENCE_ID_NOT_UNIQUE: occurrenceID = '{spelling}' (")
        assert "only in case" in reasons[spelling]
    assert reasons["CASE-abc-0002"].startswith(r"TEXT_ENCODING_INVALID: fieldNotes = '\xc3(\xa0\xa1\xff\xfe' (")
    assert result.issues["OCCURRENCE_ID_NOT_UNIQUE"] == 2


@pytest.mark.parametrize("engine", SQLITE_ENGINES)
def test_ids_differing_only_in_case_are_quarantined_sqlite(tmp_path, engine):
    path = tmp_path / "case.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE specimen (id INTEGER PRIMARY KEY, code TEXT, notes BLOB)")
        connection.executemany("INSERT INTO specimen VALUES (:id, :code, :notes)", _case_rows())
    _check_case_run(tmp_path, f"sqlite:///{path}", engine)


@pytest.mark.postgres
@pytest.mark.parametrize("engine", SQLITE_ENGINES)
def test_ids_differing_only_in_case_are_quarantined_postgresql(postgres_db, tmp_path, engine):
    _server_rows(postgres_db, "CREATE TABLE specimen (id integer PRIMARY KEY, code text UNIQUE, notes bytea)",
                 "INSERT INTO specimen VALUES (:id, :code, :notes)", _case_rows())
    _check_case_run(tmp_path, postgres_db, engine)


@pytest.mark.mariadb
@pytest.mark.parametrize("engine", ["sqlalchemy", "connectorx"])
def test_ids_differing_only_in_case_are_quarantined_mariadb(mariadb_db, tmp_path, engine):
    """utf8mb4_unicode_ci would refuse both ids in a UNIQUE column: a legacy table without the constraint."""
    _server_rows(mariadb_db, "CREATE TABLE specimen (id INT PRIMARY KEY, code VARCHAR(40), notes VARBINARY(50))",
                 "INSERT INTO specimen VALUES (:id, :code, :notes)", _case_rows())
    _check_case_run(tmp_path, mariadb_db, engine)
