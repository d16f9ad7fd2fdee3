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
from backend.models import AuditEvent, Conversation, ResumeCode, ResumeFailure
from bot import resume_codes
from bot.purge import purge, run_purge
from tests.bot.sms_support import ENV_KEYS, PHONE, SmsPhone, make_sms_app, start

PASSWORD = "correct horse battery staple"
CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for key in (*ENV_KEYS, "RESUME_CODE_MINUTES", "RESUME_CODE_MAX_FAILURES",
                "RESUME_CODE_FAILURE_WINDOW_MINUTES"):
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
    # a conflict with what happened by SMS, unless the code's row went with the draft
    assert (response.status_code, response.get_json()["reason"]) in ((409, "finished"), (400, "invalid"))


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
    assert "\n".join(replies).startswith("(About you 2/")  # the current question, asked again
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


# -- wrong codes are throttled per redeemer ---------------------------------------------------------

TOO_MANY = "Too many wrong resume codes. For security, wait {} before you try again."


def _wrong(code: str) -> str:
    """A well-formed code that is not ``code`` (its last symbol changed)."""
    last = resume_codes.ALPHABET[(resume_codes.ALPHABET.index(code[-1]) + 1) % len(resume_codes.ALPHABET)]
    return code[:-1] + last


def _failures(app: Flask) -> list[tuple[str, Any]]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return [(row.key, row.at) for row in session.scalars(select(ResumeFailure).order_by(ResumeFailure.id))]


def _age_failures(app: Flask, by: timedelta) -> None:
    """Pretend every stored failure happened ``by`` earlier."""
    with app.app_context(), db.get_db(app).transaction() as session:
        for row in session.scalars(select(ResumeFailure)):
            row.at = row.at - by


def _throttle_events(app: Flask) -> list[AuditEvent]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "resume_code.throttled")
                                    .order_by(AuditEvent.id)))


def test_five_wrong_codes_then_even_the_right_one_is_refused_until_the_window_passes(app: Flask) -> None:
    phone = SmsPhone(app)
    code = _sms_code(phone)
    operator = Operator(app)
    for _ in range(5):
        wrong = operator.resume(_wrong(code))
        assert wrong.status_code == 400 and wrong.get_json()["reason"] == "invalid"

    refused = operator.resume(code)
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["error"] == TOO_MANY.format("15 minutes")
    assert body["retry_after_minutes"] == 15 and body["language"] == "en"
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert phone.draft() is not None  # the draft stayed where it was
    # the refusal is audited (the operator, nothing of the code) and is not itself a failure
    [event] = _throttle_events(app)
    assert (event.actor, event.case_reference, event.detail) == (f"user:{operator.id}", None, {})
    assert len(_failures(app)) == 5
    assert {key for key, _ in _failures(app)} == {f"user:{operator.id}"}

    _age_failures(app, timedelta(minutes=10))  # the wait counts from the oldest failure
    later = operator.resume(code)
    assert later.status_code == 429 and later.get_json()["retry_after_minutes"] == 5
    assert int(later.headers["Retry-After"]) <= 5 * 60
    assert len(_throttle_events(app)) == 2

    _age_failures(app, timedelta(minutes=5, seconds=1))  # now out of the 15-minute window
    resumed = operator.resume(code)
    assert resumed.status_code == 200, resumed.get_json()
    assert resumed.get_json()["question"]["id"] == "fr-location"
    assert phone.draft() is None
    assert _failures(app) == []  # a success clears the redeemer's failures


def test_only_the_latest_failures_count_and_one_more_is_allowed_as_each_leaves_the_window(app: Flask) -> None:
    code = _sms_code(SmsPhone(app))
    operator = Operator(app)
    for _ in range(3):
        operator.resume(_wrong(code))
    _age_failures(app, timedelta(minutes=12))
    for _ in range(2):
        operator.resume(_wrong(code))
    assert operator.resume(code).get_json()["retry_after_minutes"] == 3  # the oldest leaves first
    _age_failures(app, timedelta(minutes=3, seconds=1))  # the three oldest leave the window
    for _ in range(3):  # two still count: three more wrong codes are answered as wrong
        assert operator.resume(_wrong(code)).status_code == 400
    assert operator.resume(code).status_code == 429


def test_a_success_clears_the_failures(app: Flask) -> None:
    code = _sms_code(SmsPhone(app))
    operator = Operator(app)
    for _ in range(4):
        assert operator.resume(_wrong(code)).status_code == 400
    assert operator.resume(code).status_code == 200
    assert _failures(app) == []
    for _ in range(5):  # a fresh count: five more wrong codes are answered as wrong
        assert operator.resume(_wrong(code)).status_code == 400
    assert operator.resume(_wrong(code)).status_code == 429


