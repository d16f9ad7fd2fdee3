"""Passwords (argon2), API bearer tokens (stored as SHA-256) and role checks.

A token secret is shown once when created and only its hash is kept, so a database leak exposes no
usable token. Tokens expire (``API_TOKEN_DAYS``) and record when they were last used. Roles are
exclusive (DESIGN §4): the decorator lists the roles an endpoint accepts.

:func:`end_access` is the one way to cut a user off at once: it revokes every API token and ends
every signed-in session (``backend.sessions``); a password change and deactivation go through it.
Repeated wrong passwords lock nobody out here: ``backend.limits`` throttles the client instead.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Callable, TypeVar, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g, has_app_context, jsonify, request
from sqlalchemy import ColumnElement, Connection, ScalarSelect, and_, bindparam, select, update
from sqlalchemy.orm import Session

from backend import cursor_statements, db, sessions
from backend.config import INT_DEFAULTS
from backend.db import utcnow
from backend.loaded import persistent
from backend.models import ROLES, ApiToken, User

TOKEN_PREFIX = "nrm_"
TOKEN_USE_RECORDED_EVERY = timedelta(seconds=60)
"""``last_used_at`` is written at most this often per token (a busy client is one write a minute)."""

_hasher = PasswordHasher()
F = TypeVar("F", bound=Callable[..., Any])


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password for a new account (about 120 bits), shown once by ``user add``."""
    return secrets.token_urlsafe(15)


def create_user(session: Session, email: str, role: str, password: str,
                organisation: str | None = None) -> User:
    """Add a user (flushed); raises ValueError for an unknown role or an email already in use."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    email = normalise_email(email)
    if "@" not in email:
        raise ValueError(f"not an email address: {email!r}")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ValueError(f"a user with email {email} already exists")
    user = User(email=email, role=role, password_hash=hash_password(password),
                organisation=organisation, active=True)
    session.add(user)
    session.flush()
    return user


def check_login(session: Session, email: str, password: str) -> User | None:
    """The active user for a correct email and password, else None (same work either way).

    No account is ever locked: a lock-out would let anyone who knows a caseworker's email keep
    them out. Guessing is throttled per client by ``backend.limits`` instead.
    """
    return check_password(account_for(session, email), password)


def account_for(session: Session, email: str) -> User | None:
    """The account an email names, whatever its state (one read, shared by the password check
    and the audit of a failed sign-in)."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def check_password(account: User | None, password: str) -> User | None:
    """``account`` when it is active and ``password`` is its password, else None; the same work
    when there is no account (do not reveal which emails exist)."""
    if account is None:
        _hasher.hash(password)
        return None
    if not verify_password(account.password_hash, password) or not account.active:
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


def end_access(session: Session, user: User) -> tuple[int, int]:
    """Revoke all of ``user``'s API tokens and end all their sessions: (tokens, sessions) ended."""
    return revoke_tokens(session, user), sessions.end_all(session, user)


def set_password(session: Session, user: User, password: str) -> None:
    """Change ``user``'s password; every session and token issued before stops working at once."""
    user.password_hash = hash_password(password)
    end_access(session, user)


def deactivate(session: Session, user: User) -> tuple[int, int]:
    """Stop ``user`` signing in or using the API; ends their sessions and tokens now."""
    user.active = False
    return end_access(session, user)


def token_hash(secret: str) -> str:
    """What is stored of a token's secret (and what a request's secret is looked up by)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_lifetime() -> timedelta:
    """How long a new API token lives: ``API_TOKEN_DAYS`` of the current app (default 90)."""
    days = current_app.config.get("API_TOKEN_DAYS") if has_app_context() else None
    return timedelta(days=days or INT_DEFAULTS["API_TOKEN_DAYS"])


def create_token(session: Session, user: User) -> str:
    """Issue a new API token for ``user`` and return its secret (shown once, never stored)."""
    return issue_token(session, user)[0]


def issue_token(session: Session, user: User) -> tuple[str, ApiToken]:
    """Like :func:`create_token`, with the token's row (for its expiry)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(user=user, token_hash=token_hash(secret), created_at=now,
                     expires_at=now + token_lifetime())
    session.add(token)
    session.flush()
    return secret, token


_USERS, _TOKENS = User.__table__, ApiToken.__table__
_TOKEN_USER = (select(*_USERS.c, _TOKENS.c.id.label("token_id"), _TOKENS.c.expires_at.label("token_expires_at"),
                      _TOKENS.c.last_used_at.label("token_last_used_at"))
               .select_from(_USERS.join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id))
               .where(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None)))
