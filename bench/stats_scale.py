"""How long the published statistics take over a million cases on PostgreSQL (issue 11: <= 1 s).

``run(database_url, cases)`` works in a new schema of that database (dropped afterwards): it
migrates it, seeds ``cases`` cases straight into the statistics columns with ``INSERT ... SELECT
generate_series`` (a few seconds; payloads are one shared dummy token, as statistics never read
them), decisions, panel reviews and reconsiderations for a share of them, spread over 2023 Q1 to
2026 Q3, runs ``VACUUM ANALYZE`` as a live database's autovacuum would, then times the whole report
(every table) for a quarter, a year and a rolling 12 months: once with no quarter kept (cold: it
counts the cases and keeps each quarter's figures, ``backend.statistics.cache``), then as every
later request reads them. Run:
``python -m bench.stats_scale [DATABASE_URL] [CASES] [--keep SCHEMA]`` (``DATABASE_URL_PG`` by
default). ``--keep SCHEMA`` seeds into ``SCHEMA`` only if it holds no cases yet and keeps it
afterwards, so later runs time the reports at once (drop it by hand when done).
"""

from __future__ import annotations

import argparse
import os
import statistics as stats
import tempfile
import time
import uuid
from datetime import date
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PERIODS = ("2026Q3", "2025", "12m-2026Q3")
TODAY = date(2026, 11, 29)
ROUNDS = 3
START, END = "2023-01-01 00:00+00", "2026-10-01 00:00+00"

SEED_CASES = """
INSERT INTO cases (reference, series, payload, schema_version, route, age_route, fr_location, organisation,
                   status, priority, submitted_at, age_group, gender, nationality, organisation_type,
                   police_force, local_authority, exploitation_groups)
SELECT 'B-' || g, CASE WHEN g % 10 = 0 THEN 'DTN' ELSE 'NRM' END, :payload, 'bench',
       CASE WHEN g % 10 = 0 THEN 'dtn' ELSE 'nrm' END, 'adult', 'england', 'The Salvation Army',
       CASE WHEN g % 10 = 0 THEN 'dtn_recorded' ELSE 'awaiting_rg' END, false,
       CAST(:start AS timestamptz) + ((g::bigint * 7919) % :span) * INTERVAL '1 second',
       (ARRAY['adult', 'adult', 'child', 'not-specified'])[1 + g % 4],
       (ARRAY['female', 'male', 'male', 'unknown', NULL])[1 + (g / 7) % 5],
       (CAST(:nationalities AS text[]))[1 + (g * 31) % cardinality(CAST(:nationalities AS text[]))],
       (CAST(:types AS text[]))[1 + (g * 13) % cardinality(CAST(:types AS text[]))],
       (CAST(:forces AS text[]))[1 + (g * 17) % (cardinality(CAST(:forces AS text[])) + 10)],
       CASE WHEN g % 4 = 2 THEN (CAST(:authorities AS text[]))[1 + (g * 23) % cardinality(CAST(:authorities AS text[]))] END,
       1 + (g * 11) % 63
FROM generate_series(1, :cases) AS g
"""
SEED_EVENTS = (
    """INSERT INTO decisions (case_id, stage, outcome, decided_by_id, decided_at, reasons)
       SELECT id, 'rg', CASE WHEN id % 4 = 0 THEN 'negative' ELSE 'positive' END, :user,
              submitted_at + (id % 40) * INTERVAL '1 day', :payload
       FROM cases WHERE route = 'nrm' AND id % 10 < 7""",
    """INSERT INTO decisions (case_id, stage, outcome, decided_by_id, decided_at, reasons)
       SELECT id, 'cg', CASE WHEN id % 5 = 0 THEN 'negative' ELSE 'positive' END, :user,
              submitted_at + (45 + id % 300) * INTERVAL '1 day', :payload
       FROM cases WHERE route = 'nrm' AND id % 10 < 3""",
    """INSERT INTO reviews (case_id, decision_id, outcome, reviewer_id, reviewed_at, reasons)
       SELECT case_id, id, CASE WHEN id % 3 = 0 THEN 'returned' ELSE 'upheld' END, :user,
              decided_at + INTERVAL '12 days', :payload
       FROM decisions WHERE outcome = 'negative' AND id % 2 = 0""",
    """INSERT INTO case_notes (case_id, kind, requested_by, at, reasons)
       SELECT id, 'reconsideration', CASE WHEN id % 2 = 0 THEN 'first_responder' ELSE 'support_provider' END,
              submitted_at + INTERVAL '70 days', :payload
       FROM cases WHERE route = 'nrm' AND id % 50 = 1""",
)


