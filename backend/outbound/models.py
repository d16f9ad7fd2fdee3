"""The outbound tables (migration 0016): the outbox, requests for information, contact holds.

Every message the service sends on its own is a row of ``outbox`` written in the transaction of
the event that causes it (``backend.outbound.outbox``), so a decision and the message about it are
committed together or not at all; ``nrm worker`` sends the rows (``backend.outbound.worker``).
Recipients and bodies are encrypted (``EncryptedJSON``): a body to the person may hold their name
and address. ``reason`` and ``provider_id`` never hold personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.crypto import EncryptedJSON
from backend.db import Base, UTCDateTime, utcnow

PENDING, SENDING, SENT, DELIVERED, FAILED, SUPPRESSED = (
    "pending", "sending", "sent", "delivered", "failed", "suppressed")
MESSAGE_STATUSES = (PENDING, SENDING, SENT, DELIVERED, FAILED, SUPPRESSED)
SMS, EMAIL, POST = "sms", "email", "post"
MESSAGE_CHANNELS = (SMS, EMAIL, POST)
AUDIENCES = ("responder", "person", "local_authority", "support_provider")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class OutboundMessage(Base):
    """One message to send, at most once per ``idempotency_key``.

    ``pending`` -> ``sending`` (claimed by a worker) -> ``sent`` (the provider took it) ->
    ``delivered`` (its status callback said so); ``failed`` on a permanent refusal, after the last
    retry, or when a worker died mid-send (it is never sent twice); ``suppressed`` when it must not
    go at all (``reason`` says why: provider not configured, opted out, quick exit...). A letter
    (``post``) waits as ``pending`` in the print queue until staff mark it posted.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_one_of("status", MESSAGE_STATUSES), name="status"),
        CheckConstraint(_one_of("channel", MESSAGE_CHANNELS), name="channel"),
        CheckConstraint(_one_of("audience", AUDIENCES), name="audience"),
        Index("ix_outbox_due", "next_attempt_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    """What the message is about, e.g. ``NRM-2026-000123:decision:7:responder:sms``: a second
    write of the same message (a retried request, a replayed event) is refused by this index."""
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(16), default="en")
    recipient: Mapped[Any] = mapped_column(EncryptedJSON)
    """A phone number (E.164), an email address, or a postal address (list of lines)."""
    content: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    """``{"subject", "body", "template"}``: what goes out, rendered in ``language`` when written."""
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("responders.id", ondelete="SET NULL"))
    """The registered number an SMS goes to (its opt-out is checked at send time)."""
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    reason: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """While ``sending``: after this a worker is presumed dead and the message is marked failed."""
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InformationRequest(Base):
    """A caseworker's question to the referring organisation; the case's clock stands still
    from ``asked_at`` until it is answered or lapses (``backend.outbound.information``)."""

    __tablename__ = "information_requests"
    __table_args__ = (Index("ix_information_requests_open", "case_id", "answered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stage: Mapped[str] = mapped_column(String(16))
    """The status the case was in when asked (``awaiting_rg``/``awaiting_cg``): its clock is paused."""
    lapses_on: Mapped[datetime] = mapped_column(UTCDateTime)
    question: Mapped[str] = mapped_column(EncryptedJSON)
    answer: Mapped[str | None] = mapped_column(EncryptedJSON, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    """An actor id (``responder:3``, ``user:7``, ``system`` when it lapsed); never a number."""


class ContactHold(Base):
    """A registered number that said the quick-exit word: nothing is sent to it until it texts
    again (someone may be reading the phone over the responder's shoulder). Only the number's
    id and the time are kept, nothing of the message."""

    __tablename__ = "contact_holds"

    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingCommand(Base):
    """A referrer's SMS command waiting for YES (``WITHDRAW``), one per registered number."""

    __tablename__ = "referrer_pending_commands"

    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    command: Mapped[str] = mapped_column(String(16))
    draft_seen: Mapped[str] = mapped_column(String(80), default="")
    """The sender's latest draft when asked (id and last change): YES counts only if it is unchanged."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
