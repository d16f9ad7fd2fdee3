"""Every published table, quarter by quarter, suppressed into a :class:`Report`.

Each shown quarter's counts (``counting.Figures``: GROUP BYs in SQL on the columns derived at
intake, no payload read) come from ``cache``: kept for ended quarters, counted from the cases
otherwise. Every column is suppressed on its own quarter's counts only (see the package
docstring), so a quarter looks the same on every page.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy.orm import Session

from backend.statistics import cache, derived
from backend.statistics.counting import DIMENSIONS, EXPLOITATION, Figures, day_histograms, histogram_percentile
from backend.statistics.periods import Period
from backend.statistics.report import Cell, Report, Row, StatTable
from backend.statistics.suppression import HIDDEN, SMALL, SUPPRESS_BELOW, Count, primary, suppress_table, \
    suppress_within

MIN_FOR_PERCENTILES = 5
PERCENTILES = (("Median", 0.5), ("90th percentile", 0.9))

Grid = list[dict[Any, int]]
"""Counts per shown quarter (position), keyed by the breakdown's value."""

AGE_NAMES = {"adult": "Adult", "child": "Child", "not-specified": "Not specified or unknown"}
AGE_WORDS = {"adult": "adults at exploitation", "child": "children at exploitation",
             "not-specified": "age at exploitation not specified or unknown"}
GENDER_NAMES = {"female": "Female", "male": "Male", "unknown": "Does not identify as male or female",
                None: "Not recorded"}
TYPE_NAMES = {"police": "Police", "local-authority": "Local authority",
              "border-force": "Home Office: Border Force", "immigration-enforcement": "Home Office: Immigration "
              "Enforcement", "asylum-group": "Home Office: Asylum Group (UK Visas and Immigration)",
              "government-agency": "Other government agency (NCA, GLAA, HSC Trusts, Fair Work Agency)",
              "ngo": "Non-governmental organisation", "other": "Organisation not on the list"}
GROUP_NAMES = {"labour": "Labour", "sexual": "Sexual", "criminal": "Criminal",
               "domestic-servitude": "Domestic servitude", "organ-harvesting": "Organ harvesting",
               "not-specified": "Not specified or unknown"}
REGION_NAMES = {"north-east": "North East", "north-west": "North West",
                "yorkshire-and-the-humber": "Yorkshire and The Humber", "east-midlands": "East Midlands",
                "west-midlands": "West Midlands", "east-of-england": "East of England", "london": "London",
                "south-east": "South East", "south-west": "South West", "wales": "Wales", "scotland": "Scotland",
                "northern-ireland": "Northern Ireland", "national": "UK-wide forces (e.g. British Transport Police)",
                "other": "Police force not on the list", None: "Not reported to the police"}
OUTCOME_NAMES = {"positive": "Positive", "negative": "Negative"}
REVIEW_NAMES = {"upheld": "Negative decision upheld", "returned": "Returned for reconsideration"}
REQUESTED_NAMES = {"first_responder": "Asked by the first responder", "support_provider": "Asked by the support "
                   "provider", None: "Not recorded"}
LISTED_SPECIAL = {"Unknown": "Not known", derived.OTHER: "Not on the list", None: "Not recorded"}
"""Labels of the values of a list breakdown (nationality, local authority) that are not list entries."""

SUPPRESSION_NOTE = (f'Counts from 1 to {SUPPRESS_BELOW - 1} are shown as "{SMALL}". "{HIDDEN}" marks a count '
                    f'hidden so that a "{SMALL}" count cannot be worked out from the total or from other '
                    f'cells; a quarter of "{HIDDEN}" only is withheld. Zeros and totals are exact.')


# --- counts per shown quarter -------------------------------------------------------------------

def _breakdowns(shown: Sequence[Figures]) -> tuple[dict[str, dict[Any, Grid]], dict[Any, Grid]]:
    """Cases per shown quarter, per series (nrm, dtn), per value of each of :data:`DIMENSIONS`; and
    per (series, age group), the cases in each exploitation type group."""
    counts: dict[str, dict[Any, Grid]] = {name: defaultdict(lambda: [defaultdict(int) for _ in shown])
                                          for name in DIMENSIONS}
    exploitation: dict[Any, Grid] = defaultdict(lambda: [defaultdict(int) for _ in shown])
    for position, figures in enumerate(shown):
        for route, name, value, count in figures["cases"]:
            if name.startswith(EXPLOITATION):
                exploitation[route, name.removeprefix(EXPLOITATION)][position][value] += count
            else:
                counts[name][route][position][value] += count
    return counts, exploitation


