"""A failed write logs nothing personal: failures are injected while SQLAlchemy binds the values
(a type that raises, as a lone surrogate used to) and inside the database (a trigger that aborts),
and every captured log line (pytest's log capture, stderr, and a real ``nrm serve``) is searched
for the test's personal data. The app runs as in production (not TESTING), so Flask logs and
answers the failure itself instead of handing it to the test.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from flask import Flask
from sqlalchemy import text

from backend import db
from backend.crypto import FieldCipher
from tests.bot.conftest import claimed_case, make_user
from tests.bot.serve_support import GUNICORN_STOPS_WITHIN, free_port, wait_until_serving
from tests.bot.sms_support import ENV_KEYS, PHONE, form, make_sms_app

NAME = "Zbigniew Quellmalz"
ANSWER = "Tirana"
REASONS = "Ms Quellmalz-Farrington gave a consistent account of forced labour"


@pytest.fixture
def live_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The whole product as in production: exceptions are logged and answered, not raised."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    app = make_sms_app(tmp_path, TESTING=False)
    yield app
    db.get_db(app).engine.dispose()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _chat_with_a_name(app: Flask) -> tuple[Any, str, dict[str, str]]:
    """An operator's web chat whose first answer (the reference) is a name."""
    headers = _bearer(make_user(app, "operator@example.org", "operator"))
    client = app.test_client()
    conversation = client.post("/api/chat/conversations", headers=headers).get_json()["conversation"]
    reply = client.post(f"/api/chat/conversations/{conversation}/messages", json={"text": NAME},
                        headers=headers)
    assert reply.status_code == 200 and reply.get_json()["question"]["id"] == "user-organisation"
    return client, conversation, headers


def _claimed_case(app: Flask) -> tuple[str, dict[str, str]]:
    reference, token = claimed_case(app)
    return reference, _bearer(token)


def _logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    return caplog.text + capsys.readouterr().err


def _fail_while_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every encrypted value fails while it is bound, as a lone surrogate did."""

    def refuse(self: FieldCipher, value: Any) -> str:
        raise UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(FieldCipher, "encrypt_json", refuse)  # called by EncryptedJSON's binding


def _abort_in_the_database(app: Flask, table: str, event: str = "INSERT") -> None:
    with db.get_db(app).engine.begin() as connection:
        connection.execute(text(f"CREATE TRIGGER injected_failure BEFORE {event} ON {table} "
                                "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"))


def test_a_failed_write_of_a_web_chat_answer_logs_no_earlier_answer(
        live_app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    client, conversation, headers = _chat_with_a_name(live_app)
    _fail_while_binding(monkeypatch)

    reply = client.post(f"/api/chat/conversations/{conversation}/messages", json={"text": ANSWER},
                        headers=headers)

    assert reply.status_code == 500
    assert reply.get_json()["code"] == "internal_error"
    logged = _logged(caplog, capsys)
    assert "StatementError" in logged and "/api/chat/conversations/<conversation_id>/messages" in logged
    assert NAME not in logged and ANSWER not in logged


def test_a_failed_write_of_decision_reasons_logs_no_reasons(
        live_app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    reference, headers = _claimed_case(live_app)
    _fail_while_binding(monkeypatch)

    reply = live_app.test_client().post(
        f"/api/v1/cases/{reference}/decisions", headers=headers,
        json={"stage": "rg", "outcome": "negative", "reasons": REASONS})

    assert reply.status_code == 500
    logged = _logged(caplog, capsys)
    assert "StatementError" in logged
    assert "Quellmalz" not in logged and "forced labour" not in logged


def test_a_database_failure_on_a_first_sms_logs_no_phone_number(
        live_app: Flask, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.bot.sms_support import SmsPhone

    _abort_in_the_database(live_app, "conversations")

    response = SmsPhone(live_app).post(form(NAME))

    assert response.status_code == 500
    logged = _logged(caplog, capsys)
    assert "IntegrityError" in logged
    assert PHONE not in logged and PHONE.lstrip("+") not in logged and NAME not in logged


# -- a real server ------------------------------------------------------------------------------


def _nrm(env: dict[str, str], *args: str) -> str:
    nrm = Path(sys.executable).with_name("nrm")
    done = subprocess.run([str(nrm), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_nrm_serve_logs_no_personal_data_when_writes_fail(tmp_path: Path) -> None:
    """``nrm serve`` as an operator runs it: a web chat answer with a lone surrogate after a name,
    and a first SMS whose draft the database refuses; stderr holds neither the name nor the number."""
    instance = tmp_path / "instance"
    database = instance / "serve.sqlite3"
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ENV_KEYS and key != "PORT"}
    env.update({"NRM_INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{database}",
                "NRM_ENV": "development", "PORT": str(port)})
    _nrm(env, "db", "upgrade")
    token = _nrm(env, "user", "add", "operator@example.org", "--role", "operator").split("token: ")[1].split()[0]
    phone = "+447700900555"
    _nrm(env, "responder", "add", phone, "--org", "The Salvation Army")
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TRIGGER injected_failure BEFORE INSERT ON conversations "
                           "WHEN NEW.channel = 'sms' BEGIN SELECT RAISE(ABORT, 'injected failure'); END")

    nrm = Path(sys.executable).with_name("nrm")
    server = subprocess.Popen([str(nrm), "serve"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_serving(base):
            pytest.fail("nrm serve did not start")
        headers = {**_bearer(token), "Content-Type": "application/json"}
        conversation = requests.post(f"{base}/api/chat/conversations", headers=headers,
                                     timeout=10).json()["conversation"]
        url = f"{base}/api/chat/conversations/{conversation}/messages"
        assert requests.post(url, json={"text": NAME}, headers=headers, timeout=10).status_code == 200
        answered = requests.post(url, data=b'{"text": "Tirana \\udc80"}', headers=headers, timeout=10)
        assert answered.status_code == 400 and "characters" in answered.json()["error"]
        sms = requests.post(f"{base}/sms/twilio", data=form(NAME, sender=phone), timeout=30)
        assert sms.status_code == 500
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=GUNICORN_STOPS_WITHIN)

    assert "IntegrityError on POST /sms/twilio" in stderr
    assert NAME not in stderr and ANSWER not in stderr
    assert phone not in stderr and phone.lstrip("+") not in stderr


@pytest.mark.parametrize("asked", [{}, {"hide_parameters": False}], ids=["default", "asked-to-show"])
def test_database_errors_never_carry_sql_parameters(asked: dict[str, bool]) -> None:
    """Whoever logs or prints a SQLAlchemy error of the product's engines sees no parameters, even
    when a caller asks the engine to show them."""
    from sqlalchemy.exc import DBAPIError

    engine = db.make_engine("sqlite://", **asked)
    assert engine.hide_parameters is True
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT :name FROM no_such_table"), {"name": NAME})
    except DBAPIError as error:
        assert NAME not in str(error)
    else:
        pytest.fail("the statement should have failed")
    finally:
        engine.dispose()
