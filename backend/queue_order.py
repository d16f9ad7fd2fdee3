"""Where a case stands in the decision and review queues, kept as columns of ``cases``.

The queues are read in one order (priority first, then due date, then how long the case has
waited, then id) and "claim next" wants the first free case in that order. Computing that order
from ``status`` with a CASE expression means sorting the whole queue on every read; so each case
carries its place as plain columns, derived here and nowhere else (an ORM hook runs
:func:`place` before every INSERT and UPDATE of a case: intake, every lifecycle transition,
suspension and resumption, returns, claims), and one composite index serves both queues in
exactly that order:

- ``queue``: ``decision`` (an NRM case awaiting RG, or awaiting CG once its recovery date is
  known), ``review`` (a negative decision waiting for the panel), else NULL;
- ``queue_rank``: 0 for a priority case, 1 otherwise (ascending, like every other key);
- ``queue_due_date``: the target date of what it waits for (:data:`NO_DUE_DATE` when it has none);
- ``queue_since``: submission (decision queue) or the negative decision (review queue);
- ``queue_available_on``: the first day a CG case may be decided (the recovery period's end);
  :data:`AVAILABLE_NOW` when it may be decided now.

Migration 0012 fills these columns for existing cases with one UPDATE (no payload is read).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import event

from backend.db import utcnow
from backend.models import Case

DECISION_STATUSES = ("awaiting_rg", "awaiting_cg")
"""The decision queue."""
REVIEW_STATUSES = ("rg_review", "cg_review")
"""The review queue."""
DECISION = "decision"
REVIEW = "review"
QUEUES = (DECISION, REVIEW)
NO_DUE_DATE = date(1, 1, 1)
"""A queued case without a target date sorts before every dated one (it needs looking at) and is
never overdue; every queued case so has a date to page on."""
AVAILABLE_NOW = date(1, 1, 1)
"""``queue_available_on`` of a queued case that may be decided now: a date rather than NULL, so that
"may be decided today" is one comparison, which an index checks on its own entries (claim-next
reads past cases still in their recovery period without visiting their rows; migration 0021)."""
DUE_COLUMN_OF = {"awaiting_rg": "rg_due_date", "awaiting_cg": "cg_due_date",
                 "rg_review": "review_due_date", "cg_review": "review_due_date"}
"""The target date of each waiting status (a suspended case's clocks stand still: none is due)."""
ORDER_COLUMNS = ("queue_rank", "queue_due_date", "queue_since", "id")
"""The queue order, after ``queue``: the columns of the index, all ascending."""


PLACE_COLUMNS = ("queue", "queue_rank", "queue_due_date", "queue_since", "queue_available_on")


class Place(NamedTuple):
    queue: str | None
    rank: int | None
    due_date: date | None
    since: datetime | None
    available_on: date | None


def queue_of(status: str | None, route: str | None, cg_not_before: date | None) -> str | None:
    """The queue a case in ``status`` waits in, if any."""
    if route == "nrm" and (status == "awaiting_rg" or (status == "awaiting_cg" and cg_not_before is not None)):
        return DECISION
    if status in REVIEW_STATUSES:
        return REVIEW
    return None


def place(case: Case) -> Place:
    """The queue columns of ``case``, from its status, route, priority and clocks."""
    queue = queue_of(case.status, case.route, case.cg_not_before)
    if queue is None:
        return Place(None, None, None, None, None)
    due = getattr(case, DUE_COLUMN_OF[case.status])
    since = case.submitted_at if queue == DECISION else (case.status_changed_at or case.submitted_at)
    available_on = case.cg_not_before if case.status == "awaiting_cg" else AVAILABLE_NOW
    return Place(queue, 0 if case.priority else 1, due or NO_DUE_DATE, since, available_on)


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _keep_place(_mapper: Any, _connection: Any, case: Case) -> None:
    """The one place the queue columns are written (see the module docstring)."""
    if case.submitted_at is None:  # the column default, needed now for the queue order
        case.submitted_at = utcnow()
    for column, value in zip(PLACE_COLUMNS, place(case)):
        if getattr(case, column) != value:  # unchanged columns stay out of the statement
            setattr(case, column, value)


_QUEUED = ("(route = 'nrm' AND (status = 'awaiting_rg' OR (status = 'awaiting_cg' AND cg_not_before IS NOT NULL)))"
           " OR status IN ('rg_review', 'cg_review')")
BACKFILL_SQL = f"""
UPDATE cases SET
  queue = CASE WHEN status IN ('rg_review', 'cg_review') THEN '{REVIEW}' ELSE '{DECISION}' END,
  queue_rank = CASE WHEN priority THEN 0 ELSE 1 END,
  queue_due_date = COALESCE(CASE status WHEN 'awaiting_rg' THEN rg_due_date WHEN 'awaiting_cg' THEN cg_due_date
                                        ELSE review_due_date END, '{NO_DUE_DATE.isoformat()}'),
  queue_since = CASE WHEN status IN ('rg_review', 'cg_review') THEN COALESCE(status_changed_at, submitted_at)
                     ELSE submitted_at END,
  queue_available_on = CASE WHEN status = 'awaiting_cg' THEN cg_not_before ELSE '{AVAILABLE_NOW.isoformat()}' END
WHERE {_QUEUED}
"""
""":func:`place` in SQL, for migration 0012 and bulk loads (cases in no queue keep NULLs)."""
