"""The case page's messages and the print queue speak the reader's language: every kind, audience,
channel, status and reason of a message has a translated label, and no internal code shows."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import select

from backend import db
from backend.outbound import labels, worker
from backend.outbound.models import OutboundMessage
from tests.outbound.casework import decide
from tests.outbound.conftest import make_staff, submit_referral
from tests.outbound.pages import signed_in_client

ADDRESS = {"pv-contact-details": ["email", "post"], "pv-contact-details-street": "12 Hidden Lane",
           "pv-contact-details-town": "Wakefield", "pv-contact-details-postcode": "WF1 2AB",
           "pv-contact-details-post-check": "yes"}
STORED = [  # (status, reason) given to the case's messages, one each
    ("suppressed", labels.NO_SMS_PROVIDER),
    ("failed", "Notify refused: HTTP 400 (BadRequestError)"),
    ("pending", "Twilio refused: HTTP 503, code 20003; try 2 later"),
]
CODES = ("rg_decision", "person_decision", "responder", "pending", "suppressed", "failed", "sms",
         "post", "(email)", "provider not configured", "Notify refused", "Twilio refused", "try 2 later")


def _case_with_every_kind_of_message(app: Flask) -> str:
    reference = submit_referral(app, **ADDRESS)
    decide(app, reference, make_staff(app, "caseworker"), "rg", "positive")
    worker.drain(app)
    with app.app_context(), db.get_db(app).transaction() as session:
        rows = session.scalars(select(OutboundMessage).where(OutboundMessage.channel != "post")
                               .order_by(OutboundMessage.id)).all()
        assert len(rows) >= len(STORED)
        for row, (status, reason) in zip(rows, STORED):
            row.status, row.reason = status, reason
    return reference


def _shown(html: str, start: str) -> str:
    """The words of the part of the page from ``start`` on, tags and attributes left out."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html.split(start, 1)[1].split("</table>", 1)[0])).split())


def test_the_messages_of_a_case_and_the_print_queue_show_labels_never_internal_codes(outbound_app: Flask) -> None:
    reference = _case_with_every_kind_of_message(outbound_app)
    client, _ = signed_in_client(outbound_app, "caseworker")
    table = _shown(client.get(f"/casework/cases/{reference}").get_data(as_text=True), 'id="outbox"')
    for label in ("Reasonable grounds decision", "Decision letter to the person", "The referrer (SMS)",
                  "The person referred (Letter)", "Not sent", "Not sent: no SMS provider is configured",
                  "Failed", "The email service refused it (HTTP 400 (BadRequestError))",
                  "Waiting to be sent", "The SMS service refused it (HTTP 503, code 20003). "
                  "It will be tried again (attempt 2).", "Waiting to be printed and posted"):
        assert label in table, label
    for code in CODES:
        assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", table), code

    letters = client.get("/casework/letters").get_data(as_text=True)
    card = _shown(letters, 'class="govuk-summary-card"')
    assert "Decision letter to the person" in card and "Waiting to be printed and posted" in card
    assert "person_decision" not in card and "pending" not in card


def test_welsh_readers_see_the_messages_and_the_print_queue_in_welsh(outbound_app: Flask,
                                                                     compiled_catalogues) -> None:
    reference = _case_with_every_kind_of_message(outbound_app)
    client, _ = signed_in_client(outbound_app, "caseworker")
    welsh = {"Accept-Language": "cy"}
    table = _shown(client.get(f"/casework/cases/{reference}", headers=welsh).get_data(as_text=True), 'id="outbox"')
    with outbound_app.test_request_context(headers=welsh):
        expected = [labels.kind_label("rg_decision"), labels.status_label("suppressed", "sms"),
                    labels.reason_label(labels.NO_SMS_PROVIDER), labels.recipient_label("responder", "sms")]
    assert "Reasonable grounds decision" not in table and "Not sent: no SMS provider is configured" not in table
    for label in expected:
        assert label in table, label
    card = _shown(client.get("/casework/letters", headers=welsh).get_data(as_text=True), 'class="govuk-summary-card"')
    assert "Waiting to be printed and posted" not in card and "Decision letter to the person" not in card


@pytest.mark.parametrize(("stored", "shown"), [
    (labels.QUICK_EXIT, "Not sent: the number used the quick exit word, so nothing goes to it until it texts again"),
    ("quiet hours: deferred until 08:00 UK time", "Held for the quiet hours: it goes at 08:00 UK time"),
    ("Twilio: undelivered (error 30005)", "The phone network did not deliver it (error 30005)"),
    ("Twilio unreachable (ConnectionError); try 3 later",
     "The SMS service could not be reached (ConnectionError). It will be tried again (attempt 3)."),
    ("something new\x00", "something new\x00"),  # unknown: shown as stored (escaped by the page)
    (None, ""),
])
def test_each_stored_reason_reads_as_a_sentence(outbound_app: Flask, stored: str | None, shown: str) -> None:
    with outbound_app.test_request_context():
        assert labels.reason_label(stored) == shown
