"""``nrm jobs run`` on several machines at once: each job runs once per interval whoever runs it,
never twice at a time; a failed job, or one whose runner died, is run again by the next runner.
Two apps on one database stand for two machines (SQLite here, PostgreSQL with real concurrency)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select, update

from backend import db, jobs
from backend.app import create_app
from backend.cli import upgrade_database
from backend.models import JobRun
from tests.conftest import backend_test_config, fresh_postgres_url

HOUR = 3600
CASEWORK = ["claims", "recoveries", "retention", "sessions", "audit-anchor", "statistics", "information_requests"]


def _machines(config: dict[str, object], count: int = 2) -> list[Flask]:
    apps = [create_app(dict(config)) for _ in range(count)]
    upgrade_database(apps[0])
    return apps


@pytest.fixture
def two_machines(tmp_path: Path) -> Iterator[list[Flask]]:
    apps = _machines(backend_test_config(tmp_path, JOBS_INTERVAL_SECONDS=HOUR))
    yield apps
    for app in apps:
        db.get_db(app).engine.dispose()


def _ran(outcomes: list[jobs.Outcome]) -> list[str]:
    return [outcome.name for outcome in outcomes if outcome.result == "ran"]


def _row(app: Flask, name: str) -> JobRun:
    with db.get_db(app).transaction(readonly=True) as session:
        row = session.get(JobRun, name)
        assert row is not None
        return row


def test_a_job_run_on_one_machine_is_not_run_again_on_another_within_its_interval(two_machines) -> None:
    first, second = two_machines

    assert _ran(jobs.run_due_jobs(first)) == CASEWORK
    again = jobs.run_due_jobs(second)

    assert _ran(again) == []
    assert {outcome.result for outcome in again} == {"not_due"}
    assert "claims: not due until" in again[0].line
    assert _row(first, "claims").next_due_at == jobs.next_due(_row(first, "claims").last_started_at, HOUR)


def test_a_job_is_due_again_at_the_start_of_the_next_interval_slot() -> None:
    started = datetime(2026, 11, 29, 21, 0, 59, 900000, tzinfo=timezone.utc)

    assert jobs.next_due(started, 60) == datetime(2026, 11, 29, 21, 1, tzinfo=timezone.utc)
    assert jobs.next_due(started, HOUR) == datetime(2026, 11, 29, 22, 0, tzinfo=timezone.utc)
    assert jobs.next_due(started, 0) == started


def test_a_failed_job_stays_due_and_the_next_runner_runs_it(two_machines) -> None:
    first, second = two_machines
    calls: list[str] = []

    def flaky(app: Flask) -> str:
        calls.append(app.name)
        if len(calls) == 1:
            raise RuntimeError("the first try fails")
        return "flaky: done"

    for app in two_machines:
        jobs.add_job(app, "flaky", flaky)

    failed = jobs.run_due_jobs(first)
    assert [(o.name, o.result, o.line) for o in failed][-1] == ("flaky", "failed", "flaky: failed (RuntimeError)")
    retried = jobs.run_due_jobs(second)

    assert _ran(retried) == ["flaky"] and len(calls) == 2
    assert _row(second, "flaky").last_failed_at is not None and _row(second, "flaky").lease_until is None


def test_a_job_running_elsewhere_is_left_to_it_until_its_lease_runs_out(two_machines) -> None:
    first, second = two_machines
    with db.get_db(first).transaction() as session:  # a runner took "claims" and died
        session.add(JobRun(name="claims", lease_until=db.utcnow() + timedelta(minutes=5), runner="other:1"))

    busy = jobs.run_due_jobs(second)
    assert [(o.name, o.result) for o in busy][0] == ("claims", "running")
    assert busy[0].line == "claims: already running on other:1"

    with db.get_db(first).transaction() as session:
        session.execute(update(JobRun).where(JobRun.name == "claims")
                        .values(lease_until=db.utcnow() - timedelta(seconds=1)))
    assert "claims" in _ran(jobs.run_due_jobs(second))


def test_jobs_run_every_keeps_running_due_jobs_until_sigterm(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("NRM_", "DATABASE_URL"))}
    env.update({"NRM_INSTANCE_PATH": str(tmp_path / "instance"), "JOBS_INTERVAL_SECONDS": "3600"})
    nrm = str(Path(sys.executable).with_name("nrm"))
    subprocess.run([nrm, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    loop = subprocess.Popen([nrm, "jobs", "run", "--every", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        lines: list[str] = []
        while time.monotonic() < deadline and sum("not due until" in line for line in lines) < 4:
            lines.append(loop.stdout.readline())  # type: ignore[union-attr]
        loop.send_signal(signal.SIGTERM)
        rest, _ = loop.communicate(timeout=30)
    finally:
        loop.kill()

    assert loop.returncode == 0
    output = "".join(lines) + rest
    assert output.count("claims expired: 0") == 1  # ran once, then not due on the next passes
    assert "claims: not due until" in output


# -- PostgreSQL: two runners at the same moment ---------------------------------------------------


def _counting(counts: dict[str, int], lock: threading.Lock, seconds: float) -> Callable[[Flask], str]:
    def job(app: Flask) -> str:
        with lock:
            counts["slow"] = counts.get("slow", 0) + 1
        time.sleep(seconds)  # still running when the other runner gets to it
        return "slow: done"
    return job


@pytest.mark.postgres
def test_two_runners_at_once_on_postgres_run_each_job_exactly_once(tmp_path: Path) -> None:
    counts: dict[str, int] = {}
    lock = threading.Lock()
    with fresh_postgres_url() as url:
        apps = _machines(backend_test_config(tmp_path, DATABASE_URL=url, JOBS_INTERVAL_SECONDS=HOUR))
        for app in apps:
            jobs.add_job(app, "slow", _counting(counts, lock, 1.0))
        start = threading.Barrier(len(apps))
        results: list[list[jobs.Outcome]] = [[] for _ in apps]

        def runner(number: int) -> None:
            start.wait()
            results[number] = jobs.run_due_jobs(apps[number])

        threads = [threading.Thread(target=runner, args=(number,)) for number in range(len(apps))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with db.get_db(apps[0]).transaction(readonly=True) as session:
            rows = {row.name: row for row in session.scalars(select(JobRun))}
        for app in apps:
            db.get_db(app).engine.dispose()

    ran = [outcome.name for result in results for outcome in result if outcome.result == "ran"]
    assert sorted(ran) == sorted(CASEWORK + ["slow"])  # every job once, none twice, none left out
    assert counts == {"slow": 1}
    assert all(len(result) == len(CASEWORK) + 1 for result in results)
    assert all(row.last_succeeded_at is not None and row.lease_until is None for row in rows.values())
