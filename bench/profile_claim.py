"""Server CPU of one ``POST /api/v1/queues/decision/claim`` in-process, against the bare endpoint,
and where it goes (what ``bench.casework.concurrent_claimers`` drives over HTTP, without the server).

The product (``bench.app``, production settings, the bench's lifted rate limits) on a freshly
seeded SQLite file, or on PostgreSQL with ``--pg URL`` (a new schema of that database, dropped
afterwards), driven through the WSGI app itself: each request is timed in process CPU time, the
claimers taking turns, so the figure is this process's work only (PostgreSQL's own work is not in
it: see ``--explain``).

    .venv/bin/python -m bench.profile_claim                       # CPU ms a claim, SQLite
    .venv/bin/python -m bench.profile_claim --pg "$DATABASE_URL_PG" --cprofile claim
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

from bench import turns
from bench.context import CLAIMERS, Database
from bench.profile_turn import _environ, cpu_times, create_app_for, print_cprofile, print_pyinstrument

CLAIM = "/api/v1/queues/decision/claim"
KINDS = ("bare", "claim")


def _caller(database: Database, kind: str) -> Callable[[int], dict[str, Any]]:
    """The WSGI environ of the ``i``-th request of ``kind`` (claims from the caseworkers in turn)."""
    if kind == "bare":
        return lambda i: _environ(turns.BARE)
    return lambda i: _environ(("POST", CLAIM, "", {
        "Authorization": f"Bearer {database.tokens[f'caseworker-{i % CLAIMERS}']}"}))


def cpu_ms(app: Any, makers: dict[str, Callable[[int], dict[str, Any]]], count: int) -> dict[str, tuple[float, float]]:
    """(median, 10th percentile) process CPU milliseconds of ``count`` requests of each kind; the
    low percentile moves less when other work crowds the machine."""
    return {kind: (1000 * statistics.median(times), 1000 * statistics.quantiles(times, n=10)[0])
            for kind, times in cpu_times(app, makers, count).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="a PostgreSQL URL (default: a new SQLite file)")
    parser.add_argument("--cases", type=int, default=20_000, help="cases seeded (about a tenth wait)")
    parser.add_argument("--count", type=int, default=400, help="requests of each kind")
    parser.add_argument("--profile", choices=KINDS, help="print a pyinstrument profile of this kind (wall time)")
    parser.add_argument("--cprofile", choices=KINDS, help="print a cProfile of this kind in process CPU time")
    options = parser.parse_args()
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        if options.pg:
            from tests.conftest import fresh_postgres_url

            os.environ["DATABASE_URL_PG"] = options.pg
            url = stack.enter_context(fresh_postgres_url())
        else:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
        database = Database("PostgreSQL" if options.pg else "SQLite", url, folder)
        database.prepare(options.cases)
        from bench.app import create_app

        flask_app = create_app_for(database, create_app)
        app = flask_app.wsgi_app
        makers = {kind: _caller(database, kind) for kind in KINDS}
        cpu_ms(app, makers, 30)  # warm: imports, compiled statements, caches
        figures = cpu_ms(app, makers, options.count)
        print(f"{database.name}, {database.waiting:,} waiting: median process CPU a request over "
              f"{options.count} requests")
        for kind in KINDS:
            (median, low), bare = figures[kind], figures["bare"][0]
            print(f"  {kind:5} {median:6.2f} ms (10th percentile {low:5.2f} ms)   {bare / median:.2f}x bare")
        kind = options.profile or options.cprofile
        environs = [_caller(database, kind)(i) for i in range(options.count)] if kind else []
        if options.profile:
            print_pyinstrument(app, environs)
        if options.cprofile:
            print_cprofile(app, environs)
        from backend import db

        db.get_db(flask_app).engine.dispose()


if __name__ == "__main__":
    main()