"""A live token's user with what the check needs of the token (built once: one statement, plain
columns made into the ``User`` by ``backend.loaded``, which costs less than the ORM's loading)."""
_USER_KEYS = tuple(column.key for column in _USERS.c)
"""The ``User`` attribute of each of the statement's first columns, in order."""
_RECORD_USE = (update(_TOKENS).where(_TOKENS.c.id == bindparam("token_id"))
               .values(last_used_at=bindparam("now", type_=_TOKENS.c.last_used_at.type)))


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user owning a live (unrevoked, unexpired) token with this secret, else None.

    Records the use in ``last_used_at`` (in ``session``; the caller commits). One statement: the
    token with its user.
    """
    return token_user(session, secret)[0]


def token_user(session: Session, secret: str) -> tuple[User | None, bool]:
    """:func:`user_for_token`, and whether the use was recorded now (at most once a minute: an
    UPDATE the caller must commit)."""
    if not secret:
        return None, False
    now = utcnow()
    session.flush()  # what the ORM's execution would do first (a revocation not yet flushed counts)
    connection = session.connection()  # Core: the ORM's execution would only pass the statement on
    found = cursor_statements.run(connection, _TOKEN_USER, {"token_hash": token_hash(secret)}).rows
    if not found:
        return None, False
    *columns, token_id, expires_at, last_used_at = found[0]
    user = persistent(session, User, dict(zip(_USER_KEYS, columns)), refresh=False)
    if expires_at <= now or not user.active:
        return None, False
    return user, record_use(connection, token_id, last_used_at, now)


def record_use(connection: Connection, token_id: int, last_used_at: datetime | None, now: datetime) -> bool:
    """Write ``last_used_at`` of the token if the last write is a minute old or more (in the
    connection's transaction: the caller commits); whether it wrote."""
    if last_used_at is not None and now - last_used_at < TOKEN_USE_RECORDED_EVERY:
        return False
    cursor_statements.run(connection, _RECORD_USE, {"token_id": token_id, "now": now})
    return True


def live_token_holder(role: str) -> ScalarSelect[int]:
    """The id of the active ``role`` user whose live (unrevoked, unexpired at ``now``) token's
    hash is ``token_hash`` (both bound parameters), else NULL: the check :func:`token_user` and
    the role check of :func:`require_token` make, as a subquery of a statement that does more
    (claim-next picks the case in the same round trip, ``backend.queues.claim_next_by_token``)."""
    return select(_TOKENS.c.user_id).where(live_token_of(role)).correlate(None).scalar_subquery()


def live_token_of(role: str) -> ColumnElement[bool]:
    """Whether the ``api_tokens`` row is the live (unrevoked, unexpired at ``now``) token whose
    hash is ``token_hash`` (both bound parameters) and the ``users`` row its holder, an active
    ``role`` user: the checks of :func:`token_user` and of :func:`require_token`'s role, for a
    statement joining both tables to what the token guards (:func:`live_token_holder`; the web
    chat's locked conversation, ``bot.webchat``), so that a token refused there reads nothing."""
    _check_roles((role,))
    return and_(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None),
                _TOKENS.c.expires_at > bindparam("now", type_=_TOKENS.c.expires_at.type),
                _USERS.c.id == _TOKENS.c.user_id,
                _USERS.c.active.is_(True), _USERS.c.role == cursor_statements.sql_constant(role))


def revoke_token(session: Session, secret: str) -> bool:
    """Revoke the token with this secret; True if there was an unrevoked one."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret),
                                                  ApiToken.revoked_at.is_(None)))
    if token is None:
        return False
    token.revoked_at = utcnow()
    return True


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke all of ``user``'s live tokens; how many there were."""
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                    ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        token.revoked_at = utcnow()
    return len(tokens)


def has_role(user: User | None, *roles: str) -> bool:
    return user is not None and user.active and user.role in roles


def bearer_secret() -> str | None:
    """The secret of the request's ``Authorization: Bearer`` header, if it has one."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _check_roles(roles: tuple[str, ...]) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")


def _json_error(message: str, status: int) -> Any:
    response = jsonify({"error": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="nrm"'
    return response


def _token_user(roles: tuple[str, ...]) -> tuple[User | None, Any]:
    """(user, None) for a valid bearer token of an allowed role, else (None, error response)."""
    secret = bearer_secret()
    db_session = db.session()
    user, recorded = token_user(db_session, secret) if secret else (None, False)
    if recorded:  # the last use, at most once a minute: kept even if the view commits nothing
        db_session.commit()
    if user is None:
        return None, _json_error("a valid bearer token is required", 401)
    if roles and user.role not in roles:
        return None, _json_error("your role may not use this endpoint", 403)
    return user, None


def require_token(*roles: str) -> Callable[[F], F]:
    """Protect a JSON API view: 401 without a valid bearer token, 403 for a role not in ``roles``.

    The authenticated user is put on ``flask.g.user``. With no roles given, any valid token passes.
    """
    _check_roles(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user, failure = _token_user(roles)
            if user is None:
                return failure
            g.user = user
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


CSRF_HEADERS = ("X-CSRFToken", "X-CSRF-Token")


def require_api_user(*roles: str) -> Callable[[F], F]:
    """Like :func:`require_token`, but a signed-in browser may call the view too.

    A request with an ``Authorization`` header is judged by its bearer token alone (401/403).
    Without one, the Flask-Login session user (``backend.web_auth``) is used: 401 when nobody is
    signed in, 400 unless the request carries the session's CSRF token in ``X-CSRFToken`` (every
    method: the page's script always sends it), 403 for a role not in ``roles``. Views using this
    must be exempt from the app-wide ``CSRFProtect``: this decorator makes the CSRF check itself,
    so that bearer-token clients, which have no session, need no token.
    """
    _check_roles(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if request.headers.get("Authorization"):
                user, failure = _token_user(roles)
                if user is None:
                    return failure
            else:
                from flask_login import current_user
                from flask_wtf.csrf import ValidationError, validate_csrf

                if not current_user or not current_user.is_authenticated:
                    return _json_error("sign in, or send a valid bearer token", 401)
                token = next((request.headers[name] for name in CSRF_HEADERS if request.headers.get(name)), None)
                try:
                    if current_app.config.get("WTF_CSRF_ENABLED", True):
                        validate_csrf(token)
                except ValidationError:
                    return _json_error("a valid X-CSRFToken header is required with a session", 400)
                user = current_user._get_current_object()
                if roles and user.role not in roles:
                    return _json_error("your role may not use this endpoint", 403)
            g.user = user
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator
