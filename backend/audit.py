"""The append-only, keyed hash chain of the audit trail: who did what to which case, when (DESIGN §5).

Chain. Each event's ``hash`` is HMAC-SHA256, keyed with ``AUDIT_KEY`` (``backend.config``; kept
outside the database), over the previous event's hash and the canonical JSON of the event. Editing,
deleting or reordering an event breaks the chain from that point on, and someone who can write to
the database but does not hold the key cannot recompute the later hashes to hide it. ``prev_hash``
is unique, so concurrent writers cannot fork the chain; on PostgreSQL writers also queue on a
transaction-scoped advisory lock, on SQLite the write transaction (BEGIN IMMEDIATE) already
serialises them.

Anchors. Deleting the newest events leaves a shorter chain that is still consistent, and so does
replacing the whole table. :func:`make_anchor` signs the current head ("event id, hash, time,
HMAC") as one line to keep elsewhere (``nrm audit anchor``); :func:`verify` with anchors checks the
chain still contains each anchored event unchanged, i.e. it still reaches at least that far.

Erasure. The HMAC covers ``detail_digest`` (an HMAC of ``detail``), not ``detail`` itself, so when
a case is erased or reaches its retention period (``backend.retention``) its events' ``detail`` is
removed (:func:`redact_case`, which sets ``redacted_at``) while actor, action, time, reference and
the chain stay verifiable. :func:`verify` accepts a redacted event only if an erasure event for
the same case follows it, so redaction cannot be used to hide an edit of a live case.

Versions. Events written before migration 0009 are version 1: plain SHA-256 over the whole event
including ``detail``. They still verify as they are (they were never re-keyed, which would have
meant trusting the table at migration time); the first keyed event's HMAC covers the last plain
hash, so once a keyed event exists the plain prefix cannot be rewritten either. A plain event
after a keyed one is reported. Version 1 events are never redacted: their hash covers their
detail, which never held personal data. Replacing the *whole* chain by plain events is only
caught by an anchor, which is why anchors should be taken regularly.

``detail`` must not contain personal data (names, dates of birth, contacts, free text): it is
stored in clear so the trail stays readable after a field key is lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import AuditEvent

GENESIS = "0" * 64
PLAIN = 1
KEYED = 2
ERASED = "case.erased"
RETENTION_DELETED = "case.retention_deleted"
ERASURE_ACTIONS = (ERASED, RETENTION_DELETED)
"""The events after which a case's earlier events may have their detail removed."""
ANCHOR_PREFIX = "nrm-audit-anchor"
_ADVISORY_LOCK_KEY = 0x4E524D_A0D17  # "NRM" audit: any constant shared by all writers
_KEY_ATTRIBUTE = "_nrm_audit_key"


class AuditKeyMissing(RuntimeError):
    """No ``AUDIT_KEY`` is bound to the session's engine (``backend.app.init_backend`` binds it)."""


def bind_key(engine: Engine, key: str) -> None:
    """Attach the chain's HMAC key to ``engine`` so every session on it (request, CLI, job) signs."""
    setattr(engine.dialect, _KEY_ATTRIBUTE, key.encode("utf-8"))


def _key(session: Session) -> bytes:
    key = getattr(session.get_bind().dialect, _KEY_ATTRIBUTE, None)
    if key is None:
        raise AuditKeyMissing("no AUDIT_KEY bound to this database: call backend.app.init_backend(app)")
    return key


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _timestamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pseudonym(session: Session, value: str) -> str:
    """A keyed hash of ``value`` (e.g. an email typed at sign-in) that links repeats without
    revealing the value: without ``AUDIT_KEY`` it cannot be reversed by guessing."""
    return _mac(_key(session), "pseudonym|" + value)[:32]


def compute_hash(prev_hash: str, at: datetime, actor: str, action: str,
                 case_reference: str | None, detail: dict[str, Any]) -> str:
    """The chain hash of a version 1 (plain SHA-256) event, as written before migration 0009."""
    body = canonical({"at": _timestamp(at), "actor": actor, "action": action,
                      "case_reference": case_reference, "detail": detail})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def detail_digest(key: bytes, detail: dict[str, Any]) -> str:
    """What a version 2 chain hash covers instead of ``detail`` (so the detail can be erased)."""
    return _mac(key, "detail|" + canonical(detail))


def compute_keyed_hash(key: bytes, prev_hash: str, at: datetime, actor: str, action: str,
                       case_reference: str | None, digest: str) -> str:
    """The chain hash of a version 2 event: HMAC-SHA256 with ``AUDIT_KEY``."""
    body = canonical({"v": KEYED, "at": _timestamp(at), "actor": actor, "action": action,
                      "case_reference": case_reference, "detail_digest": digest})
    return _mac(key, prev_hash + body)


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})


