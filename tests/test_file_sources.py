"""File sources (issue 10, item 4): CSV and TSV files, Excel workbooks and Darwin Core Archives read as text batches,
their errors named by file and line, and a whole run from a CSV file to a published archive."""
from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pyarrow as pa
import pytest
from dwca.read import DwCAReader
from openpyxl import Workbook

from mobilise.extractors.base import UNDECODABLE_COLUMN, SourceError, extract_batches, extractor_for
from mobilise.extractors.files import cell_text, plain_number
from mobilise.settings import ConfigError, SourceConfig, load_config
from tests.pipeline_helpers import read_core_with_pandas, read_quarantine, run_stages

DWC = "http://rs.tdwg.org/dwc/terms/"


def _rows(source: SourceConfig) -> list[dict]:
    """Every row the source yields, without the undecodable-marks column (checked to be empty)."""
    rows = []
    for batch in extract_batches(source):
        assert batch.num_rows <= source.batch_size
        assert all(pa.types.is_string(field.type) for field in batch.schema)
        assert batch.column(UNDECODABLE_COLUMN).null_count == batch.num_rows
        rows += batch.drop_columns([UNDECODABLE_COLUMN]).to_pylist()
    return rows


def _failure(source: SourceConfig) -> str:
    with pytest.raises(SourceError) as caught:
        _rows(source)
    assert caught.value.__cause__ is None and caught.value.source == source.safe_url
    return str(caught.value)


# --- CSV and TSV ---------------------------------------------------------------------------------------------------

# A legacy export: Windows-1252, ';' delimited, a title line before the header, a quoted value spanning two lines
# with the delimiter and doubled quotes in it, an empty line, and empty values (unquoted and quoted).
LEGACY_CSV = ('Export of the mollusc collection\r\n'
              'number;locality;remarks;count\r\n'
              'MOL-1;Liège;"shell broken;\r\nsee ""photo"" 2";3\r\n'
              '\r\n'
              'MOL-2;Gérardmer;;""\r\n'
              'MOL-3;Côte d’Ivoire;€ 5 paid;12\r\n')


def test_csv_in_cp1252_with_quoted_fields_spanning_lines_in_bounded_batches(tmp_path):
    path = tmp_path / "molluscs.csv"
    path.write_bytes(LEGACY_CSV.encode("cp1252"))
    source = SourceConfig(path=path, delimiter=";", encoding="cp1252", header_row=2, batch_size=2)
    assert source.file_format == "csv" and extractor_for(source).__name__ == "extract_delimited"
    batches = list(extract_batches(source))
    assert [batch.num_rows for batch in batches] == [2, 1]
    assert _rows(source) == [
        {"number": "MOL-1", "locality": "Liège", "remarks": 'shell broken;\r\nsee "photo" 2', "count": "3"},
        {"number": "MOL-2", "locality": "Gérardmer", "remarks": None, "count": None},  # empty -> null
        {"number": "MOL-3", "locality": "Côte d’Ivoire", "remarks": "€ 5 paid", "count": "12"}]


def test_a_utf8_byte_order_mark_is_skipped_and_a_wrong_declaration_named(tmp_path):
    path = tmp_path / "excel-export.csv"
    path.write_bytes("\ufeffid,name\n1,Liège\n".encode("utf-8"))
    for encoding in (None, "utf-8", "utf-8-sig"):
        assert _rows(SourceConfig(path=path, encoding=encoding)) == [{"id": "1", "name": "Liège"}]
    message = _failure(SourceConfig(path=path, encoding="cp1252"))
    assert message == (f"source {path}: line 1: the file starts with a UTF-8 byte-order mark, but its encoding is "
                       f"declared as cp1252: the file is UTF-8 (remove 'encoding', or write encoding: utf-8-sig)")


def test_tsv_by_suffix_and_utf16_as_excel_saves_unicode_text(tmp_path):
    path = tmp_path / "specimens.tsv"
    path.write_text('id\tname\tnote\n1\tPuma concolor\t"a\ttab"\n2\t\tx\n', encoding="utf-8")
    source = SourceConfig(path=path)
    assert source.format is None and source.file_format == "tsv"
    assert _rows(source) == [{"id": "1", "name": "Puma concolor", "note": "a\ttab"},
                             {"id": "2", "name": None, "note": "x"}]
    unicode_text = tmp_path / "unicode.txt"  # Excel's "Unicode Text": UTF-16 with a byte-order mark, tabs
    unicode_text.write_bytes("id\tname\n1\tŁódź\n".encode("utf-16"))
    assert _rows(SourceConfig(path=unicode_text, encoding="utf-16")) == [{"id": "1", "name": "Łódź"}]


