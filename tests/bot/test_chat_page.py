"""The /chat page and the chat API called from it with the session cookie and X-CSRFToken."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from backend import auth, db
from tests.bot.conftest import make_user

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE_CSRF = re.compile(r'data-csrf="([^"]+)"')


def signed_in(app: Flask, email: str, role: str) -> FlaskClient:
    with app.app_context(), db.get_db(app).transaction() as session:
        auth.create_user(session, email, role, PASSWORD)
    client = app.test_client()
    token = CSRF_FIELD.search(client.get("/casework/sign-in").get_data(as_text=True)).group(1)
    response = client.post("/casework/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def page_csrf(client: FlaskClient) -> str:
    page = client.get("/chat")
    assert page.status_code == 200
    return PAGE_CSRF.search(page.get_data(as_text=True)).group(1)


def test_anonymous_visitors_are_sent_to_sign_in(product: Flask) -> None:
    response = product.test_client().get("/chat")
    assert response.status_code == 302
    assert response.headers["Location"] == "/casework/sign-in?next=%2Fchat"


def test_other_roles_get_the_403_page(product: Flask) -> None:
    client = signed_in(product, "cw@example.org", "caseworker")
    response = client.get("/chat")
    assert response.status_code == 403
    assert "You cannot use this page" in response.get_data(as_text=True)


def test_the_page_has_the_chat_controls(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    html = client.get("/chat").get_data(as_text=True)
    assert 'role="log"' in html and 'aria-live="polite"' in html
    assert 'data-draft=""' in html
    for command in ("BACK", "HELP", "REVIEW"):
        assert f'data-command="{command}"' in html
    assert 'id="resume-code"' in html
    assert "/chat/static/chat.js" in html
    assert client.get("/chat/static/chat.js").status_code == 200


def test_the_session_api_needs_the_csrf_header(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    assert client.post("/api/chat/conversations", json={}).status_code == 400
    bad = client.post("/api/chat/conversations", json={}, headers={"X-CSRFToken": "forged"})
    assert bad.status_code == 400
    response = client.post("/api/chat/conversations", json={}, headers={"X-CSRFToken": page_csrf(client)})
    assert response.status_code == 201
    body = response.get_json()
    assert body["question"]["id"] and body["language"] == "en"


def test_a_reload_finds_the_latest_draft(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    headers = {"X-CSRFToken": page_csrf(client)}
    first = client.post("/api/chat/conversations", json={}, headers=headers).get_json()["conversation"]
    second = client.post("/api/chat/conversations", json={"language": "ar"}, headers=headers).get_json()
    assert second["language"] == "ar"
    listed = client.get("/api/chat/conversations?status=draft", headers=headers).get_json()["conversations"]
    assert [row["conversation"] for row in listed] == [second["conversation"], first]
    html = client.get("/chat").get_data(as_text=True)
    assert f'data-draft="{second["conversation"]}"' in html
    assert 'lang="ar" dir="rtl"' in html  # the conversation region follows the draft's language
    shown = client.get(f"/api/chat/conversations/{second['conversation']}", headers=headers).get_json()
    assert shown["question"]["id"] == second["question"]["id"]


def test_an_unknown_language_is_refused(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    response = client.post("/api/chat/conversations", json={"language": "xx"},
                           headers={"X-CSRFToken": page_csrf(client)})
    assert response.status_code == 400


def test_a_caseworker_session_may_not_use_the_chat_api(product: Flask) -> None:
    client = signed_in(product, "cw@example.org", "caseworker")
    token = CSRF_FIELD.search(client.get("/casework/sign-out").get_data(as_text=True)).group(1)
    response = client.post("/api/chat/conversations", json={}, headers={"X-CSRFToken": token})
    assert response.status_code == 403


def test_a_bearer_token_beats_the_session(product: Flask) -> None:
    """With an Authorization header only the token counts (a bad one is 401 even when signed in)."""
    client = signed_in(product, "op@example.org", "operator")
    bad = client.post("/api/chat/conversations", json={}, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    token = make_user(product, "api@example.org", "operator")
    good = client.post("/api/chat/conversations", json={}, headers={"Authorization": f"Bearer {token}"})
    assert good.status_code == 201  # no CSRF header needed with a token
    # and that conversation belongs to the token's user, not the session's
    listed = client.get("/api/chat/conversations", headers={"X-CSRFToken": page_csrf(client)})
    assert listed.get_json()["conversations"] == []


@pytest.mark.usefixtures("compiled_catalogues")
def test_the_page_chrome_and_the_scripts_words_follow_accept_language(product: Flask) -> None:
    client = signed_in(product, "op@example.org", "operator")
    html = client.get("/chat", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert re.search(r'<html lang="ar" dir="rtl"', html)
    assert "الإحالة عبر الدردشة على الويب" in html  # the heading
    assert 'data-page-lang="ar"' in html
    assert 'data-command="BACK">رجوع</button>' in html  # the label; the command sent stays BACK
    strings = json.loads(re.search(r'<script type="application/json" id="chat-strings">(.*?)</script>',
                                   html, re.DOTALL).group(1))
    assert strings["section_progress"] == "{section}: السؤال {step} من {of} (الجزء {number} من {parts})"
    assert set(strings) >= {"error", "you_said", "assistant", "select_all", "check_answers"}
    english = client.get("/chat").get_data(as_text=True)
    assert '<html lang="en" dir="ltr"' in english and "Web chat referral" in english
