"""Writing messages into the outbox, in the transaction of the event that causes them.

The lifecycle calls :func:`on_transition` after every audited transition and intake calls
:func:`on_submitted`: each writes its messages as ``pending`` rows in the caller's transaction
(flushed, not committed), so a decision and the message about it are committed together or not at
all, and ``nrm worker`` sends them later. A row's ``idempotency_key`` names the event it is about,
so writing the same message twice (a replayed event) inserts nothing the second time.

Who gets what (DESIGN §10):

- the referring responder: the registered number that made the referral (SMS) and the referrer's
  work email (``user-email``): decisions, the panel's outcome, reconsideration, requests for
  information; reference and outcome only;
- the person: only by the channels their contact answers chose and confirmed safe
  (``pv-contact-details*``; or the contact of ``someone-else*`` with the person's permission):
  email through Notify, or a letter in the print queue;
- hand-offs at submission: the local authority contact named for a child, and the support
  provider (``SUPPORT_PROVIDER_EMAIL``) for an adult who wants support; both audited.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend import audit
from backend.models import Case, Responder
from backend.outbound import messages
from backend.outbound.models import EMAIL, POST, SMS, OutboundMessage
from backend.outbound.settings import OutboundSettings, load

SYSTEM = "system"


def settings() -> OutboundSettings:
    """The running app's outbound settings (defaults and the environment outside one)."""
    return load(current_app.config if has_app_context() else {})


def enqueue(session: Session, *, key: str, case: Case | None, kind: str, audience: str, channel: str,
            recipient: Any, body: str, subject: str | None = None, language: str = "en",
            template: str = "message", responder_id: int | None = None) -> bool:
    """Write one pending message unless one with ``key`` exists; True when written."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = OutboundMessage.__table__
    values = {
        "idempotency_key": key[:200], "case_id": case.id if case is not None else None, "kind": kind,
        "audience": audience, "channel": channel, "language": language, "recipient": recipient,
        "content": {"subject": subject, "body": body, "template": template},
        "responder_id": responder_id, "status": "pending", "attempts": 0,
    }
    result = session.execute(insert(table).values(**values).on_conflict_do_nothing(
        index_elements=["idempotency_key"]))
    return bool(result.rowcount)


# --- the referring responder ------------------------------------------------------------------


def _answers(case: Case) -> dict[str, Any]:
    answers = (case.payload or {}).get("answers")
    return answers if isinstance(answers, dict) else {}


def submitting_responder(session: Session, case: Case) -> Responder | None:
    """The registered number that made the referral, if it was made by SMS and still belongs to
    the case's organisation."""
    kind, _, number = (case.submitted_by or "").partition(":")
    if kind != "responder" or not number.isdigit():
        return None
    responder = session.get(Responder, int(number))
    from backend.lifecycle import same_organisation  # the lifecycle imports this module

    if responder is None or not same_organisation(responder.organisation, case.organisation):
        return None
    return responder


def to_responder(session: Session, case: Case, kind: str, event_key: str, msgid: str, **params: Any) -> int:
    """The referring responder's copies of one message (SMS and/or email); how many were written."""
    language = str((case.payload or {}).get("language") or "en")
    body = messages.render(msgid, language, reference=case.reference, url=settings().sign_in_url(), **params)
    subject = messages.render(messages.SUBJECT, language, reference=case.reference)
    written = 0
    responder = submitting_responder(session, case)
    if responder is not None:
        written += enqueue(session, key=f"{case.reference}:{event_key}:responder:sms", case=case, kind=kind,
                           audience="responder", channel=SMS, recipient=responder.phone_e164, body=body,
                           language=language, responder_id=responder.id)
    email = _answers(case).get("user-email")
    if isinstance(email, str) and email:
        written += enqueue(session, key=f"{case.reference}:{event_key}:responder:email", case=case, kind=kind,
                           audience="responder", channel=EMAIL, recipient=email, body=body, subject=subject,
                           language=language)
    return written


# --- the person -------------------------------------------------------------------------------


