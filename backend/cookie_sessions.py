"""Flask's signed-cookie sessions, without the signing work for a request that sends no cookie.

Flask builds its cookie serializer (keys, salt, signer) at the start of every request, before it
looks for the cookie; an API client with a bearer token never sends one, and profiled, that was a
few percent of a claim. A request without the cookie gets the same new, empty session it always
got; one with the cookie is read exactly as before.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    """:class:`SecureCookieSessionInterface`, signing only when there is a cookie to read."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
