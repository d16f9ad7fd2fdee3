"""What a web chat turn costs above an SMS turn, and what it keeps (issue 14, the chat row).

The conversation's locked read and the transcript's lines run on the DBAPI cursor
(``backend.cursor_statements``), not through ``Connection.execute`` (about 140 microseconds of
SQLAlchemy's own work a statement, profiled); a turn's lines are one row, sealed once, read back in
the order shown on SQLite and PostgreSQL alike, as are the one-line rows of older transcripts; answers are written by orjson, the same body for a
retry; the chat's rate limit is one hit of the store (``backend.limits.limit_blueprint_by_hook``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from backend import db, limit_storage
from backend.crypto import FieldCipher
from backend.db import utcnow
from backend.models import ChatMessage
from bot import chat_history
from tests.bot.conftest import make_user
from tests.bot.test_rate_limits import ATTACKER, assert_throttled_json, client_at, limited  # noqa: F401
from tests.bot.test_turn_cost import _bearer_chat, _on_postgresql, engine_app, tally  # noqa: F401 (fixtures)

_DRAFT_TABLES = re.compile(r"\b(conversations|chat_messages|chat_replies)\b")


@contextmanager
def executed(app: Flask) -> Iterator[list[str]]:
    """The SQL of every statement run through ``Connection.execute`` while the block runs."""
    engine = db.get_db(app).engine
    seen: list[str] = []

    def on_execute(_connection: Any, clauseelement: Any, *_args: Any) -> None:
        seen.append(str(clauseelement))

    event.listen(engine, "before_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_execute", on_execute)


def _history(app: Flask, conversation: str) -> list[tuple[str, str]]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return [(entry["sender"], entry["text"]) for entry in chat_history.entries(session, conversation)]


def test_a_web_chat_turn_reads_and_writes_its_draft_without_connection_execute(engine_app: Flask) -> None:
    chat = _bearer_chat(engine_app)
    with executed(engine_app) as statements:
        answer = chat.send("BACK")
    assert answer["question"]["id"] == "reference"
    assert [sql for sql in statements if _DRAFT_TABLES.search(sql)] == []


def test_a_web_chat_turn_keeps_its_transcript_lines_in_the_order_shown_on_every_database(engine_app: Flask) -> None:
    """One INSERT of the turn's row (a refused answer has its reason and the question again)."""
    chat = _bearer_chat(engine_app)
    texts = ("BACK", "not a place \u00e0 \u0645\u0631\u062d\u0628\u0627", "HELP")
    answers = []
    for text in texts:
        with tally(engine_app) as counted:
            answers.append(chat.send(text))
        assert counted.statements.count("INSERT") <= 1  # the turn's row, with the stored reply (SQLite)
    assert any(len(answer["messages"]) >= 2 for answer in answers)
    expected = [line for text, answer in zip(texts, answers)
                for line in [("operator", text), *(("assistant", message) for message in answer["messages"])]]
    assert _history(engine_app, chat.path.split("/")[-2])[-len(expected):] == expected


