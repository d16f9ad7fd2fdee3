"""The decision unit's side at scale: claim next, concurrent claimers, the queue's first page, statistics.

Claim next is timed in-process (the query and its commit, without HTTP) on the seeded queue;
concurrent claimers go through the API on gunicorn (several processes, so the database sees real
contention); the first page and statistics through the API and the HTML page on werkzeug (one
process, whose peak RSS is the server's).
"""

from __future__ import annotations

import http.client
import json
import re
import statistics
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, ContextManager
from urllib.parse import urlencode

from bench import load
from bench.context import CLAIMERS, Context, Database
from bench.report import Row
from bench.servers import Server, children, cpu_seconds_of
from bench.turns import BARE

CLAIMS_TIMED = 30
CLAIM_P50_TARGET_MS = 2
CLAIMS_PER_SECOND_TARGET = 500
PAGE_TARGET_MS = 50
RSS_TARGET_MB = 150
STATS_TARGET_S = 1
SLOW_REQUEST_TIMEOUT = 900


def claims_in_a_row(database: Database, count: int = CLAIMS_TIMED,
                    timed: Callable[[], ContextManager[Any]] = nullcontext) -> list[tuple[float, float]]:
    """Wall and process CPU seconds of ``count`` claims in a row by one caseworker: each
    ``backend.queues.claim_next`` and its commit, in a new session whose caseworker is read first
    (not timed); ``timed()`` is entered around each timed claim (a profiler, a counter)."""
    from backend import db
    from backend.models import User
    from backend.queues import claim_next

    app = database.app()
    times = []
    with app.app_context():
        for _ in range(count):
            session = db.get_db(app).new_session()
            user = session.query(User).filter_by(email=database.caseworker_email).one()
            with timed():
                began, cpu = time.perf_counter(), time.process_time()
                case = claim_next(session, user)
                session.commit()
                times.append((time.perf_counter() - began, time.process_time() - cpu))
            session.close()
            assert case is not None, "the seeded queue ran dry"
    db.get_db(app).engine.dispose()
    return times


def claim_next_p50(database: Database, command: str) -> Row:
    walls, cpus = zip(*claims_in_a_row(database))
    p50 = statistics.median(walls) * 1000
    return Row(f"claim next, {database.name}, {database.waiting:,} waiting",
               f"p50 {p50:,.1f} ms, max {max(walls) * 1000:,.1f} ms ({CLAIMS_TIMED} claims in a row; "
               f"process CPU p50 {statistics.median(cpus) * 1000:,.2f} ms)",
               f"p50 <= {CLAIM_P50_TARGET_MS} ms", p50 <= CLAIM_P50_TARGET_MS, command)