def test_a_large_csv_streams_in_batches_of_the_batch_size_across_parse_blocks(tmp_path, monkeypatch):
    from mobilise.extractors import files

    monkeypatch.setattr(files, "BLOCK_SIZE", 4096)  # many blocks, records with line breaks across their edges
    path = tmp_path / "large.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("id,remarks\n")
        for number in range(5003):
            handle.write(f'{number},"line one of {number}\nline two"\n' if number % 7 == 0 else f"{number},\n")
    source = SourceConfig(path=path, batch_size=1000)
    batches = list(extract_batches(source))
    assert [batch.num_rows for batch in batches] == [1000] * 5 + [3]
    rows = [row for batch in batches for row in batch.drop_columns([UNDECODABLE_COLUMN]).to_pylist()]
    assert [row["id"] for row in rows] == [str(number) for number in range(5003)]
    assert rows[4998] == {"id": "4998", "remarks": "line one of 4998\nline two"} and rows[4999]["remarks"] is None


def test_unnamed_columns_are_numbered_and_a_name_given_twice_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,,name\n1,x,y\n", encoding="utf-8")
    assert _rows(SourceConfig(path=path)) == [{"id": "1", "column_2": "x", "name": "y"}]
    path.write_text("id,name,id\n1,x,y\n", encoding="utf-8")
    assert _failure(SourceConfig(path=path)) == (
        f"source {path}: the header names the column 'id' twice (columns 1 and 3): give each column a name of its own")


def test_csv_errors_name_the_line(tmp_path):
    path = tmp_path / "specimens.csv"
    path.write_bytes(b'id,name,remarks\n1,a,"two\nlines"\n2,b,c\n3,d,e,f\n')
    assert _failure(SourceConfig(path=path)) == (
        f"source {path}: line 5: 4 fields where the header (line 1) has 3 (a value holding the delimiter ',' must "
        f"be quoted with '\"')")
    path.write_bytes(b'id,name\n1,a\n2\n')
    assert "line 3: 1 fields where the header (line 1) has 2 (a missing delimiter" in _failure(SourceConfig(path=path))
    path.write_bytes(b'id,name\n1,ok\n2,Li\xe8ge\n')  # Latin-1 bytes in a file read as UTF-8
    assert _failure(SourceConfig(path=path)) == (
        f"source {path}: line 3: byte 0xe8 cannot be decoded as utf-8 (declare the file's encoding, e.g. "
        f"encoding: cp1252 or latin-1)")
    path.write_bytes(b'id,name\n1,ok\n2,\x81\n')  # 0x81 is not a cp1252 character
    assert _failure(SourceConfig(path=path, encoding="cp1252")).endswith(
        "line 3: byte 0x81 cannot be decoded as cp1252 (is the file in another encoding, e.g. utf-8 or latin-1?)")
    path.write_bytes(b'id,name\n1,"Sart-Tilman\n2,Gent\n3,Leiden\n')  # the rest of the file in one value
    assert _failure(SourceConfig(path=path)) == (
        f"source {path}: line 2: a quote (\") opened in this record is never closed, so the rest of the file would "
        f"be one value (close it, or write quote_char: '' if the file does not quote its values)")
    assert _rows(SourceConfig(path=path, quote_char="")) == [
        {"id": "1", "name": '"Sart-Tilman'}, {"id": "2", "name": "Gent"}, {"id": "3", "name": "Leiden"}]
    path.write_bytes(b"")
    assert _failure(SourceConfig(path=path)).endswith("the file is empty: not even a line of column names")
    path.write_bytes(b"id,name\n")
    assert _rows(SourceConfig(path=path)) == []
    assert _failure(SourceConfig(path=path, header_row=3)).endswith(
        "the file has fewer than 3 lines, so no header on line 3 (header_row)")
    missing = tmp_path / "nothere.csv"
    assert _failure(SourceConfig(path=missing)) == f"source.path: the file {missing} does not exist"


