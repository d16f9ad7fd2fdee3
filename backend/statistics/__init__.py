"""Aggregate statistics for analysts: counts only, never case-level data (DESIGN §1, §4).

The captured referrals are analysed to aid prevention and law enforcement: how many referrals
and Duty to Notify reports there are (DtN reports count here although they never enter the decision
queue), month by month, by status, route, age, nation of referral, type of exploitation, where it
happened, nationality and gender, what the Reasonable Grounds (RG) and Conclusive Grounds (CG)
decisions and the panel's reviews were, how long RG decisions take and how many are overdue. One
function, :func:`statistics`, computes them all; ``GET /api/v1/stats``, the page ``/casework/stats``
and ``nrm stats`` show its result (the roles in ``backend.api.STATS_ROLES``).

What comes out
--------------
Every breakdown is an object of counts keyed by a stable code (``labels`` gives the readable name
of each code, for pages and reports). Answers come from the decrypted payload: ``types-of-exploitation``
(a case may have several, so that table does not add up to the total), ``where-exploitation-happened``,
``pv-nationality`` (the 10 most common, then ``other``; the lookup's "Unknown" is ``not-known``) and
``pv-gender``; choice labels are the ``x-choices`` of ``flows.schema.payload_schema()``. An answer
that is missing, or not one of the current form's choices, counts as ``not-recorded``, so every
single-answer table adds up to the total. Months are UK calendar months of submission: the 12
months up to the end of the period (or today), with ``earlier`` for anything before them. No free
text, name, reference or date of a case is ever copied into the result.

Small-number suppression (the rule, in full)
--------------------------------------------
1. *Primary*: a count from 1 to 4 is shown as ``"<5"``. Zero stays 0.
2. *Secondary*: in a table with a ``"<5"`` cell, the smallest other count (not zero; the first in
   table order on a tie) is hidden too, shown as ``"[c]"`` ("confidential"). Always, not only when
   needed: hiding "only when needed" would itself tell that the small cells were, say, all 1s.
3. *Withholding*: the cells of a table add up to its total, so the hidden cells add up to the total
   minus the shown ones. If that sum can still pin a ``"<5"`` cell down to one value, knowing that
   each ``"<5"`` is 1 to 4 and the ``"[c]"`` is at least 5 and no bigger than the smallest count
   still shown (it was the smallest), the whole table is withheld: every cell, zeros included, is
   ``"[c]"``. Examples: 1 and 5 (the 1 is 6 - 5), 4, 5 and 5 (the hidden 5 is at most 5, so the 4
   is 9 - 5). Rules 2 and 3 apply to the single-answer tables, the month table and the decisions
   and reviews tables; the exploitation-type table (several answers per case, so no total) and the
   single figures get rule 1 only. A test checks every small table exhaustively against someone who
   knows these rules, the total and the shown cells.
4. *Totals stay exact* (``total`` is ``"<5"`` only when it is 1 to 4 itself). Rounding them would
   protect nothing: any table shown in full adds up to the exact total anyway. Rules 2 and 3 are what
   keep hidden cells hidden, and they assume the total is known.
5. The median number of days from submission to the first RG decision is shown only when at least
   5 cases have had one (else null).

The rules protect each table on its own. They do not reason across tables (e.g. a nation's count
in one table against the same cases in another; the ``dtn`` route and the ``dtn_recorded`` status are
the same cases and get the same counts and the same rule), so a release still goes through an
analyst.

Filters and performance
-----------------------
:func:`parse_period` reads the optional ``from``/``to`` dates (``YYYY-MM-DD``, UK dates of
submission, both inclusive) and raises :class:`InvalidPeriod` with a readable message. Payloads are
encrypted, so every case in the period is read and decrypted once, in a single streamed pass
(``yield_per``) that feeds every table: O(cases) per request. That is fine at NRM volumes (some
tens of thousands of cases a year); if it stops being fine, keep the few answers statistics need in
plain columns at intake, or cache the result. Decisions and reviews are counted in SQL.

Everything here reads in the caller's transaction and commits nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from math import inf
from typing import Any, Iterable, Mapping, Union

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session

from backend.calendar import UK_TIME, uk_date
from backend.db import utcnow
from backend.lifecycle import AWAITING_RG, status_label
from backend.models import (AGE_ROUTES, CASE_STATUSES, DECISION_OUTCOMES, DECISION_STAGES, FR_LOCATIONS,
                            REVIEW_OUTCOMES, ROUTES, Case, Decision, Review)

SUPPRESS_BELOW = 5
SMALL = "<5"
HIDDEN = "[c]"
MIN_FOR_MEDIAN = 5
TOP_NATIONALITIES = 10
MONTHS = 12
STREAM_BATCH = 500

NOT_RECORDED = "not-recorded"
NOT_KNOWN = "not-known"
OTHER = "other"
EARLIER = "earlier"

Count = Union[int, str]
"""A count as published: an int, ``"<5"`` (1 to 4) or ``"[c]"`` (hidden so a "<5" stays hidden)."""

SUPPRESSION_NOTE = (f'counts from 1 to {SUPPRESS_BELOW - 1} are shown as "{SMALL}"; "{HIDDEN}" marks a count '
                    f'hidden so that a "{SMALL}" count cannot be worked out from the total (a table of '
                    f'"{HIDDEN}" only is withheld)')

ROUTE_NAMES = {"nrm": "NRM referral", "dtn": "Duty to Notify report"}
AGE_ROUTE_NAMES = {"adult": "Adult", "child": "Child", "unknown": "Age not known (treated as a child)"}
STAGE_NAMES = {"rg": "Reasonable Grounds", "cg": "Conclusive Grounds"}
REVIEW_NAMES = {"upheld": "Negative decision upheld", "returned": "Returned for reconsideration"}
SPECIAL_NAMES = {NOT_RECORDED: "Not recorded", NOT_KNOWN: "Not known", OTHER: "Other nationalities"}

EXPLOITATION_TYPES = "types-of-exploitation"
EXPLOITATION_LOCATION = "where-exploitation-happened"
NATIONALITY = "pv-nationality"
GENDER = "pv-gender"
NATION = "fr-location"
UNKNOWN_NATIONALITY = "Unknown"

TABLES: tuple[tuple[str, str, str], ...] = (
    ("by_route", "Cases by route", "Route"),
    ("by_month", "Cases by month submitted", "Month"),
    ("by_status", "Cases by status", "Status"),
    ("by_age_route", "Cases by age", "Age"),
    ("by_fr_location", "Cases by where the referral was made", "Nation"),
    ("by_exploitation_type", "Types of exploitation (a case can have several)", "Type of exploitation"),
    ("by_exploitation_location", "Where the exploitation happened", "Where"),
    ("by_nationality", f"Nationality (the {TOP_NATIONALITIES} most common)", "Nationality"),
    ("by_gender", "Gender", "Gender"),
    ("decisions", "Decisions made", "Decision"),
    ("panel_reviews", "Panel reviews of negative decisions", "Outcome"),
)
"""Every breakdown of the result: key, caption and first-column heading (the page and ``nrm stats``)."""


# --- suppression --------------------------------------------------------------------------------

def primary(value: int) -> Count:
    """Rule 1: 1 to 4 -> ``"<5"``; zero and 5 or more unchanged."""
    return SMALL if 0 < value < SUPPRESS_BELOW else value


def suppress(counts: Mapping[str, int]) -> dict[str, Count]:
    """Primary suppression only (rule 1), for tables whose cells do not add up to a total."""
    return {key: primary(value) for key, value in counts.items()}


def recoverable(small: int, hidden_sum: int, others: int = 0, other_max: float = inf) -> bool:
    """Whether ``small`` hidden "<5" cells (1 to 4 each) and ``others`` hidden "[c]" cells (from 5 to
    ``other_max`` each), adding up to ``hidden_sum``, leave a "<5" cell only one possible value.

    Exact for such box constraints: a "<5" cell can be anything from ``hidden_sum`` minus the most
    the other hidden cells can hold, to ``hidden_sum`` minus the least they can hold, within 1..4.
    """
    if small == 0:
        return False
    highest = min(SUPPRESS_BELOW - 1, hidden_sum - (small - 1) - SUPPRESS_BELOW * others)
    lowest = max(1, hidden_sum - (SUPPRESS_BELOW - 1) * (small - 1) - (others * other_max if others else 0))
    return highest <= lowest


def suppress_table(counts: Mapping[str, int]) -> dict[str, Count]:
    """Rules 1 to 3 for a table whose cells add up to a known total (same keys, same order)."""
    small = [key for key, value in counts.items() if 0 < value < SUPPRESS_BELOW]
    if not small:
        return dict(counts)
    big = sorted((value, position, key) for position, (key, value) in enumerate(counts.items())
                 if value >= SUPPRESS_BELOW)
    hidden_sum = sum(counts[key] for key in small)
    extra, other_max = None, inf
    if big:
        value, position, extra = big[0]
        hidden_sum += value
        # it was the smallest: no bigger than any count still shown (smaller if that one comes first)
        other_max = min([shown if position < place else shown - 1 for shown, place, _ in big[1:]], default=inf)
    if recoverable(len(small), hidden_sum, 1 if extra is not None else 0, other_max):
        return {key: HIDDEN for key in counts}
    return {key: SMALL if key in small else HIDDEN if key == extra else value for key, value in counts.items()}


# --- the period ---------------------------------------------------------------------------------

class InvalidPeriod(ValueError):
    """A ``from``/``to`` filter that is not a date, or an empty period. ``str()`` is the message;
    ``field`` is ``from`` or ``to``, ``problem`` is ``date`` (not a real YYYY-MM-DD date) or
    ``order`` (``from`` after ``to``), for pages that word it their own way."""

    def __init__(self, message: str, field: str, problem: str) -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Period:
    """Cases submitted from ``start`` to ``end`` (UK dates, inclusive); None = unbounded."""

    start: date | None = None
    end: date | None = None

    def clause(self) -> Any:
        """The SQL condition on ``Case.submitted_at``."""
        conditions = []
        if self.start is not None:
            conditions.append(Case.submitted_at >= _uk_midnight(self.start))
        if self.end is not None:
            conditions.append(Case.submitted_at < _uk_midnight(self.end + timedelta(days=1)))
        return and_(*conditions) if conditions else true()

    def as_json(self) -> dict[str, str | None]:
        return {"from": _iso(self.start), "to": _iso(self.end)}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _uk_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UK_TIME).astimezone(timezone.utc)


def _parse_date(name: str, text: str | None) -> date | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if not _ISO_DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidPeriod(f'"{name}" must be a real date written YYYY-MM-DD, for example 2026-01-31 '
                            f'(got {text[:20]!r})', name, "date") from None


def parse_period(start: str | None = None, end: str | None = None) -> Period:
    """The period of the ``from``/``to`` filters (either may be empty); :class:`InvalidPeriod` if bad."""
    period = Period(_parse_date("from", start), _parse_date("to", end))
    if period.start is not None and period.end is not None and period.start > period.end:
        raise InvalidPeriod(f'"from" ({period.start.isoformat()}) must be the same as or before '
                            f'"to" ({period.end.isoformat()})', "from", "order")
    return period


# --- labels from the published schema -----------------------------------------------------------

@lru_cache(maxsize=1)
def _answer_schemas() -> dict[str, Any]:
    from flows.schema import payload_schema  # the published schema only: no other flows module

    return payload_schema()["properties"]["answers"]["properties"]


def choice_labels(question_id: str) -> dict[str, str]:
    """The ``x-choices`` of a question of the form: value -> label, in the form's order."""
    return dict(_answer_schemas()[question_id].get("x-choices", {}))


