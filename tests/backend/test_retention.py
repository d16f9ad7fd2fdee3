"""Retention and erasure: closed cases and DtN reports older than RETENTION_DAYS are deleted by
``nrm jobs run`` and nothing younger or still open; ``nrm erase REF`` removes one case's personal
data and leaves a data-free "erased" event; the audit chain still verifies after both."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from backend import audit, auth, db, retention
from backend.db import utcnow
from backend.models import AuditEvent, Case, CaseNote, Decision, Review
from tests.backend.casework_helpers import add_decision, add_review, make_case, make_user, shared_app
from tests.conftest import fresh_postgres_url

REASONS = "Mr Quellmalz-Farrington's account of forced labour at the car wash"


def _with_history(session, case: Case, decider, reviewer=None) -> Case:
    """Reasons on the rows and a few audit events with detail, as the lifecycle writes them."""
    decision = add_decision(session, case, "rg", "negative", decider, reasons=REASONS)
    if reviewer is not None:
        add_review(session, case, decision, "upheld", reviewer)
    session.add(CaseNote(case_id=case.id, kind="withdrawal", author_id=decider.id, reasons=REASONS))
    audit.record(session, f"user:{decider.id}", "case.decide_rg_negative", case.reference,
                 {"from": "awaiting_rg", "to": "rg_review", "reasons_length": len(REASONS)})
    audit.record(session, f"user:{decider.id}", "case.read", case.reference, {"via": "page"})
    return case


def _rows(session, model: Any, case_id: int) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.case_id == case_id))


def test_retention_deletes_closed_cases_and_dtn_reports_older_than_the_period_and_nothing_younger(
        app: Flask, cli_runner: Any) -> None:
    app.config["RETENTION_DAYS"] = 365
    now = utcnow()
    old, young = now - timedelta(days=366), now - timedelta(days=364)
    with app.app_context(), db.get_db(app).transaction() as session:
        decider, reviewer = make_user(session, "caseworker"), make_user(session, "panel")
        cases = {
            "old_upheld": _with_history(session, make_case(session, "rg_negative", status_changed_at=old,
                                                           submitted_at=old), decider, reviewer),
            "old_positive": make_case(session, "cg_positive", status_changed_at=old, submitted_at=old),
            "old_withdrawn": make_case(session, "withdrawn", status_changed_at=old, submitted_at=old),
            "old_dtn": make_case(session, "dtn_recorded", route="dtn", submitted_at=old),
            "young_upheld": _with_history(session, make_case(session, "rg_negative", status_changed_at=young,
                                                             submitted_at=old), decider, reviewer),
            "young_dtn": make_case(session, "dtn_recorded", route="dtn", submitted_at=young),
            "old_but_open": make_case(session, "awaiting_rg", submitted_at=old),
            "old_in_review": make_case(session, "rg_review", status_changed_at=old, submitted_at=old),
            "old_suspended": make_case(session, "suspended", status_changed_at=old, submitted_at=old,
                                       suspended_from="awaiting_rg"),
        }
        ids = {name: (case.id, case.reference) for name, case in cases.items()}

    result = cli_runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "cases past retention deleted: 4" in result.output

    deleted = {"old_upheld", "old_positive", "old_withdrawn", "old_dtn"}
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        remaining = set(session.scalars(select(Case.reference)))
        assert {ids[name][1] for name in deleted}.isdisjoint(remaining)
        assert {ids[name][1] for name in set(ids) - deleted} <= remaining
        upheld_id, upheld_ref = ids["old_upheld"]
        assert [_rows(session, model, upheld_id) for model in (Decision, Review, CaseNote)] == [0, 0, 0]
        assert _rows(session, Decision, ids["young_upheld"][0]) == 1
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_reference == upheld_ref)
                                      .order_by(AuditEvent.id)))
        assert [e.action for e in events] == ["case.decide_rg_negative", "case.read", audit.RETENTION_DELETED]
        assert all(e.detail == {} and e.redacted_at is not None for e in events[:-1])
        assert events[-1].actor == "system" and events[-1].detail == {"redacted_events": 2}
        assert audit.verify(session) == []  # the chain verifies after the retention deletion

    again = cli_runner.invoke(args=["jobs", "run"])
    assert "cases past retention deleted: 0" in again.output


def test_erase_removes_payload_and_reasons_leaves_an_erased_event_and_the_case_is_unreadable(
        app: Flask, cli_runner: Any) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        decider = make_user(session, "caseworker")
        case = _with_history(session, make_case(session, "rg_review"), decider)
        case_id, reference = case.id, case.reference
        token = auth.create_token(session, decider)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/cases/{reference}", headers=headers).status_code == 200

    refused = cli_runner.invoke(args=["erase", reference], input="n\n")
    assert refused.exit_code != 0
    result = cli_runner.invoke(args=["erase", reference.lower(), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"erased case {reference}" in result.output

    assert client.get(f"/api/v1/cases/{reference}", headers=headers).status_code == 404
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        assert session.get(Case, case_id) is None
        assert [_rows(session, model, case_id) for model in (Decision, Review, CaseNote)] == [0, 0, 0]
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_reference == reference)
                                      .order_by(AuditEvent.id)))
        erased = events[-1]
        assert erased.action == "case.erased" and erased.actor.startswith("cli") and erased.at is not None
        assert all(e.detail == {} and e.redacted_at is not None for e in events[:-1])
        stored = json.dumps([[e.actor, e.action, e.detail] for e in events])
        for personal in ("Quellmalz", "Zbigniew", "1990-02-03", "car wash"):
            assert personal not in stored
        assert audit.verify(session) == []  # the chain verifies after the erasure

    missing = cli_runner.invoke(args=["erase", reference, "--yes"])
    assert missing.exit_code == 1 and f"no case {reference}" in missing.output


@pytest.mark.postgres
def test_retention_and_erase_keep_the_chain_verifiable_on_postgres(tmp_path: Path) -> None:
    with fresh_postgres_url() as url, shared_app(tmp_path, DATABASE_URL=url) as app:
        old = utcnow() - timedelta(days=400)
        with app.app_context(), db.get_db(app).transaction() as session:
            decider = make_user(session, "caseworker")
            expired = _with_history(session, make_case(session, "cg_positive", status_changed_at=old), decider)
            erased = _with_history(session, make_case(session, "rg_review"), decider)
            references = expired.reference, erased.reference
        with app.app_context(), db.get_db(app).transaction() as session:
            assert retention.apply_retention(session, 365) == [references[0]]
            assert retention.erase(session, references[1], "cli:ops") == 2
        with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
            assert session.scalar(select(func.count()).select_from(Case)) == 0
            assert session.scalar(select(func.count()).where(AuditEvent.redacted_at.is_not(None))) == 4
            assert audit.verify(session) == []
