"""What one message costs the database: a turn mid-referral is one transaction of a few statements,
and the draft is decrypted once (issue 14).

Counted on the app's engine with SQLAlchemy's events: ``begin``/``commit``/``rollback`` for
transactions (on SQLite ``BEGIN IMMEDIATE`` is itself a statement and is not counted as one) and
``before_cursor_execute`` for statements. The numbers are the reads and writes a turn needs:

- SMS: the responder locked with this MessageSid's stored reply and the sender's drafts, locked,
  in one read (on PostgreSQL the drafts in a LATERAL call of ``locked_drafts``, a snapshot of
  their own), the draft updated, the reply stored;
- web chat: the conversation locked with the reply stored under the client message id and the
  bearer token with its user (a join: the token is checked in the read that locks), the draft
  updated, and the turn's lines added to the draft's transcript with the reply kept for a retry
  (one row: the history survives a reload). On PostgreSQL the draft's UPDATE and both INSERTs
  are one statement. From the signed-in page the session is checked first, on its own.

Both write the draft and the reply without the ORM's unit of work (``bot.engine.write``: one Core
UPDATE with the row-version check; profiled, the flush was a fifth of a turn's CPU), counted here
by the session's ``before_flush`` event.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import flask
import pytest
from flask import Flask
from flask_limiter import Limiter
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backend import db
from backend.crypto import FieldCipher
from backend.limits import EXTENSION as LIMITER
from backend.models import Conversation, ResumeCode
from bot import chat_history, engine
from tests.bot.conftest import make_user
from tests.bot.sms_support import SmsPhone, form, start
from tests.bot.test_chat_page import page_csrf, signed_in

TURN_STATEMENTS = 3


@dataclass
class Tally:
    transactions: int = 0
    commits: int = 0
    statements: list[str] = field(default_factory=list)
    flushes: int = 0
    """Runs of the ORM's unit of work (a flush with something to write)."""
    in_transaction: list[bool] = field(default_factory=list)
    """For each statement, whether the driver sent it in an explicit transaction (not autocommit):
    the round trips of a ``BEGIN`` before it and a ``COMMIT`` after it."""
    row_locks: int = 0
    """Statements that lock rows (``FOR UPDATE``)."""


@contextmanager
def tally(app: Flask) -> Iterator[Tally]:
    """Transactions, commits and statements on ``app``'s engine while the block runs."""
    engine = db.get_db(app).engine
    counted = Tally()

    def on_begin(_connection: Any) -> None:
        counted.transactions += 1

    def on_commit(_connection: Any) -> None:
        counted.commits += 1

    def on_statement(_connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):
            counted.statements.append(statement.split(None, 1)[0])
            counted.in_transaction.append(not getattr(cursor.connection, "autocommit", False))
            counted.row_locks += "FOR UPDATE" in statement

    def on_flush(*_args: Any) -> None:
        counted.flushes += 1

    listeners = (("begin", on_begin), ("commit", on_commit), ("before_cursor_execute", on_statement))
    for name, listener in listeners:
        event.listen(engine, name, listener)
    event.listen(Session, "before_flush", on_flush)
    try:
        yield counted
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
        event.remove(Session, "before_flush", on_flush)


