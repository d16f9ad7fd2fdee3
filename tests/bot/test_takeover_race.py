"""An SMS racing a web chat takeover of the same draft (``POST /api/chat/resume`` with the code
from SMS REVIEW) answers cleanly, on SQLite and on PostgreSQL: never a 5xx, exactly one of the
two wins, and the loser is told so (SMS: the draft moved to web chat; web chat: 409), with never
more than one case for the draft.

Each round puts a fresh copy of one draft at its summary in the sender's name, issues a code for
it, and lets an SMS "CONFIRM" and a takeover go at the same moment from two threads.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from backend import db
from backend.models import Case, Conversation, Responder
from bot import resume_codes
from tests.bot.conftest import make_user
from tests.bot.sms_support import PHONE, SmsPhone, form, start, walk
from tests.flows.conversation import ADULT_NRM

MOVED = "This referral has moved to web chat and carries on there. Text again to start a new referral."


@pytest.fixture
def pg_app(pg_sms_app: Flask) -> Flask:
    return pg_sms_app


class Race:
    """A draft at its summary, copied afresh for each round; an operator with a bearer token."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        phone = SmsPhone(app)
        start(phone)
        walk(phone, ADULT_NRM)
        assert "Reply CONFIRM" in phone.replies[-1]
        draft = phone.draft()
        self.state, self.language = draft.state, draft.language
        with app.app_context(), db.get_db(app).transaction() as session:
            session.delete(session.get(Conversation, draft.id))
            self.responder = session.scalar(select(Responder.id).where(Responder.phone_e164 == PHONE))
        self.operators = 0
        self.token = self.new_operator()

    def new_operator(self) -> str:
        """A bearer token of a new operator (a lost race is a refused code, which the resume
        code throttle counts per operator: each round gets its own)."""
        self.operators += 1
        return make_user(self.app, f"operator{self.operators}@example.org", "operator")

    def new_draft(self) -> tuple[str, str]:
        """A copy of the summary draft as the sender's only draft, and a code for web chat."""
        with self.app.app_context(), db.get_db(self.app).transaction() as session:
            draft = Conversation(channel="sms", address=PHONE, status="draft", language=self.language,
                                 state=self.state)
            session.add(draft)
            session.flush()
            code = resume_codes.issue(session, draft, "web", f"responder:{self.responder}")
            return draft.id, code

    def run(self, rounds: int) -> list[str]:
        """Race ``rounds`` times; the winner of each round (``sms`` or ``web``)."""
        winners = []
        for _ in range(rounds):
            draft_id, code = self.new_draft()
            self.token = self.new_operator()
            winners.append(self.round(draft_id, code))
        return winners

    def round(self, draft_id: str, code: str) -> str:
        barrier = threading.Barrier(2)
        results: dict[str, Any] = {}

        def sms() -> None:
            barrier.wait(timeout=10)
            response = SmsPhone(self.app).post(form("CONFIRM"))
            results["sms"] = (response.status_code, response.get_data(as_text=True))

        def web() -> None:
            barrier.wait(timeout=10)
            response = self.app.test_client().post(
                "/api/chat/resume", json={"code": code}, headers={"Authorization": f"Bearer {self.token}"})
            results["web"] = (response.status_code, response.get_json())

        errors: list[BaseException] = []

        def guarded(target: Any) -> Any:
            def run() -> None:
                try:
                    target()
                except BaseException as error:  # noqa: BLE001 - a 5xx raised through the test client
                    errors.append(error)
            return run

        threads = [threading.Thread(target=guarded(sms)), threading.Thread(target=guarded(web))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == [], errors
        (sms_status, sms_body), (web_status, web_body) = results["sms"], results["web"]
        assert sms_status == 200 and web_status < 500, (sms_status, web_status, web_body)
        cases = self.cases(draft_id)
        if "Reference: NRM-" in sms_body:  # the SMS came first: the referral is made, once
            assert cases == 1
            assert web_status == 409 and web_body.get("reason") == "finished", (web_status, web_body)
            assert "no longer in progress" in web_body["error"]
            return "sms"
        assert MOVED in sms_body and "Choose a language" not in sms_body, sms_body
        assert web_status == 200 and web_body["conversation"] == draft_id, web_body
        assert cases == 0
        with self.app.app_context(), db.get_db(self.app).transaction(readonly=True) as session:
            moved = session.get(Conversation, draft_id)
            assert (moved.channel, moved.status) == ("web", "draft")
            drafts = session.scalar(select(func.count()).select_from(Conversation)
                                    .where(Conversation.address == PHONE, Conversation.status == "draft"))
            assert drafts == 0  # the SMS opened no new referral
        return "web"

    def cases(self, draft_id: str) -> int:
        with self.app.app_context(), db.get_db(self.app).transaction(readonly=True) as session:
            return session.scalar(select(func.count()).select_from(Case).where(Case.conversation_id == draft_id))


def test_sms_confirm_racing_a_web_chat_takeover_answers_cleanly_on_sqlite(sms_app: Flask) -> None:
    Race(sms_app).run(8)  # each round checks its outcome


@pytest.mark.postgres
def test_sms_confirm_racing_a_web_chat_takeover_answers_cleanly_on_postgres(pg_app: Flask) -> None:
    Race(pg_app).run(30)  # each round checks its outcome


def test_an_sms_after_a_web_chat_takeover_is_told_where_the_draft_went_and_the_next_one_starts_anew(
        sms_app: Flask) -> None:
    race = Race(sms_app)
    draft_id, code = race.new_draft()
    response = sms_app.test_client().post("/api/chat/resume", json={"code": code},
                                          headers={"Authorization": f"Bearer {race.token}"})
    assert response.status_code == 200
    phone = SmsPhone(sms_app)
    assert phone.send("CONFIRM") == [MOVED]
    assert phone.draft() is None and race.cases(draft_id) == 0
    assert "Choose a language" in phone.send("hello")[-1] or phone.choosing_language()


def test_a_takeover_after_the_sms_confirmed_gets_409(sms_app: Flask) -> None:
    race = Race(sms_app)
    draft_id, code = race.new_draft()
    assert "Reference: NRM-" in "\n".join(SmsPhone(sms_app).send("CONFIRM"))
    response = sms_app.test_client().post("/api/chat/resume", json={"code": code},
                                          headers={"Authorization": f"Bearer {race.token}"})
    assert response.status_code == 409 and response.get_json()["reason"] == "finished"
    assert race.cases(draft_id) == 1


def test_a_web_chat_message_to_a_draft_its_code_moved_to_sms_gets_409_not_404(sms_app: Flask) -> None:
    token = make_user(sms_app, "operator@example.org", "operator")
    client, headers = sms_app.test_client(), {"Authorization": f"Bearer {token}"}
    conversation = client.post("/api/chat/conversations", headers=headers).get_json()["conversation"]
    path = f"/api/chat/conversations/{conversation}/messages"
    review = client.post(path, json={"text": "REVIEW"}, headers=headers).get_json()
    code = review["messages"][-1].split("RESUME ", 1)[1].split(" ", 1)[0]
    phone = SmsPhone(sms_app)
    phone.send(f"RESUME {code}")
    assert phone.draft().id == conversation

    late = client.post(path, json={"text": "Ref A"}, headers=headers)
    assert late.status_code == 409 and late.get_json()["reason"] == "moved"
    assert "moved to SMS" in late.get_json()["error"]
    assert phone.current() == "reference"  # not applied
    other = make_user(sms_app, "other@example.org", "operator")
    stranger = client.post(path, json={"text": "Ref A"}, headers={"Authorization": f"Bearer {other}"})
    assert stranger.status_code == 404  # to anyone else it does not exist