def nationalities() -> frozenset[str]:
    """Every entry of the nationality list (a nationality kept as typed counts as ``other``)."""
    schema = _answer_schemas()[NATIONALITY]
    return frozenset(schema.get("enum") or schema.get("x-entries", ()))


# --- months -------------------------------------------------------------------------------------

def _month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _month_keys(period: Period, today: date) -> tuple[list[str], bool]:
    """The month keys to show, oldest first, and whether cases before them may exist (``earlier``)."""
    last = (period.end or today).replace(day=1)
    first = _months_back(last, MONTHS - 1)
    if period.start is not None and period.start.replace(day=1) > first:
        first = period.start.replace(day=1)
        last = max(last, first)  # a period that starts after today still has its first month
    keys = []
    month = first
    while month <= last:
        keys.append(_month_key(month))
        month = _months_back(month, -1)
    return keys, period.start is None or period.start < first


def month_label(key: str) -> str:
    """``2026-03`` -> ``March 2026``."""
    return f"{date(int(key[:4]), int(key[5:7]), 1):%B %Y}"


# --- the single pass over the cases -------------------------------------------------------------

def _zeros(keys: Iterable[str]) -> dict[str, int]:
    return {key: 0 for key in keys}


def _choice(answers: Mapping[str, Any], question_id: str, allowed: Mapping[str, Any]) -> str:
    value = answers.get(question_id)
    return value if isinstance(value, str) and value in allowed else NOT_RECORDED


