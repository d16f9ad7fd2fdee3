"""The shape of a statistics release, shared by what computes it and what renders it.

``backend.statistics`` computes a :class:`Report` (already suppressed: no cell in it may be shown
more exactly than it is); the page, the CSV and ODS downloads, the SVG charts and ``nrm stats``
only render one. Keeping the renderers on this plain structure means a download can never show a
figure the page hides, and each renderer is tested on hand-made reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

Cell = Union[int, float, str, None]
"""A count (int), a median or percentile (float), ``"<5"`` or ``"[c]"`` (suppressed), or None
(not applicable: shown as a dash)."""


@dataclass(frozen=True)
class Row:
    """One line of a table: its label in the first column, then one cell per column."""

    label: str
    cells: tuple[Cell, ...]
    total: bool = False
    """A total line (set in bold on the page, kept last in the downloads)."""


@dataclass(frozen=True)
class StatTable:
    """One published table (one sheet of the ODS workbook, one section of the CSV and the page)."""

    id: str
    """Stable code, e.g. ``nrm-referrals-by-age-group``: the sheet name's source and the anchor."""
    title: str
    """English caption, e.g. "NRM referrals by age group at exploitation, by quarter"."""
    series: str
    """``nrm`` (referrals), ``dtn`` (Duty to Notify reports) or ``decisions`` / ``reviews``."""
    row_heading: str
    """Heading of the first column, e.g. "Age group"."""
    columns: tuple[str, ...]
    """Headings of the other columns, e.g. quarters ("2026 Q1", ...) or "Count"."""
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    """What the reader must know: what is counted, what was suppressed and why."""
    chart: str | None = None
    """``stacked-bar`` when people would rather look than read (rows are the series, columns the
    bars), else None."""


@dataclass(frozen=True)
class Report:
    """Everything one page (or one download) shows for one period."""

    title: str
    """E.g. "Modern Slavery: NRM and DtN statistics, July to September 2026"."""
    period_code: str
    """What was asked for: ``2026Q3``, ``2026`` or ``12m-2026Q3`` (rolling 12 months to 2026 Q3)."""
    as_of: str
    """ISO date the figures were taken."""
    tables: tuple[StatTable, ...]
    notes: tuple[str, ...] = field(default=())
    """Release-wide notes: the suppression rule in words, the sources, the counting rules."""
