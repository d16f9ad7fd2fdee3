"""The web chat page sends an answer whose response was lost again with the same
``client_message_id``, so the API applies it once and answers with the stored reply; and a reload
after every response to CONFIRM was lost shows the referral's reference, not a new start."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from backend import auth, db
from backend.models import Case, ChatMessage, Conversation, User
from tests.browser.conftest import OPERATORS, LiveServer
from tests.browser.test_chat_page import question, sign_in, start, turns, wait_for_reply
from tests.flows.conversation import CHILD

pytestmark = pytest.mark.browser


def test_the_page_resends_a_lost_answer_with_the_same_client_message_id_and_it_is_applied_once(
        page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, OPERATORS[0])
    start(page)
    first, _ = question(page)
    sent: list[dict[str, Any]] = []

    def lose_the_first_response(route: Any) -> None:
        sent.append(json.loads(route.request.post_data))
        if len(sent) == 1:
            route.fetch()  # the server applies the answer...
            route.abort("connectionreset")  # ...and its response never reaches the page
        else:
            route.continue_()

    page.route("**/api/chat/conversations/*/messages", lose_the_first_response)
    before = turns(page)
    page.fill("#answer", "Ref A")
    page.press("#answer", "Enter")
    wait_for_reply(page, before)

    assert len(sent) == 2 and sent[0] == sent[1]  # the same text and the same client_message_id
    assert len(sent[0]["client_message_id"]) == 36
    shown, _ = question(page)
    assert shown != first and page.locator("#chat-error").is_hidden()
    with live_server.app.app_context(), db.get_db(live_server.app).transaction(readonly=True) as session:
        conversation = session.scalars(select(Conversation).where(
            Conversation.address.like("user:%"), Conversation.status == "draft")
            .order_by(Conversation.updated_at.desc())).first()
        assert conversation.state["current"] == shown  # applied once: not to the next question too
        replies = session.scalars(select(ChatMessage.client_message_id).where(
            ChatMessage.conversation_id == conversation.id, ChatMessage.client_message_id.is_not(None))).all()
        assert replies == [sent[0]["client_message_id"]]  # one reply kept for a retry, in the turn's row


def _draft_at_the_summary(server: LiveServer, email: str) -> str:
    """A child referral answered up to the summary through the API, as ``email``'s own draft."""
    with server.app.app_context(), db.get_db(server.app).transaction() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        token = auth.create_token(session, user)
    client, headers = server.app.test_client(), {"Authorization": f"Bearer {token}"}
    reply = client.post("/api/chat/conversations", json={"language": "en"}, headers=headers).get_json()
    while reply["question"]["kind"] != "confirm":
        reply = client.post(f"/api/chat/conversations/{reply['conversation']}/messages",
                            json={"text": CHILD[reply["question"]["id"]]}, headers=headers).get_json()
    return reply["conversation"]


def test_a_reload_after_every_confirm_response_was_lost_shows_the_reference(
        page: Any, live_server: LiveServer) -> None:
    conversation = _draft_at_the_summary(live_server, OPERATORS[1])
    sign_in(page, live_server, OPERATORS[1])
    page.wait_for_selector("#confirm:not([hidden])")  # the draft, at its summary

    def lose_every_response(route: Any) -> None:
        route.fetch()  # the server sends the referral...
        route.abort("connectionreset")  # ...and no answer ever reaches the page

    page.route("**/api/chat/conversations/*/messages", lose_every_response)
    page.click("#confirm")
    page.wait_for_selector("#chat-error:not([hidden])", timeout=20_000)  # the retries gave up
    page.unroute("**/api/chat/conversations/*/messages")

    page.reload()
    page.wait_for_selector("#done:not([hidden])")
    with live_server.app.app_context(), db.get_db(live_server.app).transaction(readonly=True) as session:
        reference = session.scalars(select(Case.reference).where(Case.conversation_id == conversation)).one()
    assert page.get_attribute("#reference", "data-reference") == reference
