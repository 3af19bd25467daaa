"""What changed since the last published version: a stable hash per published record, the comparison of this run's
hashes with the last version's, and the identifier guard that stops a run before GBIF's occurrenceID check does.

Record hashes (:func:`record_hashes`, in the validate stage, per batch): each published record's core row as the
archive writes it (values as text, tabs and line breaks folded to one space) is serialised canonically as
``\\n<term>\\t<value>`` for each term that has a value, the terms other than occurrenceID in term-name order, then
occurrenceID. A term without a value (null, or a column the batch does not have) contributes nothing, so an empty
value ('') stays distinct from none, and neither the batch boundaries, nor the column order, nor the columns another
batch's amendments added change a record's hash. The archive never holds a tab or a line break inside a value,
so the serialisation is unambiguous without escaping. It is hashed with BLAKE2b (128-bit digests, Python's
hashlib): ``content_hash`` over every term but occurrenceID, ``record_hash`` over the whole row (the same digest
carried on with the occurrenceID). Cost: about 4 µs a record on an idle core (see :func:`record_hashes`).

The comparison (:func:`compare`) is a DuckDB query over the Parquet files of this run's hashes and of the last
version's (``PublicationDirectory.record_hashes(version)``), so a collection larger than memory compares out of
core; files are given as parameters, never pasted into the SQL. occurrenceIDs are compared as written (case
matters; their uniqueness is checked elsewhere: an id used twice counts once, changed when any of its rows did).
"""
from __future__ import annotations

import hashlib
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from lxml import etree
from pydantic import BaseModel, Field

from mobilise.publishers.dwca import CORE_FILE, fold_structural
from mobilise.publishers.meta import DWC_TEXT_NS
from mobilise.publishers.publication import Gate, atomic_path
from mobilise.validators.dataset import MEMORY_LIMIT

#: the columns of the ``record_hashes`` datasets (run catalog) and of ``.state/record-hashes-<version>.parquet``
HASH_SCHEMA = pa.schema([("occurrenceID", pa.string()), ("record_hash", pa.binary(16)),
                         ("content_hash", pa.binary(16))])
DIGEST_BYTES = 16
SAMPLE_IDS = 20  # occurrenceIDs listed per kind of change, the smallest first
RENAMED_EXAMPLES = 5
_SLICE_ROWS = 25_000  # rows serialised at a time (bounds the text held in memory)
_ID = "occurrenceID"


# --- record hashes (validate stage, per batch) ---------------------------------------------------------------------

