"""The Twilio SMS channel (POST /sms/twilio) against the whole product on a real SQLite file."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from backend import db
from backend.db import utcnow
from backend.models import Case, Conversation, InboundMessage
from bot.app import create_app
from bot.segments import MAX_MESSAGE_CHARS, MAX_SEGMENTS, segments
from flows import languages
from flows.dialogue import BY_ID
from flows.i18n import ENGLISH
from tests.bot.sms_support import (BASE, ENV_KEYS, OTHER_PHONE, PATH, TOKEN, SmsPhone, form,
                                   make_sms_app, messages_of, new_sid, row_counts, sign, start, walk)
from tests.conftest import backend_test_config
from tests.flows.conversation import ADULT_NRM

HELPLINE = "08000 121 700"


def _count(app: Flask, model: type) -> int:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model))


# -- signatures -------------------------------------------------------------------------------------


def test_a_missing_signature_is_refused(phone: SmsPhone) -> None:
    response = phone.post(form("hello"), signature=None)
    assert response.status_code == 403
    assert phone.draft() is None


def test_a_forged_signature_is_refused(phone: SmsPhone) -> None:
    params = form("hello")
    assert phone.post(params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    wrong_token = sign(params, token="not-the-token")
    assert phone.post(params, signature=wrong_token).status_code == 403
    tampered = dict(params, Body="something else")
    assert phone.post(tampered, signature=sign(params)).status_code == 403
    assert phone.draft() is None


def test_the_signature_is_checked_against_the_public_url_behind_a_proxy(phone: SmsPhone) -> None:
    params = form("hello")
    # Signed for the address the app sees (http://127.0.0.1:5000/...): wrong behind the proxy.
    local = sign(params, url="http://127.0.0.1:5000" + PATH)
    assert phone.post(params, signature=local).status_code == 403
    # Signed for PUBLIC_BASE_URL + path, as Twilio signs it: accepted though the request came to 127.0.0.1.
    response = phone.post(params, signature=sign(params, url=BASE + PATH))
    assert response.status_code == 200
    assert messages_of(response.data)[-1].endswith(languages.menu_lines())  # first contact


def test_a_signed_message_costs_one_signature_computation(phone: SmsPhone, monkeypatch: pytest.MonkeyPatch) -> None:
    """twilio's ``validate`` computes two HMACs (the URL with and without its port); a message
    signed for the URL as configured needs one (issue 14: the SMS turn's CPU)."""
    from twilio.request_validator import RequestValidator

    computed: list[str] = []
    compute = RequestValidator.compute_signature

    def counting(self: RequestValidator, uri: str, params: Any, algorithm: str | None = None) -> str:
        computed.append(uri)
        return compute(self, uri, params, algorithm)

    monkeypatch.setattr(RequestValidator, "compute_signature", counting)
    params = form("hello")
    signature = compute(RequestValidator(TOKEN), BASE + PATH, dict(params))
    assert phone.post(params, signature=signature).status_code == 200
    assert computed == [BASE + PATH]


@pytest.mark.parametrize("body", [
    b"From=%2B447700900100&Body=hello+world&MessageSid=SM1", b"Body=a&Body=b&Empty=&Flag&&=",
    b"Body=%FF%FE+not+utf8&From=x", "Body=caf\u00e9 \u0645\u0631\u062d\u0628\u0627".encode(),
    b"Body=\xff\xfe", b"Body=%00nul%1Bescape%ED%A0%80surrogate", b"", b"a=1;b=2&c=%zz",
    b"Body=" + b"x" * 100_000])
def test_the_webhook_reads_its_form_as_werkzeugs_form_parser_does(sms_app: Flask, body: bytes) -> None:
    from flask import request

    from bot.sms import _form

    def read(parse: Any) -> list[tuple[str, str]]:
        with sms_app.test_request_context(PATH, method="POST", data=body,
                                          content_type="application/x-www-form-urlencoded"):
            return list(parse().items(multi=True))

    assert read(_form) == read(lambda: request.form)


def test_a_signature_over_the_url_with_its_default_port_is_still_accepted(phone: SmsPhone) -> None:
    """Twilio's signing sometimes includes the port: ``validate`` still judges what the single
    computation does not match."""
    params = form("hello")
    assert phone.post(params, signature=sign(params, url="https://nrm.example.org:443" + PATH)).status_code == 200
    assert phone.post(form("1"), signature="bm90IGEgc2lnbmF0dXJl").status_code == 403


def test_an_unknown_signature_algorithm_is_refused(phone: SmsPhone) -> None:
    params = form("hello")
    response = phone.client.post(PATH, data=params, headers={
        "X-Twilio-Signature": sign(params), "X-Twilio-Webhooks-Signature-Settings": "key=k1,algorithm=HMAC_MD5"})
    assert response.status_code == 403
    assert phone.draft() is None


def test_the_query_string_is_part_of_the_signed_url(phone: SmsPhone) -> None:
    params = form("hello")
    path = PATH + "?tenant=north"
    assert phone.post(params, signature=sign(params, url=BASE + PATH), path=path).status_code == 403
    assert phone.post(params, path=path).status_code == 200  # signed for BASE + path + query


def test_unsigned_requests_are_accepted_in_development_without_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    app = make_sms_app(tmp_path, TWILIO_AUTH_TOKEN=None)
    try:
        phone = SmsPhone(app)
        with caplog.at_level(logging.WARNING, logger="bot.sms"):
            assert phone.post(form("hello"), signature=None).status_code == 200
            assert phone.post(form("1"), signature=None).status_code == 200  # English
            assert phone.post(form("SA-0412"), signature=None).status_code == 200
        warnings = [r for r in caplog.records if "UNSIGNED" in r.getMessage()]
        assert len(warnings) == 1  # warned once
        assert phone.answer("reference") == "SA-0412"
    finally:
        db.get_db(app).engine.dispose()


def test_production_never_accepts_unsigned_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    from cryptography.fernet import Fernet

    from backend.cli import upgrade_database

    app = create_app(backend_test_config(
        tmp_path, NRM_ENV="production", SECRET_KEY="s" * 32, TWILIO_AUTH_TOKEN="prod-token", AUDIT_KEY="a" * 64,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(), PUBLIC_BASE_URL=BASE))
    upgrade_database(app)
    try:
        response = app.test_client().post(PATH, data=form("hello"), base_url="http://127.0.0.1:5000")
        assert response.status_code == 403
    finally:
        db.get_db(app).engine.dispose()


# -- who may refer ------------------------------------------------------------------------------------


def test_an_unregistered_number_gets_the_helpline_and_nothing_is_stored(
    sms_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = SmsPhone(sms_app, OTHER_PHONE)
    before = row_counts(sms_app)
    with caplog.at_level(logging.DEBUG):
        replies = stranger.send("I need to report something")
        stranger.send("STOP")
        stranger.send("hello", NumMedia=1)
    assert len(replies) == 1 and HELPLINE in replies[0] and "Modern Slavery & Exploitation Helpline" in replies[0]
    assert row_counts(sms_app) == before
    assert OTHER_PHONE not in caplog.text and OTHER_PHONE[1:] not in caplog.text


def test_the_first_message_asks_the_language_and_is_not_an_answer(phone: SmsPhone) -> None:
    replies = phone.send("Hi, I need to make a referral")
    assert replies == [languages.menu(ENGLISH)]  # one message: each language named in itself
    assert [line.split(" ", 1)[1] for line in replies[0].splitlines()[1:]] == [
        "English", "Cymraeg", "Shqip", "Tiếng Việt", "Română", "Polski", "العربية"]
    assert segments(replies[0]) <= MAX_SEGMENTS
    assert phone.choosing_language()
    state = phone.state()
    user_answers = {qid for qid, record in state["answers"].items() if record["source"] != "registration"}
    assert user_answers == set()
    # registration answered what it knows
    assert state["answers"]["user-organisation"]["value"] == "The Salvation Army"

    replies = phone.send("1")  # English
    assert "NRM referral" in phone.text
    assert "\n(About you 1/" in replies[-1]  # welcome and first question, in one message
    assert "Give this referral a short reference" in phone.text
    assert phone.current() == "reference" and not phone.choosing_language()
    assert phone.state()["language"] == "en"
    user_answers = {qid for qid, record in phone.state()["answers"].items() if record["source"] != "registration"}
    assert user_answers == set()


def test_anything_but_a_language_at_first_contact_gets_the_list_again(phone: SmsPhone) -> None:
    phone.send("hello")
    replies = phone.send("SA-0412")
    assert "Please reply with the number of your answer, 1 to 7" in replies[0]
    assert replies[-1].endswith(languages.menu_lines())
    assert phone.choosing_language() and "reference" not in phone.state()["answers"]
    phone.send("polski")  # or its name
    assert phone.state()["language"] == "pl" and not phone.choosing_language()


# -- idempotency ------------------------------------------------------------------------------------


def test_a_retried_message_sid_gets_the_same_reply_and_advances_once(phone: SmsPhone) -> None:
    start(phone)
    sid = new_sid()
    first = phone.send("SA-0412", sid=sid)
    after_first = phone.state()
    second = phone.send("SA-0412", sid=sid)
    third = phone.send("something different", sid=sid)  # same sid: never applied again
    assert first == second == third
    assert phone.state() == after_first
    assert phone.answer("reference") == "SA-0412"
    assert _count(phone.app, InboundMessage) == 3  # hello, the language, the answer


# -- carrier keywords ---------------------------------------------------------------------------------


def test_stop_silences_the_service_until_start(phone: SmsPhone) -> None:
    start(phone)
    assert phone.send("STOP") == []
    assert phone.responder().opted_out_at is not None
    before = phone.state()
    assert phone.send("SA-0412") == []  # nothing sent, nothing applied
    assert phone.send("HELP") == []
    assert phone.state() == before
    replies = phone.send("START")
    assert phone.responder().opted_out_at is None
    assert replies and replies[-1].startswith("(About you 1/")  # the current question again
    phone.send("SA-0412")
    assert phone.answer("reference") == "SA-0412"


@pytest.mark.parametrize("word", ["stop", "Stopall", "UNSUBSCRIBE", "cancel", "End.", "quit"])
def test_every_carrier_opt_out_word_opts_out(phone: SmsPhone, word: str) -> None:
    start(phone)
    assert phone.send(word) == []
    assert phone.responder().opted_out_at is not None
    assert phone.current() == "reference"  # CANCEL is not taken as the dialogue's command


def test_twilio_opt_out_type_is_honoured_and_yes_opts_in_only_when_opted_out(phone: SmsPhone) -> None:
    start(phone)
    assert phone.send("stop please", OptOutType="STOP") == []
    assert phone.responder().opted_out_at is not None
    replies = phone.send("yes", OptOutType="START")
    assert phone.responder().opted_out_at is None
    assert replies[-1].startswith("(About you 1/")
    assert "answers" in phone.state() and "reference" not in phone.state()["answers"]


def test_a_plain_yes_is_an_answer_when_not_opted_out(phone: SmsPhone) -> None:
    start(phone)
    # Walk to a yes/no question, then answer it with a bare "yes" (even flagged START by Twilio).
    for _ in range(100):
        qid = phone.current()
        if qid == "is-this-the-first-chance-to-report":
            break
        phone.send(ADULT_NRM[qid])
    phone.send("yes", OptOutType="START")
    assert phone.answer("is-this-the-first-chance-to-report") == "yes"
    assert phone.responder().opted_out_at is None


def test_bare_help_gets_the_dialogue_help_for_the_current_question(phone: SmsPhone) -> None:
    start(phone)
    for body, extra in (("HELP", {"OptOutType": "HELP"}), ("info", {})):
        phone.send(body, **extra)
        assert BY_ID["reference"].help in phone.text
        assert "DISCARD" in phone.text and "CANCEL" not in phone.text
        assert phone.current() == "reference"


def test_discard_then_yes_abandons_the_draft_over_sms(phone: SmsPhone) -> None:
    start(phone)
    phone.send("SA-0412")
    phone.send("DISCARD")
    assert "Reply YES to confirm" in phone.text
    phone.send("Yes", OptOutType="START")
    assert "Deleted. Nothing was sent." in phone.text
    assert phone.draft() is None
    assert phone.responder().opted_out_at is None


# -- MMS --------------------------------------------------------------------------------------------


def test_a_picture_is_not_taken_but_the_text_is(phone: SmsPhone) -> None:
    start(phone)
    phone.send("", NumMedia=1, MediaUrl0="https://api.twilio.com/media/1",
               MediaContentType0="image/jpeg")
    assert "cannot be received by SMS" in phone.text
    assert phone.current() == "reference"
    phone.send("SA-0412", NumMedia=2)
    assert "cannot be received by SMS" in phone.text
    assert phone.answer("reference") == "SA-0412"


# -- long answers in parts --------------------------------------------------------------------------


def test_a_long_answer_can_be_sent_in_parts_until_done(phone: SmsPhone) -> None:
    start(phone)
    phone.send("SA-0412")
    phone.send("1")  # fr-location England
    phone.send("no")
    phone.send("no")
    assert phone.current() == "birthplace"
    assert phone.send("She was born in a village...") == ["Got it. Send more, or DONE when finished."]
    cut = ("near Elbasan in the centre of Albania, and moved to Tirana as a child with her mother "
           "and sisters; the family later lived in Durres by the sea until she was sixteen")
    cut = (cut + " " * 160)[:160].rstrip() + "x" * (160 - len((cut + " " * 160)[:160].rstrip()))
    assert len(cut) == 160 and segments(cut) == 1
    assert phone.send(cut) == ["Got it. Send more, or DONE when finished."]
    assert phone.current() == "birthplace"
    phone.send("HELP")  # a command while collecting keeps the parts
    assert "Your answer so far is kept" in phone.text
    phone.send("done")
    assert phone.answer("birthplace") == "She was born in a village " + cut
    assert phone.current() != "birthplace"
    assert "parts" not in phone.state().get("channel", {})


def test_a_part_then_an_ordinary_message_completes_the_answer(phone: SmsPhone) -> None:
    start(phone)
    phone.send("Leeds team, SA...")
    phone.send("case 12")
    assert phone.answer("reference") == "Leeds team, SA case 12"


# -- returning senders --------------------------------------------------------------------------------


def test_a_sender_back_after_an_hour_is_offered_resume_or_new(phone: SmsPhone) -> None:
    start(phone)
    phone.send("SA-0412")
    before = phone.state()
    phone.age_draft(utcnow() - timedelta(hours=2))
    replies = phone.send("England")
    assert len(replies) == 1
    assert "You have a referral in progress (About you 2/" in replies[0]
    assert "Reply RESUME to carry on or NEW to start again." in replies[0]
    assert phone.state()["answers"] == before["answers"]  # "England" was not taken as an answer
    phone.send("what?")
    assert "Reply RESUME" in phone.text
    phone.send("resume")
    assert phone.text.startswith("(About you 2/") or "(About you 2/" in phone.text
    phone.send("1")
    assert phone.answer("fr-location") == "england"


def test_a_pending_discard_is_asked_again_when_the_sender_resumes(phone: SmsPhone) -> None:
    start(phone)
    phone.send("Anna Leeds")
    asked = phone.send("DISCARD")
    phone.age_draft(utcnow() - timedelta(hours=2))
    assert "You have a referral in progress" in phone.send("hello")[0]

    resumed = phone.send("RESUME")

    assert resumed == asked  # the confirmation again, not the question under it
    assert phone.state()["pending"] == {"confirm": "cancel"}
    phone.send("YES")
    assert phone.draft() is None


def test_anything_but_yes_cancels_a_pending_discard_by_sms_visibly(phone: SmsPhone) -> None:
    start(phone)
    phone.send("Anna Leeds")
    phone.send("DISCARD")
    replies = phone.send("England")
    assert replies[0].startswith("OK, nothing deleted.")
    assert "\n".join(replies[1:] or replies).count("(About you 2/") == 1  # the question again
    assert phone.state()["pending"] is None and "fr-location" not in phone.state()["answers"]


def test_new_at_the_offer_deletes_the_old_draft_and_starts_again(phone: SmsPhone) -> None:
    start(phone)
    phone.send("SA-0412")
    old = phone.draft().id
    phone.age_draft(utcnow() - timedelta(hours=3))
    phone.send("hi")
    phone.send("NEW")
    assert "NRM referral" in phone.text
    with phone.app.app_context(), db.get_db(phone.app).transaction(readonly=True) as session:
        assert session.get(Conversation, old) is None
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1
    assert phone.current() == "reference"


def test_an_expired_draft_is_deleted_when_its_sender_writes(phone: SmsPhone) -> None:
    start(phone)
    phone.send("SA-0412")
    old = phone.draft().id
    phone.age_draft(utcnow() - timedelta(days=8))
    replies = phone.send("hello again")
    assert "Your unfinished referral was deleted after 7 days. Here is a new one." in replies[0]
    assert replies[-1].endswith(languages.menu_lines())  # a new referral: the language first
    assert phone.draft().id != old
    assert _count(phone.app, Conversation) == 1
    phone.send("1")
    assert "NRM referral" in phone.text and phone.current() == "reference"


def test_purge_deletes_expired_drafts(phone: SmsPhone) -> None:
    start(phone)
    phone.send("SA-0412")
    runner = phone.app.test_cli_runner()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert _count(phone.app, Conversation) == 1  # a fresh draft stays
    phone.age_draft(utcnow() - timedelta(days=8))
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "purged 1 expired draft" in result.output
    assert _count(phone.app, Conversation) == 0 and _count(phone.app, InboundMessage) == 0


# -- quick exit -------------------------------------------------------------------------------------


def test_the_quick_exit_word_deletes_the_draft_at_once(phone: SmsPhone) -> None:
    before = row_counts(phone.app)
    start(phone)
    phone.send("SA-0412")
    assert phone.send("safe") == ["OK."]
    assert phone.draft() is None
    after = row_counts(phone.app)
    tombstones = after.pop("inbound_messages") - before.pop("inbound_messages")
    holds = after.pop("contact_holds") - before.pop("contact_holds")  # the number's id: send it nothing now
    assert after == before and tombstones == 3  # only the MessageSids (tests/bot/test_quick_exit_tombstones.py)
    assert holds == 1
    assert phone.send("SAFE") == ["OK."]  # also with nothing to delete (and on a retry)
    assert row_counts(phone.app) == {**before, "inbound_messages": tombstones, "contact_holds": holds}


def test_the_quick_exit_word_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("QUICK_EXIT_WORD", "Weather")
    app = make_sms_app(tmp_path)
    try:
        phone = SmsPhone(app)
        start(phone)
        phone.send("safe")
        assert phone.answer("reference") == "safe"  # an answer now
        assert phone.send("WEATHER") == ["OK."]
        assert phone.draft() is None
    finally:
        db.get_db(app).engine.dispose()


# -- a whole referral -------------------------------------------------------------------------------


def test_a_full_referral_over_sms_ends_with_a_reference_and_repeats_the_responders_own(phone: SmsPhone) -> None:
    start(phone)
    asked = walk(phone, ADULT_NRM)
    assert "user-organisation" not in asked and "user-email" not in asked  # from registration
    # The review summary is long: split between its lines into messages within budget.
    summary = phone.replies
    assert len(summary) > 1
    assert all(segments(m) <= MAX_SEGMENTS and len(m) <= MAX_MESSAGE_CHARS for m in summary)
    assert summary[0].startswith("Your answers:")
    lines = [line for message in summary for line in message.split("\n") if line]
    numbered = [line for line in lines if line.split(" ", 1)[0].isdigit()]
    assert [int(line.split(" ", 1)[0]) for line in numbered] == list(range(1, len(numbered) + 1))
    assert "Reply CONFIRM" in summary[-1]

    confirm = new_sid()
    replies = phone.send("CONFIRM", sid=confirm)
    text = "\n".join(replies)
    assert "Reference: NRM-" in text
    reference = text.split("Reference: ", 1)[1].split(".", 1)[0]
    with phone.app.app_context(), db.get_db(phone.app).transaction(readonly=True) as session:
        case = session.scalars(select(Case)).one()
        assert case.reference == reference
        assert "reference" not in case.payload["answers"]  # the responder's own: in the receipt only
    assert f"Your own reference: {ADULT_NRM['reference']}." in text
    assert phone.draft() is None
    # a retry of CONFIRM is answered from the stored reply, and submits nothing more
    assert phone.send("CONFIRM", sid=confirm) == replies
    # the replies stored for earlier messages (they quote answers) are gone; their ids stay
    with phone.app.app_context(), db.get_db(phone.app).transaction(readonly=True) as session:
        stored = session.scalars(select(InboundMessage).where(
            InboundMessage.conversation_id == case.conversation_id)).all()
        assert len(stored) == len(asked) + 3  # and the first message, the language, CONFIRM
        assert [m.id for m in stored if m.reply is not None] == [confirm]
    # the next message starts afresh
    phone.send("hi")
    assert phone.text.endswith(languages.menu_lines()) and phone.choosing_language()
    assert _count(phone.app, Case) == 1


@pytest.mark.parametrize("messages", [
    [], ["OK."], ["a & b <c> \"q\" 's' ]]> --> é ✓ 😀", "Ввод данных\nзавершён", "مرحبا"],
    ["nul\x00 esc\x1b lone \ud800 surrogate", "line\r\nbreak\ttab"], ["<Message>x</Message>&amp;"]])
def test_the_twiml_answer_is_the_document_twilios_library_writes(sms_app: Flask,
                                                                 messages: list[str]) -> None:
    from twilio.twiml.messaging_response import MessagingResponse

    from backend.text_hygiene import clean
    from bot.sms import twiml

    expected = MessagingResponse()
    for message in messages:
        expected.message(clean(message))
    with sms_app.app_context():
        response = twiml(messages)
    assert response.get_data(as_text=True) == str(expected)
    assert response.mimetype == "application/xml"
