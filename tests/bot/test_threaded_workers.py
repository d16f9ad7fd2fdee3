"""A gunicorn ``gthread`` worker (``nrm serve``: 8 threads) answers its threads' requests on
connections it keeps, instead of opening (and closing) a database connection for some of them
every time (issue 14: gthread cost more server CPU a turn than sync workers)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from backend import db
from bot.cli import DEFAULT_THREADS
from tests.bot.conftest import make_user

ROUNDS = 6


def _connections_opened_by_threads_at_once(app: Flask, threads: int) -> tuple[int, list[int]]:
    """``threads`` web chat operators sending a message each at the same moment, ``ROUNDS`` times:
    how many database connections the app opened meanwhile, and every answer's status."""
    headers = {"Authorization": f"Bearer {make_user(app, 'operator@example.org', 'operator')}"}
    clients = [app.test_client() for _ in range(threads)]
    paths = []
    for client in clients:
        opened = client.post("/api/chat/conversations", json={}, headers=headers)
        paths.append(f"/api/chat/conversations/{opened.get_json()['conversation']}/messages")
    opened_connections: list[Any] = []
    statuses: list[int] = []
    start_line = threading.Barrier(threads)

    def operator(number: int) -> None:
        for count in range(ROUNDS):
            start_line.wait()
            answer = clients[number].post(paths[number], headers=headers, json={
                "text": "BACK" if count % 2 else f"SA-{number:04d}", "client_message_id": str(uuid.uuid4())})
            statuses.append(answer.status_code)

    engine = db.get_db(app).engine
    listener = lambda *_args: opened_connections.append(1)  # noqa: E731
    event.listen(engine, "connect", listener)
    try:
        workers = [threading.Thread(target=operator, args=(number,)) for number in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
    finally:
        event.remove(engine, "connect", listener)
    return len(opened_connections), statuses


@pytest.fixture(params=["sms_app", pytest.param("pg_sms_app", marks=pytest.mark.postgres)])
def any_app(request: pytest.FixtureRequest) -> Flask:
    """The whole product on SQLite (a file) and on PostgreSQL."""
    return request.getfixturevalue(request.param)


def test_a_worker_s_eight_threads_keep_their_database_connections_between_requests(any_app: Flask) -> None:
    """Before: SQLAlchemy's default pool of 5 opened 22 connections for 48 messages on SQLite."""
    opened, statuses = _connections_opened_by_threads_at_once(any_app, DEFAULT_THREADS)
    assert statuses == [200] * (DEFAULT_THREADS * ROUNDS)
    assert opened <= DEFAULT_THREADS  # at most one each, the first time: none opened per request