def _decisions(shown: Sequence[Figures]) -> dict[Any, Grid]:
    """Stage -> decisions per shown quarter by outcome."""
    grids: dict[Any, Grid] = defaultdict(lambda: [defaultdict(int) for _ in shown])
    for position, figures in enumerate(shown):
        for stage, outcome, _days, count in figures["decisions"]:
            grids[stage][position][outcome] += count
    return grids


def _events(shown: Sequence[Figures], name: str) -> Grid:
    """Panel reviews by outcome or reconsiderations by who asked, per shown quarter."""
    return [{value: count for value, count in figures[name]} for figures in shown]


def _days(shown: Sequence[Figures]) -> dict[tuple[int, str], tuple[int, list[float]]]:
    """(position, stage) -> (decisions, [median, 90th percentile]) of UK calendar days from referral
    to each decision made in the quarter: ``percentile_cont`` exactly, from the quarter's histogram."""
    return {(position, stage): (sum(histogram.values()),
                                [histogram_percentile(histogram, fraction) for _, fraction in PERCENTILES])
            for position, figures in enumerate(shown) for stage, histogram in day_histograms(figures).items()}


# --- suppressing into tables --------------------------------------------------------------------

def _columns(period: Period) -> tuple[str, ...]:
    return tuple(quarter.label for quarter in period.quarters)


def _suppressed(grid: Grid, keys: Sequence[Any],
                rule: Callable[[int, dict[Any, int]], dict[Any, Count]]) -> list[dict[Any, Count]]:
    return [rule(position, {key: column.get(key, 0) for key in keys}) for position, column in enumerate(grid)]


def _note(period: Period, published: Sequence[Mapping[Any, Count]]) -> tuple[str, ...]:
    """What was suppressed in this table, quarter by quarter, and why."""
    notes = []
    for quarter, column in zip(period.quarters, published):
        small = sum(1 for value in column.values() if value == SMALL)
        hidden = sum(1 for value in column.values() if value == HIDDEN)
        if hidden and hidden == len(column) and not small:
            notes.append(f"{quarter.label}: withheld, because the few cases in it could otherwise be worked out "
                         f"from the total.")
        elif small or hidden:
            notes.append(f"{quarter.label}: {small} count(s) of 1 to 4 shown as \"{SMALL}\" and {hidden} more "
                         f"hidden (\"{HIDDEN}\") so that they cannot be worked out from the total.")
    return tuple(notes)


def _table(table_id: str, title: str, series: str, heading: str, period: Period, labels: Mapping[Any, str],
           published: Sequence[Mapping[Any, Count]], total: Sequence[Cell] | None = None,
           notes: Iterable[str] = (), chart: str | None = None, keys: Sequence[Any] | None = None) -> StatTable:
    rows = [Row(labels.get(key, key) if key is not None else labels[None], tuple(column[key] for column in published))
            for key in (keys if keys is not None else labels)]
    if total is not None:
        rows.append(Row("Total", tuple(total), total=True))
    return StatTable(table_id, title, series, heading, _columns(period), tuple(rows),
                     (*notes, *_note(period, published)), chart)


def _totals(grid: Grid) -> list[Cell]:
    return [primary(sum(column.values())) for column in grid]


def _listed_keys(entries: Iterable[str]) -> list[Any]:
    """Every value of a list breakdown (nationality, local authority): entries alphabetically, then
    the special values. A fixed set and order, so suppression picks the same cells on every page."""
    return [*sorted(set(entries) - set(LISTED_SPECIAL)), *LISTED_SPECIAL]


def _worth_showing(keys: Sequence[Any], published: Sequence[Mapping[Any, Count]]) -> list[Any]:
    """The rows of a long list with something to show: a row is left out when each of its cells is 0
    or in a withheld column (all "[c]"). Decided on published cells only, so leaving a row out tells
    nothing a withheld column hides (which of its rows are zero)."""
    open_columns = [column for column in published if any(value != HIDDEN for value in column.values())]
    return [key for key in keys if any(column[key] != 0 for column in open_columns)]


def _listed_table(table_id: str, title: str, series: str, heading: str, period: Period, grid: Grid,
                  entries: Iterable[str], notes: Iterable[str]) -> StatTable:
    keys = _listed_keys(entries)
    labels = {key: LISTED_SPECIAL.get(key, key) for key in keys}
    published = _suppressed(grid, keys, lambda _, counts: suppress_table(counts))
    return _table(table_id, title, series, heading, period, labels, published, _totals(grid),
                  (*notes, "Rows with nothing to show (only zeros or withheld cells) are left out."),
                  keys=_worth_showing(keys, published))


def _partition(table_id: str, title: str, series: str, heading: str, period: Period, grid: Grid,
               labels: Mapping[Any, str], notes: Iterable[str] = (), chart: str | None = None) -> StatTable:
    published = _suppressed(grid, list(labels), lambda _, counts: suppress_table(counts))
    return _table(table_id, title, series, heading, period, labels, published, _totals(grid), notes, chart)


