"""`mobilise validate --config-only` is a promise: a config that passes load_config runs (issue 9, item 10).

Every setting a run cannot honour is an error at load time naming the file, the line and the key, with a
suggestion where there is one.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from mobilise.cli import app
from mobilise.flags import severities
from mobilise.mappers.mapping import MappingPlan, map_batch
from mobilise.settings import ConfigError, load_config

BASE = """\
source:
  url: {url}
  table: specimen
{source}metadata:
  title: Minimal
  abstract: One paragraph.
  licence: CC0-1.0
  creators: [{{organisation: Example Museum}}]
  contacts: [{{surname: Smith}}]
mapping:
  occurrenceID: {{template: "https://x.org/{{guid}}"}}
  basisOfRecord: basis
  eventDate: {{column: start, end: end}}
{more}"""
FIRST_FREE_LINE = 14  # the line `more` starts on (one later per line of `source`)
VOCABULARIES = "basisOfRecord, lifeStage, occurrenceStatus, sex, typeStatus"


def _write(tmp_path: Path, more: str = "", source: str = "", url: str = "sqlite:///specimens.sqlite") -> Path:
    path = tmp_path / "dataset.yaml"
    path.write_text(BASE.format(url=url, source=source, more=more), encoding="utf-8")
    return path


def _problems(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


# (lines appended to the mapping/top level, line of the fault relative to FIRST_FREE_LINE, key, message)
CASES = [
    ("  dateIdentified: {column: determined, end: determined_end}\n", 0, "mapping.dateIdentified.end",
     "'end' applies to eventDate only (the end of the collecting interval); dateIdentified takes one value: "
     "remove 'end'"),
    ("  typeStatus: type_status\nvocabularies:\n  typestatus:\n    holotypus: holotype\n", 2,
     "vocabularies.typestatus", f"unknown vocabulary 'typestatus' (did you mean 'typeStatus'?); "
                                f"the vocabularies are {VOCABULARIES}"),
    ("vocabularies:\n  colour:\n    red: rouge\n", 1, "vocabularies.colour",
     f"unknown vocabulary 'colour'; the vocabularies are {VOCABULARIES}"),
    ("vocabularies:\n  lifeStage:\n    L3: larva\n", 1, "vocabularies.lifeStage",
     "no mapped term uses the lifeStage vocabulary (map lifeStage, or remove this table)"),
    ("  sex: sex\nvocabularies:\n  sex:\n    m/f: undeterminde\n", 3, "vocabularies.sex.m/f",
     "'undeterminde' is not a sex concept (did you mean 'undetermined'?); the concepts are female, "
     "hermaphrodite, male, undetermined"),
    ("  typeStatus: {column: type_status, vocabulary: typestatus}\n", 0, "mapping.typeStatus.vocabulary",
     f"unknown vocabulary 'typestatus' (did you mean 'typeStatus'?); the vocabularies are {VOCABULARIES}"),
    ("  countryCode: {column: country, vocabulary: sex}\n", 0, "mapping.countryCode.vocabulary",
     "countryCode has an interpreter of its own, which a vocabulary would replace: remove 'vocabulary'"),
    ('  catalogNumber: {template: "IG.1"}\n', 0, "mapping.catalogNumber.template",
     "names no {column} (for a fixed value use 'constant')"),
    ('  catalogNumber: {template: "{prefix}[.{code}"}\n', 0, "mapping.catalogNumber.template",
     "an optional group '[' is not closed with ']' (a literal '[' is written '[[')"),
    ('  catalogNumber: {template: "IG.{code"}\n', 0, "mapping.catalogNumber.template",
     "'{' at character 4 opens no {column} (write {column_name})"),
    ('  occurrenceRemarks: {uuid5: "{code}"}\n', 0, "mapping.occurrenceRemarks.uuid5",
     "uuid5 mints identifiers, for identifier terms (their name ends in ID, e.g. occurrenceID); "
     "occurrenceRemarks is not one: use template"),
    ('  recordedBy: {column: collector, separator: " | "}\n', 0, "mapping.recordedBy.separator",
     "'separator' applies to join and child only (join: [column_a, column_b], separator: ' | ')"),
    ("  recordedBy: {join: []}\n", 0, "mapping.recordedBy.join",
     "join needs a list of columns, e.g. join: [collector_1, collector_2]"),
    ("  recordedBy: {column: []}\n", 0, "mapping.recordedBy.column",
     "name a column (or a list of columns, the first non-empty wins)"),
    ("  recordedBy: {colum: collector}\n", 0, "mapping.recordedBy.colum", "unknown key (did you mean 'column'?)"),
    ("  catalogNumbr: code\n", 0, "mapping.catalogNumbr",
     "unknown Darwin Core term 'catalogNumbr'; did you mean 'catalogNumber', 'otherCatalogNumbers'?"),
    ("  dwc:catalogNumber: code\n", 0, "mapping.dwc:catalogNumber", "write the term's bare name 'catalogNumber'"),
    ("validation:\n  severity:\n    ZERO_COORDINATES: error\n", 2, "validation.severity.ZERO_COORDINATES",
     "unknown flag 'ZERO_COORDINATES' (did you mean 'ZERO_COORDINATE'?) (mobilise/flags.py lists them)"),
    ("validation:\n  severity:\n    ZERO_COORDINATE: fatal\n", 2, "validation.severity.ZERO_COORDINATE",
     "Input should be 'error', 'warning' or 'info'"),
    ("validation:\n  bdq:\n    tests:\n      - VALIDATION_COUNTRYCODE_STANDARD\n"
     "      - VALIDATION_COUNTRYCODE_STANDRD\n", 4, "validation.bdq.tests[1]",
     "no BDQ test with label or GUID 'VALIDATION_COUNTRYCODE_STANDRD' "
     "(did you mean 'VALIDATION_COUNTRYCODE_STANDARD'?)"),
    ("validation:\n  bdq:\n    amendments:\n      - AMENDMENT_COORDINATES_TRANSPOSD\n", 3,
     "validation.bdq.amendments[0]", "no BDQ test with label or GUID 'AMENDMENT_COORDINATES_TRANSPOSD' "
                                    "(did you mean 'AMENDMENT_COORDINATES_TRANSPOSED'?)"),
    ("validation:\n  bdq:\n    amendments:\n      - VALIDATION_COUNTRYCODE_STANDARD\n", 3,
     "validation.bdq.amendments[0]",
     "VALIDATION_COUNTRYCODE_STANDARD is a Validation, not an amendment: only amendments can be accepted"),
    ("validation:\n  bdq:\n    tests: [VALIDATION_COUNTRYCODE_STANDARD]\n    amendments:\n"
     "      - AMENDMENT_COORDINATES_TRANSPOSED\n", 4, "validation.bdq.amendments[0]",
     "AMENDMENT_COORDINATES_TRANSPOSED is accepted but not run: add it to validation.bdq.tests"),
    ("validation:\n  bdq:\n    parameters:\n      VALIDATION_TAXONRANK_STANDARD:\n"
     "        bdqval:sourceAuthorty: GBIF TaxonRank Vocabulary\n", 4,
     "validation.bdq.parameters.VALIDATION_TAXONRANK_STANDARD.bdqval:sourceAuthorty",
     "VALIDATION_TAXONRANK_STANDARD has no parameter 'bdqval:sourceAuthorty' (did you mean "
     "'bdqval:sourceAuthority'?); its parameters are bdqval:sourceAuthority"),
    ("validation:\n  bdq:\n    parameters:\n      VALIDATION_TAXONRANK_STANDRD: {}\n", 3,
     "validation.bdq.parameters.VALIDATION_TAXONRANK_STANDRD",
     "no BDQ test with label or GUID 'VALIDATION_TAXONRANK_STANDRD' (did you mean 'VALIDATION_TAXONRANK_STANDARD'?)"),
    ("gates:\n  max_rejected_share: 30\n", 1, "gates.max_rejected_share", "Input should be less than or equal to 1"),
    ("gates:\n  max_drop_share: -0.1\n", 1, "gates.max_drop_share", "Input should be greater than or equal to 0"),
    ("execution:\n  runner: threads\n  dask_address: tcp://10.0.0.5:8786\n", 2, "execution.dask_address",
     "a Dask scheduler address needs runner: dask (runner: threads runs in this process)"),
    ("execution:\n  dask_address: tcp://10.0.0.5:8786\n  workers: 4\n", 2, "execution.workers",
     "workers sets the size of a local cluster; the cluster at dask_address has its own"),
]


@pytest.mark.parametrize("more, offset, key, message", CASES, ids=[case[2] for case in CASES])
def test_settings_a_run_cannot_honour_are_errors_with_file_line_and_key(tmp_path, more, offset, key, message):
    path = _write(tmp_path, more)
    assert f"  {path}:{FIRST_FREE_LINE + offset}: {key}: {message}" in _problems(path).splitlines()


@pytest.mark.parametrize("source, url, key, message", [
    ("", "duckdb:///specimens.duckdb", "source.url",  # (on line 2, the url's)
     "no extractor reads 'duckdb' sources; available: mariadb, mssql, mysql, oracle, postgresql, sqlite"),
    ("  partition: {keys: 1000}\n", "sqlite:///specimens.sqlite", "source.partition.column",
     "required key is missing"),
    ("  partition: {column: ' '}\n", "sqlite:///specimens.sqlite", "source.partition.column",
     "name the integer key column of the query's result, e.g. column: object_id"),
    ("  engine: adbc\n", "mysql+pymysql://reader@db.example.org/darwin", "source.engine",
     "engine adbc reads sqlite, postgresql sources, not mysql (use engine: connectorx or sqlalchemy)"),
    ("  engine: connectorx\n", "mssql+pyodbc://reader@db.example.org/darwin", "source.engine",
     "engine connectorx reads sqlite, postgresql, mysql, mariadb sources, not mssql (use engine: sqlalchemy)"),
    ("  engine: adbc\n", "sqlite://", "source.engine",
     "engine adbc cannot read an in-memory SQLite database (use engine: sqlalchemy)"),
])
def test_source_settings_a_run_cannot_honour(tmp_path, source, url, key, message):
    path = _write(tmp_path, source=source, url=url)
    assert f"  {path}:{4 if source else 2}: {key}: {message}" in _problems(path).splitlines()


def test_the_cli_says_so_before_anything_runs(tmp_path):
    path = _write(tmp_path, "  dateIdentified: {column: determined, end: determined_end}\n")
    result = CliRunner().invoke(app, ["validate", str(path), "--config-only"])
    assert result.exit_code == 2
    assert f"{path}:14: mapping.dateIdentified.end: 'end' applies to eventDate only" in result.stderr
    assert "valid" not in result.stdout


ACCEPTED = """\
  catalogNumber: {template: "{code_prefix}{code_prefix_separator}{code}{code_suffix}"}
  otherCatalogNumbers: {template: "[{code_prefix}-]{code}"}
  materialEntityID: {uuid5: "{code_prefix}:{code}"}
  recordedBy: {join: [collector_1, collector_2], separator: " | "}
  identifiedBy: {join: [collector_1, collector_2]}
  sex: sex
  lifeStage: {column: stage, vocabulary: lifeStage}
  typeStatus: {column: type_status, vocabulary: typeStatus}
  preparations: {column: preparation, vocabulary: basisOfRecord}
  dateIdentified: determined
  countryCode: country
