"""Validation of a Darwin Core Data Package in layers, as GBIF's package validator (gbif/dwc-dp-analyser) does.

1. ``structure``: the Frictionless Data Package v1 structure and the data against each resource's declared schema
   (descriptor, paths, encoding, header = declared fields in order, cell types and constraints), as the
   frictionless library checks them: the descriptor with frictionless; the data column-wise, DuckDB reading the
   CSVs strictly as text (memory bounded) and frictionless reading again only the distinct values a vectorised
   test cannot clear; frictionless row by row where DuckDB cannot read a table as frictionless would (a header
   other than the declared fields, a row of another width, bad UTF-8, a blank line, a dialect). Keys are left to
   layer 4 (frictionless holds them in memory).
2. ``profile``: ``datapackage.json`` against the DwC-DP profile's JSON Schema (jsonschema, draft 4), the profile and
   the Frictionless schemas it refers to resolved from the shipped copies (:mod:`mobilise.dwcdp`), never the
   network; the ``profile`` URL must name a DwC-DP profile on rs.tdwg.org with its version.
3. ``schema``: each reserved-name resource against its canonical table schema: every declared field is a
   canonical field of the same type, term (``dcterms:isVersionOf``) and constraints; required fields and the
   foreign keys of required fields declared; the primary key and foreign keys only canonical ones; the schema
   inline (an object) and the mediatype ``text/csv``.
4. ``keys``: over the data, with DuckDB reading the CSVs (memory bounded): primary keys present and unique, the
   values of every other ``unique`` field unique, and every foreign key value found in the table it references.

:func:`validate_package` (a directory or a zip) -> :class:`PackageValidation`: problems per layer and table, each
with the row (1-based data row), field and value where there is one; :meth:`PackageValidation.summary` says it in a
few lines. A problem of severity ``error`` makes the package invalid; ``warning`` (a custom field) does not.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
import tempfile
import zipfile
from contextlib import contextmanager
from copy import deepcopy
from pathlib import Path
from typing import Iterator, Literal

import duckdb
from pydantic import BaseModel, computed_field

from mobilise.dwcdp import SchemaSet, schema_set, schema_set_for_profile
from mobilise.validators.dataset import MEMORY_LIMIT

__all__ = ["validate_package", "PackageValidation", "LayerResult", "Problem", "LAYERS"]

LAYERS = ("structure", "profile", "schema", "keys")
PROFILE_URL = re.compile(r"^https?://rs\.tdwg\.org/dwc-dp/([^/]+)/dwc-dp-profile\.json$")
MAX_PROBLEMS = 20  # per layer, table and kind of problem: the rest are counted


class Problem(BaseModel):
    """One finding. `row`: the 1-based data row of `table`'s file (None for the descriptor); `field`: the field
    name; `value`: the offending value, as text."""

    layer: Literal["structure", "profile", "schema", "keys"]
    table: str | None = None
    row: int | None = None
    field: str | None = None
    value: str | None = None
    message: str
    severity: Literal["error", "warning"] = "error"


class LayerResult(BaseModel):
    name: Literal["structure", "profile", "schema", "keys"]
    problems: list[Problem] = []
    skipped: str | None = None

    @computed_field
    @property
    def valid(self) -> bool:
        return self.skipped is None and not any(p.severity == "error" for p in self.problems)

    def tables(self) -> dict[str, list[Problem]]:
        grouped: dict[str, list[Problem]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.table or "datapackage.json", []).append(problem)
        return grouped


class PackageValidation(BaseModel):
    """The layers' results, in order. `schema_version`: the shipped schema set the package was checked against."""

    path: str
    schema_version: str | None = None
    layers: list[LayerResult]

    @computed_field
    @property
    def valid(self) -> bool:
        return all(layer.valid for layer in self.layers)

    def layer(self, name: str) -> LayerResult:
        return next(layer for layer in self.layers if layer.name == name)

    def failed_layers(self) -> list[str]:
        return [layer.name for layer in self.layers if not layer.valid]

    def summary(self) -> str:
        head = (f"DwC-DP {self.path}: valid" if self.valid
                else f"DwC-DP {self.path}: NOT valid (failed: {', '.join(self.failed_layers())})")
        lines = [head]
        for layer in self.layers:
            if layer.skipped:
                lines.append(f"  {layer.name}: skipped ({layer.skipped})")
                continue
            if not layer.problems:
                lines.append(f"  {layer.name}: ok")
                continue
            lines.append(f"  {layer.name}: {'ok with warnings' if layer.valid else 'failed'}")
            for table, problems in layer.tables().items():
                lines.append(f"    {table}: {len(problems)} problem(s)")
                for p in problems[:5]:
                    where = ", ".join(x for x in (f"row {p.row}" if p.row else "", f"field {p.field}" if p.field else "",
                                                  f"value {p.value!r}" if p.value is not None else "") if x)
                    lines.append(f"      - {p.severity}: {p.message}" + (f" ({where})" if where else ""))
                if len(problems) > 5:
                    lines.append(f"      ... and {len(problems) - 5} more")
        return "\n".join(lines)