def _geography(period: Period, forces: Grid) -> list[StatTable]:
    """Region (a region is its police force areas) and police force area, the second nested in the first."""
    region_of: dict[Any, Any] = {**derived.force_regions(), derived.OTHER: derived.OTHER, None: None}
    region_grid: Grid = [defaultdict(int) for _ in forces]
    for column, totals in zip(forces, region_grid):
        for force, count in column.items():
            totals[region_of[force]] += count
    region_keys = [*derived.REGIONS, derived.OTHER, None]
    region_published = _suppressed(region_grid, region_keys, lambda _, counts: suppress_table(counts))
    force_keys = [force for region in region_keys
                  for force in sorted((f for f in region_of if region_of[f] == region), key=str)]
    force_published = [{} for _ in forces]
    for region in region_keys:
        members = [force for force in force_keys if region_of[force] == region]
        for position, column in enumerate(forces):
            force_published[position].update(
                suppress_within(region_published[position][region], {force: column.get(force, 0) for force in members}))
    force_labels = {force: REGION_NAMES.get(force, force) for force in force_keys}
    where = ("Where the exploitation was reported to the police: the police force area the referral names, and "
             "the region of that force. A referral that names no force is counted as not reported to the police.")
    return [
        _table("nrm-referrals-by-region", "NRM referrals by region of exploitation, by quarter", "nrm", "Region",
               period, REGION_NAMES, region_published, _totals(region_grid), (where,), keys=region_keys),
        _table("nrm-referrals-by-police-force-area", "NRM referrals by police force area of exploitation, by quarter",
               "nrm", "Police force area", period, force_labels, force_published, _totals(forces),
               (where, "A force's count is hidden whenever its region's count is, so that the forces cannot "
                       "give the region away. Rows with nothing to show (only zeros or withheld cells) are "
                       "left out."), keys=_worth_showing(force_keys, force_published)),
    ]


def _exploitation_tables(period: Period, grids: Mapping[Any, Grid], series: str,
                         ages: Sequence[tuple[str, Sequence[Cell]]]) -> list[StatTable]:
    """One table per age group (a case can be in several groups, so it has no total of its own)."""
    groups = list(derived.EXPLOITATION_GROUPS)
    tables = []
    for age, age_cells in ages:
        grid = grids.get((series, age)) if age else _merged(grids, series)
        grid = grid or [{} for _ in period.quarters]
        published = _suppressed(grid, groups, lambda _, counts: suppress_table(counts))
        noun = "NRM referrals" if series == "nrm" else "Duty to Notify reports"
        suffix = f", {AGE_WORDS[age]}" if age else ""
        table_id = f"{series}-{'referrals' if series == 'nrm' else 'reports'}-by-exploitation-type" + \
            (f"-{age}" if age else "")
        tables.append(_table(
            table_id, f"{noun} by exploitation type{suffix}, by quarter", series, "Exploitation type", period,
            GROUP_NAMES, published, age_cells,
            ("A referral can name several types of exploitation, so the types add up to more than the total. "
             "Labour includes wages taken and fraud; sexual includes child sexual exploitation; \"other\" is "
             "counted as not specified.",), "stacked-bar"))
    return tables


def _merged(grids: Mapping[Any, Grid], series: str) -> Grid | None:
    parts = [grid for (route, _), grid in grids.items() if route == series]
    if not parts:
        return None
    merged: Grid = [defaultdict(int) for _ in parts[0]]
    for grid in parts:
        for position, column in enumerate(grid):
            for key, count in column.items():
                merged[position][key] += count
    return merged


def _percentile_table(period: Period, days: Mapping[tuple[int, str], tuple[int, list[float]]]) -> StatTable:
    rows = []
    for stage, stage_name in (("rg", "Reasonable Grounds"), ("cg", "Conclusive Grounds")):
        for index, (name, _) in enumerate(PERCENTILES):
            cells: list[Cell] = []
            for position in range(len(period.quarters)):
                count, values = days.get((position, stage), (0, []))
                cells.append(round(values[index], 1) if count >= MIN_FOR_PERCENTILES else None)
            rows.append(Row(f"{name} days to {stage_name} decision", tuple(cells)))
    return StatTable("days-to-decision", "Days from referral to decision, by quarter of decision", "decisions",
                     "Measure", _columns(period), tuple(rows),
                     ("UK calendar days from the referral to each decision made in the quarter (a reconsidered "
                      "decision counts again, from the same referral).",
                      f"Shown only for quarters with at least {MIN_FOR_PERCENTILES} decisions (a dash otherwise)."))


# --- the report ---------------------------------------------------------------------------------

