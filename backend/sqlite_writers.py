"""SQLite writers queue for the write lock on locks that wake the next writer at once.

SQLite has one write lock per database. A ``BEGIN IMMEDIATE`` that finds it taken waits in SQLite's
busy handler, which sleeps in growing steps (1, 2, 5, 10, 15, 20, 25 ... 100 ms) instead of waking
when the lock is released: under gunicorn the lock sat free while the writers that wanted it slept,
and the workers' cores were partly idle (issue 14). So a write transaction first takes its
database's *writer turn*, then ``BEGIN IMMEDIATE``:

1. in this process, a ``threading.Lock`` (the next thread is woken as soon as the holder lets go);
2. across processes (gunicorn's workers, ``nrm worker``, ``nrm jobs run``), an exclusive ``flock``
   on ``<database>-writer.lock`` beside the database file, taken by the thread holding the first:
   the kernel wakes the next process when it is unlocked, and unlocks it if its process dies.

SQLite's busy handler stays the final guard (a process that does not take the turn, such as the
``sqlite3`` shell, is still waited for there). The turn is only an optimisation: SQLite's own lock
decides who writes. Giving the turn back too early costs a short sleep; keeping it too long would
stall every writer, so it is given back on every way a transaction ends: commit, rollback (also the
pool's reset when a connection is checked in, e.g. after an exception), close (an invalidated
connection is closed) and, as a last resort, when the connection object is collected. Readers
(``BEGIN DEFERRED``) take neither lock.
"""

from __future__ import annotations

import fcntl
import os
import queue
import sqlite3
import stat
import threading
import time
from typing import Any, Callable

LOCK_SUFFIX = "-writer.lock"


class _Turn:
    """One database's writer turn in this process: the threads' lock and the processes' lock file."""

    def __init__(self, database: str) -> None:
        self.threads = threading.Lock()
        self.lock_path = database + LOCK_SUFFIX
        self._fd: int | None = None
        self._mode = stat.S_IMODE(os.stat(database).st_mode) if os.path.exists(database) else 0o600
        self._waiter = _KernelWaiter()

    def _open(self) -> int | None:
        """A new descriptor of the lock file (None if it cannot be made: the busy handler guards)."""
        try:
            return os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, self._mode)
        except OSError:
            return None

    def lock_processes(self, deadline: float) -> int | None:
        """Take the processes' lock by ``deadline``: the descriptor that holds it (None if the lock
        file cannot be made or locked: SQLite's busy handler alone then guards), else raise
        "database is locked". Only the holder of :attr:`threads` calls it."""
        if self._fd is None:
            self._fd = self._open()
        if self._fd is None:
            return None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self._fd
        except BlockingIOError:
            fd = self._open()
            return None if fd is None else _wait_in_kernel(fd, deadline, self._waiter)
        except OSError:  # a file system without flock
            return None

    def unlock_processes(self, fd: int) -> None:
        """Let the next process in (and close a descriptor the waiter locked)."""
        if fd == self._fd:
            fcntl.flock(fd, fcntl.LOCK_UN)
        else:
            _unlock_and_close(fd)

    def forget(self) -> None:
        """Close this process's descriptor of the lock file (in a forked child: the parent's, whose
        lock the parent still holds and unlocks itself)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _unlock_and_close(fd: int) -> None:
    """Unlock, then close: closing alone would keep the lock while a forked child still has a copy
    of the descriptor (``flock`` belongs to the open file, not to the descriptor)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class _KernelWaiter:
    """The thread of a turn that waits in the kernel's ``flock`` for its callers, one wait after
    another (only the holder of the turn's threads' lock waits, :meth:`_Turn.lock_processes`).

    Started once, not once a wait: a thread started and ended per wait cost about 0.1 ms of CPU,
    and with two gunicorn workers about every other write transaction waits for the other process
    (issue 14). A wait whose caller gave up still runs to its end here (see :func:`_wait_in_kernel`),
    so the next wait starts once that one has the lock, as the next writer would anyway."""

    def __init__(self) -> None:
        self._waits: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def run(self, wait: Callable[[], None]) -> None:
        """Run ``wait`` on the waiter's thread, started if it is not running (first use, or in a
        forked child, which has none). Called by the holder of the turn only, one at a time."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve, name="sqlite-writer-turn", daemon=True)
            self._thread.start()
        self._waits.put(wait)

    def _serve(self) -> None:
        while True:
            self._waits.get()()


def _wait_in_kernel(fd: int, deadline: float, waiter: _KernelWaiter) -> int | None:
    """``flock(fd)`` by ``deadline``: ``fd`` once locked (None if it cannot be), else raise
    "database is locked".

    The kernel cannot time a blocking ``flock`` out, so the turn's waiter thread waits in it (on
    a descriptor of its own: ``flock`` on a shared one would succeed at once) while the caller
    waits for the waiter, no longer than the patience; a wait whose caller gave up unlocks (closes
    ``fd``) as soon as it gets the lock."""
    outcome: list[str] = []  # "locked" or "failed" from the waiter, or "abandoned" first
    guard = threading.Lock()
    done = threading.Event()

    def wait() -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # woken by the kernel when the holder unlocks or dies
            got = "locked"
        except OSError:
            got = "failed"
        with guard:
            if outcome or got == "failed":
                _unlock_and_close(fd)
            outcome.append(got)
            done.set()

    waiter.run(wait)
    done.wait(max(0.0, deadline - time.monotonic()))
    with guard:
        if not outcome:
            outcome.append("abandoned")
            raise sqlite3.OperationalError("database is locked")  # as SQLite's own lock would
    return fd if outcome[0] == "locked" else None


_turns: dict[str, _Turn] = {}
_turns_guard = threading.Lock()


def _forget_turns() -> None:
    """A forked child starts with no turns: a lock another thread of the parent held at the fork
    would never be given back in the child, and the parent's lock file descriptors (whose ``flock``
    the child would share) are the parent's."""
    global _turns_guard
    for turn in set(_turns.values()):
        turn.forget()
    _turns.clear()
    _turns_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_turns)