# --- offline resolution of the profile and the Frictionless schemas -------------------------------------------

def _local_session(documents: dict[str, dict]):
    """A requests session that answers the known schema URLs from `documents` and refuses every other URL."""
    import requests
    from requests.adapters import BaseAdapter
    from urllib3.response import HTTPResponse

    class LocalAdapter(BaseAdapter):
        def send(self, request, **kwargs):  # noqa: ARG002
            url = request.url
            if url not in documents:
                raise requests.ConnectionError(f"no network: {url} is not a shipped schema")
            body = json.dumps(documents[url]).encode("utf-8")
            response = requests.Response()
            response.status_code = 200
            response.url = url
            response.request = request
            response.raw = HTTPResponse(body=io.BytesIO(body), preload_content=False, status=200)
            response.headers["Content-Type"] = "application/json"
            return response

        def close(self):
            pass

    session = requests.Session()
    session.mount("http://", LocalAdapter())
    session.mount("https://", LocalAdapter())
    return session


@contextmanager
def offline_frictionless(schemas: SchemaSet) -> Iterator[None]:
    """frictionless, with the DwC-DP profile and the Frictionless schemas answered from the shipped copies (so
    ``frictionless`` validates a package's ``profile`` with no network)."""
    from frictionless import system

    with system.use_context(http_session=_local_session(schemas.local_documents())):
        yield


# --- the layers -------------------------------------------------------------------------------------------------

def _structure(directory: Path, descriptor: dict, con, frictionless_data: bool = False) -> LayerResult:
    """Layer 1. The descriptor with frictionless; each table's data column-wise with DuckDB on `con`
    (:func:`_table_problems`), or row by row with frictionless where that cannot read it as frictionless would,
    and everywhere when `frictionless_data` (the reference the column-wise check is tested against)."""
    from frictionless import FrictionlessException, Package

    copy = deepcopy(descriptor)
    copy["profile"] = "data-package"  # the DwC-DP profile is layer 2
    for resource in copy.get("resources", []):
        schema = resource.get("schema") if isinstance(resource, dict) else None
        if isinstance(schema, dict):  # keys are layer 4
            schema.pop("primaryKey", None)
            schema.pop("foreignKeys", None)
            for f in schema.get("fields", []):
                if isinstance(f, dict) and isinstance(f.get("constraints"), dict):
                    f["constraints"].pop("unique", None)
    try:
        package = Package(copy, basepath=str(directory))
        if frictionless_data:
            return LayerResult(name="structure", problems=_report_problems(package.validate()))
        try:
            package.to_descriptor(validate=True)
        except FrictionlessException as invalid:  # as Package.validate reports it: no data checked
            return LayerResult(name="structure", problems=[
                Problem(layer="structure", message=f"{e.type}: {e.message}") for e in invalid.to_errors()])
        problems: list[Problem] = []
        for resource, described in zip(package.resources, copy["resources"]):
            readable = _columnwise_readable(directory, described)
            found = _table_problems(con, resource.name, readable, resource.schema) if readable else None
            problems += _report_problems(resource.validate()) if found is None else found
    except FrictionlessException as error:
        return LayerResult(name="structure", problems=[Problem(layer="structure", message=str(error))])
    return LayerResult(name="structure", problems=problems)


