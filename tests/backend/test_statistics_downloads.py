"""The statistics downloads (backend.statistics.downloads): the CSV file and the ODS workbook of a
hand-made Report read back with the csv module and with odfpy, as an analyst's tools would read them."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace

import pytest
from odf import teletype
from odf.dc import Language, Title
from odf.namespaces import TABLENS
from odf.opendocument import load
from odf.table import DatabaseRange, Table, TableCell, TableHeaderRows, TableRow
from odf.text import A

from backend.statistics import downloads
from backend.statistics.downloads import (CSV_ENCODING, SHEET_NAME_MAX, SYMBOLS, file_name, sheet_names, table_csv,
                                          to_csv, to_ods)
from backend.statistics.report import Report, Row, StatTable
from tests.backend.statistics_reports import (ARABIC, BY_AGE, DECISIONS, EMPTY, FORMULA_LABEL, REPORT,
                                              SUPPRESSION_NOTE, WELSH)


def expected_cells(table: StatTable) -> list[list[str]]:
    """The header and rows as a CSV reader gives them back: text, None as "[z]", formulas disarmed."""
    def text(value) -> str:
        value = "[z]" if value is None else str(value)
        return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value

    return [[text(table.row_heading), *map(text, table.columns)],
            *([text(row.label), *map(text, row.cells)] for row in table.rows)]


def csv_lines(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.encode(CSV_ENCODING).decode(CSV_ENCODING), newline="")))


def block(lines: list[list[str]], table: StatTable) -> list[list[str]]:
    """The lines of one table's block in a whole-report CSV, up to the blank line after it."""
    start = lines.index([table.id, table.title])
    end = lines.index([], start)
    return lines[start:end]


# --- CSV ----------------------------------------------------------------------------------------

def test_csv_gives_back_every_table_cell_for_cell_through_the_csv_module():
    lines = csv_lines(to_csv(REPORT))
    for table in REPORT.tables:
        found = block(lines, table)
        header_at = found.index([table.row_heading, *table.columns])
        assert found[header_at:] == expected_cells(table)


def test_csv_table_block_has_its_id_title_notes_then_header_and_rows():
    lines = csv_lines(table_csv(BY_AGE))
    assert lines[0] == [BY_AGE.id, BY_AGE.title]
    notes = [line[1] for line in lines if line[0] == "Note"]
    assert notes == [*BY_AGE.notes, SYMBOLS["<5"], SYMBOLS["[c]"]]
    assert lines[1 + len(notes):] == expected_cells(BY_AGE)


