"""Requests for information: a caseworker asks the referring organisation one question.

While a request is open the case is "awaiting information" and its decision clock stands still:
when the answer comes (by SMS ``INFO <reference> <text>`` from a registered number of the
referring organisation, or on the case page by a responder of that organisation), or when the
request lapses after ``INFO_REQUEST_WORKING_DAYS`` (``nrm jobs run``), the running due date moves
on by the working days it waited, like a resumed suspension. The question and the answer are
encrypted; the audit trail keeps their length and SHA-256 only. A question may not quote the
person's name, date of birth or address: it goes to the responder by SMS and email.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import audit, text_hygiene
from backend.calendar import add_working_days, uk_date, working_days_between
from backend.db import utcnow
from backend.lifecycle import (AWAITING_CG, AWAITING_RG, InvalidRequest, NotPermitted, Refused, claim_active,
                               lock_case, reasons_digest)
from backend.models import Case, User
from backend.outbound import messages
from backend.outbound.models import InformationRequest
from backend.outbound.outbox import settings, to_responder
from backend.outbound.safety import personal_values

MAX_QUESTION = 600
MAX_ANSWER = 5_000
DUE_COLUMN = {AWAITING_RG: "rg_due_date", AWAITING_CG: "cg_due_date"}


def open_request(session: Session, case: Case) -> InformationRequest | None:
    """The case's unanswered request, if any (then it is awaiting information)."""
    return session.scalars(select(InformationRequest).where(
        InformationRequest.case_id == case.id, InformationRequest.answered_at.is_(None))
        .order_by(InformationRequest.id.desc()).limit(1)).first()


def _text(value: object, limit: int, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"write the {what}")
    text = " ".join(text_hygiene.clean(value).split())
    if len(text) > limit:
        raise InvalidRequest(f"the {what} must be at most {limit} characters")
    return text


def ask(session: Session, reference: str, actor: User, question: object, *, now: datetime | None = None
        ) -> InformationRequest:
    """Record ``actor``'s question on case ``reference`` and send it to the referrer (same
    transaction). Only the caseworker holding the case's claim may ask, once at a time."""
    now = now or utcnow()
    case = lock_case(session, reference)
    if actor is None or actor.role != "caseworker" or not actor.active:
        raise NotPermitted("only a caseworker may ask for information")
    if case.claimed_by_id != actor.id or not claim_active(case, now):
        raise NotPermitted(f"claim case {reference} before asking for information")
    if case.status not in DUE_COLUMN:
        raise Refused(f"case {reference} is not waiting for a decision")
    if open_request(session, case) is not None:
        raise Refused(f"case {reference} is already awaiting information")
    text = _text(question, MAX_QUESTION, "question")
    folded = text.casefold()
    if any(value in folded for value in personal_values(case.payload or {})):
        raise InvalidRequest("the question goes by SMS and email: leave out the person's name, "
                             "date of birth and address")
    lapses = add_working_days(uk_date(now), settings().info_request_working_days, case.fr_location)
    row = InformationRequest(case_id=case.id, asked_by_id=actor.id, asked_at=now, stage=case.status,
                             lapses_on=datetime.combine(lapses, now.timetz()), question=text)
    session.add(row)
    case.awaiting_information_since = uk_date(now)
    session.flush()
    audit.record(session, f"user:{actor.id}", "case.information_requested", case.reference,
                 {"request": row.id, "lapses_on": lapses.isoformat(), **_digest(text)}, at=now)
    to_responder(session, case, "information_request", f"info:{row.id}", messages.INFORMATION_REQUEST,
                 question=text)
    return row


def answer(session: Session, case: Case, actor_id: str, text: object, *, now: datetime | None = None
           ) -> InformationRequest:
    """Put the referrer's answer on the case's open request and let its clock run again.
    The caller has checked that ``actor_id`` speaks for the referring organisation."""
    now = now or utcnow()
    row = open_request(session, case)
    if row is None:
        raise Refused(f"case {case.reference} is not awaiting information")
    _close(session, case, row, actor_id, _text(text, MAX_ANSWER, "answer"), now)
    return row


def _close(session: Session, case: Case, row: InformationRequest, actor_id: str, text: str | None,
           now: datetime) -> None:
    row.answer, row.answered_at, row.answered_by = text, now, actor_id
    case.awaiting_information_since = None
    paused = working_days_between(uk_date(row.asked_at), uk_date(now), case.fr_location)
    column = DUE_COLUMN.get(row.stage)
    due = getattr(case, column) if column and case.status == row.stage else None
    if due is not None and paused:
        setattr(case, column, add_working_days(due, paused, case.fr_location))
    detail = {"request": row.id, "paused_working_days": paused, **(_digest(text) if text else {"lapsed": True})}
    if due is not None:
        detail[column] = getattr(case, column).isoformat()
    audit.record(session, actor_id, "case.information_received" if text else "case.information_lapsed",
                 case.reference, detail, at=now)
    session.flush()


def lapse(session: Session, now: datetime | None = None) -> list[str]:
    """Close every request past its limit (clock running again); the references."""
    now = now or utcnow()
    rows = session.scalars(select(InformationRequest).where(
        InformationRequest.answered_at.is_(None), InformationRequest.lapses_on <= now)
        .order_by(InformationRequest.id)).all()
    done = []
    for row in rows:
        case = lock_case(session, session.scalar(select(Case.reference).where(Case.id == row.case_id)))
        _close(session, case, row, "system", None, now)
        done.append(case.reference)
    return done


def _digest(text: str) -> dict[str, object]:
    return {f"text_{key.split('_', 1)[1]}": value for key, value in reasons_digest(text).items()}


