"""The sample institutional database: a synthetic collection management system (CMS) database with realistic
defects, for developing and testing extractors, mappings, validators and publishers (docs/sample-database.md).

- :mod:`~mobilise.samples.schema`: ``SCHEMA``, the tables (SQLAlchemy Core, for SQLite, PostgreSQL and MariaDB).
- :mod:`~mobilise.samples.generation`: ``generate(specimens, seed)``, the deterministic records, and ``RATES``,
  the defect rates.
- :mod:`~mobilise.samples.loading`: ``build_sample_database(path, specimens, seed)`` writes the SQLite file;
  ``copy_database(sqlite_path, target_url)`` loads it into PostgreSQL or MariaDB; ``table_counts``.
- :mod:`~mobilise.samples.reference`: the reference lists drawn from (``data/``: taxa, countries and their names
  as typed, people, localities, vocabularies).

The three demo institutions' sources (docs/demo-institutions.md), written by ``mobilise sample-db --kind``:
:mod:`~mobilise.samples.darwin` (DaRWIN-like zoology database, SQLite or PostgreSQL),
:mod:`~mobilise.samples.specify` (Specify-like herbarium, MariaDB or SQLite), :mod:`~mobilise.samples.lab` (a lab's
Excel workbook); :mod:`~mobilise.samples.writing` writes a generated database through SQLAlchemy.
"""
from mobilise.samples.generation import RATES, generate
from mobilise.samples.loading import build_sample_database, copy_database, table_counts
from mobilise.samples.reference import COUNTRIES, UNKNOWN_COUNTRIES
from mobilise.samples.schema import SCHEMA

__all__ = ["SCHEMA", "RATES", "COUNTRIES", "UNKNOWN_COUNTRIES", "generate", "build_sample_database",
           "copy_database", "table_counts"]
