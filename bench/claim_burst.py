"""Claim-next after a burst of claims: what claim-next's query reads before the burst, just after
it, and once autovacuum has had time to run.

As claims take the cases at the head of the queue, claim-next passes by more and more cases it
may not take yet (still in their recovery period) and, until VACUUM, the dead entries the claims
left in ``ix_cases_queue_unclaimed``; migration 0021 checks the first inside the index and has
the second vacuumed sooner. The figures are ``EXPLAIN (ANALYZE, BUFFERS)`` of claim-next's query
(buffers: shared hit + read; ms; the index walked) and the p50 of the claims of the burst (the
whole claim and its commit, in process, one after another). Run it at an earlier commit for the
figures before a change.

    .venv/bin/python -m bench.claim_burst --cases 200000 --claims 15000 --wait 100

Needs ``DATABASE_URL_PG``; seeds a scratch schema (``bench.queue_scale``), dropped after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from sqlalchemy import Connection, text

CLAIMERS = 8


def _read(connection: Connection, statement: Any) -> tuple[int, float, str]:
    """Buffers claim-next's query touches (shared hit + read), its execution time in ms and the
    index it walks to pick the case."""
    from bench.queue_scale import explain

    plan = explain(connection, statement, analyze=True)[0]
    connection.rollback()
    top = plan["Plan"]
    names = [node.get("Index Name", "") for node in _nodes(top)]
    return (top["Shared Hit Blocks"] + top["Shared Read Blocks"], round(plan["Execution Time"], 3),
            next((name for name in names if name.startswith("ix_cases_queue")), ""))


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(each for child in node.get("Plans", []) for each in _nodes(child))]


def _last_vacuum(connection: Connection) -> Any:
    """When autovacuum last finished vacuuming ``cases`` (None: never)."""
    connection.execute(text("SELECT pg_stat_clear_snapshot()"))
    return connection.execute(text("SELECT last_autovacuum FROM pg_stat_user_tables "
                                   "WHERE relid = 'cases'::regclass")).scalar_one()


def _oldest_snapshot_s(connection: Connection) -> float:
    """Age of the oldest open transaction of another session on this database (its snapshot keeps
    dead rows from being removed, or their index entries from being marked dead): other work on a
    shared server weighs on the figures."""
    return round(connection.execute(text(
        "SELECT coalesce(extract(epoch FROM max(now() - xact_start)), 0) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL")).scalar_one(), 1)


def measure(app: Any, worker_ids: list[int], claims: int, wait: float) -> dict[str, Any]:
    """Read claim-next's query on a clean queue, make a burst of claims, read it again, then wait
    up to ``wait`` seconds for an autovacuum that starts after the burst, and read it once more."""
    from backend import db, queues
    from backend.db import utcnow
    from backend.models import User

    database = db.get_db(app)
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        with database.transaction() as session:
            statement = queues.claim_next_query(session.get(User, worker_ids[0]), utcnow())
        result: dict[str, Any] = {"before burst": _read(connection, statement)}
        took = []
        for i in range(claims):
            with database.transaction() as session:
                started = time.perf_counter()
                assert queues.claim_next(session, session.get(User, worker_ids[i % CLAIMERS])) is not None
                session.commit()
                took.append(time.perf_counter() - started)
        ended = connection.execute(text("SELECT now()")).scalar_one()
        result["claim p50 ms"] = round(1000 * statistics.median(took), 3)
        result["oldest other snapshot s"] = _oldest_snapshot_s(connection)
        _read(connection, statement)  # the first read marks the dead entries it meets (if no snapshot needs them)
        result["after burst"] = _read(connection, statement)
        waited = time.perf_counter()
        while ((_last_vacuum(connection) or ended) <= ended) and time.perf_counter() - waited < wait:
            time.sleep(2)
        result["autovacuum after burst"] = (_last_vacuum(connection) or ended) > ended
        result["waited s"] = round(time.perf_counter() - waited)
        result["after waiting"] = _read(connection, statement)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--claims", type=int, default=15_000, help="claims in the burst")
    parser.add_argument("--wait", type=float, default=100.0, help="seconds to wait for autovacuum")
    options = parser.parse_args()
    os.environ.setdefault("NRM_ENV", "development")
    from backend import auth, db
    from backend.app import create_app
    from backend.cli import upgrade_database
    from backend.crypto import cipher_for
    from bench.queue_scale import scratch_schema, seed

    with scratch_schema(os.environ["DATABASE_URL_PG"]) as url:
        app = create_app({"DATABASE_URL": url})
        upgrade_database(app)
        database = db.get_db(app)
        with app.app_context():
            seed(database.engine, options.cases, cipher_for(database.engine.dialect).encrypt_json({"answers": {}}))
            with database.transaction() as session:
                worker_ids = [auth.create_user(session, f"burst-{i}@example.org", "caseworker",
                                               auth.generate_password()).id for i in range(CLAIMERS)]
            print(f"{options.cases:,} cases, a burst of {options.claims:,} claims; claim-next's query: "
                  "(buffers, ms, index) of EXPLAIN (ANALYZE, BUFFERS)")
            print(measure(app, worker_ids, options.claims, options.wait))
        database.engine.dispose()


if __name__ == "__main__":
    main()
