"""A Darwin Core Data Package (DwC-DP) derived from a run's published Darwin Core rows.

The package is derived from the same validated rows the Darwin Core Archive is written from, so both formats hold
the same facts by construction: a value of a core row is written, unchanged, in every package field that is a
version of the same Darwin Core term (tabs and line breaks folded to one space, as the archive writes them).

Input: the core's published rows (Arrow tables, one column per Darwin Core term named by its local name:
``occurrenceID``, ``basisOfRecord``, ``recordedBy``, ...; or an Event core keyed by ``eventID``) and each
extension's published rows by name (:data:`mobilise.extensions.EXTENSIONS` names; column ``coreid`` = the core
record's id, then the extension's term names), all as iterables of Arrow tables: they are read one table at a time
and staged on disk, so memory stays bounded by a batch (plus one entry per distinct agent).

Output tables (reserved DwC-DP names, field names and descriptors copied from the canonical table schemas of the
shipped schema set, :mod:`mobilise.dwcdp`):

* ``event``: Occurrence core: one collecting event per record (``event_pk`` = ``<occurrenceID>#event``,
  ``eventCategory`` ``material collection`` for a specimen, else ``occurrence``), holding the record's Event and
  Location terms. Event core: one per core row (``event_pk`` = ``eventID``, ``parentEvent_fk`` = ``parentEventID``
  when that event is in the dataset, else left out and counted; ``eventCategory`` ``survey``).
* ``occurrence``: one per occurrence (``occurrence_pk`` = ``occurrenceID``, ``event_fk`` its event).
  ``occurrenceStatus`` is required here: an empty one is written as GBIF interprets it (``absent`` when
  individualCount is 0, else ``present``) and counted in the summary.
* ``material``: one per record whose basisOfRecord is PreservedSpecimen, MaterialSample, FossilSpecimen or
  LivingSpecimen (``materialEntity_pk`` = ``occurrenceID``, ``collectionEvent_fk`` its event,
  ``evidenceForOccurrenceID`` the occurrence; recordedBy -> collectedBy, recordNumber -> collectorNumber).
* ``identification``: one per Identification History row (``identification_pk`` = ``<coreid>#identification-<n>``),
  or, with no such extension, one per record that names a taxon or a determiner (``<occurrenceID>#identification``,
  ``isAcceptedIdentification`` true); linked to the occurrence and, for a specimen, to its material.
* ``agent``: the distinct people in recordedBy / identifiedBy (split on ``|``), paired by position with their
  recordedByID / identifiedByID. An agent with an id has that id as ``agent_pk`` and ``agentID``; one without has
  a stable name-based key (``urn:uuid:`` + UUID5 of the name). Two people of the same name with different ids stay
  two agents; a name whose ids cannot be paired (a different count of names and ids) is written without an id and
  counted (never paired by guess).
* ``material-agent-role`` (collector, for a specimen) or ``occurrence-agent-role`` (recorder), in recordedBy order;
  ``identification-agent-role`` (determiner), in identifiedBy order.
* ``agent-identifier``: each agent id (``identifierType`` ORCID for a well-formed ORCID iD with its check digit,
  :func:`mobilise.identifiers.normalise_orcid`).
* ``usage-policy``: the distinct licence / rights holder / rights of specimens (core ``license``, ``rightsHolder``,
  ``accessRights``) and of media (their own), referred to by ``material.usagePolicy_fk`` and
  ``media.usagePolicy_fk`` (an observation's licence has no field in DwC-DP's occurrence table).
* ``material-assertion`` (a specimen's), ``occurrence-assertion`` or ``event-assertion`` (an Event core's): one per
  MeasurementOrFact or eMoF row (measurementType -> assertionType, measurementValue -> assertionValue, unit,
  accuracy -> assertionError, determined by/date, method -> assertionProtocols, the eMoF IRIs).
* ``resource-relationship``: one per ResourceRelationship row (``subjectResourceID`` its resourceID, else the core
  record's id; relationshipOfResource -> relationshipType).
* ``media`` (GBIF Simple Multimedia or Audubon Core rows; ``media_pk`` = ``<coreid>#media-<n>``) and
  ``material-media`` (a specimen's), ``occurrence-media`` (another record's) or ``event-media`` (an Event core's).

Only tables with rows are written, each with the canonical fields that have a value in some row (and the
required ones), in the canonical order. A value that is not of the field's type or breaks its constraint (a
``month`` of 13, a ``coordinateUncertaintyInMeters`` of 0) is left out and counted, never written invalid.
Extensions with no DwC-DP table here (an Identification History of an Event core) and terms with no field
(samplingProtocol, dynamicProperties, parentMeasurementID, ...) are named in the summary (``not_carried``).

Files: UTF-8 CSV, RFC 4180 (comma, double quotes, CRLF), one per table, ``datapackage.json`` (profile
:attr:`SchemaSet.profile_url`, ``dwcDpSchemaVersion``, each resource's schema inline: the guide requires an object,
not a reference) and ``eml.xml``. :func:`write_dataset_package` validates the package
(:func:`mobilise.validators.dwcdp.validate_package`) and writes the zip only when it is valid.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
from pydantic import BaseModel

from mobilise.dwcdp import SchemaSet, schema_set
from mobilise.identifiers import normalise_orcid
from mobilise.validators.dataset import MEMORY_LIMIT
from mobilise.validators.dwcdp import PackageValidation, validate_package
from mobilise.publishers.dwca import fold_structural

__all__ = ["derive_package", "write_dataset_package", "DerivedPackage", "PackageSummary", "MATERIAL_BASES"]

MATERIAL_BASES = frozenset({"PreservedSpecimen", "MaterialSample", "FossilSpecimen", "LivingSpecimen"})
CORE_ID_COLUMN = "coreid"
AGENT_NAMESPACE = uuid.UUID("6f1c3a52-8d7e-5b1a-9c43-2e0d5f7a9b18")  # Mobilise's namespace for name-based agent keys
MEDIA_EXTENSIONS = ("multimedia", "audubon")
MOF_EXTENSIONS = ("measurement_or_fact", "extended_measurement_or_fact")
_ASSERTION_KEYS = {"event-assertion": "event_fk", "material-assertion": "materialEntity_fk",
                   "occurrence-assertion": "occurrence_fk"}
#: package field <- Darwin Core column, where the package renames a term (beyond same name, same term)
RENAMES: dict[str, dict[str, str]] = {
    "material": {"collectorNumber": "recordNumber", "collectedBy": "recordedBy", "collectedByID": "recordedByID",
                 "evidenceForOccurrenceID": "occurrenceID"},
    "media:multimedia": {"accessURI": "identifier", "mediaType": "type", "createDate": "created",
                         "furtherInformationURL": "references"},
    "media:audubon": {"mediaID": "identifier", "mediaType": "type", "createDate": "CreateDate",
                      "metadataDate": "MetadataDate", "pixelXDimension": "PixelXDimension",
                      "pixelYDimension": "PixelYDimension", "rating": "Rating", "sample-rate": "sample_rate",
                      "subtypeLiteral": "subtypeLiteral"},
    **{f"{table}:mof": {"assertionID": "measurementID", "verbatimAssertionType": "verbatimMeasurementType",
                         "assertionType": "measurementType", "assertionTypeIRI": "measurementTypeID",
                         "assertionValue": "measurementValue", "assertionValueIRI": "measurementValueID",
                         "assertionUnit": "measurementUnit", "assertionUnitIRI": "measurementUnitID",
                         "assertionError": "measurementAccuracy", "assertionBy": "measurementDeterminedBy",
                         "assertionMadeDate": "measurementDeterminedDate", "assertionProtocols": "measurementMethod",
                         "assertionRemarks": "measurementRemarks"}
       for table in ("material-assertion", "occurrence-assertion", "event-assertion")},
    "resource-relationship": {"relationshipType": "relationshipOfResource",
                              "relationshipTypeIRI": "relationshipOfResourceID"},
    "usage-policy:audubon": {"rightsIRI": "dcterms:rights", "owner": "Owner", "usageTerms": "UsageTerms",
                             "webStatement": "WebStatement", "credit": "Credit"},
}
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_BOOLEAN = {"true", "True", "TRUE", "1", "false", "False", "FALSE", "0"}
_FLUSH_ROWS = 10_000


class PackageSummary(BaseModel):
    """What a derived package holds: rows per table, the values left out (``table.field`` -> count), inferred
    occurrenceStatus values, records whose agent names and ids could not be paired, what has no DwC-DP table,
    and (after :func:`write_dataset_package`) whether it validated and where it was written."""

    schema_version: str
    profile: str
    tables: dict[str, int]
    values_left_out: dict[str, int] = {}
    occurrence_status_inferred: int = 0
    agents_unpaired: int = 0
    not_carried: list[str] = []
    valid: bool | None = None
    validation: str | None = None
    checks: PackageValidation | None = None  # problems per layer and table
    target: str | None = None

    def text(self) -> str:
        lines = [f"DwC-DP {self.schema_version} ({self.profile}): "
                 + ", ".join(f"{name} {rows}" for name, rows in self.tables.items())]
        if self.values_left_out:
            lines.append("values left out (not of the field's type or out of its range): "
                         + ", ".join(f"{k} {v}" for k, v in sorted(self.values_left_out.items())))
        if self.occurrence_status_inferred:
            lines.append(f"occurrenceStatus inferred as GBIF does: {self.occurrence_status_inferred} records")
        if self.agents_unpaired:
            lines.append(f"agent names and ids of different counts (names written without ids): "
                         f"{self.agents_unpaired} records")
        if self.not_carried:
            lines.append("not carried (no DwC-DP table here): " + ", ".join(self.not_carried))
        if self.validation:
            lines.append(self.validation)
        return "\n".join(lines)


@dataclass
class DerivedPackage:
    """A package written to `directory` (datapackage.json, one CSV per table, eml.xml when given)."""

    directory: Path
    summary: PackageSummary


def _fields_of(schemas: SchemaSet, table: str) -> list[dict]:
    return schemas.table_schema(table)["fields"]


def _column(value: pa.Array | str | None, size: int) -> pa.Array:
    """`value` as a string array of `size`: an array as it is, one text repeated, or nulls for None."""
    if isinstance(value, pa.Array):
        return value
    return pa.nulls(size, pa.string()) if value is None else pa.repeat(pa.scalar(value, pa.string()), size)


def _suffixed(values: pa.Array, suffix: str | pa.Array) -> pa.Array:
    """``f"{value}{suffix}"`` of each value, as Python formats it (a null value reads ``None``)."""
    return pc.binary_join_element_wise(pc.fill_null(values, "None"), suffix, "")


def _specimens(record: Mapping[str, pa.Array], size: int) -> np.ndarray:
    """Whether each record's basisOfRecord is one of MATERIAL_BASES (a specimen)."""
    if "basisOfRecord" not in record:
        return np.zeros(size, dtype=bool)
    return pc.is_in(record["basisOfRecord"], pa.array(sorted(MATERIAL_BASES))).to_numpy(zero_copy_only=False)