def _app(url: str, instance: str):
    os.environ.update(NRM_INSTANCE_PATH=instance, NRM_ENV="development")
    from backend.app import create_app
    from backend.cli import upgrade_database

    app = create_app({"DATABASE_URL": url})
    upgrade_database(app)
    return app


def _seed(app: Any, cases: int) -> float:
    from backend import auth, db
    from backend.crypto import cipher_for
    from backend.statistics import derived

    database = db.get_db(app)
    started = time.perf_counter()
    with app.app_context(), database.transaction() as session:
        user = auth.create_user(session, "bench-stats@example.org", "caseworker", auth.generate_password()).id
        token = cipher_for(session.get_bind().dialect).encrypt_json({"bench": True})
        session.execute(text(SEED_CASES), {
            "payload": token, "start": START, "cases": cases,
            "span": int((date(2026, 10, 1) - date(2023, 1, 1)).days * 86400),
            "nationalities": sorted(derived.list_entries("nationality"))[:80],
            "types": [kind for kind in derived.ORGANISATION_TYPES for _ in range(3 if kind == "police" else 1)],
            "forces": sorted(derived.force_regions()), "authorities": sorted(derived.list_entries("authority"))})
        for statement in SEED_EVENTS:
            session.execute(text(statement), {"user": user, "payload": token})
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("cases", "decisions", "reviews", "case_notes"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))
    return time.perf_counter() - started


def _time_reports(app: Any) -> dict[str, dict[str, float]]:
    """Per period: the first build with no quarter kept (cold: it counts the cases and keeps the
    figures), then the median and max of ``ROUNDS`` builds that read the kept figures."""
    from backend import db, statistics
    from backend.models import StatisticsQuarter

    timings = {}
    for code in PERIODS:
        period = statistics.parse(code, TODAY)
        with app.app_context(), db.get_db(app).transaction() as session:
            session.query(StatisticsQuarter).delete()
        times = []
        for _ in range(ROUNDS + 1):
            with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
                started = time.perf_counter()
                report = statistics.build(session, period, TODAY)
                times.append(time.perf_counter() - started)
        cold, warm = times[0], times[1:]
        timings[code] = {"cold_s": round(cold, 3), "median_s": round(stats.median(warm), 3),
                         "max_s": round(max(warm), 3), "tables": len(report.tables)}
    return timings


def run(database_url: str, cases: int = 1_000_000, keep: str | None = None) -> dict[str, Any]:
    """Seed ``cases`` cases in a fresh schema of ``database_url`` (PostgreSQL) and time every report;
    with ``keep``, in that schema, seeded only once and kept."""
    from backend.config import normalise_database_url

    base = make_url(normalise_database_url(database_url))
    if base.get_backend_name() != "postgresql":
        raise SystemExit("bench.stats_scale seeds with generate_series: give it a PostgreSQL URL")
    schema = keep or f"nrm_bench_stats_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as instance:
            app = _app(url, instance)
            try:
                seed_seconds = _seed(app, cases) if not keep or not _seeded(app) else 0.0
                reports = _time_reports(app)
            finally:
                from backend import db

                db.get_db(app).engine.dispose()
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    worst = max(timing["median_s"] for timing in reports.values())
    return {"cases": cases, "seed_s": round(seed_seconds, 1), "reports": reports, "worst_median_s": worst,
            "target_s": 1.0, "ok": worst <= 1.0}


def _seeded(app: Any) -> bool:
    from backend import db

    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return session.execute(text("SELECT EXISTS (SELECT 1 FROM cases)")).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stats_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("DATABASE_URL_PG", ""))
    parser.add_argument("cases", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--keep", metavar="SCHEMA", help="seed into SCHEMA once and keep it")
    args = parser.parse_args()
    if not args.url:
        raise SystemExit("usage: python -m bench.stats_scale DATABASE_URL [CASES] (or set DATABASE_URL_PG)")
    result = run(args.url, args.cases, args.keep)
    for code, timing in result["reports"].items():
        print(f"statistics over {args.cases:,} cases, {code}: {timing['tables']} tables in {timing['median_s']:.3f} s "
              f"(median of {ROUNDS}, max {timing['max_s']:.3f} s; target <= 1 s); cold, nothing kept yet: "
              f"{timing['cold_s']:.3f} s")


if __name__ == "__main__":
    main()