# --- Excel ---------------------------------------------------------------------------------------------------------

def _workbook(path: Path) -> Path:
    """A lab's workbook: a notes sheet first, then the specimens with dates, integers, floats, empty cells, a
    merged cell, an unnamed column and an empty row."""
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Read me"
    notes.append(["Collected by the lab, 1998-2021"])
    sheet = workbook.create_sheet("Specimens")
    sheet.append(["Number", "Collected", "Count", "Length mm", "Habitat", None, "Seen at"])
    sheet.append(["L-1", datetime(2021, 3, 4), 12, 12.0, "dune", "x", datetime(2021, 3, 4, 14, 30)])
    sheet.append(["L-2", date(1998, 4, 1), 3, 0.1 + 0.2, None, None, time(9, 5)])
    sheet.append([None] * 7)  # an empty row is skipped
    sheet.append(["L-3", None, 1e-05, 1.5e20, "heath", None, True])
    sheet.append(["L-4", datetime(2020, 1, 2, 8, 0), -7, -2.5, None, None, None])
    sheet.merge_cells("E5:E6")  # "heath" over L-3 and L-4
    sheet["B6"].number_format = "dd/mm/yyyy"  # a person sees the date only
    sheet["G3"].number_format = "h:mm"
    workbook.save(path)
    return path


EXPECTED_SPECIMENS = [
    {"Number": "L-1", "Collected": "2021-03-04", "Count": "12", "Length mm": "12", "Habitat": "dune",
     "column_6": "x", "Seen at": "2021-03-04T14:30:00"},
    {"Number": "L-2", "Collected": "1998-04-01", "Count": "3", "Length mm": "0.3", "Habitat": None,
     "column_6": None, "Seen at": "09:05:00"},
    {"Number": "L-3", "Collected": None, "Count": "0.00001", "Length mm": "150000000000000000000",
     "Habitat": "heath", "column_6": None, "Seen at": "TRUE"},
    {"Number": "L-4", "Collected": "2020-01-02", "Count": "-7", "Length mm": "-2.5",
     "Habitat": None, "column_6": None, "Seen at": None},  # the merged cell's value is in its top-left cell only
]


def test_an_excel_sheet_by_name_and_by_index_reads_as_a_person_sees_it(tmp_path):
    path = _workbook(tmp_path / "lab.xlsx")
    by_name = SourceConfig(path=path, sheet="Specimens", batch_size=3)
    assert by_name.file_format == "excel"
    assert [batch.num_rows for batch in extract_batches(by_name)] == [3, 1]
    assert _rows(by_name) == EXPECTED_SPECIMENS
    assert _rows(SourceConfig(path=path, sheet=1)) == EXPECTED_SPECIMENS
    assert _rows(SourceConfig(path=path)) == []  # the first sheet: a header and nothing else


def test_excel_header_row_and_errors(tmp_path):
    path = _workbook(tmp_path / "lab.xlsx")
    assert _rows(SourceConfig(path=path, sheet="Specimens", header_row=3))[0]["L-2"] == "L-3"
    assert _failure(SourceConfig(path=path, sheet="specimens")) == (
        f"source {path}: no sheet named 'specimens' (did you mean 'Specimens'?); the workbook's sheets are "
        f"0: 'Read me', 1: 'Specimens'")
    assert _failure(SourceConfig(path=path, sheet=2)) == (
        f"source {path}: sheet 2: the workbook has 2 sheet(s), numbered from 0 (0: 'Read me', 1: 'Specimens')")
    year = tmp_path / "years.xlsx"
    workbook = Workbook()
    workbook.active.title = "2019"
    workbook.save(year)
    assert _failure(SourceConfig(path=year, sheet=2019)).endswith(
        "sheet 2019: the workbook has 1 sheet(s), numbered from 0 (0: '2019'); the sheet named '2019' is "
        "sheet: '2019', in quotes")
    assert _failure(SourceConfig(path=path, sheet="Read me", header_row=3)) == (
        f"source {path}: sheet 'Read me', row 3: no column names (the header row is empty; set header_row to the "
        f"row holding them)")
    workbook = Workbook()
    workbook.active.append(["id", "name"])
    workbook.active.append(["1", "a", None, "stray note"])
    workbook.save(path)
    assert _failure(SourceConfig(path=path)) == (
        f"source {path}: sheet 'Sheet', row 2: cell D2 holds 'stray note' but its column has no name in the header "
        f"(row 1): name the column, or clear the cell")
    not_a_workbook = tmp_path / "fake.xlsx"
    not_a_workbook.write_text("id,name\n", encoding="utf-8")
    assert "not an Excel workbook that can be read" in _failure(SourceConfig(path=not_a_workbook))


