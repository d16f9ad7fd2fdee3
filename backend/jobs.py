"""``nrm jobs run``: the periodic jobs, safe to run on every machine at once.

Each part of the product registers its jobs with :func:`add_job` (a job gets the app and returns
a one-line summary); they run in the order registered. Every job has a row in ``job_runs``
(``backend.models.JobRun``), and a runner takes a job only in a short transaction that locks that
row (``SELECT ... FOR UPDATE``: PostgreSQL waits the few milliseconds another runner's claim
takes; SQLite's ``BEGIN IMMEDIATE`` serialises the claims) and finds it

- due: ``next_due_at`` is empty or past, and
- free: no other runner's lease (``lease_until``, :data:`LEASE` from its start) is running.

It then sets the lease, commits and runs the job without holding any lock. On success the job is
due again at the start of the next ``JOBS_INTERVAL_SECONDS`` slot (slots are aligned to the clock,
so runners woken by cron at the top of each minute always find the job due); on failure it stays
due, and the next run anywhere tries it again. A runner that dies mid-job leaves its lease, which
another takes over when it has passed. So with runners on every machine each job runs once per
interval, never twice at a time, and a due job is never left out. ``JOBS_INTERVAL_SECONDS=0``
makes every run run every job (one machine; jobs still never overlap).

Run it from cron on every machine (``* * * * * nrm jobs run``), or keep one loop running on each
(``nrm jobs run --every 60``).
"""

from __future__ import annotations

import math
import os
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend import db, metrics
from backend.models import JobRun

EXTENSION = "nrm_jobs"
LEASE = timedelta(hours=1)
"""Longer than any job takes: a runner that died is taken over after this."""

Job = Callable[[Flask], str]

jobs_cli = AppGroup("jobs", help="Periodic work (claims, recovery periods, retention, purge).")


def add_job(app: Flask, name: str, job: Job) -> None:
    """Register ``job`` to run in ``nrm jobs run`` after those registered before it."""
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = {}
        metrics.add_gauges(app, job_gauges)
    app.extensions[EXTENSION][name] = job


@dataclass(frozen=True)
class Outcome:
    """What one runner did with one job: ``ran``, ``failed``, ``not_due`` or ``running``."""

    name: str
    result: str
    line: str


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def next_due(started: datetime, interval: int) -> datetime:
    """The start of the interval slot after the one ``started`` is in (``started`` for 0)."""
    if interval <= 0:
        return started
    slot = math.floor(started.timestamp() / interval) + 1
    return datetime.fromtimestamp(slot * interval, tz=timezone.utc)


def _ensure_rows(session: Session, names: list[str]) -> None:
    """A ``job_runs`` row for every job (runners starting together insert each only once)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(JobRun).values([{"name": name} for name in names]).on_conflict_do_nothing())


def _claim(session: Session, name: str, now: datetime, runner: str) -> Outcome | None:
    """Take ``name`` for ``runner`` (None), or say why not."""
    row = session.scalars(select(JobRun).where(JobRun.name == name).with_for_update()
                          .execution_options(populate_existing=True)).one()
    if row.next_due_at is not None and row.next_due_at > now:
        return Outcome(name, "not_due", f"{name}: not due until {row.next_due_at:%Y-%m-%d %H:%M:%S} UTC")
    if row.lease_until is not None and row.lease_until > now:
        return Outcome(name, "running", f"{name}: already running on {row.runner}")
    row.lease_until, row.runner, row.last_started_at = now + LEASE, runner, now
    return None


def _finish(session: Session, name: str, started: datetime, ok: bool, interval: int) -> None:
    row = session.get(JobRun, name, with_for_update=True)
    assert row is not None
    row.lease_until = None
    if ok:
        row.last_succeeded_at, row.next_due_at = db.utcnow(), next_due(started, interval)
    else:
        row.last_failed_at = db.utcnow()


def run_due_jobs(app: Flask) -> list[Outcome]:
    """Run every registered job that is due and free (see the module docs), one after another."""
    registered: dict[str, Job] = app.extensions.get(EXTENSION, {})
    database = db.get_db(app)
    interval = int(app.config["JOBS_INTERVAL_SECONDS"])
    runner = runner_id()
    if not registered:
        return []
    with database.transaction() as session:
        _ensure_rows(session, list(registered))
    outcomes = []
    for name, job in registered.items():
        started = db.utcnow()
        with database.transaction() as session:
            refused = _claim(session, name, started, runner)
        if refused is not None:
            outcomes.append(refused)
            continue
        try:
            outcome = Outcome(name, "ran", job(app))
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
            outcome = Outcome(name, "failed", f"{name}: failed ({type(exc).__name__})")
        with database.transaction() as session:
            _finish(session, name, started, outcome.result == "ran", interval)
        outcomes.append(outcome)
    return outcomes


def job_gauges(session: Session, now: datetime) -> Iterator[GaugeMetricFamily]:
    """``nrm_job_last_success_timestamp_seconds{job}`` for ``/metrics`` (alert when it gets old)."""
    family = GaugeMetricFamily("nrm_job_last_success_timestamp_seconds",
                               "When each periodic job last succeeded (Unix time).", labels=["job"])
    for name, succeeded in session.execute(select(JobRun.name, JobRun.last_succeeded_at)
                                           .where(JobRun.last_succeeded_at.is_not(None))):
        family.add_metric([name], succeeded.timestamp())
    yield family


def _echo(outcomes: list[Outcome]) -> bool:
    """Print each outcome; True when a job failed."""
    for outcome in outcomes:
        click.echo(outcome.line, err=outcome.result == "failed")
    return any(outcome.result == "failed" for outcome in outcomes)


@jobs_cli.command("run")
@click.option("--every", type=click.IntRange(min=1), metavar="SECONDS",
              help="Keep running: look for due jobs every SECONDS until stopped (SIGTERM or Ctrl-C).")
def jobs_run(every: int | None) -> None:
    """Run every job that is due and not running elsewhere (safe on every machine at once)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if every is None:
        if _echo(run_due_jobs(app)):
            raise SystemExit(1)
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        _echo(run_due_jobs(app))
        stop.wait(every)