vocabularies:
  sex: {m/f: undetermined}
  lifeStage: {L3: larva}
  basisOfRecord: {specimen: PreservedSpecimen}
validation:
  severity: {ZERO_COORDINATE: error, TEMPLATE_EMPTY: info}
  bdq:
    tests: [VALIDATION_TAXONRANK_STANDARD, AMENDMENT_TAXONRANK_STANDARDIZED, VALIDATION_COUNTRYCODE_STANDARD]
    parameters:
      VALIDATION_TAXONRANK_STANDARD: {bdqval:sourceAuthority: GBIF TaxonRank Vocabulary}
      AMENDMENT_TAXONRANK_STANDARDIZED: {sourceAuthority: GBIF TaxonRank Vocabulary}
    amendments: [AMENDMENT_TAXONRANK_STANDARDIZED]
execution:
  runner: threads
  workers: 2
gates:
  max_rejected_share: 1
  max_drop_share: 0
"""


def test_a_config_that_passes_runs_through_map_batch_and_the_bdq_tests(tmp_path):
    from mobilise.validators.bdq.batch import apply_amendments, run_bdq

    path = _write(tmp_path, ACCEPTED, source="  partition: {column: object_id, keys: 2}\n  engine: adbc\n")
    config = load_config(path)
    result = CliRunner().invoke(app, ["validate", str(path), "--config-only"])
    assert result.exit_code == 0 and "valid (14 terms mapped" in result.stdout
    batch = pa.RecordBatch.from_pydict({
        "guid": ["a", "b"], "basis": ["preserved specimen", "fossil"], "start": ["1887-05-01", "12/05/1887"],
        "end": ["1887-05-12", None], "code_prefix": ["IG", None], "code_prefix_separator": [".", None],
        "code": pa.array([1, 2]), "code_suffix": [None, "b"], "collector_1": ["Ada Curator", None],
        "collector_2": ["B. Jones", "C. Day"], "sex": ["m/f", "M"], "stage": ["L3", "adult"],
        "type_status": ["holotypus", None], "preparation": ["specimen", "pinned"],
        "determined": ["1901", "2020-02-30"], "country": ["België", "Atlantis"], "object_id": [1, 2]})
    table, issues = map_batch(batch, MappingPlan.from_config(config))
    rows = table.to_pylist()
    assert [r["catalogNumber"] for r in rows] == ["IG.1", "2b"]
    assert [r["otherCatalogNumbers"] for r in rows] == ["IG-1", "2"]
    assert rows[0]["materialEntityID"].startswith("urn:uuid:") and rows[1]["materialEntityID"] is None
    assert [r["recordedBy"] for r in rows] == ["Ada Curator | B. Jones", "C. Day"]
    assert [r["eventDate"] for r in rows] == ["1887-05-01/1887-05-12", "1887-05-12"]
    assert [r["sex"] for r in rows] == ["undetermined", "male"] and rows[0]["lifeStage"] == "larva"
    assert [r["preparations"] for r in rows] == ["PreservedSpecimen", "pinned"]
    assert {(r["row"], r["term"], r["flag"]) for r in issues.to_pylist()} >= {
        (1, "materialEntityID", "TEMPLATE_EMPTY"), (1, "dateIdentified", "IDENTIFIED_DATE_INVALID"),
        (1, "countryCode", "COUNTRY_INVALID")}
    assert severities(config.validation.severity)["TEMPLATE_EMPTY"] == "info"
    bdq = config.validation.bdq
    results = run_bdq(table.append_column("taxonRank", pa.array(["Species", "sp."])), bdq.tests, bdq.parameters)
    amended, applied = apply_amendments(table.append_column("taxonRank", pa.array(["Species", "sp."])), results,
                                        bdq.amendments)
    assert amended["taxonRank"].to_pylist() == ["species", "species"] and applied.num_rows == 2


def test_a_constant_its_vocabulary_does_not_know_is_a_config_error(tmp_path):
    """`occurrenceStatus: {constant: presnt}` would flag every record; it is refused when the config is loaded."""
    from mobilise.settings import ConfigError, load_config

    base = (Path(__file__).resolve().parents[1] / "config" / "sample.yaml").read_text(encoding="utf-8")
    path = tmp_path / "dataset.yaml"
    path.write_text(base.replace("occurrenceStatus: {constant: present}", "occurrenceStatus: {constant: presnt}"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as failure:
        load_config(path)
    message = str(failure.value)
    assert "mapping.occurrenceStatus.constant: 'presnt' is not a occurrenceStatus concept (did you mean 'present'?)" \
        in message
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "presnt" in text)
    assert f"{path}:{line}: mapping.occurrenceStatus.constant" in message


@pytest.mark.parametrize("text, expected", [
    ("source:\n  url: sqlite:///x.db\n  table: t\nmapping: {}\nsource:\n  url: y\n",
     ":5:1: the key 'source' is given twice in the same mapping (first at line 1): keep one"),
    ("metadata:\n  creators:\n    - name: A\n      email: a@example.org\n      name: B\n",
     ":5:7: the key 'name' is given twice in the same mapping (first at line 3): keep one"),
    ("source:\n  url: [a\n", ":3:1: not valid YAML: expected ',' or ']', but got '<stream end>'"),
])
def test_yaml_errors_are_one_line_with_file_line_and_column(tmp_path, text, expected):
    path = tmp_path / "dataset.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as failure:
        load_config(path)
    message = str(failure.value)
    assert message.startswith(f"{path}{expected}")
    assert "\n" not in message and "yaml.dev" not in message  # not ruamel's eight lines and link