@pytest.mark.parametrize("value, number_format, text", [
    (12.0, None, "12"), (0.1 + 0.2, None, "0.3"), (1e-05, None, "0.00001"), (-1234.5678, None, "-1234.5678"),
    (123456789012345678.0, None, "123456789012346000"), (0.0, None, "0"), (7, None, "7"),
    (datetime(2021, 3, 4), "yyyy-mm-dd h:mm:ss", "2021-03-04"), (datetime(2021, 3, 4, 9, 0), "d/m/yy", "2021-03-04"),
    (datetime(2021, 3, 4, 9, 0), "yyyy-mm-dd hh:mm", "2021-03-04T09:00:00"), (time(23, 59, 1), "h:mm:ss", "23:59:01"),
    (False, None, "FALSE"), ("", None, None), (" text ", None, " text "), ("#N/A", None, "#N/A")])
def test_the_cell_rule(value, number_format, text):
    assert cell_text(value, number_format) == text


def test_plain_numbers_never_use_an_exponent():
    assert [plain_number(v) for v in (1e-10, 2.5e-7, 1e16, 6.02214076e23)] == [
        "0.0000000001", "0.00000025", "10000000000000000", "602214076000000000000000"]


# --- Darwin Core Archive -------------------------------------------------------------------------------------------

META = """<?xml version="1.0" encoding="UTF-8"?>
<archive xmlns="http://rs.tdwg.org/dwc/text/" metadata="eml.xml">
  <core encoding="UTF-8" fieldsTerminatedBy="\\t" linesTerminatedBy="\\n" fieldsEnclosedBy="" ignoreHeaderLines="1"
        rowType="http://rs.tdwg.org/dwc/terms/Occurrence">
    <files><location>occurrence.txt</location></files>
    <id index="0"/>
    <field index="0" term="http://rs.tdwg.org/dwc/terms/occurrenceID"/>
    <field index="1" term="http://rs.tdwg.org/dwc/terms/scientificName"/>
    <field index="2" term="http://rs.tdwg.org/dwc/terms/locality"/>
    <field index="3" term="http://purl.org/dc/terms/type"/>
    <field index="4" term="http://purl.org/dc/elements/1.1/type"/>
    <field term="http://rs.tdwg.org/dwc/terms/basisOfRecord" default="PreservedSpecimen"/>
  </core>
  <extension encoding="UTF-8" fieldsTerminatedBy="\\t" linesTerminatedBy="\\n" fieldsEnclosedBy=""
             ignoreHeaderLines="1" rowType="http://rs.gbif.org/terms/1.0/Multimedia">
    <files><location>multimedia.txt</location></files>
    <coreid index="0"/>
    <field index="1" term="http://purl.org/dc/terms/identifier"/>
    <field index="2" term="http://purl.org/dc/terms/format"/>
  </extension>
</archive>
"""


@pytest.fixture
def archive(tmp_path) -> Path:
    path = tmp_path / "existing-dwca.zip"
    with zipfile.ZipFile(path, "w") as handle:
        handle.writestr("meta.xml", META)
        handle.writestr("occurrence.txt", "occurrenceID\tscientificName\tlocality\ttype\ttype\n"
                                          "urn:1\tPuma concolor\tGent\tPhysicalObject\t\n"
                                          "urn:2\tLynx lynx\t\t\tspecimen\n")
        handle.writestr("multimedia.txt", "coreid\tidentifier\tformat\n"
                                          "urn:1\thttps://img.example.org/1.jpg\timage/jpeg\n"
                                          "urn:1\thttps://img.example.org/2.png\timage/png\n")
    return path


