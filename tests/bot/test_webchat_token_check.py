"""A web chat message's bearer token is checked in the statement that locks the conversation
(``bot.webchat._locked``, issue 14): one read fewer a turn, and the same answers as before for
every token that may not write there, with nothing written and another's draft never read.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from backend import auth, db
from backend.db import utcnow
from backend.models import ApiToken, ChatMessage, ChatReply, Conversation, User
from tests.bot.conftest import make_user
from tests.bot.test_turn_cost import Chat, decryptions, engine_app, tally  # noqa: F401 (fixtures)

REFUSED_TOKEN = (401, {"error": "a valid bearer token is required"})
WRONG_ROLE = (403, {"error": "your role may not use this endpoint"})
NOT_YOURS = (404, {"error": "No such conversation."})


def _stored(app: Flask) -> tuple[Any, ...]:
    """Everything a chat message could write: each draft's version and state, the stored replies
    and the transcripts' lines."""
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        drafts = session.execute(select(Conversation.id, Conversation.version, Conversation.state,
                                        Conversation.updated_at).order_by(Conversation.id)).all()
        replies = session.scalar(select(func.count()).select_from(ChatReply))
        lines = session.scalar(select(func.count()).select_from(ChatMessage))
        return tuple(map(tuple, drafts)), replies, lines


def _chat(app: Flask, email: str = "one@example.org") -> tuple[Chat, str]:
    token = make_user(app, email, "operator")
    return Chat(app, app.test_client(), {"Authorization": f"Bearer {token}"}), token


def _post(chat: Chat, token: str, body: Any) -> tuple[int, Any, str | None]:
    response = chat.client.post(chat.path, json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json(), response.headers.get("WWW-Authenticate")


def _take_away(app: Flask, token: str, how: str) -> None:
    """Revoke the token, let it expire, or deactivate its operator (leaving the token live)."""
    with app.app_context(), db.get_db(app).transaction() as session:
        if how == "revoked":
            assert auth.revoke_token(session, token)
        elif how == "expired":
            session.execute(update(ApiToken).where(ApiToken.token_hash == auth.token_hash(token))
                            .values(expires_at=utcnow() - timedelta(seconds=1)))
        else:
            holder = select(ApiToken.user_id).where(ApiToken.token_hash == auth.token_hash(token))
            session.execute(update(User).where(User.id == holder.scalar_subquery()).values(active=False))


@pytest.mark.parametrize("how", ["revoked", "expired", "deactivated"])
def test_a_chat_message_with_a_revoked_or_expired_token_or_a_deactivated_operator_gets_401_at_once_writing_nothing(
        engine_app: Flask, how: str) -> None:
    chat, token = _chat(engine_app)
    assert _post(chat, token, {"text": "BACK", "client_message_id": "before"})[0] == 200
    _take_away(engine_app, token, how)
    before = _stored(engine_app)
    for body in ({"text": "BACK", "client_message_id": "after"}, {"text": "BACK"},
                 {"text": "BACK", "client_message_id": "before"}):  # a retry of an applied message too
        assert _post(chat, token, body) == (*REFUSED_TOKEN, 'Bearer realm="nrm"')
    assert _stored(engine_app) == before


def test_a_refused_token_with_a_malformed_message_gets_401_before_the_400(engine_app: Flask) -> None:
    chat, token = _chat(engine_app)
    _take_away(engine_app, token, "revoked")
    assert _post(chat, token, {"text": 7})[:2] == REFUSED_TOKEN
    assert _post(chat, "nrm_not-a-token", {"client_message_id": ""})[:2] == REFUSED_TOKEN
    fresh = make_user(engine_app, "two@example.org", "operator")
    assert _post(chat, fresh, {"text": 7})[0] == 400  # a live token: the body's own answer


def test_another_operators_token_gets_404_and_their_draft_is_neither_changed_nor_decrypted(
        engine_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    chat, _mine = _chat(engine_app)
    theirs = make_user(engine_app, "two@example.org", "operator")
    before = _stored(engine_app)
    with decryptions(monkeypatch) as calls:
        for body in ({"text": "BACK", "client_message_id": "x"}, {"text": "BACK"}):
            assert _post(chat, theirs, body) == (*NOT_YOURS, None)
    assert calls == []  # the draft's state was never read
    assert _stored(engine_app) == before


def test_a_caseworkers_token_gets_403_for_a_chat_message_and_nothing_is_written(engine_app: Flask) -> None:
    chat, _mine = _chat(engine_app)
    caseworker = make_user(engine_app, "caseworker@example.org", "caseworker")
    before = _stored(engine_app)
    assert _post(chat, caseworker, {"text": "BACK", "client_message_id": "x"}) == (*WRONG_ROLE, None)
    assert _stored(engine_app) == before


def test_a_chat_message_records_its_tokens_use_in_the_turns_own_transaction(engine_app: Flask) -> None:
    """``last_used_at`` still moves at most once a minute: then as one more statement of the turn."""
    chat, token = _chat(engine_app)
    long_ago = utcnow() - timedelta(minutes=5)
    with engine_app.app_context(), db.get_db(engine_app).transaction() as session:
        session.execute(update(ApiToken).values(last_used_at=long_ago))
    with tally(engine_app) as recorded:
        assert _post(chat, token, {"text": "BACK", "client_message_id": "x"})[0] == 200
    with tally(engine_app) as within_the_minute:
        assert _post(chat, token, {"text": "1", "client_message_id": "y"})[0] == 200
    assert (recorded.transactions, within_the_minute.transactions) == (1, 1)
    assert recorded.statements[:2] == ["SELECT", "UPDATE"]  # the locked read with the token, its use
    assert len(recorded.statements) == len(within_the_minute.statements) + 1
    with engine_app.app_context(), db.get_db(engine_app).transaction(readonly=True) as session:
        used = session.scalar(select(ApiToken.last_used_at))
    assert used is not None and utcnow() - used < timedelta(minutes=1)
