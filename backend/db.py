"""One SQLAlchemy metadata, and an engine + session factory per Flask app.

SQLite is the embedded default, PostgreSQL the multi-worker engine. On SQLite every ORM transaction
starts with ``BEGIN IMMEDIATE``: it takes the database's single write lock up front (waiting up to
the busy timeout), so read-then-write transactions such as "load the conversation, step it, save"
or "allocate the next reference" are applied one after the other instead of failing with
"database is locked" when two arrive together (and when many writers keep the lock busy past the
busy timeout, the BEGIN is tried again rather than failing: ``SQLITE_LOCK_PATIENCE_S``). Before
that BEGIN, writers queue on an in-process lock and, across processes, a lock file's ``flock``,
which wake the next writer at once (``backend.sqlite_writers``), instead of sleeping in SQLite's
busy handler while the lock sits free.
Readers that must not queue behind writers can ask for ``readonly=True`` sessions, which begin
DEFERRED (WAL lets them read during a write) and take neither lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from backend.pool_liveness import ping_when_in_doubt
from backend.sqlite_writers import QueuedConnection

EXTENSION = "nrm_db"
SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_LOCK_PATIENCE_S = 120
"""How long a transaction may wait in all for SQLite's write lock before "database is locked"."""
POOL_SIZE = 8
"""Connections a process keeps for reuse: one for each thread of a gunicorn worker (``nrm serve``'s
default ``--threads``; a larger ``NRM_THREADS`` raises it). With fewer (SQLAlchemy's default is 5),
each request beyond them opened a connection of its own and closed it after, every time: under
gunicorn ``gthread`` that was a new PostgreSQL session (or SQLite connection and its PRAGMAs)
a request."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so Alembic can alter them later (SQLite batch mode needs the names)."""


class Base(DeclarativeBase):
    """The one declarative base: every table of the product is in ``Base.metadata``."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only kind of datetime the models store)."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always aware UTC in Python, whatever the database keeps.

    SQLite has no time zones and hands back naive values; PostgreSQL keeps ``timestamptz``. Both
    read back as aware UTC, so comparisons and hashes give the same answer on either engine.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column; use backend.db.utcnow()")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


@dataclass
class Database:
    """The engine and session factories of one app (kept in ``app.extensions["nrm_db"]``)."""

    engine: Engine
    sessionmaker: sessionmaker[Session]
    readonly_sessionmaker: sessionmaker[Session]
    _closed: threading.local = field(default_factory=threading.local, repr=False)
    """Per thread, the request session :func:`session` closed last, used again by the next."""

    def new_session(self, readonly: bool = False) -> Session:
        """A fresh session; the caller commits or rolls back and closes it."""
        return (self.readonly_sessionmaker if readonly else self.sessionmaker)()

    def request_session(self) -> Session:
        """A read-write session for one request: the one this thread's previous request closed,
        else a new one. A closed session holds nothing (no objects, no transaction, no
        connection) and SQLAlchemy documents it as usable again; building a ``Session`` cost a
        signed SMS turn about 2.5% of its CPU (80-120 us; issue 14)."""
        closed = self._closed.__dict__.pop("session", None)
        return closed if closed is not None else self.sessionmaker()

    def close_request_session(self, db_session: Session) -> None:
        """Close the request's session and keep it for this thread's next request."""
        db_session.close()
        self._closed.session = db_session

    @contextmanager
    def transaction(self, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed if the block succeeds, rolled back if it raises."""
        with self.new_session(readonly) as db_session:
            with db_session.begin():
                yield db_session


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the product's SQLite settings (WAL, foreign keys, busy timeout).

    ``hide_parameters=True`` on every engine, and no caller can turn it off: SQLAlchemy's error
    messages never carry the statement's parameters (answers, reasons, phone numbers), whoever
    logs or prints them. A pool keeps :data:`POOL_SIZE` connections (or ``NRM_THREADS``, if more).
    PostgreSQL's pooled connections are checked before use only when they may have died
    (``backend.pool_liveness``), unless the caller asks for ``pool_pre_ping``.
    """
    parsed = make_url(url)
    kwargs.pop("hide_parameters", None)
    if "poolclass" not in kwargs and parsed.database not in (None, "", ":memory:"):
        kwargs.setdefault("pool_size", max(POOL_SIZE, int(os.environ.get("NRM_THREADS") or 0)))
    if parsed.get_backend_name() == "sqlite":
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        if parsed.database in (None, "", ":memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        else:  # writers queue for the file's write lock on locks that wake them (module docstring)
            connect_args.setdefault("factory", QueuedConnection)
        engine = create_engine(url, connect_args=connect_args, hide_parameters=True, **kwargs)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, hide_parameters=True, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_when_in_doubt(engine)  # not a round trip at every checkout, as pool_pre_ping would be
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """Turn off pysqlite's own transaction handling and begin transactions ourselves.

    pysqlite would otherwise emit a DEFERRED ``BEGIN`` only before the first write, so a SELECT
    followed by an UPDATE could not be serialised; this is SQLAlchemy's documented recipe.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    # The dialect's own BEGIN, not an engine "begin" listener: any engine listener makes SQLAlchemy
    # dispatch events at every begin, statement and commit of the engine (profiled: 3% of a web
    # chat turn's CPU, issue 14). Read-only sessions begin DEFERRED first (:func:`_begin_deferred`).
    engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]


