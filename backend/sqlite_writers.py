"""SQLite writers of one process queue for the write lock on a lock of their own, woken at once.

SQLite has one write lock per database. A ``BEGIN IMMEDIATE`` that finds it taken waits in SQLite's
busy handler, which sleeps in growing steps (1, 2, 5, 10, 15, 20, 25 ... 100 ms) instead of waking
when the lock is released: under gunicorn ``gthread`` the lock sat free while the threads that
wanted it slept, and a worker's two cores were half idle (issue 14). Here the write transactions of
one process first take their database's *writer turn*, a ``threading.Lock`` (the kernel wakes the
next waiter as soon as the holder lets go), and only then ``BEGIN IMMEDIATE``; so threads of one
process never meet in SQLite's busy handler, which stays the guard between processes.

The turn is only ever an optimisation: SQLite's own lock decides who writes. Giving the turn back
too early costs a short sleep; keeping it too long would stall the process, so it is given back on
every way a transaction ends: commit, rollback (also the pool's reset when a connection is checked
in, e.g. after an exception), close (an invalidated connection is closed) and, as a last resort,
when the connection object is collected. Readers (``BEGIN DEFERRED``) never take it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

_turns: dict[str, threading.Lock] = {}
_turns_guard = threading.Lock()


def _forget_turns() -> None:
    """A forked child starts with no turns held: a lock another thread of the parent held at the
    fork would otherwise never be given back in the child."""
    global _turns_guard
    _turns.clear()
    _turns_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_turns)


def writer_turn(database: str) -> threading.Lock:
    """The writer turn of the database file ``database``, shared by every connection to it in this
    process (whichever engine made it)."""
    key = os.path.realpath(database)
    turn = _turns.get(key)
    if turn is None:
        with _turns_guard:
            turn = _turns.setdefault(key, threading.Lock())
    return turn


class QueuedConnection(sqlite3.Connection):
    """A pysqlite connection that holds its database's writer turn from :meth:`wait_turn` (just
    before ``BEGIN IMMEDIATE``) until the transaction ends, however it ends.

    Made by ``sqlite3.connect(..., factory=QueuedConnection)``; SQLAlchemy passes ``factory`` on
    from ``connect_args`` (``backend.db.make_engine``, file databases only).
    """

    _held: threading.Lock | None = None
    """The turn while this connection holds it (the very lock taken: a fork may replace the registry's)."""

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
        if not turn.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise sqlite3.OperationalError("database is locked")  # as SQLite's own lock would
        self._held = turn

    def give_turn(self) -> None:
        """Give the writer turn back, if held; the next writer in the queue is woken at once."""
        held, self._held = self._held, None
        if held is not None:
            held.release()

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
