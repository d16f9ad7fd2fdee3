"""Audit events for access, not change: who read which case or queue, who signed in (or failed
to), who administered what. Appended to the same keyed chains as the case lifecycle
(``backend.audit``: a case read on its case's chain, the others on their actor's).

Who, what and when only, never the data: ids (``user:7``, ``responder:3``), case references,
roles, counts. An email typed at a failed sign-in is kept only as a keyed pseudonym
(:func:`backend.audit.pseudonym`), so repeated attempts on one address can be linked without the
trail revealing it. Each helper works in the caller's transaction and commits nothing.
"""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy.orm import Session

from backend import audit
from backend.auth import normalise_email
from backend.models import AuditEvent, User

ANONYMOUS = "anonymous"
CASE_READ = "case.read"


def user_actor(user: User) -> str:
    return f"user:{user.id}"


def cli_actor() -> str:
    """Who ran an ``nrm`` command: the operating-system account on the server (``cli:deploy``)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"


def case_read(session: Session, user: User, reference: str, via: str) -> AuditEvent:
    """``user`` was shown case ``reference`` (``via``: ``page`` or ``api``)."""
    return audit.record(session, user_actor(user), CASE_READ, reference, {"via": via, "role": user.role})


def queue_read(session: Session, user: User, queue: str, count: int, via: str) -> AuditEvent:
    """``user`` was shown a list of ``count`` cases (the decision or review queue)."""
    return audit.record(session, user_actor(user), "queue.read", None,
                        {"queue": queue, "count": count, "via": via, "role": user.role})


def sign_in(session: Session, email: str, user: User | None, account: User | None) -> AuditEvent:
    """A sign-in: ``user`` when it succeeded, None when it failed (wrong email or password, a
    locked or deactivated account); the failed one names the account (``account``: the one the
    email names, if any, as already read by ``auth.account_for``) only by id, or the email by
    pseudonym."""
    if user is not None:
        return audit.record(session, user_actor(user), "user.signed_in", None, {"via": "web"})
    detail: dict[str, Any] = {"via": "web"}
    if account is not None:
        detail["account"] = f"user:{account.id}"
    else:
        detail["email_pseudonym"] = audit.pseudonym(session, normalise_email(email))
    return audit.record(session, ANONYMOUS, "user.sign_in_failed", None, detail)


def administration(session: Session, action: str, *, actor: str | None = None, **detail: Any) -> AuditEvent:
    """An administrative change (``user.added``, ``token.issued``, ``responder.removed``,
    ``keys.rotated``, ...) made with the ``nrm`` command, or by ``actor`` (``user:7``) in the admin
    pages: ids and roles only, never emails or numbers."""
    return audit.record(session, actor or cli_actor(), action, None, detail)
