"""``nrm worker``: send what the outbox holds, from any number of machines at once.

A worker claims due messages in one short transaction: on PostgreSQL with ``SELECT ... FOR UPDATE
SKIP LOCKED`` (workers never wait for each other and never take the same row), on SQLite under
``BEGIN IMMEDIATE`` (one writer at a time; run one worker). A claimed message is marked
``sending`` with a lease and committed *before* the provider is called, then the outcome is
written in a second transaction. So a message is sent at most once per idempotency key: a worker
that dies between the two leaves ``sending`` behind, which the next claim marks ``failed``
("outcome unknown") rather than sending again.

While claiming, the safety rules are applied to each message (DESIGN §10): no provider
configured -> ``suppressed``; an opted-out number or one that said the quick-exit word ->
``suppressed``; an SMS inside ``SMS_QUIET_HOURS`` -> left ``pending`` until they end. Transient
provider errors put the message back with a doubling back-off (``OUTBOX_RETRY_SECONDS``), up to
``OUTBOX_MAX_ATTEMPTS``; permanent ones mark it ``failed`` (shown on the case page).
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import db
from backend.models import Case, Conversation, Responder
from backend.outbound import labels, providers
from backend.outbound.models import (EMAIL, FAILED, PENDING, POST, SENDING, SENT, SMS, SUPPRESSED, ContactHold,
                                     OutboundMessage)
from backend.outbound.settings import OutboundSettings, load

log = logging.getLogger(__name__)
UK = ZoneInfo("Europe/London")
BATCH = 20
STATUS_CALLBACK_PATH = "/outbound/twilio/status"


@dataclass(frozen=True)
class Claimed:
    """A message a worker now holds, with what it needs to send it (decrypted)."""

    id: int
    channel: str
    recipient: str
    body: str
    subject: str | None
    template: str
    language: str
    reference: str
    attempts: int


def quiet_until(now: datetime, settings: OutboundSettings) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (UK time), or None outside them."""
    if settings.quiet_hours is None:
        return None
    start, end = settings.quiet_hours
    local = now.astimezone(UK)
    clock = local.time().replace(tzinfo=None)
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=UK).astimezone(now.tzinfo)


def _held(session: Session, responder: Responder) -> bool:
    """Whether the number said the quick-exit word and has not texted the dialogue since (a draft
    moved on after it lifts the hold; so does a referrer command, ``backend.outbound.commands``)."""
    held = session.get(ContactHold, responder.id)
    if held is None:
        return False
    texted_since = session.scalar(select(Conversation.id).where(
        Conversation.channel == SMS, Conversation.address == responder.phone_e164,
        Conversation.updated_at > held.since).limit(1))
    if texted_since is None:
        return True
    session.delete(held)
    return False


def _suppression(session: Session, message: OutboundMessage, settings: OutboundSettings) -> str | None:
    """Why ``message`` must not be sent at all, or None."""
    if message.channel == SMS:
        if not settings.sms_configured:
            return labels.NO_SMS_PROVIDER
        responder = session.get(Responder, message.responder_id) if message.responder_id else None
        if responder is None:
            return labels.NOT_REGISTERED
        if responder.opted_out_at is not None:
            return labels.OPTED_OUT
        if _held(session, responder):
            return labels.QUICK_EXIT
    if message.channel == EMAIL and not settings.email_configured:
        return labels.NO_EMAIL_PROVIDER
    return None


def claim(session: Session, now: datetime, settings: OutboundSettings, limit: int = BATCH) -> list[Claimed]:
    """Take up to ``limit`` due messages for this worker (see the module docs); the caller commits."""
    session.execute(update(OutboundMessage).where(
        OutboundMessage.status == SENDING, OutboundMessage.claimed_until < now).values(
        status=FAILED, reason=labels.WORKER_STOPPED,
        claimed_until=None))
    rows = session.scalars(
        select(OutboundMessage).where(OutboundMessage.status == PENDING, OutboundMessage.channel != POST,
                                      OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id).limit(limit)
        .with_for_update(skip_locked=True)).all()
    claimed = []
    for message in rows:
        reason = _suppression(session, message, settings)
        if reason is not None:
            message.status, message.reason = SUPPRESSED, reason
            continue
        deferred = quiet_until(now, settings) if message.channel == SMS else None
        if deferred is not None:
            message.next_attempt_at = deferred
            message.reason = f"quiet hours: deferred until {deferred.astimezone(UK):%H:%M} UK time"
            continue
        message.status, message.attempts = SENDING, message.attempts + 1
        message.claimed_until = now + timedelta(seconds=settings.sending_lease_seconds)
        content = message.content or {}
        reference = session.scalar(select(Case.reference).where(Case.id == message.case_id)) or ""
        recipient = message.recipient if isinstance(message.recipient, str) else ""
        claimed.append(Claimed(message.id, message.channel, recipient, str(content.get("body") or ""),
                               content.get("subject"), str(content.get("template") or "message"),
                               message.language, reference, message.attempts))
    return claimed


def deliver(message: Claimed, settings: OutboundSettings) -> str:
    """Hand one message to its provider; the provider's id (raises providers.SendError)."""
    if message.channel == SMS:
        callback = (f"{settings.public_base_url}{STATUS_CALLBACK_PATH}" if settings.public_base_url else None)
        return providers.send_sms(settings, message.recipient, message.body, callback)
    personalisation = {"subject": message.subject or "", "body": message.body, "reference": message.reference}
    template = f"{message.template}:{message.language}"  # the language's own template where one exists
    if template not in settings.notify_templates:
        template = message.template
    return providers.send_email(settings, message.recipient, template, personalisation,
                                reference=f"outbox-{message.id}")


def _record(session: Session, message: Claimed, now: datetime, settings: OutboundSettings,
            provider_id: str | None, error: providers.SendError | None) -> str:
    row = session.get(OutboundMessage, message.id, with_for_update=True)
    assert row is not None
    row.claimed_until = None
    if error is None:
        row.status, row.provider_id, row.sent_at, row.reason = SENT, (provider_id or None), now, None
    elif isinstance(error, providers.Transient) and message.attempts < settings.max_attempts:
        row.status, row.reason = PENDING, f"{error.reason}; try {message.attempts + 1} later"
        row.next_attempt_at = now + timedelta(seconds=settings.retry_seconds * 2 ** (message.attempts - 1))
    else:
        row.status, row.reason = FAILED, error.reason
    return row.status


def run_once(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Claim and send one batch of due messages; how many ended in each status."""
    settings = load(app.config)
    database = db.get_db(app)
    with database.transaction() as session:
        batch = claim(session, now or db.utcnow(), settings)
    counts: dict[str, int] = {}
    for message in batch:
        provider_id, error = None, None
        try:
            provider_id = deliver(message, settings)
        except providers.SendError as refused:
            error = refused
        except Exception as unexpected:  # noqa: BLE001 - a bug must not leave the row "sending"
            error = providers.Permanent(f"unexpected error ({type(unexpected).__name__})")
            log.error("outbox message %s: unexpected %s while sending", message.id, type(unexpected).__name__)
        with database.transaction() as session:
            status = _record(session, message, db.utcnow(), settings, provider_id, error)
        counts[status] = counts.get(status, 0) + 1
        log.info("outbox message %s (%s): %s", message.id, message.channel, status)
    return counts


def drain(app: Flask) -> dict[str, int]:
    """Run batches until nothing due is left (``nrm worker --once``, tests)."""
    total: dict[str, int] = {}
    while True:
        counts = run_once(app)
        if not counts:
            return total
        for status, number in counts.items():
            total[status] = total.get(status, 0) + number


@click.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then stop.")
def worker_command(once: bool) -> None:
    """Send the outbox's messages (SMS by Twilio, email by GOV.UK Notify) until stopped.

    Safe on every machine at once with PostgreSQL; run one on SQLite."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = load(app.config)
    if once:
        click.echo(", ".join(f"{status}: {n}" for status, n in sorted(drain(app).items())) or "nothing due")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"nrm worker: sending the outbox every {settings.poll_seconds}s "
               f"(SMS {'on' if settings.sms_configured else 'not configured'}, "
               f"email {'on' if settings.email_configured else 'not configured'}); Ctrl-C stops")
    while not stop.is_set():
        try:
            if run_once(app):
                continue
        except Exception as error:  # noqa: BLE001 - a database blip must not end the worker
            log.error("nrm worker: batch failed (%s)", type(error).__name__)
        stop.wait(settings.poll_seconds)
