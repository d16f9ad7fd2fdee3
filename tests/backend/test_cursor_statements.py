"""``backend.cursor_statements``: a statement run on the DBAPI cursor answers, fails and is seen as
it would be through ``Connection.execute``, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError, StatementError

from backend.crypto import FieldCipher, bind_cipher
from backend.cursor_statements import first, run
from backend.db import Base, make_engine
from backend.models import Conversation, InboundMessage
from tests.conftest import fresh_postgres_url

_MESSAGES = InboundMessage.__table__
_CONVERSATIONS = Conversation.__table__
_INSERT = insert(_MESSAGES).values({column.key: bindparam(column.key, type_=column.type) for column in _MESSAGES.c})
_BY_ID = select(*_MESSAGES.c).where(_MESSAGES.c.id == bindparam("sid"))
REPLY = ["Answer with \u00e9, \u0645\u0631\u062d\u0628\u0627 and NUL \x00", {"nested": [1, None, True]}]
AT = datetime(2026, 11, 30, 9, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    def made(url: str) -> Engine:
        engine = make_engine(url)
        bind_cipher(engine, FieldCipher([FieldCipher.generate_key()]))
        Base.metadata.create_all(engine, tables=[_CONVERSATIONS, _MESSAGES])
        return engine

    if request.param == "sqlite":
        engine = made(f"sqlite:///{tmp_path / 'cursor.db'}")
        yield engine
        engine.dispose()
    else:
        with fresh_postgres_url() as url:
            engine = made(url)
            yield engine
            engine.dispose()


def _row(sid: str) -> dict[str, Any]:
    return {"id": sid, "conversation_id": None, "received_at": AT, "reply": REPLY}


def test_a_row_read_on_the_cursor_is_the_row_connection_execute_reads(engine: Engine) -> None:
    with engine.begin() as connection:
        run(connection, _INSERT, _row("SM1"))
        ours = run(connection, _BY_ID, {"sid": "SM1"}).mappings()
        theirs = [dict(row) for row in connection.execute(_BY_ID, {"sid": "SM1"}).mappings()]
    assert ours == theirs == [{"id": "SM1", "conversation_id": None, "received_at": AT, "reply": REPLY}]
    assert ours[0]["received_at"].tzinfo is not None  # aware UTC, as UTCDateTime reads it


def test_the_stored_value_is_encrypted_as_by_connection_execute(engine: Engine) -> None:
    with engine.begin() as connection:
        run(connection, _INSERT, _row("SM1"))
        stored = connection.exec_driver_sql("SELECT reply FROM inbound_messages").scalar_one()
    assert stored.startswith("v2.") and "NUL" not in stored


def test_a_duplicate_key_on_the_cursor_is_sqlalchemys_integrity_error(engine: Engine) -> None:
    """The SMS channel answers a concurrent retry of a MessageSid by catching exactly this."""
    with engine.connect() as connection:
        run(connection, _INSERT, _row("SM1"))
        with pytest.raises(IntegrityError) as raised:
            run(connection, _INSERT, _row("SM1"))
        connection.rollback()
    assert "NUL" not in str(raised.value)  # the parameters are hidden


def test_a_value_no_column_type_stores_is_a_statement_error_without_the_value(engine: Engine) -> None:
    with engine.connect() as connection:
        with pytest.raises(StatementError) as raised:
            run(connection, _INSERT, {**_row("SM1"), "reply": ["lone \ud800 surrogate", "secret answer"]})
        connection.rollback()
    assert "secret answer" not in str(raised.value)


def test_statements_on_the_cursor_are_seen_by_the_engines_cursor_events(engine: Engine) -> None:
    seen: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.begin() as connection:
            run(connection, _INSERT, _row("SM1"))
            assert run(connection, _BY_ID, {"sid": "SM2"}).rows == []
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert seen == ["INSERT", "SELECT"]


def test_first_reads_the_row_by_column_name_as_connection_execute_does_and_none_when_there_is_none(
        engine: Engine) -> None:
    with engine.begin() as connection:
        run(connection, _INSERT, _row("SM1"))
        ours = first(connection, _BY_ID, {"sid": "SM1"})
        theirs = connection.execute(_BY_ID, {"sid": "SM1"}).first()
        assert first(connection, _BY_ID, {"sid": "SM2"}) is None
    assert tuple(ours) == tuple(theirs)
    assert (ours.id, ours.received_at, ours.reply) == ("SM1", AT, REPLY)


def _cursors_seen(engine: Engine) -> tuple[list[Any], Any]:
    """The DBAPI cursors statements run on, in order (and the listener, to remove)."""
    seen: list[Any] = []

    def record(_connection: Any, cursor: Any, *_args: Any) -> None:
        seen.append(cursor)

    event.listen(engine, "before_cursor_execute", record)
    return seen, record


def test_a_statement_run_again_on_one_connection_reuses_its_cursor_and_reads_only_its_own_rows(
        engine: Engine) -> None:
    """A turn's statements keep their cursor across turns (issue 14: building a psycopg cursor
    and its adapters cost about a tenth of a PostgreSQL turn's database calls); the rows a run
    answers are still its own, never what the cursor read the time before."""
    seen, record = _cursors_seen(engine)
    try:
        with engine.begin() as connection:
            run(connection, _INSERT, _row("SM1"))
        with engine.begin() as connection:  # the pool's same connection, a new transaction
            run(connection, _INSERT, _row("SM2"))
            found = run(connection, _BY_ID, {"sid": "SM1"}).mappings()
            missing = run(connection, _BY_ID, {"sid": "SM3"}).rows
            again = run(connection, _BY_ID, {"sid": "SM2"}).mappings()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert [row["id"] for row in found] == ["SM1"] and missing == [] and [row["id"] for row in again] == ["SM2"]
    assert seen[0] is seen[1] and seen[2] is seen[3] is seen[4]  # one cursor per statement
    assert seen[0] is not seen[2]


def test_a_kept_cursor_answers_after_a_failed_statement_and_a_replaced_connection_gets_its_own(
        engine: Engine) -> None:
    seen, record = _cursors_seen(engine)
    try:
        with engine.connect() as connection:
            run(connection, _INSERT, _row("SM1"))
            connection.commit()
            with pytest.raises(IntegrityError):
                run(connection, _INSERT, _row("SM1"))
            connection.rollback()
            run(connection, _INSERT, _row("SM2"))  # the same cursor, after the failure
            connection.commit()
            connection.invalidate()  # a dead connection, replaced by the pool with a new one
        with engine.connect() as connection:
            assert [row["id"] for row in run(connection, _BY_ID, {"sid": "SM2"}).mappings()] == ["SM2"]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert seen[0] is seen[1]  # kept until a statement fails (SQLAlchemy closes that cursor)
    assert seen[3] not in seen[:3]  # a replaced connection's cursors are its own