def report(session: Session, period: Period, today: date) -> Report:
    """Every published table for ``period``, suppressed (see the package docstring)."""
    shown = cache.figures(session, period.quarters)
    breakdowns, exploitation = _breakdowns(shown)
    ages = breakdowns["age_group"]
    empty = [{} for _ in period.quarters]
    nrm_ages = ages.get("nrm", empty)
    age_table = _partition("nrm-referrals-by-age-group", "NRM referrals by age group at exploitation, by quarter",
                           "nrm", "Age group at exploitation", period, nrm_ages, AGE_NAMES,
                           ("Age at the time of exploitation: a child now, or an adult who was under 18 at any "
                            "time during the exploitation, is counted as a child.",), "stacked-bar")
    age_cells = {row.label: row.cells for row in age_table.rows}
    types, genders, nationalities, forces, authorities = (breakdowns[name] for name in DIMENSIONS[1:])
    decisions = _decisions(shown)
    type_note = ("The type of the referring organisation, from the list of first responder organisations.",)
    nationality_note = ("The first nationality given. \"Not on the list\" is a nationality typed in that is not "
                        "on the form's list.",)
    tables = [
        age_table,
        _partition("nrm-referrals-by-first-responder-type", "NRM referrals by first responder organisation type, "
                   "by quarter", "nrm", "First responder organisation type", period, types.get("nrm", empty),
                   TYPE_NAMES, type_note),
        _partition("nrm-referrals-by-gender", "NRM referrals by gender, by quarter", "nrm", "Gender", period,
                   genders.get("nrm", empty), GENDER_NAMES),
        _listed_table("nrm-referrals-by-nationality", "NRM referrals by nationality, by quarter", "nrm",
                      "Nationality", period, nationalities.get("nrm", empty), derived.list_entries("nationality"),
                      nationality_note),
        *_exploitation_tables(period, exploitation, "nrm",
                              [(age, age_cells[AGE_NAMES[age]]) for age in derived.AGE_GROUPS]),
        *_geography(period, forces.get("nrm", empty)),
        _listed_table("nrm-referrals-by-local-authority", "NRM referrals by local authority, by quarter", "nrm",
                      "Local authority", period, authorities.get("nrm", empty), derived.list_entries("authority"),
                      ("The local authority the first responder contacted about a child (asked for children "
                       "only: adults are counted as not recorded).",)),
        _partition("dtn-reports-by-first-responder-type", "Duty to Notify reports by first responder organisation "
                   "type, by quarter", "dtn", "First responder organisation type", period, types.get("dtn", empty),
                   TYPE_NAMES, type_note),
        _listed_table("dtn-reports-by-nationality", "Duty to Notify reports by nationality, by quarter", "dtn",
                      "Nationality", period, nationalities.get("dtn", empty), derived.list_entries("nationality"),
                      nationality_note),
        *_exploitation_tables(period, exploitation, "dtn",
                              [(None, _totals(ages.get("dtn", empty)))]),
    ]
    for stage, name in (("rg", "Reasonable Grounds"), ("cg", "Conclusive Grounds")):
        grid = decisions.get(stage, empty)
        tables.append(_partition(f"{stage}-decisions-by-outcome", f"{name} decisions by outcome, by quarter of "
                                 f"decision", "decisions", "Outcome", period, grid, OUTCOME_NAMES,
                                 ("Counted by the date of the decision, not of the referral. A reconsidered "
                                  "decision counts again.",)))
    tables.append(_percentile_table(period, _days(shown)))
    tables.append(_partition("panel-reviews-by-outcome", "Panel reviews of negative decisions by outcome, by quarter "
                             "of review", "reviews", "Outcome", period,
                             _events(shown, "reviews"), REVIEW_NAMES))
    tables.append(_partition("reconsiderations", "Reconsiderations of decisions asked for, by quarter", "reviews",
                             "Asked by", period,
                             _events(shown, "reconsiderations"), REQUESTED_NAMES))
    return Report(f"Modern Slavery: NRM and Duty to Notify statistics, {period.title}", period.code,
                  today.isoformat(), tuple(tables), release_notes(period))


def release_notes(period: Period) -> tuple[str, ...]:
    return (
        f"Figures for each quarter from {period.quarters[0].label} to {period.last.label}, by UK date. NRM "
        f"referrals and Duty to Notify reports are counted apart: a Duty to Notify report is not a referral.",
        SUPPRESSION_NOTE,
        "Each quarter's figures are suppressed on that quarter's own counts, so a quarter shows the same figures on "
        "every page and in every download, and figures are published for whole, ended quarters only: comparing two "
        "periods cannot single anyone out.",
        "No totals over several quarters are shown for breakdowns: they could reveal a hidden quarter's count.",
    )
