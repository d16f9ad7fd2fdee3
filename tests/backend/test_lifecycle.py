"""The case lifecycle chart: every state x event (allowed ones move, refused ones change nothing),
every guard of every transition, whole journeys through intake, audit and the diagram file."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from backend import audit, db, lifecycle
from backend.calendar import uk_date
from backend.db import utcnow
from backend.intake import submit
from backend.lifecycle import (ClaimConflict, NotPermitted, ReasonsRequired, Refused, CaseLifecycle)
from backend.models import CASE_STATUSES, AuditEvent, Case, Decision
from backend.queues import claim, expire_claims
from tests.backend.casework_helpers import (ORG, OTHER_ORG, PANEL_ORG, add_decision, add_review, case_in,
                                            give_claim, make_case, make_user, shared_app, snapshot)

ROOT = Path(__file__).resolve().parents[2]
STATES = lifecycle.states()
EVENTS = lifecycle.events()
ALLOWED = {(t.source, t.event): t for t in lifecycle.transitions()
           if not any(g.startswith("was_") for g in t.guards) or "was_awaiting_rg" in t.guards}
"""(state, event) -> the transition taken with the test set-up (a suspended case was awaiting RG)."""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One migrated database for the module, with the people every test needs."""
    with shared_app(tmp_path_factory.mktemp("lifecycle")) as app:
        with app.app_context():
            session = db.get_db(app).new_session()
            people = {
                "caseworker": make_user(session, "caseworker"),
                "decider": make_user(session, "caseworker"),
                "panel": make_user(session, "panel", PANEL_ORG),
                "reviewer": make_user(session, "panel", PANEL_ORG),
                "panel_same_org": make_user(session, "panel", ORG),
                "responder": make_user(session, "responder", ORG),
                "responder_other": make_user(session, "responder", OTHER_ORG),
                "analyst": make_user(session, "analyst"),
            }
            session.commit()
            yield app, session, people
            session.close()


def _actor(event: str, people):
    if event.startswith("decide_") or event in ("suspend", "resume"):
        return people["caseworker"]
    if event in ("uphold", "return_for_reconsideration"):
        return people["panel"]
    if event in ("reconsider", "withdraw"):
        return people["responder"]
    return None  # end_recovery: the scheduled job


def _prepared(session, people, state: str, event: str) -> Case:
    case = case_in(session, state, people["decider"], people["reviewer"])
    if event.startswith("decide_"):
        give_claim(case, people["caseworker"])
    session.commit()
    return case


def test_chart_shape():
    assert len(STATES) == 10 and len(EVENTS) == 11 and len(lifecycle.transitions()) == 23
    assert set(STATES) | {"dtn_recorded"} == set(CASE_STATUSES)
    assert {s.id for s in CaseLifecycle.final_states} == {"cg_positive", "withdrawn"}
    assert CaseLifecycle.initial_state.id == "awaiting_rg"
    for info in lifecycle.transitions():
        assert info.guards, f"{info} is unguarded"
        assert set(info.guards) <= set(lifecycle.GUARD_ERRORS)
    # every event that is a person's decision needs reasons
    assert all("has_reasons" in t.guards for t in lifecycle.transitions() if t.event != "end_recovery")


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("state", STATES)
def test_state_event(world, state, event):
    """Allowed: the case moves to the chart's target and one audit event is written.
    Refused: a 409-type error, and neither the case, its rows nor the audit trail change."""
    app, session, people = world
    case = _prepared(session, people, state, event)
    before = snapshot(session, case)
    if (state, event) in ALLOWED:
        lifecycle.fire(session, case.reference, event, _actor(event, people), "Reasons given in full.",
                       requested_by="support_provider" if event == "reconsider" else None)
        session.commit()
        after = snapshot(session, case)
        assert after["status"] == ALLOWED[(state, event)].target
        assert after["audit"] == before["audit"] + 1
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert last.action == f"case.{event}" and last.case_reference == case.reference
        assert last.detail["from"] == state and last.detail["to"] == after["status"]
        assert last.actor == ("system" if event == "end_recovery" else f"user:{_actor(event, people).id}")
    else:
        with pytest.raises(Refused) as refused:
            lifecycle.fire(session, case.reference, event, _actor(event, people), "Reasons given in full.")
        assert case.reference in refused.value.message and refused.value.status == 409
        assert snapshot(session, case) == before  # nothing changed, even before the rollback
        session.rollback()
        assert snapshot(session, case) == before


