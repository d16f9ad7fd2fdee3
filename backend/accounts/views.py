"""The admin area's pages (see the package docstring). One transaction per request: committed and
followed by a redirect with a success banner, or the page again with the GOV.UK error summary.
A new or reset password is shown once, on the page that answers the POST (never in the cookie)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, get_flashed_messages, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import audit, db
from backend.access_audit import administration, user_actor
from backend.accounts.forms import ROLE_NAMES, ResponderForm, RoleForm, UserForm
from backend.auth import create_user, deactivate, generate_password, set_password
from backend.cli import REFERRING_ROLES, find_organisation, normalise_phone
from backend.db import utcnow
from backend.forms import by_field, error_list, field_errors
from backend.i18n import gettext as _
from backend.models import ApiToken, Responder, User
from backend.web_auth import require_role
from flows.validators import normal_email

bp = Blueprint("accounts", __name__, url_prefix="/admin")
ADMIN = "admin"


@bp.before_request
@login_required
def _admins_only() -> None:
    """Every page here: sign in first (Flask-Login), then 403 for any role but admin."""
    require_role(ADMIN)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _actor() -> str:
    return user_actor(_me())


def _banners() -> list[dict[str, str]]:
    return [{"type": category, "text": text} for category, text in get_flashed_messages(with_categories=True)]


def _role_names() -> dict[str, str]:
    return {role: _(name) for role, name in ROLE_NAMES.items()}


@bp.get("/")
def index() -> Any:
    return redirect(url_for("accounts.users"))


# --- users ---------------------------------------------------------------------------------------

@bp.get("/users")
def users() -> Any:
    rows = db.session().scalars(select(User).order_by(User.active.desc(), User.email)).all()
    return render_template("accounts/users.html", users=rows, role_names=_role_names(), banners=_banners())


def _render_new_user(form: UserForm, errors: list[dict[str, str]], status: int = 200) -> Any:
    return render_template("accounts/new_user.html", form=form, errors=errors,
                           field_errors=by_field(errors),
                           role_names=_role_names()), status


@bp.get("/users/new")
def new_user() -> Any:
    return _render_new_user(UserForm(formdata=None), [])


@bp.post("/users/new")
def add_user() -> Any:
    form = UserForm()
    if not form.validate_on_submit():
        return _render_new_user(form, error_list(form), 400)
    role, organisation = form.role.data, " ".join((form.organisation.data or "").split()) or None
    errors: list[dict[str, str]] = []
    if role == "responder" and organisation is None:
        errors.append({"text": _("Enter the organisation of a first responder"), "href": "#organisation"})
    elif organisation is not None and role in REFERRING_ROLES:
        organisation = find_organisation(organisation)
        if organisation is None:
            errors.append({"text": _("Enter a designated first responder organisation"), "href": "#organisation"})
    if normal_email((form.email.data or "").strip()) is None:
        errors.insert(0, {"text": _("Enter an email address in the correct format, like name@example.org"),
                          "href": "#email"})
    if errors:
        return _render_new_user(form, errors, 400)
    session, password = db.session(), generate_password()
    try:
        user = create_user(session, form.email.data, role, password, organisation)
        administration(session, "user.added", actor=_actor(), user=user_actor(user), role=role)
        session.commit()
    except (ValueError, IntegrityError):  # the email is taken (also by a concurrent request)
        session.rollback()
        return _render_new_user(form, [{"text": _("There is already an account with this email address"),
                                        "href": "#email"}], 400)
    return render_template("accounts/password.html", user=user, password=password, new=True), 201


def _user_or_404(user_id: int) -> User:
    user = db.session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _render_user(user: User, form: RoleForm | None = None, errors: list[dict[str, str]] | None = None,
                 status: int = 200) -> Any:
    tokens = db.session().scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                  .order_by(ApiToken.id.desc())).all()
    return render_template("accounts/user.html", user=user, tokens=tokens, now=utcnow(), is_me=user.id == _me().id,
                           form=form or RoleForm(formdata=None, role=user.role), errors=errors or [],
                           role_errors=field_errors(form) if form is not None else {},
                           role_names=_role_names(), banners=_banners()), status


@bp.get("/users/<int:user_id>")
def user(user_id: int) -> Any:
    return _render_user(_user_or_404(user_id))


def _yourself(user: User, message: str) -> Any:
    """An admin may not lock themselves out (deactivate themselves, drop their own role): the page
    again with ``message`` (409), or None for another user."""
    if user.id != _me().id:
        return None
    return _render_user(user, errors=[{"text": message, "href": "#actions"}], status=409)


@bp.post("/users/<int:user_id>/role")
def change_role(user_id: int) -> Any:
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _render_user(user, form, error_list(form), 400)
    if form.role.data != ADMIN:
        refused = _yourself(user, _("You cannot take away your own administrator role: ask another administrator"))
        if refused is not None:
            return refused
    session = db.session()
    previous, user.role = user.role, form.role.data
    if previous != user.role:
        administration(session, "user.role_changed", actor=_actor(), user=user_actor(user), previous=previous,
                       role=user.role)
    session.commit()
    flash(_("{email} is now: {role}", email=user.email, role=_role_names()[user.role]), "success")
    return redirect(url_for("accounts.user", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int) -> Any:
    """A new generated password, shown once; every session and token of the user ends."""
    user = _user_or_404(user_id)
    session, password = db.session(), generate_password()
    set_password(session, user, password)
    administration(session, "user.password_reset", actor=_actor(), user=user_actor(user))
    session.commit()
    return render_template("accounts/password.html", user=user, password=password, new=False)


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id: int) -> Any:
    user = _user_or_404(user_id)
    refused = _yourself(user, _("You cannot deactivate your own account: ask another administrator"))
    if refused is not None:
        return refused
    session = db.session()
    if user.active:
        tokens, ended = deactivate(session, user)
        administration(session, "user.deactivated", actor=_actor(), user=user_actor(user), tokens_revoked=tokens,
                       sessions_ended=ended)
        session.commit()
    flash(_("{email} is deactivated: their sessions and API tokens have ended.", email=user.email), "success")
    return redirect(url_for("accounts.user", user_id=user.id))


# --- API tokens ----------------------------------------------------------------------------------

@bp.get("/tokens")
def tokens() -> Any:
    rows = db.session().execute(select(ApiToken, User.email).join(User, User.id == ApiToken.user_id)
                                .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())).all()
    return render_template("accounts/tokens.html", rows=rows, now=utcnow(), banners=_banners())


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Any:
    session = db.session()
    token = session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        administration(session, "token.revoked", actor=_actor(), user=f"user:{token.user_id}", token=token.id)
        session.commit()
    flash(_("API token {id} is revoked.", id=token_id), "success")
    return redirect(url_for("accounts.tokens"))


# --- registered responder numbers -----------------------------------------------------------------

def _render_responders(form: ResponderForm, errors: list[dict[str, str]], status: int = 200) -> Any:
    rows = db.session().scalars(select(Responder).order_by(Responder.organisation, Responder.phone_e164)).all()
    return render_template("accounts/responders.html", responders=rows, form=form, errors=errors,
                           field_errors=by_field(errors), banners=_banners()), status


@bp.get("/responders")
def responders() -> Any:
    return _render_responders(ResponderForm(formdata=None), [])


@bp.post("/responders")
def add_responder() -> Any:
    form = ResponderForm()
    if not form.validate_on_submit():
        return _render_responders(form, error_list(form), 400)
    errors = []
    try:
        phone = normalise_phone(form.phone.data, allow_fictional=current_app.config.get("NRM_ENV") != "production")
    except ValueError:
        phone = None
        errors.append({"text": _("Enter a phone number, like 07700 900 982"), "href": "#phone"})
    organisation = find_organisation(form.organisation.data)
    if organisation is None:
        errors.append({"text": _("Enter a designated first responder organisation"), "href": "#organisation"})
    session = db.session()
    if phone is not None and session.scalar(select(Responder.id).where(Responder.phone_e164 == phone)):
        errors.append({"text": _("This phone number is already registered"), "href": "#phone"})
    if errors:
        return _render_responders(form, errors, 400)
    responder = Responder(phone_e164=phone, organisation=organisation, name=(form.name.data or "").strip() or None)
    session.add(responder)
    try:
        session.flush()
    except IntegrityError:  # registered by a concurrent request
        session.rollback()
        return _render_responders(form, [{"text": _("This phone number is already registered"), "href": "#phone"}],
                                  400)
    administration(session, "responder.added", actor=_actor(), responder=f"responder:{responder.id}",
                   organisation=organisation)
    session.commit()
    flash(_("{phone} is registered for {organisation}.", phone=phone, organisation=organisation), "success")
    return redirect(url_for("accounts.responders"))


@bp.post("/responders/<int:responder_id>/remove")
def remove_responder(responder_id: int) -> Any:
    session = db.session()
    responder = session.get(Responder, responder_id)
    if responder is None:
        abort(404)
    phone = responder.phone_e164
    administration(session, "responder.removed", actor=_actor(), responder=f"responder:{responder.id}",
                   organisation=responder.organisation)
    session.delete(responder)
    session.commit()
    flash(_("{phone} is no longer registered: texts from it cannot make referrals.", phone=phone), "success")
    return redirect(url_for("accounts.responders"))


# --- the audit trail's verification --------------------------------------------------------------

@bp.get("/audit")
def audit_page() -> Any:
    return render_template("accounts/audit.html", problems=None)


@bp.post("/audit")
def verify_audit() -> Any:
    """``nrm audit verify`` against the anchors stored in the database; the check is audited too."""
    session = db.session()
    problems = audit.verify(session)
    administration(session, "audit.verified", actor=_actor(), problems=len(problems))
    session.commit()
    return render_template("accounts/audit.html", problems=problems, checked_at=utcnow())
