"""The append-only, keyed hash chains of the audit trail: who did what to which case, when (DESIGN §5).

Chains. Every case has its own chain (events without a case: one per actor, ``actor:user:7``).
Each event carries its chain and its place in it (``seq`` 1, 2, 3, ...), and its ``hash`` is
HMAC-SHA256, keyed with ``AUDIT_KEY`` (``backend.config``; kept outside the database), over the
previous event's hash and the canonical JSON of the event, chain and seq included. Editing,
deleting or reordering an event breaks its chain from that point on, and someone who can write to
the database but does not hold the key cannot recompute the later hashes to hide it. ``(chain,
seq)`` is unique, so concurrent writers cannot fork a chain. Writers queue per chain only: on
PostgreSQL on a transaction-scoped advisory lock keyed by the chain (two cases never wait for each
other), on SQLite the write transaction (BEGIN IMMEDIATE) already serialises them. Every chain's
first event links to the head of the legacy chain (below), so that cannot be shortened either.
Claim-next (``backend.queues``) takes its case's chain lock without waiting in the statement that
picks the case, reads the head there too, and writes with :func:`append`, which re-reads the head
if an event committed meanwhile took its place (the unique ``(chain, seq)`` says so, nothing forks).

Anchors. Deleting the newest events of a chain, or a whole chain, leaves chains that are still
consistent. ``backend.audit_anchors`` seals every event written since the last anchor into a new
epoch and signs a digest of all sealed events (``nrm audit anchor``, ``nrm jobs run``); the line
printed is kept elsewhere, and :func:`verify` checks every anchor (those stored in the database
and those given) still matches the events sealed by then.

Erasure. The HMAC covers ``detail_digest`` (an HMAC of ``detail``), not ``detail`` itself, so when
a case is erased or reaches its retention period (``backend.retention``) its events' ``detail`` is
removed (:func:`redact_case`, which sets ``redacted_at``) while actor, action, time, reference and
the chain stay verifiable. :func:`verify` accepts a redacted event only if an erasure event for
the same case follows it, so redaction cannot be used to hide an edit of a live case.

Versions. Events written before migration 0013 are on one legacy chain, ``global`` (their ``seq``
is their id), and keep their versions. Version 1, before migration 0009: plain SHA-256 over the
whole event including ``detail``; they still verify as they are (never re-keyed, which would have
meant trusting the table at migration time); the first version 2 (keyed) event's HMAC covers the
last plain hash, so once a keyed event exists the plain prefix cannot be rewritten either. A plain
event after a keyed one is reported, and so is a version 1 or 2 event outside the legacy chain.
Version 1 events are never redacted: their hash covers their detail, which never held personal
data. Replacing the *whole* trail by plain events is only caught by an anchor, which is why
anchors should be taken regularly.

``detail`` must not contain personal data (names, dates of birth, contacts, free text): it is
stored in clear so the trail stays readable after a field key is lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import (BigInteger, ColumnElement, Connection, Engine, bindparam, cast, func, literal_column,
                        select, text, update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.orm import Session

from backend import cursor_statements
from backend.cursor_statements import sql_constant
from backend.db import utcnow
from backend.models import AuditEvent

if TYPE_CHECKING:
    from backend.audit_anchors import Anchor

GENESIS = "0" * 64
PLAIN = 1
KEYED = 2
CHAINED = 3
LEGACY_CHAIN = "global"
"""The one chain of every event written before migration 0013 (versions 1 and 2)."""
ERASED = "case.erased"
RETENTION_DELETED = "case.retention_deleted"
ERASURE_ACTIONS = (ERASED, RETENTION_DELETED)
"""The events after which a case's earlier events may have their detail removed."""
VERIFY_BATCH = 2000
"""Events fetched at a time while verifying (streamed, so memory does not grow with the trail)."""
_KEY_ATTRIBUTE = "_nrm_audit_key"


class AuditKeyMissing(RuntimeError):
    """No ``AUDIT_KEY`` is bound to the session's engine (``backend.app.init_backend`` binds it)."""


