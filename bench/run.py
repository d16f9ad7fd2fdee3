"""``make bench``: every figure of issue 14 as a ratio or against its target, in one run.

Seeds ``--cases`` cases into a PostgreSQL schema of its own (COPY; created and dropped here) and up
to 100,000 into SQLite, serves the product with werkzeug, gunicorn sync and gunicorn gthread in
processes of their own, drives them over real HTTP on loopback, and prints the table (and writes
``docs/performance.md`` with ``--write``). Every figure that depends on the server is compared with
a bare Flask endpoint (``bench.app``) served by the same server in the same run.

A group of rows is a function ``rows(context) -> list[Row]`` (``bench.report.Row``); a module of
``bench/`` named in ``PLUGINS`` that defines one joins the run as a group of that name.

    make bench                       # 1,000,000 cases on PostgreSQL (about 10 minutes on 2 cores)
    make bench BENCH_CASES=100000    # a quick run
    .venv/bin/python -m bench.run --cases 100000 --only turns,startup
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

from bench import casework, startup, turns
from bench.context import Context, Database
from bench.report import Row, machine, markdown, stamp, text_table

ROOT = Path(__file__).resolve().parent.parent
SQLITE_MAX = 100_000
DIALOGUE_TARGET = 20_000
PLUGINS = ("queue_scale", "dialogue_speed", "audit_throughput")
"""Modules other parts of the work add to ``bench/``: each joins the run if it defines ``rows``."""


def dialogue_rows(context: Context) -> list[Row]:
    """``flows.dialogue.handle`` alone, no HTTP or database, over ``bench.dialogue_speed``'s
    mid-referral mix (answers, lookups, dates, HELP, BACK, REVIEW, EDIT n, a typo, a yes)."""
    from bench import dialogue_speed

    dialogue_speed.run(steps=500)  # the first steps build the route chart and the word caches: not timed
    found = dialogue_speed.run(steps=20_000)
    rate = found["steps_per_second"]
    return [Row("pure dialogue, flows.dialogue.handle", f"{rate:,.0f} steps/s "
                f"({found['steps_per_cpu_second']:,.0f} per CPU second)", f">= {DIALOGUE_TARGET:,}/s",
                rate >= DIALOGUE_TARGET, context.command("dialogue"))]


def startup_rows(context: Context) -> list[Row]:
    return startup.rows(context.command("startup"))


GROUPS: dict[str, Callable[[Context], list[Row]]] = {
    "turns": turns.rows,
    "dialogue": dialogue_rows,
    "pages": casework.page_rows,
    "statistics": casework.statistics_rows,
    "claims": casework.claim_rows,
    "startup": startup_rows,
}
NEEDS_DATABASES = {"turns", "pages", "statistics", "claims"}
POSTGRES_ONLY = {"pages", "statistics"}
"""Groups whose rows are measured on PostgreSQL alone (SQLite is then not seeded)."""


def plugins() -> dict[str, Callable[[Context], list[Row]]]:
    found = {}
    for name in PLUGINS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"bench.{name}":
                raise
            continue
        if hasattr(module, "rows"):
            found[name] = module.rows
    return found


def postgres_url() -> str | None:
    """``DATABASE_URL_PG``, else what ``scripts/system-deps.sh --pg-url`` prints (None if no server)."""
    url = os.environ.get("DATABASE_URL_PG")
    if not url:
        done = subprocess.run(["bash", str(ROOT / "scripts/system-deps.sh"), "--pg-url"], capture_output=True,
                              text=True)
        url = done.stdout.strip() if done.returncode == 0 else None
    return url or None


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases seeded into PostgreSQL")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each timed load run")
    parser.add_argument("--only", default="", help="comma-separated groups: " + ", ".join(GROUPS))
    parser.add_argument("--write", type=Path, default=None, help="write the markdown report here")
    parser.add_argument("--keep-pg", type=Path, default=None, metavar="FILE",
                        help="keep the seeded PostgreSQL schema (its URL, keys and tokens saved in FILE) and "
                             "reuse it in later runs given the same FILE and --cases (claims given back); "
                             "drop it yourself when done (DROP SCHEMA ... CASCADE)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    groups = {**GROUPS, **plugins()}
    chosen = [name for name in args.only.split(",") if name] or list(groups)
    unknown = set(chosen) - set(groups)
    if unknown:
        sys.exit(f"unknown group(s): {', '.join(sorted(unknown))}; known: {', '.join(groups)}")
    context = Context(cases=args.cases, sqlite_cases=min(args.cases, SQLITE_MAX), seconds=args.seconds)
    load_before = os.getloadavg()
    began = time.perf_counter()
    with ExitStack() as stack:
        if NEEDS_DATABASES & set(chosen) or set(chosen) - set(GROUPS):
            _databases(context, stack, args.keep_pg, sqlite=not set(chosen) <= POSTGRES_ONLY)
        rows: list[Row] = []
        for name in chosen:
            print(f"-- {name}", flush=True)
            found = groups[name](context)
            print(text_table(found), flush=True)
            rows += found
    minutes = (time.perf_counter() - began) / 60
    for title, text in context.sections:
        print(f"\n{title}\n{text}")
    print(f"\n{text_table(rows)}\n\n{minutes:.1f} minutes")
    if args.write:
        args.write.write_text(markdown(rows, _preamble(context, minutes, load_before), NOTES, context.sections))
        print(f"wrote {args.write}")


def _databases(context: Context, stack: ExitStack, keep_pg: Path | None = None, sqlite: bool = True) -> None:
    from tests.conftest import fresh_postgres_url  # a schema of its own, dropped afterwards

    databases = []
    if sqlite:
        sqlite_folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="nrm-bench-sqlite-"))
        databases.append(Database("SQLite", f"sqlite:///{sqlite_folder}/bench.db", sqlite_folder))
    url = postgres_url()
    kept = json.loads(keep_pg.read_text()) if keep_pg is not None and keep_pg.exists() else None
    if url is None:
        print("no PostgreSQL (set DATABASE_URL_PG or run scripts/system-deps.sh): SQLite rows only")
    else:
        os.environ["DATABASE_URL_PG"] = url
        pg_folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="nrm-bench-pg-"))
        if kept is not None and kept["cases"] == context.cases:
            print(f"reusing the PostgreSQL schema kept in {keep_pg}", flush=True)
            context.databases.append(Database.restored(kept, pg_folder))
        else:
            schema_url = kept_postgres_url(url) if keep_pg is not None else stack.enter_context(fresh_postgres_url())
            databases.append(Database("PostgreSQL", schema_url, pg_folder))
    for database in databases:
        cases = context.cases if database.name == "PostgreSQL" else context.sqlite_cases
        began = time.perf_counter()
        database.prepare(cases)
        print(f"seeded {database.cases:,} cases ({database.waiting:,} waiting for a decision) into "
              f"{database.name} in {time.perf_counter() - began:.0f} s", flush=True)
        if database.name == "PostgreSQL" and keep_pg is not None:
            keep_pg.write_text(json.dumps(database.saved()))
    context.databases = databases + context.databases


def kept_postgres_url(url: str) -> str:
    """A new schema of the PostgreSQL database at ``url`` that outlives the run (``--keep-pg``)."""
    from bench.queue_scale import scratch_schema

    with scratch_schema(url, keep=True) as schema_url:
        print("keeping the seeded PostgreSQL schema (its URL is in the --keep-pg file)", flush=True)
        return schema_url


def _preamble(context: Context, minutes: float, load_before: tuple[float, float, float]) -> list[str]:
    seeded = "; ".join(f"{d.name}: {d.cases:,} cases, {d.waiting:,} waiting for a decision"
                       for d in context.databases) or "no database rows in this run"
    return [f"Measured {stamp()} by `make bench BENCH_CASES={context.cases}` ({minutes:.1f} minutes).", "",
            f"- Machine: {machine()}{_postgres_version()}.",
            f"- Load average before the run: {load_before[0]:.1f} (other work on the machine slows every "
            f"figure; the ratios, taken against a bare endpoint in the same run, suffer least).",
            f"- Seeded: {seeded}.",
            f"- Each throughput run: {context.seconds:g} s per row, closed loop (each sender sends again as "
            f"soon as it is answered); the p99 rows: open loop at a fixed arrival rate (see below); load "
            f"generator on the same machine."]


def _postgres_version() -> str:
    url = postgres_url()
    if url is None:
        return ""
    from sqlalchemy import create_engine, text

    from backend.config import normalise_database_url

    engine = create_engine(normalise_database_url(url), hide_parameters=True)
    try:
        with engine.connect() as connection:
            return ", PostgreSQL " + str(connection.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


NOTES = [
    "## How each figure is taken",
    "",
    "- **ratio** is our endpoint's throughput divided by the bare endpoint's (`POST /bench/bare`, a "
    "fixed TwiML reply from the same app, `bench/app.py`) on the same server, database and number of "
    "senders; for start-up, our time divided by the bare Flask app's. The two (three with the web chat "
    "rows' floor) are measured in 4 slices each that take turns (bare, ours, ours, bare, ...; "
    "`bench.load.run_alternating`), so that the machine's speed drifting during the run weighs on all alike.",
    "- **server CPU** is the user+system time of the server process and its workers (from `/proc`) "
    "during the run, per request answered.",
    "- **SMS turn**: a signed Twilio webhook from a registered number mid-referral, alternating an "
    "answer and BACK (`bench/turns.py`); 50 numbers, each with its own draft. **Web chat turn**: the "
    "JSON API with a bearer token and a `client_message_id`. Its row also gives the **floor**: "
    "`POST /bench/floor` (`bench/app.py`), a JSON body and a turn's two statements alone (read one row, "
    "then durably update it, on a pooled connection as a turn does), in slices with the bare endpoint "
    "and the turn: the most any turn could reach on that server and database.",
    "- **SMS turn p99**: open loop (`bench.load.run_open`): 50 senders each sending one message every "
    "4 s on average (Poisson arrivals, 12.5 a second in all) for 16 s, whether or not answers keep up; each "
    "latency runs from the time the message was due to the full answer, so a late generator or a "
    "queue in the server counts. The bare endpoint is driven the same way in the same run. (A closed "
    "loop of 50 senders measures the generator's own queueing on 2 shared cores, not the service.)",
    "- **Servers**: werkzeug threaded (`run_simple`), gunicorn `-k sync -w <cores>`, gunicorn "
    "`-k gthread -w <cores> --threads 8` (`bench/servers.py`).",
    "- **claim next**: `backend.queues.claim_next` and its commit, in-process, one caseworker, "
    "30 claims in a row (wall time; the process CPU of the same claims beside it: the rest is "
    "PostgreSQL's work and waiting for a core). **Concurrent claimers**: 8 caseworkers through "
    "`POST /api/v1/queues/decision/claim` on gunicorn gthread; a reference claimed twice is a duplicate; "
    "the load generator's own CPU a claim and how idle the machine was during the run (0%: the "
    "claimers waited for a core).",
    "- **First page**: `GET /api/v1/queues/decision` (bearer token) and `GET /casework/` (signed in), "
    "each on a fresh werkzeug server; RSS is the server's peak resident set (VmHWM, reset just before "
    "the request) while serving it.",
    "- **Statistics**: `GET /api/v1/stats` as an analyst (the latest quarter and the four before it), on a "
    "fresh server: the first request counts the cases and keeps each ended quarter's figures (cold; the "
    "`statistics` job of `nrm jobs run` does this when a quarter ends), the next three read them (the "
    "figure against the target). **Start-up**: from process start to the first "
    "HTTP answer of `/casework/sign-in` (`nrm serve`) or the first line printed (`nrm chat --new`), "
    "median of 5, bytecode cached, against a bare Flask app (one route) served two ways: by gunicorn "
    "with `nrm serve`'s own settings (gthread, the same default workers and threads, preloaded: "
    "`bot.server.server_settings`), the same server, which `nrm serve`'s ratio and verdict use, and by "
    "werkzeug's `run_simple`, shown beside it and used for `nrm chat` (no server) (`bench/startup.py`); "
    "CPU is the user+system time the process and its children (gunicorn's workers) had used by then.",
    "- Seeding (`bench/seed.py`): payloads are real dialogue payloads varied over what statistics "
    "count, one encryption per distinct shape; PostgreSQL by COPY into a schema the bench creates and "
    "drops, SQLite by executemany.",
]


if __name__ == "__main__":
    main()