def _report_problems(report) -> list[Problem]:
    """A frictionless validation report -> problems: the descriptor's errors, then each table's (at most
    MAX_PROBLEMS of a kind, the rest counted)."""
    problems = [Problem(layer="structure", message=f"{error.type}: {error.message}") for error in report.errors]
    for task in report.tasks:
        counts: dict[str, int] = {}
        for error in task.errors:
            counts[error.type] = counts.get(error.type, 0) + 1
        problems += _capped(task.name, task.errors, counts)
    return problems


def _capped(table: str, errors: list, counts: dict[str, int]) -> list[Problem]:
    """`errors` (frictionless errors in row order) -> problems: the first MAX_PROBLEMS of each kind, then one
    line per kind saying how many more `counts` (kind -> all errors of the kind) has."""
    problems: list[Problem] = []
    kept: dict[str, int] = {}
    for error in errors:
        kept[error.type] = kept.get(error.type, 0) + 1
        if kept[error.type] > MAX_PROBLEMS:
            continue
        cell = getattr(error, "cell", None)
        label = getattr(error, "label", None)
        problems.append(Problem(layer="structure", table=table,
                                row=(error.row_number - 1) if getattr(error, "row_number", None) else None,
                                field=getattr(error, "field_name", None) or None,
                                value=cell if cell not in (None, "") else label,
                                message=f"{error.type}: {error.note or error.message}"))
    for kind in kept:
        if counts[kind] > MAX_PROBLEMS:
            problems.append(Problem(layer="structure", table=table,
                                    message=f"{kind}: {counts[kind] - MAX_PROBLEMS} more rows like these"))
    return problems


# --- layer 1 column-wise ----------------------------------------------------------------------------------------

# resource properties the column-wise check reads as frictionless does; any other one (dialect, hash, bytes,
# compression, ...) leaves the table to frictionless
_PLAIN_RESOURCE = {"name", "path", "profile", "format", "mediatype", "encoding", "schema", "title", "description",
                   "licenses", "sources", "homepage"}
_BLANK_LINES = (b"\n\n", b"\n\r\n", b"\r\r")  # frictionless reports a blank line as a blank row, DuckDB skips it
_INTEGER = "-?[0-9]{1,18}"  # a subset of what int() reads, so never a false "valid"
_NUMBER = r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?"  # a subset of what Decimal() reads
_NUMERIC_PROPERTIES = {"bareNumber", "decimalChar", "groupChar", "floatNumber"}


def _columnwise_readable(directory: Path, resource: dict) -> tuple[Path, list[str]] | None:
    """(file, field names) when DuckDB reads `resource` as frictionless would: a ``.csv`` path in `directory`,
    declared UTF-8, default dialect and missing values, its header exactly the declared fields (names unique) and
    no blank line; None otherwise (frictionless then checks it, and describes what is wrong)."""
    path, schema = resource.get("path"), resource.get("schema")
    if (set(resource) - _PLAIN_RESOURCE or not isinstance(path, str) or not path.endswith(".csv")
            or resource.get("format", "csv") != "csv" or not isinstance(schema, dict)
            or str(resource.get("encoding", "")).lower() not in ("utf-8", "utf8")
            or schema.get("missingValues", [""]) != [""]):
        return None
    fields = schema.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, dict) and "missingValues" not in f for f in fields):
        return None
    names = [f.get("name") for f in fields]
    file = directory / path
    if (not names or len(set(names)) != len(names) or not file.is_file()
            or not file.resolve().is_relative_to(directory.resolve())):
        return None
    try:
        if _header(file) != names:
            return None
    except UnicodeDecodeError:
        return None
    with open(file, "rb") as handle:
        tail = b""
        while chunk := handle.read(1 << 22):
            window = tail + chunk
            if any(blank in window for blank in _BLANK_LINES):
                return None
            tail = window[-2:]
    return file, names