def _stripped(values: pa.Array) -> pa.Array:
    """Each value ``str.strip()``-ed, an empty result as null: Python on the distinct values, mapped back."""
    distinct = pc.unique(values)
    stripped = pa.array([(v.strip() or None) if v is not None else None for v in distinct.to_pylist()], pa.string())
    return stripped.take(pc.index_in(values, distinct))


class _Staged:
    """One output table staged as Arrow IPC on disk (all canonical fields, as text) with per-field value counts."""

    def __init__(self, schemas: SchemaSet, name: str, directory: Path):
        self.name = name
        self.canonical = schemas.table_schema(name)
        self.fields = self.canonical["fields"]
        self.names = [f["name"] for f in self.fields]
        self.schema = pa.schema([(n, pa.string()) for n in self.names])
        self.path = directory / f"{name}.arrow"
        self.writer: ipc.RecordBatchFileWriter | None = None
        self.buffer: list[dict] = []
        self.rows = 0
        self.filled: Counter = Counter()

    def add(self, row: dict) -> None:
        """One row (field -> text or None), buffered: for the tables of distinct values (agents, policies)."""
        self.buffer.append(row)
        if len(self.buffer) >= _FLUSH_ROWS:
            self.flush()

    def add_columns(self, columns: Mapping[str, pa.Array], size: int) -> None:
        """`size` rows given field by field (string arrays of length `size`; a field not given is null), after
        the buffered rows."""
        self.flush()
        self._write([columns.get(n) for n in self.names], size)

    def flush(self) -> None:
        if not self.buffer:
            return
        present = set().union(*(r.keys() for r in self.buffer))
        arrays = [pa.array([r.get(n) for r in self.buffer], pa.string()) if n in present else None
                  for n in self.names]
        size, self.buffer = len(self.buffer), []
        self._write(arrays, size)

    def _write(self, arrays: list[pa.Array | None], size: int) -> None:
        if not size:
            return
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), self.schema)
        columns = []
        for name, values in zip(self.names, arrays):
            if values is None:
                values = pa.nulls(size, pa.string())
            self.filled[name] += size - values.null_count
            columns.append(values)
        self.writer.write_batch(pa.record_batch(columns, schema=self.schema))
        self.rows += size

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def written_fields(self) -> list[dict]:
        return [f for f in self.fields
                if self.filled[f["name"]] or (f.get("constraints") or {}).get("required")]


