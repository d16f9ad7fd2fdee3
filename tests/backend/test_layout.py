"""What every staff page shares (backend.layout, base.html): the service navigation of the
signed-in role with "Signed in as", the beta banner, the footer's accessibility, privacy and cookies
pages (open to all), and the styled 404 and 500 pages (JSON paths keep JSON)."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from backend import auth, db
from backend.layout.navigation import BY_ROLE
from tests.backend.casework_helpers import shared_app

PASSWORD = "layout password 1"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
NAV_LINK = re.compile(r'<a class="govuk-service-navigation__link" href="([^"]+)"')


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with shared_app(tmp_path_factory.mktemp("layout"), PROPAGATE_EXCEPTIONS=False) as application:
        @application.get("/casework/fails")
        def fails() -> Any:
            raise RuntimeError("a failure holding Quellmalz-Farrington")

        with application.app_context(), db.get_db(application).transaction() as session:
            for role in BY_ROLE:
                auth.create_user(session, f"{role}@example.org", role, PASSWORD)
        yield application


def sign_in(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/casework/sign-in").get_data(as_text=True)
    client.post("/casework/sign-in", data={"csrf_token": CSRF_FIELD.search(page).group(1),
                                           "email": f"{role}@example.org", "password": PASSWORD})
    return client


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.mark.parametrize("role, links", [
    ("operator", ["/chat"]),
    ("caseworker", ["/casework/"]),
    ("panel", ["/casework/review"]),
    ("analyst", ["/casework/stats"]),
    ("admin", ["/admin/users", "/admin/responders", "/admin/tokens", "/admin/audit", "/casework/stats"]),
])
def test_each_role_sees_its_own_navigation_and_who_is_signed_in(app: Flask, role: str, links: list[str]) -> None:
    page = text(sign_in(app, role).get("/privacy"))
    assert NAV_LINK.findall(page) == links
    assert f'Signed in as <bdi dir="ltr">{role}@example.org</bdi>' in page
    assert 'data-testid="sign-out"' in page


def test_the_current_page_is_marked_in_the_navigation(app: Flask) -> None:
    page = text(sign_in(app, "admin").get("/admin/tokens"))
    assert re.search(r'href="/admin/tokens" aria-current="true"', page)
    assert not re.search(r'href="/admin/users" aria-current', page)


def test_every_page_has_the_beta_banner_and_the_footer_links(app: Flask) -> None:
    for client, path in ((app.test_client(), "/casework/sign-in"), (sign_in(app, "caseworker"), "/casework/")):
        page = text(client.get(path))
        assert 'id="phase-banner"' in page and "Beta" in page
        for href, label in (("/accessibility", "Accessibility statement"), ("/privacy", "Privacy notice"),
                            ("/cookies", "Cookies")):
            assert re.search(rf'<a class="govuk-footer__link" href="{href}"> {label} </a>', page)


def test_the_footer_pages_say_what_is_stored_why_for_how_long_and_the_one_cookie(app: Flask) -> None:
    client = app.test_client()  # readable before signing in
    privacy = text(client.get("/privacy"))
    days = app.config["RETENTION_DAYS"]
    assert f"deleted {days} days after it closed" in privacy
    assert f"deleted {app.config['DRAFT_EXPIRY_DAYS']} days after it was last changed" in privacy
    cookies = text(client.get("/cookies"))
    assert "<code>session</code>" in cookies and "no analytics or advertising cookies" in cookies
    assert f"after {app.config['SESSION_IDLE_MINUTES']} minutes without use" in cookies
    assert "WCAG" in text(client.get("/accessibility"))
    welsh = text(client.get("/cookies", headers={"Accept-Language": "cy"}))
    assert 'lang="cy"' in welsh and "Cookies are small files saved on your device" not in welsh


def test_an_unknown_page_is_the_styled_404_and_an_unknown_api_path_stays_json(app: Flask) -> None:
    response = sign_in(app, "caseworker").get("/casework/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in text(response) and 'id="phase-banner"' in text(response)
    api = app.test_client().get("/api/v1/no-such-thing")
    assert api.status_code == 404 and "Page not found" not in api.get_data(as_text=True)


def test_a_failure_is_the_styled_500_page_without_the_error_message(app: Flask) -> None:
    response = sign_in(app, "caseworker").get("/casework/fails")
    assert response.status_code == 500
    page = text(response)
    assert "Sorry, there is a problem with the service" in page and 'class="govuk-footer' in page
    assert "Quellmalz" not in page
