"""A full case through the outbound half, against the stub providers: submitted by SMS, RG
positive, a request for information answered by SMS, CG negative, the panel upholds it; Twilio
reports the SMS delivered. Prints the outbox table and what the stub servers received.

Run it: ``.venv/bin/python -m tests.outbound.full_case`` (tests/outbound/test_full_case.py runs it
and checks every line).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from backend import db
from backend.outbound import worker
from backend.outbound.models import OutboundMessage
from tests.bot.sms_support import BASE, SmsPhone, make_sms_app, sign
from tests.outbound.casework import ask, decide, end_recovery_now, uphold
from tests.outbound.conftest import make_staff, outbox, submit_referral
from tests.outbound.stubs import StubProvider, provider_config, start_notify_stub, start_twilio_stub

QUESTION = "Is the person still in contact with the police officer who took the statement?"
ANSWER = "Yes, weekly, through the safeguarding team"


@dataclass
class FullCase:
    reference: str
    rows: list[OutboundMessage]
    sms_replies: list[str]


def run(app: Flask, twilio: StubProvider) -> FullCase:
    reference = submit_referral(app)
    caseworker = make_staff(app, "caseworker")
    panel = make_staff(app, "panel", "Independent Review Panel")
    worker.drain(app)
    decide(app, reference, caseworker, "rg", "positive")
    worker.drain(app)
    end_recovery_now(app, reference)
    ask(app, reference, caseworker, QUESTION)
    worker.drain(app)
    replies = SmsPhone(app).send(f"INFO {reference} {ANSWER}")
    decide(app, reference, caseworker, "cg", "negative")
    worker.drain(app)
    uphold(app, reference, panel)
    worker.drain(app)
    client = app.test_client()
    for request in twilio.requests:  # Twilio reports each SMS delivered
        sid = next(row.provider_id for row in outbox(app) if row.channel == "sms"
                   and row.content["body"] == request.fields["Body"])
        fields = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32}
        client.post("/outbound/twilio/status", data=fields, base_url="http://127.0.0.1:5000",
                    headers={"X-Twilio-Signature": sign(fields, BASE + "/outbound/twilio/status")})
    return FullCase(reference, outbox(app), replies)


def outbox_table(rows: list[OutboundMessage]) -> str:
    lines = ["| id | kind | to | channel | status | attempts | provider id | reason |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.id} | {row.kind} | {row.audience} | {row.channel} | {row.status} | {row.attempts} "
                     f"| {(row.provider_id or '')[:12]}... | {row.reason or ''} |")
    return "\n".join(lines)


def received_table(twilio: StubProvider, notify: StubProvider) -> str:
    lines = []
    for request in twilio.requests:
        lines.append(f"twilio POST {request.path} To={request.fields['To']} "
                     f"StatusCallback={request.fields.get('StatusCallback')}\n    Body={request.fields['Body']}")
    for request in notify.requests:
        lines.append(f"notify POST {request.path} email_address={request.fields['email_address']} "
                     f"template_id={request.fields['template_id']} reference={request.fields['reference']}\n"
                     f"    body={request.fields['personalisation']['body']}")
    return "\n".join(lines)


def main() -> None:
    import os

    for key in ("DATABASE_URL", "NRM_ENV", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "NRM_INSTANCE_PATH"):
        os.environ.pop(key, None)
    twilio, notify = start_twilio_stub(), start_notify_stub()
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = make_sms_app(Path(folder), **provider_config(twilio, notify))
            try:
                case = run(app, twilio)
                print(f"Case {case.reference}; reply to the INFO text: {case.sms_replies}\n")
                print(outbox_table(case.rows))
                print("\nReceived by the stub servers:")
                print(received_table(twilio, notify))
            finally:
                db.get_db(app).engine.dispose()
    finally:
        twilio.server.stop()
        notify.server.stop()


if __name__ == "__main__":
    main()