@contextmanager
def decryptions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many stored documents are decrypted while the block runs (one count per call)."""
    calls: list[int] = []
    decrypt = FieldCipher.decrypt_json

    def counting(self: FieldCipher, token: str) -> Any:
        calls.append(1)
        return decrypt(self, token)

    monkeypatch.setattr(FieldCipher, "decrypt_json", counting)
    yield calls


@pytest.fixture(params=["sms_app", pytest.param("pg_sms_app", marks=pytest.mark.postgres)])
def engine_app(request: pytest.FixtureRequest) -> Flask:
    """The whole product with a registered SMS number, on SQLite and on PostgreSQL."""
    return request.getfixturevalue(request.param)


def _sms_mid_referral(app: Flask) -> SmsPhone:
    phone = SmsPhone(app)
    start(phone)  # first contact, English picked: at the first question
    phone.send("SA-0412")
    assert phone.current() == "fr-location"
    return phone


class Chat:
    """A web chat conversation one answer into the referral, sent by a bearer-token client or by
    the signed-in page (session cookie and CSRF header)."""

    def __init__(self, app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        opened = client.post("/api/chat/conversations", json={}, headers=headers)
        assert opened.status_code == 201, opened.get_json()
        self.path = f"/api/chat/conversations/{opened.get_json()['conversation']}/messages"
        assert self.send("SA-0412")["question"]["id"] != "reference"  # the next question

    def send(self, text: str, client_id: str | None = None) -> dict[str, Any]:
        response = self.client.post(self.path, headers=self.headers, json={
            "text": text, "client_message_id": client_id or str(uuid.uuid4())})
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def _bearer_chat(app: Flask) -> Chat:
    token = make_user(app, "operator@example.org", "operator")
    return Chat(app, app.test_client(), {"Authorization": f"Bearer {token}"})


def _on_postgresql(app: Flask) -> bool:
    return db.get_db(app).engine.dialect.name == "postgresql"


def test_an_sms_turn_mid_referral_is_one_transaction_of_three_statements_two_on_postgresql(
    engine_app: Flask,
) -> None:
    """The sender, the MessageSid's stored reply and the sender's drafts are one read (on SQLite
    ``BEGIN IMMEDIATE`` holds the write lock); on PostgreSQL the draft's UPDATE and the stored
    reply's INSERT are one statement too (``bot.engine.write``: data-modifying CTEs), and the two
    run in autocommit, with no row lock: two round trips (``bot.engine.on_plain_connection``)."""
    phone = _sms_mid_referral(engine_app)
    with tally(engine_app) as counted:
        phone.send("BACK")
    assert phone.current() == "reference"
    assert (counted.transactions, counted.commits) == (1, 1)
    if _on_postgresql(engine_app):
        assert counted.statements == ["SELECT", "WITH"]
        assert counted.in_transaction == [False, False] and counted.row_locks == 0
    else:
        assert counted.statements == ["SELECT", "UPDATE", "INSERT"]
    assert counted.flushes == 0


@contextmanager
def orm_transactions() -> Iterator[list[int]]:
    """How many times an ORM ``Session`` begins a transaction on a connection in the block."""
    begun: list[int] = []

    def on_begin(*_args: Any) -> None:
        begun.append(1)

    event.listen(Session, "after_begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(Session, "after_begin", on_begin)


def test_an_sms_answer_mid_referral_runs_on_a_plain_connection_without_an_orm_session(engine_app: Flask) -> None:
    """The ORM session's begin, commit and close cost a PostgreSQL turn about a fifth of its CPU:
    an ordinary answer is read, stepped and written on a plain connection (``bot.sms.plain_turn``),
    in one transaction, and the draft is kept as the session would have kept it."""
    phone = _sms_mid_referral(engine_app)
    seen = phone.draft().version  # type: ignore[union-attr]
    with orm_transactions() as begun, tally(engine_app) as counted:
        phone.send("BACK")
        phone.send("SA-0413")
    assert begun == []
    assert (counted.transactions, counted.commits) == (2, 2)
    draft = phone.draft()
    assert draft is not None and draft.state["current"] == "fr-location"
    assert draft.state["answers"]["reference"]["value"] == "SA-0413"
    assert draft.version == seen + 2  # BACK, then this answer: each written once


def test_a_message_that_needs_more_than_a_step_is_run_once_on_the_orm_session(engine_app: Flask) -> None:
    """REVIEW gives a resume code, which the plain connection leaves to the ORM session: the
    plain attempt is rolled back and the message applied once (one code, one stored reply)."""
    phone = _sms_mid_referral(engine_app)
    with orm_transactions() as begun, tally(engine_app) as counted:
        reply = phone.send("REVIEW")
    assert begun == [1] and counted.commits == 1
    assert "use code" in "\n".join(reply), reply
    with engine_app.app_context(), db.get_db(engine_app).transaction(readonly=True) as reading:
        assert reading.scalar(select(func.count()).select_from(ResumeCode)) == 1


def _chat_draft(app: Flask, chat: Chat) -> tuple[Conversation, list[dict[str, Any]]]:
    """The chat's draft as stored and its transcript."""
    conversation_id = chat.path.split("/")[-2]
    with app.app_context(), db.get_db(app).transaction(readonly=True) as reading:
        return reading.get(Conversation, conversation_id), chat_history.entries(reading, conversation_id)


