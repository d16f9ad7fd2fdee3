"""A few hot statements run straight on the DBAPI cursor of a SQLAlchemy connection.

An SMS or web chat turn runs four or five statements that never change shape. Through
``Connection.execute`` each one cost about 140 microseconds of SQLAlchemy's own work (the
statement's cache key and compiled-cache look-up, an execution context, a result object with its
row processors), against about 12 for the database call and 12 for decrypting the draft
(measured: ``bench.profile_turn``, issue 14): on a turn, more than the whole dialogue step.

Here a statement is compiled once per dialect by SQLAlchemy itself, and its parameters and result
columns are converted by the columns' own types (``EncryptedJSON`` encrypts and decrypts,
``UTCDateTime`` stays aware UTC), exactly as ``Connection.execute`` would. The call goes through
``Connection._cursor_execute``, the path SQLAlchemy's dialects use for their own statements: the
engine's ``before_cursor_execute``/``after_cursor_execute`` events fire (statements are counted and
logged like any other), and a driver error is raised as SQLAlchemy's (``IntegrityError`` for a
duplicate key), as is a parameter no column type can store (a ``StatementError``), with the
parameters hidden (``backend.db.make_engine``). Each statement keeps its DBAPI cursor on its
connection (:func:`_cursors`). Only statements without
expanding (``IN``) parameters or Python-side defaults belong here: nothing of that is applied.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, literal_column
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable


def sql_constant(value: str) -> ColumnElement[str]:
    """The code's own constant ``value`` written into a statement's SQL as a string literal, not
    bound: a hot statement then adapts and binds only its own values (claim-next bound ten
    constants, issue 14). Never for input: that is always bound."""
    return literal_column("'" + value.replace("'", "''") + "'", String)


@dataclass(frozen=True)
class Ran:
    """What a statement gave: its rows (values converted by their columns' types) and row count."""

    keys: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    rowcount: int

    def mappings(self) -> list[dict[str, Any]]:
        """Each row as ``{column key: value}``."""
        return [dict(zip(self.keys, row)) for row in self.rows]

    def scalar_one(self) -> Any:
        (row,) = self.rows
        return row[0]


@dataclass(frozen=True)
class _Plan:
    """A statement compiled for one dialect, with the conversions of its parameters and columns."""

    sql: str
    order: tuple[str, ...] | None
    """The parameters' names in order for a positional paramstyle (SQLite's ``?``), else None."""
    defaults: dict[str, Any]
    """Every parameter with the value the statement gives it (a literal such as ``'draft'``)."""
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]
    keys: tuple[str, ...]
    results: tuple[Callable[[Any], Any] | None, ...]


@lru_cache(maxsize=64)
def _plan(statement: Executable, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    binds = []
    for name, bind in compiled.binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            binds.append((name, processor))
    columns = list(getattr(statement, "selected_columns", ()))
    returning = getattr(statement, "_returning", ())  # UPDATE/INSERT ... RETURNING
    columns = columns or list(returning)
    return _Plan(
        sql=compiled.string,
        order=tuple(compiled.positiontup) if dialect.positional else None,
        defaults=dict(compiled.params),
        binds=tuple(binds),
        keys=tuple(column.key for column in columns),
        results=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns),
    )


def run(connection: Connection, statement: Executable, params: Mapping[str, Any]) -> Ran:
    """Execute ``statement`` with ``params`` in ``connection``'s transaction (begun if need be)."""
    if not connection.in_transaction():
        connection.begin()
    plan = _plan(statement, connection.dialect)
    values = {**plan.defaults, **params}
    try:
        for name, processor in plan.binds:
            values[name] = processor(values[name])
    except Exception as error:  # raised as Connection.execute raises it: a StatementError, values hidden
        connection._handle_dbapi_exception(error, plan.sql, params, None, None)  # noqa: SLF001
    parameters: Any = tuple(values[name] for name in plan.order) if plan.order is not None else values
    kept = _cursors(connection)
    cursor = kept.get(plan.sql)
    if cursor is None:
        if len(kept) >= _KEPT:
            kept.clear()
        cursor = kept[plan.sql] = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        connection._cursor_execute(cursor, plan.sql, parameters)  # noqa: SLF001 (see the module docs)
        fetched = cursor.fetchall() if plan.keys else []  # (psycopg builds a description when asked)
    except BaseException:
        kept.pop(plan.sql, None)  # SQLAlchemy closes the cursor of a failed statement: the next run makes one
        raise
    rowcount = cursor.rowcount
    if any(plan.results):
        fetched = [tuple(value if convert is None or value is None else convert(value)
                         for convert, value in zip(plan.results, row)) for row in fetched]
    return Ran(plan.keys, [tuple(row) for row in fetched], rowcount)


def _cursors(connection: Connection) -> dict[str, Any]:
    """The DBAPI cursors kept on this DBAPI connection, one a statement (by its SQL).

    Kept for the life of the connection (``PoolProxiedConnection.info``, cleared when the pool
    replaces a dead connection): building a psycopg cursor, and the adapters it sets up for a
    statement it did not run last, cost a PostgreSQL turn about a tenth of its database calls'
    CPU (issue 14). Each run reads all its rows, so a kept cursor holds no open result.
    """
    return connection.connection.info.setdefault(_CURSORS, {})  # type: ignore[no-any-return]


_CURSORS = "nrm_statement_cursors"
_KEPT = 64
"""Cursors a connection keeps at most (as many as compiled statements: ``_plan``'s cache)."""


@lru_cache(maxsize=64)
def _row_type(keys: tuple[str, ...]) -> Any:
    return namedtuple("Row", keys, rename=True)  # type: ignore[misc]  # (rename: a key no identifier)


def first(connection: Connection, statement: Executable, params: Mapping[str, Any]) -> Any | None:
    """:func:`run`'s first row, its columns also readable as attributes by key (``row.reference``,
    as a Core ``Row``), or None when there is none."""
    ran = run(connection, statement, params)
    return _row_type(ran.keys)._make(ran.rows[0]) if ran.rows else None