def _break(session, people, case: Case, guard: str, event: str):
    """Make exactly ``guard`` fail; returns (actor, reasons, expected error)."""
    actor, reasons = _actor(event, people), "Reasons."
    if guard in ("by_caseworker", "by_system"):
        return people["analyst"] if guard == "by_caseworker" else people["caseworker"], reasons, NotPermitted
    if guard == "by_panel":
        return people["caseworker"], reasons, NotPermitted
    if guard == "by_referring_organisation":
        return people["responder_other"], reasons, NotPermitted
    if guard == "holds_claim":
        give_claim(case, people["decider"])  # someone else holds it
        return actor, reasons, ClaimConflict
    if guard == "did_not_review":
        decision = add_decision(session, case, "rg", "negative", people["decider"])
        add_review(session, case, decision, "returned", actor)  # the actor once reviewed this case
        return actor, reasons, NotPermitted
    if guard == "not_returned_to_decider":
        case.returned_at, case.returned_decider_id = utcnow(), actor.id  # the panel returned the actor's decision
        return actor, reasons, NotPermitted
    if guard == "did_not_decide":
        add_decision(session, case, "rg", "negative", actor)  # the actor once decided this case
        return actor, reasons, NotPermitted
    if guard == "independent_of_referrer":
        return people["panel_same_org"], reasons, NotPermitted
    if guard == "recovery_over":
        case.cg_not_before = uk_date(utcnow()) + timedelta(days=1)
        return actor, reasons, Refused
    if guard == "has_reasons":
        return actor, "   ", ReasonsRequired
    raise AssertionError(guard)


GUARDED = [(t.event, t.source, t.target, guard) for t in lifecycle.transitions() for guard in t.guards
           if not guard.startswith("was_")]


@pytest.mark.parametrize("event, state, target, guard", GUARDED,
                         ids=[f"{e}-{s}-{t}-{g}" for e, s, t, g in GUARDED])
def test_guard_refuses(world, event, state, target, guard):
    """Each guard of each transition, failing alone, refuses with its own error and changes nothing."""
    app, session, people = world
    extra = {"suspended_from": target} if state == "suspended" and event == "resume" else {}
    case = case_in(session, state, people["decider"], people["reviewer"], **extra)
    if event.startswith("decide_"):
        give_claim(case, people["caseworker"])
    actor, reasons, error = _break(session, people, case, guard, event)
    session.commit()
    before = snapshot(session, case)
    with pytest.raises(error):
        lifecycle.fire(session, case.reference, event, actor, reasons)
    session.rollback()
    assert snapshot(session, case) == before


def test_guards_cover_every_transition():
    assert len(GUARDED) == 68


def test_dtn_reports_and_unknown_cases_are_refused(world):
    app, session, people = world
    dtn = make_case(session, "dtn_recorded", route="dtn")
    session.commit()
    with pytest.raises(Refused):
        lifecycle.withdraw(session, dtn.reference, people["responder"], "no")
    with pytest.raises(lifecycle.CaseNotFound):
        lifecycle.withdraw(session, "NRM-1999-000001", people["responder"], "no")
    with pytest.raises(lifecycle.InvalidRequest):
        lifecycle.fire(session, dtn.reference, "teleport", people["caseworker"], "x")
    with pytest.raises(lifecycle.InvalidRequest):
        lifecycle.decide(session, dtn.reference, people["caseworker"], "xg", "positive", "x")
    session.rollback()


def test_journey_through_intake_to_cg_positive(app, db_session, referral_payload):
    payload, schema = referral_payload("nrm")
    case = submit(db_session, payload, None, "user:0", schema=schema)
    worker = make_user(db_session, "caseworker")
    db_session.commit()
    start = utcnow()

    claim(db_session, case.reference, worker, now=start)
    lifecycle.decide(db_session, case.reference, worker, "rg", "positive", "Indicators present.", now=start)
    db_session.commit()
    assert case.status == "recovery" and case.claimed_by_id is None
    assert case.cg_not_before == uk_date(start) + timedelta(days=30)

    with pytest.raises(Refused, match="recovery period runs until"):
        lifecycle.end_recovery(db_session, case.reference, now=start + timedelta(days=29))
    db_session.rollback()
    later = start + timedelta(days=31)
    assert lifecycle.end_recoveries(db_session, now=start + timedelta(days=1)) == []
    assert lifecycle.end_recoveries(db_session, now=later) == [case.reference]
    db_session.commit()
    assert case.status == "awaiting_cg"

    claim(db_session, case.reference, worker, now=later)
    lifecycle.decide(db_session, case.reference, worker, "cg", "positive", "Balance of probabilities met.",
                     now=later)
    db_session.commit()
    assert case.status == "cg_positive"
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.case_reference == case.reference)
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["referral.submitted", "case.claimed", "case.decide_rg_positive", "case.end_recovery",
                       "case.claimed", "case.decide_cg_positive"]
    assert audit.verify(db_session) == []
    with pytest.raises(Refused):  # final
        lifecycle.withdraw(db_session, case.reference, make_user(db_session, "responder", ORG), "late")


