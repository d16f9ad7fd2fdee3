"""init_backend wires another Flask app (what bot.app does); sessions and row versions behave."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm.exc import StaleDataError

from backend import db
from backend.app import init_backend
from backend.cli import upgrade_database
from backend.db import get_for_update
from backend.models import Conversation
from tests.conftest import backend_test_config


def test_init_backend_on_a_foreign_app(tmp_path, monkeypatch):
    monkeypatch.delenv("FIELD_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    other = Flask("tests")
    other.config["RG_WORKING_DAYS"] = 4  # set before init_backend: kept
    init_backend(other, backend_test_config(tmp_path))
    assert other.instance_path == str(tmp_path / "instance")
    assert (tmp_path / "instance" / "field_encryption_key").exists()
    assert other.config["RG_WORKING_DAYS"] == 4
    assert {"db", "user", "responder", "demo"} <= set(other.cli.commands)
    upgrade_database(other)
    assert other.test_client().get("/healthz").status_code == 200
    db.get_db(other).engine.dispose()


def test_request_session_is_per_context(app):
    """One session per context: contexts open at once never share one, and a context after
    another gets nothing of the last one's (its session is closed, then used again)."""
    with app.app_context():
        first = db.session()
        assert db.session() is first
        first.add(Conversation(id="left-behind", channel="web", address="a", status="draft", state={}))
        with app.app_context():
            assert db.session() is not first
    with app.app_context():
        later = db.session()
        assert not later.in_transaction() and list(later) == [] and not later.new
        assert later.get(Conversation, "left-behind") is None  # never flushed, never committed


def test_stale_conversation_write_is_refused(app):
    database = db.get_db(app)
    with database.transaction() as session:
        conversation = Conversation(channel="cli", address="cli", state={"step": 1})
        session.add(conversation)
    stale = database.new_session(readonly=True)
    stale_copy = stale.get(Conversation, conversation.id)
    stale.commit()
    with database.transaction() as session:
        locked = get_for_update(session, Conversation, conversation.id)
        locked.state = {"step": 2}
    assert locked.version == 2
    stale_copy.state = {"step": 99}
    with pytest.raises(StaleDataError):
        stale.commit()
    stale.close()
    with database.transaction() as session:
        assert session.get(Conversation, conversation.id).state == {"step": 2}
