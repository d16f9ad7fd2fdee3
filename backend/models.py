"""The tables of the product, as SQLAlchemy 2.x typed ORM classes.

Enumerated columns are plain strings with CHECK constraints (portable across SQLite and
PostgreSQL, and easy to extend in a migration). Personal data lives only in ``EncryptedJSON``
columns: ``Conversation.state``, ``Case.payload``, ``InboundMessage.reply``, ``ChatReply.reply``, ``ChatMessage.text`` and the written reasons
of ``Decision``, ``Review`` and ``CaseNote``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.crypto import EncryptedJSON
from backend.db import Base, UTCDateTime, utcnow

ROLES = ("responder", "operator", "caseworker", "panel", "analyst", "admin")
CHANNELS = ("sms", "web", "cli")
CONVERSATION_STATUSES = ("draft", "submitted", "cancelled")
SERIES = ("NRM", "DTN")
ROUTES = ("nrm", "dtn")
AGE_ROUTES = ("adult", "child", "unknown")
FR_LOCATIONS = ("england", "wales", "scotland", "northern-ireland")
CASE_AWAITING_RG = "awaiting_rg"
CASE_DTN_RECORDED = "dtn_recorded"
CASE_STATUSES = (
    "awaiting_rg", "recovery", "awaiting_cg", "cg_positive", "rg_review", "cg_review",
    "rg_negative", "cg_negative", "suspended", "withdrawn", "dtn_recorded",
)
"""Every ``Case.status``: the states of ``backend.lifecycle.CaseLifecycle`` plus ``dtn_recorded``."""
WAITING_STATUSES = ("awaiting_rg", "awaiting_cg", "rg_review", "cg_review")
"""The statuses of the decision and review queues (``backend.queues``)."""
DECISION_STAGES = ("rg", "cg")
DECISION_OUTCOMES = ("positive", "negative")
REVIEW_OUTCOMES = ("upheld", "returned")
NOTE_KINDS = ("reconsideration", "withdrawal", "suspension", "resumption")
REQUESTED_BY = ("first_responder", "support_provider")
STATISTICS_COLUMNS = ("age_group", "gender", "nationality", "organisation_type", "police_force", "local_authority",
                      "exploitation_groups")
"""The columns of ``Case`` derived at intake for statistics (``backend.statistics.derived``)."""


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


WAITING = _one_of("status", WAITING_STATUSES)
"""The predicate of the partial index of waiting cases, written the same way in the queries that
use it (PostgreSQL uses a partial index only when the query's condition matches it)."""


def _new_uuid() -> str:
    return str(uuid.uuid4())


class User(UserMixin, Base):
    """A signed-in person: staff of the decision unit, panel, analysts, admins, or an operator."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Stored lower-case (see ``backend.auth.normalise_email``)."""
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")
    sessions: Mapped[list[UserSession]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                       passive_deletes=True)

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot sign in
        return bool(self.active)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(Base):
    """A bearer token for the JSON API. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """Refused from then on (``API_TOKEN_DAYS`` after issue; ``nrm user token`` prints it)."""
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the token last authenticated a request (to the minute), for ``nrm user tokens``."""
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(Base):
    """One signed-in browser: the server's half of the session cookie (see ``backend.sessions``).

    ``id`` is the SHA-256 of the random secret kept in the signed cookie, so the table holds no
    usable session. A session is refused once revoked (sign-out, password change, revoke-tokens,
    deactivation), idle for ``SESSION_IDLE_MINUTES`` or older than ``SESSION_MAX_HOURS``.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="sessions")


class Responder(Base):
    """A registered first-responder SMS number: only these may refer by SMS (DESIGN §4)."""

    __tablename__ = "responders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)
    organisation: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set when the number sent a carrier opt-out keyword (STOP...); no SMS reply until START."""


class Conversation(Base):
    """One referral dialogue. ``state`` (the flows.DialogueState dict) holds personal data.

    ``version`` is SQLAlchemy's row version: an UPDATE from a stale copy fails with StaleDataError
    instead of silently overwriting a concurrent step. Lock the row with
    ``backend.db.get_for_update(session, Conversation, id)`` before stepping it.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(_one_of("status", CONVERSATION_STATUSES), name="status"),
        Index("ix_conversations_channel_address_status", "channel", "address", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_uuid)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(64))
    """Phone number in E.164 for SMS, ``user:<id>`` for web chat, ``cli`` for the terminal."""
    status: Mapped[str] = mapped_column(String(12), default="draft")
    state: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    language: Mapped[str] = mapped_column(String(16), default="en")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}


class InboundMessage(Base):
    """A message already processed, keyed by the channel's id (Twilio ``MessageSid``).

    Lets a retried webhook get the stored reply instead of advancing the dialogue twice
    (DESIGN §5). The reply may quote answers, so it is encrypted; rows go with their conversation.
    """

    __tablename__ = "inbound_messages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reply: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    """None for a tombstone: the MessageSid of a deleted draft's message (SMS quick exit, NEW),
    kept without text so that a Twilio retry of it is answered with nothing and opens nothing."""


class ChatReply(Base):
    """A web chat message already applied, keyed by the page's ``client_message_id``.

    A send retried after a lost response gets this stored reply instead of being applied to the
    next question too. The reply may quote answers, so it is encrypted; rows go with their
    conversation and are purged like SMS stored replies (``bot.purge``).
    """

    __tablename__ = "chat_replies"
    __table_args__ = (UniqueConstraint("conversation_id", "client_message_id",
                                       name="uq_chat_replies_conversation_client_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    client_message_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reply: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    """The JSON body the API answered (``bot.webchat``)."""


class ChatMessage(Base):
    """One line of a web chat draft's transcript, so that its whole history survives a reload
    (``bot.chat_history``). It may quote answers, so its text is encrypted; the rows go when the
    draft is sent, discarded or deleted (quick exit, expiry)."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint("sender IN ('operator', 'assistant')", name="sender"),
        Index("ix_chat_messages_conversation_id", "conversation_id", "id"),
        UniqueConstraint("conversation_id", "client_message_id", name="uq_chat_messages_conversation_client_message"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(9))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    """``{"text": ...}``: what was sent or answered, as shown; a turn's row also ``"then"``, the
    assistant's lines after it, and ``"reply"``, the answer stored for a retry (``bot.chat_history``)."""
    client_message_id: Mapped[str | None] = mapped_column(String(64))
    """The message's ``client_message_id`` when its turn's row holds its reply (``bot.webchat``)."""


class Case(Base):
    """A submitted referral (NRM) or Duty to Notify report (DtN)."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_one_of("series", SERIES), name="series"),
        CheckConstraint(_one_of("route", ROUTES), name="route"),
        CheckConstraint(_one_of("age_route", AGE_ROUTES), name="age_route"),
        CheckConstraint(_one_of("fr_location", FR_LOCATIONS), name="fr_location"),
        CheckConstraint(_one_of("status", CASE_STATUSES), name="status"),
        # The queues' order (backend.queue_order): listing, keyset pages and counts, which say
        # queue_rank IS NOT NULL as claim-next does not (it cannot walk the claimed cases here: 0025) ...
        Index("ix_cases_queue_order", "queue", "queue_rank", "queue_due_date", "queue_since", "id",
              "queue_available_on", postgresql_where=text("queue IS NOT NULL AND queue_rank IS NOT NULL"),
              sqlite_where=text("queue IS NOT NULL AND queue_rank IS NOT NULL")),
        # ... and "claim next": the same order over the unclaimed cases only (the day each may be
        # decided last: checked on the index's entries, without visiting the row, migration 0021).
        Index("ix_cases_queue_unclaimed", "queue", "queue_rank", "queue_due_date", "queue_since", "id",
              "queue_available_on", postgresql_where=text("queue IS NOT NULL AND claimed_by_id IS NULL"),
              sqlite_where=text("queue IS NOT NULL AND claimed_by_id IS NULL")),
        # ... and the other orders a caseworker may sort a queue in (backend.casework.queue_sort).
        Index("ix_cases_queue_due", "queue", "queue_due_date", "reference", "queue_available_on",
              postgresql_where=text("queue IS NOT NULL"), sqlite_where=text("queue IS NOT NULL")),
        Index("ix_cases_queue_since", "queue", "queue_since", "id", "queue_available_on",
              postgresql_where=text("queue IS NOT NULL"), sqlite_where=text("queue IS NOT NULL")),
        # ... and the claims that lapse (claim-next, ``nrm jobs run``).
        Index("ix_cases_claim_expires_at", "claim_expires_at", postgresql_where=text("claimed_by_id IS NOT NULL"),
              sqlite_where=text("claimed_by_id IS NOT NULL")),
        Index("ix_cases_submitted_at_statistics", "submitted_at",
              postgresql_include=["route", *STATISTICS_COLUMNS]),
        Index("ix_cases_id_submitted_at", "id", "submitted_at"),
        # Recovery periods that have ended (``nrm jobs run``): cases in recovery only, so that a
        # claim, which rewrites every index whose condition its row meets, never touches it (0020).
        Index("ix_cases_recovery_ends", "cg_not_before", "id", postgresql_where=text("status = 'recovery'"),
              sqlite_where=text("status = 'recovery'")),
        Index("ix_cases_waiting", "status", "status_changed_at", "rg_due_date", "cg_due_date", "review_due_date",
              postgresql_where=text(WAITING), sqlite_where=text(WAITING)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    series: Mapped[str] = mapped_column(String(3))
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), unique=True)
    """Unique: a conversation can become at most one case, whatever races happen."""
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    schema_version: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(3))
    age_route: Mapped[str] = mapped_column(String(7))
    fr_location: Mapped[str] = mapped_column(String(16))
    organisation: Mapped[str] = mapped_column(String(255))
    """The referring first responder organisation: the one the referral was made for."""
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    """Who made the referral, as an actor id (``user:7`` for a web chat operator or an API caller,
    ``responder:3`` for a registered SMS number); never a name or a number (migration 0006)."""
    status: Mapped[str] = mapped_column(String(32))
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rg_due_date: Mapped[date | None] = mapped_column(Date)
    # --- casework (migration 0003; see backend.lifecycle and backend.queues) ---
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the case entered its current status (set at submission too, since migration 0014): how
    long the longest-waiting case of each queue has waited is its minimum (``backend.metrics``)."""
    cg_not_before: Mapped[date | None] = mapped_column(Date)
    """First UK date a CG decision may be made: the RG decision date + RECOVERY_PERIOD_DAYS."""
    suspended_from: Mapped[str | None] = mapped_column(String(32))
    """The status a suspended case returns to when resumed."""
    # --- clocks and returns (migration 0006; see backend.lifecycle) ---
    cg_due_date: Mapped[date | None] = mapped_column(Date)
    """CG decision target: CG_WORKING_DAYS working days after the recovery period ends (or after
    the case re-entered the CG queue)."""
    review_due_date: Mapped[date | None] = mapped_column(Date)
    """Panel review target: REVIEW_WORKING_DAYS working days after the negative decision."""
    suspended_on: Mapped[date | None] = mapped_column(Date)
    """UK date the case was suspended: its clocks stand still from then until it is resumed."""
    awaiting_information_since: Mapped[date | None] = mapped_column(Date)
    """UK date of the open request for information (``backend.outbound.information``): its decision
    clock stands still from then until the answer comes or the request lapses; None otherwise."""
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the panel returned the last negative decision; cleared by the next decision."""
    returned_decider_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """Who made the decision the panel returned (kept off the case unless configured otherwise)."""
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """No index of its own (migration 0022): every query on it is answered by the partial indexes
    of the queue (unclaimed) and of the claims (``ix_cases_claim_expires_at``), and each claim
    wrote an entry into it."""
    # --- statistics (migration 0011; derived at intake, see backend.statistics.derived) ---
    age_group: Mapped[str] = mapped_column(String(13), default="not-specified", server_default="not-specified")
    """Age at exploitation: adult, child or not-specified."""
    gender: Mapped[str | None] = mapped_column(String(7))
    nationality: Mapped[str | None] = mapped_column(String(64))
    """An entry of the nationality list, or ``other``; never free text."""
    organisation_type: Mapped[str] = mapped_column(String(24), default="other", server_default="other")
    police_force: Mapped[str | None] = mapped_column(String(64))
    local_authority: Mapped[str | None] = mapped_column(String(96))
    exploitation_groups: Mapped[int] = mapped_column(Integer, default=32, server_default="32")
    """A bit per published exploitation type group (``backend.statistics.derived.EXPLOITATION_GROUPS``)."""
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # --- place in the queues (migration 0012): written only by backend.queue_order ---
    queue: Mapped[str | None] = mapped_column(String(8))
    """``decision``, ``review`` or NULL (in neither queue)."""
    queue_rank: Mapped[int | None] = mapped_column(SmallInteger)
    """0 for a priority case, 1 otherwise."""
    queue_due_date: Mapped[date | None] = mapped_column(Date)
    queue_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_available_on: Mapped[date | None] = mapped_column(Date)
    """A CG case may be decided from this day (the end of its recovery period); 0001-01-01 for a
    queued case that may be decided now (``backend.queue_order.AVAILABLE_NOW``)."""

    conversation: Mapped[Conversation | None] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="case", order_by="Decision.id", cascade="all, delete-orphan", passive_deletes=True)
    reviews: Mapped[list[Review]] = relationship(
        back_populates="case", order_by="Review.id", cascade="all, delete-orphan", passive_deletes=True)
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", order_by="CaseNote.id", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def shown_payload(self) -> dict[str, Any]:
        """The payload as staff see it (case page, case JSON): without the answers that stay
        with the responder (their own reference). Migration 0010 removed them from cases stored
        before schema 2.0; this also covers a payload restored from an older backup."""
        from flows.payload import NOT_SENT  # imported late, as backend.intake imports the schema

        payload = self.payload or {}
        answers = payload.get("answers")
        if not isinstance(answers, dict) or NOT_SENT.isdisjoint(answers):
            return payload
        return {**payload, "answers": {k: v for k, v in answers.items() if k not in NOT_SENT}}


class ReferenceCounter(Base):
    """The last number handed out per series and year (NRM-2026-000123)."""

    __tablename__ = "reference_counters"

    series: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail (see ``backend.audit``).

    ``detail`` must never hold personal data: ids, references, statuses and reason codes only.
    Version 2 events (migration 0009) chain an HMAC over ``detail_digest`` rather than ``detail``,
    so an erased or expired case's detail can be removed (``redacted_at``) and the chain still verifies.
    Version 3 events (migration 0013) are on one chain per case (or per actor), not one for all.
    """

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"),)
    """No forks: two events can never take the same place in a chain."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(340), server_default="global")
    """The case reference, ``actor:<actor>`` for events without a case, or ``global`` (the one
    chain of every event written before 0013)."""
    seq: Mapped[int] = mapped_column(Integer)
    """Place in the chain: 1, 2, 3, ... (the event id on the ``global`` chain)."""
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    case_reference: Mapped[str | None] = mapped_column(String(20), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=3, server_default="1")
    """1: plain SHA-256 over the whole event (before 0009); 2: HMAC-SHA256 with AUDIT_KEY on the
    global chain (before 0013); 3: the same on the event's own chain, covering chain and seq."""
    detail_digest: Mapped[str | None] = mapped_column(String(64))
    """Version 2 and 3: HMAC of ``detail``; the chain covers this, so ``detail`` itself can be erased."""
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When ``detail`` was removed because its case was erased or reached its retention period."""
    epoch: Mapped[int | None] = mapped_column(Integer, index=True)
    """The anchor that sealed this event (``backend.audit_anchors``); None until the next one."""


class AuditAnchor(Base):
    """A signed digest of every audit event sealed up to one epoch (``backend.audit_anchors``).

    Kept so the next anchor only has to read the events written since; the line printed for it is
    what is kept outside the database.
    """

    __tablename__ = "audit_anchors"

    epoch: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    events: Mapped[int] = mapped_column(Integer)
    """How many events were sealed in this epoch and every earlier one."""
    digest: Mapped[str] = mapped_column(String(64))
    """XOR of the keyed digests of those events (order-free, so it can be extended epoch by epoch)."""
    signature: Mapped[str] = mapped_column(String(64))


class Decision(Base):
    """A Reasonable Grounds or Conclusive Grounds decision, with its written reasons (encrypted)."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(_one_of("stage", DECISION_STAGES), name="stage"),
        CheckConstraint(_one_of("outcome", DECISION_OUTCOMES), name="outcome"),
        Index("ix_decisions_decided_at_stage_outcome", "decided_at", "stage", "outcome",
              postgresql_include=["case_id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(2))
    outcome: Mapped[str] = mapped_column(String(8))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reasons: Mapped[str] = mapped_column(EncryptedJSON)

    case: Mapped[Case] = relationship(back_populates="decisions")
    decided_by: Mapped[User] = relationship()


class Review(Base):
    """The panel's review of a negative decision: upheld, or returned for reconsideration."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint(_one_of("outcome", REVIEW_OUTCOMES), name="outcome"),
                      Index("ix_reviews_reviewed_at_outcome", "reviewed_at", "outcome"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(8))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reasons: Mapped[str] = mapped_column(EncryptedJSON)

    case: Mapped[Case] = relationship(back_populates="reviews")
    decision: Mapped[Decision] = relationship()
    reviewer: Mapped[User] = relationship()


class CaseNote(Base):
    """Why a case was reopened, withdrawn, suspended or resumed (reasons encrypted).

    ``requested_by`` says on whose behalf a reconsideration was asked: the referring first
    responder organisation or the support provider (a responder-role user of that organisation).
    """

    __tablename__ = "case_notes"
    __table_args__ = (
        CheckConstraint(_one_of("kind", NOTE_KINDS), name="kind"),
        CheckConstraint(_one_of("requested_by", REQUESTED_BY), name="requested_by"),
        Index("ix_case_notes_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str | None] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reasons: Mapped[str] = mapped_column(EncryptedJSON)

    case: Mapped[Case] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


RESUME_TARGETS = ("web", "sms")


class ResumeCode(Base):
    """A one-time code that moves a draft to another channel (SMS -> web chat, or back).

    Only an HMAC of the code is stored (keyed with ``SECRET_KEY``), so a database copy gives no
    usable code; a code works once (``used_at``) and only until ``expires_at`` (see
    ``bot.resume_codes``). ``issued_by`` is an actor id (``responder:3``, ``user:7``), never a number.
    """

    __tablename__ = "resume_codes"
    __table_args__ = (CheckConstraint(_one_of("target_channel", RESUME_TARGETS), name="target_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    target_channel: Mapped[str] = mapped_column(String(10))
    """Where the code may be redeemed: ``web`` (issued by SMS REVIEW) or ``sms`` (by web REVIEW)."""
    issued_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ResumeFailure(Base):
    """One wrong resume code typed by a redeemer, for the throttle of ``bot.resume_codes``.

    ``key`` is the redeemer's actor id (``user:7`` in web chat, ``responder:3`` by SMS), never a
    phone number; nothing of the typed code is kept. Rows older than the throttle's window are
    deleted by ``nrm purge``; a successful redemption deletes the redeemer's rows.
    """

    __tablename__ = "resume_failures"
    __table_args__ = (Index("ix_resume_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatisticsQuarter(Base):
    """What the published statistics count in one ended quarter (``backend.statistics.cache``): kept
    so a page over a million cases reads a few rows, not the cases. Counts only, never a case."""

    __tablename__ = "statistics_quarters"

    quarter: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """``backend.statistics.periods.Quarter.index`` (year * 4 + quarter number - 1)."""
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRun(Base):
    """The schedule of one periodic job of ``nrm jobs run`` (``backend.jobs``), shared by every
    machine: who may run it now (``lease_until``), when it is due again, how it last went."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """None until it first succeeds: due at once."""
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set while a runner runs it; another runner takes it over only once this has passed."""
    runner: Mapped[str | None] = mapped_column(String(128))
    """The host name and process id of the runner that last took it (no personal data)."""
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


from backend.outbound import models as outbound_models  # noqa: E402,F401 - the outbound tables (0016) on Base.metadata
