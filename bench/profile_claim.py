"""Server CPU of one ``POST /api/v1/queues/decision/claim`` in-process, against the bare endpoint,
and where it goes (what ``bench.casework.concurrent_claimers`` drives over HTTP, without the server).

The product (``bench.app``, production settings, the bench's lifted rate limits) on a freshly
seeded SQLite file, or on PostgreSQL with ``--pg URL`` (a new schema of that database, dropped
afterwards), driven through the WSGI app itself: each request is timed in process CPU time, the
claimers taking turns, so the figure is this process's work only (PostgreSQL's own work is not in
it: see ``--explain``).

    .venv/bin/python -m bench.profile_claim                       # CPU ms a claim, SQLite
    .venv/bin/python -m bench.profile_claim --pg "$DATABASE_URL_PG" --cprofile claim
    .venv/bin/python -m bench.profile_claim --pg "$DATABASE_URL_PG" --next --cprofile claim
    .venv/bin/python -m bench.profile_claim --keep-pg /tmp/pg.json --next   # a schema bench.run kept

``--next`` profiles instead exactly what the "claim next" row times (``bench.casework.claims_in_a_row``:
``backend.queues.claim_next`` and its commit, in process). Both count the round trips a claim
makes to PostgreSQL (each time psycopg waits for the server: a statement, BEGIN, COMMIT).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from bench import turns
from bench.context import CLAIMERS, Database
from bench.postgres_costs import round_trips, server_cpu
from bench.profile_turn import _call, _environ, cpu_times, create_app_for, print_cprofile, print_pyinstrument

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


class ByStatement:
    """Per kind of statement of a claim (its first words: the pick, the claim and its audit event),
    what runs before the first one, and what follows the last one (the commit), the CPU seconds
    the PostgreSQL server process and this process spent on it, summed over the timed claims
    (``spent``: ``{kind: [server, process]}``). ``/proc`` counts in 10 ms ticks: each reading is
    coarse, but their sums over hundreds of claims are not biased (a tick falls in a part as
    often as the part lasts)."""

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = {}
        self._pid: int | None = None
        self._at = (0.0, 0.0)
        self._active = False

    def _charge(self, kind: str, pid: int | None) -> None:
        from bench.servers import cpu_seconds_of

        now = (cpu_seconds_of([pid]) if pid else 0.0, time.process_time())
        if self._pid == pid or self._pid is None:
            totals = self.spent.setdefault(kind, [0.0, 0.0])
            totals[0] += now[0] - self._at[0] if self._pid is not None else 0.0
            totals[1] += now[1] - self._at[1]
        self._pid, self._at = pid, now

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Around one claim (``bench.casework.claims_in_a_row``'s ``timed``)."""
        self._pid, self._at, self._active = None, (0.0, time.process_time()), True
        yield
        self._charge("the commit (after the last statement)", self._pid)
        self._pid, self._active = None, False

    @contextmanager
    def listening(self) -> Iterator[None]:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        def before(connection: Any, *_: Any) -> None:
            if self._active and self._pid is None:
                self._charge("Python before the first statement", connection.connection.dbapi_connection.info.backend_pid)

        def after(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if self._active and self._pid is not None:
                self._charge(" ".join(statement.split()[:3]), self._pid)

        event.listen(Engine, "before_cursor_execute", before)
        event.listen(Engine, "after_cursor_execute", after)
        try:
            yield
        finally:
            event.remove(Engine, "before_cursor_execute", before)
            event.remove(Engine, "after_cursor_execute", after)


def postgres_cpu_a_claim(app: Any, claim: Callable[[int], dict[str, Any]], count: int) -> float:
    """Milliseconds of the PostgreSQL server's CPU a claim over ``count`` claims (after one that
    checks out the connection they use: ``server_cpu`` knows a server process from its checkout)."""
    with server_cpu() as postgres_cpu:
        _call(app, claim(0))
        before = postgres_cpu()
        for i in range(count):
            _call(app, claim(i))
        return 1000 * (postgres_cpu() - before) / count


def claim_next_in_process(database: Database, count: int, cprofile: bool) -> None:
    """What the "claim next" row times, ``count`` claims in a row: p50 wall and CPU, round trips
    and PostgreSQL's own CPU a claim."""
    from bench.casework import claims_in_a_row

    claims_in_a_row(database, 10)  # warm: imports, compiled and prepared statements
    trips: list[int] = []
    postgres: list[float] = []
    with round_trips() as counted, server_cpu() as postgres_cpu:
        @contextmanager
        def timed() -> Iterator[None]:
            before, cpu = counted[0], postgres_cpu()
            yield
            trips.append(counted[0] - before)
            postgres.append(postgres_cpu() - cpu)

        walls, cpus = zip(*claims_in_a_row(database, count, timed))
    on_postgres = database.name == "PostgreSQL"
    print(f"{database.name}, {database.waiting:,} waiting: claim_next and its commit, {count} in a row: "
          f"p50 {1000 * statistics.median(walls):.2f} ms wall, {1000 * statistics.median(cpus):.2f} ms process CPU "
          f"(10th percentile {1000 * statistics.quantiles(cpus, n=10)[0]:.2f} ms)"
          + (f"; {sum(trips) / count:.1f} round trips and {1000 * sum(postgres) / count:.2f} ms of the "
             f"PostgreSQL server's CPU a claim" if on_postgres else ""))
    if on_postgres:
        parts = ByStatement()
        with parts.listening():
            claims_in_a_row(database, count, parts.timed)
        print(f"  where {count} more claims went, ms a claim (PostgreSQL server CPU, this process's CPU; a "
              "statement's part runs from just before it is sent to its last row read):")
        for kind, (server, process) in parts.spent.items():
            print(f"    {kind:45} {1000 * server / count:6.2f}  {1000 * process / count:6.2f}")
    if cprofile:
        import cProfile
        import pstats

        profile = cProfile.Profile(time.process_time)
        claims_in_a_row(database, count, lambda: profile)
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(50)
        stats.sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="a PostgreSQL URL (default: a new SQLite file)")
    parser.add_argument("--keep-pg", type=Path, metavar="FILE",
                        help="use the PostgreSQL schema `bench.run --keep-pg FILE` seeded (its claims given back)")
    parser.add_argument("--cases", type=int, default=20_000, help="cases seeded (about a tenth wait)")
    parser.add_argument("--count", type=int, default=400, help="requests of each kind")
    parser.add_argument("--profile", choices=KINDS, help="print a pyinstrument profile of this kind (wall time)")
    parser.add_argument("--cprofile", choices=KINDS, help="print a cProfile of this kind in process CPU time")
    parser.add_argument("--next", action="store_true",
                        help="claim_next in process, as the claim next row (--cprofile claim: profile it)")
    options = parser.parse_args()
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        if options.keep_pg:
            database = Database.restored(json.loads(options.keep_pg.read_text()), folder)
        elif options.pg:
            from tests.conftest import fresh_postgres_url

            os.environ["DATABASE_URL_PG"] = options.pg
            url = stack.enter_context(fresh_postgres_url())
        else:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
        if not options.keep_pg:
            database = Database("PostgreSQL" if options.pg else "SQLite", url, folder)
            database.prepare(options.cases)
        if options.next:
            claim_next_in_process(database, options.count, options.cprofile == "claim")
            return
        from bench.app import create_app

        flask_app = create_app_for(database, create_app)
        app = flask_app.wsgi_app
        makers = {kind: _caller(database, kind) for kind in KINDS}
        cpu_ms(app, makers, 30)  # warm: imports, compiled statements, caches
        figures = cpu_ms(app, makers, options.count)
        postgres = (f", {postgres_cpu_a_claim(app, makers['claim'], options.count):.2f} ms of the PostgreSQL server's CPU"
                    if database.name == "PostgreSQL" else "")
        with round_trips() as counted:
            for i in range(20):
                _call(app, makers["claim"](i))
        print(f"{database.name}, {database.waiting:,} waiting: median process CPU a request over "
              f"{options.count} requests")
        for kind in KINDS:
            (median, low), bare = figures[kind], figures["bare"][0]
            print(f"  {kind:5} {median:6.2f} ms (10th percentile {low:5.2f} ms)   {bare / median:.2f}x bare")
        print(f"  {counted[0] / 20:.1f} round trips a claim (PostgreSQL){postgres}")
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
