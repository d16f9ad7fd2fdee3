"""Web chat sends are idempotent (``client_message_id``) and a submitted conversation always
shows its reference, so a lost response never leads to an answer applied twice or to a second
referral of the same person."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from backend import db
from backend.db import utcnow
from backend.crypto import V2_PREFIX
from backend.models import Case, ChatMessage, ChatReply
from bot.purge import REPLY_RETENTION, purge
from tests.bot.conftest import make_user
from tests.flows.conversation import CHILD


class Operator:
    """An operator's API client; ``send`` makes a new client message id unless given one."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()
        self.headers = {"Authorization": f"Bearer {make_user(app, 'op@example.org', 'operator')}"}

    def open(self) -> dict[str, Any]:
        response = self.client.post("/api/chat/conversations", headers=self.headers)
        assert response.status_code == 201
        return response.get_json()

    def send(self, conversation: str, text: str, client_id: str | None = "new") -> dict[str, Any]:
        body: dict[str, Any] = {"text": text}
        if client_id is not None:
            body["client_message_id"] = str(uuid.uuid4()) if client_id == "new" else client_id
        response = self.client.post(f"/api/chat/conversations/{conversation}/messages",
                                    json=body, headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def get(self, path: str) -> dict[str, Any]:
        response = self.client.get(path, headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def to_summary(self) -> dict[str, Any]:
        reply = self.open()
        while reply["question"]["kind"] != "confirm":  # the summary
            reply = self.send(reply["conversation"], CHILD[reply["question"]["id"]])
        return reply


def test_the_same_client_message_id_twice_is_applied_once_with_the_same_reply(product: Flask) -> None:
    operator = Operator(product)
    reply = operator.open()
    conversation = reply["conversation"]
    first_question = reply["question"]["id"]
    client_id = str(uuid.uuid4())

    answered = operator.send(conversation, "Ref A", client_id)
    retried = operator.send(conversation, "Ref A", client_id)  # the response was lost: sent again

    assert retried == answered
    assert answered["question"]["id"] != first_question
    shown = operator.get(f"/api/chat/conversations/{conversation}")
    assert shown["question"] == answered["question"]  # not applied to the next question too


def test_a_retried_confirm_after_a_lost_response_gets_the_reference(product: Flask) -> None:
    operator = Operator(product)
    summary = operator.to_summary()
    conversation = summary["conversation"]
    client_id = str(uuid.uuid4())

    confirmed = operator.send(conversation, "CONFIRM", client_id)
    retried = operator.send(conversation, "CONFIRM", client_id)
    assert confirmed["reference"].startswith("NRM-")
    assert retried == confirmed

    again = operator.send(conversation, "CONFIRM")  # a new id (or none): still the same referral
    assert again["done"] is True and again["reference"] == confirmed["reference"]
    assert confirmed["reference"] in " ".join(again["messages"])
    without_id = operator.send(conversation, "CONFIRM", client_id=None)
    assert without_id["reference"] == confirmed["reference"]
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_get_of_a_submitted_conversation_shows_its_reference(product: Flask) -> None:
    operator = Operator(product)
    summary = operator.to_summary()
    reference = operator.send(summary["conversation"], "CONFIRM")["reference"]

    shown = operator.get(f"/api/chat/conversations/{summary['conversation']}")
    assert shown["done"] is True and shown["reference"] == reference
    assert shown["question"] is None


def test_the_list_of_submitted_conversations_shows_their_references(product: Flask) -> None:
    operator = Operator(product)
    references = {}
    for _ in range(2):
        summary = operator.to_summary()
        references[summary["conversation"]] = operator.send(summary["conversation"], "CONFIRM")["reference"]
    draft = operator.open()["conversation"]

    listed = operator.get("/api/chat/conversations?status=submitted")["conversations"]
    assert {row["conversation"]: row["reference"] for row in listed} == references
    drafts = operator.get("/api/chat/conversations?status=draft")["conversations"]
    assert [(row["conversation"], row["reference"]) for row in drafts] == [(draft, None)]


def test_a_send_without_client_message_id_still_works(product: Flask) -> None:
    operator = Operator(product)
    reply = operator.open()
    answered = operator.send(reply["conversation"], "Ref A", client_id=None)
    assert answered["question"]["id"] != reply["question"]["id"]


def test_stored_chat_replies_are_encrypted_and_go_once_the_referral_is_sent(product: Flask) -> None:
    operator = Operator(product)
    summary = operator.to_summary()
    conversation = summary["conversation"]
    engine = db.get_db(product).engine
    with engine.connect() as connection:  # a draft's replies are kept in its turns' transcript rows
        tokens = [str(row[0]) for row in connection.exec_driver_sql(
            "SELECT text FROM chat_messages WHERE client_message_id IS NOT NULL")]
    # Encrypted tokens only (url-safe base64, so a short name could appear in one by chance: not tested)
    assert tokens and all(token.startswith(V2_PREFIX) and " " not in token for token in tokens)

    operator.send(conversation, "CONFIRM")
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        kept = session.scalars(select(ChatReply).where(ChatReply.conversation_id == conversation)).all()
        turns = session.scalar(select(func.count()).select_from(ChatMessage)
                               .where(ChatMessage.conversation_id == conversation))
    assert len(kept) == 1 and kept[0].reply["done"] is True and turns == 0  # only the answer to CONFIRM


def test_a_client_message_id_must_be_a_short_string(product: Flask) -> None:
    operator = Operator(product)
    conversation = operator.open()["conversation"]
    for bad in (123, "", "x" * 65):
        response = operator.client.post(f"/api/chat/conversations/{conversation}/messages",
                                        json={"text": "Ref A", "client_message_id": bad},
                                        headers=operator.headers)
        assert response.status_code == 400


def test_stored_chat_replies_of_a_sent_referral_are_purged_after_the_retry_window(product: Flask) -> None:
    operator = Operator(product)
    summary = operator.to_summary()
    operator.send(summary["conversation"], "CONFIRM")
    draft = operator.open()["conversation"]
    answered = operator.send(draft, "Ref A", client_id="draft-message")
    with product.app_context(), db.get_db(product).transaction() as session:
        assert purge(session, expiry_days=30).replies == 0  # within the window
        later = utcnow() + REPLY_RETENTION + timedelta(minutes=1)
        assert purge(session, expiry_days=30, now=later).replies == 1  # the CONFIRM's reply
        assert session.scalars(select(ChatReply.conversation_id)).all() == []
    assert operator.send(draft, "Ref A", client_id="draft-message") == answered  # a live draft keeps its replies


def test_the_same_client_message_id_sent_twice_at_once_is_applied_once(product: Flask) -> None:
    operator = Operator(product)
    reply = operator.open()
    conversation, client_id = reply["conversation"], str(uuid.uuid4())
    barrier, replies = threading.Barrier(2), []

    def send() -> None:
        client = product.test_client()  # each thread its own connection, as two retries would be
        barrier.wait(timeout=10)
        response = client.post(f"/api/chat/conversations/{conversation}/messages", headers=operator.headers,
                               json={"text": "Ref A", "client_message_id": client_id})
        replies.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [status for status, _ in replies] == [200, 200] and replies[0][1] == replies[1][1]
    shown = operator.get(f"/api/chat/conversations/{conversation}")
    assert shown["question"] == replies[0][1]["question"]  # applied once, not to the next question
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        stored = session.scalar(select(func.count()).select_from(ChatMessage)
                                .where(ChatMessage.conversation_id == conversation,
                                       ChatMessage.client_message_id == client_id))
    assert stored == 1


def test_an_empty_or_overlong_answer_is_refused_and_the_draft_is_unchanged(product: Flask) -> None:
    operator = Operator(product)
    reply = operator.open()
    conversation = reply["conversation"]
    empty = operator.send(conversation, "")
    assert empty["messages"][0] == "Please type an answer"
    assert empty["question"]["id"] == reply["question"]["id"]  # asked again, nothing stored
    overlong = operator.client.post(f"/api/chat/conversations/{conversation}/messages",
                                    json={"text": "x" * 16001, "client_message_id": str(uuid.uuid4())},
                                    headers=operator.headers)
    assert overlong.status_code == 400 and "16,000 characters" in overlong.get_json()["error"]
    assert operator.get(f"/api/chat/conversations/{conversation}")["question"] == reply["question"]
