"""``/healthz`` says the process is up whatever the database does; ``/readyz`` says whether this
machine may take traffic (keys, database, schema at head) with a reason code and nothing else;
neither is rate-limited nor logged while it succeeds."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask

from backend import db
from backend.app import create_app
from backend.cli import upgrade_database
from tests.conftest import backend_test_config

UNREACHABLE = "sqlite:////nonexistent-directory/for-readiness/nrm.sqlite3"


def _app(tmp_path: Path, **extra: object) -> Flask:
    return create_app(backend_test_config(tmp_path, **extra))


def test_healthz_answers_ok_when_the_database_is_unreachable(tmp_path: Path) -> None:
    app = _app(tmp_path, DATABASE_URL=UNREACHABLE)

    response = app.test_client().get("/healthz")

    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database_with_keys(client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200 and response.get_json() == {"status": "ready"}


def test_readyz_answers_503_database_unreachable_without_any_detail(tmp_path: Path) -> None:
    app = _app(tmp_path, DATABASE_URL=UNREACHABLE)

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "database_unreachable"}
    assert b"nonexistent" not in response.data and b"sqlite" not in response.data.lower()


def test_readyz_answers_503_migrations_pending_before_and_behind_the_head(tmp_path: Path) -> None:
    app = _app(tmp_path)
    client = app.test_client()
    assert client.get("/readyz").get_json() == {"status": "unavailable", "reason": "migrations_pending"}

    upgrade_database(app, "0010")
    behind = client.get("/readyz")
    assert behind.status_code == 503 and behind.get_json()["reason"] == "migrations_pending"

    upgrade_database(app)
    assert client.get("/readyz").status_code == 200
    db.get_db(app).engine.dispose()


def test_readyz_answers_503_keys_missing_when_a_key_is_not_configured(app: Flask) -> None:
    app.config["AUDIT_KEY"] = ""

    response = app.test_client().get("/readyz")

    assert response.status_code == 503 and response.get_json()["reason"] == "keys_missing"


def test_health_endpoints_are_never_rate_limited(tmp_path: Path) -> None:
    app = _app(tmp_path, RATELIMIT_DEFAULT="2 per minute")
    upgrade_database(app)
    client = app.test_client()

    answers = [client.get(path).status_code for _ in range(5) for path in ("/healthz", "/readyz")]
    limited = [client.get("/casework/sign-in").status_code for _ in range(3)]

    assert answers == [200] * 10
    assert limited[-1] == 429  # the default limit does apply elsewhere
    db.get_db(app).engine.dispose()


def test_health_checks_are_logged_only_when_they_fail(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    app = _app(tmp_path)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503  # not migrated yet

    lines = [record.getMessage() for record in caplog.records if record.name == "nrm.requests"]

    assert lines == [lines[0]] and lines[0].startswith("GET /readyz 503 ")
    db.get_db(app).engine.dispose()
