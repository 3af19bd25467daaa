"""GBIF's occurrence issue flags that a publisher can check before publishing, as registered record checks.

Each check answers "would GBIF raise this flag on this record after indexing?" from the mapped batch alone: the
flag names and meanings are GBIF's (OccurrenceIssue, listed in /work/shared/standards/bdq/
derived_gbif_occurrence_issues.csv); docs/gbif-issue-flags.md says for every one of GBIF's 105 flags whether and
how Mobilise checks it. Mobilise does not change the published values here: where GBIF would derive, infer,
reproject or round a value, the flag tells the data manager that GBIF will do so.

The checks are split by theme as GBIF's own pipelines interpreters are: :mod:`.location` (coordinates, datum,
footprint), :mod:`.geography` (country, continent, coordinate-country consistency), :mod:`.temporal`,
:mod:`.measurements` (depth, elevation), :mod:`.occurrence` (status, counts, type status, references) and
:mod:`.geochronology`; :mod:`.batch` holds the values several of them read once per batch. Importing this package
registers them all in :mod:`mobilise.validators.registry`.

Everything is vectorised with pyarrow/numpy. Where Python is unavoidable (parsing a depth, a datum, a country
name, a geochronological unit) it runs once per distinct value of the batch, with caches across batches.
"""
from mobilise.validators.gbif import (  # noqa: F401  (each module registers its checks)
    geochronology,
    geography,
    location,
    measurements,
    occurrence,
    temporal,
)