def test_recovery_period_is_configurable(tmp_path):
    with shared_app(tmp_path, RECOVERY_PERIOD_DAYS=lifecycle.RECOVERY_PERIOD_DAYS_2019) as app:
        with app.app_context(), db.get_db(app).transaction() as session:
            worker = make_user(session, "caseworker")
            case = make_case(session)
            give_claim(case, worker)
            lifecycle.decide(session, case.reference, worker, "rg", "positive", "ok")
            assert case.cg_not_before == uk_date(utcnow()) + timedelta(days=45)


def test_negative_review_return_uphold_and_reconsideration(world):
    app, session, people = world
    worker, panel, responder = make_user(session, "caseworker"), people["panel"], people["responder"]
    case = make_case(session)
    give_claim(case, worker)
    session.commit()

    lifecycle.decide(session, case.reference, worker, "rg", "negative", "No indicators found.")
    assert case.status == "rg_review"  # in the review queue in the same transaction as the decision
    session.commit()

    lifecycle.review(session, case.reference, panel, "returned", "The account of force was not weighed.")
    session.commit()
    assert case.status == "awaiting_rg"
    assert case.reviews[-1].reasons == "The account of force was not weighed."  # panel's reasons on the case
    assert case.reviews[-1].decision_id == case.decisions[-1].id

    with pytest.raises(NotPermitted):  # the reviewer can never decide this case...
        lifecycle.decide(session, case.reference, panel, "rg", "negative", "x")
    session.rollback()

    second = make_user(session, "caseworker")  # a returned case goes to another caseworker
    give_claim(case, second)
    lifecycle.decide(session, case.reference, second, "rg", "negative", "Still no indicators.")
    session.commit()
    for decider in (worker, second):
        decider.role = "panel"  # the same person later moved to the panel (people change jobs)
        session.flush()
        with pytest.raises(NotPermitted, match="made a decision"):  # ...nor can a decider review it
            lifecycle.review(session, case.reference, decider, "upheld", "x")
    session.rollback()

    lifecycle.review(session, case.reference, panel, "upheld", "Decision sound.")
    session.commit()
    assert case.status == "rg_negative"

    with pytest.raises(NotPermitted):
        lifecycle.request_reconsideration(session, case.reference, people["responder_other"], "please")
    session.rollback()
    lifecycle.request_reconsideration(session, case.reference, responder, "New evidence from the support provider.",
                                      "support_provider")
    session.commit()
    assert case.status == "awaiting_rg"
    note = case.notes[-1]
    assert (note.kind, note.requested_by, note.author_id) == ("reconsideration", "support_provider", responder.id)


def test_role_change_cannot_break_independence(world):
    """A panel member who reviewed a case and later becomes a caseworker cannot claim or decide it."""
    app, session, people = world
    person = make_user(session, "panel", PANEL_ORG)
    case = case_in(session, "rg_review", people["decider"], people["reviewer"])
    session.commit()
    lifecycle.review(session, case.reference, person, "returned", "Reconsider.")
    person.role = "caseworker"
    session.commit()
    with pytest.raises(NotPermitted):
        claim(session, case.reference, person)
    session.rollback()
    give_claim(case, person)
    session.commit()
    with pytest.raises(NotPermitted):
        lifecycle.decide(session, case.reference, person, "rg", "positive", "x")
    session.rollback()