def _begin_immediate(connection: Any) -> None:
    """SQLite's BEGIN for a transaction of ``connection`` (the pool's): ``BEGIN IMMEDIATE``
    (:func:`_begin_patiently`), unless the read-only engine's listener began it DEFERRED."""
    dbapi_connection = connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        _begin_patiently(dbapi_connection, "IMMEDIATE")


def _begin_deferred(connection: Connection) -> None:
    """A read-only session's BEGIN on SQLite (the ``begin`` event of its engine only, which runs
    before the dialect's :func:`_begin_immediate`): DEFERRED, taking no write lock."""
    _begin_patiently(connection.connection.dbapi_connection, "DEFERRED")


def _begin_patiently(dbapi_connection: Any, mode: str) -> None:
    """``BEGIN`` that waits its turn for the write lock: when the busy timeout runs out while
    other writers keep the database busy (a crowd of claimers), try again rather than fail with
    "database is locked", for up to ``SQLITE_LOCK_PATIENCE_S``. Nothing has been done in the
    transaction yet, so trying again is always safe.

    A writer (not ``DEFERRED``) on a file database first queues behind the other writers of this
    process and of the others (:class:`~backend.sqlite_writers.QueuedConnection`), within the same
    patience; the turn is given back if the BEGIN fails, else when the transaction ends."""
    deadline = time.monotonic() + SQLITE_LOCK_PATIENCE_S
    queued = mode != "DEFERRED" and isinstance(dbapi_connection, QueuedConnection)
    if queued:
        dbapi_connection.wait_turn(deadline)
    try:
        while True:
            try:
                dbapi_connection.execute(f"BEGIN {mode}")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() >= deadline:
                    raise
    except BaseException:
        if queued:
            dbapi_connection.give_turn()
        raise


def create_database(url: str, **kwargs: Any) -> Database:
    """Engine plus read-write and read-only session factories for ``url``."""
    engine = make_engine(url, **kwargs)
    readonly_engine = engine.execution_options()  # the same pool, its own events
    if engine.dialect.name == "sqlite":
        event.listen(readonly_engine, "begin", _begin_deferred)
    return Database(
        engine=engine,
        sessionmaker=sessionmaker(bind=engine, expire_on_commit=False),
        readonly_sessionmaker=sessionmaker(bind=readonly_engine, expire_on_commit=False),
    )


def init_app(app: Flask) -> Database:
    """Create the app's database from ``DATABASE_URL`` and close request sessions at teardown."""
    database = create_database(app.config["DATABASE_URL"])
    app.extensions[EXTENSION] = database
    # Close at the end of each request (a test or CLI may keep one app context around many
    # requests, and an open SQLite write transaction would block everyone else) and of each context.
    app.teardown_request(_close_session)
    app.teardown_appcontext(_close_session)
    return database


def get_db(app: Flask | None = None) -> Database:
    """The :class:`Database` of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]


def session() -> Session:
    """The session of the current request (or app context, e.g. a CLI command), made on first use.

    Callers commit explicitly; whatever is not committed is rolled back when the context ends.
    """
    db_session = g.get("_nrm_db_session")
    if db_session is None:
        db_session = get_db().request_session()
        g._nrm_db_session = db_session
    return db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("_nrm_db_session", None)
    if db_session is not None:
        get_db().close_request_session(db_session)


M = TypeVar("M", bound=Base)


def get_for_update(db_session: Session, model: type[M], key: Any) -> M | None:
    """Load one row by primary key and lock it until the transaction ends.

    PostgreSQL takes a row lock (``SELECT ... FOR UPDATE``); SQLite ignores FOR UPDATE but the
    transaction already holds the database's write lock (``BEGIN IMMEDIATE``). ``populate_existing``
    makes sure a copy already in the session is refreshed from the locked row.
    """
    mapper_pk = model.__mapper__.primary_key
    if len(mapper_pk) != 1:
        raise TypeError(f"{model.__name__} has a composite primary key")
    statement = (select(model).where(mapper_pk[0] == key).with_for_update()
                 .execution_options(populate_existing=True))
    return db_session.scalars(statement).one_or_none()
