"""The transactional outbox and ``nrm worker``: written with the event, sent once, retried,
failed visibly, suppressed when it must not go (DESIGN §10)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import select, update

from backend import db, lifecycle
from backend.models import User
from backend.outbound import outbox as outbox_module
from backend.outbound import worker
from backend.outbound.models import OutboundMessage
from backend.outbound.settings import load
from tests.bot.sms_support import make_sms_app
from tests.outbound.casework import act, decide
from tests.outbound.conftest import ORG, clear_environment, make_staff, outbox, submit_referral
from tests.outbound.stubs import ACCOUNT_SID, FROM_NUMBER, TEMPLATES, provider_config


def test_a_decision_and_its_messages_commit_together_or_not_at_all(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    caseworker = make_staff(outbound_app, "caseworker")

    class Crash(Exception):
        pass

    def decide_then_crash(session):  # type: ignore[no-untyped-def]
        user = session.get(User, caseworker)
        from backend import queues
        queues.claim(session, reference, user)
        lifecycle.decide(session, reference, user, "rg", "positive", "reasons")
        assert session.scalar(select(OutboundMessage.id).where(OutboundMessage.kind == "rg_decision"))
        raise Crash

    with pytest.raises(Crash):
        act(outbound_app, decide_then_crash)
    assert [row.kind for row in outbox(outbound_app)] == []

    decide(outbound_app, reference, caseworker, "rg", "positive")
    rows = outbox(outbound_app)
    assert [(row.kind, row.audience, row.channel, row.status) for row in rows] == [
        ("rg_decision", "responder", "sms", "pending"),
        ("rg_decision", "responder", "email", "pending"),
        ("person_decision", "person", "email", "pending"),
    ]


def test_the_same_event_written_twice_is_one_message(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "negative")
    before = outbox(outbound_app)
    decision = before[0].idempotency_key.split(":")[2]

    def replay(session):  # type: ignore[no-untyped-def]
        case = lifecycle.lock_case(session, reference)
        outbox_module.on_transition(session, case, "decide_rg_negative",
                                    {"stage": "rg", "outcome": "negative", "decision": int(decision)})
    act(outbound_app, replay)
    assert [row.id for row in outbox(outbound_app)] == [row.id for row in before]


def test_the_worker_sends_the_referrer_an_sms_and_an_email_through_the_providers(
        outbound_app: Flask, twilio_stub, notify_stub) -> None:
    reference = submit_referral(outbound_app)
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "positive")
    assert worker.drain(outbound_app) == {"sent": 3}

    [sms] = twilio_stub.requests
    assert sms.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json" and sms.authorised
    assert sms.fields["To"] == "+447700900123" and sms.fields["From"] == FROM_NUMBER
    assert sms.fields["StatusCallback"] == "https://nrm.example.org/outbound/twilio/status"
    assert sms.fields["Body"].startswith(f"NRM referral {reference}: the Reasonable Grounds decision is positive.")
    assert "/casework/sign-in" in sms.fields["Body"]
    to_referrer, to_person = notify_stub.requests
    assert to_referrer.fields["email_address"] == "sam.jones@example.org" and to_referrer.authorised
    assert to_referrer.fields["template_id"] == TEMPLATES["message"]
    assert to_referrer.fields["personalisation"]["body"] == sms.fields["Body"]
    assert to_person.fields["email_address"] == "anna.h@example.com"
    assert to_person.fields["template_id"] == TEMPLATES["person"]
    rows = outbox(outbound_app)
    assert {row.status for row in rows} == {"sent"} and all(row.provider_id for row in rows)
    assert worker.drain(outbound_app) == {}  # nothing is sent twice
    assert len(twilio_stub.requests) == 1 and len(notify_stub.requests) == 2


def test_nothing_is_sent_when_no_provider_is_configured_and_the_outbox_says_why(
        tmp_path, monkeypatch, twilio_stub, notify_stub) -> None:
    clear_environment(monkeypatch)
    app = make_sms_app(tmp_path, SMS_QUIET_HOURS="")
    try:
        reference = submit_referral(app)
        decide(app, reference, make_staff(app, "caseworker"), "rg", "positive")
        assert worker.drain(app) == {}
        assert [(row.channel, row.status, row.reason) for row in outbox(app)] == [
            ("sms", "suppressed", "provider not configured (Twilio)"),
            ("email", "suppressed", "provider not configured (GOV.UK Notify)"),
            ("email", "suppressed", "provider not configured (GOV.UK Notify)"),
        ]
        assert twilio_stub.requests == [] and notify_stub.requests == []
    finally:
        db.get_db(app).engine.dispose()


def test_a_transient_error_is_retried_with_back_off_and_a_permanent_one_fails_on_the_case_page(
        outbound_app: Flask, twilio_stub, notify_stub) -> None:
    reference = submit_referral(outbound_app)
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "positive")
    twilio_stub.fail_next(503)
    notify_stub.fail_next(400)
    assert worker.drain(outbound_app) == {"pending": 1, "failed": 1, "sent": 1}
    sms, email, person = outbox(outbound_app)
    assert (sms.status, sms.attempts) == ("pending", 1) and "HTTP 503" in sms.reason
    assert sms.next_attempt_at > datetime.now(timezone.utc)
    assert (email.status, email.reason) == ("failed", "Notify refused: HTTP 400 (BadRequestError)")
    assert person.status == "sent"

    later = sms.next_attempt_at + timedelta(seconds=1)
    assert worker.run_once(outbound_app, now=later) == {"sent": 1}
    assert [row.attempts for row in outbox(outbound_app)][0] == 2
    assert len(twilio_stub.requests) == 2 and len(notify_stub.requests) == 2

    page = _case_page(outbound_app, reference)
    assert 'id="outbox"' in page and "The email service refused it (HTTP 400 (BadRequestError))" in page


def test_a_message_whose_worker_died_while_sending_is_marked_failed_and_never_sent_again(
        outbound_app: Flask, twilio_stub, notify_stub) -> None:
    reference = submit_referral(outbound_app)
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "positive")
    settings = load(outbound_app.config)
    with outbound_app.app_context(), db.get_db(outbound_app).transaction() as session:
        claimed = worker.claim(session, db.utcnow(), settings)  # ... and the worker dies here
    assert len(claimed) == 3
    assert worker.drain(outbound_app) == {}  # still leased: not taken by another worker
    after_lease = db.utcnow() + timedelta(seconds=settings.sending_lease_seconds + 1)
    assert worker.run_once(outbound_app, now=after_lease) == {}
    assert {(row.status, row.reason) for row in outbox(outbound_app)} == {
        ("failed", "worker stopped while sending: outcome unknown, not sent again")}
    assert twilio_stub.requests == [] and notify_stub.requests == []


@pytest.mark.parametrize(("clock", "deferred_until"), [
    ("2026-11-30T22:30:00+00:00", "2026-12-01T08:00:00+00:00"),  # late evening (GMT)
    ("2026-07-01T05:00:00+00:00", "2026-07-01T07:00:00+00:00"),  # 06:00 BST, until 08:00 BST
])
def test_quiet_hours_defer_an_sms_until_they_end_and_email_still_goes(
        tmp_path, monkeypatch, twilio_stub, notify_stub, clock, deferred_until) -> None:
    clear_environment(monkeypatch)
    app = make_sms_app(tmp_path, **{**provider_config(twilio_stub, notify_stub), "SMS_QUIET_HOURS": "21:00-08:00"})
    try:
        reference = submit_referral(app)
        decide(app, reference, make_staff(app, "caseworker"), "rg", "positive")
        at = datetime.fromisoformat(clock)
        _due_now(app, at)
        assert worker.run_once(app, now=at) == {"sent": 2}
        sms = outbox(app)[0]
        assert sms.status == "pending" and sms.next_attempt_at == datetime.fromisoformat(deferred_until)
        assert sms.reason.startswith("quiet hours: deferred until 08:00 UK time")
        assert twilio_stub.requests == []
        assert worker.run_once(app, now=sms.next_attempt_at) == {"sent": 1}
        assert len(twilio_stub.requests) == 1
    finally:
        db.get_db(app).engine.dispose()


def test_an_opted_out_number_gets_nothing(outbound_app: Flask, twilio_stub) -> None:
    from tests.bot.sms_support import SmsPhone

    reference = submit_referral(outbound_app)
    SmsPhone(outbound_app).send("STOP")
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "positive")
    worker.drain(outbound_app)
    assert (outbox(outbound_app)[0].status, outbox(outbound_app)[0].reason) == ("suppressed", "number opted out (STOP)")
    assert twilio_stub.requests == []


def test_after_the_quick_exit_word_nothing_is_sent_to_the_number_until_it_texts_again(
        outbound_app: Flask, twilio_stub) -> None:
    from tests.bot.sms_support import SmsPhone

    first = submit_referral(outbound_app)
    second = submit_referral(outbound_app)
    caseworker = make_staff(outbound_app, "caseworker")
    phone = SmsPhone(outbound_app)
    assert phone.send("SAFE") == ["OK."]
    decide(outbound_app, first, caseworker, "rg", "positive")
    worker.drain(outbound_app)
    held = [row for row in outbox(outbound_app) if row.channel == "sms"]
    assert [(row.status, row.reason) for row in held] == [
        ("suppressed", "quick exit: nothing is sent to this number until it texts again")]
    assert twilio_stub.requests == []

    phone.send(f"STATUS {first}")  # texting again lifts the hold
    decide(outbound_app, second, caseworker, "rg", "negative")
    worker.drain(outbound_app)
    assert len(twilio_stub.requests) == 1 and second in twilio_stub.requests[0].fields["Body"]


def test_settings_that_cannot_be_read_stop_the_start(tmp_path, monkeypatch) -> None:
    from backend.config import ConfigError

    clear_environment(monkeypatch)
    for bad in ({"SMS_QUIET_HOURS": "late"}, {"NOTIFY_TEMPLATES": "[1]"}, {"OUTBOX_MAX_ATTEMPTS": "0"}):
        with pytest.raises(ConfigError):
            make_sms_app(tmp_path / str(len(bad)), **bad)


def _due_now(app: Flask, at: datetime) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        session.execute(update(OutboundMessage).values(next_attempt_at=at))


def _case_page(app: Flask, reference: str) -> str:
    from tests.outbound.pages import signed_in_client

    client, _user = signed_in_client(app, "caseworker")
    response = client.get(f"/casework/cases/{reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _callback(app: Flask, fields: dict[str, str], signature: str | None = "sign"):  # type: ignore[no-untyped-def]
    from tests.bot.sms_support import BASE, sign

    headers = {"X-Twilio-Signature": sign(fields, BASE + "/outbound/twilio/status")} if signature == "sign" else (
        {"X-Twilio-Signature": signature} if signature else {})
    return app.test_client().post("/outbound/twilio/status", data=fields, headers=headers,
                                  base_url="http://127.0.0.1:5000")


def test_twilios_signed_status_callback_records_delivery_and_failure(outbound_app: Flask) -> None:
    first, second = submit_referral(outbound_app), submit_referral(outbound_app)
    caseworker = make_staff(outbound_app, "caseworker")
    decide(outbound_app, first, caseworker, "rg", "positive")
    decide(outbound_app, second, caseworker, "rg", "positive")
    worker.drain(outbound_app)
    delivered, undelivered = [row for row in outbox(outbound_app) if row.channel == "sms"]
    assert _callback(outbound_app, {"MessageSid": delivered.provider_id, "MessageStatus": "delivered"}).status_code == 204
    assert _callback(outbound_app, {"MessageSid": undelivered.provider_id, "MessageStatus": "undelivered",
                                    "ErrorCode": "30005"}).status_code == 204
    rows = {row.id: row for row in outbox(outbound_app)}
    assert (rows[delivered.id].status, rows[delivered.id].delivered_at is not None) == ("delivered", True)
    assert (rows[undelivered.id].status, rows[undelivered.id].reason) == ("failed", "Twilio: undelivered (error 30005)")


def test_an_unsigned_or_forged_status_callback_changes_nothing(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "positive")
    worker.drain(outbound_app)
    sms = outbox(outbound_app)[0]
    fields = {"MessageSid": sms.provider_id, "MessageStatus": "failed"}
    assert _callback(outbound_app, fields, signature=None).status_code == 403
    assert _callback(outbound_app, fields, signature="forged").status_code == 403
    assert outbox(outbound_app)[0].status == "sent"