def test_suspend_and_resume_return_to_the_same_state(world):
    app, session, people = world
    worker = people["caseworker"]
    case = case_in(session, "recovery", people["decider"], people["reviewer"])
    give_claim(case, worker)
    session.commit()
    lifecycle.suspend(session, case.reference, worker, "Person missing.")
    assert (case.status, case.suspended_from, case.claimed_by_id) == ("suspended", "recovery", None)
    lifecycle.resume(session, case.reference, worker, "Person found.")
    session.commit()
    assert (case.status, case.suspended_from) == ("recovery", None)
    assert [n.kind for n in case.notes] == ["suspension", "resumption"]


def test_reasons_are_encrypted_and_only_digested_in_the_audit_trail(world):
    app, session, people = world
    worker = people["caseworker"]
    case = make_case(session)
    give_claim(case, worker)
    session.commit()
    reasons = "Credible account of forced labour at the car wash."
    lifecycle.decide(session, case.reference, worker, "rg", "positive", reasons)
    session.commit()
    raw = session.execute(text("SELECT reasons FROM decisions WHERE case_id = :id"), {"id": case.id}).scalar()
    assert "car wash" not in raw
    assert session.scalars(select(Decision.reasons).where(Decision.case_id == case.id)).one() == reasons
    event = session.scalars(select(AuditEvent).where(AuditEvent.case_reference == case.reference,
                                                     AuditEvent.action == "case.decide_rg_positive")).one()
    assert event.detail["reasons_length"] == len(reasons)
    assert event.detail["reasons_sha256"] == hashlib.sha256(reasons.encode()).hexdigest()
    assert "car wash" not in str(event.detail)


def test_tampered_audit_row_after_lifecycle_actions_is_caught(app, db_session, cli_runner):
    worker = make_user(db_session, "caseworker")
    panel = make_user(db_session, "panel", PANEL_ORG)
    case = make_case(db_session)
    db_session.commit()
    claim(db_session, case.reference, worker)
    lifecycle.decide(db_session, case.reference, worker, "rg", "negative", "No indicators.")
    lifecycle.review(db_session, case.reference, panel, "upheld", "Sound.")
    db_session.commit()
    assert audit.verify(db_session) == []
    ok = cli_runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output

    target = db_session.scalars(select(AuditEvent.id).where(AuditEvent.action == "case.decide_rg_negative")).one()
    db_session.execute(text("""UPDATE audit_events SET detail = '{"from": "awaiting_rg", "to": "recovery"}'
                               WHERE id = :id"""), {"id": target})
    db_session.commit()
    db_session.expire_all()
    problems = audit.verify(db_session)
    assert problems and problems[0].startswith(f"event {target}:")
    bad = cli_runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1 and f"event {target}:" in bad.output


def test_jobs_run_expires_claims_and_ends_recoveries(app, db_session, cli_runner):
    worker = make_user(db_session, "caseworker")
    stale = make_case(db_session)
    give_claim(stale, worker, now=utcnow() - timedelta(hours=2))
    fresh = make_case(db_session)
    give_claim(fresh, worker)
    over = make_case(db_session, "recovery", cg_not_before=uk_date(utcnow()))
    running = make_case(db_session, "recovery", cg_not_before=uk_date(utcnow()) + timedelta(days=3))
    db_session.commit()
    result = cli_runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "claims expired: 1" in result.output and "recovery periods ended: 1" in result.output
    db_session.expire_all()
    assert db_session.get(Case, stale.id).claimed_by_id is None
    assert db_session.get(Case, fresh.id).claimed_by_id == worker.id
    assert db_session.get(Case, over.id).status == "awaiting_cg"
    assert db_session.get(Case, running.id).status == "recovery"
    assert expire_claims(db_session) == []
    db_session.rollback()  # release SQLite's write lock before the command runs
    again = cli_runner.invoke(args=["jobs", "run"])
    assert "claims expired: 0" in again.output and "recovery periods ended: 0" in again.output


def test_diagram_file_is_up_to_date(cli_runner):
    committed = (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    assert committed == lifecycle.diagram_markdown(), "run: nrm lifecycle diagram docs/lifecycle.md"
    printed = cli_runner.invoke(args=["lifecycle", "diagram", "-"])
    assert printed.exit_code == 0 and printed.output == committed
    for info in lifecycle.transitions():
        assert f"{info.source} --> {info.target} : {info.event}" in committed


def test_migration_0003_matches_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from backend.db import Base

    with db.get_db(app).engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert int(context.get_current_revision().split("_", 1)[0]) >= 3
