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
from backend.models import AuditEvent, Case, User
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


def test_claim_next_and_each_sort_of_the_queue_page_read_an_index_in_order_without_a_sort(pg_app):
    """On 30,000 cases (analysed), claim-next's statement (the case, its chain's head and lock)
    walks the queue's composite index in its order; and the first page, and a following page, of
    both queues in each sort (priority, due, oldest, newest) walk that sort's index: an index scan
    on it and no Sort node anywhere, and no sequential scan of cases or audit events."""
    from bench.queue_scale import explain, seed
    from backend.casework.queue_sort import SORTS, encode_cursor
    from backend.crypto import cipher_for
    from backend.db import utcnow

    database = db.get_db(pg_app)
    seed(database.engine, 30_000, cipher_for(database.engine.dialect).encrypt_json({"answers": {}}))
    with pg_app.app_context(), database.transaction() as session:
        worker = make_user(session, "caseworker")
    now = utcnow()
    index_of = {"priority": "ix_cases_queue_order", "due": "ix_cases_queue_due", "oldest": "ix_cases_queue_since",
                "newest": "ix_cases_queue_since"}
    statements = [(queues.claim_next_query(worker, now), {"ix_cases_queue_unclaimed"})]
    with pg_app.app_context(), database.transaction() as session:
        for queue in ("decision", "review"):
            clauses = queues.in_queue(queue, now)
            for name, sort in SORTS.items():
                first = session.execute(queues.page_query(queue, clauses, sort, None, 50)).all()
                assert len(first) == 51, (queue, name)
                cursor = encode_cursor(queue, sort, first[25])
                statements += [(queues.page_query(queue, clauses, sort, None, 50), {index_of[name]}),
                               (queues.page_query(queue, clauses, sort, cursor, 50), {index_of[name]})]
    with database.engine.connect() as connection:
        # Claim-next walks the unclaimed cases' index: it cannot walk the whole queue's (migration 0025).
        for statement, indexes in statements:
            nodes = _plan_nodes(explain(connection, statement)[0]["Plan"])
            types = [node["Node Type"] for node in nodes]
            assert "Sort" not in types and "Incremental Sort" not in types, types
            assert "Seq Scan" not in types, types
            assert indexes & {node.get("Index Name") for node in nodes}, (types, indexes, str(statement))
        connection.rollback()


def _statements_of(engine, work) -> list[str]:
    """The SQL statements ``work()`` sends (the commit included, as ``COMMIT``)."""
    from sqlalchemy import event

    sent: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        sent.append(statement.split(None, 1)[0].upper())

    def commit(_conn):
        sent.append("COMMIT")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", commit)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)
    return sent


def test_claim_next_on_postgres_is_two_statements_and_the_commit(pg_app):
    """A claim is answered after three round trips: the statement that picks and locks the case
    and reads its chain's head, the one that writes the claim with its audit event, the commit
    (it was eight: lapsed claims, the pick, the chain's lock, the update, two heads, the insert)."""
    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        worker_id = make_user(session, "caseworker").id
        reference = make_case(session, age_route="child", rg_due_offset_days=-400).reference  # first in the queue
    with pg_app.app_context(), database.new_session() as session:
        user = session.get(User, worker_id)
        session.commit()
        claimed = []

        def claim() -> None:
            claimed.append(queues.claim_next(session, user))
            session.commit()

        sent = _statements_of(database.engine, claim)
    assert claimed[0].reference == reference and claimed[0].claimed_by_id == worker_id
    assert sent == ["SELECT", "WITH", "COMMIT"], sent
    with database.transaction(readonly=True) as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case.claimed_by_id == worker_id and case.claim_expires_at == claimed[0].claim_expires_at
        events = session.scalars(select(AuditEvent).where(AuditEvent.chain == reference)).all()
        assert [(e.action, e.actor, e.detail["expires_at"]) for e in events] == [
            ("case.claimed", f"user:{worker_id}", claimed[0].claim_expires_at.isoformat())]
        assert audit.verify(session) == []


def test_an_api_claim_on_postgres_is_two_statements_and_the_commit(pg_app):
    """``POST /api/v1/queues/decision/claim``: claim-next's two statements (pick, lock and chain
    head, the bearer token checked there; the claim with its audit event), the commit; nothing else."""
    from tests.backend.test_claim_statements import api_claim_statements

    sent, claimed, worker_id = api_claim_statements(pg_app)
    assert sent == ["SELECT", "WITH", "COMMIT"], sent
    assert len(set(claimed)) == 2
    with db.get_db(pg_app).transaction(readonly=True) as session:
        assert {case.claimed_by_id for case in session.scalars(select(Case).where(Case.reference.in_(claimed)))} == {
            worker_id}
        assert audit.verify(session) == []


def test_an_api_claim_on_postgres_runs_every_statement_on_the_cursor_not_through_connection_execute(pg_app):
    from tests.backend.test_claim_statements import api_claim_statements, high_level_executions

    executions, claimed, _worker_id = api_claim_statements(pg_app, high_level_executions)
    assert executions == 0
    assert len(set(claimed)) == 2
    with db.get_db(pg_app).transaction(readonly=True) as session:
        assert audit.verify(session) == []


def test_a_claim_on_postgres_with_a_revoked_expired_unknown_or_other_roles_token_is_refused_and_claims_nothing(
        pg_app):
    from tests.backend.test_claim_statements import refused_tokens_claim_nothing

    refused_tokens_claim_nothing(pg_app)


def test_a_claim_on_postgres_records_its_tokens_use_and_not_again_within_the_minute(pg_app):
    from tests.backend.test_claim_statements import token_use_recorded_once_a_minute

    token_use_recorded_once_a_minute(pg_app)


def test_the_chain_lock_claim_next_takes_in_sql_is_the_one_every_audited_writer_takes(pg_app):
    from sqlalchemy import literal

    with db.get_db(pg_app).engine.connect() as connection:
        for chain in ("NRM-2026-000001", "DTN-2031-999999", "actor:user:7", "ünïcode"):
            assert connection.scalar(select(audit.chain_lock_sql(literal(chain)))) == audit.chain_lock_id(chain)


def test_a_claim_waits_for_a_writer_holding_the_case_chain_and_links_its_event_after_that_writers(pg_app):
    """Someone else is auditing the very case claim-next picks (its chain's lock is held, their
    event not yet committed): the claim waits for them, then writes its event after theirs; the
    chain stays linear and verifies."""
    from tests.backend.test_postgres_audit import Holder, _chain

    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        worker_id = make_user(session, "caseworker").id
        reference = make_case(session, age_route="child", rg_due_offset_days=-400).reference  # first in the queue
    holder = Holder(pg_app, reference)
    holder.start()
    assert holder.holding.wait(5) and not holder.errors
    got: list[str] = []
    errors: list[BaseException] = []

    def claimer() -> None:
        try:
            with pg_app.app_context(), database.transaction() as session:
                got.append(queues.claim_next(session, session.get(User, worker_id)).reference)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=claimer, daemon=True)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive() and not got  # waiting for the holder's lock on the chain
    holder.release.set()
    holder.join(5)
    thread.join(10)
    assert not errors and got == [reference]
    events = _chain(pg_app, reference)
    assert [(e.seq, e.actor) for e in events] == [(1, "user:1"), (2, f"user:{worker_id}")]
    assert events[1].prev_hash == events[0].hash
    with pg_app.app_context(), database.transaction(readonly=True) as session:
        assert audit.verify(session) == []
