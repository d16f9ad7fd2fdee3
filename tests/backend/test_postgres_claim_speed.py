"""On PostgreSQL, what keeps a claim cheap: its statement is planned once per connection (not at
every claim), no round trip checks a pooled connection that was in use a moment ago (while a
connection the server has ended is still replaced before use), and the claim's commit does not
wait for the disk (that transaction alone; the claim and its audit event still commit together).

Needs ``DATABASE_URL_PG`` (skipped locally without one, failed in CI: ``tests/conftest.py``).
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from backend import db, queues
from backend.models import AuditEvent, Case, User
from backend.pool_liveness import ping_when_in_doubt
from tests.backend.casework_helpers import make_case, make_user
from tests.backend.test_postgres_claims import pg_app  # noqa: F401 - the app on a schema of this module's own

pytestmark = pytest.mark.postgres

CLAIMS = 16
SEEDED = 30_000
"""Cases in the queue's table (analysed): on a few dozen the planner takes the generic plan anyway."""


@pytest.fixture(scope="module")
def seeded(pg_app):
    """:data:`SEEDED` cases in the queue's table, analysed (once for the module)."""
    from backend.crypto import cipher_for
    from bench.queue_scale import seed

    database = db.get_db(pg_app)
    seed(database.engine, SEEDED, cipher_for(database.engine.dialect).encrypt_json({"answers": {}}))
    return pg_app


def test_claim_next_statement_is_planned_once_per_connection_not_at_every_claim(seeded):
    """psycopg prepares the statement that picks the case after a few runs; PostgreSQL then plans
    it once and reuses that plan (a generic plan) for every later claim on the connection. It
    re-planned every claim while the LIMIT and the queue's name were bound values (a generic plan
    of "LIMIT $n" looks dear to the planner): planning cost several times the query itself."""
    pg_app = seeded
    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        worker_id = make_user(session, "caseworker").id
    with database.engine.connect() as connection:
        for _ in range(CLAIMS):
            with connection.begin(), Session(bind=connection) as session:
                assert queues.claim_next(session, session.get(User, worker_id)) is not None
        generic, custom = connection.execute(text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT picked.id%'")).one()
        connection.rollback()
    assert generic >= 3 and custom <= 5, (generic, custom)  # psycopg prepares after 5 runs, then 5 custom plans


def test_the_api_claims_statement_checking_its_token_is_planned_once_per_connection_too(seeded):
    """The same for ``POST /api/v1/queues/decision/claim``, whose first statement also checks the
    bearer token (``queues.claim_next_by_token``): one generic plan for every later claim."""
    from backend import auth

    pg_app = seeded
    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        secret = auth.create_token(session, make_user(session, "caseworker"))
    client = pg_app.test_client()
    for _ in range(CLAIMS):  # one thread: the pool hands the same connection to every request
        assert client.post("/api/v1/queues/decision/claim",
                           headers={"Authorization": f"Bearer {secret}"}).get_json()["case"] is not None
    with database.engine.connect() as connection:
        generic, custom = connection.execute(text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT picked.id%' AND statement LIKE '%api_tokens%'")).one()
        connection.rollback()
    assert generic >= 3 and custom <= 5, (generic, custom)


def _counting_pings(engine) -> list[int]:
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(1)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted
    return pings


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_pooled_connection_in_use_a_moment_ago_is_not_pinged_before_use(pg_app):
    """The product's engine sends no ``SELECT 1`` at checkout (``pool_pre_ping`` did, at every
    request and claim) while the connection was in use a moment ago; one left idle is pinged."""
    engine = db.make_engine(str(db.get_db(pg_app).engine.url.render_as_string(hide_password=False)))
    idle = create_engine(engine.url, hide_parameters=True)
    ping_when_in_doubt(idle, after_idle_s=0.05)
    try:
        pings = _counting_pings(engine)
        assert len({_backend_pid(engine) for _ in range(5)}) == 1 and pings == []
        idle_pings = _counting_pings(idle)
        _backend_pid(idle)
        time.sleep(0.1)
        _backend_pid(idle)
        assert len(idle_pings) == 1
    finally:
        engine.dispose()
        idle.dispose()


def test_a_pooled_connection_the_server_ended_is_replaced_before_use(pg_app):
    """A restart or ``pg_terminate_backend`` ends pooled connections: the next checkout notices
    (the server's goodbye waits on the socket), and the caller gets a fresh connection, not an
    error."""
    engine = db.make_engine(str(db.get_db(pg_app).engine.url.render_as_string(hide_password=False)))
    try:
        pings = _counting_pings(engine)
        ended = _backend_pid(engine)
        with db.get_db(pg_app).engine.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": ended}).scalar_one()
            other.rollback()
        time.sleep(0.2)  # the server's goodbye reaches the socket
        assert _backend_pid(engine) != ended
        assert pings == [1]
    finally:
        engine.dispose()


def _waits_for_disk(connection) -> str:
    return connection.execute(text("SHOW synchronous_commit")).scalar_one()


def test_a_claim_commits_without_waiting_for_the_disk_and_the_connections_next_transaction_waits_again(pg_app):
    """The claim's own transaction commits asynchronously (the WAL flush took twice the claim's
    budget); the setting ends with that transaction, committed or rolled back, so whatever the
    pooled connection runs next (a referral, a decision) is durable again."""
    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        worker_id = make_user(session, "caseworker").id
        make_case(session)
        make_case(session)
    with database.engine.connect() as connection:
        for finish in (connection.commit, connection.rollback):
            with Session(bind=connection) as session:
                assert _waits_for_disk(connection) == "on"
                assert queues.claim_next(session, session.get(User, worker_id)) is not None
                assert _waits_for_disk(connection) == "off"
            finish()
            assert _waits_for_disk(connection) == "on"
            connection.rollback()


def test_a_claim_rolled_back_leaves_neither_the_claim_nor_its_audit_event(pg_app):
    """The claim and its audit event are one statement in one transaction: both or neither."""
    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        worker_id = make_user(session, "caseworker").id
        reference = make_case(session, age_route="child", rg_due_offset_days=-900).reference  # first in the queue
    with pg_app.app_context(), database.new_session() as session:
        assert queues.claim_next(session, session.get(User, worker_id)).reference == reference
        session.rollback()
    with database.transaction(readonly=True) as session:
        assert session.scalar(select(Case.claimed_by_id).where(Case.reference == reference)) is None
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.chain == reference, AuditEvent.action == "case.claimed")) == 0
