"""Property-based tests of the whole pipeline (extract -> map -> validate -> publish, no Prefect) on hostile rows.

Hypothesis builds small sources from generated rows: text from every Unicode plane, control characters (NUL, SO,
BEL, ESC, DEL, C1), bytes that are not UTF-8 in BLOB / bytea columns and in SQLite TEXT, 1 MB values, columns that
are NULL in every row, and occurrenceIDs that repeat exactly or only in case. Whatever the rows, a run:

- never raises, and loses no record: published + rejected == extracted;
- writes an occurrence.txt that is strict UTF-8 without a control character, which python-dwca-reader and pandas
  read to the same rows and values;
- publishes each occurrenceID once ignoring case, and keeps out exactly the records with an id that is missing or
  shared (as written, ignoring case) or a value in no encoding it can read.

The examples are derandomized (the same every run, so CI is reproducible); ``MOBILISE_HYPOTHESIS=explore``
tries 200 new ones per test.
"""
from __future__ import annotations

import os
import re
import sqlite3
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from dwca.read import DwCAReader
from hypothesis import HealthCheck, example, given, settings, strategies as st

from mobilise.mappers.mapping import CONTROL_CHARACTERS
from mobilise.settings import TermSource, load_config
from tests.pipeline_helpers import read_core_with_pandas, read_quarantine, run_stages
from tests.services import mariadb_db, postgres_db  # noqa: F401  (fixtures)
from tests.test_hostile_text import write_config
from tests.xsd import validate_eml, validate_meta

DWC = "http://rs.tdwg.org/dwc/terms/"
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                     HealthCheck.data_too_large])
# reproducible by default (CI and `make test` run the same examples every time); MOBILISE_HYPOTHESIS=explore
# looks for new ones (and keeps failures in .hypothesis/ to replay them)
settings.register_profile("mobilise-reproducible", max_examples=20, derandomize=True, **_COMMON)
settings.register_profile("mobilise-explore", max_examples=200, **_COMMON)
PROFILE = "mobilise-explore" if os.environ.get("MOBILISE_HYPOTHESIS") == "explore" else "mobilise-reproducible"
PROPERTY = settings.get_profile(PROFILE)

#: the source columns and the terms they feed (occurrenceID comes from `code`)
TERMS = {"code": "occurrenceID", "name": "recordedBy", "locality": "locality", "notes": "fieldNotes",
         "remarks": "occurrenceRemarks"}
IDS = ["CASE-abc-0001", "case-ABC-0001", "X-1", "x-1", "urn:ſ:1", "urn:S:1", "ıd-7", "ID-7", "tab\there",
       "tab here", "\x00NUL-1", "NUL-1", "  spaced-1 ", "spaced-1"]

_unicode = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)  # every plane; surrogates are not text
_astral = st.text(st.characters(min_codepoint=0x10000, exclude_categories=("Cs",)), min_size=1, max_size=4)
_controls = st.text(st.sampled_from(list("ab é\t\n\r\x00\x01\x07\x0b\x0c\x0e\x1b\x1f\x7f\x80\x85\x9f\u2028\ufeff")),
                    max_size=8)
_huge = st.builds(lambda char, head: head + char * 1_000_000, st.sampled_from(["x", "é", "\U0001f600", "a\x07"]),
                  _unicode)
_bytes = st.binary(max_size=8)
_text_value = st.one_of(st.none(), _unicode, _astral, _controls)
_id = st.one_of(st.sampled_from(IDS), _unicode, _controls, st.none())


@st.composite
def sources(draw, binary_text: bool = True):
    """(rows, the column left NULL in every row or None): each row a dict of TERMS' columns."""
    size = draw(st.integers(1, 8))
    value = st.one_of(_text_value, _bytes) if binary_text else _text_value
    rows = [{"code": draw(_id), "name": draw(value), "locality": draw(value), "notes": draw(st.one_of(st.none(), _bytes)),
             "remarks": draw(value)} for _ in range(size)]
    if size > 1 and draw(st.booleans()):  # a record with another's id, spelt the same or in other case
        first, second = draw(st.lists(st.integers(0, size - 1), min_size=2, max_size=2, unique=True))
        if isinstance(rows[first]["code"], str):
            spelling = draw(st.sampled_from([str.upper, str.lower, str.swapcase, str.title, str]))
            rows[second]["code"] = spelling(rows[first]["code"])
    if draw(st.integers(0, 3)) == 0:  # one 1 MB value somewhere
        rows[draw(st.integers(0, size - 1))][draw(st.sampled_from(["name", "locality", "remarks"]))] = draw(_huge)
    empty = draw(st.one_of(st.none(), st.sampled_from(sorted(TERMS))))
    for row in rows:
        if empty:
            row[empty] = None
    return rows, empty


