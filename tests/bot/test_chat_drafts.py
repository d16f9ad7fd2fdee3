"""The web chat's drafts: the list, discarding (asked first, audited), the stored transcript, the
refusal mark, the consent explanation beside the chat and "Exit this page"."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from backend import db
from backend.models import AuditEvent, ChatMessage, ChatReply, Conversation
from bot.chat_page import DISCARDED
from tests.bot.test_chat_page import CSRF_FIELD, PASSWORD, page_csrf, signed_in
from tests.flows.conversation import CHILD

EMAIL = "sam.jones@example.org"


def api(client: FlaskClient) -> dict[str, str]:
    return {"X-CSRFToken": page_csrf(client)}


def start(client: FlaskClient, headers: dict[str, str], language: str = "en") -> dict:
    return client.post("/api/chat/conversations", json={"language": language}, headers=headers).get_json()


def say(client: FlaskClient, headers: dict[str, str], conversation: str, text: str, shown: str | None = None) -> dict:
    body = {"text": text, **({"shown": shown} if shown else {})}
    response = client.post(f"/api/chat/conversations/{conversation}/messages", json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def answer_until(client: FlaskClient, headers: dict[str, str], reply: dict, stop: str) -> dict:
    while reply["question"]["id"] != stop and reply["question"]["kind"] != "confirm":
        reply = say(client, headers, reply["conversation"], CHILD[reply["question"]["id"]])
    return reply


def test_the_drafts_page_lists_the_operators_own_drafts_with_times_and_progress(product: Flask) -> None:
    mine = signed_in(product, "op@example.org", "operator")
    other = signed_in(product, "other@example.org", "operator")
    headers = api(mine)
    first = start(mine, headers)
    answer_until(mine, headers, first, "user-email")
    second = start(mine, headers, "ar")
    theirs = start(other, api(other))
    html = mine.get("/chat/drafts").get_data(as_text=True)
    assert first["conversation"] in html and second["conversation"] in html
    assert theirs["conversation"] not in html
    assert html.index(second["conversation"]) < html.index(first["conversation"])  # latest first
    assert len(re.findall(r'<time datetime="[^"]+">', html)) == 4  # started and last changed, each
    assert "0 of 7 parts completed" in html and "Now at: About you" in html
    assert '<span lang="ar">العربية</span>' in html
    assert f'href="/chat?conversation={first["conversation"]}"' in html
    opened = mine.get(f"/chat?conversation={first['conversation']}").get_data(as_text=True)
    assert f'data-draft="{first["conversation"]}" data-chosen="true"' in opened
    # another's draft is never opened: the page falls back to the operator's own latest
    assert 'data-chosen="false"' in mine.get(f"/chat?conversation={theirs['conversation']}").get_data(as_text=True)


def test_discarding_a_draft_asks_first_then_deletes_its_answers_and_is_audited(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    headers = api(client)
    reply = answer_until(client, headers, start(client, headers), "user-email")
    conversation = reply["conversation"]
    say(client, headers, conversation, EMAIL)
    asked = client.get(f"/chat/drafts/{conversation}/discard")
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "Discard this draft?" in page and "You cannot undo this." in page
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.get(Conversation, conversation).status == "draft"  # asking changed nothing
    token = CSRF_FIELD.search(page).group(1)
    assert client.post(f"/chat/drafts/{conversation}/discard").status_code == 400  # no CSRF token
    done = client.post(f"/chat/drafts/{conversation}/discard", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == "/chat/drafts"
    listed = client.get("/chat/drafts").get_data(as_text=True)
    assert "Draft discarded." in listed and conversation not in listed
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        stored = session.get(Conversation, conversation)
        assert stored.status == "cancelled" and stored.state == {}
        for table in (ChatMessage, ChatReply):
            assert session.scalar(select(func.count()).select_from(table)
                                  .where(table.conversation_id == conversation)) == 0
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == DISCARDED)).one()
        assert event.actor.startswith("user:") and event.detail == {"conversation": conversation, "channel": "web"}
    # a discarded draft is no longer anyone's to open or discard
    assert client.get(f"/chat/drafts/{conversation}/discard").status_code == 404
    assert client.post(f"/chat/drafts/{conversation}/discard", data={"csrf_token": token}).status_code == 404


def another_tab(product: Flask, email: str) -> FlaskClient:
    """A second signed-in session of the same operator (another browser tab or device)."""
    client = product.test_client()
    token = CSRF_FIELD.search(client.get("/casework/sign-in").get_data(as_text=True)).group(1)
    assert client.post("/casework/sign-in", data={"csrf_token": token, "email": email,
                                                   "password": PASSWORD}).status_code == 302
    return client


def test_a_draft_discarded_from_two_tabs_at_once_is_discarded_once(product: Flask) -> None:
    tabs = [signed_in(product, "op@example.org", "operator")]
    tabs.append(another_tab(product, "op@example.org"))
    conversation = start(tabs[0], api(tabs[0]))["conversation"]
    tokens = [CSRF_FIELD.search(tab.get(f"/chat/drafts/{conversation}/discard").get_data(as_text=True)).group(1)
              for tab in tabs]
    together = Barrier(2)

    def discard(index: int) -> int:
        together.wait()
        return tabs[index].post(f"/chat/drafts/{conversation}/discard",
                                data={"csrf_token": tokens[index]}).status_code

    with ThreadPoolExecutor(2) as pool:
        answers = sorted(pool.map(discard, range(2)))
    assert answers == [302, 404]  # one discards; the other finds no draft left, never a 500
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.get(Conversation, conversation).status == "cancelled"
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == DISCARDED)) == 1


def test_another_operators_draft_cannot_be_read_discarded_or_explained(product: Flask) -> None:
    owner = signed_in(product, "op@example.org", "operator")
    conversation = start(owner, api(owner))["conversation"]
    intruder = signed_in(product, "other@example.org", "operator")
    token = page_csrf(intruder)
    assert intruder.get(f"/chat/conversations/{conversation}/panels").status_code == 404
    assert intruder.get(f"/chat/drafts/{conversation}/discard").status_code == 404
    assert intruder.post(f"/chat/drafts/{conversation}/discard", data={"csrf_token": token}).status_code == 404
    assert intruder.post(f"/chat/conversations/{conversation}/explanation", json={"language": "en"},
                         headers={"X-CSRFToken": token}).status_code == 404
    caseworker = signed_in(product, "cw@example.org", "caseworker")
    assert caseworker.get("/chat/drafts").status_code == 403
    assert caseworker.get(f"/chat/conversations/{conversation}/panels").status_code == 403


def test_the_whole_transcript_of_a_draft_is_kept_and_goes_once_it_is_sent(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    headers = api(client)
    opened = start(client, headers)
    conversation = opened["conversation"]
    say(client, headers, conversation, CHILD["reference"])
    say(client, headers, conversation, CHILD["user-organisation"], shown="The organisation, as shown")
    history = client.get(f"/chat/conversations/{conversation}/panels").get_json()["history"]
    assert [entry["sender"] for entry in history[:2]] == ["assistant"] * len(opened["messages"][:2])
    typed = [entry["text"] for entry in history if entry["sender"] == "operator"]
    assert typed == [CHILD["reference"], "The organisation, as shown"]  # as the page showed them
    assert history[-1]["text"].startswith("(About you 3/4)")  # the current question last
    assert all(re.match(r"\d{4}-\d\d-\d\dT", entry["at"]) for entry in history)
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        texts = session.scalars(select(ChatMessage.text).where(ChatMessage.conversation_id == conversation))
        assert all(isinstance(text, dict) for text in texts)
        raw = session.execute(select(func.group_concat(ChatMessage.__table__.c.text))).scalar()
        assert CHILD["reference"] not in raw  # encrypted at rest
    reply = answer_until(client, headers, say(client, headers, conversation, CHILD["user-email"]), "none")
    assert reply["question"]["kind"] == "confirm"
    panels = client.get(f"/chat/conversations/{conversation}/panels").get_json()
    assert "Check your answers" not in panels["answers"] and 'data-edit="1"' in panels["answers"]
    assert say(client, headers, conversation, "CONFIRM")["reference"]
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(ChatMessage)
                              .where(ChatMessage.conversation_id == conversation)) == 0


def test_a_refused_answer_is_marked_refused_and_a_command_or_a_good_answer_is_not(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    headers = api(client)
    reply = answer_until(client, headers, start(client, headers), "user-email")
    conversation = reply["conversation"]
    refused = say(client, headers, conversation, "not an email address")
    assert refused["refused"] is True and refused["question"]["id"] == "user-email"
    assert say(client, headers, conversation, "HELP")["refused"] is False
    assert say(client, headers, conversation, EMAIL)["refused"] is False


def test_the_consent_explanation_is_shown_in_the_language_chosen_and_recorded(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    headers = api(client)
    reply = start(client, headers)
    conversation = reply["conversation"]
    url = f"/chat/conversations/{conversation}/explanation"
    early = client.post(url, json={"language": "en"}, headers=headers).get_json()["html"]
    assert "Answer whether they are under 18 first" in early
    answer_until(client, headers, reply, "pv-dob")  # a child: "under 18" answered yes
    assert client.post(url, json={"language": "xx"}, headers=headers).status_code == 400
    shown = client.post(url, json={"language": "cy"}, headers=headers).get_json()["html"]
    assert 'lang="cy" dir="ltr"' in shown and "About the NRM" not in shown
    arabic = client.post(url, json={"language": "ar"}, headers=headers).get_json()["html"]
    assert 'lang="ar" dir="rtl"' in arabic
    tigrinya = client.post(url, json={"language": "ti"}, headers=headers).get_json()["html"]
    assert "machine-assisted draft" in tigrinya and "ትግርኛ" in tigrinya  # the operator is warned first
    assert "machine-assisted draft" not in client.post(url, json={"language": "en"}, headers=headers).get_json()["html"]
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        state = session.get(Conversation, conversation).state
        assert state["consent_explanations"] == [{"version": "explanation-child-v2", "language": language}
                                                 for language in ("cy", "ar", "ti", "en")]


def test_exit_this_page_ends_the_session_and_keeps_the_draft(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    html = client.get("/chat").get_data(as_text=True)
    assert 'data-module="govuk-exit-this-page"' in html
    conversation = start(client, api(client))["conversation"]
    token = page_csrf(client)
    assert client.post("/chat/exit").status_code == 400  # no CSRF token: not from another site
    assert client.post("/chat/exit", data={"csrf_token": token}).status_code == 204
    assert client.get("/chat").status_code == 302  # signed out
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.get(Conversation, conversation).status == "draft"


def test_nothing_typed_reaches_the_logs(product: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = signed_in(product, "op@example.org", "operator")
    headers = api(client)
    reply = answer_until(client, headers, start(client, headers), "user-email")
    say(client, headers, reply["conversation"], "secret.person@example.org", shown="secret.person@example.org")
    client.get(f"/chat/conversations/{reply['conversation']}/panels")
    client.get("/chat/drafts")
    assert "secret.person" not in caplog.text and CHILD["reference"] not in caplog.text


def test_the_purge_deletes_the_transcript_of_a_conversation_no_longer_a_web_draft(product: Flask) -> None:
    """A draft finished outside the web chat (moved to SMS, then sent there) keeps no transcript."""
    from bot.purge import run_purge

    client = signed_in(product, "op@example.org", "operator")
    headers = api(client)
    kept = start(client, headers)["conversation"]
    moved = start(client, headers)["conversation"]
    say(client, headers, moved, CHILD["reference"])
    with product.app_context(), db.get_db(product).transaction() as session:
        conversation = session.get(Conversation, moved)
        conversation.channel, conversation.status = "sms", "submitted"
    run_purge(product)
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        left = set(session.scalars(select(ChatMessage.conversation_id)))
    assert left == {kept}
