"""Sessions and tokens that end (backend.sessions, backend.auth): sign-out, idle and absolute limits,
revocation by password change, ``nrm user revoke-tokens`` and deactivation; token expiry and use."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from backend import auth, db, sessions
from backend.db import utcnow
from backend.models import ApiToken, User, UserSession
from tests.backend.test_web_auth import PASSWORD, add_user, csrf_token, sign_in

QUEUE = "/casework/"
EMAIL = "cw@example.org"


class Clock:
    """The time as ``backend.sessions`` and ``backend.auth`` see it, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    moving = Clock()
    monkeypatch.setattr(sessions, "utcnow", moving)
    monkeypatch.setattr(auth, "utcnow", moving)
    yield moving


def signed_in(app: Flask, role: str = "caseworker") -> FlaskClient:
    add_user(app, EMAIL, role)
    client = app.test_client()
    assert sign_in(client, EMAIL).status_code == 302
    assert client.get(QUEUE).status_code == 200
    return client


def copy_of_cookie(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app: Flask) -> None:
    client = signed_in(app)
    thief = copy_of_cookie(app, client)
    assert thief.get(QUEUE).status_code == 200  # the copy works while the session lives

    client.post("/casework/sign-out", data={"csrf_token": csrf_token(client, QUEUE)})

    refused = thief.get(QUEUE)
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/casework/sign-in")
    assert thief.get(QUEUE).status_code == 302  # and stays refused


def test_signing_out_ends_only_that_session(app: Flask) -> None:
    office = signed_in(app)
    laptop = app.test_client()
    assert sign_in(laptop, EMAIL).status_code == 302
    laptop.post("/casework/sign-out", data={"csrf_token": csrf_token(laptop, QUEUE)})
    assert laptop.get(QUEUE).status_code == 302
    assert office.get(QUEUE).status_code == 200


def test_a_session_left_idle_past_the_idle_limit_ends(app: Flask, clock: Clock) -> None:
    client = signed_in(app)
    idle = app.config["SESSION_IDLE_MINUTES"]
    clock.advance(minutes=idle - 1)
    assert client.get(QUEUE).status_code == 200  # used in time: the idle clock restarts
    clock.advance(minutes=idle - 1)
    assert client.get(QUEUE).status_code == 200
    clock.advance(minutes=idle + 1)
    assert client.get(QUEUE).status_code == 302
    clock.advance(minutes=1)
    assert client.get(QUEUE).status_code == 302  # an ended session never comes back


def test_a_busy_session_still_ends_at_the_absolute_limit(app: Flask, clock: Clock) -> None:
    client = signed_in(app)
    step = app.config["SESSION_IDLE_MINUTES"] - 1
    used_for = timedelta(0)
    while used_for + timedelta(minutes=step) < timedelta(hours=app.config["SESSION_MAX_HOURS"]):
        clock.advance(minutes=step)
        used_for += timedelta(minutes=step)
        assert client.get(QUEUE).status_code == 200  # each use extends it, up to the limit
    clock.advance(minutes=step)
    assert client.get(QUEUE).status_code == 302


def test_the_limits_are_settings(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.app import create_app
    from tests.conftest import backend_test_config

    monkeypatch.setenv("SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("SESSION_MAX_HOURS", "2")
    monkeypatch.setenv("API_TOKEN_DAYS", "7")
    app = create_app(backend_test_config(tmp_path))
    try:
        assert (app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_MAX_HOURS"],
                app.config["API_TOKEN_DAYS"]) == (5, 2, 7)
        assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)
    finally:
        db.get_db(app).engine.dispose()


def _api_token(app: Flask) -> str:
    with app.app_context(), db.get_db(app).transaction() as session:
        user = session.scalars(select(User).where(User.email == EMAIL)).one()
        return auth.create_token(session, user)


def _queue_by_token(client: FlaskClient, token: str) -> int:
    return client.get("/api/v1/queues/decision", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.parametrize("command", [["user", "password", EMAIL], ["user", "revoke-tokens", EMAIL],
                                     ["user", "deactivate", EMAIL]],
                         ids=["password-change", "revoke-tokens", "deactivation"])
def test_password_change_revoke_tokens_and_deactivation_end_sessions_and_tokens(
        app: Flask, command: list[str]) -> None:
    browser = signed_in(app)
    other_browser = app.test_client()
    assert sign_in(other_browser, EMAIL).status_code == 302
    token = _api_token(app)
    assert _queue_by_token(browser, token) == 200

    output = run(app, *command)

    assert browser.get(QUEUE).status_code == 302
    assert other_browser.get(QUEUE).status_code == 302
    assert _queue_by_token(app.test_client(), token) == 401
    if command[1] == "password":
        new_password = output.split("password: ")[1].split()[0]
        assert sign_in(app.test_client(), EMAIL, PASSWORD).status_code == 400  # old one refused
        assert sign_in(app.test_client(), EMAIL, new_password).status_code == 302
    else:
        assert "ended 2 session(s)" in output


def test_deactivation_in_the_database_ends_sessions_and_tokens_at_the_next_request(app: Flask) -> None:
    browser = signed_in(app)
    token = _api_token(app)
    with app.app_context(), db.get_db(app).transaction() as session:
        session.scalars(select(User).where(User.email == EMAIL)).one().active = False
    assert browser.get(QUEUE).status_code == 302
    assert _queue_by_token(app.test_client(), token) == 401


def test_an_expired_api_token_is_refused(app: Flask, clock: Clock) -> None:
    add_user(app, EMAIL, "caseworker")
    token = _api_token(app)
    client = app.test_client()
    clock.advance(days=app.config["API_TOKEN_DAYS"] - 1)
    assert _queue_by_token(client, token) == 200
    clock.advance(days=1)
    response = client.get("/api/v1/queues/decision", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_records_when_it_was_last_used(app: Flask, clock: Clock) -> None:
    add_user(app, EMAIL, "caseworker")
    token = _api_token(app)
    listing = run(app, "user", "tokens", EMAIL)
    assert "never" in listing.splitlines()[1]  # issued, not used yet
    clock.advance(hours=3)
    assert _queue_by_token(app.test_client(), token) == 200
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.last_used_at == clock.now
    assert clock.now.strftime("%Y-%m-%d %H:%M UTC") in run(app, "user", "tokens", EMAIL)


def test_nrm_user_token_prints_the_expiry(app: Flask, clock: Clock) -> None:
    add_user(app, EMAIL, "caseworker")
    output = run(app, "user", "token", EMAIL)
    expires = clock.now + timedelta(days=app.config["API_TOKEN_DAYS"])
    assert f"expires: {expires.strftime('%Y-%m-%d %H:%M UTC')}" in output
    assert output.split("token: ")[1].split()[0].startswith(auth.TOKEN_PREFIX)


def test_the_server_keeps_only_a_hash_of_the_session_secret(app: Flask) -> None:
    client = signed_in(app)
    with client.session_transaction() as cookie_session:
        secret = cookie_session[sessions.SESSION_KEY]
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        ids = session.scalars(select(UserSession.id)).all()
    assert len(ids) == 1 and secret not in ids[0] and ids[0] != secret


def test_nrm_jobs_run_deletes_sessions_past_the_absolute_limit(app: Flask, clock: Clock) -> None:
    old = signed_in(app)
    clock.advance(hours=app.config["SESSION_MAX_HOURS"], minutes=1)
    recent = app.test_client()
    assert sign_in(recent, EMAIL).status_code == 302
    assert "sign-in sessions deleted: 1" in run(app, "jobs", "run")
    assert old.get(QUEUE).status_code == 302
    assert recent.get(QUEUE).status_code == 200
