"""The case clocks and the panel's returns (issue 8): a case that re-enters a decision queue gets
the full time again, a suspension pauses every clock and resuming continues it, CG decisions and
panel reviews have their own target dates and overdue marking, and a returned case goes to another
caseworker than the one whose decision the panel returned (unless configured otherwise).

Dates are fixed (March 2026, England, no bank holiday between 2 and 27 March) and passed as
``now``, so every expected date can be counted on a calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from backend import db, lifecycle, queues
from backend.calendar import add_working_days
from backend.lifecycle import NotPermitted, Refused
from backend.models import Case
from tests.backend.casework_helpers import (ORG, PANEL_ORG, add_decision, give_claim, make_case, make_user,
                                            shared_app)


def at(day: date) -> datetime:
    """10:00 UTC on ``day`` (GMT in March: the same UK date)."""
    return datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc)


MON_2_MAR, FRI_6_MAR, MON_9_MAR = date(2026, 3, 2), date(2026, 3, 6), date(2026, 3, 9)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with shared_app(tmp_path_factory.mktemp("clocks")) as app:
        with app.app_context():
            session = db.get_db(app).new_session()
            people = {"decider": make_user(session, "caseworker"), "other": make_user(session, "caseworker"),
                      "panel": make_user(session, "panel", PANEL_ORG), "responder": make_user(session, "responder", ORG)}
            session.commit()
            yield app, session, people
            session.close()


def _decide(session, case: Case, worker, stage: str, outcome: str, day: date) -> None:
    give_claim(case, worker, now=at(day))
    lifecycle.decide(session, case.reference, worker, stage, outcome, "Reasons.", now=at(day))


def _entry(entries: list[queues.QueueEntry], case: Case) -> queues.QueueEntry:
    return next(entry for entry in entries if entry.reference == case.reference)


def test_a_returned_case_gets_a_fresh_rg_due_date_and_is_not_overdue_at_once(world):
    app, session, people = world
    case = make_case(session, submitted_at=at(date(2026, 2, 2)))
    case.rg_due_date = date(2026, 2, 9)  # 5 working days after submission, long past
    _decide(session, case, people["decider"], "rg", "negative", date(2026, 2, 20))
    lifecycle.review(session, case.reference, people["panel"], "returned", "Weigh the account.", now=at(MON_2_MAR))
    session.commit()

    assert case.status == "awaiting_rg" and case.rg_due_date == MON_9_MAR  # 5 working days from the return
    assert not queues.is_overdue(case, at(MON_2_MAR))
    entry = _entry(queues.decision_queue(session, at(MON_2_MAR)), case)
    assert (entry.due_date, entry.overdue) == (MON_9_MAR, False)
    assert case.reference not in [e.reference for e in queues.decision_queue(session, at(MON_9_MAR), overdue_only=True)]
    assert queues.is_overdue(case, at(date(2026, 3, 10)))  # overdue only once the new target has passed


def test_a_reconsidered_case_gets_a_fresh_rg_due_date(world):
    app, session, people = world
    case = make_case(session, submitted_at=at(date(2026, 2, 2)))
    case.rg_due_date = date(2026, 2, 9)
    _decide(session, case, people["decider"], "rg", "negative", date(2026, 2, 6))
    lifecycle.review(session, case.reference, people["panel"], "upheld", "Sound.", now=at(date(2026, 2, 10)))
    lifecycle.request_reconsideration(session, case.reference, people["responder"], "New evidence.",
                                      now=at(date(2026, 3, 16)))
    session.commit()
    assert case.status == "awaiting_rg" and case.rg_due_date == date(2026, 3, 23)
    assert not queues.is_overdue(case, at(date(2026, 3, 16)))


def test_a_case_returned_at_cg_gets_a_fresh_cg_due_date(world):
    app, session, people = world
    case = make_case(session, "awaiting_cg", cg_not_before=date(2026, 1, 5))
    case.cg_due_date = date(2026, 2, 2)
    add_decision(session, case, "rg", "positive", people["decider"])
    _decide(session, case, people["decider"], "cg", "negative", date(2026, 2, 2))
    lifecycle.review(session, case.reference, people["panel"], "returned", "Reconsider.", now=at(MON_2_MAR))
    session.commit()
    assert case.status == "awaiting_cg"
    assert case.cg_due_date == add_working_days(MON_2_MAR, 20, "england") == date(2026, 3, 30)
    assert not queues.is_overdue(case, at(MON_2_MAR))


def test_suspension_pauses_the_rg_clock_and_resumption_continues_it(world):
    app, session, people = world
    case = make_case(session)
    case.rg_due_date = FRI_6_MAR  # 4 working days left on Monday 2 March
    session.commit()
    lifecycle.suspend(session, case.reference, people["other"], "Person missing.", now=at(MON_2_MAR))
    assert (case.status, case.suspended_on) == ("suspended", MON_2_MAR)
    assert not queues.is_overdue(case, at(date(2026, 3, 13)))  # a suspended case is never overdue
    lifecycle.resume(session, case.reference, people["other"], "Person found.", now=at(date(2026, 3, 16)))
    session.commit()
    # the 4 working days left run from the resumption: Tue 17 .. Fri 20 March
    assert (case.status, case.rg_due_date, case.suspended_on) == ("awaiting_rg", date(2026, 3, 20), None)
    assert not queues.is_overdue(case, at(date(2026, 3, 16)))
    assert _entry(queues.decision_queue(session, at(date(2026, 3, 16))), case).due_date == date(2026, 3, 20)


def test_suspension_pauses_the_recovery_period_and_the_cg_target(world):
    app, session, people = world
    case = make_case(session, "recovery", cg_not_before=date(2026, 3, 20))
    case.cg_due_date = add_working_days(date(2026, 3, 20), 20, "england")
    session.commit()
    lifecycle.suspend(session, case.reference, people["other"], "Person missing.", now=at(MON_2_MAR))
    lifecycle.resume(session, case.reference, people["other"], "Person found.", now=at(date(2026, 3, 12)))
    session.commit()
    assert case.status == "recovery" and case.cg_not_before == date(2026, 3, 30)  # 10 days later
    assert case.cg_due_date == add_working_days(date(2026, 3, 30), 20, "england")
    with pytest.raises(Refused, match="recovery period runs until 2026-03-30"):
        lifecycle.end_recovery(session, case.reference, now=at(date(2026, 3, 25)))
    session.rollback()

    waiting = make_case(session, "awaiting_cg", cg_not_before=date(2026, 2, 2))
    waiting.cg_due_date = FRI_6_MAR
    session.commit()
    lifecycle.suspend(session, waiting.reference, people["other"], "Person missing.", now=at(MON_2_MAR))
    lifecycle.resume(session, waiting.reference, people["other"], "Person found.", now=at(date(2026, 3, 16)))
    session.commit()
    assert (waiting.status, waiting.cg_due_date) == ("awaiting_cg", date(2026, 3, 20))


def test_cg_has_a_target_date_from_the_end_of_the_recovery_period_and_is_marked_overdue(world):
    app, session, people = world
    case = make_case(session)
    _decide(session, case, people["decider"], "rg", "positive", MON_2_MAR)
    session.commit()
    end = MON_2_MAR + timedelta(days=30)
    due = add_working_days(end, 20, "england")
    assert (case.cg_not_before, case.cg_due_date) == (end, due)
    assert case.reference in lifecycle.end_recoveries(session, now=at(end))
    session.commit()

    on_time = _entry(queues.decision_queue(session, at(due)), case)
    assert (on_time.stage, on_time.due_date, on_time.overdue) == ("cg", due, False)
    late = at(due + timedelta(days=1))
    assert _entry(queues.decision_queue(session, late), case).overdue
    assert case.reference in [e.reference for e in queues.decision_queue(session, late, overdue_only=True)]


def test_the_review_queue_has_a_due_date_and_marks_overdue_reviews(world):
    app, session, people = world
    case = make_case(session)
    _decide(session, case, people["decider"], "rg", "negative", MON_2_MAR)
    session.commit()
    due = date(2026, 3, 16)  # 10 working days after the decision
    assert case.review_due_date == due
    on_time = _entry(queues.review_queue(session, at(due), people["panel"]), case)
    assert (on_time.due_date, on_time.overdue) == (due, False)
    assert _entry(queues.review_queue(session, at(due + timedelta(days=1)), people["panel"]), case).overdue
    lifecycle.review(session, case.reference, people["panel"], "upheld", "Sound.", now=at(due))
    assert case.review_due_date is None


def test_cg_and_review_targets_are_configurable(tmp_path):
    with shared_app(tmp_path, CG_WORKING_DAYS=3, REVIEW_WORKING_DAYS=2) as app:
        with app.app_context(), db.get_db(app).transaction() as session:
            worker = make_user(session, "caseworker")
            positive, negative = make_case(session), make_case(session)
            _decide(session, positive, worker, "rg", "positive", MON_2_MAR)
            _decide(session, negative, worker, "rg", "negative", MON_2_MAR)
            assert positive.cg_due_date == date(2026, 4, 8)  # Wed 1 April + 3 working days, Easter between
            assert negative.review_due_date == date(2026, 3, 4)


def test_a_returned_case_is_not_claimable_by_or_offered_to_its_decider(tmp_path):
    with shared_app(tmp_path) as app:
        with app.app_context(), db.get_db(app).transaction() as session:
            decider, other = make_user(session, "caseworker"), make_user(session, "caseworker")
            panel = make_user(session, "panel", PANEL_ORG)
            case = make_case(session)
            _decide(session, case, decider, "rg", "negative", MON_2_MAR)
            lifecycle.review(session, case.reference, panel, "returned", "Weigh the account.")
            assert case.returned_decider_id == decider.id and case.returned_at is not None

            with pytest.raises(NotPermitted, match="the panel returned your decision"):
                queues.claim(session, case.reference, decider)
            assert queues.claim_next(session, decider) is None  # the only case is not offered
            entry = _entry(queues.decision_queue(session, user=decider), case)
            assert entry.returned and entry.returned_to_decider and entry.returned_reasons == "Weigh the account."
            give_claim(case, decider)  # even holding a claim, the decider may not decide it again
            with pytest.raises(NotPermitted):
                lifecycle.decide(session, case.reference, decider, "rg", "positive", "Changed my mind.")
            case.claimed_by_id = None

            assert queues.claim_next(session, other).reference == case.reference
            lifecycle.decide(session, case.reference, other, "rg", "positive", "Indicators present.")
            assert (case.returned_at, case.returned_decider_id) == (None, None)  # decided again: no longer returned


def test_a_returned_case_may_go_back_to_its_decider_when_configured(tmp_path):
    with shared_app(tmp_path, RETURNED_TO_ANOTHER_CASEWORKER=False) as app:
        with app.app_context(), db.get_db(app).transaction() as session:
            decider, panel = make_user(session, "caseworker"), make_user(session, "panel", PANEL_ORG)
            case = make_case(session)
            _decide(session, case, decider, "rg", "negative", MON_2_MAR)
            lifecycle.review(session, case.reference, panel, "returned", "Weigh the account.")
            assert not _entry(queues.decision_queue(session, user=decider), case).returned_to_decider
            assert queues.claim_next(session, decider).reference == case.reference
            lifecycle.decide(session, case.reference, decider, "rg", "positive", "Indicators present.")
            assert case.status == "recovery"
