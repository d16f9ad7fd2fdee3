"""Fixtures for the whole product (bot.app): channels in front of a real, migrated SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from backend import auth, db
from bot.app import create_app
from tests.bot.sms_support import ENV_KEYS, SmsPhone, make_sms_app
from tests.conftest import backend_test_config, fresh_postgres_url, migrate


@pytest.fixture
def product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for key in ENV_KEYS:  # the developer's shell must not leak into tests
        monkeypatch.delenv(key, raising=False)
    application = create_app(backend_test_config(tmp_path))
    migrate(application)
    yield application
    db.get_db(application).engine.dispose()


@pytest.fixture
def sms_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The whole product with the SMS test number registered as a responder."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    app = make_sms_app(tmp_path)
    yield app
    db.get_db(app).engine.dispose()


@pytest.fixture
def pg_sms_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """``sms_app`` on a fresh PostgreSQL schema (only for ``postgres``-marked tests)."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    with fresh_postgres_url() as url:
        app = make_sms_app(tmp_path, DATABASE_URL=url)
        try:
            yield app
        finally:
            db.get_db(app).engine.dispose()


@pytest.fixture
def phone(sms_app: Flask) -> SmsPhone:
    return SmsPhone(sms_app)


def make_user(app: Flask, email: str, role: str) -> str:
    """Create a user and return a bearer token for it."""
    with app.app_context(), db.get_db(app).transaction() as session:
        user = auth.create_user(session, email, role, auth.generate_password())
        return auth.create_token(session, user)


def claimed_case(app: Flask) -> tuple[str, str]:
    """A case (``awaiting_rg``) claimed by a new caseworker: its reference and the caseworker's
    bearer token, for posting a decision."""
    from tests.backend.casework_helpers import give_claim, make_case

    with app.app_context(), db.get_db(app).transaction() as session:
        worker = auth.create_user(session, "caseworker@example.org", "caseworker", auth.generate_password())
        case = make_case(session)
        give_claim(case, worker)
        return case.reference, auth.create_token(session, worker)
