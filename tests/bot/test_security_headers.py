"""Browser protections (backend.headers) on every page and API answer that shows case data."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from backend import db
from bot.app import create_app
from tests.backend.casework_helpers import make_case, make_user, token_for
from tests.backend.test_web_auth import PASSWORD, add_user, sign_in
from tests.bot.sms_support import ENV_KEYS
from tests.conftest import backend_test_config, migrate

PAGES_AND_APIS = ("case page", "decision queue", "chat page", "casework API", "chat API")


def assert_protected(response, what: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert "'self'" in directives.get("default-src", []), (what, policy)
    scripts = directives.get("script-src", [])
    assert "'self'" in scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, what
    assert directives.get("frame-ancestors") == ["'none'"], what
    assert directives.get("object-src") == ["'none'"], what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") in ("no-referrer", "same-origin"), what
    assert "no-store" in headers.get("Cache-Control", ""), what
    assert "Strict-Transport-Security" not in headers, what  # development


@pytest.fixture
def product_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    app = create_app(backend_test_config(tmp_path))
    migrate(app)
    yield app
    db.get_db(app).engine.dispose()


def _responses(app: Flask) -> dict[str, object]:
    with app.app_context(), db.get_db(app).transaction() as session:
        reference = make_case(session).reference
        caseworker_token = token_for(session, make_user(session, "caseworker"))
    add_user(app, "cw@example.org", "caseworker")
    add_user(app, "op@example.org", "operator")
    caseworker: FlaskClient = app.test_client()
    assert sign_in(caseworker, "cw@example.org").status_code == 302
    operator: FlaskClient = app.test_client()
    assert sign_in(operator, "op@example.org", PASSWORD).status_code == 302
    csrf = operator.get("/chat").get_data(as_text=True).split('data-csrf="')[1].split('"')[0]
    return {
        "case page": caseworker.get(f"/casework/cases/{reference}"),
        "decision queue": caseworker.get("/casework/"),
        "chat page": operator.get("/chat"),
        "casework API": app.test_client().get("/api/v1/queues/decision",
                                              headers={"Authorization": f"Bearer {caseworker_token}"}),
        "chat API": operator.post("/api/chat/conversations", json={"language": "en"},
                                  headers={"X-CSRFToken": csrf}),
    }


def test_pages_and_api_answers_with_case_data_carry_every_protection(product_app: Flask) -> None:
    responses = _responses(product_app)
    for what in PAGES_AND_APIS:
        response = responses[what]
        assert response.status_code in (200, 201), (what, response.status_code)
        assert_protected(response, what)


def test_the_only_inline_script_carries_the_pages_nonce(product_app: Flask) -> None:
    page = _responses(product_app)["case page"]
    html = page.get_data(as_text=True)
    nonce = page.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    inline = [tag for tag in html.split("<script")[1:]
              if "src=" not in tag.split(">")[0] and 'type="application/json"' not in tag.split(">")[0]]
    assert inline and all(f'nonce="{nonce}"' in tag.split(">")[0] for tag in inline)
    assert "<style" not in html and " onclick=" not in html and " style=" not in html


def test_static_files_may_be_cached(product_app: Flask) -> None:
    response = product_app.test_client().get("/app-assets/init.js")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_hsts_is_sent_in_production_only(tmp_path: Path, product_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    development = product_app.test_client().get("/casework/sign-in", base_url="https://nrm.example")
    assert "Strict-Transport-Security" not in development.headers
    production = create_app(backend_test_config(
        tmp_path / "production", NRM_ENV="production", SECRET_KEY="s" * 64,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(), TWILIO_AUTH_TOKEN="t", AUDIT_KEY="a" * 64))
    try:
        response = production.test_client().get("/casework/sign-in", base_url="https://nrm.example")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    finally:
        db.get_db(production).engine.dispose()


EXACT_HEADERS = {
    "Cache-Control": "no-store",
    "Permissions-Policy": "browsing-topics=()",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'nonce-NONCE'; style-src 'self'; "
                               "img-src 'self'; font-src 'self'; connect-src 'self'; manifest-src 'self'; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
"""What flask-talisman sends with this configuration, header for header, in this order."""


def test_pages_and_api_answers_carry_exactly_these_headers_with_a_new_nonce_each(product_app: Flask) -> None:
    responses = _responses(product_app)
    nonces = set()
    for what in PAGES_AND_APIS:
        headers = responses[what].headers
        nonce = headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert len(nonce) == 32 and nonce.replace("-", "").replace("_", "").isalnum(), (what, nonce)
        nonces.add(nonce)
        shown = {name: headers.get(name, "").replace(nonce, "NONCE") for name in EXACT_HEADERS}
        assert shown == EXACT_HEADERS, what
        assert [name for name in headers.keys() if name in EXACT_HEADERS] == list(EXACT_HEADERS), what
    assert len(nonces) == len(PAGES_AND_APIS)  # a new nonce for every response


def test_session_cookie_is_http_only_and_same_site_lax(product_app: Flask) -> None:
    cookie = product_app.test_client().get("/casework/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # development, HTTP
