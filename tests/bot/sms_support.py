"""A Twilio stand-in for the SMS tests: signed webhook posts in, the TwiML messages out.

``SmsPhone`` signs every request the way Twilio does (``RequestValidator.compute_signature`` over
``PUBLIC_BASE_URL`` + path and the form fields), while the test client itself talks to
http://127.0.0.1, as a proxy in front of the app would. ``make_sms_app`` builds the whole product
on a migrated SQLite file with a registered responder.

A first contact is answered with the numbered language list; ``start`` sends a first message and
picks a language (``"1"``: English), as a sender does before the first question.
"""

from __future__ import annotations

import itertools
import uuid
import xml.etree.ElementTree as ElementTree
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from sqlalchemy import inspect, select, text, update
from twilio.request_validator import RequestValidator

from backend import db
from backend.models import Conversation, Responder
from bot.app import create_app
from flows import languages
from tests.conftest import backend_test_config, migrate

TOKEN = "test-token"
BASE = "https://nrm.example.org"
PATH = "/sms/twilio"
PHONE = "+447700900123"
OTHER_PHONE = "+447700900999"
SERVICE_NUMBER = "+441134960000"
ENV_KEYS = ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "NRM_ENV", "TWILIO_AUTH_TOKEN",
            "PUBLIC_BASE_URL", "NRM_INSTANCE_PATH", "QUICK_EXIT_WORD", "SMS_RESUME_AFTER_MINUTES")

_counter = itertools.count(1)


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def sms_config(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return backend_test_config(tmp_path, **{"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE, **extra})


def make_sms_app(tmp_path: Path, register: tuple[str, ...] = (PHONE,), **extra: Any) -> Flask:
    app = create_app(sms_config(tmp_path, **extra))
    migrate(app)
    with app.app_context(), db.get_db(app).transaction() as session:
        for phone in register:
            session.add(Responder(phone_e164=phone, organisation="The Salvation Army",
                                  name="Sam Jones", email="sam.jones@example.org"))
    return app


def form(body: str, sender: str = PHONE, sid: str | None = None, **fields: Any) -> dict[str, str]:
    values = {
        "MessageSid": sid or new_sid(),
        "SmsSid": "",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": SERVICE_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }
    values["SmsSid"] = values["MessageSid"]
    values.update({key: str(value) for key, value in fields.items()})
    return values


def sign(params: Mapping[str, str], url: str = BASE + PATH, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, dict(params))


def messages_of(xml: bytes | str) -> list[str]:
    """The text of each <Message> of a TwiML answer, in order."""
    root = ElementTree.fromstring(xml)
    assert root.tag == "Response", xml
    return [element.text or "" for element in root.findall("Message")]


class SmsPhone:
    """One registered handset texting the service through Twilio."""

    def __init__(self, app: Flask, phone: str = PHONE) -> None:
        self.app = app
        self.phone = phone
        self.client = app.test_client()
        self.replies: list[str] = []

    def post(self, params: Mapping[str, str], signature: str | None = "sign", path: str = PATH):
        headers = {}
        if signature == "sign":
            headers["X-Twilio-Signature"] = sign(params, BASE + path)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self.client.post(path, data=dict(params), headers=headers, base_url="http://127.0.0.1:5000")

    def send(self, body: str, sid: str | None = None, **fields: Any) -> list[str]:
        """Text ``body``; returns the reply messages (asserting a 200 TwiML answer)."""
        response = self.post(form(body, self.phone, sid, **fields))
        assert response.status_code == 200, response.data
        assert response.mimetype in ("application/xml", "text/xml")
        self.replies = messages_of(response.data)
        return self.replies

    @property
    def text(self) -> str:
        return "\n".join(self.replies)

    # -- what the database holds ---------------------------------------------------------------

    def draft(self) -> Conversation | None:
        with self.app.app_context(), db.get_db(self.app).transaction(readonly=True) as session:
            statement = (select(Conversation)
                         .where(Conversation.address == self.phone, Conversation.status == "draft")
                         .order_by(Conversation.updated_at.desc()))
            return session.scalars(statement).first()

    def state(self) -> dict[str, Any]:
        draft = self.draft()
        assert draft is not None, "no draft"
        return draft.state or {}

    def choosing_language(self) -> bool:
        """Is the draft waiting for a reply to the language list?"""
        draft = self.draft()
        return draft is not None and "language" in ((draft.state or {}).get("pending") or {})

    def current(self) -> str | None:
        draft = self.draft()
        return None if draft is None else (draft.state or {}).get("current")

    def answer(self, qid: str) -> Any:
        return self.state()["answers"][qid]["value"]

    def age_draft(self, when: datetime) -> None:
        """Pretend the sender's draft was last touched at ``when``."""
        with self.app.app_context(), db.get_db(self.app).transaction() as session:
            session.execute(update(Conversation).where(Conversation.address == self.phone)
                            .values(updated_at=when))

    def responder(self) -> Responder:
        with self.app.app_context(), db.get_db(self.app).transaction(readonly=True) as session:
            return session.scalars(select(Responder).where(Responder.phone_e164 == self.phone)).one()


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table of the database (to show that nothing at all was stored)."""
    engine = db.get_db(app).engine
    tables = [name for name in inspect(engine).get_table_names() if name != "alembic_version"]
    with engine.connect() as connection:
        return {name: connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
                for name in tables}


def start(phone: SmsPhone, choice: str = "1", first: str = "hello") -> list[str]:
    """A first contact: ``first`` opens a draft and gets the language list, ``choice`` picks a
    language (its number in the list: "1" English, "2" Cymraeg...). Returns the reply to the
    choice: the welcome and the first question, in that language."""
    menu = phone.send(first)
    assert menu and menu[-1].endswith(languages.menu_lines()), menu
    assert phone.choosing_language()
    replies = phone.send(choice)
    assert not phone.choosing_language(), f"{choice!r} did not pick a language: {phone.text}"
    return replies


def walk(phone: SmsPhone, answers: Mapping[str, str], limit: int = 200, language: str = "1") -> list[str]:
    """Answer every question asked, by field id, until the summary; returns the ids asked.
    The language list, if it is waiting for a reply, is answered with ``language``."""
    asked: list[str] = []
    for _ in range(limit):
        if phone.choosing_language():
            phone.send(language)
            assert not phone.choosing_language(), f"{language!r} did not pick a language: {phone.text}"
            continue
        qid = phone.current()
        if qid == "review":
            return asked
        assert qid in answers, f"unexpected question {qid}: {phone.text}"
        asked.append(qid)
        phone.send(answers[qid])
        assert phone.current() != qid, f"answer {answers[qid]!r} to {qid} refused: {phone.text}"
    raise AssertionError("did not reach the summary")
