"""The product as ``nrm serve`` serves it, plus a bare endpoint to measure the server itself.

``GET|POST /bench/bare`` answers a fixed TwiML document and does nothing else: the cost of any
Flask endpoint on this server, against which every figure of the bench is a ratio. Settings come
from the environment the bench runner sets (``bench.servers``).

``POST /bench/floor`` is the least any turn does (the web chat rows of ``bench.turns``, and
``bench.turn_floor``): it reads its JSON body and runs two statements on the product's database as
a turn runs them (a pooled connection, in autocommit on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite),
reading and then durably updating one row of ``bench_floor`` (:data:`FLOOR_TABLE`, made by
``bench.turns.make_floor_table``), straight on the driver's cursor.
"""

from __future__ import annotations

import os

from flask import Flask, request

BARE_REPLY = "<Response><Message>ok</Message></Response>"


TURNS_TOGETHER = "BENCH_TURNS_TOGETHER"
"""Set (``bench.threads``): this server's threads run their plain turns at once, as before one
process ran one at a time (``bot.engine._PLAIN_TURNS``), to measure what that lock gives."""


def create_app() -> Flask:
    from bot.app import create_app as product

    app = product()
    if os.environ.get(TURNS_TOGETHER):
        from contextlib import nullcontext

        from bot import engine

        engine._PLAIN_TURNS = nullcontext()  # type: ignore[assignment]  # noqa: SLF001

    @app.route("/bench/bare", methods=["GET", "POST"])
    def bare() -> tuple[str, int, dict[str, str]]:
        return BARE_REPLY, 200, {"Content-Type": "text/xml"}

    @app.post("/bench/floor")
    def floor() -> dict[str, int]:
        return {"n": floor_turn(int(request.get_json()["sender"]))}

    csrf = app.extensions.get("csrf")
    if csrf is not None:
        for view in (bare, floor):
            csrf.exempt(view)  # like the webhook: no form, so no CSRF token
    return app


FLOOR_TABLE = "bench_floor"


def floor_turn(row: int) -> int:
    """Read row ``row``'s count and store it plus one: two statements, the second durable."""
    from backend.db import get_db

    engine = get_db().engine
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            connection.begin()  # BEGIN IMMEDIATE (backend.db), as a SQLite turn
        mark = "%s" if postgres else "?"
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(f"SELECT n FROM {FLOOR_TABLE} WHERE id = {mark}", (row,))
        (count,) = cursor.fetchone()
        cursor.execute(f"UPDATE {FLOOR_TABLE} SET n = {mark} WHERE id = {mark}", (count + 1, row))
        cursor.close()
        connection.commit()
    return count + 1
