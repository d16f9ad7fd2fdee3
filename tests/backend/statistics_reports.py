"""Hand-made statistics reports for the renderers' tests (downloads, charts, the page partial).

They have what real releases have and what could break a renderer: suppressed cells ("<5", "[c]"),
a cell that does not apply (None), a median (float), a total line, a label a spreadsheet would run
as a formula, Welsh and Arabic labels, a table with no rows, and table ids that collide once cut
to a sheet name's 31 characters.
"""

from __future__ import annotations

from backend.statistics.report import Report, Row, StatTable

QUARTERS = ("2026 Q1", "2026 Q2", "2026 Q3", "2026 Q4")
FORMULA_LABEL = "=cmd|' /C calc'!A0"
WELSH = "Oedolyn (dros 18 oed) — ŵyr"
ARABIC = "بالغ"
SUPPRESSION_NOTE = "Counts from 1 to 4 are shown as <5; [c] hides a count so that a <5 cannot be worked out."


def quarterly(id_: str, title: str, row_heading: str, rows: tuple[Row, ...], *notes: str) -> StatTable:
    """A table of NRM referrals by quarter, drawn as a stacked bar chart."""
    return StatTable(id=id_, title=title, series="nrm", row_heading=row_heading, columns=QUARTERS, rows=rows,
                     notes=notes, chart="stacked-bar")


BY_AGE = quarterly(
    "nrm-referrals-by-age-group", "NRM referrals by age group at exploitation, by quarter", "Age group",
    (
        Row("Adult", (120, 95, 40, 1234)),
        Row("Child", (30, "<5", 20, 10)),
        Row(WELSH, (12, "[c]", 0, 6)),
        Row(ARABIC, (5, 7, "<5", 0)),
        Row(FORMULA_LABEL, (0, 0, 0, 0)),
        Row("Total", (167, 112, 62, 1250), total=True),
    ),
    "Counts NRM referrals by the quarter they were submitted in.", SUPPRESSION_NOTE,
)
BY_TYPE = quarterly(
    "nrm-referrals-by-exploitation-type", "NRM referrals by type of exploitation, by quarter", "Type of exploitation",
    (
        Row("Labour", (50, 60, 70, 80)),
        Row("Sexual", (40, 30, 20, 10)),
        Row("Criminal", (25, 25, 25, 25)),
        Row("Domestic servitude", (9, 8, 7, 6)),
        Row("Organ harvesting", (0, 0, 0, 0)),
        Row("Other", (5, 5, 5, 5)),
        Row("Not recorded", (11, 12, 13, 14)),
        Row("Several at once", (6, 6, 6, 6)),
    ),
    "A referral can have several types of exploitation, so the rows do not add up to the total.",
)
EMPTY = StatTable(id="dtn-reports-by-nation", title="Duty to Notify reports by nation", series="dtn",
                  row_heading="Nation", columns=("Count",), rows=())
DECISIONS = StatTable(
    id="decisions-and-days-to-a-reasonable-grounds-decision-by-quarter",
    title="Reasonable Grounds decisions and median days to a decision",
    series="decisions",
    row_heading="Measure",
    columns=("2026 Q3", "2026 Q4"),
    rows=(Row("Positive decisions", (40, 44)), Row("Median days", (4.5, None))),
    notes=(SUPPRESSION_NOTE,),
)
DECISIONS_TOO = StatTable(
    id="decisions-and-days-to-a-reasonable-grounds-decision-by-month",
    title="Reasonable Grounds decisions by month",
    series="decisions",
    row_heading="Month",
    columns=("Count",),
    rows=(Row("October 2026", (13,)), Row("November 2026", ("[c]",)), Row("December 2026", ("<5",))),
)
REPORT = Report(
    title="Modern Slavery: NRM and DtN statistics, January to December 2026",
    period_code="2026",
    as_of="2027-01-15",
    tables=(BY_AGE, BY_TYPE, EMPTY, DECISIONS, DECISIONS_TOO),
    notes=("Figures are counted from the cases recorded by the NRM Referral Assistant.", SUPPRESSION_NOTE),
)