@dataclass
class _People:
    """The people of a batch's records, in record order then name order: `rows` the record (batch row) of each,
    `names` / `ids` its name and id (stripped; null when empty), `order` its 1-based position in its record."""

    rows: np.ndarray
    names: pa.Array
    ids: pa.Array
    order: np.ndarray


class _Deriver:
    """Derives the package's tables from the run's batches, column by column: each input batch becomes one batch
    of each table it feeds. Python runs only per distinct value (typing checks, name stripping, usage policies)
    and per person named (the agent keys, one dict entry per distinct agent)."""

    def __init__(self, schemas: SchemaSet, core_name: str, stage_dir: Path, has_identifications: bool):
        self.schemas = schemas
        self.core_name = core_name
        self.stage_dir = stage_dir
        self.has_identifications = has_identifications
        self.tables: dict[str, _Staged] = {}
        self.left_out: Counter = Counter()
        self.status_inferred = 0
        self.unpaired = 0
        self.agents: dict[tuple[str, str], str] = {}
        self.policies: dict[str, str] = {}
        self._typed_fields: dict[str, dict[str, dict]] = {}
        self.counters: Counter = Counter()
        self._plans: dict[tuple[str, str, tuple[str, ...]], list[tuple[dict, str]]] = {}
        self.index = duckdb.connect(str(stage_dir / "core.duckdb"), config={"memory_limit": MEMORY_LIMIT})
        self.index.execute("CREATE TABLE core (id VARCHAR, material BOOLEAN)")

    # --- rows -------------------------------------------------------------------------------------------------

    def table(self, name: str) -> _Staged:
        if name not in self.tables:
            self.tables[name] = _Staged(self.schemas, name, self.stage_dir)
        return self.tables[name]

    def _plan(self, table: str, variant: str, columns: tuple[str, ...]) -> list[tuple[dict, str]]:
        """(field descriptor, source column) for each non-key field of `table` that a column of the input is a
        version of: the same name (a Darwin Core term keeps its name in DwC-DP), or a rename of RENAMES."""
        key = (table, variant, columns)
        if key not in self._plans:
            renames = RENAMES.get(f"{table}:{variant}", RENAMES.get(table, {}))
            present = set(columns)
            plan = []
            for f in _fields_of(self.schemas, table):
                name = f["name"]
                if name.endswith(("_pk", "_fk")):
                    continue
                source = renames.get(name, name)
                if name in renames.values() and name not in renames:
                    continue  # a column renamed to another field is not also taken for the field of its name
                if source in present:
                    plan.append((f, source))
            self._plans[key] = plan
        return self._plans[key]

    def _typed_of(self, table: str) -> dict[str, dict]:
        """The fields of `table` that are not strings, by name."""
        if table not in self._typed_fields:
            self._typed_fields[table] = {f["name"]: f for f in _fields_of(self.schemas, table)
                                         if f.get("type", "string") != "string"}
        return self._typed_fields[table]

    @staticmethod
    def _fits(f: dict, value: str) -> bool:
        """Whether text `value` is of field `f`'s type and within its minimum / maximum."""
        kind = f.get("type", "string")
        ok = True
        if kind == "integer":
            ok = bool(_INTEGER.match(value))
        elif kind == "number":
            ok = bool(_NUMBER.match(value))
        elif kind == "boolean":
            ok = value in _BOOLEAN
        if ok and kind in ("integer", "number"):
            constraints = f.get("constraints") or {}
            number = float(value)
            if "minimum" in constraints and number < constraints["minimum"]:
                ok = False
            if "maximum" in constraints and number > constraints["maximum"]:
                ok = False
        return ok

    def _typed(self, table: str, f: dict, value: str | None) -> str | None:
        if value is None or self._fits(f, value):
            return value
        self.left_out[f"{table}.{f['name']}"] += 1
        return None

    def _typed_column(self, table: str, f: dict, values: pa.Array) -> pa.Array:
        """`values` with each value that does not fit field `f` (:meth:`_fits`) nulled and counted."""
        if f.get("type", "string") == "string" or values.null_count == len(values):
            return values
        drop = self._unfit(f, values)
        dropped = pc.sum(drop).as_py()
        if not dropped:
            return values
        self.left_out[f"{table}.{f['name']}"] += dropped
        return pc.if_else(drop, pa.scalar(None, pa.string()), values)

    def _unfit(self, f: dict, values: pa.Array) -> pa.Array:
        """Whether each value does not fit field `f` (false for a null), as :meth:`_fits` says: numbers checked
        with Arrow when all are ASCII (Python's ``\\d`` is then ``[0-9]``), else Python once per distinct value."""
        kind, constraints = f.get("type", "string"), f.get("constraints") or {}
        if kind in ("integer", "number") and pc.all(pc.string_is_ascii(values)).as_py() is not False:
            pattern = (_INTEGER if kind == "integer" else _NUMBER).pattern.replace(r"\d", "[0-9]")
            fits = pc.match_substring_regex(values, pattern)
            try:
                numbers = pc.cast(pc.if_else(fits, values, pa.scalar(None, pa.string())), pa.float64())
            except pa.ArrowInvalid:  # beyond a double (Python's float gives inf): Python decides
                pass
            else:
                if "minimum" in constraints:
                    fits = pc.and_kleene(fits, pc.greater_equal(numbers, constraints["minimum"]))
                if "maximum" in constraints:
                    fits = pc.and_kleene(fits, pc.less_equal(numbers, constraints["maximum"]))
                return pc.fill_null(pc.invert(fits), False)
        unfit = [v for v in pc.unique(values).to_pylist() if v is not None and not self._fits(f, v)]
        return pc.is_in(values, pa.array(unfit, pa.string()))

    def emit(self, table: str, size: int, row: Mapping[str, pa.Array | str | None], record: Mapping | None = None,
             variant: str = "", columns: tuple[str, ...] = ()) -> None:
        """Add `size` rows to `table`: `row`'s keys and fixed values (arrays of `size`, or one text for all),
        plus the values of `record` (the batch's columns, cut to the same rows) for every field that is a
        version of one of its `columns`."""
        if not size:
            return
        out = {name: _column(value, size) for name, value in row.items()}
        if record is not None:
            for f, source in self._plan(table, variant, columns):
                if f["name"] not in out:
                    out[f["name"]] = self._typed_column(table, f, record[source])
        typed = self._typed_of(table)
        for name in typed.keys() & row.keys():  # fixed values are typed too (agentRoleOrder)
            if row[name] is not None:
                out[name] = self._typed_column(table, typed[name], out[name])
        self.table(table).add_columns(out, size)

    def emit_row(self, table: str, row: dict) -> None:
        """Add one row of fixed values (text or None) to `table` (typed as :meth:`emit` does)."""
        typed = self._typed_of(table)
        self.table(table).add({name: self._typed(table, typed[name], str(value))
                               if name in typed and value is not None else value for name, value in row.items()})

    def agent(self, name: str | None, agent_id: str | None) -> str:
        key = ("id", agent_id) if agent_id else ("name", name or "")
        if key not in self.agents:
            pk = agent_id if agent_id else f"urn:uuid:{uuid.uuid5(AGENT_NAMESPACE, name or '')}"
            self.agents[key] = pk
            self.emit_row("agent", {"agent_pk": pk, "agentID": agent_id, "preferredAgentName": name})
            if agent_id:
                kind = "ORCID" if _is_orcid(agent_id) else None
                self.emit_row("agent-identifier", {"agent_fk": pk, "identifier": agent_id, "identifierType": kind})
        return self.agents[key]

    def agent_keys(self, *groups: _People) -> list[pa.Array]:
        """The agent key of each person of each group, adding the agents not seen before in the order the records
        name them (record by record; within a record, `groups` in the order given)."""
        rows = np.concatenate([g.rows * len(groups) + i for i, g in enumerate(groups)])
        order = np.argsort(rows, kind="stable")
        names = pa.concat_arrays([g.names for g in groups]).take(order)
        ids = pa.concat_arrays([g.ids for g in groups]).take(order)
        # one text per agent (an id, else a name), so Python sees each distinct person once, in order
        person = pc.if_else(pc.is_valid(ids), pc.binary_join_element_wise("id:", ids, ""),
                            pc.binary_join_element_wise("name:", names, ""))
        distinct = pc.unique(person)
        first = pc.index_in(distinct, person)
        keys = pa.array([self.agent(n, i) for n, i in zip(names.take(first).to_pylist(), ids.take(first).to_pylist())],
                        pa.string()).take(pc.index_in(person, distinct))
        placed = keys.take(np.argsort(order, kind="stable"))  # back to the groups' own order
        bounds = np.cumsum([0] + [len(g.rows) for g in groups])
        return [placed.slice(bounds[i], bounds[i + 1] - bounds[i]) for i in range(len(groups))]

    def policy(self, record: Mapping[str, pa.Array], size: int, columns: tuple[str, ...],
               variant: str = "") -> pa.Array:
        """The key of the usage-policy row of each record's licence, rights holder and rights terms (one row per
        distinct policy, keyed by a UUID5 of its values); null where a record has none."""
        values = [(f["name"], self._typed_column("usage-policy", f, record[source]))
                  for f, source in self._plan("usage-policy", variant, columns)]
        if not values or not size:
            return pa.nulls(size, pa.string())
        encoded = [pc.dictionary_encode(v) for _, v in values]
        codes = np.stack([pc.fill_null(e.indices, -1).to_numpy() for e in encoded], axis=1)
        distinct, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
        dictionaries = [e.dictionary.to_pylist() for e in encoded]
        keys: list[str | None] = [None] * len(distinct)
        for d in np.argsort(first, kind="stable"):  # the distinct policies in the order the records name them
            combination = {name: dictionaries[i][code] for i, ((name, _), code) in enumerate(zip(values, distinct[d]))
                           if code >= 0}
            if not combination:
                continue
            key = json.dumps(sorted(combination.items()))
            if key not in self.policies:
                self.policies[key] = f"urn:uuid:{uuid.uuid5(AGENT_NAMESPACE, 'usage-policy:' + key)}"
                self.emit_row("usage-policy", {"usagePolicy_pk": self.policies[key], **combination})
            keys[d] = self.policies[key]
        return pa.array(keys, pa.string()).take(pa.array(inverse.reshape(-1)))

    def people(self, names: pa.Array | None, ids: pa.Array | None, size: int) -> _People:
        """The people of each record: `names` split on "|" paired by position with `ids` (a record whose names
        and ids differ in count keeps its names without ids, counted; ids with no names at all are each their own
        agent); a person with neither a name nor an id is dropped."""
        names = _column(names, size)
        ids = _column(ids, size)
        name_lists, id_lists = pc.split_pattern(names, "|"), pc.split_pattern(ids, "|")
        name_counts = pc.fill_null(pc.list_value_length(name_lists), 0).to_numpy()
        id_counts = pc.fill_null(pc.list_value_length(id_lists), 0).to_numpy()
        self.unpaired += int(((id_counts > 0) & (name_counts > 0) & (id_counts != name_counts)).sum())
        paired = (id_counts > 0) & (id_counts == name_counts)
        records = np.arange(size)
        name_rows, id_rows = np.repeat(records, name_counts), np.repeat(records, id_counts)
        flat_names, flat_ids = pc.list_flatten(name_lists), pc.list_flatten(id_lists)
        id_of_name = np.full(len(name_rows), -1)
        id_of_name[paired[name_rows]] = np.flatnonzero(paired[id_rows])
        named_ids = flat_ids.take(pa.array(id_of_name, mask=id_of_name < 0))
        alone = (name_counts == 0)[id_rows]  # ids of records with no names
        rows = np.concatenate([name_rows, id_rows[alone]])
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        all_names = pa.concat_arrays([flat_names, pa.nulls(int(alone.sum()), pa.string())]).take(order)
        all_ids = pa.concat_arrays([named_ids, flat_ids.filter(pa.array(alone))]).take(order)
        all_names, all_ids = _stripped(all_names), _stripped(all_ids)
        kept = pc.or_(pc.is_valid(all_names), pc.is_valid(all_ids)).to_numpy(zero_copy_only=False)
        rows = rows[kept]
        positions = np.arange(len(rows))
        starts = np.maximum.accumulate(np.where(np.r_[True, rows[1:] != rows[:-1]], positions, 0)) \
            if len(rows) else positions
        return _People(rows, all_names.filter(pa.array(kept)), all_ids.filter(pa.array(kept)),
                       positions - starts + 1)

    def roles(self, table: str, fk_field: str, fks: pa.Array, people: _People, keys: pa.Array, role: str,
              among: np.ndarray | None = None) -> None:
        """The `role` rows of `people` (`fks` the key of each batch row; `among`: only the people of these
        rows)."""
        rows, order = people.rows, people.order
        if among is not None:
            chosen = among[rows]
            rows, order, keys = rows[chosen], order[chosen], keys.filter(pa.array(chosen))
        self.emit(table, len(rows), {fk_field: fks.take(pa.array(rows, pa.int64())), "agent_fk": keys,
                                     "agentRole": role,
                                     "agentRoleOrder": pa.array(order, pa.int64()).cast(pa.string())})

    # --- records ----------------------------------------------------------------------------------------------

    def occurrence(self, record: dict[str, pa.Array], size: int, columns: tuple[str, ...], event_pk: pa.Array,
                   material: np.ndarray) -> None:
        """The occurrences (and materials, agents, roles, current identifications) of a batch's records;
        `material`: which are specimens (:func:`_specimens`)."""
        occurrence_id = _column(record.get("occurrenceID"), size)
        status = _column(record.get("occurrenceStatus"), size)
        if status.null_count:
            self.status_inferred += status.null_count
            count = _stripped(_column(record.get("individualCount"), size))
            absent = pc.fill_null(pc.equal(count, "0"), False)
            status = pc.coalesce(status, pc.if_else(absent, "absent", "present"))
        self.emit("occurrence", size, {"occurrence_pk": occurrence_id, "event_fk": event_pk,
                                       "occurrenceStatus": status}, record, columns=columns)
        collectors = self.people(record.get("recordedBy"), record.get("recordedByID"), size)
        identified = np.zeros(size, dtype=bool)
        if not self.has_identifications:
            for term in ("scientificName", "identifiedBy", "verbatimIdentification"):
                if term in record:
                    identified |= pc.is_valid(record[term]).to_numpy(zero_copy_only=False)
        mask = pa.array(identified)
        determiners = self.people(*(pc.if_else(mask, record[t], pa.scalar(None, pa.string())) if t in record
                                    else None for t in ("identifiedBy", "identifiedByID")), size)
        collector_keys, determiner_keys = self.agent_keys(collectors, determiners)
        specimens = pa.array(material)
        if material.any():
            chosen = {name: values.filter(specimens) for name, values in record.items()}
            self.emit("material", int(material.sum()), {
                "materialEntity_pk": occurrence_id.filter(specimens), "collectionEvent_fk": event_pk.filter(specimens),
                "usagePolicy_fk": self.policy(chosen, int(material.sum()), columns)}, chosen, columns=columns)
        self.roles("material-agent-role", "materialEntity_fk", occurrence_id, collectors, collector_keys,
                   "collector", among=material)
        self.roles("occurrence-agent-role", "occurrence_fk", occurrence_id, collectors, collector_keys, "recorder",
                   among=~material)
        if identified.any():
            pks = _suffixed(occurrence_id, "#identification")
            n = int(identified.sum())
            self.emit("identification", n, {
                "identification_pk": pks.filter(mask), "occurrence_fk": occurrence_id.filter(mask),
                "materialEntity_fk": pc.if_else(specimens, occurrence_id,
                                                pa.scalar(None, pa.string())).filter(mask),
                "isAcceptedIdentification": "true"}, {name: values.filter(mask) for name, values in record.items()},
                columns=columns)
            self.roles("identification-agent-role", "identification_fk", pks, determiners, determiner_keys,
                       "determiner")

    def core_batch(self, table: pa.Table) -> None:
        columns = tuple(table.column_names)
        record, size = _columns(table), table.num_rows
        if self.core_name == "event":
            ids = _column(record.get("eventID"), size)
            self.emit("event", size, {"event_pk": ids, "parentEvent_fk": record.get("parentEventID"),
                                      "eventCategory": "survey"}, record, columns=columns)
            material = np.zeros(size, dtype=bool)
        else:
            ids = _column(record.get("occurrenceID"), size)
            material = _specimens(record, size)
            event_pk = _suffixed(ids, "#event")
            self.emit("event", size, {"event_pk": event_pk, "eventCategory": pc.if_else(
                pa.array(material), "material collection", "occurrence")}, record, columns=columns)
            self.occurrence(record, size, columns, event_pk, material)
        batch = pa.table({"id": ids, "material": pa.array(material, pa.bool_())})
        self.index.register("batch", batch)
        self.index.execute("INSERT INTO core SELECT * FROM batch")
        self.index.unregister("batch")

    def _core_kinds(self, ids: pa.Array) -> tuple[pa.Array, pa.Array]:
        """The core records of the dataset among `ids`: (their ids, whether each is a specimen)."""
        self.index.register("wanted", pa.table({"id": ids}))
        found = self.index.sql("SELECT id, material FROM core WHERE id IN (SELECT id FROM wanted)").to_arrow_table()
        self.index.unregister("wanted")
        return (found["id"].combine_chunks().cast(pa.string()), found["material"].combine_chunks())

    def extension_batch(self, name: str, table: pa.Table) -> None:
        columns = tuple(c for c in table.column_names if c != CORE_ID_COLUMN)
        record = _columns(table)
        # the core records named by the ids as given (unfolded), then matched by the folded id, as the row by row
        # derivation did: an id with a tab or line break matches only when the same id is also given folded
        found, kinds = self._core_kinds(table[CORE_ID_COLUMN].combine_chunks().cast(pa.string()))
        position = pc.index_in(record[CORE_ID_COLUMN], found)
        size = len(position) - position.null_count
        if size < len(position):
            self.counters[f"{name}: rows with no core record (left out)"] += len(position) - size
            kept = pc.is_valid(position)
            record, position = {n: v.filter(kept) for n, v in record.items()}, position.filter(kept)
        if not size:
            return
        core_id = record[CORE_ID_COLUMN]
        material = kinds.take(position).to_numpy(zero_copy_only=False)
        specimens = pa.array(material)
        if name == "occurrence" and self.core_name == "event":
            self.occurrence(record, size, columns, core_id, _specimens(record, size))
        elif name == "identification" and self.core_name == "occurrence":
            pks = self._numbered(core_id, "identification")
            self.emit("identification", size, {"identification_pk": pks, "occurrence_fk": core_id,
                                               "materialEntity_fk": pc.if_else(specimens, core_id,
                                                                               pa.scalar(None, pa.string()))},
                      record, columns=columns)
            determiners = self.people(record.get("identifiedBy"), record.get("identifiedByID"), size)
            self.roles("identification-agent-role", "identification_fk", pks, determiners,
                       self.agent_keys(determiners)[0], "determiner")
        elif name in MOF_EXTENSIONS:
            if self.core_name == "event":
                parts = [("event-assertion", None)]
            else:
                parts = [("material-assertion", specimens), ("occurrence-assertion", pc.invert(specimens))]
            for target, rows in parts:
                chosen = record if rows is None else {n: v.filter(rows) for n, v in record.items()}
                self.emit(target, len(chosen[CORE_ID_COLUMN]), {_ASSERTION_KEYS[target]: chosen[CORE_ID_COLUMN]},
                          chosen, variant="mof", columns=columns)
        elif name == "resource_relationship":
            self.emit("resource-relationship", size,
                      {"subjectResourceID": pc.coalesce(record["resourceID"], core_id) if "resourceID" in record
                       else core_id}, record, columns=columns)
        elif name in MEDIA_EXTENSIONS:
            pks = self._numbered(core_id, "media")
            self.emit("media", size, {"media_pk": pks, "usagePolicy_fk": self.policy(record, size, columns, name)},
                      record, variant=name, columns=columns)
            if self.core_name == "event":
                self.emit("event-media", size, {"media_fk": pks, "event_fk": core_id})
            else:
                self.emit("material-media", int(material.sum()), {"media_fk": pks.filter(specimens),
                                                                  "materialEntity_fk": core_id.filter(specimens)})
                others = pc.invert(specimens)
                self.emit("occurrence-media", size - int(material.sum()), {"media_fk": pks.filter(others),
                                                                           "occurrence_fk": core_id.filter(others)})

    def _numbered(self, core_ids: pa.Array, kind: str) -> pa.Array:
        """``<coreid>#<kind>-<n>`` for each row, `n` counting the rows of `kind` across the run from 1."""
        start = self.counters[kind]
        self.counters[kind] += len(core_ids)
        numbers = pa.array(np.arange(start + 1, start + len(core_ids) + 1)).cast(pa.string())
        return _suffixed(core_ids, pc.binary_join_element_wise(f"#{kind}-", numbers, ""))

    def fix_batch(self, name: str, batch: pa.RecordBatch) -> pa.RecordBatch:
        """An Event core's parentEvent_fk naming no event of the dataset (the archive publishes it, flagged
        PARENT_EVENT_ID_DANGLING) is left out of the package (a foreign key must resolve) and counted."""
        if name != "event" or self.core_name != "event" or "parentEvent_fk" not in batch.schema.names:
            return batch
        parents = batch.column(batch.schema.get_field_index("parentEvent_fk"))
        self.index.register("parents", pa.table({"p": parents}))
        dangling = [p for (p,) in self.index.execute(
            "SELECT DISTINCT p FROM parents WHERE p IS NOT NULL AND p NOT IN (SELECT id FROM core)").fetchall()]
        self.index.unregister("parents")
        if not dangling:
            return batch
        drop = pc.is_in(parents, pa.array(dangling, pa.string()))
        self.left_out["event.parentEvent_fk"] += pc.sum(drop).as_py()
        fixed = pc.if_else(drop, pa.scalar(None, pa.string()), parents)
        return batch.set_column(batch.schema.get_field_index("parentEvent_fk"), "parentEvent_fk", fixed)

    def close(self) -> None:
        for staged in self.tables.values():
            staged.close()
        self.index.close()


