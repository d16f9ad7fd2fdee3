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

ODS: :func:`to_ods` returns the workbook's bytes (odfpy, in ``backend.statistics.ods``): Cover, Contents (a link to each table),
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


def to_ods(report: Report) -> bytes:
    """The report as an ODS workbook: Cover, Contents, Notes, then one sheet a table
    (``backend.statistics.ods``: odfpy is imported for a download, not when a server starts)."""
    from backend.statistics.ods import workbook

    return workbook(report)
