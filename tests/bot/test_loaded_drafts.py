"""A draft read by a plain Core statement (``backend.loaded``) is the session's object, as if the ORM
had loaded it: saved with its row version checked, refreshed when read again, deleted like any
other (issue 14: the turn's reads no longer go through the ORM's loading)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from backend import db
from backend.models import Conversation
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


def test_a_stale_draft_read_as_columns_is_refused_by_the_version_check_not_written_over(
        engine_app: Flask) -> None:
    conversation_id = _draft(engine_app)
    database = db.get_db(engine_app)
    with engine_app.app_context(), database.new_session() as stale_session, database.new_session() as other:
        [stale] = engine.drafts(stale_session, "sms", ADDRESS)
        assert stale in stale_session and stale.id == conversation_id
        stale_session.commit()  # the lock released, the loaded copy kept
        [fresh] = engine.drafts(other, "sms", ADDRESS)
        engine.step(other, fresh, "SA-0412", "responder:1")
        engine.write(other, fresh)
        other.commit()
        engine.step(stale_session, stale, "SA-9999", "responder:1")
        with pytest.raises(StaleDataError):
            engine.write(stale_session, stale)
        stale_session.rollback()
    assert _answers(engine_app, conversation_id)["reference"]["value"] == "SA-0412"


def test_a_draft_read_again_after_a_rollback_is_the_same_object_with_the_stored_state(
        engine_app: Flask) -> None:
    """What a channel's retry loop relies on: the message run again sees the row as it is now."""
    conversation_id = _draft(engine_app)
    database = db.get_db(engine_app)
    with engine_app.app_context(), database.new_session() as retrying, database.new_session() as other:
        [first] = engine.drafts(retrying, "sms", ADDRESS)
        engine.step(retrying, first, "SA-1111", "responder:1")  # applied in memory, then given up
        retrying.rollback()
        [changed] = engine.drafts(other, "sms", ADDRESS)
        engine.step(other, changed, "SA-0412", "responder:1")
        engine.write(other, changed)
        other.commit()
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
