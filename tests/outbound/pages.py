"""Signed-in browsers for the outbound page tests."""

from __future__ import annotations

import itertools
import re

from flask import Flask
from flask.testing import FlaskClient

from backend import auth, db

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_numbers = itertools.count(1)


def signed_in_client(app: Flask, role: str, organisation: str | None = None) -> tuple[FlaskClient, int]:
    """A browser signed in as a new user of ``role``; the client and the user's id."""
    email = f"{role}-page-{next(_numbers)}@example.org"
    with app.app_context(), db.get_db(app).transaction() as session:
        user_id = auth.create_user(session, email, role, PASSWORD, organisation=organisation).id
    client = app.test_client()
    token = csrf(client, "/casework/sign-in")
    response = client.post("/casework/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client, user_id


def csrf(client: FlaskClient, path: str) -> str:
    found = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)