def _suspect(column: str, field: dict) -> str | None:
    """SQL predicate on a non-null VARCHAR `column`: TRUE for every value the frictionless `field` (a descriptor)
    may reject, and for few others (they are read again with frictionless); None: frictionless rejects no
    non-null value (a plain string)."""
    kind, constraints = field.get("type", "string"), field.get("constraints") or {}
    if not isinstance(constraints, dict) or "enum" in constraints or field.get("format", "default") != "default":
        return "true"
    bounds = [(key, constraints[key]) for key in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
              if key in constraints]
    if kind == "string":
        return "true" if set(constraints) & {"pattern", "minLength", "maxLength"} else None
    if kind == "boolean":
        accepted = [*field.get("trueValues", ["true", "True", "TRUE", "1"]),
                    *field.get("falseValues", ["false", "False", "FALSE", "0"])]
        return f"{column} NOT IN ({', '.join(_sql_text(str(v)) for v in accepted)})"
    if kind not in ("integer", "number") or set(field) & _NUMERIC_PROPERTIES or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) for _, v in bounds):
        return "true"
    pattern, cast = (_INTEGER, "BIGINT") if kind == "integer" else (_NUMBER, "DOUBLE")
    tests = [f"NOT regexp_full_match({column}, {_sql_text(pattern)})"]
    for key, bound in bounds:  # a value on the bound is read again: DOUBLE rounds
        tests.append(f"coalesce(TRY_CAST({column} AS {cast}) {'<=' if 'inimum' in key else '>='} {bound!r}, true)")
    return " OR ".join(tests)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _table_problems(con, table: str, readable: tuple[Path, list[str]], schema) -> list[Problem] | None:
    """The data of one table against its frictionless `schema`, column-wise: frictionless's blank-row,
    type-error and constraint-error findings (same row, field, value and message), every one counted. Two scans
    of the file with DuckDB: the distinct values each field's :func:`_suspect` flags (read again with the
    frictionless field), then, only if some are rejected, the rows holding them. None when DuckDB cannot parse
    the file strictly (a row of the wrong width, bad UTF-8, an open quote): frictionless then checks it."""
    from frictionless import errors

    file, names = readable
    columns = [_sql_name(n) for n in names]
    source = f"SELECT *, coalesce({', '.join(columns)}) IS NULL AS _blank FROM {_read_csv(file, names)}"
    fields = schema.fields
    suspects = [_suspect(column, f.to_descriptor()) for column, f in zip(columns, fields)]
    selects = ["count(*) FILTER (WHERE _blank)"]
    for column, field, suspect in zip(columns, fields, suspects):
        selects.append(f"count(*) FILTER (WHERE NOT _blank AND {column} IS NULL)" if field.required else "0")
        selects.append(f"list(DISTINCT {column}) FILTER (WHERE NOT _blank AND {column} IS NOT NULL AND ({suspect}))"
                       if suspect else "[]")
    try:
        found = con.execute(f"SELECT {', '.join(selects)} FROM ({source})").fetchone()
    except duckdb.Error:
        return None
    blanks = found[0]
    rejected: list[dict] = []  # per field: value (None: missing) -> frictionless notes [(kind, note)]
    for i, field in enumerate(fields):
        reader = field.create_cell_reader()
        values = ([None] if found[1 + 2 * i] else []) + list(found[2 + 2 * i] or [])
        notes = {}
        for value in values:
            _, note = reader("" if value is None else value)
            if note:
                notes[value] = [("type-error" if key == "type" else "constraint-error", text)
                                for key, text in note.items()]
        rejected.append(notes)
    if not blanks and not any(rejected):
        return []
    counts: dict[str, int] = {}
    cells: list[tuple] = []  # (row, field number, order in the cell, frictionless error)
    con.execute("SET threads = 1")  # rows read in file order, so that row numbers are the file's
    bad = [i for i, notes in enumerate(rejected) if notes]
    con.execute(f"CREATE OR REPLACE TEMP TABLE hits AS SELECT * FROM (SELECT row_number() OVER () AS _row, * "
                f"FROM ({source})) WHERE _blank OR "
                + " OR ".join(_wanted(columns[i], rejected[i], n + 1) for n, i in enumerate(bad)),
                [[v for v in rejected[i] if v is not None] for i in bad])
    try:
        if blanks:
            counts["blank-row"] = blanks
            for (row,) in con.execute(f"SELECT _row FROM hits WHERE _blank ORDER BY _row LIMIT {MAX_PROBLEMS}"
                                      ).fetchall():
                cells.append((row, 0, 0, errors.BlankRowError(note="", cells=[], row_number=row + 1)))
        for i in bad:
            notes, column = rejected[i], columns[i]
            for value, n in con.execute(f"SELECT {column}, count(*) FROM hits WHERE NOT _blank AND "
                                        f"{_wanted(column, notes)} GROUP BY {column}",
                                        [[v for v in notes if v is not None]]).fetchall():
                for kind, _ in notes[value]:
                    counts[kind] = counts.get(kind, 0) + n
            for kind, error in (("type-error", errors.TypeError), ("constraint-error", errors.ConstraintError)):
                values = [v for v, read in notes.items() if any(k == kind for k, _ in read)]
                if not values:
                    continue
                for row, value in con.execute(
                        f"SELECT _row, {column} FROM hits WHERE NOT _blank AND {_wanted(column, values)} "
                        f"ORDER BY _row LIMIT {MAX_PROBLEMS}", [[v for v in values if v is not None]]).fetchall():
                    cells += [(row, i + 1, order, error(note=text, cells=[], row_number=row + 1,
                                                        cell="" if value is None else value, field_name=names[i],
                                                        field_number=i + 1))
                              for order, (k, text) in enumerate(notes[value]) if k == kind]
    finally:
        con.execute("DROP TABLE IF EXISTS hits")
    cells.sort(key=lambda c: c[:3])
    return _capped(table, [c[3] for c in cells], counts)


