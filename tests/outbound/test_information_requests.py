"""Requests for information: asked on the case page, sent to the referrer, answered by SMS or on
a page, clock paused meanwhile, answer on the case (encrypted) and audited."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select, text, update

from backend import db
from backend.calendar import add_working_days, uk_date
from backend.db import utcnow
from backend.models import AuditEvent
from backend.outbound import information, worker
from backend.outbound.models import InformationRequest
from tests.bot.sms_support import SmsPhone
from tests.outbound.casework import act, ask, due_dates
from tests.outbound.conftest import ORG, make_staff, outbox, submit_referral
from tests.outbound.pages import csrf, signed_in_client

QUESTION = "Which town was the last address the person lived at before they left?"


def _claim_on_page(client, reference: str) -> None:
    token = csrf(client, f"/casework/cases/{reference}")
    assert client.post(f"/casework/cases/{reference}/claim", data={"csrf_token": token}).status_code == 302


def test_a_caseworker_asks_on_the_case_page_and_the_referrer_gets_the_question_by_sms_and_email(
        outbound_app: Flask, twilio_stub, notify_stub) -> None:
    reference = submit_referral(outbound_app)
    client, _ = signed_in_client(outbound_app, "caseworker")
    _claim_on_page(client, reference)
    page = client.get(f"/casework/cases/{reference}").get_data(as_text=True)
    assert 'id="information-form"' in page
    token = csrf(client, f"/casework/cases/{reference}")
    response = client.post(f"/casework/cases/{reference}/information-request",
                           data={"csrf_token": token, "question": QUESTION})
    assert response.status_code == 302
    page = client.get(f"/casework/cases/{reference}").get_data(as_text=True)
    assert 'id="awaiting-information"' in page and QUESTION in page

    worker.drain(outbound_app)
    [sms] = twilio_stub.requests
    assert sms.fields["Body"] == (f"NRM referral {reference}: the decision makers ask: {QUESTION} "
                                  f"Reply INFO {reference} and your answer, or sign in at "
                                  "https://nrm.example.org/casework/sign-in.")
    assert [request.fields["email_address"] for request in notify_stub.requests] == ["sam.jones@example.org"]


def test_asking_needs_a_csrf_token_the_caseworker_role_and_the_claim(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    client, _ = signed_in_client(outbound_app, "caseworker")
    path = f"/casework/cases/{reference}/information-request"
    assert client.post(path, data={"question": QUESTION}).status_code == 400  # no CSRF token
    token = csrf(client, f"/casework/cases/{reference}")
    client.post(path, data={"csrf_token": token, "question": QUESTION})  # not claimed: refused
    panel, _ = signed_in_client(outbound_app, "panel", "Independent Review Panel")
    assert panel.post(path, data={"csrf_token": csrf(panel, "/casework/review"), "question": QUESTION}).status_code == 403
    analyst, _ = signed_in_client(outbound_app, "analyst")
    assert analyst.post(path, data={"csrf_token": csrf(analyst, "/casework/stats"),
                                    "question": QUESTION}).status_code == 403
    assert outbox(outbound_app) == []
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        assert session.scalar(select(InformationRequest.id)) is None


def test_a_question_quoting_the_persons_name_or_date_of_birth_is_refused(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    caseworker = make_staff(outbound_app, "caseworker")
    for question in ("Is Anna still at the same address?", "Was she born on 3 February 1990?",
                     "Is HOXHA the family name?", "   ", "x" * 601):
        try:
            ask(outbound_app, reference, caseworker, question)
        except information.InvalidRequest:
            continue
        raise AssertionError(f"accepted: {question!r}")
    assert outbox(outbound_app) == []


def test_an_answer_by_sms_lands_on_the_case_encrypted_and_audited_and_the_clock_resumes(
        outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    caseworker = make_staff(outbound_app, "caseworker")
    ask(outbound_app, reference, caseworker, QUESTION)
    rg_due, _ = due_dates(outbound_app, reference)
    asked = utcnow() - timedelta(days=7)  # asked a week ago: five working days or so waiting
    with outbound_app.app_context(), db.get_db(outbound_app).transaction() as session:
        session.execute(update(InformationRequest).values(asked_at=asked))

    answer = "Leeds, in a flat above the restaurant"
    reply = SmsPhone(outbound_app).send(f"INFO {reference} {answer}")
    assert reply == [f"Thank you. Your answer on NRM referral {reference} is with the decision makers."]
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        row = session.scalars(select(InformationRequest)).one()
        assert (row.answer, row.answered_by) == (answer, "responder:1")
        stored = session.execute(text("SELECT answer FROM information_requests")).scalar_one()
        assert answer not in stored and "Leeds" not in stored  # encrypted at rest
        events = [event.action for event in session.scalars(
            select(AuditEvent).where(AuditEvent.case_reference == reference).order_by(AuditEvent.id))]
        assert events[-2:] == ["case.information_requested", "case.information_received"]
        received = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.information_received")).one()
        assert "Leeds" not in str(received.detail)
    paused = _working_days(asked, utcnow())
    assert paused >= 4
    assert due_dates(outbound_app, reference)[0] == add_working_days(rg_due, paused, "england")


def test_an_answer_on_the_page_by_a_responder_of_the_referring_organisation(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    ask(outbound_app, reference, make_staff(outbound_app, "caseworker"), QUESTION)
    stranger, _ = signed_in_client(outbound_app, "responder", "Barnardo's")
    assert stranger.get(f"/referrer/cases/{reference}/answer").status_code == 404
    client, user = signed_in_client(outbound_app, "responder", ORG)
    path = f"/referrer/cases/{reference}/answer"
    page = client.get(path).get_data(as_text=True)
    assert QUESTION in page
    response = client.post(path, data={"csrf_token": csrf(client, path), "answer": "Leeds"})
    assert response.status_code == 200 and 'id="answered"' in response.get_data(as_text=True)
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        assert session.scalars(select(InformationRequest)).one().answered_by == f"user:{user}"


def test_an_unanswered_request_lapses_after_its_limit_and_the_clock_runs_again(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    ask(outbound_app, reference, make_staff(outbound_app, "caseworker"), QUESTION)
    assert act(outbound_app, information.lapse) == []
    limit = utcnow() + timedelta(days=30)
    assert act(outbound_app, information.lapse, limit) == [reference]
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        row = session.scalars(select(InformationRequest)).one()
        assert (row.answer, row.answered_by) == (None, "system")
    reply = SmsPhone(outbound_app).send(f"INFO {reference} too late")
    assert reply == [f"NRM referral {reference} has no open question, so your message was not kept."]


def _working_days(start, end) -> int:  # type: ignore[no-untyped-def]
    from backend.calendar import working_days_between

    return working_days_between(uk_date(start), uk_date(end), "england")