def test_an_archive_core_and_extension_as_sources(archive):
    core = SourceConfig(path=archive)
    assert core.file_format == "dwca"
    # a copy for another file (as children and extensions are made) has that file's format
    assert core.model_copy(update={"path": archive.with_suffix(".csv")}).file_format == "csv"
    assert _rows(core) == [
        {"id": "urn:1", "occurrenceID": "urn:1", "scientificName": "Puma concolor", "locality": "Gent",
         "http://purl.org/dc/terms/type": "PhysicalObject", "http://purl.org/dc/elements/1.1/type": None,
         "basisOfRecord": "PreservedSpecimen"},  # a default of meta.xml
        {"id": "urn:2", "occurrenceID": "urn:2", "scientificName": "Lynx lynx", "locality": None,
         "http://purl.org/dc/terms/type": None, "http://purl.org/dc/elements/1.1/type": "specimen",
         "basisOfRecord": "PreservedSpecimen"}]
    media = [{"coreid": "urn:1", "identifier": "https://img.example.org/1.jpg", "format": "image/jpeg"},
             {"coreid": "urn:1", "identifier": "https://img.example.org/2.png", "format": "image/png"}]
    for row_type in ("multimedia", "Multimedia", "http://rs.gbif.org/terms/1.0/Multimedia", "multimedia.txt"):
        assert _rows(SourceConfig(path=archive, row_type=row_type, batch_size=1)) == media
    assert _rows(SourceConfig(path=archive, row_type="Occurrence")) == _rows(core)
    assert _failure(SourceConfig(path=archive, row_type="identification")) == (
        f"source {archive}: the archive has no file for row_type 'identification': its core is "
        f"http://rs.tdwg.org/dwc/terms/Occurrence (occurrence.txt), its extensions "
        f"http://rs.gbif.org/terms/1.0/Multimedia (multimedia.txt)")
    broken = archive.with_name("broken.zip")
    broken.write_bytes(b"not a zip")
    assert "not a Darwin Core Archive that can be read" in _failure(SourceConfig(path=broken))


# --- the config ----------------------------------------------------------------------------------------------------

CONFIG = """\
source:
  path: {path}
{source}metadata:
  title: Lab molluscs
  shortname: {shortname}
  abstract: The molluscs of a lab, kept in a spreadsheet.
  licence: CC-BY-4.0
  creators: [{{organisation: Example Lab}}]
  contacts: [{{surname: Smith}}]
output:
  directory: out
mapping:
{mapping}"""
FROM_CSV = """\
  occurrenceID: {template: "urn:catalog:LAB:MOL:{number}"}
  basisOfRecord: {constant: PreservedSpecimen}
  institutionCode: {constant: LAB}
  collectionCode: {constant: MOL}
  catalogNumber: number
  scientificName: name
  eventDate: date
  countryCode: country
  locality: locality
  occurrenceRemarks: remarks
"""
FROM_ARCHIVE = """\
  occurrenceID: id
  basisOfRecord: basisOfRecord
  institutionCode: institutionCode
  collectionCode: collectionCode
  catalogNumber: catalogNumber
  scientificName: scientificName
  eventDate: eventDate
  countryCode: countryCode
  locality: locality
  occurrenceRemarks: occurrenceRemarks
"""


def _config(folder: Path, path: str | Path, source: str = "", shortname: str = "lab-molluscs",
            mapping: str = FROM_CSV) -> Path:
    config = folder / "lab.yaml"
    config.write_text(CONFIG.format(path=path, source=source, shortname=shortname, mapping=mapping),
                      encoding="utf-8")
    return config


@pytest.mark.parametrize("source, line, key, message", [
    ("  query: SELECT * FROM specimen\n", 3, "source.query",
     "'query' applies to database sources (url: ...), not to files; a file is read whole, with no SQL to run "
     "(remove 'query')"),
    ("  partition: {column: id}\n", 3, "source.partition",
     "'partition' applies to database sources (url: ...), not to files; partitions are key ranges of a database "
     "query, and a file is read by one reader"),
    ("  engine: adbc\n", 3, "source.engine",
     "'engine' applies to database sources (url: ...), not to files; the engines read databases; files have their "
     "own readers (remove 'engine')"),
    ("  sheet: Specimens\n", 3, "source.sheet", "'sheet' applies to excel files, and this source is csv"),
    ("  delimiter: ';;'\n", 3, "source.delimiter",
     "delimiter must be one character (e.g. ';', '|' or '\\t' for a tab), not ';;'"),
    ("  url: sqlite:///x.sqlite\n", 1, "source",
     "give exactly one of 'url' (a database) or 'path' (a CSV, TSV, Excel or Darwin Core Archive file)"),
])
def test_settings_a_file_cannot_honour_name_their_line(tmp_path, source, line, key, message):
    config = _config(tmp_path, "specimens.csv", source)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert f"  {config}:{line}: {key}: {message}" in str(caught.value).splitlines()


