"""Helpers of the demo institution tests (tests/test_demo_specify.py, tests/test_demo_lab.py): the demo configs as
shipped beside freshly generated data, a publication read back with python-dwca-reader, and the checks every demo's
Darwin Core Data Package must pass (frictionless, the profile's JSON Schema, validate_package, keys, same facts)."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import jsonschema
from dwca.read import DwCAReader
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from mobilise.dwcdp import schema_set
from mobilise.settings import load_config
from mobilise.validators.dwcdp import offline_frictionless, validate_package
from tests.pipeline_helpers import run_stages
from tests.test_dwcdp_publish import _tables, assert_keys_resolve, assert_same_facts

REPO = Path(__file__).resolve().parents[1]
DWC = "http://rs.tdwg.org/dwc/terms/"


def demo_folder(root: Path, config: str) -> Path:
    """`root` laid out as the repository: config/<config> (with the lookup and vocabulary tables) reading
    ../data/demo/*; returns `root`."""
    (root / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / config, root / "config" / config)
    for folder in ("lookups", "vocabularies"):
        shutil.copytree(REPO / "config" / folder, root / "config" / folder, dirs_exist_ok=True)
    (root / "data" / "demo").mkdir(parents=True, exist_ok=True)
    return root


def publish(root: Path, config: str, output: Path, monkeypatch, variable: str | None = None,
            url: str | None = None):
    """Run config/<config> of `root` as shipped (its source URL from `variable` when `url` is given), the BDQ
    tests off (they have tests of their own). Returns (RunResult, core rows by occurrenceID with the terms' simple
    names, extension rows by extension file name: lists of (coreid, {term: value}))."""
    for name in ("RBINS_DARWIN_URL", "MEISE_SPECIFY_URL", "MOBILISE_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    if url is not None:
        monkeypatch.setenv(variable, url)
    monkeypatch.setenv("MOBILISE_OUTPUT", str(output))
    loaded = load_config(root / "config" / config)
    loaded.validation.bdq.enabled = False
    result = run_stages(loaded)
    assert result.version is not None, result
    with DwCAReader(result.archive) as archive:
        orphaned = archive.orphaned_extension_rows()
        assert orphaned and all(not rows for rows in orphaned.values()), orphaned
        core = {row.id: {t.rsplit("/", 1)[-1]: v for t, v in row.data.items()} for row in archive}
        extensions: dict[str, list[tuple[str, dict]]] = {}
        for row in archive:
            for ext in row.extensions:
                extensions.setdefault(ext.rowtype.rsplit("/", 1)[-1], []).append(
                    (row.id, {t.rsplit("/", 1)[-1]: v for t, v in ext.data.items()}))
    return result, core, extensions


def assert_counts_add_up(result) -> None:
    """published + quarantined + excluded == extracted, for the core and every extension table."""
    assert result.tables, result
    for name, counts in result.tables.items():
        assert counts["published"] + counts["quarantined"] + counts["excluded"] == counts["extracted"], name
    core = result.tables["occurrence"]
    assert (core["extracted"], core["published"], core["excluded"]) == (result.extracted, result.records,
                                                                       result.excluded)


def assert_valid_package(result, tmp_path: Path) -> dict[str, list[dict]]:
    """The run's DwC-DP: the frictionless library finds no error, the descriptor passes the profile's JSON Schema,
    every layer of validate_package passes, every foreign key resolves, and its occurrence/material tables hold the
    DwC-A core's records and values. Returns the package's tables (rows as dicts of text)."""
    from frictionless import validate

    package = Path(result.dwc_dp)
    folder = tmp_path / "package"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(folder)
    schemas = schema_set()
    with offline_frictionless(schemas):
        report = validate(str(folder / "datapackage.json"))
    assert report.valid and report.stats["errors"] == 0, report.flatten(["resourceName", "rowNumber", "note"])
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    registry = Registry().with_resources(
        (url, Resource.from_contents(document, default_specification=DRAFT7))
        for url, document in schemas.local_documents().items())
    profile = schemas.profile
    errors = list(jsonschema.validators.validator_for(profile)(profile, registry=registry).iter_errors(descriptor))
    assert errors == [], [error.message for error in errors[:5]]
    validation = validate_package(package)
    assert validation.valid and validation.failed_layers() == [], validation.summary()
    assert assert_keys_resolve(package, tmp_path) >= 5
    assert assert_same_facts(Path(result.archive), package) > 10 * result.records
    return _tables(package)
