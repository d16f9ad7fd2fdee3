"""On PostgreSQL: eight caseworkers claiming at once never get the same case (``SELECT ... FOR
UPDATE SKIP LOCKED``), and the migrations and lifecycle run there too.

Needs ``DATABASE_URL_PG`` (``.ci/run`` starts a server and sets it): skipped locally without one,
failed in CI (see ``tests/conftest.py``). Each run works in a fresh schema that is dropped after.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from backend import audit, db, lifecycle, queues
from backend.models import Case, User
from tests.backend.casework_helpers import PANEL_ORG, make_case, make_user, shared_app
from tests.conftest import fresh_postgres_url

pytestmark = pytest.mark.postgres

CLAIMERS = 8
CASES = 40


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory):
    """The app on a fresh schema of the DATABASE_URL_PG database, migrated to head."""
    with fresh_postgres_url() as url, shared_app(tmp_path_factory.mktemp("pg"), DATABASE_URL=url) as app:
        yield app


def test_migrations_match_the_models_on_postgres(pg_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from backend.db import Base

    engine = db.get_db(pg_app).engine
    assert engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_eight_concurrent_claimers_never_get_the_same_case(pg_app):
    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        worker_ids = [make_user(session, "caseworker").id for _ in range(CLAIMERS)]
        references = {make_case(session).reference for _ in range(CASES)}
    got: dict[int, list[str]] = {worker_id: [] for worker_id in worker_ids}
    errors: list[BaseException] = []
    barrier = threading.Barrier(CLAIMERS)

    def claimer(worker_id: int) -> None:
        try:
            with pg_app.app_context():
                barrier.wait()
                while True:
                    with database.transaction() as session:
                        case = queues.claim_next(session, session.get(User, worker_id))
                        if case is None:
                            return
                        got[worker_id].append(case.reference)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(worker_id,)) for worker_id in worker_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    claimed = [reference for references_of in got.values() for reference in references_of]
    assert len(claimed) == len(set(claimed)) == CASES and set(claimed) == references
    assert sum(1 for refs in got.values() if refs) > 1  # they really did run side by side

    with database.transaction(readonly=True) as session:
        holders = dict(session.execute(select(Case.reference, Case.claimed_by_id)
                                       .where(Case.reference.in_(references))).all())
        assert all(holders[reference] == worker_id for worker_id, refs in got.items() for reference in refs)
        assert session.scalar(select(func.count()).select_from(Case).where(Case.claimed_by_id.is_(None),
                                                                           Case.reference.in_(references))) == 0
        assert audit.verify(session) == []


def test_decide_and_review_on_postgres(pg_app):
    database = db.get_db(pg_app)
    with pg_app.app_context():
        with database.transaction() as session:
            worker = make_user(session, "caseworker")
            panel = make_user(session, "panel", PANEL_ORG)
            reference = make_case(session).reference
            queues.claim(session, reference, worker)
            lifecycle.decide(session, reference, worker, "rg", "negative", "No indicators.")
        with database.transaction() as session:
            worker, panel = session.get(User, worker.id), session.get(User, panel.id)
            with pytest.raises(lifecycle.NotPermitted):
                lifecycle.review(session, reference, User(id=worker.id, role="panel", active=True,
                                                          organisation=None), "upheld", "x")
            lifecycle.review(session, reference, panel, "upheld", "Sound.")
        with database.transaction(readonly=True) as session:
            case = session.scalar(select(Case).where(Case.reference == reference))
            assert case.status == "rg_negative" and case.reviews[0].reasons == "Sound."
            assert audit.verify(session) == []


def _plan_nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


def test_claim_next_and_the_queue_page_read_the_queue_index_in_order_without_a_sort(pg_app):
    """On 30,000 cases (analysed), claim-next's statement (the case, its chain's head and lock)
    and the first page of the queue walk the queue's composite index in its order: an index scan
    on it and no Sort node anywhere, and no sequential scan of cases or audit events."""
    from datetime import timedelta

    from bench.queue_scale import explain, seed
    from backend.crypto import cipher_for
    from backend.db import utcnow
    from sqlalchemy import tuple_

    database = db.get_db(pg_app)
    seed(database.engine, 30_000, cipher_for(database.engine.dialect).encrypt_json({"answers": {}}))
    with pg_app.app_context(), database.transaction() as session:
        worker = make_user(session, "caseworker")
        first = session.execute(queues.next_unclaimed(worker, utcnow())).first()
    now = utcnow()
    page = (select(Case).where(*queues.in_queue("decision", now)).order_by(*queues.QUEUE_ORDER).limit(51))
    with database.engine.connect() as connection:
        # Claim-next may walk either queue index: both are in queue order (the planner picks the
        # unclaimed one, or the whole queue's when it can test the recovery date in the index).
        either = {"ix_cases_queue_unclaimed", "ix_cases_queue_order"}
        for statement, indexes in ((queues.claim_next_query(worker, now), either),
                                   (page, {"ix_cases_queue_order"}),
                                   (page.where(tuple_(*queues.QUEUE_ORDER) > queues.order_key(
                                       (1, first.queue_due_date + timedelta(days=3), first.queue_since, 0))),
                                    {"ix_cases_queue_order"})):
            nodes = _plan_nodes(explain(connection, statement)[0]["Plan"])
            types = [node["Node Type"] for node in nodes]
            assert "Sort" not in types and "Incremental Sort" not in types, types
            assert "Seq Scan" not in types, types
            assert indexes & {node.get("Index Name") for node in nodes}, types
        connection.rollback()
