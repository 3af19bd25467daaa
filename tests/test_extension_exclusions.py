"""Extension rows whose core record the dataset's rules excluded (issue 10, integrity detail): excluded with it,
counted as excluded in the extension's table counts and listed with the rule in ``excluded-<ext>-<version>.csv``,
never quarantined as orphans; on SQLite, with a filter and the multimedia and measurement extensions."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from dwca.read import DwCAReader

from mobilise.publishers.publication import PublicationDirectory
from mobilise.settings import load_config
from mobilise.validators.integrity import (CORE_REJECTED, EXCLUDED, ORPHANED, PUBLISHED, core_keys,
                                           resolve_core_ids, without_rows)
from tests.pipeline_helpers import read_quarantine, run_stages
from tests.test_extensions_pipeline import _config, _sqlite

FILTER = "filters:\n  - {column: name, not_equals: Carabus nemoralis, reason: no Carabus nemoralis here}\n"


def _filtered(folder: Path, url: str, extra: str = FILTER) -> Path:
    path = _config(folder, url)
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def test_rows_of_a_core_record_excluded_by_a_filter_are_excluded_with_it(tmp_path):
    config = load_config(_filtered(tmp_path, _sqlite(tmp_path)))
    result = run_stages(config)
    assert result.version == "1.0"
    # specimen 2 is filtered out: its two media rows and its measurement go with it, nothing is orphaned
    assert result.tables == {
        "occurrence": {"extracted": 5, "published": 3, "quarantined": 1, "excluded": 1},
        "multimedia": {"extracted": 5, "published": 1, "quarantined": 2, "excluded": 2},
        "identification": {"extracted": 5, "published": 3, "quarantined": 2, "excluded": 0},
        "measurement_or_fact": {"extracted": 3, "published": 1, "quarantined": 1, "excluded": 1},
    }
    for counts in result.tables.values():
        assert counts["published"] + counts["quarantined"] + counts["excluded"] == counts["extracted"]
    flags = result.run_report.extension_flags["multimedia"]
    assert flags.get("EXTENSION_ORPHANED") == 1  # media 14 (specimen 99) only
    assert "DISSCO_MEDIA_LICENSE_NOT_ACCEPTED" not in flags and "MULTIMEDIA_URI_MISSING" not in flags

    quarantined = read_quarantine(result.extension_quarantine["multimedia"])
    assert sorted(quarantined["source.media_id"]) == ["13", "14"]
    directory = PublicationDirectory(config.publication_directory)
    excluded = read_quarantine(directory.extension_excluded("1.0", "multimedia"))
    # the file is served with the archive: it identifies the rows, it does not publish them (no image link)
    assert "source.url" not in excluded and "source.licence" not in excluded and "source.specimen_id" in excluded
    assert list(zip(excluded["source.media_id"], excluded["coreid"], excluded["rule"])) == [
        ("11", "urn:example:specimen:2", "no Carabus nemoralis here"),
        ("12", "urn:example:specimen:2", "no Carabus nemoralis here")]
    assert list(read_quarantine(directory.extension_excluded("1.0", "measurement_or_fact"))["source.id"]) == ["31"]
    assert not directory.extension_excluded("1.0", "identification").exists()  # none excluded: no file
    assert list(read_quarantine(result.excluded_file)["occurrenceID"]) == ["urn:example:specimen:2"]

    with DwCAReader(result.archive) as archive:
        assert archive.orphaned_extension_rows() == {
            "multimedia.txt": {}, "identification.txt": {}, "measurement_or_fact.txt": {}}
        assert sorted(row.id for row in archive) == [f"urn:example:specimen:{n}" for n in (1, 3, 5)]

    # the report: counts per table with the excluded column and its file
    report = result.run_report
    assert report.tables["multimedia"]["excluded"] == 2
    assert report.files["excluded-multimedia"] == "excluded-multimedia-1.0.csv"
    html = Path(result.report).read_text(encoding="utf-8")
    assert "<th>excluded</th>" in html
    assert '<a href="excluded-multimedia-1.0.csv">' in html


def test_sensitive_exclusion_takes_the_extension_rows_along_and_a_dry_run_lists_them(tmp_path):
    extra = "sensitive:\n  exclude_when:\n    - {column: catalog, equals: EX-1, reason: not for publication}\n"
    config = load_config(_filtered(tmp_path, _sqlite(tmp_path), extra))
    result = run_stages(config, dry_run=True)
    assert result.tables["identification"] == {"extracted": 5, "published": 1, "quarantined": 2, "excluded": 2}
    assert result.tables["multimedia"]["excluded"] == 1  # media 10, of specimen 1
    directory = PublicationDirectory(config.publication_directory)
    excluded = read_quarantine(directory.extension_excluded(None, "identification"))
    assert list(zip(excluded["source.id"], excluded["rule"])) == [("20", "not for publication"),
                                                                  ("21", "not for publication")]


def test_resolve_core_ids_tells_published_rejected_excluded_and_orphaned(tmp_path):
    keys = pa.array(["a", "b", "c", "d", "e"])
    validated = core_keys(pa.array(["a", "b", "e"]), pa.array(["A", "B", "E1"]), np.array([True, False, False]))
    excluded = core_keys(pa.array(["c", "e"]), pa.array(["C", "E2"]), np.zeros(2, dtype=bool),
                         pa.array(["rule c", "rule e"]))
    files = []
    for n, table in enumerate((validated, excluded)):
        pq.write_table(table, tmp_path / f"keys{n}.parquet")
        files.append(str(tmp_path / f"keys{n}.parquet"))
    core = resolve_core_ids(keys, files, tmp_path)
    # a key a quarantined record has stays CORE_REJECTED even when an excluded record shares it
    assert core.status.tolist() == [PUBLISHED, CORE_REJECTED, EXCLUDED, ORPHANED, CORE_REJECTED]
    assert core.ids.to_pylist() == ["A", None, "C", None, None]
    assert core.rules.to_pylist() == [None, None, "rule c", None, None]


def test_without_rows_renumbers_the_issues_of_the_rows_kept():
    table = pa.table({"v": ["r0", "r1", "r2", "r3"]})
    issues = pa.table({"row": pa.array([0, 1, 3, 3], pa.int64()), "flag": ["F0", "F1", "F3", "G3"]})
    kept, kept_issues = without_rows(np.array([1]), table, issues)
    assert kept["v"].to_pylist() == ["r0", "r2", "r3"]
    assert list(zip(kept_issues["row"].to_pylist(), kept_issues["flag"].to_pylist())) == [
        (0, "F0"), (2, "F3"), (2, "G3")]


def test_status_shows_the_excluded_counts_and_the_data_package(tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from mobilise.cli import app
    from mobilise.flows.operations import statuses

    path = _filtered(tmp_path, _sqlite(tmp_path))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("output:\n", "output:\n  dwc_dp: true\n", 1), encoding="utf-8")
    config = load_config(path)
    assert config.output.dwc_dp.enabled
    result = run_stages(config)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        (status,), _ = statuses([path])
        shown = CliRunner().invoke(app, ["status", str(path)])
        as_json = CliRunner().invoke(app, ["status", "--json", str(path)])
    assert status["version"] == "1.0" and status["excluded"] == 1
    assert status["dwc_dp"] == result.dwc_dp and Path(status["dwc_dp"]).name == "dwc-dp-1.0.zip"
    assert {name: counts["excluded"] for name, counts in status["tables"].items()} == {
        "occurrence": 1, "multimedia": 2, "identification": 0, "measurement_or_fact": 1}
    assert shown.exit_code == 0, shown.output
    assert json.loads(as_json.output)["datasets"] == [status]
    # the table (rich folds long cells over lines): the extension rows excluded, and the package's column
    words = " ".join(shown.output.replace("│", " ").split())
    assert "+ 1 excluded" in words and "DwC-DP" in words and "multimedia 2" in words, shown.output

    # a version without a package: none shown
    path.write_text(text, encoding="utf-8")
    run_stages(load_config(path), force=True)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        (status,), _ = statuses([path])
    assert status["version"] == "1.1" and status["dwc_dp"] is None
