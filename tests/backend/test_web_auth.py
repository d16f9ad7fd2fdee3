"""Staff sign-in pages (backend.web_auth): GOV.UK markup, CSRF, lock-out, cookies, redirects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from backend import auth, db
from backend.app import create_app
from backend.models import User
from backend.web_auth import ASSETS_DIR, SIGN_IN_FAILED
from tests.conftest import backend_test_config, migrate

PASSWORD = "correct horse battery staple"
SIGN_IN = "/casework/sign-in"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(app: Flask, email: str, role: str, password: str = PASSWORD) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        auth.create_user(session, email, role, password)


def csrf_token(client: FlaskClient, path: str = SIGN_IN) -> str:
    page = client.get(path)
    found = CSRF_FIELD.search(page.get_data(as_text=True))
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, path: str = SIGN_IN):
    return client.post(path, data={"csrf_token": csrf_token(client), "email": email, "password": password})


def test_the_sign_in_page_is_a_gov_uk_page_with_a_csrf_field(client: FlaskClient) -> None:
    page = client.get(SIGN_IN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="govuk-template' in html
    assert 'href="/assets/govuk-frontend.min.css"' in html
    assert 'class="govuk-input' in html and 'for="email"' in html and 'for="password"' in html
    assert "govuk-password-input" in html  # the GOV.UK password input (show/hide button)
    assert CSRF_FIELD.search(html)
    assert "govuk-error-summary" not in html


def test_a_form_without_its_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    add_user(app, "op@example.org", "operator")
    response = client.post(SIGN_IN, data={"email": "op@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "Sorry, there is a problem" in response.get_data(as_text=True)
    assert client.get("/casework/").status_code == 302  # not signed in


def test_wrong_credentials_show_the_gov_uk_error_summary(app: Flask, client: FlaskClient) -> None:
    add_user(app, "op@example.org", "operator")
    response = sign_in(client, "op@example.org", "wrong password")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in html and "There is a problem" in html
    assert SIGN_IN_FAILED in html
    assert 'href="#email"' in html
    assert "<title>Error: Sign in" in html
    assert "wrong password" not in html  # the password is never echoed
    assert 'value="op@example.org"' in html  # the email is kept
    # an unknown email gets exactly the same answer
    unknown = sign_in(client, "nobody@example.org", "x").get_data(as_text=True)
    assert SIGN_IN_FAILED in unknown


def test_missing_fields_are_named_in_the_summary(client: FlaskClient) -> None:
    html = sign_in(client, "", "").get_data(as_text=True)
    assert "Enter your email address" in html and "Enter your password" in html
    assert 'href="#password"' in html
    assert "govuk-input--error" in html


@pytest.mark.parametrize(("role", "home"), [
    ("operator", "/chat"),
    ("caseworker", "/casework/"),
    ("panel", "/casework/review"),
    ("analyst", "/casework/stats"),
    ("admin", "/admin/users"),
])
def test_each_role_lands_on_its_start_page(app: Flask, client: FlaskClient, role: str, home: str) -> None:
    add_user(app, f"{role}@example.org", role)
    response = sign_in(client, f"{role}@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == home
    if home.startswith("/casework/"):  # /chat is the whole product's (bot.app), not this app's
        assert client.get(home).status_code == 200  # a page this role may use (backend.casework_pages)


def test_next_is_followed_only_on_this_site(app: Flask, client: FlaskClient) -> None:
    add_user(app, "cw@example.org", "caseworker")
    token = csrf_token(client)
    form = {"csrf_token": token, "email": "cw@example.org", "password": PASSWORD}
    evil = client.post(SIGN_IN + "?next=//evil.example/x", data=form)
    assert evil.headers["Location"] == "/casework/"
    client.post("/casework/sign-out", data={"csrf_token": csrf_token(client, "/casework/")})
    form["csrf_token"] = csrf_token(client)
    ours = client.post(SIGN_IN + "?next=/casework/?page=2", data=form)
    assert ours.headers["Location"] == "/casework/?page=2"


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/casework/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/casework/sign-in?next=")


def test_sign_out_needs_a_csrf_token_and_ends_the_session(app: Flask, client: FlaskClient) -> None:
    add_user(app, "cw@example.org", "caseworker")
    sign_in(client, "cw@example.org")
    assert client.post("/casework/sign-out").status_code == 400  # no token: still signed in
    assert client.get("/casework/").status_code == 200
    assert "Sign out" in client.get("/casework/sign-out").get_data(as_text=True)
    response = client.post("/casework/sign-out", data={"csrf_token": csrf_token(client, "/casework/")})
    assert response.status_code == 302
    assert "signed-out=1" in response.headers["Location"]
    assert "You have signed out." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/casework/").status_code == 302


def test_a_deactivated_user_loses_the_session(app: Flask, client: FlaskClient) -> None:
    add_user(app, "cw@example.org", "caseworker")
    sign_in(client, "cw@example.org")
    with app.app_context(), db.get_db(app).transaction() as session:
        session.scalars(select(User).where(User.email == "cw@example.org")).one().active = False
    assert client.get("/casework/").status_code == 302


def _cookie_flags(response) -> str:
    cookies = [value for name, value in response.headers.items() if name == "Set-Cookie"]
    session_cookie = [cookie for cookie in cookies if cookie.startswith("session=")]
    assert session_cookie, cookies
    return session_cookie[0]


def test_session_cookies_are_http_only_and_same_site_lax(app: Flask, client: FlaskClient) -> None:
    add_user(app, "cw@example.org", "caseworker")
    flags = _cookie_flags(sign_in(client, "cw@example.org"))
    assert "HttpOnly" in flags
    assert "SameSite=Lax" in flags
    assert "Secure" not in flags  # development over plain http


def test_production_session_cookies_are_secure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "NRM_ENV", "TWILIO_AUTH_TOKEN",
                "PUBLIC_BASE_URL", "NRM_INSTANCE_PATH"):
        monkeypatch.delenv(key, raising=False)
    from cryptography.fernet import Fernet

    app = create_app(backend_test_config(
        tmp_path, NRM_ENV="production", SECRET_KEY="s" * 64,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(), TWILIO_AUTH_TOKEN="t", AUDIT_KEY="a" * 64))
    migrate(app)
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        add_user(app, "cw@example.org", "caseworker")
        client = app.test_client()
        flags = _cookie_flags(sign_in(client, "cw@example.org"))
        assert "Secure" in flags and "HttpOnly" in flags and "SameSite=Lax" in flags
    finally:
        db.get_db(app).engine.dispose()


def test_bearer_token_json_api_needs_no_csrf_token(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        user = auth.create_user(session, "r@example.org", "responder", PASSWORD)
        token = auth.create_token(session, user)
    response = client.post("/api/v1/referrals", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400  # refused as an invalid referral, not by the CSRF check
    assert response.get_json()["error"] == "invalid referral"


@pytest.mark.skipif(not (ASSETS_DIR / "govuk-frontend.min.css").exists(),
                    reason="GOV.UK Frontend assets not built (run `make assets`)")
def test_gov_uk_frontend_assets_are_served(client: FlaskClient) -> None:
    css = client.get("/assets/govuk-frontend.min.css")
    assert css.status_code == 200 and b".govuk-" in css.data
    css.close()
    font = client.get("/assets/fonts/light-94a07e06a1-v2.woff2")
    assert font.status_code == 200
    font.close()
    assert client.get("/assets/govuk-frontend.min.js").status_code == 200


def test_the_root_address_leads_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/casework/sign-in")


@pytest.mark.parametrize("email", ["op@example.org", "nobody@example.org"])
def test_a_failed_sign_in_reads_the_account_once(app: Flask, client: FlaskClient, email: str) -> None:
    """The password check and the audit of the failure share one read of the email's account."""
    from sqlalchemy import event

    add_user(app, "op@example.org", "operator")
    token = csrf_token(client)
    reads: list[str] = []

    def on_statement(_connection, _cursor, statement: str, *_args) -> None:
        if statement.startswith("SELECT") and "FROM users" in statement:
            reads.append(statement)

    engine = db.get_db(app).engine
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        response = client.post(SIGN_IN, data={"csrf_token": token, "email": email, "password": "wrong"})
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    assert response.status_code == 400
    assert len(reads) == 1
