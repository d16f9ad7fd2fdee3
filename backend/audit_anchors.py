"""Anchors: signed digests of the audit trail, kept outside the database, that catch removed events.

Chains alone cannot show that the newest events of a chain, or a whole chain, were deleted: what
is left is still consistent. :func:`make_anchor` (``nrm audit anchor``, ``nrm jobs run``) seals
every event written since the previous anchor into a new epoch (``audit_events.epoch``) and signs,
with ``AUDIT_KEY``, the number of events sealed so far and the XOR of their keyed digests
(:func:`backend.audit.leaf`: XOR, so the next anchor reads only the events since, in any order).
The anchor is stored (``audit_anchors``) and printed as one line to keep elsewhere::

    nrm-audit-anchor v2 EPOCH EVENTS DIGEST TIME SIGNATURE

:func:`backend.audit.verify` recomputes each epoch from the events and checks every stored anchor
(epoch by epoch, so a problem is reported where it is) and every line given: fewer events than
were sealed means events were removed, a different digest that they were replaced. Removing the
stored anchors as well is caught by the lines kept elsewhere. Writers never wait for an anchor:
sealing is one UPDATE of the rows not sealed yet, and events committed meanwhile are sealed by
the next one; only two anchors at once queue (on PostgreSQL an advisory lock of their own).

Lines of the single-chain trail (``nrm-audit-anchor ID HASH TIME SIGNATURE``, before migration
0013) still verify: the event they name must still be there unchanged.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from backend.audit import VERIFY_BATCH, Sealed, leaf, mac, session_key
from backend.db import utcnow
from backend.models import AuditAnchor, AuditEvent

ANCHOR_PREFIX = "nrm-audit-anchor"
SEALED_MARK = "v2"
_ANCHORING_LOCK_KEY = 0x4E524D_A0D18  # "NRM" audit anchors: only anchors queue on it, never writers
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class AnchorAltered(RuntimeError):
    """The last stored anchor's signature does not match: a new one cannot be built on it."""


def _signature(key: bytes, *parts: object) -> str:
    return mac(key, "|".join([ANCHOR_PREFIX, *map(str, parts)]))


def _signed(key: bytes, signature: str, *parts: object) -> bool:
    return hmac.compare_digest(_signature(key, *parts), signature)


_FORGED = "signature does not match (altered, or not made with this AUDIT_KEY)"


@dataclass(frozen=True)
class EventAnchor:
    """A line of the single-chain trail (before migration 0013): that event, unchanged."""

    event_id: int
    hash: str
    taken_at: str
    signature: str

    def line(self) -> str:
        return f"{ANCHOR_PREFIX} {self.event_id} {self.hash} {self.taken_at} {self.signature}"

    def problems(self, session: Session, key: bytes, sealed: Sealed) -> list[str]:
        name = f"anchor of event {self.event_id} ({self.taken_at})"
        if not _signed(key, self.signature, self.event_id, self.hash, self.taken_at):
            return [f"{name}: {_FORGED}"]
        event = session.get(AuditEvent, self.event_id)
        if event is None:
            return [f"{name}: the chain no longer reaches that event (it was removed, with any "
                    "after it: the trail was truncated)"]
        if event.hash != self.hash:
            return [f"{name}: the event's hash changed (the chain was rewritten)"]
        return []


@dataclass(frozen=True)
class SealAnchor:
    """Every event sealed up to ``epoch``: how many (``events``) and their XOR digest, signed."""

    epoch: int
    events: int
    digest: str
    taken_at: str
    signature: str

    def line(self) -> str:
        return (f"{ANCHOR_PREFIX} {SEALED_MARK} {self.epoch} {self.events} {self.digest} "
                f"{self.taken_at} {self.signature}")

    def signed_by(self, key: bytes) -> bool:
        return _signed(key, self.signature, SEALED_MARK, self.epoch, self.events, self.digest, self.taken_at)

    def problems(self, session: Session, key: bytes, sealed: Sealed) -> list[str]:
        """Against every event sealed in this epoch or before (a line kept elsewhere)."""
        if not self.signed_by(key):
            return [f"{self.name}: {_FORGED}"]
        count, digest = sealed.upto(self.epoch)
        return self._compare(self.events, int(self.digest, 16), count, digest, "by then")

    def epoch_problems(self, previous: SealAnchor, sealed: Sealed) -> list[str]:
        """Against the events of this epoch alone (``previous`` is the stored anchor before it)."""
        return self._compare(self.events - previous.events, int(self.digest, 16) ^ int(previous.digest, 16),
                             sealed.counts.get(self.epoch, 0), sealed.digests.get(self.epoch, 0), "in that epoch")

    @property
    def name(self) -> str:
        return f"anchor of epoch {self.epoch} ({self.taken_at})"

    def _compare(self, expected: int, expected_digest: int, count: int, digest: int, scope: str) -> list[str]:
        if count < expected:
            return [f"{self.name}: {expected - count} of the {expected} events sealed {scope} are missing "
                    "(removed: the newest events of a chain, or a whole chain; the trail was truncated)"]
        if count > expected:
            return [f"{self.name}: {count - expected} more events than were sealed {scope} "
                    "(added, or moved between epochs)"]
        if digest != expected_digest:
            return [f"{self.name}: events sealed {scope} were replaced or rewritten"]
        return []


