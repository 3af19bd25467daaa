"""The tables of the sample collection database: one SQLAlchemy Core ``MetaData`` for SQLite, PostgreSQL and MariaDB.

``SCHEMA`` holds eleven CMS-like tables joined by integer keys (``institution``, ``collection``, ``agent``,
``taxon``, ``locality``, ``collecting_event``, ``collection_object``, ``catalog_number``, ``determination``,
``preparation``, ``media``); docs/sample-database.md describes them. Every foreign key column is indexed
(``ix_<table>_<column>``); coordinates are ``DOUBLE`` in PostgreSQL/MariaDB and ``REAL`` in SQLite; MariaDB tables
are ``utf8mb4``.
"""
from __future__ import annotations

import sqlalchemy as sa

__all__ = ["SCHEMA"]

SCHEMA = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})

# DOUBLE in PostgreSQL / MariaDB (MariaDB FLOAT is single precision), REAL in SQLite.
_REAL = sa.Double().with_variant(sa.REAL(), "sqlite")
# utf8mb4 so that Ōkubo, Nguyễn and ♂ survive in MariaDB whatever the database default is.
_MARIADB = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def _pk(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, primary_key=True, autoincrement=False)


def _fk(name: str, target: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target), nullable=nullable, index=True)


sa.Table(
    "institution", SCHEMA,
    _pk("institution_id"),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("ror_id", sa.String(64)),
    **_MARIADB,
)
sa.Table(
    "collection", SCHEMA,
    _pk("collection_id"),
    _fk("institution_id", "institution.institution_id"),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("discipline", sa.String(32), nullable=False),
    **_MARIADB,
)
sa.Table(
    "agent", SCHEMA,
    _pk("agent_id"),
    sa.Column("given_name", sa.String(128)),
    sa.Column("family_name", sa.String(128)),
    sa.Column("full_name", sa.String(255)),
    sa.Column("orcid", sa.String(64)),
    **_MARIADB,
)
sa.Table(
    "taxon", SCHEMA,
    _pk("taxon_id"),
    _fk("parent_id", "taxon.taxon_id", nullable=True),
    sa.Column("rank", sa.String(32), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("full_name", sa.String(255), nullable=False, index=True),
    sa.Column("author", sa.String(255)),
    **_MARIADB,
)
sa.Table(
    "locality", SCHEMA,
    _pk("locality_id"),
    sa.Column("country", sa.String(128)),
    sa.Column("state_province", sa.String(128)),
    sa.Column("locality_name", sa.Text),
    sa.Column("latitude", _REAL),
    sa.Column("longitude", _REAL),
    sa.Column("latitude_text", sa.String(64)),
    sa.Column("longitude_text", sa.String(64)),
    sa.Column("geodetic_datum", sa.String(32)),
    sa.Column("coordinate_uncertainty_m", sa.Integer),
    sa.Column("elevation_min", _REAL),
    sa.Column("elevation_max", _REAL),
    **_MARIADB,
)
sa.Table(
    "collecting_event", SCHEMA,
    _pk("event_id"),
    _fk("locality_id", "locality.locality_id"),
    sa.Column("start_date", sa.String(32)),
    sa.Column("end_date", sa.String(32)),
    sa.Column("verbatim_date", sa.String(128)),
    _fk("collector_id", "agent.agent_id", nullable=True),
    sa.Column("field_number", sa.String(64)),
    sa.Column("habitat", sa.Text),
    sa.Column("sampling_protocol", sa.String(255)),
    **_MARIADB,
)
sa.Table(
    "collection_object", SCHEMA,
    _pk("object_id"),
    sa.Column("guid", sa.String(36), nullable=False, unique=True, index=True),  # a unique index, built last
    _fk("collection_id", "collection.collection_id"),
    _fk("event_id", "collecting_event.event_id", nullable=True),
    sa.Column("basis", sa.String(64)),
    sa.Column("sex", sa.String(32)),
    sa.Column("life_stage", sa.String(32)),
    sa.Column("individual_count", sa.Integer),
    sa.Column("remarks", sa.Text),
    sa.Column("is_public", sa.Integer, nullable=False),
    sa.Column("modified_at", sa.String(32), nullable=False, index=True),
    **_MARIADB,
)
sa.Table(
    "catalog_number", SCHEMA,
    _pk("catalog_number_id"),
    _fk("object_id", "collection_object.object_id"),
    sa.Column("number", sa.String(64), nullable=False, index=True),
    sa.Column("is_primary", sa.Integer, nullable=False),
    **_MARIADB,
)
sa.Table(
    "determination", SCHEMA,
    _pk("determination_id"),
    _fk("object_id", "collection_object.object_id"),
    _fk("taxon_id", "taxon.taxon_id", nullable=True),
    _fk("determiner_id", "agent.agent_id", nullable=True),
    sa.Column("determined_date", sa.String(32)),
    sa.Column("is_current", sa.Integer, nullable=False),
    sa.Column("type_status", sa.String(32)),
    sa.Column("qualifier", sa.String(16)),
    **_MARIADB,
)
sa.Table(
    "preparation", SCHEMA,
    _pk("preparation_id"),
    _fk("object_id", "collection_object.object_id"),
    sa.Column("prep_type", sa.String(64)),
    sa.Column("count", sa.Integer),
    sa.Column("storage_location", sa.String(128)),
    **_MARIADB,
)
sa.Table(
    "media", SCHEMA,
    _pk("media_id"),
    _fk("object_id", "collection_object.object_id"),
    sa.Column("url", sa.String(512), nullable=False),
    sa.Column("format", sa.String(64)),
    sa.Column("license", sa.String(255)),
    sa.Column("creator", sa.String(255)),
    sa.Column("title", sa.String(512)),
    **_MARIADB,
)
