"""Text hygiene on PostgreSQL, which refuses NUL in any text (psycopg raises before the query is
sent): a NUL in an SMS MessageSid or From, a conversation id, a case reference, an email or a JSON
string answers 4xx, never 500; a NUL in an SMS text is removed and the answer kept.

Needs ``DATABASE_URL_PG`` (skipped locally without a server, failed in CI: ``tests/conftest.py``).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from backend import auth, db
from backend.models import AuditEvent, Decision
from tests.bot.conftest import claimed_case, make_user
from tests.bot.sms_support import SmsPhone, form, start
from tests.bot.test_postgres_channels import pg_product  # noqa: F401 - the fixture

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("field", ["MessageSid", "From"])
def test_nul_in_an_sms_message_sid_or_sender_answers_400_on_postgres(pg_product: Flask, field: str) -> None:
    params = form("hello")
    params[field] = params[field] + "\x00"
    assert SmsPhone(pg_product).post(params).status_code == 400


def test_nul_in_an_sms_answer_is_removed_on_postgres(pg_product: Flask) -> None:
    phone = SmsPhone(pg_product)
    start(phone)
    phone.send("Ref\x00 A")
    assert phone.answer("reference") == "Ref A"


@pytest.mark.parametrize("path", [
    "/api/chat/conversations/abc%00def",
    "/api/chat/conversations/abc%00def/messages",
])
def test_nul_in_a_conversation_id_answers_400_on_postgres(pg_product: Flask, path: str) -> None:
    token = make_user(pg_product, "operator@example.org", "operator")
    client = pg_product.test_client()
    method = client.post if path.endswith("/messages") else client.get
    response = method(path, json={"text": "hello"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400


def test_nul_in_a_web_chat_answer_answers_400_on_postgres(pg_product: Flask) -> None:
    headers = {"Authorization": f"Bearer {make_user(pg_product, 'operator@example.org', 'operator')}"}
    client = pg_product.test_client()
    conversation = client.post("/api/chat/conversations", headers=headers).get_json()["conversation"]
    response = client.post(f"/api/chat/conversations/{conversation}/messages", json={"text": "Ref\x00"},
                           headers=headers)
    assert response.status_code == 400


@pytest.mark.parametrize("path", [
    "/api/v1/cases/NRM-2026-000001%00",
    "/api/v1/cases/NRM-2026-000001%00/claim",
    "/casework/cases/NRM-2026-000001%00",
])
def test_nul_in_a_case_reference_answers_400_on_postgres(pg_product: Flask, path: str) -> None:
    _, token = claimed_case(pg_product)
    client = pg_product.test_client()
    method = client.post if path.endswith("/claim") else client.get
    assert method(path, headers={"Authorization": f"Bearer {token}"}).status_code == 400


def test_nul_in_decision_reasons_answers_400_on_postgres(pg_product: Flask) -> None:
    reference, token = claimed_case(pg_product)
    response = pg_product.test_client().post(
        f"/api/v1/cases/{reference}/decisions", headers={"Authorization": f"Bearer {token}"},
        json={"stage": "rg", "outcome": "negative", "reasons": "said\x00 so"})
    assert response.status_code == 400
    with pg_product.app_context(), db.get_db(pg_product).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 0


def test_nul_in_a_sign_in_email_answers_400_on_postgres(pg_product: Flask) -> None:
    with pg_product.app_context(), db.get_db(pg_product).transaction() as session:
        auth.create_user(session, "operator@example.org", "operator", "correct horse battery")
    client = pg_product.test_client()
    page = client.get("/casework/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    response = client.post("/casework/sign-in", data={
        "csrf_token": csrf.group(1), "email": "operator@example.org\x00", "password": "correct horse battery"})
    assert response.status_code == 400
    with pg_product.app_context(), db.get_db(pg_product).transaction(readonly=True) as session:
        attempts = session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action.like("user.sign%")))
    assert attempts == 0  # refused before any sign-in attempt was made