def test_a_web_chat_turn_seals_its_draft_and_one_transcript_row_holding_its_reply(
        engine_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused answer shows three lines (what was typed, the reason, the question again): one
    sealed transcript row, not one a line, which also keeps the reply for a retry (no row of
    ``chat_replies``, on SQLite no statement of its own); the retry gets it byte for byte."""
    chat = _bearer_chat(engine_app)
    sealed: list[Any] = []
    seal = FieldCipher.encrypt_json
    monkeypatch.setattr(FieldCipher, "encrypt_json", lambda self, value: (sealed.append(value), seal(self, value))[1])
    client_id = str(uuid.uuid4())
    with tally(engine_app) as counted:
        first = chat.client.post(chat.path, headers=chat.headers, json={"text": "zzzz", "client_message_id": client_id})
    answer = first.get_json()
    assert answer["refused"] and len(answer["messages"]) >= 2
    assert len(sealed) == 2  # the draft, and the turn's transcript row with the reply for a retry
    assert len(counted.statements) == (2 if _on_postgresql(engine_app) else 3)  # lock-read, UPDATE, INSERT
    again = chat.client.post(chat.path, headers=chat.headers, json={"text": "zzzz", "client_message_id": client_id})
    assert again.data == first.data
    history = _history(engine_app, chat.path.split("/")[-2])
    assert history[-1 - len(answer["messages"]):] == [
        ("operator", "zzzz"), *(("assistant", message) for message in answer["messages"])]


def test_a_transcript_stored_a_line_a_row_reads_in_order_with_the_turns_after_it(engine_app: Flask) -> None:
    """Drafts begun before a turn was one row keep their history: the old one-line rows, then
    the new turns, line by line, in the order shown."""
    chat = _bearer_chat(engine_app)
    conversation = chat.path.split("/")[-2]
    with engine_app.app_context(), db.get_db(engine_app).transaction() as session:
        session.query(ChatMessage).filter_by(conversation_id=conversation).delete()
        session.add_all([ChatMessage(conversation_id=conversation, sender=sender, at=utcnow(), text={"text": text})
                         for sender, text in (("assistant", "Earlier question"), ("operator", "Earlier answer م"),
                                              ("assistant", "Earlier reason"), ("assistant", "Earlier question"))])
    answer = chat.send("BACK")
    assert _history(engine_app, conversation) == [
        ("assistant", "Earlier question"), ("operator", "Earlier answer م"), ("assistant", "Earlier reason"),
        ("assistant", "Earlier question"), ("operator", "BACK"), *(("assistant", line) for line in answer["messages"])]


def test_opening_a_web_chat_records_its_first_lines_in_one_insert_in_order(engine_app: Flask) -> None:
    token = make_user(engine_app, "opener@example.org", "operator")
    client = engine_app.test_client()
    with tally(engine_app) as counted:
        opened = client.post("/api/chat/conversations", json={"language": "cy"},
                             headers={"Authorization": f"Bearer {token}"})
    assert opened.status_code == 201
    body = opened.get_json()
    assert len(body["messages"]) >= 1
    assert _history(engine_app, body["conversation"]) == [("assistant", text) for text in body["messages"]]
    assert counted.statements.count("INSERT") == 2  # the draft, then its lines (one row)


def test_a_retried_arabic_message_gets_the_same_utf8_json_body(sms_app: Flask) -> None:
    token = make_user(sms_app, "arabic@example.org", "operator")
    client = sms_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    conversation = client.post("/api/chat/conversations", json={"language": "ar"}, headers=headers).get_json()
    path = f"/api/chat/conversations/{conversation['conversation']}/messages"
    message = {"text": "\u0645\u0631\u062d\u0628\u0627", "client_message_id": str(uuid.uuid4())}
    first = client.post(path, json=message, headers=headers)
    again = client.post(path, json=message, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.mimetype == "application/json"
    assert again.data == first.data
    answer = first.get_json()
    assert answer["language"] == "ar"
    assert any("\u0600" <= character <= "\u06ff" for line in answer["messages"] for character in line)


def test_a_chat_request_is_counted_by_one_hit_of_the_rate_limit_store(sms_app: Flask,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Flask-Limiter also read the window back for its X-RateLimit headers, on every answer."""
    calls: list[str] = []
    store = limit_storage.SweptMemoryStorage
    for name in ("acquire_entry", "get_moving_window", "incr", "get"):
        real = getattr(store, name)
        monkeypatch.setattr(store, name, lambda self, *args, _real=real, _name=name, **kw: (
            calls.append(_name), _real(self, *args, **kw))[1])
    chat = _bearer_chat(sms_app)
    calls.clear()
    chat.send("BACK")
    assert calls == ["acquire_entry"]


def test_the_chat_limit_refuses_with_retry_after_within_its_window_and_spares_resume_codes(limited: Flask) -> None:
    token = make_user(limited, "counted@example.org", "operator")
    client = client_at(limited, ATTACKER)
    headers = {"Authorization": f"Bearer {token}"}
    assert [client.get("/api/chat/conversations", headers=headers).status_code for _ in range(5)] == [200] * 5
    refused = client.get("/api/chat/conversations", headers=headers)
    assert_throttled_json(refused)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60  # CHAT_RATE_LIMIT: 5 per minute
    resumed = client.post("/api/chat/resume", json={"code": "ABCD-2345"}, headers=headers)
    assert resumed.status_code == 400  # counted by its own limit only: a wrong code, not throttled
