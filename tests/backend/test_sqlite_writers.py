"""SQLite writers of one process take turns on an in-process lock (``backend.sqlite_writers``):
the next writer starts as soon as the last one ends, never sleeping in SQLite's busy handler, and
the turn is given back however a transaction ends, so a crash never stalls the other writers."""

from __future__ import annotations

import fcntl
import gc
import os
import subprocess
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import event, exc, text

from backend import db
from backend.sqlite_writers import writer_turn
from bench.load import together

WRITERS = 8
WRITES_EACH = 10
HOLD_S = 0.004
"""Each write transaction keeps the write lock this long (sleeping, so other threads may run)."""
PATIENCE_S = 1.0
LOCKED = (sqlite3.OperationalError, exc.OperationalError)
"""What a writer that ran out of patience gets, as before the queue (raised from the BEGIN)."""


@pytest.fixture()
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> db.Database:
    """A file database with one table, whose writers give up after :data:`PATIENCE_S`."""
    monkeypatch.setattr(db, "SQLITE_LOCK_PATIENCE_S", PATIENCE_S)
    database = db.create_database(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    with database.transaction() as session:
        session.execute(text("CREATE TABLE note (writer INTEGER, n INTEGER)"))
    yield database
    database.engine.dispose()


def _write(database: db.Database, writer: int = 0, n: int = 0) -> None:
    with database.transaction() as session:
        session.execute(text("INSERT INTO note VALUES (:w, :n)"), {"w": writer, "n": n})


def _in_thread(work: Callable[[], object], timeout: float = 10) -> object:
    """``work()`` on another thread (another request): its result, or the exception it raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout)
    assert outcome, "still waiting"
    return outcome[0]


def test_writers_of_one_process_never_find_the_write_lock_taken_by_each_other(database, monkeypatch):
    """Eight threads write at once, each keeping the write lock a while: every BEGIN IMMEDIATE
    gets the lock at its first try, as the others queue in-process and are woken when it is free,
    instead of meeting it taken and sleeping in SQLite's busy handler (1, 2, 5 ... 100 ms steps).
    The busy timeout is 0 here, so a BEGIN that met the lock would show as a second try."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 0)
    monkeypatch.setattr(db, "SQLITE_LOCK_PATIENCE_S", 60)  # a BEGIN that meets the lock tries again
    writers = db.create_database(str(database.engine.url))
    begins: list[str] = []

    @event.listens_for(writers.engine, "checkout")
    def _trace(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.set_trace_callback(lambda sql: sql.startswith("BEGIN") and begins.append(sql))

    def writer(index: int) -> None:
        for n in range(WRITES_EACH):
            with writers.transaction() as session:
                session.execute(text("INSERT INTO note VALUES (:w, :n)"), {"w": index, "n": n})
                time.sleep(HOLD_S)

    _, errors = together(WRITERS, writer)
    writers.engine.dispose()
    assert not errors
    assert len(begins) == WRITERS * WRITES_EACH, f"{len(begins) - WRITERS * WRITES_EACH} BEGINs found the lock taken"
    with database.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM note")).scalar() == WRITERS * WRITES_EACH


def test_an_exception_inside_a_write_transaction_gives_the_writers_turn_back(database):
    with pytest.raises(ZeroDivisionError):
        with database.transaction() as session:
            session.execute(text("INSERT INTO note VALUES (1, 1)"))
            1 / 0
    assert _in_thread(lambda: _write(database)) is None  # not "database is locked" after the patience


def test_a_failed_statement_and_an_abandoned_session_give_the_writers_turn_back(database):
    session = database.new_session()
    session.execute(text("INSERT INTO note VALUES (1, 1)"))
    with pytest.raises(exc.OperationalError):
        session.execute(text("INSERT INTO no_such_table VALUES (1)"))
    del session  # never rolled back nor closed: a request that crashed
    gc.collect()
    assert _in_thread(lambda: _write(database)) is None


def test_an_invalidated_connection_gives_the_writers_turn_back(database):
    connection = database.engine.connect()
    connection.begin()
    connection.execute(text("INSERT INTO note VALUES (1, 1)"))
    connection.invalidate()  # e.g. after a disconnect: the DBAPI connection is closed, not rolled back
    assert _in_thread(lambda: _write(database)) is None
    connection.close()


@pytest.mark.serial  # a timing threshold: run alone (Makefile)
def test_a_writer_that_waits_longer_than_the_patience_fails_as_sqlite_would_and_the_next_gets_in(database):
    with database.transaction() as holder:
        holder.execute(text("INSERT INTO note VALUES (1, 1)"))
        started = time.monotonic()
        failed = _in_thread(lambda: _write(database, 2))
        waited = time.monotonic() - started
    assert isinstance(failed, LOCKED) and "database is locked" in str(failed)
    assert PATIENCE_S * 0.9 <= waited < PATIENCE_S + 5
    assert _in_thread(lambda: _write(database, 3)) is None


def test_a_begin_that_fails_against_another_process_gives_the_writers_turn_back(database, tmp_path, monkeypatch):
    """Another process (a connection of its own, outside the product's queues) keeps the write lock
    past the patience: the BEGIN fails with "database is locked" as before, and once the other
    process commits, this process's writers get in."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 50)  # else SQLite's busy handler outwaits the patience
    database = db.create_database(str(database.engine.url))
    other = sqlite3.connect(tmp_path / "writers.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    failed = _in_thread(lambda: _write(database, 2))
    assert isinstance(failed, LOCKED) and "database is locked" in str(failed)
    other.execute("COMMIT")
    other.close()
    assert _in_thread(lambda: _write(database, 3)) is None
    database.engine.dispose()


def test_readers_do_not_queue_behind_a_writer(database):
    with database.transaction() as writer:
        writer.execute(text("INSERT INTO note VALUES (1, 1)"))

        def read() -> int:
            with database.transaction(readonly=True) as reader:
                return reader.execute(text("SELECT count(*) FROM note")).scalar()

        assert _in_thread(read) == 0  # the writer's row is not committed yet; no wait for it


def test_a_write_transaction_takes_the_write_lock_at_its_begin_and_a_read_only_one_does_not(database):
    """Writers BEGIN IMMEDIATE and read-only sessions DEFERRED, with no listener on the writers'
    engine: any engine listener makes SQLAlchemy dispatch events at every begin, statement and
    commit of every turn (issue 14)."""
    assert not database.engine._has_events  # noqa: SLF001
    with database.transaction(readonly=True) as reader:
        reader.execute(text("SELECT count(*) FROM note"))
        assert _in_thread(lambda: _write(database, 1)) is None  # the reader holds no write lock
    with database.transaction() as writer:
        writer.connection()  # begun: nothing run yet
        failed = _in_thread(lambda: _write(database, 2), timeout=PATIENCE_S + 10)
    assert isinstance(failed, LOCKED) and "database is locked" in str(failed)


OTHER_PROCESS = """
import sys, time
from sqlalchemy import text
from backend import db
from backend.sqlite_writers import writer_turn
from bench.load import together
database = db.create_database(sys.argv[1])
for line in sys.stdin:
    if line.strip() == "crash":
        with database.transaction() as session:
            session.execute(text("INSERT INTO note VALUES (9, 9)"))
            print("held", flush=True)
            time.sleep(60)
    with database.transaction() as session:
        session.execute(text("INSERT INTO note VALUES (9, 9)"))
        print("held", flush=True)
        time.sleep(float(line))
    print(time.time(), flush=True)
"""
"""Another process of the product (a second gunicorn worker): on each line of its input, a write
transaction that keeps the write lock that many seconds, then the time it committed; or, on
"crash", one that keeps it until the process is killed."""


@pytest.fixture()
def other_process(database):
    process = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, str(database.engine.url)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2])
    yield process
    process.kill()
    process.wait()


@pytest.mark.serial  # a timing threshold: run alone (Makefile)
def test_a_writer_starts_as_soon_as_another_process_commits_instead_of_sleeping(database, other_process,
                                                                               monkeypatch):
    """Another process holds the write lock for a second, three times: each time, this process's
    writer starts at once when it commits, not after a sleep of SQLite's busy handler (by then
    100 ms steps)."""
    monkeypatch.setattr(db, "SQLITE_LOCK_PATIENCE_S", 30)
    gaps = []
    for round_ in range(3):
        other_process.stdin.write("1\n")
        other_process.stdin.flush()
        assert other_process.stdout.readline().strip() == "held"

        def write() -> float:
            with database.transaction() as session:
                session.execute(text("INSERT INTO note VALUES (1, :n)"), {"n": round_})
                return time.time()  # the write lock is ours from here

        began = _in_thread(write)
        gaps.append(began - float(other_process.stdout.readline()))
    # SQLite's busy handler sleeps in 100 ms steps by then (30-39 ms on average, measured); a
    # woken writer only waits to be scheduled, which a busy CI machine may stretch a little
    assert sum(gaps) / len(gaps) < 0.020, [f"{gap * 1000:.1f} ms" for gap in gaps]


def test_writers_that_wait_for_another_process_share_one_waiting_thread(database, monkeypatch):
    """Another process holds the processes' lock three times (a descriptor of its own: ``flock``
    belongs to the open file) and lets go a moment later: each writer waits for it in the kernel,
    all on the one thread of the turn, not a thread started per wait (0.1 ms of CPU each, issue 14)."""
    started: list[str] = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda thread: (started.append(thread.name), start(thread))[1])
    lock_path = writer_turn(str(database.engine.url.database)).lock_path
    for writer in range(3):
        other = os.open(lock_path, os.O_RDWR)
        fcntl.flock(other, fcntl.LOCK_EX)
        threading.Timer(0.05, os.close, [other]).start()
        _write(database, writer)
    assert started.count("sqlite-writer-turn") == 1
    with database.transaction(readonly=True) as reader:
        assert reader.execute(text("SELECT count(*) FROM note")).scalar() == 3


def test_a_process_killed_inside_a_write_transaction_lets_the_other_processes_write(database, other_process):
    other_process.stdin.write("crash\n")
    other_process.stdin.flush()
    assert other_process.stdout.readline().strip() == "held"
    other_process.kill()  # SIGKILL: no rollback, no unlock; the kernel lets go of its locks
    other_process.wait()
    assert _in_thread(lambda: _write(database)) is None


@pytest.mark.serial  # a timing threshold: run alone (Makefile)
def test_a_writer_that_waits_for_another_process_longer_than_the_patience_fails_and_blocks_nobody(
        database, other_process):
    other_process.stdin.write("3\n")  # keeps the write lock three times the patience
    other_process.stdin.flush()
    assert other_process.stdout.readline().strip() == "held"
    started = time.monotonic()
    failed = _in_thread(lambda: _write(database, 2))
    assert isinstance(failed, LOCKED) and "database is locked" in str(failed)
    assert time.monotonic() - started < PATIENCE_S + 1.5  # not SQLite's busy timeout (15 s)
    float(other_process.stdout.readline())  # committed
    assert _in_thread(lambda: _write(database, 3)) is None
    other_process.stdin.write("0\n")  # and the other process writes again: nothing of ours kept the lock
    other_process.stdin.flush()
    assert other_process.stdout.readline().strip() == "held"
    float(other_process.stdout.readline())


def test_a_process_forked_while_a_writer_holds_the_turn_does_not_inherit_it(database):
    """A child forked while a thread writes (gunicorn forks its workers) starts with the turn free:
    an inherited held lock would make its every writer wait out the patience. (SQLite itself needs
    the child to open connections of its own: it does not check the file lock here.)"""
    path = database.engine.url.database
    with database.transaction() as holder:
        holder.execute(text("INSERT INTO note VALUES (1, 1)"))
        assert writer_turn(path).threads.locked()
        pid = os.fork()
        if pid == 0:
            os._exit(0 if writer_turn(path).threads.acquire(timeout=0) else 1)
    assert os.waitpid(pid, 0)[1] == 0
