"""Concurrent writers on a real database: references never collide, a conversation becomes one case.

Runs on SQLite always, and on PostgreSQL when DATABASE_URL_PG points at a server where the user may
create databases (marked ``postgres``).
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from collections import Counter

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from backend import audit
from backend.app import create_app
from backend.cli import upgrade_database
from backend.db import Base, get_db
from backend.intake import IntakeError, submit
from backend.models import Case, Conversation
from tests.conftest import TINY_SCHEMA, backend_test_config, fresh_postgres_url, tiny_payload


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine_app(request, tmp_path, monkeypatch):
    for key in ("DATABASE_URL", "FIELD_ENCRYPTION_KEY", "SECRET_KEY", "NRM_ENV"):
        monkeypatch.delenv(key, raising=False)
    with ExitStack() as stack:
        extra = {}
        if request.param == "postgresql":
            extra["DATABASE_URL"] = stack.enter_context(fresh_postgres_url())
        app = create_app(backend_test_config(tmp_path, **extra))
        upgrade_database(app)
        yield app
        get_db(app).engine.dispose()


def _run(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def test_metadata_matches_after_upgrade(engine_app):
    with get_db(engine_app).engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_parallel_submissions_get_distinct_consecutive_references(engine_app):
    database = get_db(engine_app)
    references: list[str] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(6):
                with database.transaction() as session:
                    references.append(submit(session, tiny_payload(), None, "t", schema=TINY_SCHEMA).reference)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    _run([threading.Thread(target=worker) for _ in range(4)])
    assert failures == []
    numbers = sorted(int(reference.rsplit("-", 1)[1]) for reference in references)
    assert numbers == list(range(1, 25))
    with database.transaction() as session:
        assert audit.verify(session) == []


def test_racing_submits_of_one_conversation_make_one_case(engine_app):
    database = get_db(engine_app)
    with database.transaction() as session:
        conversation = Conversation(channel="web", address="user:1", state={"x": 1})
        session.add(conversation)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        try:
            with database.transaction() as session:
                submit(session, tiny_payload(), conversation.id, "t", schema=TINY_SCHEMA)
            outcomes.append("case")
        except IntakeError as exc:
            outcomes.append(exc.code)
        except BaseException as exc:  # noqa: BLE001
            outcomes.append(repr(exc))

    _run([threading.Thread(target=worker) for _ in range(4)])
    assert Counter(outcomes) == {"case": 1, "already_submitted": 3}
    with database.transaction() as session:
        assert session.scalar(select(func.count(Case.id))) == 1
