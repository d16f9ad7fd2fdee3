"""Referrers' SMS commands from registered numbers: STATUS, WITHDRAW (asks YES), RECONSIDER."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import db
from backend.models import AuditEvent, Case, CaseNote, Responder
from tests.bot.sms_support import OTHER_PHONE, SmsPhone
from tests.outbound.casework import decide, uphold
from tests.outbound.conftest import make_staff, outbox, submit_referral

NEUTRAL = ["No referral of your organisation has that reference. Check it and try again."]


def _status(app: Flask, reference: str) -> str:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return session.scalars(select(Case.status).where(Case.reference == reference)).one()


def test_status_answers_for_the_organisations_own_cases_and_the_same_neutral_words_otherwise(
        outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    phone = SmsPhone(outbound_app)
    assert phone.send(f"STATUS {reference}") == [f"NRM referral {reference}: Awaiting RG decision."]
    assert phone.send(f"status {reference.lower().replace('-', ' ')}") == phone.replies  # spacing and case
    with outbound_app.app_context(), db.get_db(outbound_app).transaction() as session:
        session.add(Responder(phone_e164=OTHER_PHONE, organisation="Barnardo's"))
    other = SmsPhone(outbound_app, OTHER_PHONE)
    foreign = other.send(f"STATUS {reference}")
    unknown = other.send("STATUS NRM-2026-999999")
    assert foreign == unknown == NEUTRAL


def test_status_in_the_language_of_the_referral(outbound_app: Flask, compiled_catalogues) -> None:
    reference = submit_referral(outbound_app)
    with outbound_app.app_context(), db.get_db(outbound_app).transaction() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        case.payload = {**case.payload, "language": "pl"}
    [reply] = SmsPhone(outbound_app).send(f"STATUS {reference}")
    assert reference in reply and "Awaiting RG decision" not in reply


def test_withdraw_asks_yes_and_only_the_next_yes_withdraws(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    phone = SmsPhone(outbound_app)
    assert phone.send(f"WITHDRAW {reference}") == [
        f"Reply YES within 10 minutes to withdraw NRM referral {reference}. This cannot be undone."]
    assert _status(outbound_app, reference) == "awaiting_rg"
    assert phone.send("YES") == [f"NRM referral {reference} is withdrawn."]
    assert _status(outbound_app, reference) == "withdrawn"
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        note = session.scalars(select(CaseNote)).one()
        assert (note.kind, note.author_id) == ("withdrawal", None)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.withdraw")).one()
        assert event.actor == "responder:1"


def test_a_yes_that_is_not_the_next_message_withdraws_nothing(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    phone = SmsPhone(outbound_app)
    phone.send(f"WITHDRAW {reference}")
    phone.send("hello")  # starts a new referral: the language list
    phone.send("YES")
    assert _status(outbound_app, reference) == "awaiting_rg"


def test_withdraw_from_another_organisation_gets_the_neutral_answer_and_changes_nothing(
        outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    with outbound_app.app_context(), db.get_db(outbound_app).transaction() as session:
        session.add(Responder(phone_e164=OTHER_PHONE, organisation="Barnardo's"))
    other = SmsPhone(outbound_app, OTHER_PHONE)
    assert other.send(f"WITHDRAW {reference}") == NEUTRAL
    other.send("YES")
    assert _status(outbound_app, reference) == "awaiting_rg"


def test_reconsider_reopens_an_upheld_negative_and_the_referrer_is_told(outbound_app: Flask, twilio_stub) -> None:
    reference = submit_referral(outbound_app)
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "negative")
    phone = SmsPhone(outbound_app)
    assert phone.send(f"RECONSIDER {reference}") == [
        f"Write your text after the reference, for example: RECONSIDER {reference} ..."]
    assert phone.send(f"RECONSIDER {reference} New evidence from the GP") == [
        f"NRM referral {reference} cannot be changed that way now (RG negative, awaiting panel review)."]
    uphold(outbound_app, reference, make_staff(outbound_app, "panel", "Independent Review Panel"))
    assert phone.send(f"RECONSIDER {reference} New evidence from the GP") == [
        f"Reconsideration of NRM referral {reference} is asked. We will text you the result."]
    assert _status(outbound_app, reference) == "awaiting_rg"
    assert [row.kind for row in outbox(outbound_app) if row.channel == "sms"] == [
        "rg_decision", "panel_outcome", "reconsideration"]


def test_a_retried_command_is_answered_from_the_stored_reply_and_applied_once(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    phone = SmsPhone(outbound_app)
    phone.send(f"WITHDRAW {reference}")
    first = phone.send("YES", sid="SMretried")
    again = phone.send("YES", sid="SMretried")
    assert first == again == [f"NRM referral {reference} is withdrawn."]
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        assert len(session.scalars(select(CaseNote)).all()) == 1


def test_an_ordinary_message_is_not_a_command(outbound_app: Flask) -> None:
    phone = SmsPhone(outbound_app)
    reply = phone.send("Status of my referral please")
    assert phone.choosing_language(), reply


def test_hostile_command_texts_get_clean_answers(outbound_app: Flask) -> None:
    from backend.outbound.models import InformationRequest
    from tests.outbound.casework import ask

    reference = submit_referral(outbound_app)
    caseworker = make_staff(outbound_app, "caseworker")
    ask(outbound_app, reference, caseworker, "Which town did they live in?")
    phone = SmsPhone(outbound_app)
    assert phone.send(f"STATUS {reference}\x00\x1b") == [
        f"NRM referral {reference} is waiting for your answer to a question. Reply INFO {reference} and your answer."]
    assert phone.send("STATUS NRM-2026-" + "9" * 200) == NEUTRAL
    assert phone.send("WITHDRAW NRM-2026-00001") == NEUTRAL  # a digit short
    assert phone.send(f"INFO {reference} 12 flats, 3 floors")[0].startswith("Thank you.")
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        assert session.scalars(select(InformationRequest)).one().answer == "12 flats, 3 floors"
    ask(outbound_app, reference, caseworker, "And the street?")
    long_answer = "Leeds \x00\x07" + "x" * 1500
    assert phone.send(f"INFO {reference} {long_answer}")[0].startswith("Thank you.")
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        latest = session.scalars(select(InformationRequest).order_by(InformationRequest.id.desc())).first()
        assert latest.answer == "Leeds " + "x" * 1500  # control characters removed, nothing cut