Anchor = EventAnchor | SealAnchor


def _from_row(row: AuditAnchor) -> SealAnchor:
    return SealAnchor(row.epoch, row.events, row.digest, row.taken_at.strftime(_TIME_FORMAT), row.signature)


def stored_anchors(session: Session) -> list[SealAnchor]:
    """The anchors kept in the database, oldest first."""
    return [_from_row(row) for row in session.scalars(select(AuditAnchor).order_by(AuditAnchor.epoch))]


def make_anchor(session: Session, now: datetime | None = None) -> SealAnchor | None:
    """Seal every event not sealed yet into a new epoch; store and return its signed anchor (the
    last one again when nothing was written since, None while the trail is empty)."""
    key = session_key(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ANCHORING_LOCK_KEY})
    last = session.scalars(select(AuditAnchor).order_by(AuditAnchor.epoch.desc()).limit(1)).first()
    previous = _from_row(last) if last else None
    if previous is not None and not previous.signed_by(key):
        raise AnchorAltered(f"the stored anchor of epoch {previous.epoch} was altered: run `nrm audit verify`")
    epoch = (previous.epoch if previous else 0) + 1
    sealed = session.execute(update(AuditEvent).where(AuditEvent.epoch.is_(None)).values(epoch=epoch)
                             .execution_options(synchronize_session=False)).rowcount
    if not sealed:
        return previous
    count, digest = (previous.events, int(previous.digest, 16)) if previous else (0, 0)
    for chain, seq, event_hash in session.execute(
            select(AuditEvent.chain, AuditEvent.seq, AuditEvent.hash).where(AuditEvent.epoch == epoch)
            .execution_options(yield_per=VERIFY_BATCH)):
        count += 1
        digest ^= leaf(key, chain, seq, event_hash)
    taken_at = (now or utcnow()).replace(microsecond=0)
    hex_digest = f"{digest:064x}"
    row = AuditAnchor(epoch=epoch, taken_at=taken_at, events=count, digest=hex_digest,
                      signature=_signature(key, SEALED_MARK, epoch, count, hex_digest,
                                           taken_at.strftime(_TIME_FORMAT)))
    session.add(row)
    session.flush()
    return _from_row(row)


def parse_anchor(line: str) -> Anchor:
    """An anchor from a line ``nrm audit anchor`` printed; ValueError if malformed."""
    parts = line.split()
    if (len(parts) == 7 and parts[0] == ANCHOR_PREFIX and parts[1] == SEALED_MARK
            and parts[2].isdigit() and parts[3].isdigit()):
        return SealAnchor(int(parts[2]), int(parts[3]), parts[4], parts[5], parts[6])
    if len(parts) == 5 and parts[0] == ANCHOR_PREFIX and parts[1].isdigit():
        return EventAnchor(int(parts[1]), parts[2], parts[3], parts[4])
    raise ValueError(f"not an audit anchor (expected '{ANCHOR_PREFIX} {SEALED_MARK} EPOCH EVENTS "
                     "DIGEST TIME SIGNATURE')")


def check_anchors(session: Session, sealed: Sealed, stored: list[SealAnchor],
                  given: Iterable[Anchor] = ()) -> list[str]:
    """Problems of the ``stored`` anchors and of ``given`` ones against what each epoch holds now.

    Epochs newer than the newest stored anchor are not reported as unanchored: on PostgreSQL an
    anchor may have been taken since ``stored`` was read (the lines kept elsewhere cover them).
    """
    key = session_key(session)
    problems: list[str] = []
    newest = stored[-1].epoch if stored else None
    unanchored = sorted(epoch for epoch in set(sealed.counts) - {anchor.epoch for anchor in stored}
                        if newest is None or epoch < newest)
    if unanchored:
        problems.append(f"events are sealed in epoch(s) {', '.join(map(str, unanchored[:5]))}"
                        f"{' ...' if len(unanchored) > 5 else ''} but no anchor of that epoch is stored "
                        "(stored anchors were removed: check the lines kept elsewhere)")
    previous = SealAnchor(0, 0, f"{0:064x}", "", "")
    for anchor in stored:
        if not anchor.signed_by(key):
            problems.append(f"{anchor.name}: {_FORGED}")
        elif anchor.epoch == previous.epoch + 1:
            problems.extend(anchor.epoch_problems(previous, sealed))
        else:
            problems.extend(anchor.problems(session, key, sealed))
        previous = anchor
    for anchor in given:
        problems.extend(anchor.problems(session, key, sealed))
    return problems
