"""On PostgreSQL, a claim rewrites no index that nothing reads (migrations 0020 and 0022), and every
query that once could lean on the dropped ``ix_cases_status_priority_*`` and ``ix_cases_claimed_by_id``
indexes still reads an index.

A claim changes indexed columns, so PostgreSQL writes an entry into every index of ``cases`` whose
condition the claimed row meets; the indexes that remain are each the one some query reads.

Needs ``DATABASE_URL_PG`` (skipped locally without one, failed in CI: ``tests/conftest.py``).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from backend import auth, db, queues
from backend.calendar import uk_date
from backend.db import utcnow
from backend.lifecycle import recovery_ends_query
from backend.models import Case
from backend.queues import QueueFilters
from tests.backend.casework_helpers import make_user
from tests.backend.test_postgres_claims import _plan_nodes, pg_app  # noqa: F401 - the app on a schema of its own

pytestmark = pytest.mark.postgres

SEEDED = 30_000


def _plan(connection, statement) -> tuple[list[str], set[str]]:
    sql = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    nodes = _plan_nodes(connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar_one()[0]["Plan"])
    return [node["Node Type"] for node in nodes], {node.get("Index Name") for node in nodes} - {None}


def test_no_index_of_cases_leads_with_status_and_priority_any_more(pg_app):
    indexes = {index["name"]: index["column_names"] for index in inspect(db.get_db(pg_app).engine).get_indexes("cases")}
    assert not [name for name, columns in indexes.items() if columns[:2] == ["status", "priority"]], indexes
    assert indexes["ix_cases_recovery_ends"] == ["cg_not_before", "id"]


@pytest.fixture(scope="module")
def seeded_worker(pg_app):
    """30,000 cases seeded and analysed (once for the module), and a caseworker."""
    from bench.queue_scale import seed
    from backend.crypto import cipher_for

    database = db.get_db(pg_app)
    seed(database.engine, SEEDED, cipher_for(database.engine.dialect).encrypt_json({"answers": {}}))
    with pg_app.app_context(), database.transaction() as session:
        return make_user(session, "caseworker")


def test_queries_that_used_the_dropped_status_indexes_still_read_an_index_and_the_claim_its_own(pg_app, seeded_worker):
    """On 30,000 cases (analysed): recovery ends (``nrm jobs run``) read their partial index; each stage filter of both queues, page and counts, reads an index (no sequential scan of
    cases); claim-next still walks the queue's unclaimed index without a sort."""
    database, worker = db.get_db(pg_app), seeded_worker
    now = utcnow()
    with database.engine.connect() as connection:
        types, indexes = _plan(connection, recovery_ends_query(uk_date(now)))
        assert indexes == {"ix_cases_recovery_ends"} and "Seq Scan" not in types, types
        for queue in ("decision", "review"):
            for stage in ("rg", "cg"):
                clauses = queues.in_queue(queue, now) + queues._filtered(QueueFilters(stage=stage), now)  # noqa: SLF001
                page = queues.page_query(queue, clauses, queues.SORTS["priority"], None, 50)
                count = select(func.count()).select_from(Case).where(*clauses)
                for statement in (page, count):
                    types, indexes = _plan(connection, statement)
                    assert "Seq Scan" not in types and indexes, (queue, stage, types)
        types, indexes = _plan(connection, queues.claim_next_query(worker, now))
        assert "Sort" not in types and "Seq Scan" not in types, types
        assert "ix_cases_queue_unclaimed" in indexes and "ix_cases_queue_order" not in indexes, indexes
        connection.rollback()


FIRST_STATEMENTS = {
    "by_user": lambda worker, now: queues.claim_next_query(worker, now),
    "by_token": lambda worker, now: queues.claim_next_by_token_query(auth.TOKEN_PREFIX + "explained", now),
}
"""Claim-next's first statement for a caseworker already known (pages), or for a bearer token (API)."""


@pytest.mark.parametrize("first_statement", FIRST_STATEMENTS.values(), ids=FIRST_STATEMENTS.keys())
def test_claim_next_passes_cases_still_in_their_recovery_period_inside_its_index(pg_app, seeded_worker,
                                                                                 first_statement):
    """A CG case waits in the queue in its place before its recovery period ends; claim-next must pass
    it by. It tests "may be decided today" on the index's own entries (migration 0021), never by
    reading the row of each case it passes (it did: after 15,000 claims on 200,000 cases, some 300
    rows a claim, as the cases around them were taken), and along the unclaimed cases' index,
    without a sort, whether it checks the bearer token too or not."""
    from bench.queue_scale import explain

    with db.get_db(pg_app).engine.connect() as connection:
        nodes = _plan_nodes(explain(connection, first_statement(seeded_worker, utcnow()))[0]["Plan"])
        connection.rollback()
    assert not {"Sort", "Incremental Sort"} & {node["Node Type"] for node in nodes}, nodes
    assert not [node for node in nodes if node["Node Type"] == "Seq Scan" and node["Relation Name"] == "cases"], nodes
    scan = next(node for node in nodes if (node.get("Index Name") or "").startswith("ix_cases_queue"))
    assert scan["Index Name"] == "ix_cases_queue_unclaimed", scan  # the whole queue's would read every claimed row
    assert "queue_available_on" in scan["Index Cond"], scan
    assert "queue_available_on" not in scan.get("Filter", ""), scan


