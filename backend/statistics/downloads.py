"""The statistics downloads: a CSV file and an ODS workbook of a :class:`~backend.statistics.report.Report`.

Both follow the Analysis Function's guidance "Releasing statistics in spreadsheets", as the Home
Office's quarterly "Modern Slavery: NRM and DtN statistics" tables do: one table a block (CSV) or a
sheet (ODS), a title first, a short description and the table's notes next, then the table with one
header row and no blank rows inside it; the symbols ``"<5"``, ``"[c]"`` (confidential: hidden so
that a small count cannot be worked out) and ``"[z]"`` (not applicable, the report's None) with a
note saying what each one means wherever it is used, so every download says what is suppressed
and why. The downloads are in English, like the published tables.

CSV: :func:`to_csv` (the whole report) and :func:`table_csv` (one table) return text with RFC 4180
``\\r\\n`` line ends. Serve or save it encoded with :data:`CSV_ENCODING` (UTF-8 with a byte order
mark): without the mark Excel reads a UTF-8 file as Windows-1252 and breaks Welsh and Arabic
labels; every other reader (Python's ``utf-8-sig``, LibreOffice, R) skips it. A text cell that a
spreadsheet would run as a formula (starting ``= + - @``, tab or carriage return) gets a leading
apostrophe (OWASP "CSV injection"); numbers stay numbers.

ODS: :func:`to_ods` returns the workbook's bytes (odfpy): Cover, Contents (a link to each table),
Notes, then one sheet a table named from the table's id (at most 31 characters, unique, no
characters a spreadsheet forbids). Counts are numeric cells; symbols are text cells, so no cell is
ever a formula. Each table's header row is a ``table-header-rows`` row and the table is a named
database range "with header", the ODF form of a spreadsheet table that screen readers and
conversions to Excel recognise; the document's title and language are set.

A route or command serves them as ``file_name(report, "csv")`` with :data:`CSV_MEDIA_TYPE`, or
``file_name(report, "ods")`` with :data:`ODS_MEDIA_TYPE`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from odf.dc import Language, Title
from odf.number import Number, NumberStyle
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import (ParagraphProperties, Style, TableCellProperties, TableColumnProperties,
                       TextProperties)
from odf.table import DatabaseRange, DatabaseRanges, Table, TableCell, TableColumn, TableHeaderRows, TableRow
from odf.text import A, P

from backend.statistics.report import Cell, Report, StatTable

CSV_ENCODING = "utf-8-sig"
"""Encode :func:`to_csv` / :func:`table_csv` text with this for a file or a response (see above)."""
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
ODS_MEDIA_TYPE = "application/vnd.oasis.opendocument.spreadsheet"

SMALL = "<5"  # backend.statistics.SMALL and HIDDEN (a test keeps them equal; importing the package
HIDDEN = "[c]"  # from here would tie the renderers to the database code)
NOT_APPLICABLE = "[z]"
SYMBOLS: dict[str, str] = {
    SMALL: f'"{SMALL}" is a count from 1 to 4, not shown exactly so that nobody counted can be identified.',
    HIDDEN: f'"{HIDDEN}" (confidential) is a count hidden so that a "{SMALL}" count cannot be worked out '
            f'from the total; a table of "{HIDDEN}" only is withheld.',
    NOT_APPLICABLE: f'"{NOT_APPLICABLE}" means not applicable.',
}
"""What each symbol in a cell means, in the words of the downloads' notes."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")
FIXED_SHEETS = ("Cover", "Contents", "Notes")
RESERVED_SHEET_NAMES = frozenset(name.casefold() for name in (*FIXED_SHEETS, "History"))
ONE_TABLE = "This worksheet contains one table."


# --- what the renderers share -------------------------------------------------------------------

def cell_value(cell: Cell) -> int | float | str:
    """A cell as downloaded: the number, the symbol as it is, or ``"[z]"`` for None."""
    return NOT_APPLICABLE if cell is None else cell


def symbols_used(tables: Iterable[StatTable]) -> list[str]:
    """The symbols that appear in the cells of ``tables``, in :data:`SYMBOLS` order."""
    found = {cell_value(cell) for table in tables for row in table.rows for cell in row.cells}
    return [symbol for symbol in SYMBOLS if symbol in found]


def table_notes(table: StatTable) -> list[str]:
    """What a reader of one table must know: its own notes, then what each symbol in it means."""
    return list(dict.fromkeys([*table.notes, *(SYMBOLS[symbol] for symbol in symbols_used([table]))]))


@dataclass(frozen=True)
class Note:
    number: int
    text: str

    @property
    def ref(self) -> str:
        return f"[note {self.number}]"


