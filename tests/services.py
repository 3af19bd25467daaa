"""The database servers tests run against: reachability, skip-or-fail, and a fresh private database per use.

    from tests.services import postgres_url, mariadb_url, drop_private

    url = postgres_url()      # SQLAlchemy URL to a new empty schema (search_path set) in PostgreSQL, or skip
    url = mariadb_url()       # SQLAlchemy URL to a new empty utf8mb4 database in MariaDB, or skip
    ...
    drop_private(url)         # drop it again (also done at interpreter exit for anything left over)

or, in a test module, import the fixtures ``postgres_db`` / ``mariadb_db`` which yield such a URL and drop the
schema/database after the test.

When a server is unreachable the test is skipped, unless ``MOBILISE_REQUIRE_SERVICES=1`` is set (CI), in which
case it fails. Admin URLs default to the local servers and can be overridden with ``MOBILISE_POSTGRES_URL`` and
``MOBILISE_MARIADB_URL``. Private names are ``mobilise_test_<pid>_<random>`` so parallel runs (pytest-xdist,
several checkouts) never collide.
"""
from __future__ import annotations

import atexit
import os
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get("MOBILISE_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN_URL = os.environ.get("MOBILISE_MARIADB_URL",
                                   "mysql+pymysql://root:@127.0.0.1:3306/test?charset=utf8mb4")
CONNECT_TIMEOUT = 3

_created: set[str] = set()


def services_required() -> bool:
    """True when unreachable services must fail the tests instead of skipping them."""
    return os.environ.get("MOBILISE_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(service: str, error: Exception) -> None:
    message = f"{service} not reachable: {type(error).__name__}: {str(error).strip().splitlines()[0]}"
    if services_required():
        pytest.fail(message + " (MOBILISE_REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(message)


def _private_name() -> str:
    return f"mobilise_test_{os.getpid()}_{secrets.token_hex(4)}"


def _admin_engine(url: str | sa.URL) -> sa.Engine:
    return sa.create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT}, poolclass=sa.NullPool)


def postgres_url() -> str:
    """A URL to a fresh, empty schema in PostgreSQL (first on the search_path), or skip/fail if unreachable."""
    name = _private_name()
    engine = _admin_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    except sa.exc.OperationalError as error:
        _unavailable("PostgreSQL", error)
    finally:
        engine.dispose()
    url = sa.make_url(POSTGRES_ADMIN_URL).update_query_dict({"options": f"-csearch_path={name}"})
    rendered = url.render_as_string(hide_password=False)
    _created.add(rendered)
    return rendered


def mariadb_url() -> str:
    """A URL to a fresh, empty utf8mb4 database in MariaDB, or skip/fail if unreachable."""
    name = _private_name()
    engine = _admin_engine(MARIADB_ADMIN_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    except sa.exc.OperationalError as error:
        _unavailable("MariaDB", error)
    finally:
        engine.dispose()
    url = sa.make_url(MARIADB_ADMIN_URL).set(database=name).update_query_dict({"charset": "utf8mb4"})
    rendered = url.render_as_string(hide_password=False)
    _created.add(rendered)
    return rendered


def drop_private(url: str) -> None:
    """Drop a schema/database made by postgres_url() or mariadb_url(). Dispose your engines first."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        name = parsed.query["options"].split("search_path=", 1)[1]
        engine = _admin_engine(POSTGRES_ADMIN_URL)
        statements = ["SET lock_timeout = '10s'", f'DROP SCHEMA IF EXISTS "{name}" CASCADE']
    else:
        name = parsed.database
        engine = _admin_engine(MARIADB_ADMIN_URL)
        statements = ["SET SESSION lock_wait_timeout = 10", f"DROP DATABASE IF EXISTS `{name}`"]
    if not name.startswith("mobilise_test_"):
        raise ValueError(f"refusing to drop {name!r}: not a private test schema/database")
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()
    _created.discard(url)


@atexit.register
def _drop_leftovers() -> None:
    for url in list(_created):
        try:
            drop_private(url)
        except Exception:  # best effort at exit; the server may be gone
            pass


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """Fixture: URL to a private PostgreSQL schema, dropped after the test."""
    url = postgres_url()
    yield url
    drop_private(url)


@pytest.fixture
def mariadb_db() -> Iterator[str]:
    """Fixture: URL to a private MariaDB database, dropped after the test."""
    url = mariadb_url()
    yield url
    drop_private(url)
