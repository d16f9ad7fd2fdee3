"""Audited writes per second with many writers at once, each on its own case.

Every writer runs transactions that append one audit event for its case and then hold the
transaction open for ``work_ms`` (the rest of a request: saving the case, encrypting), as the
lifecycle and the channels do. With one lock for the whole trail those transactions queue one
behind the other; with a chain per case they run side by side. Use PostgreSQL (on SQLite every
write transaction queues anyway). Run: ``python -m bench.audit_throughput [DATABASE_URL]`` (default:
a fresh schema of ``DATABASE_URL_PG``, dropped afterwards), or call :func:`run`.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from typing import Any

from backend import audit, db
from backend.app import create_app
from backend.cli import upgrade_database

from bench.load import together

THREADS = 8
EVENTS_PER_THREAD = 100
WORK_MS = 2.0


def run(database_url: str, threads: int = THREADS, events_per_thread: int = EVENTS_PER_THREAD,
        work_ms: float = WORK_MS) -> dict[str, Any]:
    """Time ``threads`` writers each auditing ``events_per_thread`` events for its own case,
    one transaction per event; the figures (events per second over the whole run)."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": instance, "NRM_ENV": "development"})
        upgrade_database(app)
        database = db.get_db(app)

        def writer(number: int) -> None:
            with app.app_context():
                for _ in range(events_per_thread):
                    with database.transaction() as session:
                        audit.record(session, f"user:{number}", "case.read", f"NRM-2026-{number:06d}",
                                     {"via": "bench"})
                        time.sleep(work_ms / 1000)

        seconds, errors = together(threads, writer)
        database.engine.dispose()
    events = threads * events_per_thread
    return {"engine": database.engine.dialect.name, "threads": threads, "events": events, "work_ms": work_ms,
            "errors": len(errors), "seconds": round(seconds, 3), "events_per_s": round(events / seconds, 1)}


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        print(json.dumps(run(argv[1])))
        return
    from tests.conftest import fresh_postgres_url

    with fresh_postgres_url() as url:
        print(json.dumps(run(url)))


if __name__ == "__main__":
    main(sys.argv)
