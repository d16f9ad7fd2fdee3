"""On PostgreSQL the statistics are the same as on SQLite: the GROUP BYs over the quarters, and the
median and 90th percentile (``percentile_cont``, from day histograms counted in SQL).

Needs ``DATABASE_URL_PG`` (see ``tests/backend/test_postgres_claims.py``).
"""

from __future__ import annotations

import pytest

from backend import db
from backend.statistics import as_json, build, parse
from tests.backend.casework_helpers import shared_app
from tests.backend.test_statistics import TODAY, seed_main, seed_small
from tests.conftest import fresh_postgres_url

pytestmark = pytest.mark.postgres


def report_json(app, code: str) -> dict:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return as_json(build(session, parse(code, TODAY), TODAY))


def test_postgres_gives_the_same_report_as_sqlite(tmp_path_factory) -> None:
    reports = []
    with fresh_postgres_url() as url:
        for name, extra in (("pg", {"DATABASE_URL": url}), ("sqlite", {})):
            with shared_app(tmp_path_factory.mktemp(name), **extra) as app:
                with app.app_context(), db.get_db(app).transaction() as session:
                    seed_main(session)
                    seed_small(session)
                assert db.get_db(app).engine.dialect.name == ("postgresql" if name == "pg" else "sqlite")
                reports.append([report_json(app, code) for code in ("2025", "2023", "12m-2025Q2")])
    on_postgres, on_sqlite = reports
    assert on_postgres == on_sqlite
    days = next(t for t in on_postgres[0]["tables"] if t["id"] == "days-to-decision")
    assert days["rows"][1]["cells"][0] == 5.6  # percentile_cont(0.9) of 2, 3, 4, 5, 6