class Notes:
    """The report's notes numbered once (release notes, then each table's, then the symbols used),
    a text appearing once however many tables share it; the ODS Notes sheet lists them."""

    def __init__(self, report: Report) -> None:
        self._numbers: dict[str, int] = {}
        for text in [*report.notes, *(text for table in report.tables for text in table.notes),
                     *(SYMBOLS[symbol] for symbol in symbols_used(report.tables))]:
            self._numbers.setdefault(text, len(self._numbers) + 1)

    def all(self) -> list[Note]:
        return [Note(number, text) for text, number in self._numbers.items()]

    def of(self, table: StatTable) -> list[Note]:
        return [Note(self._numbers[text], text) for text in table_notes(table)]


def _table_lines(table: StatTable) -> list[list[int | float | str]]:
    """The header row then one row a line, totals last (the report keeps them last already)."""
    rows = sorted(table.rows, key=lambda row: row.total)  # stable: only moves total lines down
    return [[table.row_heading, *table.columns],
            *([row.label, *(cell_value(cell) for cell in row.cells)] for row in rows)]


def file_name(report: Report, extension: str) -> str:
    """The download's file name, lower case with dashes (ONS style): ``nrm-statistics-2026q3.ods``."""
    code = re.sub(r"[^a-z0-9]+", "-", report.period_code.lower()).strip("-")
    return f"nrm-statistics-{code or 'all'}.{extension}"


# --- CSV ----------------------------------------------------------------------------------------