def _is_orcid(value: str) -> bool:
    try:
        normalise_orcid(value)
    except ValueError:
        return False
    return True


def _columns(table: pa.Table) -> dict[str, pa.Array]:
    """The columns of `table` as text, tabs and line breaks folded as in the archive, empty -> null."""
    columns = {}
    for name in table.column_names:
        values = table[name].combine_chunks()
        if not pa.types.is_string(values.type):
            values = values.cast(pa.string())
        values = fold_structural(values)
        columns[name] = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    return columns


def _iterate(tables: Iterable[pa.Table] | pa.Table) -> Iterable[pa.Table]:
    return [tables] if isinstance(tables, pa.Table) else tables


def derive_package(core_name: str, core_tables: Iterable[pa.Table], extension_tables: Mapping[str, Iterable[pa.Table]],
                   directory: Path, *, eml_bytes: bytes | None = None, schema_version: str | None = None,
                   package_id: str | None = None, version: str | None = None,
                   created: datetime | None = None) -> DerivedPackage:
    """Write the DwC-DP of a run into `directory` (created; must be empty or new): one CSV per table with rows,
    ``datapackage.json`` and ``eml.xml`` (when `eml_bytes` is given). `core_name`: ``occurrence`` or ``event``.
    `package_id` (the dataset's DOI or other id) and `version` (the dataset version) go into the descriptor.
    Not validated here: see :func:`write_dataset_package`."""
    if core_name not in ("occurrence", "event"):
        raise ValueError(f"core must be 'occurrence' or 'event', not {core_name!r}")
    schemas = schema_set(schema_version)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    not_carried = sorted(n for n in extension_tables
                         if not (n in MEDIA_EXTENSIONS or n in MOF_EXTENSIONS or n == "resource_relationship"
                                 or (n == "identification" and core_name == "occurrence")
                                 or (n == "occurrence" and core_name == "event")))
    with tempfile.TemporaryDirectory(prefix="dwcdp-", dir=directory.parent) as stage:
        deriver = _Deriver(schemas, core_name, Path(stage),
                           has_identifications="identification" in extension_tables and core_name == "occurrence")
        try:
            core_columns: set[str] = set()
            extension_columns: dict[str, set[str]] = {}
            for table in _iterate(core_tables):
                core_columns.update(table.column_names)
                deriver.core_batch(table)
            order = sorted(extension_tables, key=lambda n: n != "occurrence")  # an Event core's occurrences first
            for name in order:
                if name in not_carried:
                    continue
                for table in _iterate(extension_tables[name]):
                    extension_columns.setdefault(name, set()).update(table.column_names)
                    deriver.extension_batch(name, table)
            for staged in deriver.tables.values():
                staged.close()
            resources = _write_tables(deriver.tables, directory, deriver.fix_batch)
        finally:
            deriver.close()
    carried = {source for (_, _, _), plan in deriver._plans.items() for _, source in plan}
    keys = {"occurrenceID", "eventID", "parentEventID", "basisOfRecord", "recordedByID", "identifiedByID",
            "resourceID"}
    not_carried += [f"core term {t}" for t in sorted(core_columns - carried - keys)]
    for name, columns in extension_columns.items():
        not_carried += [f"{name} term {t}" for t in sorted(columns - carried - keys - {CORE_ID_COLUMN})]
    not_carried += [k for k in deriver.counters if k.endswith("(left out)")]
    descriptor = {
        "profile": schemas.profile_url,
        "dwcDpSchemaVersion": schemas.version,
        "dwcDpSchemaSource": f"{schemas.source['repository']}@{schemas.source['commit']}",
        **({"id": package_id} if package_id else {}),
        "created": (created or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        **({"version": str(version)} if version is not None else {}),
        "resources": resources,
    }
    (directory / "datapackage.json").write_text(json.dumps(descriptor, indent=1, ensure_ascii=False) + "\n",
                                                encoding="utf-8")
    if eml_bytes is not None:
        (directory / "eml.xml").write_bytes(eml_bytes)
    summary = PackageSummary(schema_version=schemas.version, profile=schemas.profile_url,
                             tables={r["name"]: deriver.tables[r["name"]].rows for r in resources},
                             values_left_out=dict(deriver.left_out), occurrence_status_inferred=deriver.status_inferred,
                             agents_unpaired=deriver.unpaired, not_carried=not_carried)
    return DerivedPackage(directory, summary)


_TABLE_ORDER = ("event", "occurrence", "material", "identification", "agent", "agent-identifier", "usage-policy",
                "occurrence-agent-role", "material-agent-role", "identification-agent-role", "media",
                "material-media", "occurrence-media", "event-media", "material-assertion", "occurrence-assertion",
                "event-assertion", "resource-relationship")


def _write_tables(tables: dict[str, _Staged], directory: Path, fix=lambda name, batch: batch) -> list[dict]:
    """Each staged table with rows as ``<name>.csv`` (its written fields) -> the descriptor's resources."""
    written = [n for n in _TABLE_ORDER if n in tables and tables[n].rows]
    options = pacsv.WriteOptions(include_header=True, eol="\r\n", quoting_style="needed")
    resources = []
    for name in written:
        staged = tables[name]
        fields = staged.written_fields()
        names = [f["name"] for f in fields]
        schema = pa.schema([(n, pa.string()) for n in names])
        with ipc.open_file(str(staged.path)) as reader, pacsv.CSVWriter(str(directory / f"{name}.csv"), schema,
                                                                        write_options=options) as writer:
            for i in range(reader.num_record_batches):
                writer.write_batch(fix(name, reader.get_batch(i)).select(names))
        resources.append({"name": name, "path": f"{name}.csv", "profile": "tabular-data-resource",
                          "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                          "schema": _resource_schema(staged, fields, set(written))})
    return resources


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value)


def _resource_schema(staged: _Staged, fields: list[dict], tables: set[str]) -> dict:
    """The canonical schema cut to the written fields: its field descriptors verbatim, its primary key, and each
    canonical foreign key whose fields are written and whose table is in the package (or the table itself)."""
    canonical, names = staged.canonical, {f["name"] for f in fields}
    schema: dict = {"fields": fields}
    if canonical.get("primaryKey") and set(_as_list(canonical["primaryKey"])) <= names:
        schema["primaryKey"] = canonical["primaryKey"]
    keys = [fk for fk in canonical.get("foreignKeys", [])
            if set(_as_list(fk["fields"])) <= names and (fk["reference"]["resource"] in ("", staged.name)
                                                          or fk["reference"]["resource"] in tables)]
    if keys:
        schema["foreignKeys"] = keys
    return schema


def write_dataset_package(core_name: str, core_tables: Iterable[pa.Table],
                          extension_tables: Mapping[str, Iterable[pa.Table]], eml_bytes: bytes | None,
                          target_zip: Path, *, schema_version: str | None = None, package_id: str | None = None,
                          version: str | None = None, created: datetime | None = None) -> PackageSummary:
    """Derive the run's DwC-DP (:func:`derive_package`), validate it (all four layers of
    :func:`mobilise.validators.dwcdp.validate_package`) and, only when it is valid, write `target_zip` (atomically:
    a temporary file beside it, then renamed). The returned summary says what the package holds, ``valid``, the
    validation summary (table by table when it failed) and ``target`` (None when nothing was written).

    Called by the publish stage once the version's archive is written, with the same published rows:
    ``core_tables`` the core's valid batches (``catalog.load`` of each ``valid`` entry, in batch order),
    ``extension_tables`` {extension name: its valid batches}, ``eml_bytes`` the version's eml.xml, `target_zip`
    ``<publication dir>/dwc-dp-<version>.zip``, `version` the dataset version and `package_id` its DOI. Iterables
    are consumed once, one table at a time (generators keep memory bounded).

    The zip holds ``datapackage.json``, ``eml.xml`` and the CSVs at its root, stored without compression: the DwC-DP
    guide allows gzip only, so the zip is a container and each file is as the guide describes it."""
    target_zip = Path(target_zip)
    target_zip.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".dwcdp-", dir=target_zip.parent) as tmp:
        derived = derive_package(core_name, core_tables, extension_tables, Path(tmp) / "package",
                                 eml_bytes=eml_bytes, schema_version=schema_version, package_id=package_id,
                                 version=version, created=created)
        validation = validate_package(derived.directory).model_copy(update={"path": str(target_zip)})
        summary = derived.summary.model_copy(update={"valid": validation.valid, "validation": validation.summary(),
                                                     "checks": validation})
        if not validation.valid:
            return summary
        partial = Path(tmp) / target_zip.name
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            for name in ["datapackage.json", "eml.xml"] + [f"{t}.csv" for t in summary.tables]:
                if (derived.directory / name).exists():
                    archive.write(derived.directory / name, name)
        os.replace(partial, target_zip)
    return summary.model_copy(update={"target": str(target_zip)})