def _config(tmp_path: Path, url: str, engine: str):
    config = load_config(write_config(tmp_path, url, engine=engine))
    for term in ("catalogNumber", "scientificName", "locality", "fieldNotes", "occurrenceRemarks"):
        config.mapping.pop(term)
    for column, term in TERMS.items():
        config.mapping[term] = TermSource(column=column)
    config.mapping["scientificName"] = TermSource(constant="Quercus robur")
    return config


def _readable(value) -> bool:
    if not isinstance(value, bytes):
        return True
    try:
        value.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _as_written(value) -> str | None:
    """The value as the pipeline writes it: decoded (undecodable bytes escaped), controls removed, trimmed, tabs and
    line breaks folded to a space; None when nothing is left."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    value = re.sub(CONTROL_CHARACTERS, "", value).strip()
    return re.sub(r"[\t\r\n]+", " ", value) or None


def _read_both_ways(result) -> tuple[list, object]:
    """The published core as python-dwca-reader (rows) and pandas (a frame) read it, after checking that occurrence.txt is strict
    UTF-8 without control characters and that both readers see every published record."""
    with zipfile.ZipFile(result.archive) as handle:
        text = handle.read("occurrence.txt").decode("utf-8")  # strict: never an invalid byte
    assert not re.search(CONTROL_CHARACTERS, text)
    frame = read_core_with_pandas(result.archive)
    with DwCAReader(result.archive) as archive:
        read = list(archive)
    assert len(read) == len(frame) == result.records
    return read, frame


def _caseless(value: str) -> str:
    """Java's equalsIgnoreCase (the IPT's) as a key: each character's one-character upper case, then lower case
    (ı and İ are i); the explicit cases are in test_hostile_text.py."""
    def one(character: str) -> str:
        upper = character.upper() if len(character.upper()) == 1 else character
        return upper.lower() if len(upper.lower()) == 1 else upper
    return "".join("i" if c in "\u0131\u0130" else one(c) for c in value)


def _check_run(tmp_path: Path, url: str, rows: list[dict], engine: str = "sqlalchemy") -> None:
    result = run_stages(_config(tmp_path, url, engine))
    assert result.extracted == len(rows) and result.records + result.rejected == result.extracted
    with zipfile.ZipFile(result.archive) as handle:
        validate_meta(handle.read("meta.xml"))
        validate_eml(handle.read("eml.xml"))
    read, frame = _read_both_ways(result)
    for row, (_, expected) in zip(read, frame.iterrows()):
        assert row.id == expected["occurrenceID"]
        for term in TERMS.values():
            if term in frame.columns:
                assert row.data[DWC + term] == expected[term]
    published = frame["occurrenceID"].tolist()
    assert len({_caseless(i) for i in published}) == len(published)  # unique ignoring case
    # exactly the records with a missing, shared (as written, ignoring case) or unreadable value are kept out
    ids = [_as_written(row["code"]) for row in rows]
    uses = Counter(_caseless(i) for i in ids if i is not None)
    kept_out = [i is None or uses[_caseless(i)] > 1 or not all(_readable(v) for v in row.values())
                for i, row in zip(ids, rows)]
    assert result.rejected == sum(kept_out)
    assert Counter(published) == Counter(i for i, out in zip(ids, kept_out) if not out)
    quarantine = read_quarantine(result.quarantine)
    assert len(quarantine) == result.rejected
    assert quarantine["reasons"].str.match("(OCCURRENCE_ID_MISSING|OCCURRENCE_ID_NOT_UNIQUE|TEXT_ENCODING_INVALID): ").all()
    # the published values are the source's, as written
    by_id = frame.set_index("occurrenceID")
    for i, row, out in zip(ids, rows, kept_out):
        if not out:
            for column, term in TERMS.items():
                if term != "occurrenceID":
                    written = by_id.loc[i, term] if term in by_id.columns else ""
                    assert written == (_as_written(row[column]) or ""), (term, row[column])


#: the issue's example (issue 14 item 5): an invalid-UTF-8 BLOB, ids equal but for case, control characters; and a
#: 1 MB value and a column NULL in every row
ISSUE_EXAMPLE = ([{"code": "CASE-abc-0001", "name": "a\x00b\x0ec\x07d\x1be\x7f", "locality": "x" * 1_000_000,
                   "notes": bytes.fromhex("C328A0A1FFFE"), "remarks": None},
                  {"code": "case-ABC-0001", "name": "Ann", "locality": "Liège", "notes": b"ok", "remarks": None},
                  {"code": "CASE-abc-0002", "name": "\x85Bob\x9f", "locality": "\U0001f600", "notes": None,
                   "remarks": None},
                  {"code": "CASE-abc-0003", "name": "Cy", "locality": None, "notes": b"\xff", "remarks": None}],
                 "remarks")


@PROPERTY
@example(source=ISSUE_EXAMPLE, engine="sqlalchemy")
@example(source=ISSUE_EXAMPLE, engine="adbc")
@example(source=ISSUE_EXAMPLE, engine="connectorx")
@given(source=sources(), engine=st.sampled_from(["sqlalchemy", "adbc", "connectorx"]))
def test_sqlite_rows_of_any_kind_never_stop_a_run_nor_go_missing(tmp_path_factory, source, engine):
    """SQLite keeps any value in any column: TEXT holding bytes that are not UTF-8, as legacy applications wrote
    them, and (read by the SQLAlchemy engine, which reads every mix) text and BLOBs in one column."""
    rows, _ = source
    tmp_path = tmp_path_factory.mktemp("property")
    path = tmp_path / "source.sqlite"
    # CAST(? AS TEXT) stores bytes as TEXT, keeping them; without it, bytes are a BLOB among texts (mixed types,
    # which the Arrow-native engines refuse by design)
    mixed = "?" if engine == "sqlalchemy" else "CAST(? AS TEXT)"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE specimen (id INTEGER PRIMARY KEY, code TEXT, name TEXT, locality, "
                           "notes BLOB, remarks TEXT)")
        for number, row in enumerate(rows, start=1):
            connection.execute(f"INSERT INTO specimen VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT), {mixed}, ?, "
                               f"{mixed})", (number, row["code"], row["name"], row["locality"], row["notes"],
                                             row["remarks"]))
    _check_run(tmp_path, f"sqlite:///{path}", rows, engine)


def _load_specimens(url: str, columns: str, rows: list[dict]) -> None:
    """(Re)create the table ``specimen`` with `columns` (SQL) on the server at `url` and insert `rows`."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE IF EXISTS specimen"))
            connection.execute(sa.text(f"CREATE TABLE specimen ({columns})"))
            connection.execute(sa.text("INSERT INTO specimen VALUES (:id, :code, :name, :locality, :notes, :remarks)"),
                               [dict(row, id=number) for number, row in enumerate(rows, start=1)])
    finally:
        engine.dispose()


