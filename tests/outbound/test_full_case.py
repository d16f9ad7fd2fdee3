"""The issue's closing case: submitted, RG positive, a request for information answered by SMS,
CG negative, panel upheld: the outbox and what the providers received (printed with -s)."""

from __future__ import annotations

from flask import Flask

from tests.outbound.full_case import ANSWER, QUESTION, outbox_table, received_table, run


def test_a_full_case_sends_each_message_once_to_the_right_people_and_delivery_is_recorded(
        outbound_app: Flask, twilio_stub, notify_stub) -> None:
    case = run(outbound_app, twilio_stub)
    print(outbox_table(case.rows))
    print(received_table(twilio_stub, notify_stub))
    reference = case.reference
    assert case.sms_replies == [f"Thank you. Your answer on NRM referral {reference} is with the decision makers."]
    assert [(row.kind, row.audience, row.channel, row.status) for row in case.rows] == [
        ("rg_decision", "responder", "sms", "delivered"),
        ("rg_decision", "responder", "email", "sent"),
        ("person_decision", "person", "email", "sent"),
        ("information_request", "responder", "sms", "delivered"),
        ("information_request", "responder", "email", "sent"),
        ("cg_decision", "responder", "sms", "delivered"),
        ("cg_decision", "responder", "email", "sent"),
        ("person_decision", "person", "email", "sent"),
        ("panel_outcome", "responder", "sms", "delivered"),
        ("panel_outcome", "responder", "email", "sent"),
        ("person_decision", "person", "email", "sent"),
    ]
    assert all(row.attempts == 1 for row in case.rows)
    bodies = [request.fields["Body"] for request in twilio_stub.requests]
    assert bodies == [
        f"NRM referral {reference}: the Reasonable Grounds decision is positive. Sign in at "
        "https://nrm.example.org/casework/sign-in to read the letter.",
        f"NRM referral {reference}: the decision makers ask: {QUESTION} Reply INFO {reference} and your "
        "answer, or sign in at https://nrm.example.org/casework/sign-in.",
        f"NRM referral {reference}: the Conclusive Grounds decision is negative and goes to an independent "
        "panel for review. Sign in at https://nrm.example.org/casework/sign-in to read the letter.",
        f"NRM referral {reference}: the panel upheld the negative decision. Sign in at "
        "https://nrm.example.org/casework/sign-in to read the letter.",
    ]
    assert all(request.fields["To"] == "+447700900123" for request in twilio_stub.requests)
    emails = [(request.fields["email_address"], request.fields["personalisation"]["body"][:40])
              for request in notify_stub.requests]
    assert [address for address, _ in emails] == ["sam.jones@example.org", "anna.h@example.com"] * 1 + [
        "sam.jones@example.org", "sam.jones@example.org", "anna.h@example.com",
        "sam.jones@example.org", "anna.h@example.com"]
    assert ANSWER not in received_table(twilio_stub, notify_stub)  # the answer stays on the case
