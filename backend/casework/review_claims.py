"""Panel members claim a review, as caseworkers claim a decision: "being reviewed by" shows in the
review queue and on the case, and nobody else may record the review while the claim holds.

A review claim uses the case's claim columns (``claimed_by_id``, ``claim_expires_at``): a case in
review is in no decision queue, so the two kinds never meet; it lasts ``CLAIM_MINUTES``, lapses
like any claim (``nrm jobs run`` clears it) and ends with the review. Each works in the caller's
transaction, row-locked, and commits nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from backend import audit, lifecycle
from backend.db import utcnow
from backend.lifecycle import REVIEW_STATUSES, ClaimConflict, NotPermitted, Refused, claim_active, lock_case
from backend.models import Case, User
from backend.queues import panel_may_read


def _require_panel(user: User) -> None:
    if user is None or not user.active or user.role != "panel":
        raise NotPermitted("only a panel member may claim a review")


def claim(session: Session, reference: str, user: User, now: datetime | None = None) -> Case:
    """Claim the review of case ``reference`` for ``user`` (or renew their own claim)."""
    now = now or utcnow()
    _require_panel(user)
    case = lock_case(session, reference)
    if case.status not in REVIEW_STATUSES:
        raise Refused(f"case {reference} is not waiting for a review")
    if not panel_may_read(session, case, user):
        raise NotPermitted("you may not review this case: you decided it, or it comes from your organisation")
    if claim_active(case, now) and case.claimed_by_id != user.id:
        raise ClaimConflict(f"case {reference} is being reviewed by another panel member")
    renewed = case.claimed_by_id == user.id and claim_active(case, now)
    case.claimed_by_id, case.claimed_at = user.id, now
    case.claim_expires_at = now + timedelta(minutes=lifecycle.claim_minutes())
    audit.record(session, f"user:{user.id}", "case.review_claimed", reference,
                 {"expires_at": case.claim_expires_at.isoformat(), "renewed": renewed}, at=now)
    session.flush()
    return case


def release(session: Session, reference: str, user: User, now: datetime | None = None) -> Case:
    """Give back a review claim ``user`` holds."""
    now = now or utcnow()
    _require_panel(user)
    case = lock_case(session, reference)
    if case.status not in REVIEW_STATUSES or case.claimed_by_id != user.id or not claim_active(case, now):
        raise ClaimConflict(f"you do not hold the review of case {reference}")
    lifecycle.release_claim(case)
    audit.record(session, f"user:{user.id}", "case.review_released", reference, {}, at=now)
    session.flush()
    return case


def review(session: Session, reference: str, user: User, outcome: str, reasons: str,
           *, now: datetime | None = None) -> Case:
    """``lifecycle.review``, refused while another panel member holds the review; the claim
    ends with it."""
    now = now or utcnow()
    case = lock_case(session, reference)
    if claim_active(case, now) and case.claimed_by_id != user.id:
        raise ClaimConflict(f"case {reference} is being reviewed by another panel member")
    case = lifecycle.review(session, reference, user, outcome, reasons, now=now)
    lifecycle.release_claim(case)
    session.flush()
    return case