def _archive_text(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column's values as the archive writes them (text, structural characters folded), nulls kept."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    return fold_structural(values)


def _digests(text: pa.Array, ids: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(content_hash, record_hash) per row: BLAKE2b of `text`, then carried on with `ids` (null: no id)."""
    def spans(array: pa.Array) -> tuple[memoryview, list[int]]:
        data = array.buffers()[2]
        offsets = np.frombuffer(array.buffers()[1], np.int32)[array.offset:array.offset + len(array) + 1]
        return memoryview(data if data is not None else b""), offsets.tolist()

    body, body_at = spans(text)
    name, name_at = spans(pc.fill_null(ids, ""))
    valid = ids.is_valid().to_numpy(zero_copy_only=False)
    content, record = bytearray(), bytearray()
    blake2b = hashlib.blake2b
    for row in range(len(text)):
        digest = blake2b(body[body_at[row]:body_at[row + 1]], digest_size=DIGEST_BYTES)
        content += digest.digest()
        if valid[row]:
            digest.update(name[name_at[row]:name_at[row + 1]])
        record += digest.digest()
    kind = pa.binary(DIGEST_BYTES)
    return (pa.FixedSizeBinaryArray.from_buffers(kind, len(text), [None, pa.py_buffer(bytes(content))]),
            pa.FixedSizeBinaryArray.from_buffers(kind, len(text), [None, pa.py_buffer(bytes(record))]))


def record_hashes(published: pa.Table, terms: Sequence[str]) -> pa.Table:
    """The hashes of `published`'s records (a batch's published rows; `terms` the archive's columns for it), one row
    per record in order, :data:`HASH_SCHEMA`: occurrenceID (as published, may be null only if unpublishable),
    record_hash (the whole row) and content_hash (every term but occurrenceID), 16-byte BLAKE2b digests.

    Measured on a batch of the sample (24,376 published records, 48 terms, about 1 kB of text a record): 7% of the
    validate step's time without the BDQ tests, 4% with them (0.1 s on an idle core; bench notes in the commit)."""
    others = sorted(t for t in set(terms) if t != _ID and t in published.column_names)
    ids = (_archive_text(published[_ID]) if _ID in published.column_names
           else pa.nulls(published.num_rows, pa.string()))
    pieces = []
    for start in range(0, published.num_rows, _SLICE_ROWS):
        part = published.slice(start, _SLICE_ROWS)
        # "\n<term>\t<value>" per term with a value: "" joined with each entry by "\n". The "" also keeps every
        # row: Arrow drops the rows whose pieces are all null when nulls are skipped (pyarrow 26).
        entries = [pa.scalar("")] + [pc.binary_join_element_wise(pa.scalar(term), _archive_text(part[term]), "\t")
                                     for term in others]
        text = pc.binary_join_element_wise(*entries, "\n", null_handling="skip") if others else \
            pa.array([""] * part.num_rows, pa.string())
        part_ids = ids.slice(start, _SLICE_ROWS)
        named = pc.binary_join_element_wise(pa.scalar("\n" + _ID), part_ids, "\t")  # null where the id is
        content, record = _digests(text, named)
        pieces.append(pa.table([part_ids, record, content], schema=HASH_SCHEMA))
    return pa.concat_tables(pieces) if pieces else HASH_SCHEMA.empty_table()


def extension_row_hashes(published: pa.Table, table: str, coreid: str = "coreid") -> pa.Table:
    """Per published row of extension `table` (its `coreid` column first, then its terms): the core id and the row's
    hashes (:data:`HASH_SCHEMA`, occurrenceID holding the core id), the terms named ``<table>:<term>`` so that the
    same values in two extensions differ. :func:`extension_hashes` makes one hash per core record of them."""
    named = published.rename_columns(["occurrenceID" if name == coreid else f"{table}:{name}"
                                      for name in published.column_names])
    return record_hashes(named, named.column_names)


def extension_hashes(files: Sequence[str], spill_directory: Path) -> pa.Table:
    """One row per core id of the row hashes in the Parquet `files` (:func:`extension_row_hashes` of every batch
    of one extension): a digest of its rows' hashes in sorted order (MD5, 16 bytes: a change marker, not a
    security measure), :data:`HASH_SCHEMA`. Added to the record hashes, the core record then shows as changed
    when any of its extension rows is added, removed or changed (a record's id appears once in the core's hashes
    and once per extension: :func:`_ids` groups them)."""
    if not files:
        return HASH_SCHEMA.empty_table()
    with _connect(spill_directory) as connection:
        found = connection.sql(
            "SELECT occurrenceID, unhex(md5(string_agg(hex(record_hash), ',' ORDER BY record_hash))), "
            "unhex(md5(string_agg(hex(content_hash), ',' ORDER BY content_hash))) FROM read_parquet($files) "
            "WHERE occurrenceID IS NOT NULL GROUP BY occurrenceID ORDER BY occurrenceID",
            params={"files": list(files)}).to_arrow_table()
    return pa.table([found.column(0).cast(pa.string()), found.column(1).cast(pa.binary(16)),
                     found.column(2).cast(pa.binary(16))], schema=HASH_SCHEMA)


def write_record_hashes(files: Sequence[str], target: Path) -> Path:
    """This run's record hashes (the batches' Parquet `files`) as one Parquet file at `target`, a batch at a time,
    written atomically (``PublicationDirectory.record_hashes(version)``): what the next run compares with."""
    with atomic_path(target) as temporary:
        with pq.ParquetWriter(temporary, HASH_SCHEMA, compression="zstd") as writer:
            for file in files:
                writer.write_table(pq.read_table(file).select(HASH_SCHEMA.names).cast(HASH_SCHEMA))
    return target



def _archive_files(bundle: zipfile.ZipFile) -> tuple[str, list[tuple[str, str]]]:
    """(the core's data file, [(an extension's data file, its rowType)]) of an archive, from its meta.xml; an
    archive without one has the Occurrence core file alone (``occurrence.txt``)."""
    try:
        root = etree.fromstring(bundle.read("meta.xml"), etree.XMLParser(resolve_entities=False))
    except KeyError:
        return CORE_FILE, []
    ns = {"a": DWC_TEXT_NS}
    core = root.find("a:core/a:files/a:location", ns)
    extensions = [(element.findtext("a:files/a:location", namespaces=ns), element.get("rowType"))
                  for element in root.findall("a:extension", ns)]
    return (core.text if core is not None else CORE_FILE), [(loc, row) for loc, row in extensions if loc]


def _text_blocks(handle) -> Iterator[pa.Table]:
    """A data file of the archive (tab-separated, unquoted, one header line) as tables of text, a block at a time;
    an empty value is null."""
    names = handle.readline().decode("utf-8").rstrip("\r\n").split("\t")
    reader = pacsv.open_csv(handle, read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
                            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False,
                                                             newlines_in_values=False),
                            convert_options=pacsv.ConvertOptions(
                                column_types={name: pa.string() for name in names}, strings_can_be_null=True,
                                null_values=[""], quoted_strings_can_be_null=True))
    for batch in reader:
        yield pa.Table.from_batches([batch])


def hashes_from_archive(archive: Path, target: Path) -> Path:
    """The record hashes of a published version rebuilt from its archive, written atomically to `target`: for a
    version whose ``.state/`` file is gone (a publication folder copied without its hidden files, a version
    published before the hashes were kept), so the identifier guard and the change summary still compare with it.
    The core file (named by meta.xml: ``occurrence.txt``, ``event.txt``; its first column is the id) and each
    extension's rows (:func:`extension_hashes`, as a run makes them), streamed a block at a time. An empty value in
    the archive counts as no value, which is how the archive writes one: a record published with an empty string
    ('' rather than none) shows as changed once, never as added or removed."""
    from mobilise.extensions import extension

    with zipfile.ZipFile(archive) as bundle, atomic_path(target) as temporary:
        core_file, extensions = _archive_files(bundle)
        with pq.ParquetWriter(temporary, HASH_SCHEMA, compression="zstd") as writer:
            with bundle.open(core_file) as core:
                for table in _text_blocks(core):
                    names = [_ID] + table.column_names[1:]  # the core id (eventID of an Event core) as the id
                    writer.write_table(record_hashes(table.rename_columns(names), names))
            if extensions:
                with tempfile.TemporaryDirectory(prefix="mobilise-hashes-") as scratch:
                    for number, (location, row_type) in enumerate(extensions):
                        try:
                            name = extension(row_type).name
                        except ValueError:
                            name = location.rsplit(".", 1)[0]
                        files = []
                        with bundle.open(location) as rows:
                            for index, table in enumerate(_text_blocks(rows)):
                                names = ["coreid"] + table.column_names[1:]
                                files.append(f"{scratch}/{number}-{index}.parquet")
                                pq.write_table(extension_row_hashes(table.rename_columns(names), name), files[-1])
                        writer.write_table(extension_hashes(files, Path(scratch)))
    return target

# --- the comparison ------------------------------------------------------------------------------------------------

class RenamedRecord(BaseModel):
    """A removed record published again under another occurrenceID, every other term unchanged."""

    previous: str
    current: str


class ChangeSummary(BaseModel):
    """This run's published records against the last version's, by occurrenceID (as written) and record hash.

    ``previous_version`` None: no version yet (every record is added). ``removed_share`` is removed /
    ``previous_records`` (the occurrenceIDs of the last version), 0 when there were none. The id samples hold at
    most :data:`SAMPLE_IDS` ids each, the smallest first. When records were removed: ``renamed`` of them reappear
    unchanged under a new occurrenceID (examples in ``renamed_examples``), ``now_rejected`` of them are in this
    run's quarantine, ``now_excluded`` of them were excluded by the dataset's rules (mappers/rules.py), and ``causes`` names the likely causes in words (filled in by :func:`diagnose`)."""

    previous_version: str | None = None
    previous_records: int = 0
    records: int = 0  # the occurrenceIDs published by this run
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0
    removed_share: float = 0.0
    added_ids: list[str] = Field(default_factory=list)
    removed_ids: list[str] = Field(default_factory=list)
    changed_ids: list[str] = Field(default_factory=list)
    renamed: int = 0
    renamed_examples: list[RenamedRecord] = Field(default_factory=list)
    now_rejected: int = 0
    now_excluded: int = 0  # removed records this run's filters or sensitive.exclude_when kept out
    causes: list[str] = Field(default_factory=list)
    deleted: int = 0  # of the removed, records whose key is gone from the source (a deletion reconciliation)
    metadata_changed: bool = False  # no record changed, but the metadata (EML) or the archive's columns did

    @property
    def data_unchanged(self) -> bool:
        """No record added, removed or changed since a previous version."""
        return self.previous_version is not None and not (self.added or self.removed or self.changed)


def _connect(spill_directory: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill_directory)})


