"""A draft read by a plain Core statement (``backend.loaded``) is the session's object, as if the ORM
had loaded it: saved with its row version checked, refreshed when read again, deleted like any
other (issue 14: the turn's reads no longer go through the ORM's loading)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backend import db
from backend.models import Conversation, InboundMessage
from bot import engine, quick_exit

ADDRESS = "+447700900123"


@pytest.fixture(params=["sms_app", pytest.param("pg_sms_app", marks=pytest.mark.postgres)])
def engine_app(request: pytest.FixtureRequest) -> Flask:
    return request.getfixturevalue(request.param)


def _draft(app: Flask) -> str:
    with app.app_context(), db.get_db(app).transaction() as opening:
        return engine.begin(opening, "sms", ADDRESS, None, "en").conversation


def _answers(app: Flask, conversation_id: str) -> dict:
    with app.app_context(), db.get_db(app).transaction() as reading:
        return reading.get(Conversation, conversation_id).state["answers"]


@contextmanager
def _loaded_and_other(app: Flask) -> Iterator[tuple[Session, Conversation, Session]]:
    """A new draft read (locked) by ``engine.drafts`` in one session, and a second session."""
    _draft(app)
    database = db.get_db(app)
    with app.app_context(), database.new_session() as first, database.new_session() as other:
        [draft] = engine.drafts(first, "sms", ADDRESS)
        yield first, draft, other


def _answer_and_commit(session: Session, text: str) -> Conversation:
    """One message applied to the sender's draft in ``session``, as a channel does, committed."""
    [draft] = engine.drafts(session, "sms", ADDRESS)
    engine.step(session, draft, text, "responder:1")
    engine.write(session, draft)
    session.commit()
    return draft


def test_a_stale_draft_read_as_columns_is_refused_by_the_version_check_not_written_over(
        engine_app: Flask) -> None:
    with _loaded_and_other(engine_app) as (stale_session, stale, other):
        assert stale in stale_session
        conversation_id = stale.id
        stale_session.commit()  # the lock released, the loaded copy kept
        _answer_and_commit(other, "SA-0412")
        engine.step(stale_session, stale, "SA-9999", "responder:1")
        with pytest.raises(StaleDataError):
            engine.write(stale_session, stale)
        stale_session.rollback()
    assert _answers(engine_app, conversation_id)["reference"]["value"] == "SA-0412"


def test_a_stale_draft_written_with_its_reply_is_refused_and_the_reply_is_not_kept(engine_app: Flask) -> None:
    """``engine.write`` with rows to add (on PostgreSQL one statement with the draft's UPDATE):
    a stale copy still fails, and the rollback takes its rows back, so a Twilio retry of that
    message is applied to the draft as it is now instead of answered from a reply never given."""
    from bot.sms import _STORE_REPLY

    with _loaded_and_other(engine_app) as (stale_session, stale, other):
        conversation_id = stale.id
        stale_session.commit()
        _answer_and_commit(other, "SA-0412")
        engine.step(stale_session, stale, "SA-9999", "responder:1")
        row = {"id": "SM-stale", "conversation_id": conversation_id, "received_at": db.utcnow(), "reply": ["x"]}
        with pytest.raises(StaleDataError):
            engine.write(stale_session, stale, (_STORE_REPLY, row))
        stale_session.rollback()
    assert _answers(engine_app, conversation_id)["reference"]["value"] == "SA-0412"
    with engine_app.app_context(), db.get_db(engine_app).transaction() as reading:
        assert reading.get(InboundMessage, "SM-stale") is None


def test_a_draft_written_with_rows_stores_the_draft_and_every_row(engine_app: Flask) -> None:
    """The rows given to ``engine.write`` are stored with the draft, several at once and of
    several tables, with the values given."""
    from bot import chat_history
    from bot.sms import _STORE_REPLY

    with _loaded_and_other(engine_app) as (session, draft, _other):
        engine.step(session, draft, "SA-0412", "responder:1")
        at = db.utcnow()
        turns = (chat_history.INSERT, [chat_history.turn(draft.id, "operator", "SA-0412", ["Where?"]),
                                       chat_history.turn(draft.id, "operator", "BACK", ["Ble?", "Where?"])])
        engine.write(session, draft, turns, (_STORE_REPLY, {"id": "SM-1", "conversation_id": draft.id,
                                                            "received_at": at, "reply": ["Where?"]}))
        session.commit()
        conversation_id = draft.id
    with engine_app.app_context(), db.get_db(engine_app).transaction() as reading:
        stored = reading.get(InboundMessage, "SM-1")
        assert (stored.conversation_id, stored.reply, stored.received_at) == (conversation_id, ["Where?"], at)
        assert [line["text"] for line in chat_history.entries(reading, conversation_id)] == [
            "SA-0412", "Where?", "BACK", "Ble?", "Where?"]
        assert reading.get(Conversation, conversation_id).state["answers"]["reference"]["value"] == "SA-0412"


def test_a_draft_read_again_after_a_rollback_is_the_same_object_with_the_stored_state(
        engine_app: Flask) -> None:
    """What a channel's retry loop relies on: the message run again sees the row as it is now."""
    with _loaded_and_other(engine_app) as (retrying, first, other):
        conversation_id = first.id
        engine.step(retrying, first, "SA-1111", "responder:1")  # applied in memory, then given up
        retrying.rollback()
        changed = _answer_and_commit(other, "SA-0412")
        [again] = engine.drafts(retrying, "sms", ADDRESS)
        assert again is first  # one object per row in a session
        assert again.state["answers"]["reference"]["value"] == "SA-0412"
        assert again.version == changed.version
        engine.step(retrying, again, "BACK", "responder:1")
        engine.write(retrying, again)  # no stale copy left: written
        retrying.commit()
    assert _answers(engine_app, conversation_id)["reference"]["value"] == "SA-0412"


def test_a_draft_read_as_columns_is_deleted_by_the_quick_exit(engine_app: Flask) -> None:
    _draft(engine_app)
    with engine_app.app_context(), db.get_db(engine_app).transaction() as session:
        drafts = engine.drafts(session, "sms", ADDRESS)
        assert quick_exit.apply(session, "SAFE", "SAFE", drafts)
    with engine_app.app_context(), db.get_db(engine_app).transaction() as reading:
        assert reading.scalar(select(func.count()).select_from(Conversation)) == 0


def test_the_first_object_made_in_a_fresh_process_is_a_working_orm_object() -> None:
    """A new worker's first turn makes its draft before any ORM query has configured the mappers."""
    code = """
from sqlalchemy import inspect
from sqlalchemy.orm import Session
from backend.loaded import persistent
from backend.models import Conversation
from bot.engine import COLUMNS
with Session() as session:
    draft = persistent(session, Conversation, {column.key: None for column in COLUMNS} | {"id": "c-1", "version": 1})
    assert inspect(draft).persistent and draft in session and draft.id == "c-1"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
