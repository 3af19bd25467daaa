"""Extensions and the dataset's rules: the extension rows of a record a filter excludes are excluded with it (counted
per table, never quarantined as orphans), and an extension mapping's lookup table is read beside the config, as
the core's is."""
from __future__ import annotations

from pathlib import Path

import pytest
from dwca.read import DwCAReader

from mobilise.settings import ConfigError, load_config
from tests.pipeline_helpers import read_quarantine, run_stages
from tests.test_extensions_pipeline import CONFIG, _load

WITHDRAWN = """\
filters:
  - {column: catalog, not_equals: EX-1, reason: withdrawn}
"""


def _config(folder: Path, extra: str = "", mapping_line: str = "") -> Path:
    url = f"sqlite:///{folder / 'beetles.sqlite'}"
    _load(url)
    text = CONFIG.format(url=url, out=folder / "out", dissco="warn") + extra
    if mapping_line:
        text = text.replace("      measurementUnit: unit\n", "      measurementUnit: unit\n" + mapping_line)
    path = folder / "beetles.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_of_an_excluded_record_are_excluded_with_it(tmp_path):
    result = run_stages(load_config(_config(tmp_path, WITHDRAWN)))
    # specimen EX-1 (id 1) has one image, two determinations and one measurement: excluded with it
    assert result.excluded_by == {"withdrawn": 1}
    assert result.tables == {
        "occurrence": {"extracted": 5, "published": 3, "quarantined": 1, "excluded": 1},
        "multimedia": {"extracted": 5, "published": 1, "quarantined": 3, "excluded": 1},
        "identification": {"extracted": 5, "published": 1, "quarantined": 2, "excluded": 2},
        "measurement_or_fact": {"extracted": 3, "published": 1, "quarantined": 1, "excluded": 1},
    }
    for name, path in result.extension_quarantine.items():
        reasons = " ".join(read_quarantine(path)["reasons"])
        assert "coreid = '1'" not in reasons, name  # not an orphan: excluded
    with DwCAReader(result.archive) as archive:
        assert "urn:example:specimen:1" not in {row.id for row in archive}
        assert all(not rows for rows in archive.orphaned_extension_rows().values())


def test_an_extension_lookup_table_is_read_beside_the_config(tmp_path):
    (tmp_path / "lookups").mkdir()
    (tmp_path / "lookups" / "types.csv").write_text("source,type\nbody length,length\n", encoding="utf-8")
    line = "      measurementMethod: {lookup: {column: type, table: lookups/types.csv, key: source, value: type}}\n"
    result = run_stages(load_config(_config(tmp_path, mapping_line=line)))
    with DwCAReader(result.archive) as archive:
        methods = [ext.data["http://rs.tdwg.org/dwc/terms/measurementMethod"] for row in archive
                   for ext in row.extensions if ext.rowtype.endswith("MeasurementOrFact")]
    assert methods == ["length", "length"]
    (tmp_path / "lookups" / "types.csv").unlink()
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "beetles.yaml")
    number = (tmp_path / "beetles.yaml").read_text(encoding="utf-8").splitlines().index(line.rstrip("\n")) + 1
    assert f"beetles.yaml:{number}:" in str(error.value) and "types.csv" in str(error.value)


def test_rows_of_an_excluded_event_are_excluded_with_it(tmp_path):
    from tests.test_event_core import CONFIG as SURVEY
    from tests.test_event_core import _config as survey_config

    text = SURVEY + "filters:\n  - {{column: event_id, not_equals: S1-V1, reason: a trial visit}}\n"
    result = run_stages(load_config(survey_config(tmp_path, text)))
    # visit S1-V1 has occurrences O1 and O2 and one measurement: excluded with it, not orphaned
    assert result.tables == {
        "event": {"extracted": 7, "published": 3, "quarantined": 3, "excluded": 1},
        "occurrence": {"extracted": 6, "published": 1, "quarantined": 3, "excluded": 2},
        "measurement_or_fact": {"extracted": 2, "published": 0, "quarantined": 1, "excluded": 1},
    }
    with DwCAReader(result.archive) as archive:
        assert sorted(row.id for row in archive) == ["S1", "S1-V2", "S1-V3"]
        assert all(not rows for rows in archive.orphaned_extension_rows().values())