class _Tally:
    """Every per-case count, filled from one read of each case."""

    def __init__(self, month_keys: list[str], earlier: bool, today: date) -> None:
        self.today = today
        self.total = 0
        self.overdue = 0
        self.status = _zeros(CASE_STATUSES)
        self.route = _zeros(ROUTES)
        self.age_route = _zeros(AGE_ROUTES)
        self.fr_location = _zeros(FR_LOCATIONS)
        self.month = _zeros(([EARLIER] if earlier else []) + month_keys)
        self.first_month = month_keys[0]
        self.last_month = month_keys[-1]
        self.type_choices = choice_labels(EXPLOITATION_TYPES)
        self.location_choices = choice_labels(EXPLOITATION_LOCATION)
        self.gender_choices = choice_labels(GENDER)
        self.nationality_values = nationalities()
        self.exploitation_type = _zeros([*self.type_choices, NOT_RECORDED])
        self.exploitation_location = _zeros([*self.location_choices, NOT_RECORDED])
        self.gender = _zeros([*self.gender_choices, NOT_RECORDED])
        self.nationality: dict[str, int] = {}
        self.nationality_special = _zeros([OTHER, NOT_KNOWN, NOT_RECORDED])

    def add(self, submitted_at: datetime, status: str, route: str, age_route: str, fr_location: str,
            rg_due: date | None, payload: Any) -> None:
        self.total += 1
        for counts, value in ((self.status, status), (self.route, route), (self.age_route, age_route),
                              (self.fr_location, fr_location)):
            if value in counts:
                counts[value] += 1
        if status == AWAITING_RG and rg_due is not None and rg_due < self.today:
            self.overdue += 1
        month = _month_key(uk_date(submitted_at))
        if month < self.first_month:
            month = EARLIER if EARLIER in self.month else self.first_month
        elif month > self.last_month:
            month = self.last_month
        self.month[month] += 1
        answers = payload.get("answers") if isinstance(payload, dict) else None
        answers = answers if isinstance(answers, dict) else {}
        self._answers(answers)

    def _answers(self, answers: Mapping[str, Any]) -> None:
        types = answers.get(EXPLOITATION_TYPES)
        found = {value for value in types if isinstance(value, str) and value in self.type_choices} \
            if isinstance(types, list) else set()
        for value in found:
            self.exploitation_type[value] += 1
        if not found:
            self.exploitation_type[NOT_RECORDED] += 1
        self.exploitation_location[_choice(answers, EXPLOITATION_LOCATION, self.location_choices)] += 1
        self.gender[_choice(answers, GENDER, self.gender_choices)] += 1
        nationality = answers.get(NATIONALITY)
        if nationality == UNKNOWN_NATIONALITY:
            self.nationality_special[NOT_KNOWN] += 1
        elif isinstance(nationality, str) and nationality in self.nationality_values:
            self.nationality[nationality] = self.nationality.get(nationality, 0) + 1
        elif nationality is None:
            self.nationality_special[NOT_RECORDED] += 1
        else:
            self.nationality_special[OTHER] += 1  # not on the current list: never shown by name

    def nationality_table(self) -> dict[str, Count]:
        """The most common nationalities, the rest as ``other``; suppressed, shown cells first
        (largest first), then hidden ones alphabetically, so the order says nothing about them."""
        ranked = sorted(self.nationality.items(), key=lambda item: (-item[1], item[0]))
        top = dict(ranked[:TOP_NATIONALITIES])
        rest = sum(count for _, count in ranked[TOP_NATIONALITIES:])
        special = dict(self.nationality_special)
        special[OTHER] += rest
        table = suppress_table({**top, **special})
        shown = sorted((key for key in top if isinstance(table[key], int)), key=lambda k: (-top[k], k))
        hidden = sorted(key for key in top if not isinstance(table[key], int))
        return {key: table[key] for key in [*shown, *hidden, *special]}


