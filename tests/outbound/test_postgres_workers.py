"""Any number of ``nrm worker`` processes at once on PostgreSQL: each message is sent once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from flask import Flask

from backend import db
from backend.outbound import worker
from tests.bot.sms_support import make_sms_app
from tests.conftest import fresh_postgres_url
from tests.outbound.casework import decide
from tests.outbound.conftest import clear_environment, make_staff, outbox, submit_referral
from tests.outbound.stubs import provider_config

pytestmark = pytest.mark.postgres


def test_two_workers_on_postgres_send_each_message_exactly_once(tmp_path, monkeypatch, twilio_stub,
                                                                 notify_stub) -> None:
    clear_environment(monkeypatch)
    twilio_stub.delay = notify_stub.delay = 0.01
    config = provider_config(twilio_stub, notify_stub)
    with fresh_postgres_url() as url:
        first = make_sms_app(tmp_path / "a", DATABASE_URL=url, **config)
        keys = {key: first.config[key] for key in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "AUDIT_KEY")}
        second: Flask = make_sms_app(tmp_path / "b", register=(), DATABASE_URL=url, **config, **keys)  # another machine
        try:
            caseworker = make_staff(first, "caseworker")
            for _ in range(8):
                decide(first, submit_referral(first), caseworker, "rg", "positive")
            rows = outbox(first)
            assert len(rows) == 24

            start = threading.Barrier(2)
            errors: list[BaseException] = []
            sent_by: dict[str, int] = {}

            def run(app: Flask) -> None:
                try:
                    start.wait()
                    sent_by[app.instance_path] = worker.drain(app).get("sent", 0)
                except BaseException as error:  # noqa: BLE001 - reported below
                    errors.append(error)

            threads = [threading.Thread(target=run, args=(app,)) for app in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert errors == []
            assert sorted(sent_by.values())[0] > 0 and sum(sent_by.values()) == 24  # both worked, none twice
            assert {row.status for row in outbox(first)} == {"sent"}
            sent_sms = Counter(request.fields["Body"] for request in twilio_stub.requests)
            sent_email = Counter(request.fields["reference"] for request in notify_stub.requests)
            assert len(sent_sms) == 8 and set(sent_sms.values()) == {1}
            assert sent_email == Counter({f"outbox-{row.id}": 1 for row in rows if row.channel == "email"})
        finally:
            db.get_db(first).engine.dispose()
            db.get_db(second).engine.dispose()