def bind_key(engine: Engine, key: str) -> None:
    """Attach the chain's HMAC key to ``engine`` so every session on it (request, CLI, job) signs."""
    setattr(engine.dialect, _KEY_ATTRIBUTE, key.encode("utf-8"))


def session_key(session: Session) -> bytes:
    """The ``AUDIT_KEY`` bound to the session's engine."""
    return bound_key(session.get_bind())


def bound_key(bind: Connection | Engine) -> bytes:
    """The ``AUDIT_KEY`` bound to the engine of ``bind`` (a connection or the engine itself)."""
    key = getattr(bind.dialect, _KEY_ATTRIBUTE, None)
    if key is None:
        raise AuditKeyMissing("no AUDIT_KEY bound to this database: call backend.app.init_backend(app)")
    return key


def mac(key: bytes, message: str) -> str:
    """HMAC-SHA256 of ``message`` with ``key``, in hex."""
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _timestamp(at: datetime) -> str:
    """``at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (what every keyed hash covers): from
    ``isoformat``, a third of ``strftime``'s cost, which it equals from year 1000 on (``strftime``
    does not pad earlier years)."""
    at = at.astimezone(timezone.utc)
    if at.year < 1000:
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""Built once: ``json.dumps`` given options builds a new encoder at every call (most of the cost
of encoding a claim's small detail)."""


def canonical(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, non-ASCII kept (``json.dumps(obj,
    sort_keys=True, separators=(",", ":"), ensure_ascii=False)``)."""
    return _CANONICAL.encode(obj)


def pseudonym(session: Session, value: str) -> str:
    """A keyed hash of ``value`` (e.g. an email typed at sign-in) that links repeats without
    revealing the value: without ``AUDIT_KEY`` it cannot be reversed by guessing."""
    return mac(session_key(session), "pseudonym|" + value)[:32]


def chain_of(actor: str, case_reference: str | None) -> str:
    """The chain an event goes on: its case's, or for events without a case its actor's."""
    return case_reference or f"actor:{actor}"


def compute_hash(prev_hash: str, at: datetime, actor: str, action: str,
                 case_reference: str | None, detail: dict[str, Any]) -> str:
    """The chain hash of a version 1 (plain SHA-256) event, as written before migration 0009."""
    body = canonical({"at": _timestamp(at), "actor": actor, "action": action,
                      "case_reference": case_reference, "detail": detail})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def detail_digest(key: bytes, detail: dict[str, Any]) -> str:
    """What a version 2 or 3 chain hash covers instead of ``detail`` (so the detail can be erased)."""
    return _digest_of(key, canonical(detail))


def _digest_of(key: bytes, canonical_detail: str) -> str:
    return mac(key, "detail|" + canonical_detail)


def compute_keyed_hash(key: bytes, prev_hash: str, at: datetime, actor: str, action: str,
                       case_reference: str | None, digest: str,
                       place: tuple[str, int] | None = None) -> str:
    """The chain hash of a keyed event: HMAC-SHA256 with ``AUDIT_KEY``. Version 3 events pass
    their ``place`` (chain, seq), which the hash then covers; version 2 events have none."""
    fields: dict[str, Any] = {"v": KEYED, "at": _timestamp(at), "actor": actor, "action": action,
                              "case_reference": case_reference, "detail_digest": digest}
    if place is not None:
        fields.update(v=CHAINED, chain=place[0], seq=place[1])
    return mac(key, prev_hash + canonical(fields))


_LOCK_PREFIX = "nrm-audit-chain|"


def chain_lock_id(chain: str) -> int:
    """The PostgreSQL advisory lock of one chain: a signed 64-bit hash of its key (two chains
    sharing one only means they sometimes queue together)."""
    return int.from_bytes(hashlib.sha256((_LOCK_PREFIX + chain).encode("utf-8")).digest()[:8],
                          "big", signed=True)


def chain_lock_sql(chain: ColumnElement[str]) -> ColumnElement[int]:
    """:func:`chain_lock_id` computed by PostgreSQL, for a chain known only inside a statement
    (the case claim-next picks): the same first 8 bytes of the same SHA-256, as a signed bigint."""
    digest = func.sha256(func.convert_to(sql_constant(_LOCK_PREFIX) + chain, sql_constant("UTF8")))
    hex_text = sql_constant("x") + func.encode(func.substr(digest, literal_column("1"), literal_column("8")),
                                               sql_constant("hex"))
    return cast(cast(hex_text, BIT(64)), BigInteger)


def try_lock_chain_sql(chain: ColumnElement[str]) -> ColumnElement[bool]:
    """Take the chain's lock without waiting, inside a statement (PostgreSQL): true if taken.

    The statement's snapshot predates the lock, so a head read in the same statement may miss an
    event committed in between: write with :func:`append` (which re-reads the head then)."""
    return func.pg_try_advisory_xact_lock(chain_lock_sql(chain))


def lock_chain(connection: Connection, chain: str) -> None:
    """Wait for the chain's lock (PostgreSQL; on SQLite the write transaction is the lock)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": chain_lock_id(chain)})


def _latest(column: Any, chain: Any) -> Any:
    return select(column).where(AuditEvent.chain == chain).order_by(AuditEvent.seq.desc()).limit(literal_column("1"))


def chain_start(session: Session) -> str:
    """Where every per-case chain starts: the head of the legacy chain (GENESIS if it is empty)."""
    return session.scalars(_latest(AuditEvent.hash, LEGACY_CHAIN)).first() or GENESIS


def head_columns(chain: Any) -> tuple[ColumnElement[Any], ...]:
    """The head of ``chain`` (a value, or a column of the statement these are added to) as three
    columns: ``head_seq`` and ``head_hash`` (NULL for an empty chain) and ``chain_start`` (the
    legacy chain's head, where an empty chain starts); each one index probe on ``(chain, seq)``."""
    return (_latest(AuditEvent.seq, chain).scalar_subquery().label("head_seq"),
            _latest(AuditEvent.hash, chain).scalar_subquery().label("head_hash"),
            _latest(AuditEvent.hash, sql_constant(LEGACY_CHAIN)).scalar_subquery().label("chain_start"))


@dataclass(frozen=True)
class Head:
    """Where the next event of a chain goes: its ``seq`` and the hash it links to."""

    seq: int
    prev_hash: str

    @classmethod
    def of(cls, row: Any) -> Head:
        """From a row with :func:`head_columns`."""
        if row.head_seq is None:
            return cls(1, row.chain_start or GENESIS)
        return cls(row.head_seq + 1, row.head_hash)


_PLAIN = (str, bool, int, type(None))
"""Values JSON gives back as they were (a float may not: ``1e400`` comes back ``inf``)."""


def _as_stored(detail: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``detail`` exactly as the JSON column gives it back, and its canonical JSON (encoded once):
    a flat detail of text, numbers, booleans and nulls under text keys (every event the product
    writes) is its own copy; anything else (tuples, nested values, other keys) round-trips."""
    text = canonical(detail)
    if all(type(name) is str and type(value) in _PLAIN for name, value in detail.items()):
        return dict(sorted(detail.items())), text  # in the canonical order, as the round trip gave it
    stored = json.loads(text)
    return stored, canonical(stored)


def event_row(key: bytes, chain: str, head: Head, actor: str, action: str, case_reference: str | None,
              detail: dict[str, Any] | None, at: datetime) -> dict[str, Any]:
    """The columns of a version 3 event at ``head`` of ``chain``, hash and digest computed."""
    detail, text = _as_stored(detail or {})
    at = at.astimezone(timezone.utc)
    digest = _digest_of(key, text)
    return {"chain": chain, "seq": head.seq, "at": at, "actor": actor, "action": action,
            "case_reference": case_reference, "detail": detail, "prev_hash": head.prev_hash,
            "version": CHAINED, "detail_digest": digest,
            "hash": compute_keyed_hash(key, head.prev_hash, at, actor, action, case_reference, digest,
                                       (chain, head.seq))}


EVENT_COLUMNS = ("chain", "seq", "at", "actor", "action", "case_reference", "detail", "prev_hash", "version",
                 "detail_digest", "hash")


@lru_cache(maxsize=4)
def insert_event(dialect: str) -> Any:
    """``INSERT`` of one event, its values bound by the names of :func:`event_row`, that does
    nothing if another event holds its place (``ON CONFLICT DO NOTHING``), ``RETURNING`` its id."""
    table = AuditEvent.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return (insert.values({name: bindparam(name, type_=table.c[name].type) for name in EVENT_COLUMNS})
            .on_conflict_do_nothing().returning(table.c.id))


def append(connection: Connection, key: bytes, head: Head, actor: str, action: str, case_reference: str,
           detail: dict[str, Any], at: datetime, statement: Any = None, extra: dict[str, Any] | None = None) -> None:
    """Append an event to the chain of ``case_reference``, whose lock the transaction holds, at
    ``head`` read earlier (one INSERT): if an event took that place meanwhile (committed between
    the reading statement's snapshot and the lock), the head is read again and the event written
    there. ``statement``: :func:`insert_event` with more work in the same statement (a CTE),
    whose other values are ``extra``."""
    statement = statement if statement is not None else insert_event(connection.dialect.name)
    while not cursor_statements.run(connection, statement, {
            **event_row(key, case_reference, head, actor, action, case_reference, detail, at), **(extra or {})}).rows:
        statement, extra = insert_event(connection.dialect.name), None
        head = head_of(connection, case_reference)


_HEAD = select(*head_columns(bindparam("chain", type_=AuditEvent.chain.type)))


def head_of(connection: Connection, chain: str) -> Head:
    """The head of ``chain`` now (read after its lock is taken)."""
    return Head.of(cursor_statements.first(connection, _HEAD, {"chain": chain}))


def record(session: Session, actor: str, action: str, case_reference: str | None = None,
           detail: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEvent:
    """Append an event to its chain in the caller's transaction (flushed, not committed).

    Holds the chain's lock until the transaction ends; a transaction auditing several chains
    takes them in the order it audits (case writers already queue on the case's row first).
    """
    key = session_key(session)
    chain = chain_of(actor, case_reference)
    lock_chain(session.connection(), chain)
    session.flush()
    head = head_of(session.connection(), chain)
    event = AuditEvent(**event_row(key, chain, head, actor, action, case_reference, detail, at or utcnow()))
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
        .where(AuditEvent.case_reference == reference, AuditEvent.version.in_((KEYED, CHAINED)),
               AuditEvent.redacted_at.is_(None))
        .values(detail={}, redacted_at=now or utcnow())
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


# --- verification -------------------------------------------------------------------------------

def _erasures(session: Session) -> dict[str, int]:
    """Each erased case's reference and the id of its last erasure event."""
    rows = session.execute(select(AuditEvent.case_reference, func.max(AuditEvent.id))
                           .where(AuditEvent.action.in_(ERASURE_ACTIONS))
                           .group_by(AuditEvent.case_reference))
    return {reference: last for reference, last in rows if reference is not None}


def leaf(key: bytes, chain: str, seq: int, event_hash: str) -> int:
    """One event's keyed digest as a number, for the order-free (XOR) digest of an epoch."""
    return int(mac(key, f"leaf|{chain}|{seq}|{event_hash}"), 16)


@dataclass
class Sealed:
    """Per epoch, how many events it holds now and the XOR of their :func:`leaf` digests."""

    counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    digests: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    _prefix: list[tuple[int, int, int]] = field(default_factory=list, init=False)

    def add(self, epoch: int, digest: int) -> None:
        self.counts[epoch] += 1
        self.digests[epoch] ^= digest
        self._prefix.clear()

    def upto(self, epoch: int) -> tuple[int, int]:
        """Events sealed in ``epoch`` or before, and their XOR digest."""
        if not self._prefix:
            count = digest = 0
            self._prefix.append((0, 0, 0))
            for each in sorted(self.counts):
                count, digest = count + self.counts[each], digest ^ self.digests[each]
                self._prefix.append((each, count, digest))
        _, count, digest = self._prefix[bisect_right(self._prefix, (epoch, float("inf"), 0)) - 1]
        return count, digest


_COLUMNS = (AuditEvent.id, AuditEvent.chain, AuditEvent.seq, AuditEvent.at, AuditEvent.actor,
            AuditEvent.action, AuditEvent.case_reference, AuditEvent.detail, AuditEvent.prev_hash,
            AuditEvent.hash, AuditEvent.version, AuditEvent.detail_digest, AuditEvent.redacted_at,
            AuditEvent.epoch)


def _event_problems(key: bytes, event: Any, erasures: dict[str, int], keyed_seen: bool) -> list[str]:
    detail = event.detail or {}
    legacy = event.chain == LEGACY_CHAIN
    if event.version == PLAIN and legacy:
        if keyed_seen:
            return [f"event {event.id}: a plain (unkeyed) event after keyed ones (written without AUDIT_KEY)"]
        if event.hash != compute_hash(event.prev_hash, event.at, event.actor, event.action,
                                      event.case_reference, detail):
            return [f"event {event.id}: content does not match its hash (the row was edited)"]
        return []
    if event.version not in (PLAIN, KEYED, CHAINED):
        return [f"event {event.id}: unknown chain version {event.version}"]
    if (event.version != CHAINED) != legacy:
        return [f"event {event.id}: a version {event.version} event on chain {event.chain} "
                "(versions 1 and 2 exist only on the legacy chain)"]
    problems = []
    if event.redacted_at is None and event.detail_digest != detail_digest(key, detail):
        problems.append(f"event {event.id}: detail does not match its digest (the detail was edited)")
    if event.redacted_at is not None and erasures.get(event.case_reference or "", 0) <= event.id:
        problems.append(f"event {event.id}: detail removed without a later erasure of its case")
    place = None if legacy else (event.chain, event.seq)
    if event.hash != compute_keyed_hash(key, event.prev_hash, event.at, event.actor, event.action,
                                        event.case_reference, event.detail_digest or "", place):
        problems.append(f"event {event.id}: content does not match its hash (the row was edited, "
                        "moved, or written with another AUDIT_KEY)")
    return problems


def check_chains(session: Session) -> tuple[list[str], Sealed]:
    """Check every chain, streamed chain by chain; the problems, and what each epoch now holds."""
    key = session_key(session)
    erasures = _erasures(session)
    start = chain_start(session)
    problems: list[str] = []
    sealed = Sealed()
    chain, expected_prev, keyed_seen = None, GENESIS, False
    rows = session.execute(select(*_COLUMNS).order_by(AuditEvent.chain, AuditEvent.seq)
                           .execution_options(yield_per=VERIFY_BATCH))
    for event in rows:
        if event.chain != chain:
            chain, keyed_seen = event.chain, False
            expected_prev = GENESIS if chain == LEGACY_CHAIN else start
        if event.prev_hash != expected_prev:
            problems.append(f"event {event.id}: prev_hash does not match the hash of the event before "
                            f"it on chain {chain} (an event was removed, inserted or reordered)")
        problems.extend(_event_problems(key, event, erasures, keyed_seen))
        keyed_seen = keyed_seen or event.version != PLAIN
        expected_prev = event.hash
        if event.epoch is not None:
            sealed.add(event.epoch, leaf(key, event.chain, event.seq, event.hash))
    return problems, sealed


def verify(session: Session, anchors: Iterable[Anchor] = ()) -> list[str]:
    """Check every chain, every anchor stored in the database and every anchor given (lines kept
    elsewhere); one line per problem (an empty list means intact)."""
    from backend.audit_anchors import check_anchors, stored_anchors  # anchors build on the chains

    stored = stored_anchors(session)  # before the scan, which then sees every event they sealed
    problems, sealed = check_chains(session)
    return problems + check_anchors(session, sealed, stored, anchors)