def person_channels(answers: dict[str, Any]) -> list[tuple[str, Any]]:
    """Where the person's own messages may go: (channel, recipient) for each channel their
    contact answers chose *and* confirmed safe; nothing otherwise (DESIGN §10)."""
    chosen: list[tuple[str, Any]] = []
    if answers.get("who-contact") == "potential-victim":
        ways = answers.get("pv-contact-details") or []
        if "email" in ways and answers.get("pv-contact-details-email-check") == "yes" \
                and answers.get("pv-contact-details-email-input"):
            chosen.append((EMAIL, answers["pv-contact-details-email-input"]))
        if "post" in ways and answers.get("pv-contact-details-post-check") == "yes":
            chosen.append((POST, _address(answers, "pv-contact-details")))
    elif answers.get("who-contact") == "someone-else" and answers.get("someone-else-permission-check") == "yes":
        ways = answers.get("someone-else") or []
        if "email" in ways and answers.get("someone-else-email-input"):
            chosen.append((EMAIL, answers["someone-else-email-input"]))
        if "post" in ways:
            chosen.append((POST, _address(answers, "someone-else")))
    return [(channel, recipient) for channel, recipient in chosen if recipient]


def _address(answers: dict[str, Any], prefix: str) -> list[str]:
    lines = [answers.get(f"{prefix}-{part}") for part in ("street", "town", "county", "postcode")]
    return [str(line) for line in lines if line] if answers.get(f"{prefix}-street") else []


def to_person(session: Session, case: Case, event_key: str, key: tuple[str, str]) -> int:
    """The person's own copy of a decision, by each safe channel; how many were written."""
    answers = _answers(case)
    msgid = messages.PERSON_DECISION.get(key)
    if msgid is None or case.route != "nrm":
        return 0
    language = messages.person_language(answers)
    name = " ".join(str(answers.get(part) or "") for part in ("pv-name-first-name", "pv-name-last-name")).strip()
    if answers.get("who-contact") == "someone-else":
        name = " ".join(str(answers.get(part) or "") for part in
                        ("someone-else-first-name", "someone-else-last-name")).strip()
    body = messages.render(msgid, language, name=name or "Sir or Madam", reference=case.reference)
    subject = messages.render(messages.SUBJECT, language, reference=case.reference)
    written = 0
    for channel, recipient in person_channels(answers):
        written += enqueue(session, key=f"{case.reference}:{event_key}:person:{channel}", case=case,
                           kind="person_decision", audience="person", channel=channel, recipient=recipient,
                           body=body, subject=subject, language=language, template="person")
    return written


# --- the hooks --------------------------------------------------------------------------------


def on_transition(session: Session, case: Case, event: str, effects: dict[str, Any]) -> None:
    """The messages a lifecycle transition causes (called by ``backend.lifecycle``)."""
    stage, outcome = effects.get("stage"), effects.get("outcome")
    if event.startswith("decide_") and (stage, outcome) in messages.DECISION:
        event_key = f"decision:{effects.get('decision')}"
        to_responder(session, case, f"{stage}_decision", event_key, messages.DECISION[(stage, outcome)])
        to_person(session, case, event_key, (stage, outcome))
    elif event in ("uphold", "return_for_reconsideration") and outcome in messages.PANEL:
        event_key = f"review:{effects.get('review')}"
        to_responder(session, case, "panel_outcome", event_key, messages.PANEL[outcome])
        to_person(session, case, event_key, ("panel", outcome))
    elif event == "reconsider":
        to_responder(session, case, "reconsideration", f"note:{effects.get('note')}", messages.RECONSIDERATION)


def on_submitted(session: Session, case: Case, at: Any = None) -> None:
    """Hand-offs of a new referral: the child's local authority, the support provider; audited."""
    if case.route != "nrm":
        return
    answers = _answers(case)
    config = settings()
    handoffs = []
    la_email = answers.get("local-authority-contacted-about-child-local-authority-email")
    if case.age_route in ("child", "unknown") and isinstance(la_email, str) and la_email:
        handoffs.append(("local_authority", la_email, messages.CHILD_HANDOFF))
    if answers.get("does-pv-need-support") == "yes" and config.support_provider_email:
        handoffs.append(("support_provider", config.support_provider_email, messages.SUPPORT_HANDOFF))
    for audience, address, msgid in handoffs:
        body = messages.render(msgid, "en", reference=case.reference, url=config.sign_in_url())
        subject = messages.render(messages.SUBJECT_HANDOFF, "en", reference=case.reference)
        if enqueue(session, key=f"{case.reference}:handoff:{audience}", case=case, kind=f"{audience}_handoff",
                   audience=audience, channel=EMAIL, recipient=address, body=body, subject=subject):
            message_id = session.scalar(select(OutboundMessage.id).where(
                OutboundMessage.idempotency_key == f"{case.reference}:handoff:{audience}"))
            audit.record(session, SYSTEM, "outbound.handoff", case.reference,
                         {"to": audience, "message": message_id}, at=at)