def _wanted(column: str, values, parameter: int = 1) -> str:
    """SQL: `column` is one of `values` (None: missing), the non-null ones given as parameter $`parameter`."""
    test = f"list_contains(${parameter}, {column})"
    return f"({column} IS NULL OR {test})" if None in values else test


def _profile(descriptor: dict, schemas: SchemaSet) -> LayerResult:
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    problems: list[Problem] = []
    profile_url = descriptor.get("profile")
    if not isinstance(profile_url, str):
        problems.append(Problem(layer="profile", field="profile",
                                message="datapackage.json has no profile: a DwC-DP names its profile, e.g. "
                                        f"{schemas.profile_url}"))
    elif not PROFILE_URL.match(profile_url):
        problems.append(Problem(layer="profile", field="profile", value=profile_url,
                                message="the profile is not a versioned DwC-DP profile on rs.tdwg.org "
                                        "(http://rs.tdwg.org/dwc-dp/<version>/dwc-dp-profile.json)"))
    elif schema_set_for_profile(profile_url) is None:
        problems.append(Problem(layer="profile", field="profile", value=profile_url,
                                message=f"no shipped schema set for this profile (shipped: {schemas.profile_url})"))
    registry = Registry().with_resources(
        (url, Resource.from_contents(doc, default_specification=DRAFT4))
        for url, doc in schemas.local_documents().items())
    validator = Draft4Validator(schemas.profile, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)
    for error in sorted(validator.iter_errors(descriptor), key=lambda e: list(e.absolute_path)):
        path = list(error.absolute_path)
        table = None
        if len(path) >= 2 and path[0] == "resources" and isinstance(path[1], int):
            resources = descriptor.get("resources") or []
            table = resources[path[1]].get("name") if path[1] < len(resources) else None
        pointer = "/" + "/".join(str(p) for p in path)
        detail = "; ".join(sorted({c.message for c in error.context}))[:300] if error.context else ""
        problems.append(Problem(layer="profile", table=table, field=pointer,
                                message=f"{error.message}" + (f" ({detail})" if detail else "")))
    return LayerResult(name="profile", problems=problems)


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value or [])


def _fk_signature(fk: dict) -> tuple:
    ref = fk.get("reference") or {}
    return (tuple(_as_list(fk.get("fields"))), ref.get("resource"), tuple(_as_list(ref.get("fields"))))


