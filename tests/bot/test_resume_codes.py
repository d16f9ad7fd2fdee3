"""Cross-channel resume (bot.resume_codes): SMS -> web chat and web chat -> SMS, one-time codes."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from backend import auth, db
from backend.db import utcnow
from backend.models import Conversation, ResumeCode
from bot import resume_codes
from tests.bot.sms_support import ENV_KEYS, PHONE, SmsPhone, make_sms_app, start

PASSWORD = "correct horse battery staple"
CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for key in (*ENV_KEYS, "RESUME_CODE_MINUTES"):
        monkeypatch.delenv(key, raising=False)
    application = make_sms_app(tmp_path)
    yield application
    db.get_db(application).engine.dispose()


class Operator:
    """A signed-in operator using the chat API as the /chat page does."""

    def __init__(self, app: Flask, email: str = "op@example.org") -> None:
        with app.app_context(), db.get_db(app).transaction() as session:
            self.id = auth.create_user(session, email, "operator", PASSWORD).id
        self.client: FlaskClient = app.test_client()
        page = self.client.get("/casework/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.client.post("/casework/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD})
        chat = self.client.get("/chat").get_data(as_text=True)
        self.headers = {"X-CSRFToken": re.search(r'data-csrf="([^"]+)"', chat).group(1)}

    def resume(self, code: str) -> Any:
        return self.client.post("/api/chat/resume", json={"code": code}, headers=self.headers)

    def open(self) -> dict[str, Any]:
        response = self.client.post("/api/chat/conversations", json={}, headers=self.headers)
        assert response.status_code == 201
        return response.get_json()

    def say(self, conversation: str, text: str) -> dict[str, Any]:
        response = self.client.post(f"/api/chat/conversations/{conversation}/messages",
                                    json={"text": text}, headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def _conversation(app: Flask, conversation_id: str) -> Conversation:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return session.get(Conversation, conversation_id)


def _sms_code(phone: SmsPhone) -> str:
    """Start a referral by SMS (in English), answer one question, send REVIEW; the code offered."""
    start(phone)
    phone.send("Ref A")
    assert phone.current() == "fr-location"
    replies = phone.send("REVIEW")
    offer = replies[-1].splitlines()[-1]  # the last line (SMS packs short messages together)
    assert offer.startswith("To carry on in web chat, use code "), replies
    return CODE.search(offer).group(1)


def _sms_code_offer(phone: SmsPhone) -> str:
    """The line of the REVIEW reply that offers the code."""
    _sms_code(phone)
    return phone.replies[-1].splitlines()[-1]


def test_review_by_sms_offers_a_code_that_moves_the_draft_to_web_chat(app: Flask) -> None:
    phone = SmsPhone(app)
    code = _sms_code(phone)
    draft_id = phone.draft().id
    assert all(ch in resume_codes.ALPHABET for ch in code.replace("-", ""))

    operator = Operator(app)
    response = operator.resume(code)
    assert response.status_code == 200, response.get_json()
    reply = response.get_json()
    assert reply["conversation"] == draft_id  # the same draft, not a copy
    assert reply["question"]["id"] == "fr-location"
    moved = _conversation(app, draft_id)
    assert (moved.channel, moved.address, moved.status) == ("web", f"user:{operator.id}", "draft")
    assert moved.state["answers"]["reference"]["value"] == "Ref A"
    assert "channel" not in moved.state  # no SMS notes follow it

    # it carries on in web chat, and /chat names it as the draft to resume
    assert operator.say(draft_id, "1")["question"]["id"] != "fr-location"
    assert f'data-draft="{draft_id}"' in operator.client.get("/chat").get_data(as_text=True)
    # the phone no longer has that draft: its next message starts a new referral
    assert phone.draft() is None


def test_a_code_works_once(app: Flask) -> None:
    code = _sms_code(SmsPhone(app))
    first, second = Operator(app, "one@example.org"), Operator(app, "two@example.org")
    assert first.resume(code).status_code == 200
    again = second.resume(code)
    assert again.status_code == 400
    assert again.get_json()["reason"] == "used"


def test_a_code_expires(app: Flask) -> None:
    code = _sms_code(SmsPhone(app))
    with app.app_context(), db.get_db(app).transaction() as session:
        session.execute(update(ResumeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = Operator(app).resume(code)
    assert response.status_code == 400
    assert response.get_json()["reason"] == "expired"


def test_codes_last_thirty_minutes_by_default_and_the_time_is_configurable(app: Flask) -> None:
    _sms_code(SmsPhone(app))
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        row = session.scalars(select(ResumeCode)).one()
        assert row.expires_at - row.created_at == timedelta(minutes=30)
    app.config["RESUME_CODE_MINUTES"] = 5
    phone = SmsPhone(app)
    assert "within 5 minutes" in phone.send("REVIEW")[-1].splitlines()[-1]


def test_a_one_minute_code_says_minute_in_the_singular(app: Flask) -> None:
    app.config["RESUME_CODE_MINUTES"] = 1
    offer = _sms_code_offer(SmsPhone(app))
    assert offer.endswith("It works once, within 1 minute.")


@pytest.mark.usefixtures("compiled_catalogues")
def test_resume_by_sms_takes_the_word_of_any_language_with_or_without_accents(app: Flask) -> None:
    operator = Operator(app)
    for typed in ("tiep tuc {code}", "Wznów {code}.", "PARHAU {code}"):
        conversation = operator.open()["conversation"]
        code = CODE.search(operator.say(conversation, "REVIEW")["messages"][-1]).group(1)
        SmsPhone(app).send(typed.format(code=code))
        assert _conversation(app, conversation).channel == "sms", typed
    assert resume_codes.sms_code("Maria ABCD 2345") is None  # a code, but not after RESUME
    assert resume_codes.sms_code("RESUMED ABCD-2345") is None


def test_a_new_code_voids_the_previous_one(app: Flask) -> None:
    phone = SmsPhone(app)
    old = _sms_code(phone)
    new = CODE.search(phone.send("REVIEW")[-1].splitlines()[-1]).group(1)
    assert new != old
    operator = Operator(app)
    assert operator.resume(old).get_json()["reason"] == "invalid"
    assert operator.resume(new).status_code == 200


def test_typing_is_forgiving_but_only_real_codes_work(app: Flask) -> None:
    code = _sms_code(SmsPhone(app))
    operator = Operator(app)
    for wrong in ("", "ABCD", "0000-0000", "ABCD-EFGH-JKMN"):
        response = operator.resume(wrong)
        assert response.status_code == 400 and response.get_json()["reason"] == "invalid"
    assert operator.resume(" " + code.lower().replace("-", " ") + " ").status_code == 200


def test_only_a_hash_of_the_code_is_stored(app: Flask) -> None:
    code = _sms_code(SmsPhone(app))
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        row = session.scalars(select(ResumeCode)).one()
        stored = " ".join(str(value) for value in (row.code_hash, row.issued_by, row.target_channel))
    assert code not in stored and code.replace("-", "") not in stored
    assert row.issued_by.startswith("responder:") and PHONE not in stored


def test_a_finished_draft_cannot_be_resumed(app: Flask) -> None:
    phone = SmsPhone(app)
    code = _sms_code(phone)
    phone.send("DISCARD")
    phone.send("YES")
    assert phone.draft() is None
    response = Operator(app).resume(code)
    assert response.status_code == 400
    assert response.get_json()["reason"] in ("finished", "invalid")  # the row goes with the draft


def test_codes_from_web_chat_do_not_work_in_web_chat(app: Flask) -> None:
    operator = Operator(app)
    reply = operator.open()
    review = operator.say(reply["conversation"], "REVIEW")
    offer = review["messages"][-1]
    assert offer.startswith("To carry on by SMS, text RESUME ")
    code = CODE.search(offer).group(1)
    assert Operator(app, "other@example.org").resume(code).get_json()["reason"] == "invalid"


def test_review_in_web_chat_offers_a_code_to_carry_on_by_sms(app: Flask) -> None:
    operator = Operator(app)
    reply = operator.open()
    conversation = reply["conversation"]
    operator.say(conversation, "Ref Web")
    code = CODE.search(operator.say(conversation, "REVIEW")["messages"][-1]).group(1)

    phone = SmsPhone(app)
    replies = phone.send(f"resume {code.lower()}")
    draft = phone.draft()
    assert draft is not None and draft.id == conversation
    assert (draft.channel, draft.address) == ("sms", PHONE)
    assert phone.current() == "user-organisation"
    assert "\n".join(replies).startswith("(2/")  # the current question, asked again
    # web chat has lost it
    gone = operator.client.get(f"/api/chat/conversations/{conversation}", headers=operator.headers)
    assert gone.status_code == 404
    # and the code is spent
    assert "not valid" in SmsPhone(app).send(f"RESUME {code}")[-1]


def test_a_wrong_code_by_sms_says_so_and_changes_nothing(app: Flask) -> None:
    phone = SmsPhone(app)
    phone.send("hello")
    before = phone.current()
    replies = phone.send("RESUME ABCD-2345")
    assert replies == ["That resume code is not valid: it may have expired or been used already."]
    assert phone.current() == before
