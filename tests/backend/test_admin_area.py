"""The admin area (backend.accounts): users, responder numbers, API tokens and the audit trail's
verification, through the pages; every change audited as the admin (ids, never emails or phone
numbers), every form CSRF-protected, administrators only."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from backend import auth, db
from backend.models import ApiToken, AuditEvent, Responder, User
from tests.backend.casework_helpers import shared_app

PASSWORD = "admin area password 1"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
STAFF = {"admin": "admin", "admin2": "admin", "caseworker": "caseworker", "analyst": "analyst"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with shared_app(tmp_path_factory.mktemp("admin-area")) as application:
        with application.app_context(), db.get_db(application).transaction() as session:
            for name, role in STAFF.items():
                auth.create_user(session, f"{name}@example.org", role, PASSWORD)
        yield application


def sign_in(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = client.post("/casework/sign-in", data={"csrf_token": token(client, "/casework/sign-in"),
                                                       "email": email, "password": password})
    assert response.status_code == 302, f"{email} could not sign in"
    return client


def token(client: FlaskClient, path: str) -> str:
    return CSRF_FIELD.search(client.get(path).get_data(as_text=True)).group(1)


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None, *, token_from: str) -> Any:
    return client.post(path, data={"csrf_token": token(client, token_from), **(data or {})})


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def user_id(app: Flask, email: str) -> int:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return session.scalars(select(User.id).where(User.email == email)).one()


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_an_admin_adds_a_user_who_signs_in_with_the_password_shown_once(app: Flask) -> None:
    admin = sign_in(app, "admin@example.org")
    response = post(admin, "/admin/users/new", {"email": " New.Caseworker@Example.org ", "role": "caseworker",
                                                "organisation": ""}, token_from="/admin/users/new")
    assert response.status_code == 201
    password = re.search(r'id="new-password" dir="ltr">([^<]+)<', response.get_data(as_text=True)).group(1)
    assert "shown only once" in text(response)
    assert password not in text(admin.get("/admin/users"))  # never shown again
    new = sign_in(app, "new.caseworker@example.org", password)
    assert new.get("/casework/").status_code == 200
    added = events(app, "user.added")[-1]
    assert added.actor == f"user:{user_id(app, 'admin@example.org')}"
    assert added.detail == {"user": f"user:{user_id(app, 'new.caseworker@example.org')}", "role": "caseworker"}
    assert "example.org" not in json.dumps(added.detail)


@pytest.mark.parametrize("form, message", [
    ({"email": "", "role": "panel"}, "Enter an email address"),
    ({"email": "not-an-email", "role": "panel"}, "Enter an email address in the correct format"),
    ({"email": "@example.org", "role": "panel"}, "Enter an email address in the correct format"),
    ({"email": "\u202eelpmaxe@someone", "role": "panel"}, "Enter an email address in the correct format"),
    ({"email": "some one@example.org", "role": "panel"}, "Enter an email address in the correct format"),
    ({"email": "caseworker@example.org", "role": "panel"}, "There is already an account with this email address"),
    ({"email": "someone@example.org", "role": "overlord"}, "Select a role"),
    ({"email": "someone@example.org", "role": "responder"}, "Enter the organisation of a first responder"),
    ({"email": "someone@example.org", "role": "operator", "organisation": "Nobody Inc"},
     "Enter a designated first responder organisation"),
])
def test_a_user_that_cannot_be_added_is_explained(app: Flask, form: dict[str, str], message: str) -> None:
    admin = sign_in(app, "admin@example.org")
    response = post(admin, "/admin/users/new", form, token_from="/admin/users/new")
    assert response.status_code == 400
    assert "govuk-error-summary" in text(response) and message in text(response)


def test_a_password_reset_ends_every_session_and_token_of_the_user(app: Flask) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        auth.create_user(session, "reset-me@example.org", "caseworker", PASSWORD)
    them = sign_in(app, "reset-me@example.org")
    with app.app_context(), db.get_db(app).transaction() as session:
        secret = auth.create_token(session, session.scalars(select(User).where(User.email == "reset-me@example.org")).one())
    target = user_id(app, "reset-me@example.org")
    admin = sign_in(app, "admin@example.org")
    response = post(admin, f"/admin/users/{target}/password", token_from=f"/admin/users/{target}")
    assert response.status_code == 200 and 'id="new-password"' in text(response)
    assert them.get("/casework/").status_code == 302  # signed out
    assert app.test_client().get("/api/v1/queues/decision",
                                 headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert events(app, "user.password_reset")[-1].detail == {"user": f"user:{target}"}


def test_deactivating_and_changing_roles_but_never_locking_yourself_out(app: Flask) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        auth.create_user(session, "leaver@example.org", "analyst", PASSWORD)
    leaver = sign_in(app, "leaver@example.org")
    target = user_id(app, "leaver@example.org")
    admin = sign_in(app, "admin@example.org")
    page = f"/admin/users/{target}"
    assert post(admin, f"{page}/role", {"role": "caseworker"}, token_from=page).status_code == 302
    assert leaver.get("/casework/").status_code == 200  # a caseworker's page now
    assert events(app, "user.role_changed")[-1].detail == {"user": f"user:{target}", "previous": "analyst",
                                                          "role": "caseworker"}
    assert post(admin, f"{page}/deactivate", token_from=page).status_code == 302
    assert leaver.get("/casework/").status_code == 302  # the session has ended
    assert "Deactivated" in text(admin.get("/admin/users"))
    me = user_id(app, "admin@example.org")
    response = post(admin, f"/admin/users/{me}/deactivate", token_from=f"/admin/users/{me}")
    assert response.status_code == 409 and "You cannot deactivate your own account" in text(response)
    response = post(admin, f"/admin/users/{me}/role", {"role": "analyst"}, token_from=f"/admin/users/{me}")
    assert response.status_code == 409 and "You cannot take away your own administrator role" in text(response)
    assert admin.get("/admin/users").status_code == 200  # still an admin


def test_an_admin_registers_and_removes_a_responder_number(app: Flask) -> None:
    admin = sign_in(app, "admin@example.org")
    response = post(admin, "/admin/responders", {"phone": "07700 900 555", "organisation": "the salvation army",
                                                 "name": "Field worker"}, token_from="/admin/responders")
    assert response.status_code == 302
    listing = text(admin.get("/admin/responders"))
    assert '<bdi dir="ltr">+447700900555</bdi>' in listing and "The Salvation Army" in listing
    again = post(admin, "/admin/responders", {"phone": "+447700900555", "organisation": "The Salvation Army"},
                 token_from="/admin/responders")
    assert again.status_code == 400 and "This phone number is already registered" in text(again)
    bad = post(admin, "/admin/responders", {"phone": "12", "organisation": "Nobody Inc"},
               token_from="/admin/responders")
    assert bad.status_code == 400
    assert "Enter a phone number, like 07700 900 982" in text(bad)
    assert "Enter a designated first responder organisation" in text(bad)
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        responder = session.scalars(select(Responder).where(Responder.phone_e164 == "+447700900555")).one()
    assert post(admin, f"/admin/responders/{responder.id}/remove", token_from="/admin/responders").status_code == 302
    listing = text(admin.get("/admin/responders"))
    assert "+447700900555 is no longer registered" in listing and '<bdi dir="ltr">+447700900555</bdi>' not in listing
    for action in ("responder.added", "responder.removed"):
        assert "900555" not in json.dumps(events(app, action)[-1].detail)


def test_an_admin_revokes_an_api_token_and_it_stops_working(app: Flask) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        holder = session.scalars(select(User).where(User.email == "analyst@example.org")).one()
        secret = auth.create_token(session, holder)
        token_id = session.scalars(select(ApiToken.id).where(ApiToken.user_id == holder.id)
                                   .order_by(ApiToken.id.desc())).first()
    api = app.test_client()
    assert api.get("/api/v1/stats", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    admin = sign_in(app, "admin@example.org")
    listing = text(admin.get("/admin/tokens"))
    assert "analyst@example.org" in listing and secret not in listing
    assert post(admin, f"/admin/tokens/{token_id}/revoke", token_from="/admin/tokens").status_code == 302
    assert api.get("/api/v1/stats", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert events(app, "token.revoked")[-1].detail == {"user": f"user:{holder.id}", "token": token_id}


def test_audit_verification_reports_an_intact_trail_then_a_tampered_event(app: Flask) -> None:
    admin = sign_in(app, "admin@example.org")
    response = post(admin, "/admin/audit", token_from="/admin/audit")
    assert response.status_code == 200 and "The audit trail is intact" in text(response)
    assert events(app, "audit.verified")[-1].detail == {"problems": 0}
    # the verification just recorded is edited: an event this test made, whichever tests ran before
    verified = events(app, "audit.verified")[-1].id
    with app.app_context(), db.get_db(app).transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == verified).values(action="audit.skipped"))
    response = post(admin, "/admin/audit", token_from="/admin/audit")
    assert "The audit trail is intact" not in text(response)
    assert re.search(r"The audit trail has \d+ problems?\.", text(response))
    with app.app_context(), db.get_db(app).transaction() as session:  # put it back for the other tests
        session.execute(update(AuditEvent).where(AuditEvent.id == verified).values(action="audit.verified"))


@pytest.mark.parametrize("path", ["/admin/users/new", "/admin/users/1/role", "/admin/users/1/password",
                                  "/admin/users/1/deactivate", "/admin/tokens/1/revoke", "/admin/responders",
                                  "/admin/responders/1/remove", "/admin/audit"])
def test_every_admin_form_needs_its_csrf_token(app: Flask, path: str) -> None:
    admin = sign_in(app, "admin@example.org")
    response = admin.post(path, data={"email": "x@example.org", "role": "admin", "phone": "07700900556",
                                      "organisation": "The Salvation Army"})
    assert response.status_code == 400 and "Sorry, there is a problem" in text(response)


@pytest.mark.parametrize("who", ["caseworker", "analyst", None])
def test_only_administrators_may_use_the_admin_area(app: Flask, who: str | None) -> None:
    client = sign_in(app, f"{who}@example.org") if who else app.test_client()
    for path in ("/admin/users", "/admin/tokens", "/admin/responders", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == (403 if who else 302)
    if who:
        response = post(client, "/admin/users/new", {"email": "sneaky@example.org", "role": "admin"},
                        token_from="/casework/sign-out")
        assert response.status_code == 403
        with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
            assert session.scalar(select(User.id).where(User.email == "sneaky@example.org")) is None


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return (len(session.scalars(select(User.id)).all()), len(session.scalars(select(Responder.id)).all()))


HOSTILE = [("nul", "someone\x00@example.org"), ("control", "some\x07one@example.org"),
           ("lone surrogate", "someone\udc80@example.org"), ("huge", "a" * 10_000 + "@example.org")]


@pytest.mark.parametrize("kind, value", HOSTILE, ids=[kind for kind, _ in HOSTILE])
@pytest.mark.parametrize("path, field", [("/admin/users/new", "email"), ("/admin/users/new", "organisation"),
                                         ("/admin/responders", "phone"), ("/admin/responders", "organisation"),
                                         ("/admin/responders", "name")])
def test_a_hostile_admin_form_value_is_a_clear_400_and_adds_nobody(app: Flask, path: str, field: str, kind: str,
                                                                    value: str) -> None:
    admin = sign_in(app, "admin@example.org")
    form = ({"email": "hostile@example.org", "role": "caseworker", "organisation": ""} if path.endswith("new")
            else {"phone": "07700 900 557", "organisation": "The Salvation Army", "name": ""})
    before = counts(app)
    body = "&".join(f"{key}={quote(value if key == field else plain, safe='', errors='surrogatepass')}"
                    for key, plain in {**form, field: value, "csrf_token": token(admin, path)}.items())
    response = admin.post(path, data=body.encode("ascii"), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400, kind
    assert "There is a problem" in text(response) or "cannot be accepted" in text(response)
    assert counts(app) == before
    assert "\x00" not in response.get_data(as_text=True)


def test_two_admins_changing_one_users_role_at_once_leave_one_role_the_audit_trail_ends_with(app: Flask) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        auth.create_user(session, "contested@example.org", "caseworker", PASSWORD)
    target = user_id(app, "contested@example.org")
    first, second = sign_in(app, "admin@example.org"), sign_in(app, "admin2@example.org")
    path = f"/admin/users/{target}"
    posts = [(first, {"csrf_token": token(first, path), "role": "panel"}),
             (second, {"csrf_token": token(second, path), "role": "analyst"})]
    before = len(events(app, "user.role_changed"))
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda job: job[0].post(f"{path}/role", data=job[1]).status_code, posts))
    assert all(code in (302, 409) for code in answers), answers
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        role = session.get(User, target).role
    assert role in ("panel", "analyst")
    changes = events(app, "user.role_changed")[before:]
    assert changes and changes[-1].detail["role"] == role  # the audit's last word is the role kept
