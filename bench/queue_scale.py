"""The decision queue at national scale on PostgreSQL: claim-next, concurrent claimers, first page.

Seeds ``cases`` cases in a scratch schema of the given database (one ``INSERT ... SELECT
generate_series``, then the queue columns by migration 0012's UPDATE; about 12% wait in the
decision queue, as in the issue's measurement), and measures:

- claim-next p50/p95 for one caseworker (the whole call: query, claim, audit event, commit), and
  the p50 of its query alone;
- 8 caseworkers claiming at once for a few seconds: claims/s, duplicates, errors; then again with
  the audit trail switched off, to show what the audit chain's global lock costs;
- the first page of ``GET /api/v1/queues/decision`` (p50, bytes) and this process's peak RSS;
- ``EXPLAIN (ANALYZE, BUFFERS)`` of claim-next's query.

Run: ``python -m bench.queue_scale [CASES]`` with ``DATABASE_URL_PG`` set; or ``run(url, cases)``.
The schema is dropped at the end.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

CLAIMERS = 8
CONCURRENT_SECONDS = 5.0
SINGLE_CLAIMS = 200
PAGE_REQUESTS = 30

SEED_SQL = """
INSERT INTO cases (reference, series, payload, schema_version, route, age_route, fr_location, organisation,
                   status, priority, submitted_at, rg_due_date, cg_not_before, cg_due_date, review_due_date,
                   status_changed_at)
SELECT 'NRM-' || (2000 + i / 1000000) || '-' || lpad((i % 1000000)::text, 6, '0'), 'NRM', :payload, '2.0',
       'nrm', CASE WHEN i % 7 = 0 THEN 'child' ELSE 'adult' END, 'england', 'Bench Organisation ' || (i % 40),
       s.status, i % 7 = 0 OR i % 11 = 0, :now - make_interval(mins => i),
       (:today)::date + (i % 120 - 60), s.cg_not_before, s.cg_not_before + 28,
       CASE WHEN s.status IN ('rg_review', 'cg_review') THEN (:today)::date + (i % 20 - 10) END,
       :now - make_interval(mins => i % 5000)
FROM generate_series(1, :cases) AS i,
LATERAL (SELECT CASE WHEN i % 100 < 10 THEN 'awaiting_rg'
                     WHEN i % 100 < 12 THEN 'awaiting_cg'
                     WHEN i % 100 < 13 THEN 'recovery'
                     WHEN i % 100 < 14 THEN 'rg_review'
                     WHEN i % 100 < 60 THEN 'cg_positive'
                     WHEN i % 100 < 80 THEN 'rg_negative'
                     ELSE 'withdrawn' END AS status,
                (:today)::date + (i % 60 - 45) AS cg_not_before) AS s
"""
"""``cases`` referrals in every state (payload: one encrypted token for all, never read here)."""


def seed(engine: Engine, cases: int, payload_token: str) -> None:
    """Insert ``cases`` cases, place them in the queues as migration 0012 does, and VACUUM ANALYZE."""
    from backend.calendar import uk_date
    from backend.db import utcnow
    from backend.queue_order import BACKFILL_SQL

    now = utcnow()
    with engine.begin() as connection:
        connection.execute(text(SEED_SQL), {"cases": cases, "payload": payload_token, "now": now,
                                            "today": uk_date(now)})
        connection.execute(text(BACKFILL_SQL))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE cases"))


@contextmanager
def scratch_schema(database_url: str, keep: bool = False) -> Iterator[str]:
    """``database_url`` with a new schema first on its search path; the schema is dropped after
    unless ``keep``."""
    from backend.config import normalise_database_url

    base = make_url(normalise_database_url(database_url))
    schema = f"nrm_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        finally:
            if not keep:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def explain(connection: Connection, statement: Any, analyze: bool = False) -> Any:
    """PostgreSQL's plan of a SQLAlchemy statement (JSON), run with its own parameters."""
    compiled = statement.compile(dialect=connection.dialect)
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    return connection.exec_driver_sql(f"EXPLAIN ({options}) {compiled}", compiled.params).scalar()


def plan_text(connection: Connection, statement: Any) -> str:
    compiled = statement.compile(dialect=connection.dialect)
    rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", compiled.params).scalars()
    return "\n".join(rows)


