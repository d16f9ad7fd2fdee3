"""Decision and review queues: priority order, overdue marking, claims (expiry, only the claimer
decides, release, atomic claim-next on SQLite) and review eligibility (statistics: test_statistics)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.priority import is_priority
from backend import db, lifecycle, queues
from backend.calendar import uk_date
from backend.db import utcnow
from backend.lifecycle import ClaimConflict, NotPermitted, Refused
from backend.models import AuditEvent, User
from tests.backend.casework_helpers import (ORG, PANEL_ORG, add_decision, add_review, case_in, give_claim,
                                            make_case, make_user)


def _refs(entries):
    return [entry.reference for entry in entries]


def test_priority_then_due_date(db_session):
    now = utcnow()
    adult_late = make_case(db_session, rg_due_offset_days=9)
    adult_soon = make_case(db_session, rg_due_offset_days=2)
    adult_overdue = make_case(db_session, rg_due_offset_days=-1)
    child_late = make_case(db_session, age_route="child", rg_due_offset_days=8)
    unknown_soon = make_case(db_session, age_route="unknown", rg_due_offset_days=3)
    urgent = make_case(db_session, rg_due_offset_days=5, answers={"still-in-exploitative-situation": "yes"})
    not_urgent = make_case(db_session, rg_due_offset_days=4, answers={"still-in-exploitative-situation": "no"})
    cg_ready = make_case(db_session, "awaiting_cg", cg_not_before=uk_date(now) - timedelta(days=1))
    make_case(db_session, "recovery", cg_not_before=uk_date(now) + timedelta(days=5))  # not in the queue
    make_case(db_session, "rg_review")  # review queue, not decision queue
    make_case(db_session, "dtn_recorded", route="dtn")
    db_session.commit()

    assert urgent.priority and not not_urgent.priority  # urgent safety answer, as intake decides
    entries = queues.decision_queue(db_session, now)
    assert _refs(entries) == [c.reference for c in (unknown_soon, urgent, child_late, cg_ready, adult_overdue,
                                                     adult_soon, not_urgent, adult_late)]
    by_ref = {e.reference: e for e in entries}
    assert by_ref[adult_overdue.reference].overdue and not by_ref[adult_soon.reference].overdue
    assert by_ref[cg_ready.reference].stage == "cg" and not by_ref[cg_ready.reference].overdue
    assert by_ref[child_late.reference].due_date == child_late.rg_due_date
    assert _refs(queues.decision_queue(db_session, now, overdue_only=True)) == [adult_overdue.reference]
    assert queues.is_overdue(adult_overdue, now) and not queues.is_overdue(adult_soon, now)
    assert "NRM" in str(entries[0].as_json()["reference"]) and isinstance(entries[0].as_json()["due_date"], str)


def test_is_priority():
    assert is_priority("nrm", "child", None) and is_priority("nrm", "unknown", {})
    assert is_priority("nrm", "adult", {"answers": {"still-in-exploitative-situation": "yes"}})
    assert not is_priority("nrm", "adult", {"answers": {}})
    assert not is_priority("dtn", "adult", {"answers": {"still-in-exploitative-situation": "yes"}})


def test_only_the_claimer_decides(db_session):
    first, second = make_user(db_session, "caseworker"), make_user(db_session, "caseworker")
    case = make_case(db_session)
    db_session.commit()
    with pytest.raises(ClaimConflict, match="claim case"):
        lifecycle.decide(db_session, case.reference, first, "rg", "positive", "x")
    db_session.rollback()
    queues.claim(db_session, case.reference, first)
    db_session.commit()
    with pytest.raises(ClaimConflict, match="claimed by another"):
        queues.claim(db_session, case.reference, second)
    db_session.rollback()
    with pytest.raises(ClaimConflict):
        lifecycle.decide(db_session, case.reference, second, "rg", "positive", "x")
    db_session.rollback()
    with pytest.raises(ClaimConflict):
        queues.release(db_session, case.reference, second)
    db_session.rollback()
    queues.claim(db_session, case.reference, first)  # renewing one's own claim is fine
    lifecycle.decide(db_session, case.reference, first, "rg", "positive", "Indicators.")
    db_session.commit()
    assert case.status == "recovery" and case.claimed_by_id is None


def test_claim_expiry(app, db_session):
    first, second = make_user(db_session, "caseworker"), make_user(db_session, "caseworker")
    case = make_case(db_session)
    db_session.commit()
    start = utcnow()
    queues.claim(db_session, case.reference, first, now=start)
    db_session.commit()
    assert case.claim_expires_at == start + timedelta(minutes=60)
    later = start + timedelta(minutes=61)
    with pytest.raises(ClaimConflict):  # the claim has lapsed: the first caseworker must claim again
        lifecycle.decide(db_session, case.reference, first, "rg", "positive", "x", now=later)
    db_session.rollback()
    assert queues.decision_queue(db_session, later)[0].claimed is False
    assert queues.expire_claims(db_session, now=later) == [case.reference]
    db_session.commit()
    event = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (event.action, event.actor, event.detail) == ("case.claim_expired", "system",
                                                         {"claimed_by": f"user:{first.id}"})
    queues.claim(db_session, case.reference, second, now=later)
    db_session.commit()
    assert case.claimed_by_id == second.id

    app.config["CLAIM_MINUTES"] = 5
    queues.claim(db_session, case.reference, second, now=later)
    assert case.claim_expires_at == later + timedelta(minutes=5)
    db_session.rollback()


def test_claim_rules(db_session):
    worker, panel = make_user(db_session, "caseworker"), make_user(db_session, "panel", PANEL_ORG)
    recovering = make_case(db_session, "recovery", cg_not_before=uk_date(utcnow()) + timedelta(days=3))
    dtn = make_case(db_session, "dtn_recorded", route="dtn")
    early_cg = make_case(db_session, "awaiting_cg", cg_not_before=uk_date(utcnow()) + timedelta(days=1))
    ok = make_case(db_session)
    db_session.commit()
    for case in (recovering, dtn, early_cg):
        with pytest.raises(Refused):
            queues.claim(db_session, case.reference, worker)
        db_session.rollback()
    with pytest.raises(NotPermitted):
        queues.claim(db_session, ok.reference, panel)
    db_session.rollback()
    with pytest.raises(lifecycle.CaseNotFound):
        queues.claim(db_session, "NRM-2026-999999", worker)
    db_session.rollback()
    with pytest.raises(ClaimConflict):
        queues.release(db_session, ok.reference, worker)  # nothing to release
    db_session.rollback()
    queues.claim(db_session, ok.reference, worker)
    queues.release(db_session, ok.reference, worker)
    db_session.commit()
    assert ok.claimed_by_id is None
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.case_reference == ok.reference)).all()
    assert actions == ["case.claimed", "case.released"]


def test_claim_next_takes_the_queue_in_order_and_skips_claimed_and_reviewed(db_session):
    worker, other, reviewer_now_worker = (make_user(db_session, "caseworker") for _ in range(3))
    first = make_case(db_session, age_route="child")
    second = make_case(db_session, rg_due_offset_days=1)
    third = make_case(db_session, rg_due_offset_days=2)
    give_claim(first, other)
    decision = add_decision(db_session, second, "rg", "negative", other)
    add_review(db_session, second, decision, "returned", reviewer_now_worker)
    db_session.commit()
    assert queues.claim_next(db_session, reviewer_now_worker).reference == third.reference
    db_session.commit()
    assert queues.claim_next(db_session, worker).reference == second.reference
    db_session.commit()
    assert queues.claim_next(db_session, worker) is None
    db_session.rollback()


def test_claim_next_is_atomic_on_sqlite(app):
    """Eight threads claiming at once on SQLite (BEGIN IMMEDIATE): every case goes to one of them."""
    database = db.get_db(app)
    with app.app_context(), database.transaction() as session:
        workers = [make_user(session, "caseworker") for _ in range(8)]
        references = {make_case(session).reference for _ in range(20)}
        worker_ids = [w.id for w in workers]
    got: dict[int, list[str]] = {wid: [] for wid in worker_ids}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(worker_ids))

    def run(worker_id: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                while True:
                    with database.transaction() as session:
                        user = session.get(User, worker_id)
                        case = queues.claim_next(session, user)
                        if case is None:
                            return
                        got[worker_id].append(case.reference)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(wid,)) for wid in worker_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    claimed = [ref for refs in got.values() for ref in refs]
    assert sorted(claimed) == sorted(references) and len(set(claimed)) == len(claimed)


def test_review_queue_shows_each_panel_member_what_they_may_review(db_session):
    decider = make_user(db_session, "caseworker")
    panel, same_org = make_user(db_session, "panel", PANEL_ORG), make_user(db_session, "panel", ORG)
    reviewer = make_user(db_session, "panel", PANEL_ORG)
    older = case_in(db_session, "rg_review", decider, reviewer, status_changed_at=utcnow() - timedelta(days=2))
    newer = case_in(db_session, "cg_review", decider, reviewer, status_changed_at=utcnow() - timedelta(days=1))
    child = case_in(db_session, "rg_review", decider, reviewer, age_route="child", status_changed_at=utcnow())
    make_case(db_session)  # decision queue only
    db_session.commit()
    assert _refs(queues.review_queue(db_session)) == [child.reference, older.reference, newer.reference]
    assert _refs(queues.review_queue(db_session, user=panel)) == [child.reference, older.reference, newer.reference]
    assert queues.review_queue(db_session, user=same_org) == []  # all referred by their organisation
    decider.role = "panel"  # a decider who later joined the panel never sees their own cases
    assert queues.review_queue(db_session, user=decider) == []
    assert [e.stage for e in queues.review_queue(db_session)] == ["rg", "rg", "cg"]
    db_session.rollback()


def test_claimers_on_sqlite_wait_their_turn_instead_of_database_is_locked(tmp_path, monkeypatch):
    """Eight threads claim at once on a file database while another writer holds the write lock for
    far longer than the busy timeout: each waits its turn, gets a distinct case, and none fails."""
    from backend.app import create_app
    from backend.cli import upgrade_database
    from tests.conftest import backend_test_config

    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 50)
    app = create_app(backend_test_config(tmp_path))
    upgrade_database(app)
    database = db.get_db(app)
    assert database.engine.url.database.endswith(".sqlite3")
    with app.app_context(), database.transaction() as session:
        worker_ids = [make_user(session, "caseworker").id for _ in range(8)]
        references = {make_case(session).reference for _ in range(40)}
    got: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(worker_ids) + 1)

    def claimer(worker_id: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(5):
                    with database.transaction() as session:
                        got.append(queues.claim_next(session, session.get(User, worker_id)).reference)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(worker_id,)) for worker_id in worker_ids]
    for thread in threads:
        thread.start()
    with database.transaction() as blocker:  # another writer keeps the lock for 20 busy timeouts
        blocker.execute(select(1))  # BEGIN IMMEDIATE: the write lock is taken here
        barrier.wait()
        time.sleep(1.0)
        assert not got  # nobody got past it
    for thread in threads:
        thread.join(60)
    database.engine.dispose()
    assert not errors, [type(error).__name__ + ": " + str(error)[:80] for error in errors]
    assert len(got) == len(set(got)) == 40 and set(got) == references


def _page_refs(page):
    return [entry.reference for entry in page.entries]


def test_the_queue_is_read_a_page_at_a_time_in_order_with_counts_of_the_whole_queue(db_session):
    now = utcnow()
    cases = [make_case(db_session, rg_due_offset_days=offset) for offset in (-3, -2, -1, 1, 2)]
    child = make_case(db_session, age_route="child", rg_due_offset_days=9)
    later_cg = make_case(db_session, "awaiting_cg", cg_not_before=uk_date(now) + timedelta(days=2))
    db_session.commit()
    order = [child.reference] + [case.reference for case in cases]

    first = queues.decision_page(db_session, now, limit=2)
    assert _page_refs(first) == order[:2] and (first.count, first.overdue) == (6, 3)
    second = queues.decision_page(db_session, now, after=first.next_cursor, limit=2)
    third = queues.decision_page(db_session, now, after=second.next_cursor, limit=2)
    assert _page_refs(second) == order[2:4] and _page_refs(third) == order[4:] and third.next_cursor is None
    assert later_cg.reference not in _page_refs(third)  # still in its recovery period

    # a case claimed or decided between pages moves nothing: the next page starts after the last one shown
    cases[1].status = "withdrawn"
    db_session.commit()
    assert _page_refs(queues.decision_page(db_session, now, after=first.next_cursor, limit=2)) == order[3:5]

    with pytest.raises(queues.InvalidQuery):
        queues.decision_page(db_session, now, after="not-a-cursor")
    with pytest.raises(queues.InvalidQuery):  # a review queue cursor is not a decision queue one
        queues.decision_page(db_session, now, after=queues.encode_cursor("review", queues.SORTS["priority"], cases[0]))
    with pytest.raises(queues.InvalidQuery):
        queues.decision_page(db_session, now, limit=queues.MAX_PAGE_SIZE + 1)


def test_the_queue_filters_stage_priority_overdue_claimed_and_reference(db_session):
    now = utcnow()
    worker = make_user(db_session, "caseworker")
    overdue_adult = make_case(db_session, rg_due_offset_days=-1)
    child = make_case(db_session, age_route="child")
    claimed = make_case(db_session, rg_due_offset_days=3)
    give_claim(claimed, worker)
    cg = make_case(db_session, "awaiting_cg", cg_not_before=uk_date(now) - timedelta(days=1),
                   cg_due_date=uk_date(now) + timedelta(days=5))
    db_session.commit()

    def refs(**filters):
        return set(_page_refs(queues.decision_page(db_session, now, filters=queues.QueueFilters(**filters))))

    assert refs(stage="cg") == {cg.reference}
    assert refs(stage="rg") == {overdue_adult.reference, child.reference, claimed.reference}
    assert refs(priority=True) == {child.reference}
    assert refs(overdue=True) == {overdue_adult.reference}
    assert refs(claimed=True) == {claimed.reference}
    assert refs(claimed=False, priority=False) == {overdue_adult.reference, cg.reference}
    assert refs(reference=cg.reference) == {cg.reference}
    assert refs(reference="NRM-2026-999999") == set()
    filters, after, limit = queues.query_from({"stage": "cg", "overdue": "no", "claimed": "0", "limit": "5",
                                               "reference": "nrm-2026-000001"})
    assert (filters, after, limit) == (queues.QueueFilters(stage="cg", overdue=False, claimed=False,
                                                           reference="NRM-2026-000001"), None, 5)
    for bad in ({"stage": "xx"}, {"overdue": "maybe"}, {"limit": "0"}, {"limit": "-1"}, {"limit": "201"}):
        with pytest.raises(queues.InvalidQuery):
            queues.query_from(bad)


def test_a_queue_listing_decrypts_no_payload_and_only_the_returned_reasons_it_shows(db_session, monkeypatch):
    from backend import crypto

    worker, panel = make_user(db_session, "caseworker"), make_user(db_session, "panel", PANEL_ORG)
    returned = make_case(db_session, age_route="child")
    decision = add_decision(db_session, returned, "rg", "negative", worker)
    add_review(db_session, returned, decision, "returned", panel)
    returned.returned_at, returned.returned_decider_id = utcnow(), worker.id
    for _ in range(3):
        make_case(db_session)
    db_session.commit()
    db_session.expunge_all()
    decrypted: list[str] = []
    real = crypto.FieldCipher.decrypt_json
    monkeypatch.setattr(crypto.FieldCipher, "decrypt_json",
                        lambda self, token: decrypted.append(token) or real(self, token))
    page = queues.decision_page(db_session, user=worker)
    assert [entry.returned_reasons for entry in page.entries] == ["r", None, None, None]
    assert len(decrypted) == 1  # the one returned case's reasons; no payload


def test_a_large_queues_counts_are_reused_for_a_few_seconds_and_a_small_queues_never(db_session, monkeypatch):
    """Counting a national queue reads every entry of its index: a large queue's counts are kept
    for ``MAX_AGE_S`` seconds (its lines are always read afresh), a small queue's never."""
    from backend import queue_counts

    monkeypatch.setattr(queue_counts, "_kept", {})
    now = utcnow()
    for _ in range(3):
        make_case(db_session)
    db_session.commit()
    assert queues.decision_page(db_session, now).count == 3
    make_case(db_session)
    db_session.commit()
    assert queues.decision_page(db_session, now).count == 4  # small: counted afresh

    monkeypatch.setattr(queue_counts, "EXACT_BELOW", 4)  # now this queue counts as large
    assert queues.decision_page(db_session, now).count == 4
    newest = make_case(db_session, age_route="child", rg_due_offset_days=-30)
    db_session.commit()
    page = queues.decision_page(db_session, now)
    assert page.count == 4 and page.entries[0].reference == newest.reference  # the lines are current
    assert queues.decision_page(db_session, now, filters=queues.QueueFilters(priority=True)).count == 1  # own key

    monkeypatch.setattr(queue_counts, "MAX_AGE_S", 0.0)  # the kept counts are now too old
    assert queues.decision_page(db_session, now).count == 5