# --- decisions and reviews ----------------------------------------------------------------------

def _decision_counts(session: Session, period: Period) -> dict[str, int]:
    counts = {f"{stage}-{outcome}": 0 for stage in DECISION_STAGES for outcome in DECISION_OUTCOMES}
    rows = session.execute(select(Decision.stage, Decision.outcome, func.count(Decision.id))
                           .join(Case, Case.id == Decision.case_id).where(period.clause())
                           .group_by(Decision.stage, Decision.outcome))
    for stage, outcome, count in rows:
        key = f"{stage}-{outcome}"
        if key in counts:
            counts[key] = int(count)
    return counts


def _review_counts(session: Session, period: Period) -> dict[str, int]:
    counts = _zeros(REVIEW_OUTCOMES)
    rows = session.execute(select(Review.outcome, func.count(Review.id))
                           .join(Case, Case.id == Review.case_id).where(period.clause())
                           .group_by(Review.outcome))
    for outcome, count in rows:
        if outcome in counts:
            counts[outcome] = int(count)
    return counts


def _days_to_rg(session: Session, period: Period) -> list[int]:
    """Per case with an RG decision: UK calendar days from submission to its first RG decision."""
    rows = session.execute(select(Case.submitted_at, func.min(Decision.decided_at))
                           .join(Decision, Decision.case_id == Case.id)
                           .where(Decision.stage == "rg", period.clause())
                           .group_by(Case.id, Case.submitted_at))
    return [(uk_date(_aware(decided)) - uk_date(submitted)).days for submitted, decided in rows]