def csv_safe(value: int | float | str) -> int | float | str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_text(lines: Iterable[Sequence[int | float | str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([csv_safe(value) for value in line] for line in lines)
    return buffer.getvalue()


def _table_block(table: StatTable) -> list[list[int | float | str]]:
    return [[table.id, table.title], *(["Note", text] for text in table_notes(table)), *_table_lines(table)]


def table_csv(table: StatTable) -> str:
    """One table: a line with its id and title, a ``Note`` line for each of its notes and symbols,
    then the header row and the rows."""
    return _csv_text(_table_block(table))


def to_csv(report: Report) -> str:
    """The whole report: its title, period and date; each table as :func:`table_csv` writes it,
    a blank line after each; then the release's notes (``Note`` lines)."""
    lines: list[list[int | float | str]] = [[report.title], ["Period", report.period_code],
                                            ["Figures as of", report.as_of], []]
    for table in report.tables:
        lines += [*_table_block(table), []]
    lines += [["Notes"], *(["Note", text] for text in report.notes)]
    return _csv_text(lines)


# --- ODS ----------------------------------------------------------------------------------------

def sheet_names(tables: Iterable[StatTable]) -> list[str]:
    """A sheet name for each table from its id: forbidden characters replaced by ``-``, at most 31
    characters, unique (case-insensitively, as spreadsheets compare them) by a ``-2``, ``-3`` ending."""
    taken = set(RESERVED_SHEET_NAMES)
    names = []
    for table in tables:
        base = SHEET_NAME_FORBIDDEN.sub("-", table.id).strip() or "Table"
        name, number = base[:SHEET_NAME_MAX], 1
        while name.casefold() in taken:
            number += 1
            suffix = f"-{number}"
            name = base[:SHEET_NAME_MAX - len(suffix)] + suffix
        taken.add(name.casefold())
        names.append(name)
    return names


class _Workbook:
    """The ODS document, its styles, and helpers to add sheets of rows."""

    def __init__(self, title: str) -> None:
        self.doc = OpenDocumentSpreadsheet()
        self.doc.meta.addElement(Title(text=title))  # the document title accessibility checkers ask for
        self.doc.meta.addElement(Language(text="en-GB"))
        self.ranges = DatabaseRanges()
        number_format = NumberStyle(name="thousands")
        number_format.addElement(Number(decimalplaces="0", grouping="true", minintegerdigits="1"))
        self.doc.automaticstyles.addElement(number_format)
        self.title = self._style("title", TextProperties(fontsize="14pt", fontweight="bold"))
        self.heading = self._style("heading", TextProperties(fontweight="bold"),
                                   TableCellProperties(wrapoption="wrap"))
        self.heading_number = self._style("heading-number", TextProperties(fontweight="bold"),
                                          TableCellProperties(wrapoption="wrap"), ParagraphProperties(textalign="end"))
        self.count = self._style("count", ParagraphProperties(textalign="end"), datastylename="thousands")
        self.decimal = self._style("decimal", ParagraphProperties(textalign="end"))
        self.symbol = self._style("symbol", ParagraphProperties(textalign="end"))
        self.wide = self._column("wide", "9cm")
        self.narrow = self._column("narrow", "3cm")

    def _style(self, name: str, *properties: object, **attributes: str) -> Style:
        style = Style(name=name, family="table-cell", **attributes)
        for element in properties:
            style.addElement(element)
        self.doc.automaticstyles.addElement(style)
        return style

    def _column(self, name: str, width: str) -> Style:
        style = Style(name=name, family="table-column")
        style.addElement(TableColumnProperties(columnwidth=width))
        self.doc.automaticstyles.addElement(style)
        return style

    def cell(self, value: int | float | str, style: Style | None = None, link: str | None = None) -> TableCell:
        """A numeric cell for a number, else a text cell (never a formula), with an optional link."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell = TableCell(valuetype="float", value=value, stylename=style or (
                self.count if isinstance(value, int) else self.decimal))
            cell.addElement(P(text=f"{value:,}" if isinstance(value, int) else str(value)))
            return cell
        cell = TableCell(valuetype="string", stylename=style) if style else TableCell(valuetype="string")
        if link:
            paragraph = P()
            paragraph.addElement(A(href=link, text=value))
        else:
            paragraph = P(text=value)
        cell.addElement(paragraph)
        return cell

    def sheet(self, name: str, columns: int) -> Table:
        table = Table(name=name)
        table.addElement(TableColumn(stylename=self.wide))
        if columns > 1:
            table.addElement(TableColumn(stylename=self.narrow, numbercolumnsrepeated=columns - 1))
        self.doc.spreadsheet.addElement(table)
        return table

    def text_row(self, sheet: Table, text: str, style: Style | None = None) -> None:
        row = TableRow()
        row.addElement(self.cell(text, style))
        sheet.addElement(row)

    def data(self, sheet: Table, first_row: int, lines: list[list[int | float | str]],
             links: Sequence[str | None] = ()) -> None:
        """A table: its header row (``table-header-rows``) and rows, and a database range "with
        header" over them. ``first_row`` is the header's 1-based row number; ``links`` optional
        targets for each data row's first cell."""
        header = TableHeaderRows()
        row = TableRow()
        for position, value in enumerate(lines[0]):
            row.addElement(self.cell(value, self.heading if position == 0 else self.heading_number))
        header.addElement(row)
        sheet.addElement(header)
        for index, line in enumerate(lines[1:]):
            row = TableRow()
            link = links[index] if index < len(links) else None
            row.addElement(self.cell(line[0], link=link))
            for value in line[1:]:
                row.addElement(self.cell(value, None if isinstance(value, (int, float)) else self.symbol))
            sheet.addElement(row)
        name = sheet.getAttribute("name")
        last_column = _column_letters(len(lines[0]))
        self.ranges.addElement(DatabaseRange(
            name=f"table-{len(self.ranges.childNodes) + 1}", containsheader="true",
            targetrangeaddress=f"{_quoted(name)}.A{first_row}:{_quoted(name)}.{last_column}"
                               f"{first_row + len(lines) - 1}"))

    def bytes(self) -> bytes:
        if self.ranges.childNodes:
            self.doc.spreadsheet.addElement(self.ranges)
        buffer = io.BytesIO()
        self.doc.write(buffer)
        return buffer.getvalue()


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def to_ods(report: Report) -> bytes:
    """The report as an ODS workbook: Cover, Contents, Notes, then one sheet a table."""
    book = _Workbook(report.title)
    notes = Notes(report)
    names = sheet_names(report.tables)
    about = f"Figures for {report.period_code}, as of {report.as_of}."

    cover = book.sheet("Cover", 1)
    book.text_row(cover, report.title, book.title)
    for text in (about,
                 "This workbook has one table a sheet: the Contents sheet lists them, the Notes sheet "
                 "explains the [note N] references.",
                 f'Small numbers are suppressed to protect the people counted: {SYMBOLS[SMALL]} {SYMBOLS[HIDDEN]}',
                 "Suppression protects each table on its own; combining tables can sometimes reveal a "
                 "hidden cell, so a release goes through an analyst."):
        book.text_row(cover, text)

    contents = book.sheet("Contents", 2)
    book.text_row(contents, "Contents", book.title)
    book.text_row(contents, ONE_TABLE)
    book.data(contents, 3, [["Sheet name", "Table title"],
                            *([name, table.title] for name, table in zip(names, report.tables))],
              links=[f"#{_quoted(name)}.A1" for name in names])

    notes_sheet = book.sheet("Notes", 2)
    book.text_row(notes_sheet, "Notes", book.title)
    book.text_row(notes_sheet, ONE_TABLE)
    book.data(notes_sheet, 3, [["Note number", "Note text"], *([note.ref, note.text] for note in notes.all())])

    for name, table in zip(names, report.tables):
        sheet = book.sheet(name, 1 + len(table.columns))
        table_notes = notes.of(table)
        refs = " ".join(note.ref for note in table_notes)
        book.text_row(sheet, f"{table.title} {refs}".strip(), book.title)
        book.text_row(sheet, f"{ONE_TABLE} {about}")
        for note in table_notes:
            book.text_row(sheet, f"{note.ref} {note.text}")
        book.data(sheet, 3 + len(table_notes), _table_lines(table))
    return book.bytes()
