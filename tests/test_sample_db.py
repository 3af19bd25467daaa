"""The embedded sample CMS database: determinism, shape, relationships, defects, copies into PostgreSQL/MariaDB."""
from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from mobilise.samples import (COUNTRIES, RATES, SCHEMA, UNKNOWN_COUNTRIES, build_sample_database, copy_database,
                              generation, table_counts)
from tests.services import mariadb_db, postgres_db  # noqa: F401  (fixtures)

SPECIMENS = 10_000
DOCS = Path(__file__).resolve().parents[1] / "docs" / "sample-database.md"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> sqlite3.Connection:
    path = build_sample_database(tmp_path_factory.mktemp("sample") / "sample.db", SPECIMENS, seed=42)
    conn = sqlite3.connect(path)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    return build_sample_database(tmp_path_factory.mktemp("small") / "small.db", 2_000, seed=42)


def scalar(conn: sqlite3.Connection, sql: str, *params):
    return conn.execute(sql, params).fetchone()[0]


def column(conn: sqlite3.Connection, sql: str) -> list:
    return [row[0] for row in conn.execute(sql)]


def dump(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {t.name: conn.execute(f"SELECT * FROM {t.name} ORDER BY 1").fetchall() for t in SCHEMA.sorted_tables}


# --- determinism, atomic writes ------------------------------------------------------------------------------

def test_same_seed_gives_identical_contents_and_other_seed_differs(tmp_path):
    first = dump(build_sample_database(tmp_path / "a.db", 1_000, seed=7))
    assert first == dump(build_sample_database(tmp_path / "b.db", 1_000, seed=7))
    other = dump(build_sample_database(tmp_path / "c.db", 1_000, seed=8))
    assert other != first
    assert other["collection_object"] != first["collection_object"]
    assert other["taxon"] == first["taxon"]  # reference data does not depend on the seed


def test_failed_build_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "sample.db"
    target.write_bytes(b"previous")

    def boom(*args, **kwargs):
        raise RuntimeError("crash while loading media")

    monkeypatch.setattr(generation, "_media_rows", boom)
    with pytest.raises(RuntimeError):
        build_sample_database(target, 500)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.db"]


# --- schema, counts, relationships ---------------------------------------------------------------------------

def test_tables_columns_and_indexes_match_schema(db):
    for table in SCHEMA.sorted_tables:
        assert [r[1] for r in db.execute(f"PRAGMA table_info({table.name})")] == [c.name for c in table.columns]
        indexes = {r[1] for r in db.execute(f"PRAGMA index_list({table.name})")}
        assert {ix.name for ix in table.indexes} <= indexes
        for fk in table.foreign_keys:  # every foreign key column is indexed
            assert any(ix.columns.keys()[0] == fk.parent.name for ix in table.indexes), fk


def test_row_counts(db):
    counts = {t.name: scalar(db, f"SELECT COUNT(*) FROM {t.name}") for t in SCHEMA.sorted_tables}
    assert counts["collection_object"] == SPECIMENS
    assert counts["collecting_event"] == round(SPECIMENS * RATES["events_per_specimen"])
    assert counts["locality"] == round(SPECIMENS * RATES["localities_per_specimen"])
    assert counts["institution"] == 2 and counts["collection"] == 6
    assert 300 <= counts["taxon"] <= 1000
    assert 1.0 * SPECIMENS < counts["determination"] <= 3 * SPECIMENS
    assert counts["preparation"] >= SPECIMENS
    per_object = db.execute("SELECT MIN(n), MAX(n) FROM (SELECT COUNT(*) n FROM determination GROUP BY object_id)")
    assert per_object.fetchone() == (1, 3)
    assert scalar(db, "SELECT COUNT(DISTINCT object_id) FROM determination") == SPECIMENS
    assert scalar(db, "SELECT COUNT(DISTINCT object_id) FROM preparation") == SPECIMENS
    # every object has exactly one primary number; about 10 % also an old one
    assert db.execute("SELECT MIN(n), MAX(n), COUNT(*) FROM (SELECT SUM(is_primary) n FROM catalog_number "
                      "GROUP BY object_id)").fetchone() == (1, 1, SPECIMENS)
    assert 0.08 < scalar(db, "SELECT COUNT(*) FROM catalog_number WHERE is_primary = 0") / SPECIMENS < 0.12
    assert 0.27 < scalar(db, "SELECT COUNT(DISTINCT object_id) FROM media") / SPECIMENS < 0.33
    # events are shared: about 0.6 events per specimen, every event used
    assert scalar(db, "SELECT COUNT(DISTINCT event_id) FROM collection_object") > 0.95 * counts["collecting_event"]


def test_every_foreign_key_resolves(db):
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for table in SCHEMA.sorted_tables:
        for fk in table.foreign_keys:
            target = fk.column
            orphans = scalar(db, f"SELECT COUNT(*) FROM {table.name} c WHERE c.{fk.parent.name} IS NOT NULL AND NOT "
                                 f"EXISTS (SELECT 1 FROM {target.table.name} p WHERE p.{target.name} = "
                                 f"c.{fk.parent.name})")
            assert orphans == 0, f"{table.name}.{fk.parent.name}"


def test_taxonomy_is_consistent(db):
    taxa = {r[0]: r for r in db.execute("SELECT taxon_id, parent_id, rank, name, full_name, author FROM taxon")}
    order = ["kingdom", "phylum", "class", "order", "family", "genus", "species", "subspecies"]
    assert {t[4] for t in taxa.values() if t[2] == "kingdom"} == {"Animalia", "Plantae"}
    for taxon_id, parent_id, rank, name, full_name, author in taxa.values():
        if rank == "kingdom":
            assert parent_id is None
            continue
        parent = taxa[parent_id]
        assert order.index(parent[2]) == order.index(rank) - 1, full_name
        if rank in ("species", "subspecies"):
            assert full_name == f"{parent[4]} {name}" and author, full_name
    # a name at genus rank or above sits at one place in the hierarchy
    higher = db.execute("SELECT full_name FROM taxon WHERE rank NOT IN ('species', 'subspecies') "
                        "GROUP BY full_name HAVING COUNT(*) > 1").fetchall()
    assert higher == []
    assert db.execute("SELECT name, author FROM taxon WHERE full_name = 'Lycaena dispar'").fetchone() == (
        "dispar", "(Haworth, 1803)")
    assert scalar(db, "SELECT COUNT(*) FROM taxon WHERE rank = 'subspecies'") > 0


def test_agents_have_non_ascii_names_and_valid_orcids(db):
    names = column(db, "SELECT full_name FROM agent")
    assert sum(not n.isascii() for n in names) > 0.3 * len(names)
    orcids = [o.rsplit("/", 1)[-1] for o in column(db, "SELECT orcid FROM agent WHERE orcid IS NOT NULL")]
    assert orcids
    for orcid in orcids:
        digits = orcid.replace("-", "")
        total = 0
        for d in digits[:-1]:
            total = (total + int(d)) * 2
        check = (12 - total % 11) % 11
        assert digits[-1] == ("X" if check == 10 else str(check)), orcid


def test_guids_are_unique_uuids(db):
    guids = column(db, "SELECT guid FROM collection_object")
    assert len(set(guids)) == len(guids)
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", g) for g in guids)


# --- defects -------------------------------------------------------------------------------------------------

def exact(rate: str, rows: int) -> int:
    return max(1, round(RATES[rate] * rows))


DEFECT_QUERIES = {
    # name: (SQL counting the defect, expected exact count or None for "present")
    # (out of range also catches swapped pairs whose longitude exceeded 90, hence a lower bound there)
    "coordinates missing": (
        "SELECT COUNT(*) FROM locality WHERE latitude IS NULL AND latitude_text IS NULL",
        exact("locality.coordinates_missing", 1500)),
    "coordinates only as text": (
        "SELECT COUNT(*) FROM locality WHERE latitude IS NULL AND latitude_text IS NOT NULL",
        exact("locality.coordinates_text_only", 1500)),
    "coordinates 0/0": (
        "SELECT COUNT(*) FROM locality WHERE latitude = 0 AND longitude = 0", exact("locality.coordinates_zero", 1500)),
    "coordinates out of range": (
        "SELECT COUNT(*) FROM locality WHERE ABS(latitude) > 90 OR ABS(longitude) > 180",
        exact("locality.coordinates_out_of_range", 1500)),
    "datum ED50": ("SELECT COUNT(*) FROM locality WHERE geodetic_datum = 'ED50'", None),
    "datum empty": ("SELECT COUNT(*) FROM locality WHERE geodetic_datum = '' OR "
                    "(geodetic_datum IS NULL AND latitude IS NOT NULL)", None),
    "country empty": ("SELECT COUNT(*) FROM locality WHERE country = ''", exact("locality.country_empty", 1500)),
    "country NULL": ("SELECT COUNT(*) FROM locality WHERE country IS NULL", exact("locality.country_null", 1500)),
    "country unknown": (
        f"SELECT COUNT(*) FROM locality WHERE country IN ({', '.join(repr(c) for c in UNKNOWN_COUNTRIES)})",
        exact("locality.country_unknown", 1500)),
    "country as ISO code": ("SELECT COUNT(*) FROM locality WHERE country IN ('BE', 'CD', 'FR')", None),
    "country historic": ("SELECT COUNT(*) FROM locality WHERE country IN ('Belgian Congo', 'Zaïre', 'Congo belge')",
                         None),
    "elevation min above max": ("SELECT COUNT(*) FROM locality WHERE elevation_min > elevation_max",
                                exact("locality.elevation_min_above_max", 1500)),
    "event start empty": ("SELECT COUNT(*) FROM collecting_event WHERE start_date = ''",
                          exact("collecting_event.start_date_empty", 6000)),
    "event start NULL": ("SELECT COUNT(*) FROM collecting_event WHERE start_date IS NULL",
                         exact("collecting_event.start_date_null", 6000)),
    "object without event": ("SELECT COUNT(*) FROM collection_object WHERE event_id IS NULL",
                             exact("collection_object.event_missing", SPECIMENS)),
    "not public": ("SELECT COUNT(*) FROM collection_object WHERE is_public = 0",
                   exact("collection_object.not_public", SPECIMENS)),
    "basis invalid": (
        "SELECT COUNT(*) FROM collection_object WHERE basis IS NULL OR basis IN ('', 'specimen?', 'unknown')",
        exact("collection_object.basis_invalid", SPECIMENS)),
    "individual count NULL": ("SELECT COUNT(*) FROM collection_object WHERE individual_count IS NULL", None),
    "individual count 0": ("SELECT COUNT(*) FROM collection_object WHERE individual_count = 0",
                           exact("collection_object.individual_count_zero", SPECIMENS)),
    "individual count negative": ("SELECT COUNT(*) FROM collection_object WHERE individual_count < 0",
                                  exact("collection_object.individual_count_negative", SPECIMENS)),
    "remarks with tab": ("SELECT COUNT(*) FROM collection_object WHERE remarks LIKE '%' || char(9) || '%'", None),
    "remarks with newline": ("SELECT COUNT(*) FROM collection_object WHERE remarks LIKE '%' || char(10) || '%'", None),
    "remarks with double quote": ("SELECT COUNT(*) FROM collection_object WHERE remarks LIKE '%\"%'", None),
    "remarks with single quote": ("SELECT COUNT(*) FROM collection_object WHERE remarks LIKE '%''%'", None),
    "primary catalog number duplicated": (
        "SELECT COUNT(*) FROM (SELECT number FROM catalog_number WHERE is_primary = 1 GROUP BY number "
        "HAVING COUNT(*) > 1)", exact("catalog_number.primary_duplicated", SPECIMENS)),
    "no current determination": (
        "SELECT COUNT(*) FROM (SELECT object_id FROM determination GROUP BY object_id HAVING SUM(is_current) = 0)",
        exact("determination.no_current", SPECIMENS)),
    "current determination without taxon": (
        "SELECT COUNT(*) FROM determination WHERE is_current = 1 AND taxon_id IS NULL",
        exact("determination.current_without_taxon", SPECIMENS)),
    "two current determinations": (
        "SELECT COUNT(*) FROM (SELECT object_id FROM determination GROUP BY object_id HAVING SUM(is_current) > 1)",
        exact("determination.two_current", SPECIMENS)),
    "type status": ("SELECT COUNT(*) FROM determination WHERE type_status IS NOT NULL",
                    exact("determination.type_status", SPECIMENS)),
    "qualifier": ("SELECT COUNT(*) FROM determination WHERE qualifier IN ('cf.', 'aff.')", None),
    "genus-only identification": (
        "SELECT COUNT(*) FROM determination d JOIN taxon t USING (taxon_id) WHERE d.is_current = 1 "
        "AND t.rank = 'genus'", None),
}


@pytest.mark.parametrize("name", DEFECT_QUERIES)
def test_defect_present(db, name):
    sql, expected = DEFECT_QUERIES[name]
    count = scalar(db, sql)
    assert count > 0, name
    if name == "coordinates out of range":
        assert count >= expected
    elif expected is not None:
        assert count == expected, name


@pytest.mark.parametrize("column_name, values", [
    ("basis", ["preserved specimen", "PreservedSpecimen", "Preserved Specimen", "fossil", "Fossil specimen",
               "living specimen", "material sample", "herbarium sheet", "specimen?", ""]),
    ("sex", ["M", "F", "male", "female", "♂", "♀", "mâle", "vrouwelijk", "?", "unknown", "m/f", ""]),
    ("life_stage", ["adult", "ad.", "larva", "juv.", "juvenile", "pupa", "egg", "imago", "L3", ""]),
])
def test_cms_vocabulary_variants_present(db, column_name, values):
    present = set(column(db, f"SELECT DISTINCT {column_name} FROM collection_object"))
    assert set(values) <= present
    assert None in present


def test_countries_in_several_languages(db):
    present = set(column(db, "SELECT DISTINCT country FROM locality"))
    assert {"België", "Belgique", "Belgium", "BE", "Frankrijk", "France", "Duitsland", "Allemagne",
            "Democratische Republiek Congo", "République démocratique du Congo", "Belgian Congo", "Zaïre"} <= present


def test_remarks_with_non_ascii(db):
    remarks = column(db, "SELECT remarks FROM collection_object WHERE remarks IS NOT NULL")
    assert any(not r.isascii() for r in remarks)
    assert any("\t" in r and not r.isascii() for r in remarks)


DMS_STYLES = {
    "compact": re.compile(r"^\d+°\d{2}'\d{2}\"[NSEW]$"),         # 50°51'12"N
    "spaced": re.compile(r"^\d+° \d+' \d+\" [NSEW]$"),            # 4° 21' 5" E
    "numbers": re.compile(r"^\d+ \d+ \d+ [NSEW]$"),               # 50 51 12 N
    "decimal minutes": re.compile(r"^[NSEW] \d+°\d+(\.\d)?'$"),  # S 4°19.5'
}


def test_dms_text_formats(db):
    texts = column(db, "SELECT latitude_text FROM locality WHERE latitude_text IS NOT NULL") + column(
        db, "SELECT longitude_text FROM locality WHERE longitude_text IS NOT NULL")
    for name, pattern in DMS_STYLES.items():
        assert any(pattern.match(t) for t in texts), name
    assert all(any(p.match(t) for p in DMS_STYLES.values()) for t in texts)


def test_swapped_coordinates_detectable(db):
    boxes = {}
    for _, _, labels, box, _, _ in COUNTRIES:
        for label in labels:
            boxes.setdefault(label, []).append(box)

    def inside(lat, lon, box):
        return box[0] <= lat <= box[1] and box[2] <= lon <= box[3]

    swapped = 0
    for country, lat, lon in db.execute("SELECT country, latitude, longitude FROM locality "
                                        "WHERE latitude IS NOT NULL AND latitude_text IS NULL"):
        if len(boxes.get(country, [])) == 1:
            box = boxes[country][0]
            swapped += not inside(lat, lon, box) and inside(lon, lat, box)
    assert swapped > 0


NO_DATE = {"s.d.", "unknown", "?", "onbekend", "sans date", "n.d."}


def classify(text):
    """(class, date or None) for a start/end date text."""
    if text is None:
        return "null", None
    if text == "":
        return "empty", None
    if text in NO_DATE:
        return "nonsense", None
    for name, pattern, order in [("year", r"(\d{4})", "y"), ("month", r"(\d{4})-(\d{2})", "ym"),
                                 ("iso", r"(\d{4})-(\d{2})-(\d{2})", "ymd"),
                                 ("slash", r"(\d{2})/(\d{2})/(\d{4})", "dmy"),
                                 ("dot", r"(\d{2})\.(\d{2})\.(\d{4})", "dmy")]:
        match = re.fullmatch(pattern, text)
        if match:
            parts = dict(zip(order, map(int, match.groups())))
            if parts["y"] > 2030:
                return "future", None
            try:
                return name, date(parts["y"], parts.get("m", 1), parts.get("d", 1))
            except ValueError:
                return "impossible", None
    return "other", None


def test_event_dates(db):
    rows = db.execute("SELECT start_date, end_date FROM collecting_event").fetchall()
    classes = {}
    before = after = 0
    for start, end in rows:
        kind, start_day = classify(start)
        classes[kind] = classes.get(kind, 0) + 1
        if end is not None:
            end_kind, end_day = classify(end)
            assert end_kind == kind and start_day and end_day
            before += end_day < start_day
            after += end_day > start_day
    assert set(classes) == {"null", "empty", "nonsense", "year", "month", "iso", "slash", "dot", "future",
                            "impossible"}
    events = len(rows)
    assert classes["nonsense"] == exact("collecting_event.start_date_nonsense", events)
    assert classes["impossible"] == exact("collecting_event.start_date_impossible", events)
    assert classes["future"] == exact("collecting_event.start_date_future", events)
    assert before == exact("collecting_event.end_date_before_start", events)
    assert 0.05 * events < after < 0.15 * events
    assert any(re.fullmatch(r"\d{4}-02-30", s or "") for s, _ in rows)
    assert any(re.fullmatch(r"\d{4}-13-01", s or "") for s, _ in rows)


def test_most_records_publishable(db):
    """Blocking defects (not public, no usable current name, invalid basis, duplicated number) stay below 10 %."""
    blocked = scalar(db, """
        SELECT COUNT(*) FROM collection_object o WHERE o.is_public = 0
           OR o.basis IS NULL OR o.basis IN ('', 'specimen?', 'unknown')
           OR (SELECT COUNT(*) FROM determination d WHERE d.object_id = o.object_id AND d.is_current = 1
               AND d.taxon_id IS NOT NULL) != 1
           OR EXISTS (SELECT 1 FROM catalog_number c JOIN catalog_number c2 ON c2.number = c.number
                      AND c2.object_id != c.object_id AND c2.is_primary = 1
                      WHERE c.object_id = o.object_id AND c.is_primary = 1)""")
    assert 0.02 < blocked / SPECIMENS < 0.10


def test_docs_describe_every_rate():
    text = DOCS.read_text(encoding="utf-8")
    missing = [key for key in RATES if f"`{key}`" not in text]
    assert missing == []


# --- copies into the real servers ------------------------------------------------------------------------------

def check_copy(sqlite_path: Path, url: str) -> None:
    expected = table_counts(sqlite_path)
    assert copy_database(sqlite_path, url, batch_size=700) == expected
    source = dump(sqlite_path)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            copied = {t.name: [tuple(row) for row in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
                      for t in SCHEMA.sorted_tables}
            # spot checks first, for a readable failure: tab + non-ASCII remarks, names beyond Latin-1, ♂/♀
            objects = dict((row[0], row) for row in copied["collection_object"])
            for row in source["collection_object"]:
                if row[8] and "\t" in row[8] and not row[8].isascii():
                    assert objects[row[0]][8] == row[8]
                    break
            else:
                pytest.fail("no remarks with tab and non-ASCII in the sample")
            assert {r[3] for r in copied["agent"]} == {r[3] for r in source["agent"]}
            assert {r[5] for r in copied["collection_object"]} >= {"♂", "♀", "mâle"}
            assert copied == source
        # a second copy replaces the tables instead of failing or doubling
        assert copy_database(sqlite_path, url) == expected
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_copy_into_postgres(small_db, postgres_db):  # noqa: F811 (fixture imported from tests.services)
    check_copy(small_db, postgres_db)


@pytest.mark.mariadb
def test_copy_into_mariadb(small_db, mariadb_db):  # noqa: F811
    check_copy(small_db, mariadb_db)