def record(session: Session, actor: str, action: str, case_reference: str | None = None,
           detail: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEvent:
    """Append an event in the caller's transaction (flushed, not committed)."""
    key = _key(session)
    detail = json.loads(canonical(dict(detail or {})))  # exactly what the JSON column gives back
    at = (at or utcnow()).astimezone(timezone.utc)
    _lock_chain(session)
    session.flush()
    prev_hash = session.scalars(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first() or GENESIS
    digest = detail_digest(key, detail)
    event = AuditEvent(at=at, actor=actor, action=action, case_reference=case_reference,
                       detail=detail, prev_hash=prev_hash, version=KEYED, detail_digest=digest,
                       hash=compute_keyed_hash(key, prev_hash, at, actor, action, case_reference, digest))
    session.add(event)
    session.flush()
    return event


def redact_case(session: Session, reference: str, now: datetime | None = None) -> int:
    """Remove the detail of every keyed event of case ``reference``; how many were redacted.

    The caller must then :func:`record` one of :data:`ERASURE_ACTIONS` for the case, in the same
    transaction, or :func:`verify` will report the redacted events.
    """
    result = session.execute(
        update(AuditEvent)
        .where(AuditEvent.case_reference == reference, AuditEvent.version == KEYED,
               AuditEvent.redacted_at.is_(None))
        .values(detail={}, redacted_at=now or utcnow())
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


def _erasures(session: Session) -> dict[str, int]:
    """Each erased case's reference and the id of its last erasure event."""
    rows = session.execute(select(AuditEvent.case_reference, func.max(AuditEvent.id))
                           .where(AuditEvent.action.in_(ERASURE_ACTIONS))
                           .group_by(AuditEvent.case_reference))
    return {reference: last for reference, last in rows if reference is not None}


def _event_problems(key: bytes, event: AuditEvent, erasures: dict[str, int], keyed_seen: bool) -> list[str]:
    detail = event.detail or {}
    if event.version == PLAIN:
        if keyed_seen:
            return [f"event {event.id}: a plain (unkeyed) event after keyed ones (written without AUDIT_KEY)"]
        recomputed = compute_hash(event.prev_hash, event.at, event.actor, event.action,
                                  event.case_reference, detail)
    elif event.version == KEYED:
        problems = []
        if event.redacted_at is None and event.detail_digest != detail_digest(key, detail):
            problems.append(f"event {event.id}: detail does not match its digest (the detail was edited)")
        if event.redacted_at is not None and erasures.get(event.case_reference or "", 0) <= event.id:
            problems.append(f"event {event.id}: detail removed without a later erasure of its case")
        recomputed = compute_keyed_hash(key, event.prev_hash, event.at, event.actor, event.action,
                                        event.case_reference, event.detail_digest or "")
        if event.hash != recomputed:
            problems.append(f"event {event.id}: content does not match its hash (the row was edited, "
                            "or written with another AUDIT_KEY)")
        return problems
    else:
        return [f"event {event.id}: unknown chain version {event.version}"]
    if event.hash != recomputed:
        return [f"event {event.id}: content does not match its hash (the row was edited)"]
    return []


def verify(session: Session, anchors: Iterable[Anchor] = ()) -> list[str]:
    """Check the whole chain, and that it still reaches every anchor unchanged; one line per
    problem (an empty list means intact)."""
    key = _key(session)
    erasures = _erasures(session)
    problems: list[str] = []
    expected_prev = GENESIS
    keyed_seen = False
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != expected_prev:
            problems.append(f"event {event.id}: prev_hash does not match the hash of the event before "
                            "it (an event was removed, inserted or reordered)")
        problems.extend(_event_problems(key, event, erasures, keyed_seen))
        keyed_seen = keyed_seen or event.version == KEYED
        expected_prev = event.hash
    for anchor in anchors:
        problems.extend(check_anchor(session, anchor))
    return problems


# --- anchors ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Anchor:
    """A signed copy of the chain's head, kept outside the database."""

    event_id: int
    hash: str
    taken_at: str
    signature: str

    def line(self) -> str:
        return f"{ANCHOR_PREFIX} {self.event_id} {self.hash} {self.taken_at} {self.signature}"


def _anchor_signature(key: bytes, event_id: int, event_hash: str, taken_at: str) -> str:
    return _mac(key, f"{ANCHOR_PREFIX}|{event_id}|{event_hash}|{taken_at}")


def make_anchor(session: Session, now: datetime | None = None) -> Anchor | None:
    """The signed head of the chain now (None while the trail is empty)."""
    head = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
    if head is None:
        return None
    taken_at = (now or utcnow()).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Anchor(head.id, head.hash, taken_at, _anchor_signature(_key(session), head.id, head.hash, taken_at))


def parse_anchor(line: str) -> Anchor:
    """An :class:`Anchor` from the line ``nrm audit anchor`` printed; ValueError if malformed."""
    parts = line.split()
    if len(parts) != 5 or parts[0] != ANCHOR_PREFIX or not parts[1].isdigit():
        raise ValueError(f"not an audit anchor (expected '{ANCHOR_PREFIX} ID HASH TIME SIGNATURE')")
    return Anchor(int(parts[1]), parts[2], parts[3], parts[4])


def check_anchor(session: Session, anchor: Anchor) -> list[str]:
    """Problems with the chain against one anchor (the chain itself is checked by :func:`verify`)."""
    expected = _anchor_signature(_key(session), anchor.event_id, anchor.hash, anchor.taken_at)
    if not hmac.compare_digest(expected, anchor.signature):
        return [f"anchor of event {anchor.event_id} ({anchor.taken_at}): signature does not match "
                "(altered, or not made with this AUDIT_KEY)"]
    event = session.get(AuditEvent, anchor.event_id)
    if event is None:
        return [f"anchor of event {anchor.event_id} ({anchor.taken_at}): the chain no longer reaches "
                "that event (it was removed, with any after it: the trail was truncated)"]
    if event.hash != anchor.hash:
        return [f"anchor of event {anchor.event_id} ({anchor.taken_at}): the event's hash changed "
                "(the chain was rewritten)"]
    return []
