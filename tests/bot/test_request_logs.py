"""Every request is one structured log line (method, route rule, endpoint, status, duration,
request id) and nothing personal: a whole SMS referral and a whole web chat referral are made
with the server's JSON log handler attached, and everything logged is searched for the person's
name, date of birth, email and the phone numbers."""

from __future__ import annotations

import io
import json
import logging
from typing import Iterator

import pytest
from flask import Flask

from backend import request_log
from tests.bot.conftest import make_user
from tests.bot.sms_support import PHONE, SmsPhone, start, walk
from tests.bot.test_webchat_api import _walk as walk_web_chat
from tests.flows.conversation import ADULT_NRM

PERSON = {**ADULT_NRM, "pv-name-first-name": "Zbigniew", "pv-name-last-name": "Quellmalz-Farrington",
          "pv-dob": "3/2/1990", "pv-contact-details-email-input": "zq.person@example.com",
          "fr-details-phone": "07700 900456"}
PERSONAL = ("Zbigniew", "Quellmalz", "3/2/1990", "1990-02-03", "03/02/1990", "zq.person@example.com",
            PHONE, PHONE.lstrip("+"), "07700 900123", "7700900123", "07700 900456", "7700900456")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The server's JSON handler (``nrm serve`` with NRM_LOG_FORMAT=json) on the root logger."""
    stream = io.StringIO()
    handler = request_log.handler("json", stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _request_lines(stream: io.StringIO) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "nrm.requests"]


def test_a_whole_sms_referral_is_logged_request_by_request_without_personal_data(
        sms_app: Flask, json_log: io.StringIO, capsys: pytest.CaptureFixture[str]) -> None:
    phone = SmsPhone(sms_app)
    start(phone)
    walk(phone, PERSON)
    assert "NRM-" in "\n".join(phone.send("CONFIRM"))

    lines = _request_lines(json_log)
    logged = json_log.getvalue() + capsys.readouterr().err

    assert len(lines) >= 40 and {line["route"] for line in lines} == {"/sms/twilio"}
    assert all(line["status"] == 200 and line["method"] == "POST" and line["endpoint"] == "sms.twilio_webhook"
               and isinstance(line["duration_ms"], float) and len(str(line["request_id"])) == 32
               for line in lines)
    assert len({line["request_id"] for line in lines}) == len(lines)
    assert [value for value in PERSONAL if value in logged] == []


def test_a_whole_web_chat_referral_is_logged_by_route_rule_without_personal_data(
        product: Flask, json_log: io.StringIO, capsys: pytest.CaptureFixture[str]) -> None:
    token = make_user(product, "operator@example.org", "operator")

    final = walk_web_chat(product.test_client(), token, PERSON)

    assert final["done"] is True
    lines = _request_lines(json_log)
    logged = json_log.getvalue() + capsys.readouterr().err
    assert {line["route"] for line in lines} == {"/api/chat/conversations",
                                                  "/api/chat/conversations/<conversation_id>/messages"}
    assert final["conversation"] not in logged  # the rule, never the URL asked for
    assert [value for value in PERSONAL if value in logged] == []


def test_a_request_id_from_the_load_balancer_is_kept_and_sent_back(product: Flask, json_log: io.StringIO) -> None:
    response = product.test_client().get("/casework/sign-in", headers={"X-Request-ID": "lb-4f1c2a9e"})
    refused = product.test_client().get("/casework/sign-in", headers={"X-Request-ID": "<script> 07700 900123"})

    assert response.headers["X-Request-ID"] == "lb-4f1c2a9e"
    assert refused.headers["X-Request-ID"] != "<script> 07700 900123"
    assert [line["request_id"] for line in _request_lines(json_log)] == ["lb-4f1c2a9e", refused.headers["X-Request-ID"]]