@pytest.mark.postgres
@settings(PROPERTY, max_examples=PROPERTY.max_examples // 2)  # a server round trip per example
@example(source=ISSUE_EXAMPLE)
@given(source=sources(binary_text=False))
def test_postgresql_rows_of_any_kind_never_stop_a_run_nor_go_missing(postgres_db, tmp_path_factory, source):
    """PostgreSQL's text holds any character but NUL (which it refuses); bytea holds any bytes."""
    rows = [dict(row) for row in source[0]]  # not the example's own rows
    for row in rows:
        for column in ("code", "name", "locality", "remarks"):
            if isinstance(row[column], str):
                row[column] = row[column].replace("\x00", "")
    _load_specimens(postgres_db, "id integer PRIMARY KEY, code text, name text, locality text, notes bytea, "
                    "remarks text", rows)
    _check_run(tmp_path_factory.mktemp("property"), postgres_db, rows)


@pytest.mark.mariadb
@settings(PROPERTY, max_examples=PROPERTY.max_examples // 4)  # a server round trip per example
@example(source=ISSUE_EXAMPLE, engine="sqlalchemy")
@given(source=sources(binary_text=False), engine=st.sampled_from(["sqlalchemy", "connectorx"]))
def test_mariadb_rows_of_any_kind_never_stop_a_run_nor_go_missing(mariadb_db, tmp_path_factory, source, engine):
    """MariaDB's utf8mb4 LONGTEXT holds any character (NUL too); VARBINARY any bytes."""
    rows, _ = source
    _load_specimens(mariadb_db, "id INT PRIMARY KEY, code LONGTEXT, name LONGTEXT, locality LONGTEXT, "
                    "notes VARBINARY(64), remarks LONGTEXT", rows)
    _check_run(tmp_path_factory.mktemp("property"), mariadb_db, rows, engine)


# --- text columns in a source encoding -----------------------------------------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # surrogates cannot be stored as text
_CONTROL_TEXT = st.text(st.sampled_from(list("ab é\t\n\r\x00\x01\x07\x0b\x0c\x0e\x1b\x1f\x7f\x80\x85\x9f\u2028")),
                        max_size=8)
_VALUE = st.one_of(st.none(), _TEXT, _CONTROL_TEXT, st.binary(max_size=8))
_ROW = st.fixed_dictionaries({"name": _VALUE, "locality": _VALUE, "remarks": _VALUE, "raw_text": st.binary(max_size=6)})


@PROPERTY
@given(rows=st.lists(_ROW, min_size=1, max_size=6), encoding=st.sampled_from([None, "cp1252"]))
def test_random_text_bytes_and_controls_never_crash_nor_lose_a_record(tmp_path_factory, rows, encoding):
    tmp_path = tmp_path_factory.mktemp("hypothesis")
    path = tmp_path / "random.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE specimen (id INTEGER PRIMARY KEY, catalog TEXT, name, locality, "
                           "notes TEXT, remarks)")
        for number, row in enumerate(rows, start=1):
            # raw bytes stored as TEXT, as a legacy application writes them (CAST keeps the bytes)
            connection.execute("INSERT INTO specimen VALUES (?, ?, ?, ?, CAST(? AS TEXT), ?)",
                               (number, f"C-{number}", row["name"], row["locality"], row["raw_text"],
                                row["remarks"]))
    config = load_config(write_config(tmp_path, f"sqlite:///{path}", encoding=encoding))
    config.mapping["recordedBy"] = config.mapping.pop("scientificName")  # random names may be empty: an error
    config.mapping["scientificName"] = TermSource(constant="Quercus robur")
    result = run_stages(config)
    assert result.records + result.rejected == result.extracted == len(rows)
    read, frame = _read_both_ways(result)
    for row, (_, expected) in zip(read, frame.iterrows()):
        assert row.id == expected["occurrenceID"]
        for term in ("catalogNumber", "recordedBy", "locality", "fieldNotes", "occurrenceRemarks"):
            assert row.data[DWC + term] == expected[term]
    quarantine = read_quarantine(result.quarantine)
    assert len(quarantine) == result.rejected
    # exactly the records holding bytes that are neither UTF-8 nor in the encoding are rejected, for that reason
    expected = {f"urn:test:{number}" for number, row in enumerate(rows, start=1)
                if not all(_decodable(value, encoding) for value in row.values())}
    assert set(quarantine["occurrenceID"]) == expected
    assert quarantine["reasons"].str.startswith("TEXT_ENCODING_INVALID: ").all()
    assert set(frame["occurrenceID"]) == {f"urn:test:{n}" for n in range(1, len(rows) + 1)} - expected
    published = frame.set_index("occurrenceID")
    for number, row in enumerate(rows, start=1):
        key = f"urn:test:{number}"
        if key in published.index:  # the value as written: decoded, controls removed, trimmed, tabs/breaks folded
            for term, column in (("recordedBy", "name"), ("locality", "locality"), ("occurrenceRemarks", "remarks"),
                                 ("fieldNotes", "raw_text")):
                assert published.loc[key, term] == _as_published(row[column], encoding)


def _as_published(value, encoding: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            value = value.decode(encoding)
    return re.sub(r"[\t\r\n]+", " ", re.sub(CONTROL_CHARACTERS, "", value).strip())


def _decodable(value, encoding: str | None) -> bool:
    if not isinstance(value, bytes):
        return True
    for codec in ("utf-8", encoding):
        try:
            if codec:
                value.decode(codec)
                return True
        except UnicodeDecodeError:
            pass
    return False
