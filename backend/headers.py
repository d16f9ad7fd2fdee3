"""Browser protections on every response, and the client's real address.

- ``Content-Security-Policy``: scripts, styles, images, fonts and requests from this site only;
  no inline script except the GOV.UK template's one line that marks the body as JavaScript-enabled,
  which carries the page's nonce (``cspNonce`` in ``base.html``); ``frame-ancestors 'none'``,
  ``form-action 'self'``, ``base-uri 'none'``, ``object-src 'none'``.
- ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``Permissions-Policy: browsing-topics=()``.
- ``Cache-Control: no-store`` on everything but static files: pages and API answers carry case
  data, which must not stay in a shared computer's cache or a proxy.
- ``Strict-Transport-Security`` only when ``NRM_ENV=production`` (and the request came by HTTPS).
- ``TRUSTED_PROXIES`` (default 0): how many reverse proxies in front of the app to believe about
  the client's address and scheme (``X-Forwarded-For``/``-Proto``, werkzeug's ``ProxyFix``), so
  that rate limits count real clients and HTTPS is recognised.

These are the headers flask-talisman gave with this configuration, written once when the app
starts and copied onto each response: profiled, Talisman's per-request work (its per-view options
looked up three times, the policy parsed and joined again, a nonce drawn character by character)
cost a tenth of a JSON API request.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, request
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
NONCE_IN = "script-src"
"""The directive that allows the page's inline script by its nonce."""
HSTS_MAX_AGE = 365 * 24 * 3600
NONCE_BYTES = 24
"""32 characters of URL-safe base64, as long as Talisman's nonces were."""


def _policy_around_nonce() -> tuple[str, str]:
    """The policy's text before and after the nonce's value."""
    parts = [f"{name} {sources}" for name, sources in CONTENT_SECURITY_POLICY.items()]
    at = list(CONTENT_SECURITY_POLICY).index(NONCE_IN)
    before = "; ".join(parts[:at + 1]) + " 'nonce-"
    after = "'" + "".join(f"; {part}" for part in parts[at + 1:])
    return before, after


_CSP_BEFORE, _CSP_AFTER = _policy_around_nonce()
FIXED_HEADERS = (
    ("Permissions-Policy", "browsing-topics=()"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
)
"""The same on every response, before the policy (Talisman's order)."""
REFERRER_POLICY = "no-referrer"
HSTS = f"max-age={HSTS_MAX_AGE}"


def csp_nonce() -> str:
    """This request's nonce (drawn when first asked for: by a page's template, or by the header)."""
    nonce = request.__dict__.get("csp_nonce")
    if nonce is None:
        nonce = request.__dict__["csp_nonce"] = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def init_headers(app: Flask) -> None:
    """Security headers for every response of ``app``, and ``ProxyFix`` for trusted proxies (the
    session cookie's flags are ``backend.web_auth``'s)."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    production = app.config.get("NRM_ENV") == "production"

    def protect(response: Response) -> Response:
        headers = response.headers
        if not (request.endpoint or "").endswith("static"):
            headers["Cache-Control"] = "no-store"  # nothing but static files may be kept by a cache
        for name, value in FIXED_HEADERS:
            headers[name] = value
        headers["Content-Security-Policy"] = _CSP_BEFORE + csp_nonce() + _CSP_AFTER
        if production and (request.is_secure or request.headers.get("X-Forwarded-Proto", "http") == "https"):
            headers["Strict-Transport-Security"] = HSTS
        headers["Referrer-Policy"] = REFERRER_POLICY
        return response

    app.after_request(protect)
