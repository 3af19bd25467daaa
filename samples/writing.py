"""Writing a generated demo source database (samples/darwin.py, samples/specify.py) to SQLite, PostgreSQL or
MariaDB through SQLAlchemy: one ``MetaData`` per source, the same on every dialect.

``write_database(schema, rows, target, default_schema)``: ``target`` is a SQLite file path or a SQLAlchemy URL.

- SQLite: the file is written beside the target and renamed at the end (an interrupted build leaves nothing).
- PostgreSQL: the tables go to the first schema of the URL's ``search_path`` (``?options=-csearch_path=demo_darwin``,
  what a config's URL then reads through), else to ``default_schema``; the schema is created when missing and
  its demo tables replaced.
- MariaDB / MySQL: the URL's database is created (utf8mb4) when missing and its demo tables replaced.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa

__all__ = ["write_database", "is_url", "postgres_schema"]

_ROWS_PER_INSERT = 1000


def is_url(target: str | os.PathLike) -> bool:
    """True when ``target`` is a SQLAlchemy URL (``dialect://...``), False for a file path."""
    return "://" in str(target)


def postgres_schema(url: sa.URL, default: str) -> str:
    """The first schema of a PostgreSQL URL's ``options=-csearch_path=...``, else ``default``."""
    options = url.query.get("options", "")
    options = options[-1] if isinstance(options, tuple) else options
    if "search_path=" in options:
        return options.split("search_path=", 1)[1].split()[0].split(",")[0].strip('"')
    return default


def _load(engine: sa.Engine, schema: sa.MetaData, rows: Iterable[tuple[str, dict[str, list]]],
          translate: dict | None) -> None:
    tables = schema.tables
    with engine.begin() as connection:
        if translate:
            connection = connection.execution_options(schema_translate_map=translate)
        schema.drop_all(connection)
        schema.create_all(connection)
        for name, columns in rows:
            names = list(columns)
            records = [dict(zip(names, values)) for values in zip(*columns.values())]
            for start in range(0, len(records), _ROWS_PER_INSERT):
                connection.execute(tables[name].insert(), records[start:start + _ROWS_PER_INSERT])


def write_database(schema: sa.MetaData, rows: Iterable[tuple[str, dict[str, list]]], target: str | os.PathLike,
                   default_schema: str) -> str:
    """Create ``schema``'s tables at ``target`` and insert ``rows`` (``(table, {column: values})`` pairs in
    dependency order). Existing demo tables there are dropped first. Returns the target as written (the SQLite
    file path, or the URL with its password masked)."""
    if not is_url(target):
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        engine = sa.create_engine(f"sqlite:///{tmp}", poolclass=sa.NullPool)
        try:
            _load(engine, schema, rows, None)
            engine.dispose()
            os.replace(tmp, path)
        except BaseException:
            engine.dispose()
            tmp.unlink(missing_ok=True)
            raise
        return str(path)

    url = sa.make_url(str(target))
    backend = url.get_backend_name()
    translate = None
    if backend == "postgresql":
        name = postgres_schema(url, default_schema)
        admin = sa.create_engine(url, poolclass=sa.NullPool)
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
        admin.dispose()
        translate = {None: name}
    elif backend in ("mysql", "mariadb"):
        if not url.database:
            raise ValueError(f"{url.render_as_string()}: name the database to write (e.g. .../{default_schema})")
        admin = sa.create_engine(url._replace(database=None), poolclass=sa.NullPool)  # set() keeps a None
        with admin.begin() as connection:
            connection.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS `{url.database}` "
                                       "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        admin.dispose()
    elif backend != "sqlite":
        raise ValueError(f"{url.render_as_string()}: demo sources are written to SQLite, PostgreSQL or MariaDB")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        _load(engine, schema, rows, translate)
    finally:
        engine.dispose()
    return url.render_as_string(hide_password=True)
