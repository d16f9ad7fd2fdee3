"""Staff sign-in for the web pages: Flask-Login sessions, CSRF on every form, GOV.UK templates.

``init_web_auth(app)`` (called by ``backend.app.init_backend``) sets up, for the whole app:

- Flask-Login: the signed cookie remembers the user id and the secret of a server-side session
  (``backend.sessions``), checked before every request: sign-out, revocation, the idle limit
  (``SESSION_IDLE_MINUTES``) and the absolute limit (``SESSION_MAX_HOURS``) end it on the server,
  so a copied cookie stops working too. ``/casework/sign-in`` checks the password with
  ``backend.auth.check_password``; guessing is throttled per client by ``backend.limits`` (no
  account is ever locked); every attempt is audited by ``backend.access_audit.sign_in``.
  Cookies are HttpOnly, SameSite=Lax, and Secure in production.
- Flask-WTF ``CSRFProtect`` on every POST/PUT/PATCH/DELETE. Bearer-token JSON APIs are exempted
  where they are registered; views behind ``backend.auth.require_api_user`` check the
  ``X-CSRFToken`` header themselves when called with a session.
- Templates: ``backend/templates`` (``base.html``, the GOV.UK page layout) and the
  ``govuk-frontend-jinja`` macros under the ``govuk_frontend_jinja/`` prefix. The GOV.UK Frontend
  CSS, JS, fonts and images are served at ``/assets/`` from ``backend/static/govuk``, which
  ``scripts/build-assets.sh`` fills from the npm registry (not committed).
- Page language: Jinja's i18n extension with ``_``/``ngettext`` in the best ``Accept-Language``
  match (``backend.i18n``); ``<html lang dir>`` follows it, English by default.

After signing in each role goes to its start page (``home_for``): operators the web chat (``/chat``),
caseworkers the decision queue (``/casework/``), panel members the review queue, analysts the
statistics, admins the admin area (``backend.accounts``); the casework pages themselves are ``backend.casework_pages``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, current_app, g, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException
from wtforms import PasswordField, StringField

from backend import access_audit, db, sessions
from backend.auth import account_for, check_password
from backend.cookie_sessions import CookieSessions
from backend.i18n import N_, init_i18n, lazy_gettext
from backend.i18n import gettext as _
from backend.models import User

HERE = Path(__file__).resolve().parent
ASSETS_DIR = HERE / "static" / "govuk"
APP_ASSETS_DIR = HERE / "static" / "app"
SERVICE_NAME = N_("NRM Referral Assistant")
SIGN_IN_FAILED = N_("Enter a correct email address and password.")
"""The sign-in error in English (shown through ``_`` in the page language)."""
FLASK_LOGIN_USER_KEY = "_user_id"
"""Where Flask-Login keeps the signed-in user's id in the session."""
_SESSION_CHECKED = "_nrm_session_user"

logger = logging.getLogger(__name__)


JSON_PREFIXES = ("/api/", "/sms/")
"""Error pages are HTML for people; these paths keep Flask's or their own JSON/TwiML answers."""

bp = Blueprint("web_auth", __name__, template_folder="templates")
assets = Blueprint("govuk_assets", __name__, static_folder=str(ASSETS_DIR), static_url_path="/assets")
app_assets = Blueprint("app_assets", __name__, static_folder=str(APP_ASSETS_DIR),
                       static_url_path="/app-assets")
