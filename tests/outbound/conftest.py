"""Fixtures of the outbound tests: the whole product with a registered SMS number, its providers
pointed at local stub servers (``tests.outbound.stubs``), and helpers to make and read cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from backend import db
from backend.db import utcnow
from backend.intake import submit
from backend.models import Responder, User
from backend.outbound.models import OutboundMessage
from backend.outbound.settings import KEYS
from tests.bot.sms_support import ENV_KEYS, PHONE, make_sms_app
from tests.flows.conversation import walked_payload
from tests.outbound.stubs import notify_stub, provider_config, twilio_stub  # noqa: F401 - fixtures

ORG = "The Salvation Army"


def clear_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in (*ENV_KEYS, *KEYS, "AUDIT_KEY"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def outbound_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, twilio_stub, notify_stub) -> Iterator[Flask]:  # noqa: F811
    """The whole product, SMS number registered, both providers on their stubs."""
    clear_environment(monkeypatch)
    app = make_sms_app(tmp_path, **provider_config(twilio_stub, notify_stub))
    yield app
    db.get_db(app).engine.dispose()


def submit_referral(app: Flask, route: str = "adult", **answers: Any) -> str:
    """A referral made by SMS from the registered number (through the intake), with ``answers``
    changed (None removes one); its reference."""
    payload = walked_payload(route)
    payload["answers"].update(answers)  # None removes an answer
    payload["answers"] = {key: value for key, value in payload["answers"].items() if value is not None}
    with app.app_context(), db.get_db(app).transaction() as session:
        responder = session.scalars(select(Responder).where(Responder.phone_e164 == PHONE)).one()
        return submit(session, payload, None, actor=f"responder:{responder.id}").reference


def make_staff(app: Flask, role: str, organisation: str | None = None) -> int:
    with app.app_context(), db.get_db(app).transaction() as session:
        number = session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0
        user = User(email=f"{role}-{number + 1}@example.org", role=role, password_hash="x",
                    organisation=organisation, active=True)
        session.add(user)
        session.flush()
        return user.id


def outbox(app: Flask) -> list[OutboundMessage]:
    """Every outbox row, oldest first (decrypted; detached)."""
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        session.expunge_all()
        return list(rows)


def now() -> Any:
    return utcnow()
