"""The person only by a channel their contact answers allow and confirmed safe; the child's
local authority and the support provider told at submission; nothing personal to anyone else."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import select

from backend import db
from backend.models import AuditEvent, Case
from backend.outbound import worker
from backend.outbound.outbox import person_channels
from backend.outbound.safety import personal_values
from tests.bot.sms_support import BASE, make_sms_app
from tests.flows.conversation import walked_payload
from tests.outbound.casework import decide, uphold
from tests.outbound.conftest import clear_environment, make_staff, outbox, submit_referral
from tests.outbound.pages import csrf, signed_in_client
from tests.outbound.stubs import TEMPLATES, provider_config

ADDRESS = {"pv-contact-details-street": "12 Hidden Lane", "pv-contact-details-town": "Wakefield",
           "pv-contact-details-postcode": "WF1 2AB"}


@pytest.mark.parametrize(("answers", "channels"), [
    ({}, ["email"]),
    ({"pv-contact-details-email-check": "no"}, []),
    ({"pv-contact-details": ["post"], **ADDRESS, "pv-contact-details-post-check": "yes"}, ["post"]),
    ({"pv-contact-details": ["post"], **ADDRESS}, []),  # post not confirmed safe
    ({"pv-contact-details": ["email", "post"], **ADDRESS, "pv-contact-details-post-check": "yes"}, ["email", "post"]),
    ({"who-contact": "someone-else", "someone-else": ["email"], "someone-else-email-input": "sw@example.org",
      "someone-else-permission-check": "yes"}, ["email"]),
    ({"who-contact": "someone-else", "someone-else": ["email"], "someone-else-email-input": "sw@example.org"}, []),
    ({"who-contact": None}, []),
])
def test_the_person_is_written_to_only_by_the_channels_their_answers_chose_and_confirmed_safe(
        answers, channels) -> None:
    payload = walked_payload("adult")["answers"]
    payload.update(answers)
    assert [channel for channel, _ in person_channels(payload)] == channels


def test_a_person_not_marked_safe_gets_nothing_while_the_referrer_still_hears(outbound_app: Flask,
                                                                              notify_stub) -> None:
    reference = submit_referral(outbound_app)
    with outbound_app.app_context(), db.get_db(outbound_app).transaction() as session:  # a payload of a
        case = session.scalars(select(Case).where(Case.reference == reference)).one()  # looser schema
        case.payload = {**case.payload, "answers": {**case.payload["answers"], "pv-contact-details-email-check": "no"}}
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "positive")
    worker.drain(outbound_app)
    assert [row.audience for row in outbox(outbound_app)] == ["responder", "responder"]
    assert "anna.h@example.com" not in {request.fields["email_address"] for request in notify_stub.requests}


def test_the_persons_letter_waits_in_the_print_queue_in_their_language(outbound_app: Flask, compiled_catalogues) -> None:
    reference = submit_referral(outbound_app, **{
        "pv-contact-details": ["post"], **ADDRESS, "pv-contact-details-post-check": "yes",
        "pv-contact-details-email-input": None, "pv-contact-details-email-check": None,
        "pv-interpreter-requirements": "yes", "pv-interpreter-requirements-language": "Polish (Silesian)"})
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "positive")
    worker.drain(outbound_app)
    letter = [row for row in outbox(outbound_app) if row.channel == "post"][0]
    assert (letter.status, letter.language, letter.recipient) == ("pending", "pl", ["12 Hidden Lane", "Wakefield", "WF1 2AB"])
    assert "Anna" in letter.content["body"] and reference in letter.content["body"]
    assert "reasonable grounds to believe" not in letter.content["body"]  # Polish, not English

    client, _ = signed_in_client(outbound_app, "caseworker")
    page = client.get("/casework/letters").get_data(as_text=True)
    assert "12 Hidden Lane" in page and 'lang="pl"' in page
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        from backend.access_audit import CASE_READ
        assert session.scalars(select(AuditEvent.case_reference).where(AuditEvent.action == CASE_READ)).all() == [
            reference]  # showing the letter is a read of the case, audited
    token = csrf(client, "/casework/letters")
    assert client.post(f"/casework/letters/{letter.id}/posted", data={"csrf_token": token}).status_code == 302
    assert [row.status for row in outbox(outbound_app) if row.channel == "post"] == ["sent"]
    assert 'id="no-letters"' in client.get("/casework/letters").get_data(as_text=True)
    responder, _ = signed_in_client(outbound_app, "responder", "The Salvation Army")
    assert responder.get("/casework/letters").status_code == 403


def test_the_persons_email_uses_the_template_of_their_language_where_one_exists(outbound_app: Flask,
                                                                               notify_stub) -> None:
    reference = submit_referral(outbound_app, **{"pv-interpreter-requirements": "yes",
                                                 "pv-interpreter-requirements-language": "polish"})
    decide(outbound_app, reference, make_staff(outbound_app, "caseworker"), "rg", "positive")
    worker.drain(outbound_app)
    person = [request for request in notify_stub.requests if request.fields["email_address"] == "anna.h@example.com"]
    assert [request.fields["template_id"] for request in person] == [TEMPLATES["person:pl"]]


def test_a_childs_referral_tells_the_named_local_authority_and_is_audited(outbound_app: Flask, notify_stub) -> None:
    reference = submit_referral(outbound_app, route="child")
    worker.drain(outbound_app)
    [request] = notify_stub.requests
    assert request.fields["email_address"] == "childrens.services@leeds.gov.uk"
    assert reference in request.fields["personalisation"]["body"]
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "outbound.handoff")).one()
        assert (event.case_reference, event.detail["to"]) == (reference, "local_authority")


def test_a_person_who_wants_support_is_referred_to_the_configured_support_provider(
        tmp_path, monkeypatch, twilio_stub, notify_stub) -> None:
    clear_environment(monkeypatch)
    app = make_sms_app(tmp_path, **provider_config(twilio_stub, notify_stub), SUPPORT_PROVIDER_EMAIL="referrals@support.example.org")
    try:
        reference = submit_referral(app, **{"does-pv-need-support": "yes", "pv-phone-number": "yes",
                                            "pv-phone-number-yes": "+447700900555"})
        submit_referral(app)  # does not want support: no hand-off
        worker.drain(app)
        [request] = notify_stub.requests
        assert request.fields["email_address"] == "referrals@support.example.org"
        assert reference in request.fields["personalisation"]["body"]
        assert "+447700900555" not in str(request.fields)
        with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
            assert [e.detail["to"] for e in session.scalars(select(AuditEvent).where(
                AuditEvent.action == "outbound.handoff"))] == ["support_provider"]
    finally:
        db.get_db(app).engine.dispose()


def test_no_body_to_a_responder_or_local_authority_holds_the_persons_name_birth_date_or_address(
        outbound_app: Flask, twilio_stub, notify_stub, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    answers = {"pv-contact-details": ["email", "post"], **ADDRESS, "pv-contact-details-post-check": "yes"}
    adult = submit_referral(outbound_app, **answers)
    child = submit_referral(outbound_app, route="child")
    caseworker = make_staff(outbound_app, "caseworker")
    panel = make_staff(outbound_app, "panel", "Independent Review Panel")
    for reference in (adult, child):
        decide(outbound_app, reference, caseworker, "rg", "negative")
        uphold(outbound_app, reference, panel)
    worker.drain(outbound_app)
    personal = personal_values(walked_payload("adult")) | personal_values(walked_payload("child")) | {
        value.casefold() for value in ADDRESS.values()}
    assert {"anna", "hoxha", "1990-02-03", "3 february 1990", "12 hidden lane", "wf1 2ab"} <= personal

    not_to_the_person = [request for request in twilio_stub.requests] + [
        request for request in notify_stub.requests if request.fields["email_address"] != "anna.h@example.com"]
    assert len(not_to_the_person) >= 9
    for request in not_to_the_person:
        sent = str(request.fields).casefold()
        assert not [value for value in personal if value in sent], request
    to_the_person = [row for row in outbox(outbound_app) if row.audience == "person"]
    assert to_the_person and all("Anna" in row.content["body"] for row in to_the_person)
    logged = caplog.text.casefold()
    assert not [value for value in personal | {"anna.h@example.com", "+447700900123"} if value in logged]
    assert BASE  # the sign-in address is the only link sent
