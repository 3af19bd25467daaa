"""Load a sample database into PostgreSQL (schema ``bench``) and MariaDB (database ``bench``) for bench/extract.py.

    .venv/bin/python bench/load_servers.py DB [postgresql] [mariadb]
"""
from __future__ import annotations

import sys
import time

import sqlalchemy as sa

from mobilise.samples import copy_database

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB = "mysql+pymysql://root:@127.0.0.1:3306/test?charset=utf8mb4"
URLS = {"postgresql": POSTGRES + "?options=-csearch_path%3Dbench",
        "mariadb": "mysql+pymysql://root:@127.0.0.1:3306/bench?charset=utf8mb4"}


def prepare(server: str) -> None:
    engine = sa.create_engine(POSTGRES if server == "postgresql" else MARIADB, poolclass=sa.NullPool)
    with engine.begin() as connection:
        if server == "postgresql":
            connection.execute(sa.text("CREATE SCHEMA IF NOT EXISTS bench"))
        else:
            connection.execute(sa.text("CREATE DATABASE IF NOT EXISTS bench CHARACTER SET utf8mb4 "
                                       "COLLATE utf8mb4_unicode_ci"))
    engine.dispose()


def main() -> None:
    db, servers = sys.argv[1], sys.argv[2:] or ["postgresql", "mariadb"]
    for server in servers:
        prepare(server)
        start = time.perf_counter()
        copied = copy_database(db, URLS[server], batch_size=20_000)
        print(f"{server}: {copied} in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
