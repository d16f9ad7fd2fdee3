"""The append-only, hash-chained audit trail: who did what to which case, when (DESIGN §5).

Each event's ``hash`` is SHA-256 over the previous event's hash and the canonical JSON of the
event, so editing, deleting or reordering any event breaks the chain from that point on and
``verify`` reports it. ``prev_hash`` is unique, so concurrent writers cannot fork the chain; on
PostgreSQL writers also queue on a transaction-scoped advisory lock, on SQLite the write
transaction (BEGIN IMMEDIATE) already serialises them.

``detail`` must not contain personal data (names, dates of birth, contacts, free text): it is
stored in clear so the trail stays readable after a key is lost.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import AuditEvent

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x4E524D_A0D17  # "NRM" audit: any constant shared by all writers


def _timestamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(prev_hash: str, at: datetime, actor: str, action: str,
                 case_reference: str | None, detail: dict[str, Any]) -> str:
    """The chain hash of one event."""
    body = canonical({"at": _timestamp(at), "actor": actor, "action": action,
                      "case_reference": case_reference, "detail": detail})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})


def record(session: Session, actor: str, action: str, case_reference: str | None = None,
           detail: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEvent:
    """Append an event in the caller's transaction (flushed, not committed)."""
    detail = json.loads(canonical(dict(detail or {})))  # exactly what the JSON column gives back
    at = (at or utcnow()).astimezone(timezone.utc)
    _lock_chain(session)
    session.flush()
    prev_hash = session.scalars(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first() or GENESIS
    event = AuditEvent(at=at, actor=actor, action=action, case_reference=case_reference,
                       detail=detail, prev_hash=prev_hash,
                       hash=compute_hash(prev_hash, at, actor, action, case_reference, detail))
    session.add(event)
    session.flush()
    return event


def verify(session: Session) -> list[str]:
    """Check the whole chain; return one line per problem (an empty list means intact)."""
    problems: list[str] = []
    expected_prev = GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != expected_prev:
            problems.append(f"event {event.id}: prev_hash does not match the hash of the event before "
                            "it (an event was removed, inserted or reordered)")
        recomputed = compute_hash(event.prev_hash, event.at, event.actor, event.action,
                                  event.case_reference, event.detail or {})
        if event.hash != recomputed:
            problems.append(f"event {event.id}: content does not match its hash (the row was edited)")
        expected_prev = event.hash
    return problems
