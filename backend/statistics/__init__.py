"""Published statistics for analysts: the Home Office's quarterly "Modern Slavery: NRM and Duty to
Notify statistics" tables, counts only, never case-level data (DESIGN §1, §4; issues 11 and 14).

:func:`build` returns a :class:`~backend.statistics.report.Report` (already suppressed) for one
period; the page ``/casework/stats``, ``GET /api/v1/stats`` (:func:`as_json`), ``nrm stats``
(:func:`text_report`) and the CSV/ODS downloads and SVG charts only render it.

What is counted
---------------
NRM referrals and Duty to Notify (DtN) reports are counted apart, by UK date of submission: NRM
referrals by age group *at exploitation*, first responder organisation type, gender, nationality,
exploitation type group (one table per age group), region and police force area of exploitation and
local authority; DtN reports by organisation type, nationality and exploitation type group. RG and
CG decisions by outcome, panel reviews by outcome and reconsiderations are counted by the date they
were made (not the referral's); the median and 90th percentile of days from referral to RG and to CG
decision likewise (``percentile_cont``'s interpolation, exactly, from a histogram of whole days),
shown for at least 5 decisions. Everything is a GROUP BY on columns derived at intake
(``derived``, ``counting``); no payload is decrypted. Each ended quarter's counts are kept
(``cache``), so a page over a million cases reads a few rows.

Periods (``periods``)
---------------------
Only ``2026Q3`` (a quarter, shown with the four before it), ``2026`` (its four quarters) or
``12m-2026Q3`` (the four quarters to 2026 Q3), and only once the last quarter has ended. No free
dates: 1-24 October against 1-25 October singled out one Eritrean DtN report. Every table has one
column per quarter; there are no multi-quarter totals of a breakdown (only of the whole series).

Small-number suppression (the rule, in full)
--------------------------------------------
It applies to each *quarter column* of each table on that quarter's counts alone.

1. *Primary*: a count from 1 to 4 is shown as ``"<5"``. Zero stays 0.
2. *Secondary*: in a column with a ``"<5"`` cell, the smallest other count (not zero; the first in
   table order on a tie) is hidden too, as ``"[c]"``. Always, not only when needed: hiding "only
   when needed" would itself tell that the small cells were, say, all 1s.
3. *Withholding*: if the column's total minus the shown cells could still pin a ``"<5"`` cell down
   to one value, knowing that each ``"<5"`` is 1 to 4 and the ``"[c]"`` is at least 5 and no bigger
   than the smallest count still shown, the whole column is ``"[c]"``, zeros included (e.g. 1 and 5,
   or 4, 5 and 5). Exploitation type groups overlap (a case can be in several), so their column has
   no exact total; it is suppressed as if the sum of its cells were known, which is more than a
   reader can know (they only know it is at least the number of cases), so it protects at least as
   well. A test checks every small column exhaustively against someone who knows these rules.
4. *Totals stay exact* (``"<5"`` only when 1 to 4 themselves); rules 2 and 3 assume them known.
   The total line of an exploitation table is the age group's cell as published in the age table.
5. *Nesting*: a police force area is part of a region. A region's forces are suppressed with the
   region's published count as their total (rules 1-3); when the region's count is hidden, all its
   forces are hidden too, so the forces can never give a region's hidden count away.

Why this holds across periods and tables. A column depends only on its own quarter's cases, which
no longer change once the quarter has ended (only cases erased at the end of retention leave), and
on nothing the page asked for, so a quarter shows the very same cells on every page and in every
download: a quarter page, a year, a rolling 12 months and last quarter's release. Quarters hold
disjoint cases, so no published figure of one quarter is a sum or difference of figures of others,
and since no breakdown is totalled over several quarters, "the year minus the three quarters shown"
does not exist to be computed. Within a quarter the tables are partitions of the same cases whose
only shared figure is the (exact) total, except the two linked on purpose (rules 3 and 5: exploitation
types within an age group, forces within a region). NRM and DtN are never added together.
``tests/backend/test_statistics.py::test_two_overlapping_periods_cannot_single_out_a_case`` shows it
on the 24/25 October scenario.

Everything here reads in the caller's transaction and commits nothing, except that the counts of a
quarter not kept yet are kept in a transaction of their own (``cache``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from backend.statistics.periods import InvalidPeriod, Period, Quarter, parse
from backend.statistics.report import Cell, Report, Row, StatTable
from backend.statistics.suppression import HIDDEN, SMALL, primary, recoverable, suppress_table, suppress_within

__all__ = ["HIDDEN", "SMALL", "InvalidPeriod", "Period", "Quarter", "Report", "Row", "StatTable", "as_json",
           "build", "parse", "primary", "recoverable", "suppress_table", "suppress_within", "text_report"]


def build(session: Session, period: Period, today: date) -> Report:
    """The report for ``period`` (from :func:`parse`), as of ``today``."""
    from backend.statistics.compute import report  # imported late: it needs the models, derived does not

    return report(session, period, today)


def as_json(report: Report) -> dict[str, Any]:
    """The report as JSON (``GET /api/v1/stats``, ``nrm stats --format json``; ``Report`` in openapi)."""
    return asdict(report)


def _shown(cell: Cell) -> str:
    if cell is None:
        return "-"
    if isinstance(cell, float):
        return f"{cell:g}"
    return str(cell)


def text_report(report: Report) -> str:
    """The report as plain-text tables (``nrm stats``): the same figures as the page."""
    lines = [report.title, f"Period {report.period_code}, figures as of {report.as_of}.", ""]
    lines += [f"Note: {note}" for note in report.notes]
    for table in report.tables:
        cells = [[row.label, *(_shown(cell) for cell in row.cells)] for row in table.rows]
        header = [table.row_heading, *table.columns]
        widths = [max(len(line[index]) for line in [header, *cells]) for index in range(len(header))]
        lines += ["", table.title]
        for line in [header, ["-" * width for width in widths], *cells]:
            lines.append("  " + "  ".join(text.ljust(width) if index == 0 else text.rjust(width)
                                          for index, (text, width) in enumerate(zip(line, widths))))
        lines += [f"  Note: {note}" for note in table.notes]
    return "\n".join(lines) + "\n"