def test_csv_says_what_each_symbol_means_only_where_it_is_used():
    lines = csv_lines(to_csv(REPORT))
    assert ["Note", SYMBOLS["[z]"]] in block(lines, DECISIONS)
    assert ["Note", SYMBOLS["<5"]] not in block(lines, DECISIONS)
    assert not [line for line in block(lines, EMPTY) if line[0] == "Note"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_text_a_spreadsheet_would_run_as_a_formula_starts_with_an_apostrophe(start):
    dangerous = f"{start}HYPERLINK(\"http://example.org\")"
    table = StatTable(id="t", title=dangerous, series="nrm", row_heading=dangerous, columns=(dangerous,),
                      rows=(Row(dangerous, (-3,)),), notes=(dangerous,))
    lines = csv_lines(table_csv(table))
    assert lines == [["t", "'" + dangerous], ["Note", "'" + dangerous], ["'" + dangerous, "'" + dangerous],
                     ["'" + dangerous, "-3"]]  # a number stays a number, even a negative one


def test_csv_keeps_welsh_and_arabic_labels_and_starts_with_a_byte_order_mark_for_excel():
    data = to_csv(REPORT).encode(CSV_ENCODING)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    assert WELSH in text and ARABIC in text and "'" + FORMULA_LABEL in text


def test_csv_of_the_report_starts_with_its_title_and_period_and_ends_with_its_notes():
    lines = csv_lines(to_csv(REPORT))
    assert lines[:3] == [[REPORT.title], ["Period", "2026"], ["Figures as of", "2027-01-15"]]
    notes_at = lines.index(["Notes"])
    assert lines[notes_at + 1:] == [["Note", text] for text in REPORT.notes]


def test_csv_of_a_table_with_no_rows_is_its_title_and_header():
    assert csv_lines(table_csv(EMPTY)) == [[EMPTY.id, EMPTY.title], ["Nation", "Count"]]


def test_csv_puts_a_total_line_last_even_if_the_report_did_not():
    table = replace(BY_AGE, rows=(BY_AGE.rows[-1], *BY_AGE.rows[:-1]))
    assert csv_lines(table_csv(table))[-1][0] == "Total"


# --- ODS ----------------------------------------------------------------------------------------

def sheets(data: bytes) -> dict[str, list[list[TableCell]]]:
    document = load(io.BytesIO(data))
    return {table.getAttribute("name"): [row.getElementsByType(TableCell) for row in table.getElementsByType(TableRow)]
            for table in document.spreadsheet.getElementsByType(Table)}


def texts(rows: list[list[TableCell]]) -> list[list[str]]:
    return [[teletype.extractText(cell) for cell in row] for row in rows]


@pytest.fixture(scope="module")
def workbook() -> bytes:
    return to_ods(REPORT)


def test_ods_is_an_opendocument_spreadsheet_file(workbook):
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"


def test_ods_has_cover_contents_notes_then_a_sheet_a_table_each_titled_in_a1(workbook):
    found = sheets(workbook)
    assert list(found) == ["Cover", "Contents", "Notes", *sheet_names(REPORT.tables)]
    assert teletype.extractText(found["Cover"][0][0]) == REPORT.title
    assert texts(found["Contents"][:1]) == [["Contents"]]
    for name, table in zip(sheet_names(REPORT.tables), REPORT.tables):
        assert teletype.extractText(found[name][0][0]).startswith(table.title)


def test_ods_table_sheet_has_the_table_cell_for_cell_after_its_notes(workbook):
    for name, table in zip(sheet_names(REPORT.tables), REPORT.tables):
        rows = texts(sheets(workbook)[name])
        header_at = rows.index([table.row_heading, *table.columns])
        assert [line[0] for line in rows[1:header_at]][0].startswith("This worksheet contains one table.")
        expected = [[table.row_heading, *table.columns],
                    *([row.label, *("[z]" if cell is None else f"{cell:,}" if isinstance(cell, int) else str(cell)
                                    for cell in row.cells)] for row in table.rows)]
        assert rows[header_at:] == expected


def test_ods_counts_are_numeric_cells_and_symbols_and_labels_are_text(workbook):
    rows = sheets(workbook)[sheet_names(REPORT.tables)[0]]
    adult = next(row for row in rows if teletype.extractText(row[0]) == "Adult")
    assert [(cell.getAttribute("valuetype"), cell.getAttribute("value")) for cell in adult[1:]] == [
        ("float", "120"), ("float", "95"), ("float", "40"), ("float", "1234")]
    child = next(row for row in rows if teletype.extractText(row[0]) == "Child")
    assert child[2].getAttribute("valuetype") == "string" and teletype.extractText(child[2]) == "<5"
    median = next(row for row in sheets(workbook)[sheet_names(REPORT.tables)[3]]
                  if teletype.extractText(row[0]) == "Median days")
    assert median[1].getAttribute("value") == "4.5" and teletype.extractText(median[2]) == "[z]"


def test_ods_formula_like_label_is_a_text_cell_and_no_cell_has_a_formula(workbook):
    rows = sheets(workbook)[sheet_names(REPORT.tables)[0]]
    label = next(row[0] for row in rows if teletype.extractText(row[0]) == FORMULA_LABEL)
    assert label.getAttribute("valuetype") == "string"
    document = load(io.BytesIO(workbook))
    assert not [cell for cell in document.spreadsheet.getElementsByType(TableCell)
                if cell.attributes.get((TABLENS, "formula"))]


def test_ods_header_row_is_marked_as_the_header_of_a_database_range(workbook):
    document = load(io.BytesIO(workbook))
    ranges = {item.getAttribute("targetrangeaddress"): item.getAttribute("containsheader")
              for item in document.spreadsheet.getElementsByType(DatabaseRange)}
    name = sheet_names(REPORT.tables)[0]
    header_row = 3 + len(BY_AGE.notes) + 2  # title, description, notes, two symbol notes
    assert ranges[f"'{name}'.A{header_row}:'{name}'.E{header_row + len(BY_AGE.rows)}"] == "true"
    sheet = next(table for table in document.spreadsheet.getElementsByType(Table)
                 if table.getAttribute("name") == name)
    (header,) = sheet.getElementsByType(TableHeaderRows)
    assert texts([header.getElementsByType(TableCell)]) == [[BY_AGE.row_heading, *BY_AGE.columns]]


def test_ods_contents_links_each_table_title_to_its_sheet(workbook):
    document = load(io.BytesIO(workbook))
    links = [(link.getAttribute("href"), teletype.extractText(link))
             for link in document.spreadsheet.getElementsByType(A)]
    assert links == [(f"#'{name}'.A1", name) for name in sheet_names(REPORT.tables)]
    contents = texts(sheets(to_ods(REPORT))["Contents"])
    assert contents[3:] == [[name, table.title] for name, table in zip(sheet_names(REPORT.tables), REPORT.tables)]


def test_ods_notes_are_numbered_once_and_each_table_title_refers_to_its_notes(workbook):
    found = sheets(workbook)
    notes = texts(found["Notes"])[3:]
    assert [text for _, text in notes] == [
        REPORT.notes[0], SUPPRESSION_NOTE, BY_AGE.notes[0], REPORT.tables[1].notes[0],
        SYMBOLS["<5"], SYMBOLS["[c]"], SYMBOLS["[z]"]]
    number = {text: ref for ref, text in notes}
    title = teletype.extractText(found[sheet_names(REPORT.tables)[0]][0][0])
    assert title == (f"{BY_AGE.title} {number[BY_AGE.notes[0]]} {number[SUPPRESSION_NOTE]} "
                     f"{number[SYMBOLS['<5']]} {number[SYMBOLS['[c]']]}")
    assert number[SUPPRESSION_NOTE] == "[note 2]"


def test_ods_cover_says_what_is_suppressed_and_why(workbook):
    cover = " ".join(line[0] for line in texts(sheets(workbook)["Cover"]))
    assert SYMBOLS["<5"] in cover and SYMBOLS["[c]"] in cover and "2026" in cover


def test_ods_of_a_report_with_no_tables_still_opens():
    found = sheets(to_ods(Report(title="Nothing yet", period_code="2026Q1", as_of="2026-04-01", tables=())))
    assert list(found) == ["Cover", "Contents", "Notes"]


def test_sheet_names_are_unique_short_and_free_of_characters_spreadsheets_forbid():
    tables = [replace(EMPTY, id=id_) for id_ in
              ("a" * 40, "a" * 40, "a" * 31, "notes", "Contents", "what: [c]/why?*\\'", "")]
    names = sheet_names(tables)
    assert len({name.casefold() for name in names} | {"cover", "contents", "notes", "history"}) == len(names) + 4
    assert all(0 < len(name) <= SHEET_NAME_MAX for name in names)
    assert not any(set(name) & set("[]:*?/\\'") for name in names)
    assert names[:3] == ["a" * 31, "a" * 29 + "-2", "a" * 29 + "-3"]


def test_ods_document_has_the_report_title_and_language_in_its_properties(workbook):
    document = load(io.BytesIO(workbook))
    assert teletype.extractText(document.meta.getElementsByType(Title)[0]) == REPORT.title
    assert teletype.extractText(document.meta.getElementsByType(Language)[0]) == "en-GB"


@pytest.mark.parametrize("code, name", [("2026Q3", "nrm-statistics-2026q3.csv"),
                                        ("12m-2026Q3", "nrm-statistics-12m-2026q3.csv"),
                                        ("../x y", "nrm-statistics-x-y.csv"), ("", "nrm-statistics-all.csv")])
def test_download_file_name_is_lower_case_with_dashes_and_nothing_else(code, name):
    assert file_name(replace(REPORT, period_code=code), "csv") == name


def test_download_symbols_are_the_ones_the_statistics_suppress_with():
    from backend import statistics

    assert (downloads.SMALL, downloads.HIDDEN) == (statistics.SMALL, statistics.HIDDEN)
