"""Server-side sign-in sessions: what makes sign-out, revocation and idle limits real.

The signed Flask session cookie carries a random secret (``SESSION_KEY``); the server keeps only
its SHA-256 in ``user_sessions`` (``backend.models.UserSession``). Every request that uses the
session checks that row: a session ends for good when it is revoked (sign-out ends that one;
a password change, ``nrm user revoke-tokens`` and deactivation end all of a user's), when it has
been idle for ``SESSION_IDLE_MINUTES``, or ``SESSION_MAX_HOURS`` after it began however busy it is.
A copied cookie is therefore worth nothing once its session has ended.

``utcnow`` is looked up in this module at each call, so tests can move the clock.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session, joinedload

from backend.db import utcnow
from backend.models import User, UserSession

SESSION_KEY = "nrm_session"
"""The key of the session secret inside the signed Flask session cookie."""
TOUCH_EVERY = timedelta(seconds=60)
"""``last_seen_at`` is written at most this often per session (the idle limit is to the minute)."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start(db_session: Session, user: User) -> str:
    """Record a new session for ``user`` (flushed) and return the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    db_session.add(UserSession(id=_hash(secret), user_id=user.id, created_at=now, last_seen_at=now))
    db_session.flush()
    return secret


def check(db_session: Session, secret: str | None, user_id: int, idle: timedelta,
          longest: timedelta) -> User | None:
    """The signed-in user while the session is live for ``user_id`` (then it is marked as seen
    now), else None.

    A session found idle or too old is revoked on the spot, so it can never come back. One
    statement (the session with its user); a write only when ``last_seen_at`` moves by
    :data:`TOUCH_EVERY` or the session ends.
    """
    if not secret:
        return None
    record = db_session.get(UserSession, _hash(secret), options=[joinedload(UserSession.user)])
    if record is None or record.user_id != user_id or record.revoked_at is not None:
        return None
    user = record.user
    now = utcnow()
    if user is None or not user.active or now - record.last_seen_at >= idle \
            or now - record.created_at >= longest:
        record.revoked_at = now
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
    return user


def end(db_session: Session, secret: str | None) -> None:
    """End one session (signing out): its cookie, wherever copied, no longer signs anyone in."""
    if secret:
        db_session.execute(update(UserSession)
                           .where(UserSession.id == _hash(secret), UserSession.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))


def end_all(db_session: Session, user: User) -> int:
    """End every live session of ``user``; how many there were."""
    ended = db_session.execute(update(UserSession)
                               .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
                               .values(revoked_at=utcnow()))
    return ended.rowcount


def purge(db_session: Session, before: datetime) -> int:
    """Delete the records of sessions that began before ``before`` (all ended by then)."""
    return db_session.execute(delete(UserSession).where(UserSession.created_at < before)).rowcount