def _ids(connection: duckdb.DuckDBPyConnection, name: str, files: Sequence[str]) -> None:
    """A temporary table `name`: one row per occurrenceID of `files` with its hashes. An id several rows use (only
    when OCCURRENCE_ID_NOT_UNIQUE is not an error) gets its smallest and largest hash and its row count, so any
    change shows; grouping is done only then, as it costs several times the plain read."""
    if not files:
        connection.execute(f"CREATE TEMP TABLE {name} (id VARCHAR, low BLOB, high BLOB, n BIGINT, content BLOB)")
        return
    connection.execute(
        f"CREATE TEMP TABLE {name} AS SELECT occurrenceID AS id, record_hash AS low, record_hash AS high, 1 AS n, "
        f"content_hash AS content FROM read_parquet($files) WHERE occurrenceID IS NOT NULL", {"files": list(files)})
    if connection.execute(f"SELECT count(*) > count(DISTINCT id) FROM {name}").fetchone()[0]:
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT id, min(low) AS low, max(high) AS high, "
                           f"count(*) AS n, min(content) AS content FROM {name} GROUP BY id")


def compare(current: Sequence[str], previous: Path | None, previous_version: str | None, spill_directory: Path,
            quarantine: Sequence[str] = (), excluded: Sequence[str] = ()) -> ChangeSummary:
    """This run's record hashes (the Parquet `current` files) against the last version's file `previous` (None:
    no version yet); `quarantine` this run's quarantine Parquet files (for ``now_rejected``), `excluded` its
    excluded ones (for ``now_excluded``)."""
    with _connect(spill_directory) as connection:
        _ids(connection, "now", current)
        _ids(connection, "before", [str(previous)] if previous is not None else [])
        connection.execute(
            "CREATE TEMP TABLE diff AS SELECT coalesce(now.id, before.id) AS id, CASE "
            "WHEN before.id IS NULL THEN 'added' WHEN now.id IS NULL THEN 'removed' "
            "WHEN now.low = before.low AND now.high = before.high AND now.n = before.n THEN 'unchanged' "
            "ELSE 'changed' END AS status, now.content AS content_now, before.content AS content_before "
            "FROM now FULL OUTER JOIN before ON now.id = before.id")
        counts = dict(connection.execute("SELECT status, count(*) FROM diff GROUP BY status").fetchall())

        def sample(status: str) -> list[str]:
            return [row[0] for row in connection.execute(
                "SELECT id FROM diff WHERE status = $status ORDER BY id LIMIT $limit",
                {"status": status, "limit": SAMPLE_IDS}).fetchall()]

        summary = ChangeSummary(
            previous_version=previous_version if previous is not None else None,
            previous_records=counts.get("removed", 0) + counts.get("changed", 0) + counts.get("unchanged", 0),
            records=counts.get("added", 0) + counts.get("changed", 0) + counts.get("unchanged", 0),
            added=counts.get("added", 0), removed=counts.get("removed", 0), changed=counts.get("changed", 0),
            unchanged=counts.get("unchanged", 0),
            added_ids=sample("added"), removed_ids=sample("removed"), changed_ids=sample("changed"))
        if summary.previous_records:
            summary.removed_share = summary.removed / summary.previous_records
        if summary.removed:
            # removed records published again under another id: the same content as an added record
            renamed = connection.execute(
                "WITH added AS (SELECT content_now AS content, min(id) AS id FROM diff WHERE status = 'added' "
                "GROUP BY content_now) SELECT removed.id, added.id FROM diff AS removed "
                "JOIN added ON added.content = removed.content_before WHERE removed.status = 'removed' "
                "ORDER BY removed.id").fetchall() if summary.added else []
            summary.renamed = len(renamed)
            summary.renamed_examples = [RenamedRecord(previous=old, current=new)
                                        for old, new in renamed[:RENAMED_EXAMPLES]]
            for files, count in ((quarantine, "now_rejected"), (excluded, "now_excluded")):
                if files:
                    setattr(summary, count, connection.execute(
                        "SELECT count(*) FROM diff WHERE status = 'removed' AND id IN "
                        "(SELECT occurrenceID FROM read_parquet($files, union_by_name = true))",
                        {"files": list(files)}).fetchone()[0])
    return summary