def test_a_suffix_that_names_no_format_is_said_at_the_path(tmp_path):
    for name, message in (("specimens.dat", "cannot tell the format of specimens.dat from its suffix (.csv, .tsv, "
                                            ".tab, .txt, .xlsx, .xlsm, .zip): add format: csv | tsv | excel | dwca"),
                          ("lab.xls", "lab.xls: the old binary Excel format (.xls) is not read; save the workbook as "
                                      ".xlsx (Excel: File > Save As > Excel Workbook)")):
        config = _config(tmp_path, name)
        with pytest.raises(ConfigError) as caught:
            load_config(config)
        assert f"  {config}:2: source.path: {message}" in str(caught.value).splitlines()
    assert load_config(_config(tmp_path, "specimens.dat", "  format: tsv\n")).source.file_format == "tsv"


# --- a whole run ---------------------------------------------------------------------------------------------------

SPECIMENS_CSV = ('number;name;date;country;locality;remarks\n'
                 '1;Cepaea nemoralis;2019-05-04;BE;Liège, "Sart-Tilman";"found under a log;\nshell intact"\n'
                 '2;Helix pomatia;1998-04;FR;Gérardmer;\n'
                 '3;Arion ater;2021-13-45;NL;Leiden;a date that cannot be\n'
                 '4;Cepaea hortensis;;DE;Köln;"two\n\nlines"\n'
                 '5;Cornu aspersum;2020-06-30;XX;Nowhere;\n'
                 '2;Helix pomatia;1999;FR;Gérardmer;catalogue number given twice\n')


def test_a_run_from_a_csv_file_publishes_an_archive_that_can_be_read_again_as_a_source(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "specimens.csv").write_bytes(SPECIMENS_CSV.encode("cp1252"))
    config = load_config(_config(tmp_path, "data/specimens.csv", '  delimiter: ";"\n  encoding: cp1252\n'
                                                                  "  batch_size: 2\n"))
    assert config.source.path == data / "specimens.csv"  # relative to the config file
    config.validation.bdq.enabled = False
    result = run_stages(config)
    # every record accounted for: the two records sharing catalogue number 2 (one occurrenceID) are kept out
    assert (result.extracted, result.records, result.rejected) == (6, 4, 2)
    quarantine = read_quarantine(result.quarantine)
    assert sorted(quarantine["catalogNumber"]) == ["2", "2"] and set(quarantine["eventDate"]) == {"1998-04", "1999"}
    assert quarantine["reasons"].str.startswith("OCCURRENCE_ID_NOT_UNIQUE").all()
    assert result.issues["RECORDED_DATE_INVALID"] == 1 and result.issues["COUNTRY_INVALID"] == 1
    frame = read_core_with_pandas(result.archive).set_index("catalogNumber")
    assert list(frame.index) == ["1", "3", "4", "5"]
    assert frame.loc["1", "locality"] == 'Liège, "Sart-Tilman"'
    assert frame.loc["1", "occurrenceRemarks"] == "found under a log; shell intact"  # line breaks: one space
    assert frame.loc["3", "eventDate"] == "" and frame.loc["3", "verbatimEventDate"] == "2021-13-45"
    assert frame.loc["4", "locality"] == "Köln" and frame.loc["5", "countryCode"] == ""

    # the published archive as the source of another dataset: re-map, validate and re-publish it
    republish = tmp_path / "again"
    republish.mkdir()
    config_path = _config(republish, result.archive, shortname="lab-molluscs-again", mapping=FROM_ARCHIVE)
    again = load_config(config_path)
    again.validation.bdq.enabled = False
    second = run_stages(again)
    assert second.extracted == result.records and second.records == result.records
    with DwCAReader(second.archive) as reader:
        assert sorted(row.data[DWC + "occurrenceID"] for row in reader) == sorted(frame["occurrenceID"])
