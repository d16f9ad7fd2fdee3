"""``GET /healthz`` and ``GET /readyz``: what a load balancer or orchestrator asks each machine.

- ``/healthz`` (liveness): the process answers. It touches nothing else, so a database outage
  never gets healthy processes restarted.
- ``/readyz`` (readiness): this machine can serve requests now: the keys are configured, the
  database answers a cheap query, and its schema is at the migrations' head (a machine started
  with newer code than the database, or the other way round, is taken out of rotation until
  ``nrm db upgrade`` has run). Not ready is 503 ``{"status": "unavailable", "reason": CODE}`` with
  one of :data:`REASONS`; never the exception, the URL or anything else of the database.

Both are public (no sign-in, no CSRF token: GET only), never rate-limited, and logged only when
they fail (``backend.request_log``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify

from backend import db

bp = Blueprint("health", __name__)

REQUIRED_KEYS = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "AUDIT_KEY")
REASONS = ("keys_missing", "database_unreachable", "migrations_pending")


@bp.get("/healthz")
def healthz() -> Any:
    """Liveness: the process is up (no database, no other dependency)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Any:
    """Readiness: keys, database and schema (see the module docs)."""
    reason = not_ready_reason(current_app)
    if reason is not None:
        return jsonify({"status": "unavailable", "reason": reason}), 503
    return jsonify({"status": "ready"})


def not_ready_reason(app: Flask) -> str | None:
    """The first of :data:`REASONS` that applies, or None when the app is ready."""
    required = REQUIRED_KEYS + (("TWILIO_AUTH_TOKEN",) if app.config.get("NRM_ENV") == "production" else ())
    if not all(app.config.get(key) for key in required):
        return "keys_missing"
    from alembic.runtime.migration import MigrationContext  # on the first probe, not at start-up

    try:
        with db.get_db(app).transaction(readonly=True) as session:
            # Alembic reads the version table (and answers "none" when it does not exist yet).
            current = set(MigrationContext.configure(session.connection()).get_current_heads())
    except Exception:  # noqa: BLE001 - unreachable, refused, timed out: all mean "not ready"
        app.logger.warning("readiness: the database did not answer")
        return "database_unreachable"
    return None if current == migration_heads() else "migrations_pending"


@cache
def migration_heads() -> set[str]:
    """The head revision(s) of the migrations shipped with this code (read once a process)."""
    from alembic.script import ScriptDirectory

    from backend.cli import alembic_config

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())
