"""Writing the sample collection database: the SQLite file (``build_sample_database``), its row counts
(``table_counts``) and a copy into PostgreSQL or MariaDB (``copy_database``, used by the tests and the bench)."""
from __future__ import annotations

import os
import sqlite3
from itertools import chain
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from mobilise.samples.generation import generate
from mobilise.samples.schema import SCHEMA

__all__ = ["build_sample_database", "copy_database", "table_counts"]

_ROWS_PER_INSERT = 200


def _insert(conn: sqlite3.Connection, table: str, rows: dict[str, list]) -> None:
    """executemany with multi-row VALUES (binding, not SQLite, is the cost: this saves a quarter of it)."""
    columns = list(rows)
    width = len(columns)
    flat = list(chain.from_iterable(zip(*rows.values())))
    one = f"({', '.join('?' * width)})"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    step = _ROWS_PER_INSERT * width
    full = len(flat) // step * step
    conn.executemany(head + ", ".join([one] * _ROWS_PER_INSERT), (flat[i:i + step] for i in range(0, full, step)))
    conn.executemany(head + one, (flat[i:i + width] for i in range(full, len(flat), width)))


def build_sample_database(path: str | os.PathLike, specimens: int = 10_000, seed: int = 42) -> Path:
    """Write a sample CMS database with ``specimens`` collection objects to the SQLite file ``path``.

    Deterministic for ``(specimens, seed)``. The file is written beside the target and renamed at the end, so an
    interrupted build never leaves a partial database at ``path``. Returns ``path`` as a Path.
    """
    if specimens < 1:
        raise ValueError("specimens must be at least 1")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)

    dialect = sqlite_dialect.dialect()
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-262144")
            conn.execute("BEGIN")
            for table in SCHEMA.sorted_tables:
                conn.execute(str(CreateTable(table).compile(dialect=dialect)))

            for name, rows in generate(specimens, seed):
                _insert(conn, name, rows)
                del rows  # one table in memory at a time

            for table in SCHEMA.sorted_tables:
                for index in sorted(table.indexes, key=lambda ix: ix.name):
                    conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
            conn.execute("COMMIT")
        finally:
            conn.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def table_counts(sqlite_path: str | os.PathLike) -> dict[str, int]:
    """Row count per table of a sample database file."""
    with sqlite3.connect(sqlite_path) as conn:
        return {t.name: conn.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0] for t in SCHEMA.sorted_tables}


def copy_database(sqlite_path: str | os.PathLike, target_url: str | sa.URL, batch_size: int = 5000) -> dict[str, int]:
    """Load the schema and rows of a sample database into the database at ``target_url`` (SQLAlchemy URL).

    The sample tables are dropped and recreated in the target first. Returns the row count copied per table.
    """
    engine = sa.create_engine(target_url)
    copied: dict[str, int] = {}
    try:
        SCHEMA.drop_all(engine)
        SCHEMA.create_all(engine)
        source = sqlite3.connect(f"file:{Path(sqlite_path)}?mode=ro", uri=True)
        try:
            with engine.begin() as target:
                for table in SCHEMA.sorted_tables:
                    columns = [c.name for c in table.columns]
                    pk = table.primary_key.columns[0].name
                    cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY {pk}")
                    copied[table.name] = 0
                    while batch := cursor.fetchmany(batch_size):
                        target.execute(table.insert(), [dict(zip(columns, row)) for row in batch])
                        copied[table.name] += len(batch)
        finally:
            source.close()
        _analyze(engine)
    finally:
        engine.dispose()
    return copied


def _analyze(engine: sa.Engine) -> None:
    """Refresh the planner's statistics after a bulk load: without them PostgreSQL estimates ~1,000 rows for a
    million-row table and evaluates the sample query's correlated subqueries in the worst place."""
    backend = engine.dialect.name
    with engine.begin() as connection:
        if backend == "postgresql":
            connection.execute(sa.text("ANALYZE"))
        elif backend in ("mysql", "mariadb"):
            names = ", ".join(f"`{table.name}`" for table in SCHEMA.sorted_tables)
            connection.execute(sa.text(f"ANALYZE TABLE {names}"))