def _schema(descriptor: dict, schemas: SchemaSet) -> LayerResult:
    problems: list[Problem] = []

    def add(table, message, field=None, value=None, severity="error"):
        problems.append(Problem(layer="schema", table=table, field=field, value=value, message=message,
                                severity=severity))

    reserved = set(schemas.tables)
    for resource in descriptor.get("resources") or []:
        name = resource.get("name")
        if name not in reserved:
            continue
        canonical = schemas.table_schema(name)
        schema = resource.get("schema")
        if not isinstance(schema, dict):
            add(name, "the schema must be given inline as an object, not a reference", value=str(schema))
            continue
        if resource.get("mediatype") != "text/csv":
            add(name, "a DwC-DP table's mediatype must be text/csv", field="mediatype",
                value=str(resource.get("mediatype")))
        by_name = {f["name"]: f for f in canonical["fields"]}
        declared = [f for f in schema.get("fields") or [] if isinstance(f, dict)]
        declared_names = {f.get("name") for f in declared}
        for f in declared:
            fname = f.get("name")
            if fname not in by_name:
                add(name, "not a field of the canonical table schema (custom fields SHOULD NOT be added)",
                    field=fname, severity="warning")
                continue
            want = by_name[fname]
            if f.get("type", "string") != want.get("type", "string"):
                add(name, f"declared type {f.get('type', 'string')!r}, the canonical schema says "
                          f"{want.get('type', 'string')!r}", field=fname, value=f.get("type"))
            if f.get("dcterms:isVersionOf") != want.get("dcterms:isVersionOf"):
                add(name, f"declared as a version of {f.get('dcterms:isVersionOf')!r}, the canonical field is "
                          f"{want.get('dcterms:isVersionOf')!r}", field=fname)
            if (f.get("constraints") or {}) != (want.get("constraints") or {}):
                add(name, f"constraints {f.get('constraints') or {}} differ from the canonical "
                          f"{want.get('constraints') or {}}", field=fname)
            if f.get("format", "default") != want.get("format", "default"):
                add(name, f"format {f.get('format')!r} differs from the canonical {want.get('format')!r}",
                    field=fname)
        required = [f["name"] for f in canonical["fields"] if (f.get("constraints") or {}).get("required")]
        for fname in required:
            if fname not in declared_names:
                add(name, "a required field of the canonical table schema is not declared", field=fname)
        if "primaryKey" in schema and _as_list(schema["primaryKey"]) != _as_list(canonical.get("primaryKey")):
            add(name, f"primary key {schema['primaryKey']!r} is not the canonical one "
                      f"{canonical.get('primaryKey')!r}", field="primaryKey")
        canonical_fks = {_fk_signature(fk) for fk in canonical.get("foreignKeys", [])}
        declared_fks = [fk for fk in schema.get("foreignKeys") or [] if isinstance(fk, dict)]
        for fk in declared_fks:
            if _fk_signature(fk) not in canonical_fks:
                add(name, f"foreign key {fk} is not one of the canonical table schema", field="foreignKeys")
        declared_fk_fields = {f for fk in declared_fks for f in _as_list(fk.get("fields"))}
        for fk in canonical.get("foreignKeys", []):
            for fname in _as_list(fk["fields"]):
                if fname in required and fname not in declared_fk_fields:
                    add(name, f"the foreign key of required field {fname} to "
                              f"{fk['reference']['resource'] or name} is not declared", field=fname)
    return LayerResult(name="schema", problems=problems)


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_csv(file: Path, names: list[str]) -> str:
    """SQL reading the CSV `file` whose header is `names`, every column VARCHAR (an empty value NULL), strictly:
    a row of another width, bad UTF-8 or an open quote is an error, never a guess."""
    types = ", ".join(f"{_sql_text(n)}: 'VARCHAR'" for n in names)
    return (f"read_csv({_sql_text(str(file))}, header = true, auto_detect = false, columns = {{{types}}}, "
            "delim = ',', quote = '\"', escape = '\"', strict_mode = true, null_padding = false)")


