"""Retention and erasure of case data.

Closed cases (CG positive, withdrawn, negative upheld) and Duty to Notify reports are kept for
``RETENTION_DAYS`` (default 7 years) after they closed (their last change of status; a DtN report
from when it was recorded); then ``nrm jobs run`` deletes them (:func:`apply_retention`).
``nrm erase REFERENCE`` deletes one case at once, whatever its state (:func:`erase`), e.g. for an
erasure request.

Deleting a case removes everything personal about it: the case row with its payload, the
decisions, reviews and notes with their written reasons (rows cascade), and the conversation it
came from with its stored SMS replies and resume codes. Its audit events are *redacted*, not
deleted, because deleting them would break the hash chain (``backend.audit``): their detail goes,
who/what/when stays, and one data-free event records the deletion: ``case.erased`` (by whom) or
``case.retention_deleted`` (by the system), with the number of events redacted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backend import audit
from backend.db import utcnow
from backend.lifecycle import FINAL_STATUSES, SYSTEM, lock_case
from backend.models import CASE_DTN_RECORDED, Case, Conversation

CLOSED_STATUSES = (*FINAL_STATUSES, CASE_DTN_RECORDED)


def erase(session: Session, reference: str, actor: str, *, action: str = audit.ERASED,
          now: datetime | None = None) -> int:
    """Delete case ``reference`` and its personal data, redact its audit events and record the
    erasure by ``actor``; the number of audit events redacted. CaseNotFound if there is no such case.
    Works in the caller's transaction."""
    now = now or utcnow()
    case = lock_case(session, reference)
    conversation_id = case.conversation_id
    session.delete(case)  # decisions, reviews and notes go with it (ORM cascade + ON DELETE CASCADE)
    session.flush()
    if conversation_id is not None:  # its stored replies and resume codes cascade in the database
        session.execute(delete(Conversation).where(Conversation.id == conversation_id))
    redacted = audit.redact_case(session, reference, now)
    audit.record(session, actor, action, reference, {"redacted_events": redacted}, at=now)
    return redacted


def expired(session: Session, days: int, now: datetime | None = None) -> list[str]:
    """References of closed cases and DtN reports that closed more than ``days`` days ago."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    closed_at = func.coalesce(Case.status_changed_at, Case.submitted_at)
    return list(session.scalars(select(Case.reference)
                                .where(Case.status.in_(CLOSED_STATUSES), closed_at < cutoff)
                                .order_by(Case.id)))


def apply_retention(session: Session, days: int, now: datetime | None = None) -> list[str]:
    """Delete every case past its retention period (audited as the system); their references."""
    now = now or utcnow()
    references = expired(session, days, now)
    for reference in references:
        erase(session, reference, SYSTEM, action=audit.RETENTION_DELETED, now=now)
    return references