def test_a_web_chat_answer_mid_referral_runs_on_a_plain_connection_without_an_orm_session(engine_app: Flask) -> None:
    """As an SMS answer: the bearer token checked, the draft stepped and written with its stored
    reply and transcript lines on a plain connection (``bot.engine.on_plain_connection``), one
    transaction each, and kept as the session would have kept it (a retry answered the same)."""
    chat = _bearer_chat(engine_app)
    seen, lines = _chat_draft(engine_app, chat)
    with orm_transactions() as begun, tally(engine_app) as counted:
        chat.send("BACK")
        first, again = (chat.client.post(chat.path, headers=chat.headers,
                                         json={"text": "SA-0413", "client_message_id": "plain-one"})
                        for _ in range(2))
    assert begun == []
    assert (counted.transactions, counted.commits) == (3, 3)
    answer = first.get_json()
    assert again.data == first.data and answer["question"]["id"] not in ("reference", None)
    draft, history = _chat_draft(engine_app, chat)
    assert draft.state["answers"]["reference"]["value"] == "SA-0413"
    assert draft.version == seen.version + 2  # BACK, then this answer: each written once (not the retry)
    assert history[len(lines):][-1 - len(answer["messages"]):] == [
        {"sender": "operator", "text": "SA-0413", "at": history[-1]["at"]},
        *({"sender": "assistant", "text": text, "at": history[-1]["at"]} for text in answer["messages"])]


@pytest.mark.parametrize("text", ["REVIEW", "DISCARD"])
def test_a_web_chat_message_that_needs_more_than_a_step_is_applied_once_on_the_orm_session(
        engine_app: Flask, text: str) -> None:
    """REVIEW's resume code (or DISCARD's confirmation, then the cancel) needs the ORM session:
    the plain attempt is rolled back having changed nothing and the message applied once, from
    the top (one code, one stored reply, its transcript lines once)."""
    chat = _bearer_chat(engine_app)
    seen, lines = _chat_draft(engine_app, chat)
    with orm_transactions() as begun, tally(engine_app) as counted:
        answer = chat.send(text)
        if text == "DISCARD":
            answer = chat.send("YES")
    draft, history = _chat_draft(engine_app, chat)
    if text == "REVIEW":
        assert begun == [1] and counted.commits == 1
        assert "RESUME" in "\n".join(answer["messages"]), answer
        assert draft.version == seen.version + 1
        assert len(history) == len(lines) + 1 + len(answer["messages"])
        with engine_app.app_context(), db.get_db(engine_app).transaction(readonly=True) as reading:
            assert reading.scalar(select(func.count()).select_from(ResumeCode)) == 1
    else:
        assert begun == [1] and counted.commits == 2  # DISCARD asks on the plain path; YES cancels
        assert answer["done"] and draft.status == "cancelled" and history == []


def test_a_web_chat_turn_mid_referral_is_one_transaction_of_three_statements_two_on_postgresql(
        engine_app: Flask) -> None:
    """The bearer token is checked in the statement that reads the conversation; the reply is
    kept for a retry in the turn's transcript row; on PostgreSQL the draft's UPDATE and that row
    are one statement, and the two run in autocommit, with no row lock."""
    chat = _bearer_chat(engine_app)
    with tally(engine_app) as counted:
        answer = chat.send("BACK")
    assert answer["question"]["id"] == "reference"
    assert (counted.transactions, counted.commits) == (1, 1)
    if _on_postgresql(engine_app):
        assert counted.statements == ["SELECT", "WITH"]
        assert counted.in_transaction == [False, False] and counted.row_locks == 0
    else:
        assert sorted(counted.statements) == ["INSERT", "SELECT", "UPDATE"]
    assert counted.flushes == 0