def _header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def _keys(con, directory: Path, descriptor: dict) -> LayerResult:
    problems: list[Problem] = []
    resources = {r.get("name"): r for r in descriptor.get("resources") or [] if isinstance(r, dict)}
    needed: dict[str, set[str]] = {name: set() for name in resources}
    for name, resource in resources.items():
        schema = resource.get("schema") if isinstance(resource.get("schema"), dict) else {}
        needed[name].update(_as_list(schema.get("primaryKey")))
        needed[name].update(_unique_fields(schema))
        for fk in schema.get("foreignKeys") or []:
            needed[name].update(_as_list(fk.get("fields")))
            target = (fk.get("reference") or {}).get("resource") or name
            needed.setdefault(target, set()).update(_as_list((fk.get("reference") or {}).get("fields")))
    return _check_keys(con, directory, resources, needed, problems)


def _unique_fields(schema: dict) -> list[str]:
    return [f["name"] for f in schema.get("fields") or [] if isinstance(f, dict) and isinstance(f.get("name"), str)
            and isinstance(f.get("constraints"), dict) and f["constraints"].get("unique")]


def _check_keys(con, directory: Path, resources: dict, needed: dict[str, set[str]],
                problems: list[Problem]) -> LayerResult:
    con.execute("SET threads = 1")  # rows read in file order, so that row numbers are the file's
    views: dict[str, str] = {}
    headers: dict[str, set[str]] = {}
    for i, (name, resource) in enumerate(resources.items()):
        path = resource.get("path")
        if not isinstance(path, str) or not (directory / path).is_file():
            continue
        view = f"t{i}"
        try:
            header = _header(directory / path)
            keep = [c for c in header if c in needed.get(name, set())]
            select = ", ".join(["row_number() OVER () AS _row"] + [_sql_name(c) for c in keep])
            con.execute(f"CREATE TABLE {view} AS SELECT {select} FROM {_read_csv(directory / path, header)}")
        except (UnicodeDecodeError, duckdb.Error) as error:  # layer 1 says where
            problems.append(Problem(layer="keys", table=name, message=f"the file cannot be read as CSV: "
                                                                      f"{str(error).splitlines()[0]}"))
            continue
        views[name], headers[name] = view, set(keep)
    for name, resource in resources.items():
        schema = resource.get("schema")
        if name not in views or not isinstance(schema, dict):
            continue
        view = views[name]
        columns = headers[name]
        pk = _as_list(schema.get("primaryKey"))
        if pk and set(pk) <= columns:
            cols = ", ".join(_sql_name(c) for c in pk)
            missing = con.execute(f"SELECT _row FROM {view} WHERE " + " OR ".join(f"{_sql_name(c)} IS NULL"
                                                                                for c in pk)
                                  + f" LIMIT {MAX_PROBLEMS}").fetchall()
            for (row,) in missing:
                problems.append(Problem(layer="keys", table=name, row=row, field=",".join(pk),
                                        message="primary key is empty"))
            duplicates = con.execute(
                f"SELECT concat_ws(' | ', {cols}) AS k, count(*) AS n, list(_row ORDER BY _row) FROM {view} "
                f"WHERE {' AND '.join(f'{_sql_name(c)} IS NOT NULL' for c in pk)} GROUP BY {cols} "
                f"HAVING count(*) > 1 ORDER BY min(_row) LIMIT {MAX_PROBLEMS}").fetchall()
            for key, count, rows in duplicates:
                problems.append(Problem(layer="keys", table=name, row=rows[1], field=",".join(pk), value=key,
                                        message=f"primary key not unique: {count} rows (rows {rows[:5]})"))
        for unique in _unique_fields(schema):
            if [unique] == pk or unique not in columns:
                continue
            column = _sql_name(unique)
            for value, count, rows in con.execute(
                    f"SELECT {column}, count(*), list(_row ORDER BY _row) FROM {view} WHERE {column} IS NOT NULL "
                    f"GROUP BY {column} HAVING count(*) > 1 ORDER BY min(_row) LIMIT {MAX_PROBLEMS}").fetchall():
                problems.append(Problem(layer="keys", table=name, row=rows[1], field=unique, value=value,
                                        message=f"values of a unique field repeated: {count} rows (rows {rows[:5]})"))
        for fk in schema.get("foreignKeys") or []:
            fields = _as_list(fk.get("fields"))
            ref = fk.get("reference") or {}
            target = ref.get("resource") or name
            ref_fields = _as_list(ref.get("fields"))
            if target not in views:
                problems.append(Problem(layer="keys", table=name, field=",".join(fields),
                                        message=f"foreign key refers to table {target!r}, which the package "
                                                "does not have"))
                continue
            target_columns = headers[target]
            if not set(fields) <= columns or not set(ref_fields) <= target_columns or len(fields) != len(ref_fields):
                problems.append(Problem(layer="keys", table=name, field=",".join(fields),
                                        message=f"foreign key fields {fields} -> {target}.{ref_fields} are not "
                                                "columns of the files"))
                continue
            on = " AND ".join(f"p.{_sql_name(r)} = c.{_sql_name(f)}" for f, r in zip(fields, ref_fields))
            dangling = con.execute(
                f"SELECT c._row, concat_ws(' | ', {', '.join('c.' + _sql_name(f) for f in fields)}) FROM {view} c "
                f"WHERE {' AND '.join('c.' + _sql_name(f) + ' IS NOT NULL' for f in fields)} "
                f"AND NOT EXISTS (SELECT 1 FROM {views[target]} p WHERE {on}) ORDER BY c._row "
                f"LIMIT {MAX_PROBLEMS + 1}").fetchall()
            for row, value in dangling[:MAX_PROBLEMS]:
                problems.append(Problem(layer="keys", table=name, row=row, field=",".join(fields), value=value,
                                        message=f"foreign key not found in {target}.{','.join(ref_fields)}"))
            if len(dangling) > MAX_PROBLEMS:
                problems.append(Problem(layer="keys", table=name, field=",".join(fields),
                                        message=f"more rows whose {','.join(fields)} is not found in {target}"))
    return LayerResult(name="keys", problems=problems)


