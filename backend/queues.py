"""The decision queue, the review queue and caseworkers' claims (aggregate statistics are
``backend.statistics``).

Decision queue: NRM cases awaiting an RG decision, or a CG decision once the recovery period is
over; priority cases first (children and people whose age is not known, and urgent safety cases:
the person is still in the exploitative situation), then by due date (RG: ``RG_WORKING_DAYS`` after
submission or after re-entering the queue; CG: ``CG_WORKING_DAYS`` after the recovery period ends),
oldest first. A case past its due date is *overdue*. A case the panel returned is marked, with the
panel's reasons, and is not offered to the caseworker whose decision was returned (unless
``RETURNED_TO_ANOTHER_CASEWORKER`` is off).

Claims: a caseworker claims a case (or the next one, atomically) before deciding it. A claim lasts
``CLAIM_MINUTES`` (default 60); an expired claim is free for anyone to take and is cleared by
``nrm jobs run``. On PostgreSQL "claim next" is ``SELECT ... FOR UPDATE SKIP LOCKED``, so
concurrent caseworkers each get a different case without waiting; on SQLite the write transaction
(``BEGIN IMMEDIATE``) serialises them.

Review queue: cases whose negative decision waits for an independent panel member (never the
decision maker, never from the referring organisation), due ``REVIEW_WORKING_DAYS`` after the
decision and overdue after that. A panel member may read only those cases and the ones they
reviewed (:func:`panel_may_read`).

Everything here works in the caller's transaction and commits nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case as sql_case, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from backend import audit
from backend.calendar import uk_date
from backend.db import utcnow
from backend.lifecycle import (AWAITING_CG, AWAITING_RG, DECISION_STATUSES, REVIEW_STATUSES, STAGE_OF,
                               ClaimConflict, NotPermitted, Refused, claim_active, claim_minutes,
                               decided_by, lock_case, release_claim, returned_to,
                               returned_to_another_caseworker, reviewed_by, same_organisation, status_label)
from backend.models import Case, Decision, Review, User


# --- queue entries ------------------------------------------------------------------------------

@dataclass
class QueueEntry:
    """One line of a queue: no personal data, only what is needed to pick and prioritise."""

    reference: str
    status: str
    status_label: str
    stage: str
    priority: bool
    due_date: date | None
    overdue: bool
    submitted_at: datetime
    age_route: str
    fr_location: str
    claimed: bool
    claimed_by_me: bool
    claim_expires_at: datetime | None
    returned: bool
    """The panel returned the last decision: it waits to be decided again."""
    returned_reasons: str | None
    """The panel's reasons for returning it."""
    returned_to_decider: bool
    """The viewer made the decision the panel returned, so it is not theirs to take."""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("due_date", "submitted_at", "claim_expires_at"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        return data


DUE_COLUMNS = {AWAITING_RG: Case.rg_due_date, AWAITING_CG: Case.cg_due_date,
               **{status: Case.review_due_date for status in REVIEW_STATUSES}}
"""The target date of each waiting status (a suspended case's clocks stand still: none is due)."""


def _due_column() -> Any:
    return sql_case(*((Case.status == status, column) for status, column in DUE_COLUMNS.items()), else_=None)


def due_date(case: Case) -> date | None:
    """The target date of what the case waits for: an RG or CG decision, or the panel's review."""
    column = DUE_COLUMNS.get(case.status)
    return getattr(case, column.key) if column is not None else None


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    """Past the target date of what it waits for (RG or CG decision, panel review)."""
    due = due_date(case)
    return due is not None and due < uk_date(now or utcnow())


def overdue_clause(now: datetime | None = None) -> Any:
    """The SQL form of :func:`is_overdue`, for filtering and counting."""
    today = uk_date(now or utcnow())
    return or_(*(and_(Case.status == status, column < today) for status, column in DUE_COLUMNS.items()))


def returned_reasons(case: Case) -> str | None:
    """The panel's reasons for returning the case, while it waits to be decided again."""
    if case.returned_at is None:
        return None
    returned = [review for review in case.reviews if review.outcome == "returned"]
    return returned[-1].reasons if returned else None


def _decision_queue_clause(now: datetime) -> Any:
    return and_(Case.route == "nrm", Case.status.in_(DECISION_STATUSES),
                or_(Case.status == AWAITING_RG, Case.cg_not_before <= uk_date(now)))


DECISION_ORDER = (Case.priority.desc(), _due_column().asc(), Case.submitted_at.asc(), Case.id.asc())


def _entry(case: Case, now: datetime, user: User | None) -> QueueEntry:
    active = claim_active(case, now)
    return QueueEntry(
        reference=case.reference, status=case.status, status_label=status_label(case.status),
        stage=STAGE_OF.get(case.status, ""), priority=bool(case.priority), due_date=due_date(case),
        overdue=is_overdue(case, now), submitted_at=case.submitted_at, age_route=case.age_route,
        fr_location=case.fr_location, claimed=active,
        claimed_by_me=active and user is not None and case.claimed_by_id == user.id,
        claim_expires_at=case.claim_expires_at if active else None,
        returned=case.returned_at is not None, returned_reasons=returned_reasons(case),
        returned_to_decider=returned_to(case, user))


def decision_queue(session: Session, now: datetime | None = None, user: User | None = None,
                   *, overdue_only: bool = False, limit: int | None = None) -> list[QueueEntry]:
    """The decision queue in the order cases should be taken (claimed ones included, marked)."""
    now = now or utcnow()
    statement = (select(Case).where(_decision_queue_clause(now)).order_by(*DECISION_ORDER)
                 .options(selectinload(Case.reviews)))  # a returned case shows the panel's reasons
    if overdue_only:
        statement = statement.where(overdue_clause(now))
    if limit is not None:
        statement = statement.limit(limit)
    return [_entry(case, now, user) for case in session.scalars(statement)]


def review_queue(session: Session, now: datetime | None = None, user: User | None = None) -> list[QueueEntry]:
    """Negative decisions waiting for the panel, priority first then longest waiting.

    With ``user``, only the cases that user may review (not decided by them, not referred by their
    organisation)."""
    now = now or utcnow()
    statement = select(Case).where(Case.status.in_(REVIEW_STATUSES)).order_by(
        Case.priority.desc(), Case.review_due_date.asc(), Case.status_changed_at.asc(), Case.id.asc())
    if user is not None:
        statement = statement.where(~exists().where(Decision.case_id == Case.id,
                                                    Decision.decided_by_id == user.id))
    cases = session.scalars(statement).all()
    if user is not None:
        cases = [case for case in cases if not same_organisation(user.organisation, case.organisation)]
    return [_entry(case, now, user) for case in cases]


def panel_may_read(session: Session, case: Case, user: User) -> bool:
    """Need to know: a panel member reads a case only while it waits in the review queue for a
    review they may give (not decided by them, not referred by their organisation), and any case
    they reviewed themselves; never other negative cases, even of their own organisation."""
    if reviewed_by(session, case, user):
        return True
    return (case.status in REVIEW_STATUSES and not decided_by(session, case, user)
            and not same_organisation(user.organisation, case.organisation))


# --- claims -------------------------------------------------------------------------------------

def _require_caseworker(user: User) -> None:
    if user is None or not user.active or user.role != "caseworker":
        raise NotPermitted("only a caseworker may claim cases")


def _take(session: Session, case: Case, user: User, now: datetime) -> Case:
    renewed = case.claimed_by_id == user.id and claim_active(case, now)
    case.claimed_by_id = user.id
    case.claimed_at = now
    case.claim_expires_at = now + timedelta(minutes=claim_minutes())
    audit.record(session, f"user:{user.id}", "case.claimed", case.reference,
                 {"expires_at": case.claim_expires_at.isoformat(), "renewed": renewed,
                  "stage": STAGE_OF.get(case.status)}, at=now)
    session.flush()
    return case


def claim(session: Session, reference: str, user: User, now: datetime | None = None) -> Case:
    """Claim case ``reference`` for ``user`` (or renew their own claim)."""
    now = now or utcnow()
    _require_caseworker(user)
    case = lock_case(session, reference)
    if case.route != "nrm" or case.status not in DECISION_STATUSES:
        raise Refused(f"case {reference} is not waiting for a decision "
                      f"(its status is {case.status}: {status_label(case.status)})")
    if case.status == AWAITING_CG and (case.cg_not_before is None or uk_date(now) < case.cg_not_before):
        raise Refused(f"case {reference} is in its recovery period until {case.cg_not_before}")
    if reviewed_by(session, case, user):
        raise NotPermitted("you reviewed this case as a panel member, so another caseworker must decide it")
    if returned_to(case, user):
        raise NotPermitted("the panel returned your decision on this case, so another caseworker must decide "
                           "it again")
    if claim_active(case, now) and case.claimed_by_id != user.id:
        raise ClaimConflict(f"case {reference} is claimed by another caseworker until "
                            f"{case.claim_expires_at:%H:%M} UTC")
    return _take(session, case, user, now)


def claim_next(session: Session, user: User, now: datetime | None = None) -> Case | None:
    """Atomically claim the first unclaimed case of the decision queue; None if there is none.

    Skips cases the user may not decide (ones they reviewed, and by default ones whose decision
    by them the panel returned). Concurrent callers never get the
    same case: PostgreSQL skips rows another transaction has locked, SQLite runs them in turn.
    """
    now = now or utcnow()
    _require_caseworker(user)
    free = or_(Case.claimed_by_id.is_(None), Case.claim_expires_at.is_(None), Case.claim_expires_at <= now)
    not_reviewed = ~exists().where(Review.case_id == Case.id, Review.reviewer_id == user.id)
    allowed = [_decision_queue_clause(now), free, not_reviewed]
    if returned_to_another_caseworker():
        allowed.append(or_(Case.returned_decider_id.is_(None), Case.returned_decider_id != user.id))
    statement = (select(Case).where(*allowed)
                 .order_by(*DECISION_ORDER).limit(1)
                 .with_for_update(skip_locked=True, of=Case)
                 .execution_options(populate_existing=True))
    case = session.scalars(statement).first()
    if case is None:
        return None
    return _take(session, case, user, now)


def release(session: Session, reference: str, user: User, now: datetime | None = None) -> Case:
    """Give back a claim the user holds."""
    now = now or utcnow()
    _require_caseworker(user)
    case = lock_case(session, reference)
    if case.claimed_by_id != user.id or not claim_active(case, now):
        raise ClaimConflict(f"you do not hold a claim on case {reference}")
    release_claim(case)
    audit.record(session, f"user:{user.id}", "case.released", case.reference, {}, at=now)
    session.flush()
    return case


def expire_claims(session: Session, now: datetime | None = None) -> list[str]:
    """Clear every claim past its expiry (audited as the system); the references."""
    now = now or utcnow()
    stale = session.scalars(
        select(Case).where(Case.claimed_by_id.is_not(None),
                           or_(Case.claim_expires_at.is_(None), Case.claim_expires_at <= now))
        .order_by(Case.id).with_for_update(skip_locked=True)).all()
    for case in stale:
        holder = case.claimed_by_id
        release_claim(case)
        audit.record(session, "system", "case.claim_expired", case.reference, {"claimed_by": f"user:{holder}"},
                     at=now)
    session.flush()
    return [case.reference for case in stale]