@pytest.mark.postgres
def test_a_plain_turn_on_postgresql_gives_its_connection_back_to_the_pool_out_of_autocommit(
        pg_sms_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its statements run in autocommit, and the connection goes back to the pool as it came, so
    whoever uses it next is in a transaction again: after a turn, and after a turn that failed
    in the middle (which changed nothing)."""
    phone = _sms_mid_referral(pg_sms_app)
    pool = db.get_db(pg_sms_app).engine
    autocommit_at_checkin: list[bool] = []

    def checkin(dbapi_connection: Any, _record: Any) -> None:
        autocommit_at_checkin.append(dbapi_connection.autocommit)

    def failing_step(*_args: Any) -> Any:
        raise RuntimeError("the dialogue failed mid-turn")

    event.listen(pool, "checkin", checkin)
    try:
        phone.send("BACK")
        assert phone.current() == "reference"
        monkeypatch.setattr(engine, "plain_step", failing_step)
        with pytest.raises(RuntimeError):  # (the test client passes a view's exception on)
            phone.post(form("SA-0413"))
    finally:
        event.remove(pool, "checkin", checkin)
    assert autocommit_at_checkin and not any(autocommit_at_checkin), autocommit_at_checkin
    assert phone.current() == "reference"


@pytest.mark.postgres
def test_a_web_chat_turn_on_postgresql_keeps_its_transcript_lines_in_the_order_shown(pg_sms_app: Flask) -> None:
    """The lines inserted by the draft's own statement come back as the page showed them: what was
    typed, then each answer in turn (several, when an answer is refused with its reason)."""
    chat = _bearer_chat(pg_sms_app)
    answers = [chat.send(text) for text in ("BACK", "not a place \u00e0 \u0645\u0631\u062d\u0628\u0627", "HELP")]
    assert any(len(answer["messages"]) >= 2 for answer in answers)
    conversation = chat.path.split("/")[-2]
    with pg_sms_app.app_context(), db.get_db(pg_sms_app).transaction(readonly=True) as session:
        history = [(entry["sender"], entry["text"]) for entry in chat_history.entries(session, conversation)]
    expected = [line for text, answer in zip(("BACK", "not a place \u00e0 \u0645\u0631\u062d\u0628\u0627", "HELP"), answers)
                for line in [("operator", text), *(("assistant", message) for message in answer["messages"])]]
    assert history[-len(expected):] == expected


def test_a_web_chat_turn_from_the_signed_in_page_checks_the_session_in_the_same_transaction(
        sms_app: Flask) -> None:
    client = signed_in(sms_app, "op@example.org", "operator")
    chat = Chat(sms_app, client, {"X-CSRFToken": page_csrf(client)})
    with tally(sms_app) as counted:
        answer = chat.send("BACK")
    assert answer["question"]["id"] == "reference"
    assert (counted.transactions, counted.commits) == (1, 1)  # the last-seen time moves once a minute
    assert len(counted.statements) == TURN_STATEMENTS + 1  # the session, then a bearer client's three


def test_an_sms_turn_decrypts_the_draft_once(sms_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    phone = _sms_mid_referral(sms_app)
    with decryptions(monkeypatch) as calls:
        phone.send("BACK")
    assert len(calls) == 1
    assert phone.current() == "reference"


def test_a_web_chat_turn_decrypts_the_draft_once(sms_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = _bearer_chat(sms_app)
    with decryptions(monkeypatch) as calls:
        chat.send("BACK")
    assert len(calls) == 1


def test_a_retried_web_chat_message_is_answered_from_its_stored_reply_in_one_read(engine_app: Flask) -> None:
    chat = _bearer_chat(engine_app)
    first = chat.send("BACK", client_id="retry-me")
    with tally(engine_app) as counted:
        again = chat.send("BACK", client_id="retry-me")
    assert again == first
    assert counted.statements == ["SELECT"]  # the locked conversation with its reply and the token


def test_a_retried_sms_is_answered_from_its_stored_reply_in_one_read(sms_app: Flask) -> None:
    phone = _sms_mid_referral(sms_app)
    sid = "SM" + uuid.uuid4().hex
    first = phone.send("BACK", sid=sid)
    with tally(sms_app) as counted:
        again = phone.send("BACK", sid=sid)
    assert again == first and phone.current() == "reference"
    assert counted.statements == ["SELECT"]


def test_a_draft_changed_since_it_was_loaded_is_not_overwritten_by_a_stale_copy(engine_app: Flask) -> None:
    """``engine.write`` keeps the ORM's row-version check: a copy loaded before another message
    was applied fails (and the channel runs the message again) instead of losing that message."""
    database = db.get_db(engine_app)
    with engine_app.app_context():
        with database.transaction() as opening:
            conversation_id = engine.begin(opening, "web", "user:1", None, "en").conversation
        with database.new_session() as stale_session, database.new_session() as other:
            stale = stale_session.get(Conversation, conversation_id)
            stale_session.commit()  # loaded values kept (expire_on_commit=False), lock released
            engine.step(other, other.get(Conversation, conversation_id), "SA-0412", "user:1")
            engine.write(other, other.get(Conversation, conversation_id))
            other.commit()
            engine.step(stale_session, stale, "SA-9999", "user:1")
            with pytest.raises(StaleDataError):
                engine.write(stale_session, stale)
            stale_session.rollback()
        with database.transaction() as reading:
            answers = reading.get(Conversation, conversation_id).state["answers"]
    assert answers["reference"]["value"] == "SA-0412"


def test_flask_limiter_skips_twilios_webhook_without_resolving_its_limits(
        sms_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook is never limited (tests/bot/test_rate_limits.py); resolving its limits (none)
    for every message cost a turn more than a bare request's, so Flask-Limiter skips it at once."""
    phone = _sms_mid_referral(sms_app)
    manager = sms_app.extensions[LIMITER].limit_manager
    resolved: list[str | None] = []
    resolve = manager.resolve_limits

    def counting(app: Flask, endpoint: str | None = None, *args: Any, **kwargs: Any) -> Any:
        resolved.append(endpoint)
        return resolve(app, endpoint, *args, **kwargs)

    monkeypatch.setattr(manager, "resolve_limits", counting)
    phone.send("BACK")
    assert phone.current() == "reference" and "sms.twilio_webhook" not in resolved
    sms_app.test_client().get("/casework/sign-in")
    assert resolved  # the other routes are still resolved (and limited where configured)


def test_flask_limiters_own_hooks_do_not_run_for_the_webhook_or_the_chat_api(
        request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flask-Limiter limits neither (never the webhook; the chat API is counted by its own hook),
    but its request hooks still cost each turn 30-40 us of finding that out (issue 14): they do
    not run for them, and still run for the other routes."""
    ran: list[tuple[str, str | None]] = []
    check, inject = Limiter._check_request_limit, Limiter._Limiter__inject_headers  # type: ignore[attr-defined]
    release = Limiter._Limiter__release_context  # type: ignore[attr-defined]

    def checking(self: Limiter, *args: Any, **kwargs: Any) -> None:
        ran.append(("before", flask.request.endpoint))
        check(self, *args, **kwargs)

    def injecting(self: Limiter, response: Any) -> Any:
        ran.append(("after", flask.request.endpoint))
        return inject(self, response)

    def releasing(self: Limiter, error: BaseException | None = None) -> None:
        ran.append(("teardown", flask.request.endpoint))
        release(self, error)

    monkeypatch.setattr(Limiter, "_check_request_limit", checking)
    monkeypatch.setattr(Limiter, "_Limiter__inject_headers", injecting)
    monkeypatch.setattr(Limiter, "_Limiter__release_context", releasing)
    app = request.getfixturevalue("sms_app")  # made now, so that its hooks are the counting ones
    phone, chat = _sms_mid_referral(app), _bearer_chat(app)
    ran.clear()

    phone.send("BACK")
    chat.send("BACK")
    assert ran == []
    assert phone.current() == "reference"
    app.test_client().get("/casework/sign-in")
    assert {("before", "web_auth.sign_in"), ("after", "web_auth.sign_in"), ("teardown", "web_auth.sign_in")} <= set(ran)