def test_one_operators_failures_do_not_block_another(app: Flask) -> None:
    code = _sms_code(SmsPhone(app))
    guesser, colleague = Operator(app, "guesser@example.org"), Operator(app, "colleague@example.org")
    for _ in range(5):
        guesser.resume(_wrong(code))
    assert guesser.resume(code).status_code == 429
    response = colleague.resume(code)
    assert response.status_code == 200, response.get_json()
    assert _conversation(app, response.get_json()["conversation"]).address == f"user:{colleague.id}"
    assert {key for key, _ in _failures(app)} == {f"user:{guesser.id}"}  # only the colleague's cleared


def test_the_limit_and_the_window_are_settings(app: Flask) -> None:
    app.config["RESUME_CODE_MAX_FAILURES"] = 2
    app.config["RESUME_CODE_FAILURE_WINDOW_MINUTES"] = 1
    code = _sms_code(SmsPhone(app))
    operator = Operator(app)
    for _ in range(2):
        assert operator.resume(_wrong(code)).status_code == 400
    refused = operator.resume(code)
    assert refused.status_code == 429
    assert refused.get_json()["error"] == TOO_MANY.format("1 minute")
    _age_failures(app, timedelta(minutes=1))
    assert operator.resume(code).status_code == 200


@pytest.mark.usefixtures("compiled_catalogues")
def test_the_web_refusal_is_in_the_language_the_browser_asks_for(app: Flask) -> None:
    code = _sms_code(SmsPhone(app))
    operator = Operator(app)
    for _ in range(5):
        operator.resume(_wrong(code))
    refused = operator.client.post("/api/chat/resume", json={"code": code},
                                   headers={**operator.headers, "Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["language"] == "pl"
    assert body["error"].startswith("Za dużo błędnych kodów wznowienia.") and "15 minut," in body["error"]


def test_wrong_codes_by_sms_are_throttled_per_responder_never_by_number(app: Flask) -> None:
    operator = Operator(app)
    conversation = operator.open()["conversation"]
    code = CODE.search(operator.say(conversation, "REVIEW")["messages"][-1]).group(1)
    phone = SmsPhone(app)
    for _ in range(5):
        assert phone.send(f"RESUME {_wrong(code)}") == [
            "That resume code is not valid: it may have expired or been used already."]
    assert phone.send(f"RESUME {code}") == [TOO_MANY.format("15 minutes")]
    assert _conversation(app, conversation).channel == "web"  # not moved

    responder = f"responder:{phone.responder().id}"
    assert {key for key, _ in _failures(app)} == {responder}
    [event] = _throttle_events(app)
    assert (event.actor, event.detail) == (responder, {})
    assert PHONE not in repr([(e.actor, e.detail) for e in _throttle_events(app)])

    _age_failures(app, timedelta(minutes=15))
    phone.send(f"RESUME {code}")
    assert _conversation(app, conversation).channel == "sms"
    assert _failures(app) == []


@pytest.mark.usefixtures("compiled_catalogues")
def test_the_sms_refusal_is_in_the_language_of_the_senders_draft(app: Flask) -> None:
    operator = Operator(app)
    conversation = operator.open()["conversation"]
    code = CODE.search(operator.say(conversation, "REVIEW")["messages"][-1]).group(1)
    phone = SmsPhone(app)
    start(phone, "6")  # Polski
    for _ in range(5):
        phone.send(f"WZNÓW {_wrong(code)}")
    [reply] = phone.send(f"WZNÓW {code}")
    assert reply == ("Za dużo błędnych kodów wznowienia. Ze względów bezpieczeństwa odczekaj 15 minut, "
                     "zanim spróbujesz ponownie.")
    assert _conversation(app, conversation).channel == "web"


def test_the_purge_deletes_failures_once_they_no_longer_count(app: Flask) -> None:
    now = utcnow()
    with app.app_context(), db.get_db(app).transaction() as session:
        session.add_all([ResumeFailure(key="user:1", at=now - timedelta(minutes=16)),
                         ResumeFailure(key="user:1", at=now - timedelta(minutes=14)),
                         ResumeFailure(key="responder:1", at=now - timedelta(days=2))])
    with app.app_context(), db.get_db(app).transaction() as session:
        assert purge(session, 7, now=now, failure_window=timedelta(minutes=15)).failures == 2
    assert [key for key, _ in _failures(app)] == ["user:1"]
    app.config["RESUME_CODE_FAILURE_WINDOW_MINUTES"] = 10
    with app.app_context():
        assert run_purge(app).endswith("and 1 old wrong resume code(s)")
    assert _failures(app) == []


@pytest.mark.parametrize("language", ["en", "cy", "sq", "vi", "ro", "pl", "ar"])
def test_the_sms_refusal_fits_in_the_language_budget_whatever_the_wait(language: str) -> None:
    """A plural message, so tests/test_translations.py does not measure it: checked here as sent."""
    from bot import translate
    from bot.segments import sanitise, segments
    from flows.i18n import ENGLISH
    from flows.languages import sms_segments

    t = ENGLISH if language == "en" else translate.in_memory(language)
    for minutes in (*range(1, 121), 1440, 10080):
        text = resume_codes.TooManyFailures(timedelta(minutes=minutes)).message(t)
        assert str(minutes) in text
        assert segments(sanitise(text)) <= sms_segments(language), (language, minutes, text)