def _aware(value: datetime | str) -> datetime:
    """``min()`` over a timestamp column: SQLite may hand back text or a naive UTC value."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def median(values: list[int]) -> float | None:
    """The median, or None for fewer than ``MIN_FOR_MEDIAN`` values (rule 4)."""
    if len(values) < MIN_FOR_MEDIAN:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


# --- the result ---------------------------------------------------------------------------------

def _labels(tally: _Tally, nationality_keys: Iterable[str]) -> dict[str, dict[str, str]]:
    def with_special(labels: Mapping[str, str], keys: Iterable[str]) -> dict[str, str]:
        return {key: labels.get(key) or SPECIAL_NAMES.get(key, key) for key in keys}

    months = {key: (f"Before {month_label(tally.first_month)}" if key == EARLIER else month_label(key))
              for key in tally.month}
    return {
        "by_route": dict(ROUTE_NAMES),
        "by_month": months,
        "by_status": {status: status_label(status) for status in CASE_STATUSES},
        "by_age_route": dict(AGE_ROUTE_NAMES),
        "by_fr_location": with_special(choice_labels(NATION), FR_LOCATIONS),
        "by_exploitation_type": with_special(tally.type_choices, tally.exploitation_type),
        "by_exploitation_location": with_special(tally.location_choices, tally.exploitation_location),
        "by_nationality": with_special({}, nationality_keys),
        "by_gender": with_special(tally.gender_choices, tally.gender),
        "decisions": {f"{stage}-{outcome}": f"{STAGE_NAMES[stage]}: {outcome}"
                      for stage in DECISION_STAGES for outcome in DECISION_OUTCOMES},
        "panel_reviews": dict(REVIEW_NAMES),
    }


def statistics(session: Session, now: datetime | None = None, period: Period | None = None) -> dict[str, Any]:
    """Every aggregate of the cases submitted in ``period`` (default: all), suppressed as the module
    docstring says. JSON-ready; the shape is ``Stats`` in ``backend.openapi``."""
    now = now or utcnow()
    period = period or Period()
    today = uk_date(now)
    month_keys, earlier = _month_keys(period, today)
    tally = _Tally(month_keys, earlier, today)
    rows = session.execute(
        select(Case.submitted_at, Case.status, Case.route, Case.age_route, Case.fr_location, Case.rg_due_date,
               Case.payload).where(period.clause()).order_by(Case.id).execution_options(yield_per=STREAM_BATCH))
    for row in rows:
        tally.add(*row)
    days = _days_to_rg(session, period)
    nationality = tally.nationality_table()
    return {
        "as_of": today.isoformat(),
        "period": period.as_json(),
        "total": primary(tally.total),
        "overdue_rg": primary(tally.overdue),
        "rg_decided_cases": primary(len(days)),
        "median_days_to_rg_decision": median(days),
        "by_route": suppress_table(tally.route),
        "by_month": suppress_table(tally.month),
        "by_status": suppress_table(tally.status),
        "by_age_route": suppress_table(tally.age_route),
        "by_fr_location": suppress_table(tally.fr_location),
        "by_exploitation_type": suppress(tally.exploitation_type),
        "by_exploitation_location": suppress_table(tally.exploitation_location),
        "by_nationality": nationality,
        "by_gender": suppress_table(tally.gender),
        "decisions": suppress_table(_decision_counts(session, period)),
        "panel_reviews": suppress_table(_review_counts(session, period)),
        "labels": _labels(tally, nationality),
        "suppression": SUPPRESSION_NOTE,
    }


# --- presentation (the page and ``nrm stats``) --------------------------------------------------

@dataclass
class Table:
    """One breakdown ready to show: caption, first-column heading, (label, count) rows."""

    key: str
    caption: str
    heading: str
    rows: list[tuple[str, Count]]


def tables(stats: Mapping[str, Any]) -> list[Table]:
    """The breakdowns of a :func:`statistics` result in reading order, labelled."""
    result = []
    for key, caption, heading in TABLES:
        labels = stats["labels"].get(key, {})
        result.append(Table(key, caption, heading,
                            [(labels.get(code, code), count) for code, count in stats[key].items()]))
    return result


def totals(stats: Mapping[str, Any]) -> list[tuple[str, Count | str]]:
    """The single figures, labelled."""
    median_days = stats["median_days_to_rg_decision"]
    return [
        ("All cases (NRM referrals and Duty to Notify reports)", stats["total"]),
        ("RG decisions overdue (past the 5 working day target)", stats["overdue_rg"]),
        ("Cases with an RG decision", stats["rg_decided_cases"]),
        (f"Median days from submission to first RG decision (shown from {MIN_FOR_MEDIAN} cases)",
         f"{median_days:g}" if median_days is not None else "not shown"),
    ]


def describe_period(stats: Mapping[str, Any]) -> str:
    """``submitted from 1 January 2026 to 31 March 2026`` (or ``all cases``)."""
    start, end = stats["period"]["from"], stats["period"]["to"]
    if start and end:
        return f"submitted from {_day(start)} to {_day(end)}"
    if start:
        return f"submitted on or after {_day(start)}"
    if end:
        return f"submitted on or before {_day(end)}"
    return "all cases"


def _day(text: str) -> str:
    value = date.fromisoformat(text)
    return f"{value.day} {value:%B %Y}"


def text_report(stats: Mapping[str, Any]) -> str:
    """The result as plain-text tables (``nrm stats``): the same figures as the page."""
    lines = [f"NRM statistics as of {_day(stats['as_of'])}: {describe_period(stats)}",
             f"Suppression: {stats['suppression']}.", ""]
    sections = [("Totals", "Measure", totals(stats))]
    sections += [(table.caption, table.heading, table.rows) for table in tables(stats)]
    for caption, heading, rows in sections:
        width = max([len(heading), *(len(label) for label, _ in rows)])
        count_width = max([len("Count"), *(len(str(count)) for _, count in rows)])
        lines.append(caption)
        lines.append(f"  {heading:<{width}}  {'Count':>{count_width}}")
        lines.append(f"  {'-' * width}  {'-' * count_width}")
        lines.extend(f"  {label:<{width}}  {count!s:>{count_width}}" for label, count in rows)
        lines.append("")
    return "\n".join(lines)
