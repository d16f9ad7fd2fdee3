"""Sessions (``backend.cookie_sessions``): no signing work for a request without the cookie, and
the signed cookie read and refused exactly as Flask's own interface does."""

from __future__ import annotations

from flask import Flask, session

from backend.cookie_sessions import CookieSessions


def _app() -> Flask:
    app = Flask("t")
    app.secret_key = "k" * 32
    app.session_interface = CookieSessions()

    @app.post("/set")
    def put() -> str:
        session["who"] = "caseworker"
        return "ok"

    @app.get("/get")
    def get() -> str:
        return session.get("who", "nobody")

    return app


def test_a_request_without_a_session_cookie_builds_no_cookie_signer(monkeypatch) -> None:
    app = _app()
    built: list[int] = []
    signer = CookieSessions.get_signing_serializer
    monkeypatch.setattr(CookieSessions, "get_signing_serializer", lambda self, a: built.append(1) or signer(self, a))
    assert app.test_client().get("/get").get_data(as_text=True) == "nobody"
    assert built == []


def test_the_signed_session_cookie_is_read_and_a_forged_one_refused() -> None:
    app = _app()
    client = app.test_client()
    client.post("/set")
    assert client.get("/get").get_data(as_text=True) == "caseworker"
    forged = app.test_client()
    forged.set_cookie("session", client.get_cookie("session").value[:-2] + "xx")
    assert forged.get("/get").get_data(as_text=True) == "nobody"
