"""Browser protections on every response (flask-talisman), and the client's real address.

- ``Content-Security-Policy``: scripts, styles, images, fonts and requests from this site only;
  no inline script except the GOV.UK template's one line that marks the body as JavaScript-enabled,
  which carries the page's nonce (``cspNonce`` in ``base.html``); ``frame-ancestors 'none'``,
  ``form-action 'self'``, ``base-uri 'none'``, ``object-src 'none'``.
- ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``.
- ``Cache-Control: no-store`` on everything but static files: pages and API answers carry case
  data, which must not stay in a shared computer's cache or a proxy.
- ``Strict-Transport-Security`` only when ``NRM_ENV=production`` (and the request came by HTTPS).
- ``TRUSTED_PROXIES`` (default 0): how many reverse proxies in front of the app to believe about
  the client's address and scheme (``X-Forwarded-For``/``-Proto``, werkzeug's ``ProxyFix``), so
  that rate limits count real clients and HTTPS is recognised.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "default-src": SELF,
    "script-src": SELF,
    "style-src": SELF,
    "img-src": SELF,
    "font-src": SELF,
    "connect-src": SELF,
    "manifest-src": SELF,
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": SELF,
    "frame-ancestors": "'none'",
}
HSTS_MAX_AGE = 365 * 24 * 3600


def init_headers(app: Flask) -> Talisman:
    """Security headers for every response of ``app``, and ``ProxyFix`` for trusted proxies."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    production = app.config.get("NRM_ENV") == "production"
    talisman = Talisman(
        app,
        force_https=False,  # TLS ends at the platform's edge; HSTS keeps browsers on HTTPS
        strict_transport_security=production,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="no-referrer",
        session_cookie_secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE") or "Lax",
        x_content_type_options=True,
    )
    app.after_request(_no_store)
    return talisman


def _no_store(response: Response) -> Response:
    """Nothing but static files may be kept by a browser or proxy cache."""
    if not (request.endpoint or "").endswith("static"):
        response.headers["Cache-Control"] = "no-store"
    return response
