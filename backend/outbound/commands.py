"""Referrers' SMS commands, from the registered numbers of a referring organisation.

``bot.sms`` hands every message from a registered number here first (after opt-out words and the
quick-exit word); None means "not a command": the dialogue takes it as usual.

- ``STATUS <reference>``: where the referral stands;
- ``WITHDRAW <reference>``: asks YES (within :data:`CONFIRM_MINUTES`), then withdraws it;
- ``RECONSIDER <reference> <reasons>``: asks for reconsideration of an upheld negative decision;
- ``INFO <reference> <answer>``: answers the decision makers' open question.

Only cases of the number's own organisation are found: an unknown reference and another
organisation's get the same neutral answer, so a number learns nothing about cases it did not
refer. The actor is the registered number (``responder:<id>``), never the number itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.i18n import N_
from backend.lifecycle import CaseworkError, request_reconsideration, same_organisation, status_label, withdraw
from backend.models import Case, Conversation, Responder
from backend.outbound import information
from backend.outbound.messages import render
from backend.outbound.models import ContactHold, PendingCommand

CONFIRM_MINUTES = 10
_COMMAND = re.compile(r"^\s*(STATUS|WITHDRAW|RECONSIDER|INFO)\s+((?:NRM|DTN)(?:[\s-]*\d){0,10})(.*)$",
                      re.IGNORECASE | re.DOTALL)
"""A command word, then something meant as a reference (checked by :data:`_REFERENCE`), then text."""
_REFERENCE = re.compile(r"^(NRM|DTN)(\d{4})(\d{6})$")
_YES = ("yes", "y")

UNKNOWN = N_("No referral of your organisation has that reference. Check it and try again.")
STATUS = N_("NRM referral {reference}: {status}.")
AWAITING_INFORMATION = N_("NRM referral {reference} is waiting for your answer to a question. "
                          "Reply INFO {reference} and your answer.")
WITHDRAW_ASK = N_("Reply YES within 10 minutes to withdraw NRM referral {reference}. This cannot be undone.")
WITHDRAWN = N_("NRM referral {reference} is withdrawn.")
RECONSIDERATION_ASKED = N_("Reconsideration of NRM referral {reference} is asked. We will text you the result.")
NOT_NOW = N_("NRM referral {reference} cannot be changed that way now ({status}).")
ANSWER_KEPT = N_("Thank you. Your answer on NRM referral {reference} is with the decision makers.")
NO_QUESTION = N_("NRM referral {reference} has no open question, so your message was not kept.")
TEXT_MISSING = N_("Write your text after the reference, for example: {example}")
WITHDRAW_BY_SMS = "Withdrawn by the referring organisation by SMS."


@dataclass(frozen=True)
class ResponderActor:
    """A registered number acting for its organisation in the lifecycle (``by_referring_organisation``)."""

    id: int
    organisation: str
    role: str = "responder"
    active: bool = True

    @property
    def actor_id(self) -> str:
        return f"responder:{self.id}"


def hold(session: Session, responder: Responder) -> None:
    """The number said the quick-exit word: send it nothing until it texts again (a command lifts
    the hold here; a dialogue message moves a draft on, which the worker reads as lifting it)."""
    if session.get(ContactHold, responder.id) is None:
        session.add(ContactHold(responder_id=responder.id, since=utcnow()))
        session.flush()


def handle(session: Session, responder: Responder, text: str, now: datetime | None = None,
           draft: Conversation | None = None) -> list[str] | None:
    """The replies to a referrer command in ``text``, or None when it is not one.

    An ordinary message costs no statement here (the SMS turn stays four statements). YES confirms
    a pending WITHDRAW only if it is the next message: ``draft`` (the sender's latest draft) must
    not have moved on since the question, so a "yes" meant for the dialogue never withdraws."""
    if not may_be_command(text):
        return None
    now = now or utcnow()
    found = _COMMAND.match(text)
    pending = session.get(PendingCommand, responder.id)
    if pending is not None:
        session.delete(pending)
        session.flush()
        if found is None and pending.expires_at > now and pending.draft_seen == _seen(draft):
            return _confirm(session, responder, pending, now)
    if found is None:
        return None
    session.execute(delete(ContactHold).where(ContactHold.responder_id == responder.id))  # texting again
    command, typed, rest = found.group(1).upper(), found.group(2), found.group(3).strip()
    parts = _REFERENCE.match(re.sub(r"[\s-]+", "", typed.upper()))
    if parts is None:
        return [render(UNKNOWN, "en")]
    reference = "-".join(parts.groups())
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or not same_organisation(case.organisation, responder.organisation):
        return [render(UNKNOWN, "en")]
    language = str((case.payload or {}).get("language") or "en")
    if command == "STATUS":
        return [_status(session, case, language)]
    if command == "WITHDRAW":
        session.add(PendingCommand(responder_id=responder.id, case_id=case.id, command="withdraw",
                                   expires_at=now + timedelta(minutes=CONFIRM_MINUTES), draft_seen=_seen(draft)))
        session.flush()
        return [render(WITHDRAW_ASK, language, reference=reference)]
    if not rest:
        return [render(TEXT_MISSING, language, example=f"{command} {reference} ...")]
    actor = ResponderActor(responder.id, responder.organisation)
    if command == "RECONSIDER":
        return _lifecycle(session, case, language, RECONSIDERATION_ASKED, lambda: request_reconsideration(
            session, reference, actor, rest, "first_responder", now=now))  # type: ignore[arg-type]
    try:
        information.answer(session, case, actor.actor_id, rest, now=now)
    except CaseworkError:
        return [render(NO_QUESTION, language, reference=reference)]
    return [render(ANSWER_KEPT, language, reference=reference)]


def may_be_command(text: str) -> bool:
    """Could :func:`handle` answer ``text`` (a command word and a reference, or a YES)? Else it
    is an ordinary message, which :func:`handle` leaves alone without a statement."""
    return _COMMAND.match(text) is not None or " ".join(text.split()).strip(".!").casefold() in _YES


def _seen(draft: Conversation | None) -> str:
    """Where the sender's latest draft stood (its id and last change): "" without one."""
    return f"{draft.id}@{draft.updated_at.isoformat()}" if draft is not None else ""


def _status(session: Session, case: Case, language: str) -> str:
    if information.open_request(session, case) is not None:
        return render(AWAITING_INFORMATION, language, reference=case.reference)
    return render(STATUS, language, reference=case.reference, status=_status_text(case.status, language))


def _status_text(status: str, language: str) -> str:
    return render(status_label(status), language)


def _confirm(session: Session, responder: Responder, pending: PendingCommand, now: datetime) -> list[str]:
    case = session.get(Case, pending.case_id)
    if case is None or not same_organisation(case.organisation, responder.organisation):
        return [render(UNKNOWN, "en")]
    language = str((case.payload or {}).get("language") or "en")
    actor = ResponderActor(responder.id, responder.organisation)
    return _lifecycle(session, case, language, WITHDRAWN, lambda: withdraw(
        session, case.reference, actor, WITHDRAW_BY_SMS, now=now))  # type: ignore[arg-type]


def _lifecycle(session: Session, case: Case, language: str, done: str, action) -> list[str]:  # type: ignore[no-untyped-def]
    """Apply a lifecycle action in a savepoint: refused, nothing of it stays."""
    try:
        with session.begin_nested():
            action()
    except CaseworkError:
        return [render(NOT_NOW, language, reference=case.reference, status=_status_text(case.status, language))]
    return [render(done, language, reference=case.reference)]