def concurrent_claimers(database: Database, seconds: float, command: str) -> Row:
    """:data:`CLAIMERS` caseworkers claiming through the API as fast as they are answered, on a
    server warmed first (:func:`warm_claims`), as the turn rows' servers are (``bench.turns``):
    the figure is the server's steady state, not its workers' first requests. Beside it, the same
    senders on the bare endpoint of the same server (the ratio), and each gunicorn worker's CPU
    during the claims: keep-alive pins each claimer to the worker that accepted its connection, and
    a worker holding most of them is busy (one core: its GIL) while the other idles."""
    claimed: list[str] = []
    empty = [0]  # answers "no unclaimed case is waiting": the queue ran dry
    lock = threading.Lock()

    def claim(s: int, i: int) -> load.Request:
        return ("POST", "/api/v1/queues/decision/claim", "",
                {"Authorization": f"Bearer {database.tokens[f'caseworker-{s}']}"})

    def seen(s: int, status: int, body: bytes) -> None:
        if status == 200:
            case = json.loads(body).get("case")
            with lock:
                if case:
                    claimed.append(case["reference"])
                else:
                    empty[0] += 1

    with Server("gunicorn-gthread", database.env) as server:
        warm_claims(server, claim)
        database.give_back_claims()  # the timed claims start from the queue as seeded
        bare = load.run(server.port, CLAIMERS, lambda s, i: BARE, seconds, server.cpu_seconds)
        workers = worker_cpu(server)
        ticks, generator = _machine_ticks(), time.process_time()
        result = load.run(server.port, CLAIMERS, claim, seconds, server.cpu_seconds, on_response=seen)
        generator, after = time.process_time() - generator, _machine_ticks()
        workers = [spent - before for spent, before in zip(worker_cpu(server), workers)]
    total, idle = after[0] - ticks[0], after[1] - ticks[1]
    duplicates = len(claimed) - len(set(claimed))
    rate = len(claimed) / result.elapsed
    return Row(f"{CLAIMERS} concurrent claimers, {database.name} (gunicorn gthread)",
               f"{rate:,.1f} claims/s vs bare {bare.throughput:,.0f}/s; {duplicates} duplicated, "
               f"{result.errors} errors; server CPU {result.cpu_ms_per_request:.2f} ms a claim vs bare "
               f"{bare.cpu_ms_per_request:.2f} (load generator {1000 * generator / max(1, len(claimed)):.2f} ms); "
               f"machine idle {100 * idle / max(1, total):.0f}%; workers' CPU "
               f"{' + '.join(f'{spent:.2f}' for spent in sorted(workers, reverse=True))} s"
               f"{f'; the queue ran dry ({empty[0]:,} empty answers): seed more cases' if empty[0] else ''}",
               f">= {CLAIMS_PER_SECOND_TARGET}/s, 0 dup., 0 err.",
               rate >= CLAIMS_PER_SECOND_TARGET and not duplicates and not result.errors, command,
               rate / bare.throughput if bare.throughput else None)


WARM_RUNS = 3
WARM_SECONDS = 0.3


def warm_claims(server: Server, claim: Callable[[int, int], load.Request]) -> None:
    """A few short runs of the claimers, each on new connections (so that, whichever worker accepts
    them, every worker is likely to get some): a worker's first claims cost about 100 ms of CPU
    each (SQLAlchemy configures its mappers; each thread compiles the claim's statements)."""
    for _ in range(WARM_RUNS):
        load.run(server.port, CLAIMERS, claim, WARM_SECONDS)


def worker_cpu(server: Server) -> list[float]:
    """CPU seconds so far of each of the server's worker processes (gunicorn's), in pid order."""
    assert server.process is not None
    return [cpu_seconds_of([pid]) for pid in sorted(children(server.process.pid))]


