"""What the published tables are made of, counted in SQL straight from the cases, quarter by quarter.

:func:`count_quarters` gives each quarter's :data:`Figures`: plain counts (JSON, as
``backend.statistics.cache`` keeps them) from which ``compute`` builds every table. Three GROUP BYs
(:data:`SCANS`) over the cases submitted in the quarters, on the columns derived at intake, read
through the covering index ``ix_cases_submitted_at_statistics``; decisions (with the whole UK days
from referral to decision, so medians and 90th percentiles come from a histogram, exactly),
panel reviews and reconsiderations by the date they were made. No payload is read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from sqlalchemy import Date, cast, func, select, text
from sqlalchemy.orm import Session

from backend.calendar import uk_date
from backend.models import Case, CaseNote, Decision, Review
from backend.statistics import derived
from backend.statistics.periods import Period, Quarter

Figures = dict[str, list[list[Any]]]
"""One quarter's counts: ``cases`` rows ``[route, breakdown, value, count]`` (a breakdown of
:data:`DIMENSIONS`, or ``exploitation:<age group>`` whose values are the exploitation type groups),
``decisions`` ``[stage, outcome, days from referral, count]``, ``reviews`` ``[outcome, count]``,
``reconsiderations`` ``[requested_by, count]``. A few hundred rows a quarter, whatever the cases."""

DIMENSIONS = ("age_group", "organisation_type", "gender", "nationality", "police_force", "local_authority")
"""The case columns broken down by (each against quarter and series)."""
EXPLOITATION = "exploitation:"

SCANS = (("age_group", "organisation_type", "gender", "exploitation_groups"), ("nationality",),
         ("police_force", "local_authority"))
"""The GROUP BYs that count every breakdown: each groups by columns whose combinations stay few, so
three scans of the covering index do the work of seven."""


def empty() -> Figures:
    return {"cases": [], "decisions": [], "reviews": [], "reconsiderations": []}


def span(quarters: Sequence[Quarter]) -> Period:
    """The run of quarters from the first to the last of ``quarters``, to count in one go."""
    first, last = min(quarters), max(quarters)
    return Period(f"{first.code}-{last.code}", "span", tuple(Quarter(index) for index in
                                                             range(first.index, last.index + 1)))


def tune(session: Session) -> None:
    """PostgreSQL, for this transaction only: hash aggregation in memory, and no JIT (compiling the
    few aggregates costs more than it saves)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '32MB'"))
        session.execute(text("SET LOCAL jit = off"))


def count_quarters(session: Session, quarters: Sequence[Quarter]) -> dict[int, Figures]:
    """Each of ``quarters``' figures (by ``Quarter.index``), counted from the cases."""
    tune(session)
    period = span(quarters)
    found: dict[int, Figures] = {quarter.index: empty() for quarter in period.quarters}
    at = [found[quarter.index] for quarter in period.quarters]
    cases: list[Counter[tuple[str, str, Any]]] = [Counter() for _ in period.quarters]
    for names in SCANS:
        places = [text(str(place)) for place in range(1, len(names) + 3)]
        rows = session.execute(select(period.column_of(Case.submitted_at), Case.route,
                                      *(getattr(Case, name) for name in names), func.count())
                               .where(period.between(Case.submitted_at)).group_by(*places))
        for position, route, *values, count in rows:
            _tally(cases[int(position)], route, dict(zip(names, values)), int(count))
    for figures, counted in zip(at, cases):
        figures["cases"] = [[*key, count] for key, count in counted.items()]
    for position, stage, outcome, days, count in _decision_days(session, period):
        at[int(position)]["decisions"].append([stage, outcome, int(days), int(count)])
    for name, when, key, where in (("reviews", Review.reviewed_at, Review.outcome, ()),
                                   ("reconsiderations", CaseNote.at, CaseNote.requested_by,
                                    (CaseNote.kind == "reconsideration",))):
        rows = session.execute(select(period.column_of(when), key, func.count())
                               .where(period.between(when), *where).group_by(text("1"), text("2")))
        for position, value, count in rows:
            at[int(position)][name].append([value, int(count)])
    return {quarter.index: found[quarter.index] for quarter in quarters}


def _tally(counted: Counter[tuple[str, str, Any]], route: str, found: Mapping[str, Any], count: int) -> None:
    """Add one GROUP BY row to the quarter's breakdowns; a case counts in each of its exploitation
    type groups (the bits of ``exploitation_groups``), by its age group."""
    for name, value in found.items():
        if name in DIMENSIONS:
            counted[route, name, value] += count
    if "exploitation_groups" in found:
        for group, bit in derived.EXPLOITATION_GROUPS.items():
            if int(found["exploitation_groups"]) & bit:
                counted[route, EXPLOITATION + found["age_group"], group] += count


def _aware(value: datetime | str) -> datetime:
    """SQLite hands timestamps back as text or naive UTC values."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _decision_days(session: Session, period: Period) -> list[tuple[int, str, str, int, int]]:
    """(position, stage, outcome, UK calendar days from referral to decision, decisions) of the
    decisions made in ``period``: grouped in SQL on PostgreSQL, in Python elsewhere."""
    position = period.column_of(Decision.decided_at)
    joined = Decision.__table__.join(Case.__table__, Case.id == Decision.case_id)
    where = period.between(Decision.decided_at)
    if session.get_bind().dialect.name == "postgresql":
        def uk_day(column: Any) -> Any:
            return cast(func.timezone("Europe/London", column), Date)

        days = uk_day(Decision.decided_at) - uk_day(Case.submitted_at)
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(position, Decision.stage, Decision.outcome, days, func.count()).select_from(joined).where(where)
            .group_by(text("1"), text("2"), text("3"), text("4")))]
    counted: Counter[tuple[int, str, str, int]] = Counter()
    for place, stage, outcome, decided, submitted in session.execute(
            select(position, Decision.stage, Decision.outcome, Decision.decided_at, Case.submitted_at)
            .select_from(joined).where(where)):
        counted[int(place), stage, outcome, (uk_date(_aware(decided)) - uk_date(_aware(submitted))).days] += 1
    return [(*key, count) for key, count in counted.items()]


def histogram_percentile(histogram: Mapping[int, int] | Mapping[float, int], fraction: float) -> float:
    """PostgreSQL's ``percentile_cont`` over the values a histogram (value -> how many) holds: linear
    interpolation between the two nearest ranks, without listing every value."""
    ordered = sorted((value, count) for value, count in histogram.items() if count)
    total = sum(count for _, count in ordered)
    position = fraction * (total - 1)
    low = int(position)

    def at(rank: int) -> float:
        seen = 0
        for value, count in ordered:
            seen += count
            if seen > rank:
                return float(value)
        raise ValueError("rank beyond the histogram")

    low_value, high_value = at(low), at(min(low + 1, total - 1))
    return low_value + (high_value - low_value) * (position - low)


def percentile_cont(values: Sequence[float], fraction: float) -> float:
    """PostgreSQL's ``percentile_cont`` over ``values``."""
    return histogram_percentile(Counter(values), fraction)


def day_histograms(figures: Figures) -> dict[str, dict[int, int]]:
    """Stage -> {days from referral to decision: decisions} of one quarter's figures."""
    histograms: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for stage, _outcome, days, count in figures["decisions"]:
        histograms[stage][int(days)] += int(count)
    return histograms