"""The service's own CSS and script for every page (no inline script or style: see backend.headers)."""
login_manager = LoginManager()
login_manager.login_view = "web_auth.sign_in"
login_manager.login_message = ""  # GOV.UK pages explain themselves; no flashed "please log in"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The signed-in user, only when :func:`_check_server_session` passed for this request (it
    loaded the user with the session record)."""
    try:
        wanted = int(user_id)
    except (TypeError, ValueError):
        return None
    user = g.get(_SESSION_CHECKED)
    return user if user is not None and user.id == wanted else None


def _check_server_session() -> None:
    """Before every request but static files: end the cookie's session unless the server's
    record is live (not revoked, not idle, not past its absolute limit, user still active)."""
    user_id = session.get(FLASK_LOGIN_USER_KEY)
    if user_id is None or (request.endpoint or "").endswith("static"):
        return
    config = current_app.config
    db_session = db.session()
    try:
        user = sessions.check(db_session, session.get(sessions.SESSION_KEY), int(user_id),
                              idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                              longest=timedelta(hours=config["SESSION_MAX_HOURS"]))
    except (TypeError, ValueError):
        user = None
    if db_session.dirty:  # last seen (at most once a minute) or the session's end: kept whatever
        db_session.commit()  # the view does; otherwise the view's own transaction carries on
    if user is not None:
        setattr(g, _SESSION_CHECKED, user)  # what the user loader returns: no second read
    else:
        session.clear()


def init_web_auth(app: Flask) -> CSRFProtect:
    """Sign-in pages, sessions, CSRF protection, templates and assets for ``app``; returns the
    ``CSRFProtect`` (also at ``app.extensions["csrf"]``) so callers can exempt JSON blueprints."""
    production = app.config.get("NRM_ENV") == "production"
    # Flask's own defaults are always in app.config: tighten them unless a test or the caller
    # chose otherwise (Secure can only be switched on here, never off in production).
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SESSION_COOKIE_SECURE")) or production
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    # The cookie lives no longer than the server's absolute limit (which is what counts).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    for key, value in {
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,  # valid as long as the session: a long chat must not expire
    }.items():
        app.config.setdefault(key, value)

    app.session_interface = CookieSessions()
    csrf = app.extensions.get("csrf") or CSRFProtect(app)
    login_manager.init_app(app)
    app.before_request(_check_server_session)
    _use_govuk_templates(app)
    init_i18n(app)
    app.register_blueprint(bp)
    app.register_blueprint(assets)
    app.register_blueprint(app_assets)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(403, _forbidden)
    app.context_processor(_template_globals)
    return csrf


def _use_govuk_templates(app: Flask) -> None:
    """Let templates import ``govuk_frontend_jinja/components/.../macro.html``."""
    govuk = PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})
    own = app.jinja_loader
    app.jinja_loader = ChoiceLoader([own, govuk] if own is not None else [govuk])  # type: ignore[method-assign]
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def _template_globals() -> dict[str, Any]:
    return {
        "service_name": _(SERVICE_NAME),  # in the page language
        "asset_path": "/assets",
        "govuk_assets_built": (ASSETS_DIR / "govuk-frontend.min.css").exists(),
    }


# -- signing in and out ------------------------------------------------------------------------


class SignInForm(FlaskForm):
    email = StringField(lazy_gettext("Email address"))
    password = PasswordField(lazy_gettext("Password"))


HOME_PAGES = {"operator": "/chat", "panel": "/casework/review", "analyst": "/casework/stats",
              "admin": "/admin/users"}
"""Start pages by role (``backend.casework_pages``); everyone else starts at ``/casework/``."""


def home_for(user: User) -> str:
    """Where a user starts after signing in: operators the web chat, caseworkers the decision
    queue, panel members the review queue, analysts the statistics, admins the admin area."""
    return HOME_PAGES.get(user.role, "/casework/")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no ``//``): never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


@bp.get("/")
def start_page() -> Any:
    """The address `make run` prints: signed-in staff go to their start page, others sign in."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("web_auth.sign_in"))


@bp.route("/casework/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")) or home_for(current_user))
    form = SignInForm()
    errors: list[dict[str, str]] = []
    status = 200
    if form.validate_on_submit():  # CSRFProtect already refused a POST without a valid token
        email = (form.email.data or "").strip()
        password = form.password.data or ""
        if not email:
            errors.append({"text": _("Enter your email address"), "href": "#email"})
        if not password:
            errors.append({"text": _("Enter your password"), "href": "#password"})
        if not errors:
            db_session = db.session()
            account = account_for(db_session, email)  # read once: the check and the audit
            user = check_password(account, password)
            access_audit.sign_in(db_session, email, user, account)
            secret = sessions.start(db_session, user) if user is not None else None
            db_session.commit()  # the new session, the audit event (and a rehashed password) must persist
            if user is not None:
                session.clear()  # nothing from before signing in carries over (session fixation)
                login_user(user)
                session[sessions.SESSION_KEY] = secret
                session.permanent = True
                return redirect(_safe_next(request.args.get("next")) or home_for(user))
            errors.append({"text": _(SIGN_IN_FAILED), "href": "#email"})
        status = 400
    field_errors = {error["href"].lstrip("#"): error["text"] for error in reversed(errors)}
    return render_template("sign_in.html", form=form, errors=errors, field_errors=field_errors,
                           signed_out=request.args.get("signed-out") == "1"), status


@bp.route("/casework/sign-out", methods=["GET", "POST"])
def sign_out() -> Any:
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("web_auth.sign_in"))
        return render_template("sign_out.html")
    db_session = db.session()
    sessions.end(db_session, session.get(sessions.SESSION_KEY))
    db_session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("web_auth.sign_in", **{"signed-out": "1"}))


# -- error pages -------------------------------------------------------------------------------


def wants_json() -> bool:
    """Errors on this path are answered as JSON (the APIs and Twilio's webhook), not as pages."""
    return request.path.startswith(JSON_PREFIXES)


def _csrf_error(error: CSRFError) -> Any:
    if wants_json():
        return jsonify({"error": f"CSRF check failed: {error.description}"}), 400
    return render_template("csrf_error.html"), 400


def _forbidden(error: HTTPException) -> Any:
    if wants_json():
        return error
    return render_template("forbidden.html"), 403


def require_role(*roles: str) -> None:
    """In a ``login_required`` view: 403 (the GOV.UK page) unless the user has one of ``roles``."""
    if not current_user.is_authenticated or current_user.role not in roles:
        abort(403)