@pytest.mark.parametrize("first_statement", FIRST_STATEMENTS.values(), ids=FIRST_STATEMENTS.keys())
def test_claim_next_cannot_walk_the_whole_queues_index_past_the_claimed_cases(pg_app, seeded_worker,
                                                                              first_statement):
    """Both indexes hold the queue in one order, and PostgreSQL cannot know the claimed cases are at
    its head: the prepared plan of claim-next took either, and along ``ix_cases_queue_order`` every
    claim read every claimed case's row first (2,823 buffers a claim after 4,473 claims on a million
    cases). That index's condition is one claim-next's statement does not imply (migration 0025):
    even with its own index gone, it never walks that one, while a page still does."""
    from bench.queue_scale import explain

    with db.get_db(pg_app).engine.connect() as connection:
        connection.exec_driver_sql("DROP INDEX ix_cases_queue_unclaimed")
        nodes = _plan_nodes(explain(connection, first_statement(seeded_worker, utcnow()))[0]["Plan"])
        page = queues.page_query("decision", queues.in_queue("decision", utcnow()), queues.SORTS["priority"], None, 50)
        page_indexes = {node.get("Index Name") for node in _plan_nodes(explain(connection, page)[0]["Plan"])}
        connection.rollback()
    assert "ix_cases_queue_order" not in {node.get("Index Name") for node in nodes}, nodes
    assert "ix_cases_queue_order" in page_indexes, page_indexes


def test_a_queues_counts_still_read_the_whole_queues_index(pg_app, seeded_worker):
    """The counts beside a page say the condition of ``ix_cases_queue_order`` (migration 0025) and
    read it, as before it had one (along another queue index: twice the buffers on a million cases)."""
    with db.get_db(pg_app).engine.connect() as connection:
        for queue in ("decision", "review"):
            _, indexes = _plan(connection, queues.count_query(queues.in_queue(queue, utcnow()), utcnow()))
            assert indexes == {"ix_cases_queue_order"}, (queue, indexes)
        connection.rollback()


def test_a_claim_writes_no_entry_into_an_index_of_claimed_by_id_alone_which_no_query_reads(pg_app):
    """Each claim wrote an entry into ``ix_cases_claimed_by_id``; no query reads it (migration 0022)."""
    indexes = {index["name"]: index["column_names"] for index in inspect(db.get_db(pg_app).engine).get_indexes("cases")}
    assert not [name for name, columns in indexes.items() if columns == ["claimed_by_id"]], indexes


def test_a_caseworkers_claims_are_found_through_the_index_of_claims_not_by_reading_every_case(pg_app, seeded_worker):
    """What the foreign key's ``ON DELETE SET NULL`` looks up (and any "cases claimed by" query):
    the claimed cases' own partial index answers it, on 30,000 cases with a few claimed."""
    from sqlalchemy import text

    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        for _ in range(3):
            assert queues.claim_next(session, session.get(type(seeded_worker), seeded_worker.id)) is not None
    with database.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE cases")
        types, indexes = _plan(connection, select(Case.id).where(Case.claimed_by_id == seeded_worker.id))
        claimed = connection.execute(text("SELECT count(*) FROM cases WHERE claimed_by_id = :id"),
                                     {"id": seeded_worker.id}).scalar_one()
        connection.rollback()
    assert claimed >= 3
    assert indexes == {"ix_cases_claim_expires_at"} and "Seq Scan" not in types, (types, indexes)


def test_a_deleted_users_claims_are_still_cleared_by_the_foreign_key(pg_app):
    """Users are deactivated, not deleted; were one deleted, their claims still go (``SET NULL``)."""
    from sqlalchemy import delete

    from backend.models import User
    from tests.backend.casework_helpers import make_case

    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        user = make_user(session, "caseworker")
        reference = make_case(session, age_route="child", rg_due_offset_days=-900).reference
        queues.claim(session, reference, user)
        user_id = user.id
    with pg_app.app_context(), database.transaction() as session:
        session.execute(delete(User).where(User.id == user_id))
    with pg_app.app_context(), database.transaction() as session:
        assert session.scalars(select(Case.claimed_by_id).where(Case.reference == reference)).one() is None