def claim_next_plan(database: Any, which: Any) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of claim-next's first statement for the caseworker ``which``
    (a condition on ``User``) of ``database`` (``backend.db.Database``), in a transaction rolled
    back: the case it picks stays unclaimed."""
    from sqlalchemy import select

    from backend import queues
    from backend.db import utcnow
    from backend.models import User

    with database.transaction(readonly=True) as session:
        statement = queues.claim_next_query(session.scalars(select(User).where(which)).one(), utcnow())
    with database.engine.connect() as connection:
        plan = plan_text(connection, statement)
        connection.rollback()
    return plan


def _percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 2)


def _claimers(app: Any, worker_ids: list[int], seconds: float) -> dict[str, Any]:
    """Each worker claims, commits and claims again until the time is up."""
    from backend import db, queues
    from backend.models import User

    database = db.get_db(app)
    got: list[list[str]] = [[] for _ in worker_ids]
    errors: list[str] = []
    barrier = threading.Barrier(len(worker_ids))

    def claimer(index: int) -> None:
        with app.app_context():
            barrier.wait()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                try:
                    with database.transaction() as session:
                        case = queues.claim_next(session, session.get(User, worker_ids[index]))
                        if case is None:
                            return
                        got[index].append(case.reference)
                except Exception as error:  # noqa: BLE001 - counted and reported
                    errors.append(type(error).__name__)

    threads = [threading.Thread(target=claimer, args=(index,)) for index in range(len(worker_ids))]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    claimed = [reference for references in got for reference in references]
    return {"claims": len(claimed), "claims_per_s": round(len(claimed) / elapsed, 1),
            "duplicates": len(claimed) - len(set(claimed)), "errors": len(errors)}


def run(database_url: str, cases: int = 1_000_000) -> dict[str, Any]:
    """Seed ``cases`` cases on PostgreSQL and measure the queue (see the module docstring)."""
    os.environ.setdefault("NRM_ENV", "development")
    from unittest import mock

    from backend import audit, auth, db, queues
    from backend.app import create_app
    from backend.cli import upgrade_database
    from backend.crypto import cipher_for
    from backend.db import utcnow
    from backend.models import User

    with scratch_schema(database_url) as url:
        app = create_app({"DATABASE_URL": url, "API_RATE_LIMIT": "100000 per minute"})
        upgrade_database(app)
        database = db.get_db(app)
        result: dict[str, Any] = {"cases": cases}
        with app.app_context():
            started = time.perf_counter()
            seed(database.engine, cases, cipher_for(database.engine.dialect).encrypt_json({"answers": {}}))
            result["seed_s"] = round(time.perf_counter() - started, 1)
            with database.engine.connect() as connection:
                result["waiting"] = connection.execute(text(
                    "SELECT count(*) FROM cases WHERE queue = 'decision' AND "
                    "queue_available_on <= CURRENT_DATE")).scalar()
            with database.transaction() as session:
                worker_ids = [auth.create_user(session, f"bench-{i}@example.org", "caseworker",
                                               auth.generate_password()).id for i in range(CLAIMERS + 1)]
                token = auth.create_token(session, session.get(User, worker_ids[0]))

            times, query_times = [], []
            for _ in range(SINGLE_CLAIMS):
                with database.transaction() as session:
                    user = session.get(User, worker_ids[0])
                    statement = queues.claim_next_query(user, utcnow())
                    started = time.perf_counter()
                    session.execute(statement).first()
                    query_times.append(time.perf_counter() - started)
                    session.rollback()
                with database.transaction() as session:
                    user = session.get(User, worker_ids[0])
                    started = time.perf_counter()
                    queues.claim_next(session, user)
                    session.commit()
                    times.append(time.perf_counter() - started)
            result["claim_next_ms"] = {"p50": _percentile(times, 0.5), "p95": _percentile(times, 0.95)}
            with database.engine.connect() as connection:  # the floor on this machine now: one round trip
                rounds = []
                for _ in range(SINGLE_CLAIMS):
                    started = time.perf_counter()
                    connection.execute(text("SELECT 1")).scalar()
                    rounds.append(time.perf_counter() - started)
            result["select_1_ms"] = {"p50": _percentile(rounds, 0.5)}
            result["claim_next_query_ms"] = {"p50": _percentile(query_times, 0.5),
                                             "p95": _percentile(query_times, 0.95)}

            result["concurrent"] = _claimers(app, worker_ids[1:], CONCURRENT_SECONDS)
            with mock.patch.object(audit, "append"):  # what the audit trail costs
                result["concurrent_without_audit"] = _claimers(app, worker_ids[1:], CONCURRENT_SECONDS)

            client = app.test_client()
            page_times, size = [], 0
            for _ in range(PAGE_REQUESTS):
                started = time.perf_counter()
                response = client.get("/api/v1/queues/decision", headers={"Authorization": f"Bearer {token}"})
                page_times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
                size = len(response.data)
            body = response.get_json()
            result["first_page"] = {"p50_ms": _percentile(page_times, 0.5), "bytes": size,
                                    "cases": len(body["cases"]), "count": body["count"], "overdue": body["overdue"]}
            result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

            result["explain_claim_next"] = claim_next_plan(database, User.id == worker_ids[0])
        database.engine.dispose()
    return result


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    result = run(os.environ["DATABASE_URL_PG"], cases)
    plan = result.pop("explain_claim_next")
    print(json.dumps(result, indent=2))
    print(plan)


if __name__ == "__main__":
    main()