def diagnose(summary: ChangeSummary, extracted: int, previous_extracted: int | None) -> ChangeSummary:
    """``causes``: the likely causes of the removed occurrenceIDs, in words a data manager acts on, most likely
    first; `extracted` the records this run's source returned, `previous_extracted` those of the last version
    (published + rejected; None: unknown)."""
    causes = []
    if not summary.removed:
        return summary.model_copy(update={"causes": []})
    if summary.renamed:
        example = summary.renamed_examples[0]
        causes.append(f"the occurrenceID template (or the column it is made from) changed: {summary.renamed:,} of "
                      f"the {summary.removed:,} removed records are published again, every other term unchanged, "
                      f"under a new occurrenceID (e.g. {example.previous!r} is now {example.current!r}); GBIF "
                      f"would give them new GBIF ids unless it is sent a table of old and new occurrenceIDs")
    if previous_extracted is not None and extracted < previous_extracted:
        causes.append(f"the source returned fewer records: {extracted:,} against {previous_extracted:,} for version "
                      f"{summary.previous_version} (a changed query or filter, or a source that returned less)")
    if summary.now_rejected:
        causes.append(f"{summary.now_rejected:,} of the removed records are now rejected (their reasons are in the "
                      f"quarantine file)")
    if summary.now_excluded:
        causes.append(f"{summary.now_excluded:,} of the removed records are now excluded by the dataset's rules "
                      f"(filters, sensitive.exclude_when; listed with their rule in the excluded file)")
    if not causes:
        causes.append("the removed records are neither rejected nor published under another occurrenceID and the "
                      "source returned as many records: their occurrenceIDs changed in the source in a way that "
                      "also changed other terms, or the records were replaced")
    return summary.model_copy(update={"causes": causes})


