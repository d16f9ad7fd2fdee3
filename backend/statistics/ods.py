"""The ODS workbook of a statistics download (``backend.statistics.downloads.to_ods``), with odfpy.

A module of its own so that odfpy (and the XML parsers it loads) is imported when a workbook is
asked for, not by every process that imports the statistics pages (``nrm serve``'s start-up).
"""

from __future__ import annotations

import io
from typing import Sequence

from odf.dc import Language, Title
from odf.number import Number, NumberStyle
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import (ParagraphProperties, Style, TableCellProperties, TableColumnProperties,
                       TextProperties)
from odf.table import DatabaseRange, DatabaseRanges, Table, TableCell, TableColumn, TableHeaderRows, TableRow
from odf.text import A, P

from backend.statistics.downloads import HIDDEN, ONE_TABLE, SMALL, SYMBOLS, Notes, _table_lines, sheet_names
from backend.statistics.report import Report


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


def workbook(report: Report) -> bytes:
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