def _machine_ticks() -> tuple[int, int]:
    """All the machine's CPU ticks so far, and its idle ones (idle and iowait, ``/proc/stat``): a
    run during which the machine was never idle waited for the CPU, whoever used it."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(ticks), ticks[3] + ticks[4]


def _timed_get(port: int, path: str, headers: dict[str, str]) -> tuple[float, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SLOW_REQUEST_TIMEOUT)
    began = time.perf_counter()
    status, body = load.send(connection, ("GET", path, None, headers))
    took = time.perf_counter() - began
    connection.close()
    assert status == 200, (path, status, body[:300])
    return took, len(body)


def sign_in(port: int, email: str, password: str) -> dict[str, str]:
    """The session cookie of a caseworker signed in through the sign-in page."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/casework/sign-in")
    response = connection.getresponse()
    page = response.read().decode()
    cookies = _cookies(response, {})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    form = urlencode({"csrf_token": token.group(1), "email": email, "password": password})
    connection.request("POST", "/casework/sign-in", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": _header(cookies)})
    response = connection.getresponse()
    response.read()
    assert response.status in (302, 303), f"sign-in answered {response.status}"
    connection.close()
    return {"Cookie": _header(_cookies(response, cookies))}


def _cookies(response: http.client.HTTPResponse, jar: dict[str, str]) -> dict[str, str]:
    for value in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def _header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def first_page(database: Database, kind: str, command: str) -> Row:
    """The decision queue's first page on a fresh server: latency, size, and the server's peak RSS."""
    with Server("werkzeug", database.env) as server:
        if kind == "HTML":
            path, headers = "/casework/", sign_in(server.port, database.caseworker_email, database.password)
        else:
            path, headers = "/api/v1/queues/decision", {"Authorization": f"Bearer {database.tokens['caseworker-0']}"}
        before = server.peak_rss_mb()
        server.reset_peak_rss()  # not the sign-in's password hashing (argon2 takes 64 MB for a moment)
        took, size = _timed_get(server.port, path, headers)
        if took < 10:  # fast enough to take the median of a few (the first one warms the server)
            took = statistics.median([took, *(_timed_get(server.port, path, headers)[0] for _ in range(4))])
        rss = server.peak_rss_mb()
    ms = took * 1000
    return Row(f"decision queue first page, {kind}, {database.name}, {database.waiting:,} waiting",
               f"{ms:,.0f} ms, {size / 1e6:,.2f} MB; server peak RSS {rss:,.0f} MB while serving it ({before:,.0f} MB before)",
               f"<= {PAGE_TARGET_MS} ms, RSS <= {RSS_TARGET_MB} MB", ms <= PAGE_TARGET_MS and rss <= RSS_TARGET_MB,
               command)


def statistics_rows_of(database: Database, command: str) -> list[Row]:
    """``GET /api/v1/stats`` (the latest quarter and the four before it) on a fresh server: first with
    no quarter kept yet (cold: it counts the cases and keeps the ended quarters' figures, as the
    ``statistics`` job of ``nrm jobs run`` does when a quarter ends), then as every later request."""
    path, headers = "/api/v1/stats", {"Authorization": f"Bearer {database.tokens['analyst']}"}
    with Server("werkzeug", database.env) as server:
        cold, _ = _timed_get(server.port, path, headers)
        warm = statistics.median([_timed_get(server.port, path, headers)[0] for _ in range(3)])
        rss = server.peak_rss_mb()
    what = f"statistics, {database.name}, {database.cases:,} cases (API)"
    return [Row(what, f"{warm:,.2f} s (median of 3, ended quarters kept); server peak RSS {rss:,.0f} MB",
                f"<= {STATS_TARGET_S} s", warm <= STATS_TARGET_S, command),
            Row(f"{what}, cold: no quarter kept yet", f"{cold:,.2f} s (counts 5 quarters from the cases and keeps "
                f"them; `nrm jobs run` does it when a quarter ends)", "reported", None, command)]


def page_rows(context: Context) -> list[Row]:
    postgres = context.database("PostgreSQL")
    return [first_page(postgres, kind, context.command("pages")) for kind in ("API", "HTML")] if postgres else []


def statistics_rows(context: Context) -> list[Row]:
    postgres = context.database("PostgreSQL")
    return statistics_rows_of(postgres, context.command("statistics")) if postgres else []


def _claim_next_plan(database: Database) -> str:
    """Claim-next's plan for the bench's caseworker (``bench.queue_scale.claim_next_plan``)."""
    from backend import db
    from backend.models import User
    from bench.queue_scale import claim_next_plan

    app = database.app()
    with app.app_context():
        try:
            return claim_next_plan(db.get_db(app), User.email == database.caseworker_email)
        finally:
            db.get_db(app).engine.dispose()


def claim_rows(context: Context) -> list[Row]:
    postgres = context.database("PostgreSQL")
    found = [claim_next_p50(postgres, context.command("claims"))] if postgres else []
    if postgres:
        context.sections.append((f"Claim next's plan on PostgreSQL, {postgres.cases:,} cases "
                                 f"({postgres.waiting:,} waiting): `EXPLAIN (ANALYZE, BUFFERS)`",
                                 _claim_next_plan(postgres)))
    return found + [concurrent_claimers(database, context.seconds, context.command("claims"))
                    for database in context.databases]
