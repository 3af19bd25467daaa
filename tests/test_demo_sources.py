"""The three demo institutions of issue 10 (item 8): their generated sources (samples/darwin.py, specify.py,
lab.py) and the command that writes them. The demos published end to end: tests/test_demo_darwin.py (DaRWIN on
SQLite and the real PostgreSQL), tests/test_demo_specify.py (Specify on SQLite and the real MariaDB) and
tests/test_demo_lab.py (the lab workbook)."""
from __future__ import annotations

import csv
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from dwca.read import DwCAReader

from mobilise.samples.darwin import generate_darwin, write_darwin
from mobilise.samples.lab import lab_rows, write_lab
from mobilise.samples.specify import generate_specify, write_specify
from mobilise.settings import load_config
from tests.pipeline_helpers import run_stages

REPO = Path(__file__).resolve().parents[1]
CONFIGS = ("rbins-darwin.yaml", "meise-specify.yaml", "lab-spreadsheet.yaml")
SPECIMENS = 500
DWC = "http://rs.tdwg.org/dwc/terms/"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A copy of the demo configs (with their translation tables) beside freshly generated demo data, laid out
    as in the repository: config/*.yaml reads ../data/demo/*."""
    root = tmp_path_factory.mktemp("demo")
    (root / "config").mkdir()
    for name in CONFIGS:
        shutil.copy(REPO / "config" / name, root / "config" / name)
    for folder in ("lookups", "vocabularies"):
        shutil.copytree(REPO / "config" / folder, root / "config" / folder)
    write_darwin(root / "data" / "demo" / "darwin.sqlite", SPECIMENS, 42)
    write_specify(root / "data" / "demo" / "specify.sqlite", SPECIMENS, 42)
    write_lab(root / "data" / "demo" / "lab.xlsx", 300, 42)
    return root


def _publish(demo: Path, name: str, output: Path, monkeypatch, url: str | None = None):
    """Run a demo config as shipped (the source URL from its environment variable when given) with the BDQ tests
    off (they have tests of their own); returns the RunResult and the core rows by occurrenceID."""
    for variable in ("RBINS_DARWIN_URL", "MEISE_SPECIFY_URL", "MOBILISE_OUTPUT"):
        monkeypatch.delenv(variable, raising=False)
    if url is not None:
        monkeypatch.setenv("RBINS_DARWIN_URL" if "darwin" in name else "MEISE_SPECIFY_URL", url)
    monkeypatch.setenv("MOBILISE_OUTPUT", str(output))
    config = load_config(demo / "config" / name)
    config.validation.bdq.enabled = False
    result = run_stages(config)
    assert result.version is not None, result
    assert result.records + result.rejected == result.extracted
    with DwCAReader(result.archive) as archive:
        rows = {row.id: {term.removeprefix(DWC): value for term, value in row.data.items()} for row in archive}
    return result, rows


def _flags(result) -> dict[str, list[str]]:
    with open(result.warnings, encoding="utf-8", newline="") as file:
        return {row["occurrenceID"]: row["flags"].split("; ") for row in csv.DictReader(file)}


# --- generators ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("generate", [generate_darwin, generate_specify])
def test_generators_are_deterministic_per_seed_and_fast(generate):
    started = time.perf_counter()
    first = dict(generate(2000, 42))
    assert time.perf_counter() - started < 10  # about half a second
    assert first == dict(generate(2000, 42))
    assert first != dict(generate(2000, 43))
    main = "specimens" if "specimens" in first else "collectionobject"
    assert len(next(iter(first[main].values()))) == 2000


def test_lab_rows_are_deterministic_and_keep_the_spreadsheet_habits():
    rows, measurements = lab_rows(300, 42)
    assert (rows, measurements) == lab_rows(300, 42) and rows != lab_rows(300, 43)[0]
    specimens = [row for row in rows if row and row[0]]
    assert len(specimens) == 300 and None in rows  # blank rows between sessions of entry
    # after each, a row labelling the session's box, with no specimen number
    assert [row[7] for row in rows if row and not row[0]] == [f"doos {n}" for n in range(2, rows.count(None) + 2)]
    assert sum(row[7] == "niet publiceren" for row in specimens) == 6  # specimens 25, 75, ... 275
    dates = [row[2] for row in specimens if isinstance(row[2], str)]
    assert any(d.startswith("ca. ") for d in dates) and any(" juni " in d or len(d.split()) == 3 for d in dates)
    assert {row[3] for row in specimens} <= {"België", "Nederland", "Frankrijk", "Duitsland"}
    assert all(row[0] in {r[0] for r in specimens} for row in measurements)


def test_the_darwin_database_keeps_darwin_shapes(tmp_path):
    path = write_darwin(tmp_path / "darwin.sqlite", 300, 42)
    with sqlite3.connect(path) as db:
        masks = {m for (m,) in db.execute("SELECT DISTINCT gtu_from_date_mask FROM gtu")}
        unknown = db.execute("SELECT DISTINCT gtu_from_date FROM gtu WHERE gtu_from_date_mask = 0").fetchall()
        roles = {r for (r,) in db.execute("SELECT DISTINCT people_type FROM catalogue_people")}
        several = db.execute("SELECT COUNT(*) FROM (SELECT record_id FROM identifications GROUP BY record_id "
                             "HAVING COUNT(*) > 1)").fetchone()[0]
        orphans = db.execute("SELECT COUNT(*) FROM multimedia m LEFT JOIN specimens s ON s.id = m.record_id "
                             "WHERE s.id IS NULL").fetchone()[0]
    assert masks == {0, 32, 48, 56} and [u[0][:10] for u in unknown] == ["0001-01-01"]
    assert roles == {"collector", "identifier"} and several > 0 and orphans == 0


def test_sample_db_writes_each_kind_and_refuses_a_url_for_a_file(tmp_path):
    from typer.testing import CliRunner

    from mobilise.cli import app

    runner = CliRunner()
    written = runner.invoke(app, ["sample-db", str(tmp_path / "lab.xlsx"), "--kind", "lab", "--specimens", "20"])
    assert written.exit_code == 0, written.output
    rows = load_workbook_rows(tmp_path / "lab.xlsx")
    assert rows[1][0] == "Nummer" and sum(1 for row in rows[2:] if any(row)) == 20
    written = runner.invoke(app, ["sample-db", str(tmp_path / "d.sqlite"), "--kind", "darwin", "--specimens", "30"])
    assert written.exit_code == 0, written.output
    with sqlite3.connect(tmp_path / "d.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM specimens").fetchone()[0] == 30
    refused = runner.invoke(app, ["sample-db", "sqlite:///x.sqlite", "--kind", "lab"])
    assert refused.exit_code != 0 and "writes a file" in refused.output
    refused = runner.invoke(app, ["sample-db", str(tmp_path / "x"), "--kind", "specimens"])
    assert refused.exit_code != 0 and "unknown --kind" in refused.output


def load_workbook_rows(path: Path) -> list[tuple]:
    from openpyxl import load_workbook

    return list(load_workbook(path, read_only=True)["Specimens"].iter_rows(values_only=True))


@pytest.mark.parametrize(("text", "expected"), [
    ("12 juni 1998", "1998-06-12"), ("juni 1998", "1998-06"), ("3 Sept. 1887", "1887-09-03"),
    ("1 mei 2001", "2001-05-01"), ("12 V 1887", "1887-05-12")])
def test_a_month_written_as_a_word_is_read_exactly(text, expected):
    from mobilise.mappers.dates import parse_date

    first, last = parse_date(text)
    assert first == last and first.iso == expected
    assert parse_date(text, "month-first")[0].iso == expected  # a month name marks the month whatever the order


@pytest.mark.parametrize("text", ["ca. 1950", "31 juni 1998", "12 foo 1998", "juni 98", "12 juni"])
def test_what_is_no_date_with_a_month_word_is_refused(text):
    from mobilise.mappers.dates import DateError, parse_date

    with pytest.raises(DateError):
        parse_date(text)


# --- the three demo configs, end to end ------------------------------------------------------------------------------



# --- the same configs on the real servers ----------------------------------------------------------------------------