def validate_package(path: str | Path, *, frictionless_data: bool = False) -> PackageValidation:
    """Validate the DwC-DP at `path` (a directory holding ``datapackage.json``, the descriptor itself, or a zip of
    the package) in the four layers of the module docstring. Layers 3 and 4 need a readable descriptor; each layer
    runs even when an earlier one failed, so the report shows every layer a broken package fails.
    `frictionless_data`: layer 1 checks every table's data row by row with the frictionless library (slow; the
    reference the column-wise check must agree with)."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="dwcdp-check-") as tmp:
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise ValueError(f"{path}: unsafe member name {member!r}")
                archive.extractall(tmp)
            result = validate_package(Path(tmp), frictionless_data=frictionless_data)
            return result.model_copy(update={"path": str(path)})
    directory = path.parent if path.name == "datapackage.json" else path
    descriptor_path = directory / "datapackage.json"
    try:
        descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        problem = Problem(layer="structure", message=f"datapackage.json cannot be read: {error}")
        return PackageValidation(path=str(path), layers=[
            LayerResult(name="structure", problems=[problem]),
            *(LayerResult(name=n, skipped="no readable datapackage.json") for n in LAYERS[1:])])
    if not isinstance(descriptor, dict):
        descriptor = {"resources": []}
    profile_url = descriptor.get("profile") if isinstance(descriptor.get("profile"), str) else ""
    version = descriptor.get("dwcDpSchemaVersion")
    schemas = schema_set_for_profile(profile_url, version) or schema_set(None)
    with tempfile.TemporaryDirectory(prefix="dwcdp-scratch-") as scratch:
        # layers 1 and 4 read the CSVs with DuckDB; beyond the memory limit it spills to the scratch folder
        con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": scratch})
        try:
            with offline_frictionless(schemas):  # a resource path or profile that is a URL is not fetched
                structure = _structure(directory, descriptor, con, frictionless_data)
            layers = [structure, _profile(descriptor, schemas), _schema(descriptor, schemas),
                      _keys(con, directory, descriptor)]
        finally:
            con.close()
    return PackageValidation(path=str(path), schema_version=schemas.version, layers=layers)