def writer_turn(database: str) -> _Turn:
    """The writer turn of the database file ``database``, shared by every connection to it in this
    process (whichever engine made it, by whichever path)."""
    turn = _turns.get(database)
    if turn is None:
        with _turns_guard:
            key = os.path.realpath(database)
            turn = _turns.get(key) or _Turn(key)
            _turns[key] = _turns[database] = turn
    return turn


class QueuedConnection(sqlite3.Connection):
    """A pysqlite connection that holds its database's writer turn from :meth:`wait_turn` (just
    before ``BEGIN IMMEDIATE``) until the transaction ends, however it ends.

    Made by ``sqlite3.connect(..., factory=QueuedConnection)``; SQLAlchemy passes ``factory`` on
    from ``connect_args`` (``backend.db.make_engine``, file databases only).
    """

    _held: tuple[_Turn, int | None] | None = None
    """While this connection holds the turn: the turn (the very one taken: a fork replaces the
    registry's) and the descriptor holding the processes' lock."""

    def __init__(self, database: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._database = os.fspath(database)

    def wait_turn(self, deadline: float) -> None:
        """Queue for the writer turn until ``deadline`` (``time.monotonic()``), else raise
        "database is locked" as SQLite would. Holding it already (a ``COMMIT`` sent as SQL, which
        does not come through :meth:`commit`) keeps it."""
        if self._held is not None:
            return
        turn = writer_turn(self._database)
        if not turn.threads.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise sqlite3.OperationalError("database is locked")  # as SQLite's own lock would
        try:
            self._held = (turn, turn.lock_processes(deadline))
        except BaseException:
            turn.threads.release()
            raise

    def give_turn(self) -> None:
        """Give the writer turn back, if held: the next writer is woken at once."""
        held, self._held = self._held, None
        if held is not None:
            turn, fd = held
            try:
                if fd is not None:
                    turn.unlock_processes(fd)
            finally:
                turn.threads.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_turn()

    def __del__(self) -> None:
        self.give_turn()
