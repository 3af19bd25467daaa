"""Layer 1 of the DwC-DP validation, column-wise with DuckDB, finds what frictionless finds row by row: on a package
whose tables are broken on purpose in many ways, both report the same problems (table, row, field, value, message,
the same caps and counts), and the tables DuckDB can read are checked column-wise, not handed to frictionless."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mobilise.validators import dwcdp
from mobilise.validators.dwcdp import MAX_PROBLEMS, validate_package

FIELDS = [
    {"name": "id", "type": "string", "constraints": {"required": True, "unique": True}},
    {"name": "n", "type": "integer", "constraints": {"minimum": 0, "maximum": 100}},
    {"name": "x", "type": "number", "constraints": {"minimum": -90, "maximum": 90}},
    {"name": "b", "type": "boolean"},
    {"name": "d", "type": "date"},
    {"name": "t", "type": "datetime"},
    {"name": "y", "type": "year"},
    {"name": "e", "type": "string", "constraints": {"enum": ["a", "b"]}},
    {"name": "p", "type": "string", "constraints": {"pattern": "[A-Z]{2}[0-9]+"}},
    {"name": "s", "type": "string", "constraints": {"minLength": 2, "maxLength": 4}},
    {"name": "q", "type": "integer", "constraints": {"required": True}},
    {"name": "v", "type": "number"},
]
GOOD = ["r", "5", "1.5", "true", "2024-01-31", "2024-01-31T10:00:00Z", "2024", "a", "AB12", "abc", "7", "-0.25"]
HEADER = ",".join(f["name"] for f in FIELDS)


def _row(i: int, **values: str) -> str:
    cells = dict(zip((f["name"] for f in FIELDS), GOOD), id=f"r{i}")
    cells.update(values)
    return ",".join(cells.values())


# a cell per (field, value): values frictionless accepts (odd ones included) and values it rejects
CELLS = [("n", "0"), ("n", "100"), ("n", "+5"), ("n", " 5"), ("n", "1_000"), ("n", "12.0"), ("n", "x"), ("n", "-1"),
         ("n", "101"), ("n", "99999999999999999999999"), ("x", "-90"), ("x", "90.0"), ("x", "1e1"), ("x", ".5"),
         ("x", "-90.0000000000000000001"), ("x", "90.5"), ("x", "1e999"), ("x", '"1,5"'), ("x", "abc"),
         ("b", "TRUE"), ("b", "0"), ("b", "yes"), ("b", "true "), ("d", "2024-02-30"), ("d", "31/01/2024"),
         ("t", "2024-01-31"), ("t", "2024-01-31 10:00"), ("y", "99999"), ("y", "1998"), ("e", "c"), ("e", "A"),
         ("p", "ab12"), ("p", "AB"), ("p", "XY9"), ("s", "a"), ("s", "abcde"), ("s", "ab"), ("q", ""),
         ("q", '""'), ("id", ""), ("id", '"r\r\nquoted, newline"'), ("s", '"a\nb"'), ("v", "1E-3"),
         ("v", "-"), ("v", "0x1"), ("v", "Infinity")]


def _tables() -> dict[str, tuple[list[dict], str]]:
    """name -> (fields, file content): one table per way of being broken."""
    rows = [_row(i, **{f: v}) for i, (f, v) in enumerate(CELLS)]
    many = [_row(i, n="bad", q="") if i % 3 else _row(i, x="91") for i in range(70)]
    crlf = "\r\n"
    return {
        "cells": (FIELDS, crlf.join([HEADER, *rows, ",,,,,,,,,,,", _row(99)]) + crlf),
        "many": (FIELDS, "\n".join([HEADER, *many]) + "\n"),
        "valid": (FIELDS, crlf.join([HEADER, *(_row(i) for i in range(5)), _row(5, id='"multi\r\nline"')]) + crlf),
        "header-order": (FIELDS, "\n".join([",".join(["n", "id", *HEADER.split(",")[2:]]), _row(1, n="x")]) + "\n"),
        "extra-column": (FIELDS, "\n".join([HEADER + ",z", _row(1) + ",1", _row(2, n="x") + ",2"]) + "\n"),
        "missing-column": (FIELDS[:-1], "\n".join([HEADER, _row(1), _row(2, n="x")]) + "\n"),
        "short-row": (FIELDS, "\n".join([HEADER, _row(1), "r2,5", _row(3, n="x")]) + "\n"),
        "blank-line": (FIELDS, "\n".join([HEADER, _row(1), "", _row(3, n="x")]) + "\n"),
        "bad-utf8": (FIELDS, "\n".join([HEADER, *(_row(i) for i in range(2000)), _row(2000, s="\udcff")]) + "\n"),
        "bad-utf8-header": (FIELDS, "\n".join([HEADER, _row(1, n="x"), _row(2, s="\udcff")]) + "\n"),
    }


def _package(directory: Path) -> Path:
    resources = []
    for name, (fields, content) in _tables().items():
        (directory / f"{name}.csv").write_bytes(content.encode("utf-8", "surrogateescape"))
        resources.append({"name": name, "path": f"{name}.csv", "profile": "tabular-data-resource", "format": "csv",
                          "mediatype": "text/csv", "encoding": "utf-8", "schema": {"fields": fields}})
    (directory / "datapackage.json").write_text(json.dumps({"name": "broken", "resources": resources}))
    return directory


def _found(validation) -> list[tuple]:
    return [(p.table, p.row, p.field, p.value, p.message, p.severity)
            for p in validation.layer("structure").problems]


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return _package(tmp_path_factory.mktemp("broken"))


def test_columnwise_finds_what_frictionless_finds(package, monkeypatch):
    checked: dict[str, bool] = {}
    table_problems = dwcdp._table_problems

    def spy(con, table, readable, schema):
        found = table_problems(con, table, readable, schema)
        checked[table] = found is not None
        return found

    monkeypatch.setattr(dwcdp, "_table_problems", spy)
    columnwise = _found(validate_package(package))
    reference = _found(validate_package(package, frictionless_data=True))
    assert columnwise == reference
    # the tables DuckDB reads strictly, with their header as declared, are checked column-wise
    assert checked == {"cells": True, "many": True, "valid": True, "short-row": False, "bad-utf8": False}
    by_table = {}
    for table, row, field, value, message, _ in columnwise:
        by_table.setdefault(table, []).append((row, field, value, message.split(":")[0]))
    assert "valid" not in by_table
    cells = by_table["cells"]
    rejected = {(CELLS[row - 1] if row <= len(CELLS) else None) for row, *_ in cells}
    assert rejected == {("n", "x"), ("n", "-1"), ("n", "101"), ("n", "99999999999999999999999"), ("n", "12.0"),
                        ("x", "-90.0000000000000000001"), ("x", "90.5"), ("x", "1e999"), ("x", '"1,5"'), ("x", "abc"),
                        ("b", "yes"), ("b", "true "), ("d", "2024-02-30"), ("d", "31/01/2024"), ("t", "2024-01-31"),
                        ("t", "2024-01-31 10:00"), ("y", "99999"), ("e", "c"), ("e", "A"), ("p", "ab12"),
                        ("p", "AB"), ("s", "a"), ("s", "abcde"), ("q", ""), ("q", '""'), ("id", ""),
                        ("n", "1_000"), ("v", "-"), ("v", "0x1"), None}
    assert (len(CELLS) + 1, None, None, "blank-row") in cells
    many = by_table["many"]
    assert sum(1 for row, *_, kind in many if row and kind == "type-error") == MAX_PROBLEMS
    assert (None, None, None, "type-error") in many and (None, None, None, "constraint-error") in many
    assert by_table["bad-utf8"] and by_table["header-order"] and by_table["extra-column"]
    assert {table for table, *_ in reference} == set(_tables()) - {"valid"}