def identifier_gate(limit: float | None, summary: ChangeSummary | None, accepted: bool = False) -> Gate | None:
    """The guard before GBIF's occurrenceID check: fails when more than `limit` of the last version's
    occurrenceIDs are gone (``gates.max_removed_ids_share``), unless a data manager `accepted` it for this run
    (``mobilise run --accept-id-changes``). None when there is no limit or no previous version to compare with."""
    if limit is None or summary is None or summary.previous_version is None:
        return None
    share = summary.removed_share
    detail = (f"{share:.1%} of the {summary.previous_records:,} occurrenceIDs of version {summary.previous_version} "
              f"are gone ({summary.removed:,}; limit {limit:.0%})")
    passed = share <= limit
    if not passed and accepted:
        detail += "; accepted for this run (--accept-id-changes)"
    elif not passed:
        detail += ("; likely cause: " + "; ".join(summary.causes) if summary.causes else "") + (
            ". If this is intended, run again with --accept-id-changes")
    return Gate(name="max_removed_ids_share", passed=passed or accepted, detail=detail)


# --- unchanged input -----------------------------------------------------------------------------------------------

#: what differs between two versions' EML when the metadata did not change (paths from the root ``eml:eml``): its
#: packageId attribute (``<uuid>/v1.2``: the version), the publication date and GBIF's dateStamp (when the EML was
#: written). Everything else, the coverage inferred from the data included, must be equal.
EML_VERSION_ATTRIBUTES = ("packageId",)
EML_VERSION_ELEMENTS = ("dataset/pubDate", "additionalMetadata/metadata/gbif/dateStamp")


def _comparable_eml(eml: bytes) -> bytes:
    """`eml` without its version fields (:data:`EML_VERSION_ATTRIBUTES`, :data:`EML_VERSION_ELEMENTS`), as canonical
    XML (C14N 2.0), blank text between elements ignored."""
    from lxml import etree

    root = etree.fromstring(eml, etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True))
    for name in EML_VERSION_ATTRIBUTES:
        root.attrib.pop(name, None)
    for path in EML_VERSION_ELEMENTS:
        for element in root.findall(path):
            element.text = None
    return etree.tostring(root, method="c14n2")


def metadata_unchanged(current_archive: Path, eml: bytes, meta: bytes) -> bool:
    """Whether the archive at `current_archive` (the current ``dwca.zip``) has the same metadata as the version
    about to be written: its meta.xml equal to `meta` (the same columns) and its eml.xml equal to `eml` but for
    its version fields (:func:`_comparable_eml`). False when there is no current archive or it cannot be read."""
    import zipfile

    try:
        with zipfile.ZipFile(current_archive) as archive:
            current_meta, current_eml = archive.read("meta.xml"), archive.read("eml.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return current_meta == meta and _comparable_eml(current_eml) == _comparable_eml(eml)
