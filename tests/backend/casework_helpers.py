"""Small factories for the casework tests: users, tokens and cases in any lifecycle state.

Cases are inserted directly (the intake is tested elsewhere and used where it matters); users get
a dummy password hash (argon2 is slow and no test here logs in with a password).
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask

from backend.priority import is_priority
from backend import auth, db
from backend.app import create_app
from backend.calendar import uk_date
from backend.db import utcnow
from backend.models import Case, Decision, Review, User
from backend.statistics.derived import columns as statistics_columns
from tests.conftest import backend_test_config, migrate, tiny_payload

ORG = "The Salvation Army"
OTHER_ORG = "Barnardo's"
PANEL_ORG = "Independent Review Panel"
ENV_KEYS = ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "AUDIT_KEY", "NRM_ENV", "TWILIO_AUTH_TOKEN",
            "PUBLIC_BASE_URL", "NRM_INSTANCE_PATH", "RECOVERY_PERIOD_DAYS", "CLAIM_MINUTES")

_numbers = itertools.count(1)


@contextmanager
def shared_app(tmp_path: Path, **extra: Any) -> Iterator[Flask]:
    """A migrated app for a whole test module (the per-test ``app`` fixture is too slow for
    hundreds of parametrised cases; each case makes its own rows)."""
    with pytest.MonkeyPatch.context() as patch:
        for key in ENV_KEYS:
            patch.delenv(key, raising=False)
        application = create_app(backend_test_config(tmp_path, **extra))
        migrate(application)
        try:
            yield application
        finally:
            db.get_db(application).engine.dispose()


def make_user(session, role: str, organisation: str | None = None, email: str | None = None) -> User:
    user = User(email=email or f"{role}-{next(_numbers)}@example.org", role=role, password_hash="x",
                organisation=organisation, active=True)
    session.add(user)
    session.flush()
    return user


def token_for(session, user: User) -> str:
    return auth.create_token(session, user)


def make_case(session, status: str = "awaiting_rg", *, route: str = "nrm", age_route: str = "adult",
              organisation: str = ORG, fr_location: str = "england", submitted_at: datetime | None = None,
              rg_due_offset_days: int = 7, priority: bool | None = None, answers: dict[str, Any] | None = None,
              **columns: Any) -> Case:
    """A case row in ``status`` (no history: see :func:`case_in` for realistic history)."""
    number = next(_numbers)
    submitted_at = submitted_at or utcnow() - timedelta(minutes=number)
    payload = tiny_payload(route, age_route, fr_location, **(answers or {}))
    payload["answers"]["user-organisation"] = organisation
    case = Case(reference=f"{'NRM' if route == 'nrm' else 'DTN'}-2026-{number:06d}",
                series="NRM" if route == "nrm" else "DTN", payload=payload, schema_version="test-1",
                route=route, age_route=age_route, fr_location=fr_location, organisation=organisation,
                status=status,
                priority=bool(priority) if priority is not None else is_priority(route, age_route, payload),
                submitted_at=submitted_at,
                rg_due_date=uk_date(utcnow()) + timedelta(days=rg_due_offset_days) if route == "nrm" else None,
                **{**statistics_columns(payload, organisation), **columns})
    session.add(case)
    session.flush()
    return case


def add_decision(session, case: Case, stage: str, outcome: str, by: User, reasons: str = "because") -> Decision:
    decision = Decision(case_id=case.id, stage=stage, outcome=outcome, decided_by_id=by.id, reasons=reasons)
    session.add(decision)
    session.flush()
    return decision


def add_review(session, case: Case, decision: Decision, outcome: str, by: User) -> Review:
    row = Review(case_id=case.id, decision_id=decision.id, outcome=outcome, reviewer_id=by.id, reasons="r")
    session.add(row)
    session.flush()
    return row


def case_in(session, status: str, decider: User, reviewer: User, **kwargs: Any) -> Case:
    """A case in ``status`` with the history that state implies (decisions, reviews, dates)."""
    today = uk_date(utcnow())
    extra: dict[str, Any] = {}
    if status == "recovery":
        extra["cg_not_before"] = today  # over today, so the job may end it
    if status in ("awaiting_cg", "cg_positive", "cg_review", "cg_negative"):
        extra["cg_not_before"] = today - timedelta(days=1)
    if status == "suspended":
        extra["suspended_from"] = "awaiting_rg"
    extra.update(kwargs)
    case = make_case(session, status, **extra)
    if status in ("recovery", "awaiting_cg", "cg_positive", "cg_review", "cg_negative"):
        add_decision(session, case, "rg", "positive", decider)
    if status == "cg_positive":
        add_decision(session, case, "cg", "positive", decider)
    if status in ("rg_review", "rg_negative"):
        decision = add_decision(session, case, "rg", "negative", decider)
        if status == "rg_negative":
            add_review(session, case, decision, "upheld", reviewer)
    if status in ("cg_review", "cg_negative"):
        decision = add_decision(session, case, "cg", "negative", decider)
        if status == "cg_negative":
            add_review(session, case, decision, "upheld", reviewer)
    return case


def give_claim(case: Case, user: User, minutes: int = 60, now: datetime | None = None) -> None:
    now = now or utcnow()
    case.claimed_by_id = user.id
    case.claimed_at = now
    case.claim_expires_at = now + timedelta(minutes=minutes)


def snapshot(session, case: Case) -> dict[str, Any]:
    """Everything an action could change about a case, read fresh from the database."""
    from sqlalchemy import func, select

    from backend.models import AuditEvent, CaseNote

    session.expire_all()
    row = session.get(Case, case.id)
    counts = {model.__name__: session.scalar(select(func.count()).select_from(model).where(model.case_id == case.id))
              for model in (Decision, Review, CaseNote)}
    return {
        "status": row.status, "claimed_by_id": row.claimed_by_id, "claim_expires_at": row.claim_expires_at,
        "cg_not_before": row.cg_not_before, "suspended_from": row.suspended_from,
        "status_changed_at": row.status_changed_at, **counts,
        "audit": session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.case_reference == case.reference)),
    }
