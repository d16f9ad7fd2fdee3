"""Local stand-ins for Twilio's REST API and GOV.UK Notify's, on real HTTP servers
(pytest-httpserver): the real ``twilio`` and ``notifications-python-client`` clients talk to them
through their base URL, and every request they received is kept for the tests to read.

- Twilio: ``POST /2010-04-01/Accounts/<AccountSid>/Messages.json`` (form fields To, From or
  MessagingServiceSid, Body, StatusCallback; HTTP Basic auth) answers 201 with a message SID.
- Notify: ``POST /v2/notifications/email`` (JSON email_address, template_id, personalisation,
  reference; a JWT bearer token) answers 201 with a notification id.

``fail_next(503, 400)`` makes the next requests answer those statuses (each in the provider's
error format) before answering normally again.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ACCOUNT_SID = "AC" + "1" * 32
SERVICE_ID = str(uuid.UUID(int=7))
NOTIFY_KEY = f"nrm_test-{SERVICE_ID}-{uuid.UUID(int=9)}"
TEMPLATES = {"message": str(uuid.UUID(int=101)), "person": str(uuid.UUID(int=102)),
             "person:pl": str(uuid.UUID(int=103))}
FROM_NUMBER = "+441134960000"


@dataclass
class Received:
    """One request a stub server received."""

    provider: str
    path: str
    fields: dict[str, Any]
    authorised: bool


@dataclass
class StubProvider:
    server: HTTPServer
    name: str
    requests: list[Received] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    delay: float = 0.0
    """Seconds each answer takes (so that concurrent workers overlap)."""

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def fail_next(self, *statuses: int) -> None:
        self.failures.extend(statuses)


def _twilio(stub: StubProvider, request: Request) -> Response:
    time.sleep(stub.delay)
    fields = request.form.to_dict()
    stub.requests.append(Received("twilio", request.path, fields, request.authorization is not None
                                  and request.authorization.username == ACCOUNT_SID))
    if stub.failures:
        status = stub.failures.pop(0)
        return Response(json.dumps({"code": 21211 if status < 500 else 20500, "message": "refused",
                                    "status": status}), status, content_type="application/json")
    sid = "SM" + uuid.uuid4().hex
    return Response(json.dumps({"sid": sid, "account_sid": ACCOUNT_SID, "to": fields.get("To"),
                                "from": fields.get("From"), "body": fields.get("Body"), "status": "queued",
                                "num_segments": "1", "direction": "outbound-api"}), 201,
                    content_type="application/json")


def _notify(stub: StubProvider, request: Request) -> Response:
    time.sleep(stub.delay)
    fields = json.loads(request.get_data(as_text=True) or "{}")
    stub.requests.append(Received("notify", request.path, fields,
                                  (request.headers.get("Authorization") or "").startswith("Bearer ")))
    if stub.failures:
        status = stub.failures.pop(0)
        return Response(json.dumps({"status_code": status, "errors": [
            {"error": "BadRequestError" if status < 500 else "Exception", "message": "refused"}]}), status,
            content_type="application/json")
    notification = str(uuid.uuid4())
    personalisation = fields.get("personalisation") or {}
    return Response(json.dumps({
        "id": notification, "reference": fields.get("reference"), "uri": f"/v2/notifications/{notification}",
        "template": {"id": fields.get("template_id"), "version": 1, "uri": "/v2/template"},
        "content": {"subject": personalisation.get("subject", ""), "body": personalisation.get("body", ""),
                    "from_email": "nrm@notifications.service.gov.uk"}}), 201, content_type="application/json")


def start_twilio_stub() -> StubProvider:
    """A running Twilio stand-in (stop it with ``stub.server.stop()``)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    stub = StubProvider(server, "twilio")
    server.expect_request(re.compile(r"^/2010-04-01/Accounts/[^/]+/Messages\.json$"), method="POST") \
        .respond_with_handler(lambda request: _twilio(stub, request))
    return stub


def start_notify_stub() -> StubProvider:
    """A running GOV.UK Notify stand-in (stop it with ``stub.server.stop()``)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    stub = StubProvider(server, "notify")
    server.expect_request("/v2/notifications/email", method="POST") \
        .respond_with_handler(lambda request: _notify(stub, request))
    return stub


@pytest.fixture
def twilio_stub() -> Iterator[StubProvider]:
    stub = start_twilio_stub()
    yield stub
    stub.server.stop()


@pytest.fixture
def notify_stub() -> Iterator[StubProvider]:
    stub = start_notify_stub()
    yield stub
    stub.server.stop()


def provider_config(twilio: StubProvider | None, notify: StubProvider | None) -> dict[str, Any]:
    """The settings that point the app's providers at the stubs (quiet hours off)."""
    config: dict[str, Any] = {"SMS_QUIET_HOURS": "", "OUTBOX_RETRY_SECONDS": 1}
    if twilio is not None:
        config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_FROM_NUMBER=FROM_NUMBER, TWILIO_API_BASE_URL=twilio.url)
    if notify is not None:
        config.update(NOTIFY_API_KEY=NOTIFY_KEY, NOTIFY_BASE_URL=notify.url, NOTIFY_TEMPLATES=TEMPLATES)
    return config
