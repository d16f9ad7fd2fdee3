"""What the 8 concurrent claimers wait on: the evidence behind the "8 concurrent claimers" row.

Serves the product on gunicorn gthread exactly as that row does (``bench.casework.concurrent_claimers``),
warms it, runs the claimers for a few seconds and reports, from outside the server:

- how many of the claimers' kept-alive connections each gunicorn worker holds (read from ``/proc``
  while they run), the claims each connection got and each worker's CPU: a worker holding most
  connections runs on one core (its GIL) while the other idles;
- PostgreSQL: the states and wait events of the server's own sessions, sampled every 10 ms from
  ``pg_stat_activity`` (``idle in transaction`` / ``ClientRead``: PostgreSQL waiting for the
  worker, between two statements of a claim; ``Lock``: a claim waiting for another's row or lock),
  and the CPU those sessions' backends spent a claim (``/proc``; the walwriter's and others' not in it).

    .venv/bin/python -m bench.claimer_waits                           # SQLite, 20,000 cases
    .venv/bin/python -m bench.claimer_waits --pg "$DATABASE_URL_PG"   # a new schema, dropped after
    .venv/bin/python -m bench.claimer_waits --kept /tmp/claimers-pg.json   # bench.run --keep-pg's
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import load
from bench.casework import warm_claims, worker_cpu
from bench.context import CLAIMERS, Database
from bench.servers import Server, children, cpu_seconds_of

APPLICATION_NAME = "nrm-claimer-waits"
SAMPLE_EVERY_S = 0.01


def connections_per_worker(server: Server) -> dict[int, int]:
    """Established connections to the server's port held by each worker process (``/proc``)."""
    assert server.process is not None
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == server.port:
                established.add(fields[9])  # the socket's inode
    held = {}
    for pid in children(server.process.pid):
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        held[pid] = len(inodes & established)
    return held


def _connect(url: str) -> Any:
    """A psycopg connection (autocommit) to the database of SQLAlchemy URL ``url``."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
                           dbname=parsed.database, autocommit=True)


def _backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends of the server's sessions (its pooled connections, opened while warming)."""
    with _connect(url) as connection:
        return [pid for (pid,) in connection.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                                     (APPLICATION_NAME,))]


def _sample_postgres(url: str, stop: threading.Event, seen: Counter[tuple[Any, ...]]) -> None:
    """Count (state, wait event type, wait event) of the server's sessions until ``stop``."""
    with _connect(url) as connection:
        while not stop.is_set():
            for row in connection.execute("SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                                          "WHERE application_name = %s", (APPLICATION_NAME,)):
                seen[tuple(row)] += 1
            time.sleep(SAMPLE_EVERY_S)


def measure(database: Database, seconds: float, claimers: int = CLAIMERS) -> dict[str, Any]:
    """Run ``claimers`` claimers on a warmed server and gather what they waited on."""
    per_connection: Counter[int] = Counter()
    states: Counter[tuple[Any, ...]] = Counter()
    guard = threading.Lock()
    real_send = load.send

    def counted_send(connection: Any, request: load.Request) -> tuple[int, bytes]:
        answer = real_send(connection, request)
        with guard:
            per_connection[id(connection)] += 1
        return answer

    def claim(s: int, i: int) -> load.Request:
        return ("POST", "/api/v1/queues/decision/claim", "",
                {"Authorization": f"Bearer {database.tokens[f'caseworker-{s}']}"})

    env = dict(database.env)
    if database.name == "PostgreSQL":
        env["DATABASE_URL"] += ("&" if "?" in env["DATABASE_URL"] else "?") + f"application_name={APPLICATION_NAME}"
    with Server("gunicorn-gthread", env) as server:
        warm_claims(server, claim)
        held: list[dict[int, int]] = []
        stop = threading.Event()
        watchers = [threading.Thread(target=lambda: (time.sleep(seconds / 2), held.append(connections_per_worker(server))))]
        if database.name == "PostgreSQL":
            watchers.append(threading.Thread(target=_sample_postgres, args=(env["DATABASE_URL"], stop, states)))
        for watcher in watchers:
            watcher.start()
        backends = _backend_pids(env["DATABASE_URL"]) if database.name == "PostgreSQL" else []
        before, backends_before = worker_cpu(server), cpu_seconds_of(backends)
        load.send = counted_send
        try:
            result = load.run(server.port, claimers, claim, seconds, server.cpu_seconds)
        finally:
            load.send = real_send
        cpu = [after - spent for after, spent in zip(worker_cpu(server), before)]
        backends_cpu = cpu_seconds_of(backends) - backends_before
        stop.set()
        for watcher in watchers:
            watcher.join()
    return {"claimers": claimers, "claims/s": round(result.throughput, 1), "errors": result.errors,
            "server CPU ms a claim": round(result.cpu_ms_per_request, 2),
            "PostgreSQL sessions' CPU ms a claim": round(1000 * backends_cpu / max(1, len(result.latencies)), 2),
            "connections per worker": sorted(held[0].values(), reverse=True) if held else None,
            "claims per connection": sorted(per_connection.values(), reverse=True),
            "workers' CPU s": sorted((round(spent, 2) for spent in cpu), reverse=True),
            "PostgreSQL sessions (state, wait event type, wait event): samples": _share(states)}


def _share(states: Counter[tuple[Any, ...]]) -> list[str]:
    total = sum(states.values()) or 1
    return [f"{100 * count / total:.0f}% {state}" for state, count in states.most_common(8)]


def _database(stack: ExitStack, options: argparse.Namespace) -> Database:
    folder = stack.enter_context(tempfile.TemporaryDirectory())
    if options.kept:
        return Database.restored(json.loads(Path(options.kept).read_text()), folder)
    if options.pg:
        from tests.conftest import fresh_postgres_url

        os.environ["DATABASE_URL_PG"] = options.pg
        database = Database("PostgreSQL", stack.enter_context(fresh_postgres_url()), folder)
    else:
        database = Database("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", folder)
    database.prepare(options.cases)
    return database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="a PostgreSQL URL (a new schema of it, dropped after)")
    parser.add_argument("--kept", help="the file of `bench.run --keep-pg` (its seeded schema)")
    parser.add_argument("--cases", type=int, default=20_000, help="cases seeded (about a tenth wait)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3, help="runs, each on a new server")
    parser.add_argument("--claimers", type=int, default=CLAIMERS,
                        help="claimers at once (1: the server CPU a claim costs without contention)")
    options = parser.parse_args()
    with ExitStack() as stack:
        database = _database(stack, options)
        for _ in range(options.runs):
            print(json.dumps(measure(database, options.seconds, options.claimers)), flush=True)


if __name__ == "__main__":
    main()
