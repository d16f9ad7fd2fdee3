"""On PostgreSQL: audited writes queue per chain, not for the whole service. Two cases are audited
side by side; two writers on one case queue and never fork it; an anchor neither waits for open
writers nor makes them wait.

Needs ``DATABASE_URL_PG`` (see ``tests/conftest.py``); each run works in a fresh schema.
"""

from __future__ import annotations

import threading
from typing import Callable

import pytest
from sqlalchemy import select

from backend import audit, audit_anchors, db
from backend.models import AuditEvent
from tests.backend.casework_helpers import shared_app
from tests.conftest import fresh_postgres_url

pytestmark = pytest.mark.postgres

WAIT = 5.0
"""Seconds a writer that should not be blocked gets; a blocked one would wait for the holder."""


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory):
    with fresh_postgres_url() as url, shared_app(tmp_path_factory.mktemp("pg-audit"), DATABASE_URL=url) as app:
        yield app


class Holder(threading.Thread):
    """Audits ``reference`` in a transaction and keeps it open (with its chain's lock) until released."""

    def __init__(self, app, reference: str) -> None:
        super().__init__(daemon=True)
        self.app, self.reference = app, reference
        self.holding, self.release = threading.Event(), threading.Event()
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            with self.app.app_context(), db.get_db(self.app).transaction() as session:
                audit.record(session, "user:1", "case.claimed", self.reference)
                self.holding.set()
                self.release.wait(30)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)
            self.holding.set()


def _in_thread(app, work: Callable) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    done, errors = threading.Event(), []

    def target() -> None:
        try:
            with app.app_context(), db.get_db(app).transaction() as session:
                work(session)
            done.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, done, errors


def _chain(app, reference: str) -> list[AuditEvent]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.chain == reference)
                                    .order_by(AuditEvent.seq)))


def _finishes_while_another_holds(app, reference: str, work: Callable) -> bool:
    """Whether ``work`` (in its own transaction) commits while another transaction that audited
    ``reference`` is still open."""
    holder = Holder(app, reference)
    holder.start()
    assert holder.holding.wait(WAIT) and not holder.errors
    thread, done, errors = _in_thread(app, work)
    try:
        finished = done.wait(WAIT)
    finally:
        holder.release.set()
        holder.join(WAIT)
        thread.join(WAIT)
    assert not errors and not holder.errors
    return finished


def test_two_transactions_auditing_different_cases_do_not_wait_for_each_other(pg_app):
    assert _finishes_while_another_holds(  # with one lock for the whole trail it would wait for the holder
        pg_app, "NRM-2026-000101", lambda s: audit.record(s, "user:2", "case.claimed", "NRM-2026-000102"))


def test_two_writers_on_the_same_case_queue_and_never_fork_its_chain(pg_app):
    reference = "NRM-2026-000201"
    holder = Holder(pg_app, reference)
    holder.start()
    assert holder.holding.wait(WAIT)
    thread, done, errors = _in_thread(pg_app, lambda s: audit.record(s, "user:2", "case.read", reference))
    assert not done.wait(0.5)  # queued behind the holder's chain lock
    holder.release.set()
    holder.join(WAIT)
    thread.join(WAIT)
    assert done.is_set() and not errors and not holder.errors
    first, second = _chain(pg_app, reference)
    assert (first.seq, second.seq) == (1, 2) and second.prev_hash == first.hash


def test_many_writers_on_one_case_and_on_many_cases_keep_every_chain_linear(pg_app):
    shared, writers, each = "NRM-2026-000301", 6, 8
    barrier, errors = threading.Barrier(writers), []

    def writer(number: int) -> None:
        try:
            with pg_app.app_context():
                barrier.wait()
                for _ in range(each):
                    with db.get_db(pg_app).transaction() as session:
                        audit.record(session, f"user:{number}", "case.read", shared)
                        audit.record(session, f"user:{number}", "case.read", f"NRM-2026-0004{number:02d}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert [event.seq for event in _chain(pg_app, shared)] == list(range(1, writers * each + 1))
    with pg_app.app_context(), db.get_db(pg_app).transaction(readonly=True) as session:
        assert audit.verify(session) == []


def test_an_anchor_neither_waits_for_an_open_writer_nor_seals_its_uncommitted_event(pg_app):
    with pg_app.app_context(), db.get_db(pg_app).transaction() as session:
        audit.record(session, "user:1", "case.read", "NRM-2026-000500")  # something to seal
    anchors: list[audit_anchors.SealAnchor] = []
    assert _finishes_while_another_holds(pg_app, "NRM-2026-000501",
                                         lambda s: anchors.append(audit_anchors.make_anchor(s)))
    with pg_app.app_context(), db.get_db(pg_app).transaction() as session:
        late = session.scalars(select(AuditEvent).where(AuditEvent.chain == "NRM-2026-000501")).one()
        assert late.epoch is None  # committed after the seal: the next anchor takes it
        following = audit_anchors.make_anchor(session)
    assert following.epoch == anchors[0].epoch + 1 and following.events == anchors[0].events + 1
    with pg_app.app_context(), db.get_db(pg_app).transaction(readonly=True) as session:
        assert audit.verify(session, [anchors[0], following]) == []
